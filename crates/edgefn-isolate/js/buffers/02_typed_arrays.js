// js/buffers/02_typed_arrays.js
//
// Adds ArrayBuffer, SharedArrayBuffer, the typed arrays, DataView and Atomics
// to the context, once (typedArrays() in 02_util.js). A chunk loaded on first
// use.

const typedArraysFrozenMessage =
  "the typed arrays cannot be added: the global object was frozen or sealed, or one of their names made non-configurable, before their first use";

// The engine's constructors and the accessors the layer calls, after the
// engine added them (host.addTypedArrays(), which reads the constructors from
// its class prototypes); what the tenant put in their globals stays.
function addTypedArrayBuiltins() {
  const names = typedArrayGlobalNames;
  // The descriptors as they were, read without Object.prototype.
  const before = [];
  for (let i = 0; i < names.length; i++) {
    before[i] = ownDescriptor(globalObject, names[i]);
  }
  const toString = ownDescriptor(ArrayPrototype, "toString");
  const toStringIsData = toString !== undefined && "value" in toString;
  let builtins;
  try {
    // The engine defines the globals and reads Array.prototype.toString,
    // and aborts the process when the global object has an `Atomics`
    // already: none of the names may be there, and no tenant code may run
    // (a getter), while it adds them (the host checks it too).
    if (!ObjectIsExtensible(globalObject)) throw new TypeErrorCtor(typedArraysFrozenMessage);
    for (let i = 0; i < names.length; i++) {
      if (before[i] !== undefined && !ReflectDeleteProperty(globalObject, names[i])) {
        throw new TypeErrorCtor(typedArraysFrozenMessage);
      }
    }
    if (!toStringIsData) {
      ObjectDefineProperty(ArrayPrototype, "toString", {
        value: ArrayPrototypeToString,
        writable: true,
        enumerable: false,
        configurable: true,
      });
    }
    // Each constructor by its global name (null prototype); Atomics, which
    // has no instances, from the global the engine just defined.
    const globals = host.addTypedArrays(names);
    globals.Atomics = ObjectGetOwnPropertyDescriptor(globalObject, "Atomics").value;
    const arrayBuffer = globals.ArrayBuffer;
    const dataView = globals.DataView;
    const typedArray = ObjectGetPrototypeOf(globals.Uint8Array.prototype);
    const constructors = { __proto__: null };
    // The typed arrays: the names between SharedArrayBuffer and DataView.
    for (let i = 2; i < 14; i++) constructors[names[i]] = globals[names[i]];
    builtins = {
      __proto__: null,
      globals,
      ArrayBuffer: arrayBuffer,
      DataView: dataView,
      Uint8Array: globals.Uint8Array,
      // Typed array constructors by [[TypedArrayName]] (structuredClone, BYOB reads).
      constructors,
      isView: arrayBuffer.isView,
      arrayBufferGetByteLength: getterOf(arrayBuffer.prototype, "byteLength"),
      arrayBufferSlice: arrayBuffer.prototype.slice,
      // ES2024 transfer / detached / resizable: the streams' TransferArrayBuffer
      // and structuredClone's transfer.
      arrayBufferTransfer: arrayBuffer.prototype.transfer,
      arrayBufferGetDetached: getterOf(arrayBuffer.prototype, "detached"),
      arrayBufferGetResizable: getterOf(arrayBuffer.prototype, "resizable"),
      arrayBufferGetMaxByteLength: getterOf(arrayBuffer.prototype, "maxByteLength"),
      sharedArrayBufferGetByteLength: getterOf(globals.SharedArrayBuffer.prototype, "byteLength"),
      dataViewGetBuffer: getterOf(dataView.prototype, "buffer"),
      dataViewGetByteOffset: getterOf(dataView.prototype, "byteOffset"),
      dataViewGetByteLength: getterOf(dataView.prototype, "byteLength"),
      typedArrayGetBuffer: getterOf(typedArray, "buffer"),
      typedArrayGetByteOffset: getterOf(typedArray, "byteOffset"),
      typedArrayGetByteLength: getterOf(typedArray, "byteLength"),
      typedArrayGetLength: getterOf(typedArray, "length"),
      // The typed array's kind ("Uint8Array", ...) or undefined for any
      // other value: a forgery-proof brand check.
      typedArrayGetKind: getterOf(typedArray, SymbolToStringTag),
      typedArraySet: typedArray.set,
    };
  } finally {
    if (!toStringIsData) restoreProperty(ArrayPrototype, "toString", toString);
    // What the tenant put in a global first, or its deletion, stays; the
    // layer's accessor gives way to the engine's value, unless the engine
    // failed (out of memory), when it stays for the next try.
    for (let i = 0; i < names.length; i++) {
      const previous = before[i];
      if (builtins === undefined || previous === undefined || previous.get !== typedArrayAccessors[i]) {
        restoreProperty(globalObject, names[i], previous);
      }
    }
  }
  return builtins;
}

