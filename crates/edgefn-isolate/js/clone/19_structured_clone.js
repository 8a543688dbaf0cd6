// 19_structured_clone.js
//
// structuredClone() and the structured serialization it is made of (HTML
// §2.7). Serialization turns a value into records (plain objects tagged by
// `t`, primitives as they are) and runs every getter of the input; the
// transfer list is then transferred, and deserialization builds the copy
// from the records without running tenant code. Both keep a memory, so
// cycles and shared references come out the same way they went in.
//
// Deviations: a Proxy is serialized like the object it pretends to be (a
// script cannot tell a Proxy apart); SharedArrayBuffer is a DataCloneError
// (no other agent to share it with).

// HTML §2.7.10 structuredClone(value, options)
function structuredClone(value, options = undefined) {
  requireArguments(arguments.length, 1, "structuredClone");
  const ops = structuredCloneOps();
  const transferList = ops.transferListFrom(options, "structuredClone");
  const serialized = ops.structuredSerializeWithTransfer(value, transferList);
  return ops.structuredDeserializeWithTransfer(serialized.records);
}

// Created on first use.
const structuredCloneOps = once(() => {
  const SC_PRIMITIVE_WRAPPER = 1; // Boolean, Number, BigInt, String objects
  const SC_DATE = 2;
  const SC_REGEXP = 3;
  const SC_ARRAY_BUFFER = 4;
  const SC_TRANSFERRED = 5; // an entry of the transfer list
  const SC_VIEW = 6; // typed array or DataView
  const SC_MAP = 7;
  const SC_SET = 8;
  const SC_ERROR = 9;
  const SC_ARRAY = 10;
  const SC_OBJECT = 11;
  const SC_BLOB = 12; // Blob or File
  const SC_DOM_EXCEPTION = 13;

  function dataCloneError(message) {
    return newDOMException(message, "DataCloneError");
  }

  function describeForClone(value) {
    if (typeof value === "function") return `${inspectFunctionBase(value)}`;
    if (typeof value === "symbol") return safeToString(value);
    const name = inspectConstructorName(value);
    return name === null || name === "" ? "the object" : `#<${name}>`;
  }

  function cannotClone(value) {
    return dataCloneError(`${describeForClone(value)} could not be cloned`);
  }

  // Brand checks that run no tenant code (each throws for other values).
  function hasSlot(getter, value) {
    try {
      ReflectApply(getter, value, []);
      return true;
    } catch {
      return false;
    }
  }

  function isErrorData(value) {
    if (ErrorIsError !== undefined) return ReflectApply(ErrorIsError, undefined, [value]);
    return isErrorObject(value);
  }

  // Objects with internal slots HTML §2.7.3 cannot serialize (a Promise,
  // WeakMap, WeakSet, WeakRef, SharedArrayBuffer, Symbol wrapper, generator or
  // iterator), and platform objects of ours other than the serializable ones.
  function isUnserializableObject(value, proto) {
    if (hasSlot(SymbolPrototypeValueOf, value)) return true;
    if (hasSlot(WeakRefPrototypeDeref, value)) return true;
    if (
      typedArraysAdded() &&
      hasSlot(typedArrays().sharedArrayBufferGetByteLength, value)
    ) {
      return true;
    }
    try {
      ReflectApply(WeakMapPrototypeHas, value, [value]);
      return true;
    } catch {
      // not a WeakMap
    }
    try {
      ReflectApply(WeakSetPrototypeHas, value, [value]);
      return true;
    } catch {
      // not a WeakSet
    }
    for (let guard = 0; proto !== null && guard < 100; guard++) {
      if (
        proto === PromisePrototype ||
        proto === IteratorPrototype ||
        proto === AsyncIteratorPrototype ||
        ReflectApply(WeakSetPrototypeHas, platformPrototypes, [proto])
      ) {
        return true;
      }
      proto = ObjectGetPrototypeOf(proto);
    }
    return false;
  }

  // HTML §2.7.3 StructuredSerializeInternal(value, forStorage = false, memory)
  function structuredSerializeInternal(value, memory) {
    if (typeof value === "symbol") throw cannotClone(value);
    if (!isObjectLike(value)) return value;
    const known = ReflectApply(MapPrototypeGet, memory, [value]);
    if (known !== undefined) return known;
    if (typeof value === "function") throw cannotClone(value);
    const record = serializeObjectHead(value);
    ReflectApply(MapPrototypeSet, memory, [value, record]);
    serializeObjectContents(value, record, memory);
    return record;
  }

  // The record of an object, without its children (so that it is in memory
  // before they are serialized). Throws DataCloneError for what cannot be.
  // Checks that throw no exception come first; an object whose prototype is
  // Object.prototype or null is taken for an ordinary object.
  function serializeObjectHead(value) {
    if (ArrayIsArray(value)) return { t: SC_ARRAY, length: value.length, properties: [] };
    const proto = ObjectGetPrototypeOf(value);
    if (proto === ObjectPrototype || proto === null) return { t: SC_OBJECT, properties: [] };
    if (isArrayBufferView(value)) return { t: SC_VIEW, buffer: null };
    const exception = domExceptionInternals(value);
    if (exception !== null) {
      return {
        t: SC_DOM_EXCEPTION,
        name: exception.name,
        message: exception.message,
        stack: ownDataString(value, "stack"),
      };
    }
    const blob = blobInternals(value);
    if (blob !== null) return { t: SC_BLOB, blob };
    if (isErrorData(value)) return { t: SC_ERROR };
    if (isDate(value)) {
      return { t: SC_DATE, time: ReflectApply(date().getTime, value, []) };
    }
    if (hasSlot(MapPrototypeGetSize, value)) return { t: SC_MAP, entries: [] };
    if (hasSlot(SetPrototypeGetSize, value)) return { t: SC_SET, values: [] };
    if (isArrayBuffer(value)) return serializeArrayBuffer(value);
    if (value !== RegExpCtor.prototype && hasSlot(RegExpPrototypeGetSource, value)) {
      return {
        t: SC_REGEXP,
        source: ReflectApply(RegExpPrototypeGetSource, value, []),
        flags: ReflectApply(RegExpPrototypeGetFlags, value, []),
      };
    }
    const wrapped = primitiveWrapperValue(value);
    if (wrapped !== undefined) return { t: SC_PRIMITIVE_WRAPPER, value: wrapped.value };
    if (isUnserializableObject(value, proto)) throw cannotClone(value);
    return { t: SC_OBJECT, properties: [] };
  }

  const primitiveWrapperValueOfs = [
    BooleanPrototypeValueOf,
    NumberPrototypeValueOf,
    BigIntPrototypeValueOf,
    StringPrototypeValueOf,
  ];

  // { value } for a Boolean, Number, BigInt or String object, else undefined.
  function primitiveWrapperValue(value) {
    for (let i = 0; i < primitiveWrapperValueOfs.length; i++) {
      try {
        return { value: ReflectApply(primitiveWrapperValueOfs[i], value, []) };
      } catch {
        // not this kind
      }
    }
    return undefined;
  }

  function serializeArrayBuffer(buffer) {
    if (isDetachedBuffer(buffer)) {
      throw dataCloneError("a detached ArrayBuffer could not be cloned");
    }
    const ta = typedArrays();
    const resizable = ReflectApply(ta.arrayBufferGetResizable, buffer, []);
    return {
      t: SC_ARRAY_BUFFER,
      bytes: new ta.Uint8Array(ReflectApply(ta.arrayBufferSlice, buffer, [0])),
      maxByteLength: resizable
        ? ReflectApply(ta.arrayBufferGetMaxByteLength, buffer, [])
        : undefined,
    };
  }

  function ownDataString(value, key) {
    const desc = ObjectGetOwnPropertyDescriptor(value, key);
    if (desc === undefined || !("value" in desc)) return undefined;
    return typeof desc.value === "string" ? desc.value : undefined;
  }

  // The "deep" part of StructuredSerializeInternal: children of the record.
  function serializeObjectContents(value, record, memory) {
    switch (record.t) {
      case SC_VIEW:
        serializeView(value, record, memory);
        return;
      case SC_MAP: {
        // Step 26: a copy of the entries first, then each key and value.
        const copied = [];
        const it = ReflectApply(MapPrototypeEntries, value, []);
        for (let r = it.next(); !r.done; r = it.next()) copied[copied.length] = r.value;
        for (let i = 0; i < copied.length; i++) {
          record.entries[i] = [
            structuredSerializeInternal(copied[i][0], memory),
            structuredSerializeInternal(copied[i][1], memory),
          ];
        }
        return;
      }
      case SC_SET: {
        const copied = [];
        const it = ReflectApply(SetPrototypeValues, value, []);
        for (let r = it.next(); !r.done; r = it.next()) copied[copied.length] = r.value;
        for (let i = 0; i < copied.length; i++) {
          record.values[i] = structuredSerializeInternal(copied[i], memory);
        }
        return;
      }
      case SC_ERROR:
        serializeError(value, record, memory);
        return;
      case SC_ARRAY:
      case SC_OBJECT:
        serializeProperties(value, record.properties, memory);
        return;
    }
  }

  function serializeView(view, record, memory) {
    const ta = typedArrays();
    const kind = ReflectApply(ta.typedArrayGetKind, view, []);
    let buffer;
    if (kind === undefined) {
      buffer = ReflectApply(ta.dataViewGetBuffer, view, []);
      record.kind = "DataView";
      record.byteOffset = ReflectApply(ta.dataViewGetByteOffset, view, []);
      record.length = ReflectApply(ta.dataViewGetByteLength, view, []);
    } else {
      buffer = ReflectApply(ta.typedArrayGetBuffer, view, []);
      record.kind = kind;
      record.byteOffset = ReflectApply(ta.typedArrayGetByteOffset, view, []);
      record.length = ReflectApply(ta.typedArrayGetLength, view, []);
    }
    if (isDetachedBuffer(buffer)) {
      throw dataCloneError("a view of a detached ArrayBuffer could not be cloned");
    }
    record.buffer = structuredSerializeInternal(buffer, memory);
  }

  // Step 18 (errors): name (one of the ECMAScript error types, else "Error"),
  // message and cause if they are own data properties, and the stack.
  function serializeError(error, record, memory) {
    const name = error.name;
    record.name =
      typeof name === "string" && ErrorConstructors[name] !== undefined ? name : "Error";
    const messageDesc = ObjectGetOwnPropertyDescriptor(error, "message");
    if (messageDesc !== undefined && "value" in messageDesc) {
      record.message = toDOMString(messageDesc.value);
    }
    record.stack = ownDataString(error, "stack");
    const causeDesc = ObjectGetOwnPropertyDescriptor(error, "cause");
    if (causeDesc !== undefined && "value" in causeDesc) {
      record.hasCause = true;
      record.cause = structuredSerializeInternal(causeDesc.value, memory);
    }
  }

  // Own enumerable string-keyed properties, in [[OwnPropertyKeys]] order, each
  // read with [[Get]] if it still exists when its turn comes.
  function serializeProperties(value, out, memory) {
    const keys = ReflectOwnKeys(value);
    const enumerable = [];
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (typeof key !== "string") continue;
      const desc = ObjectGetOwnPropertyDescriptor(value, key);
      if (desc !== undefined && desc.enumerable) enumerable[enumerable.length] = key;
    }
    for (let i = 0; i < enumerable.length; i++) {
      const key = enumerable[i];
      if (!ObjectCtor.hasOwn(value, key)) continue;
      out[out.length] = [key, structuredSerializeInternal(value[key], memory)];
    }
  }

  // HTML §2.7.6 StructuredDeserialize(serialized, targetRealm, memory)
  function structuredDeserialize(serialized, memory) {
    if (!isObjectLike(serialized)) return serialized;
    const known = ReflectApply(MapPrototypeGet, memory, [serialized]);
    if (known !== undefined) return known;
    const value = deserializeObjectHead(serialized, memory);
    ReflectApply(MapPrototypeSet, memory, [serialized, value]);
    deserializeObjectContents(serialized, value, memory);
    return value;
  }

  function deserializeObjectHead(record, memory) {
    switch (record.t) {
      case SC_PRIMITIVE_WRAPPER:
        return ObjectCtor(record.value);
      case SC_DATE:
        return new (date().ctor)(record.time);
      case SC_REGEXP:
        return new RegExpCtor(record.source, record.flags);
      case SC_ARRAY_BUFFER: {
        const ta = typedArrays();
        const length = record.bytes.length;
        const buffer =
          record.maxByteLength === undefined
            ? new ta.ArrayBuffer(length)
            : new ta.ArrayBuffer(length, { maxByteLength: record.maxByteLength });
        ReflectApply(ta.typedArraySet, new ta.Uint8Array(buffer), [record.bytes, 0]);
        return buffer;
      }
      case SC_TRANSFERRED:
        return record.value;
      case SC_VIEW: {
        const buffer = structuredDeserialize(record.buffer, memory);
        const ta = typedArrays();
        const Ctor = record.kind === "DataView" ? ta.DataView : ta.constructors[record.kind];
        return new Ctor(buffer, record.byteOffset, record.length);
      }
      case SC_MAP:
        return new MapCtor();
      case SC_SET:
        return new SetCtor();
      case SC_ERROR: {
        const Ctor = ErrorConstructors[record.name];
        const error = record.message === undefined ? new Ctor() : new Ctor(record.message);
        if (record.stack === undefined) delete error.stack;
        else defineHiddenValue(error, "stack", record.stack);
        return error;
      }
      case SC_DOM_EXCEPTION: {
        const exception = newDOMException(record.message, record.name);
        if (record.stack !== undefined) defineHiddenValue(exception, "stack", record.stack);
        return exception;
      }
      case SC_BLOB:
        return cloneBlob(record.blob);
      case SC_ARRAY:
        return new ArrayCtor(record.length);
      default:
        return {};
    }
  }

  // CreateNonEnumerableDataPropertyOrThrow
  function defineHiddenValue(object, key, value) {
    ObjectDefineProperty(object, key, {
      value,
      writable: true,
      enumerable: false,
      configurable: true,
    });
  }

  function deserializeObjectContents(record, value, memory) {
    switch (record.t) {
      case SC_MAP:
        for (let i = 0; i < record.entries.length; i++) {
          const entry = record.entries[i];
          ReflectApply(MapPrototypeSet, value, [
            structuredDeserialize(entry[0], memory),
            structuredDeserialize(entry[1], memory),
          ]);
        }
        return;
      case SC_SET:
        for (let i = 0; i < record.values.length; i++) {
          ReflectApply(SetPrototypeAdd, value, [structuredDeserialize(record.values[i], memory)]);
        }
        return;
      case SC_ERROR:
        if (record.hasCause) {
          defineHiddenValue(value, "cause", structuredDeserialize(record.cause, memory));
        }
        return;
      case SC_ARRAY:
      case SC_OBJECT: {
        const properties = record.properties;
        for (let i = 0; i < properties.length; i++) {
          // CreateDataProperty: never runs a setter.
          ObjectDefineProperty(value, properties[i][0], {
            value: structuredDeserialize(properties[i][1], memory),
            writable: true,
            enumerable: true,
            configurable: true,
          });
        }
        return;
      }
    }
  }

  // HTML §2.7.7 StructuredSerializeWithTransfer(value, transferList):
  // { records, transferred } where `transferred` holds the new ArrayBuffers
  // and MessagePorts in transfer-list order. The originals are detached only
  // once the whole value is serialized.
  function structuredSerializeWithTransfer(value, transferList) {
    const memory = new MapCtor();
    const transferRecords = [];
    for (let i = 0; i < transferList.length; i++) {
      const transferable = transferList[i];
      const isBuffer = isArrayBuffer(transferable);
      if (!isBuffer && !isMessagePort(transferable)) {
        throw dataCloneError("only ArrayBuffer and MessagePort objects can be transferred");
      }
      if (ReflectApply(MapPrototypeHas, memory, [transferable])) {
        throw dataCloneError("the transfer list contains the same object twice");
      }
      if (!isBuffer && messagingOps().messagePortIsDetached(transferable)) {
        throw dataCloneError("a closed or already transferred MessagePort cannot be transferred");
      }
      const record = { t: SC_TRANSFERRED, value: undefined };
      ReflectApply(MapPrototypeSet, memory, [transferable, record]);
      transferRecords[i] = record;
    }
    const serialized = structuredSerializeInternal(value, memory);
    for (let i = 0; i < transferList.length; i++) {
      const transferable = transferList[i];
      if (isArrayBuffer(transferable) && isDetachedBuffer(transferable)) {
        throw dataCloneError("a detached ArrayBuffer cannot be transferred");
      }
    }
    // Only now that nothing can fail: detach and move.
    const transferred = [];
    for (let i = 0; i < transferList.length; i++) {
      const transferable = transferList[i];
      transferred[i] = isArrayBuffer(transferable)
        ? transferArrayBuffer(transferable)
        : messagingOps().transferMessagePort(transferable);
      transferRecords[i].value = transferred[i];
    }
    return { records: serialized, transferred };
  }

  // HTML §2.7.8 StructuredDeserializeWithTransfer: the transferred objects
  // are already in the records.
  function structuredDeserializeWithTransfer(records) {
    return structuredDeserialize(records, new MapCtor());
  }

  // Web IDL StructuredSerializeOptions { sequence<object> transfer = [] }.
  function transferListFrom(options, context) {
    const dict = toDictionary(options, context);
    const transfer = dict === undefined ? undefined : dict.transfer;
    if (transfer === undefined) return [];
    const list = toSequence(transfer, `${context}: transfer`);
    for (let i = 0; i < list.length; i++) {
      if (!isObjectLike(list[i])) {
        throw new TypeErrorCtor(`${context}: the transfer list can only contain objects`);
      }
    }
    return list;
  }

  // StructuredSerialize + StructuredDeserialize for the runtime's own use
  // (PerformanceMark detail, tee with cloneForBranch2).
  function structuredCloneInternal(value) {
    return structuredDeserialize(structuredSerializeInternal(value, new MapCtor()), new MapCtor());
  }

  return {
    dataCloneError,
    structuredSerializeWithTransfer,
    structuredDeserializeWithTransfer,
    transferListFrom,
    structuredCloneInternal,
  };
});
