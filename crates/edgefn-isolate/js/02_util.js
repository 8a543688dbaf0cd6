// 02_util.js
//
// Helpers shared by the Web API files: promise plumbing on captured
// built-ins, Web IDL style conversions and interface installation, buffer
// handling, error formatting/reporting, the pair-iterator factory and
// DOMException.

// Token passed to our own constructors to build instances internally
// (e.g. an incoming Request) without running the public argument checks.
// Tenant code can never obtain it.
const kInternal = SymbolCtor("edgefn.internal");

function noop() {}

// ---------------------------------------------------------------------------
// Promises (only captured built-ins)

function promiseThen(promise, onFulfilled, onRejected) {
  return ReflectApply(PromisePrototypeThen, promise, [onFulfilled, onRejected]);
}

function promiseResolve(value) {
  return ReflectApply(PromiseResolveFn, PromiseCtor, [value]);
}

function promiseReject(reason) {
  return ReflectApply(PromiseRejectFn, PromiseCtor, [reason]);
}

// A promise with its resolving functions (ECMA-262 NewPromiseCapability).
function createDeferred() {
  let resolve;
  let reject;
  const promise = new PromiseCtor((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

// Equivalent of setting [[PromiseIsHandled]]: the rejection tracker will not
// report this promise.
function markPromiseHandled(promise) {
  promiseThen(promise, undefined, noop);
}

const resolvedPromise = promiseResolve(undefined);

// Runs `callback` in a microtask. The callback must not throw (wrap it).
function enqueueMicrotask(callback) {
  promiseThen(resolvedPromise, callback, undefined);
}

// ---------------------------------------------------------------------------
// Web IDL style conversions

function wellFormedFallback(s) {
  let out = null;
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
    }
    out = (out === null ? "" : out) + s.slice(last, i) + "\uFFFD";
    last = i + 1;
  }
  return out === null ? s : out + s.slice(last);
}

// Web IDL USVString: ToString, then lone surrogates become U+FFFD.
function toUSVString(value) {
  const s = typeof value === "string" ? value : `${value}`;
  return stringToWellFormed === undefined ? wellFormedFallback(s) : stringToWellFormed(s);
}

// Web IDL DOMString.
function toDOMString(value) {
  return typeof value === "string" ? value : `${value}`;
}

const nonLatin1Re = /[^\x00-\xFF]/;

// Web IDL ByteString: TypeError on code points above U+00FF.
function toByteString(value, context) {
  const s = typeof value === "string" ? value : `${value}`;
  if (nonLatin1Re.test(s)) {
    throw new TypeErrorCtor(
      `${context}: value contains a character with a code point greater than 255`,
    );
  }
  return s;
}

function requireArguments(count, required, context) {
  if (count < required) {
    throw new TypeErrorCtor(
      `${context}: ${required} argument${required === 1 ? "" : "s"} required, but only ${count} present.`,
    );
  }
}

// Web IDL dictionary conversion: undefined/null mean "empty dictionary";
// other non-objects are a TypeError. Returns the object or undefined.
function toDictionary(value, context) {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" && typeof value !== "function") {
    throw new TypeErrorCtor(`${context}: the options argument is not an object`);
  }
  return value;
}

// Web IDL §3.2.22 sequence<T> from an iterable object; the elements are
// returned as they are (the caller converts each).
function toSequence(value, context) {
  if (!isObjectLike(value)) {
    throw new TypeErrorCtor(`${context}: the value is not iterable`);
  }
  const method = value[SymbolIterator];
  if (typeof method !== "function") {
    throw new TypeErrorCtor(`${context}: the value is not iterable`);
  }
  const iterator = ReflectApply(method, value, []);
  if (!isObjectLike(iterator)) {
    throw new TypeErrorCtor(`${context}: the iterator is not an object`);
  }
  const next = iterator.next;
  const out = [];
  for (;;) {
    const result = ReflectApply(next, iterator, []);
    if (!isObjectLike(result)) {
      throw new TypeErrorCtor(`${context}: the iterator result is not an object`);
    }
    if (result.done) return out;
    out[out.length] = result.value;
  }
}

function isObjectLike(value) {
  return (
    (typeof value === "object" && value !== null) || typeof value === "function"
  );
}

// ---------------------------------------------------------------------------
// Interface installation (Web IDL §3.7: operations and attributes are
// enumerable on the prototype; @@toStringTag is {writable: false,
// enumerable: false, configurable: true}).

// The prototypes of our interfaces: instances are platform objects, which
// structuredClone refuses unless they are serializable (Blob, File,
// DOMException).
const platformPrototypes = new WeakSetCtor();

function configureInterface(Class, tag) {
  const proto = Class.prototype;
  ReflectApply(WeakSetPrototypeAdd, platformPrototypes, [proto]);
  const keys = ReflectOwnKeys(proto);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (key === "constructor" || typeof key === "symbol") continue;
    ObjectDefineProperty(proto, key, { enumerable: true });
  }
  const statics = ReflectOwnKeys(Class);
  for (let i = 0; i < statics.length; i++) {
    const key = statics[i];
    if (
      key === "length" ||
      key === "name" ||
      key === "prototype" ||
      typeof key === "symbol"
    ) {
      continue;
    }
    ObjectDefineProperty(Class, key, { enumerable: true });
  }
  ObjectDefineProperty(proto, SymbolToStringTag, {
    value: tag === undefined ? Class.name : tag,
    writable: false,
    enumerable: false,
    configurable: true,
  });
}

// Interface objects and namespaces: non-enumerable.
function exposeInterface(name, value) {
  ObjectDefineProperty(globalObject, name, {
    value,
    writable: true,
    enumerable: false,
    configurable: true,
  });
}

// Operations on the global object: enumerable.
function exposeOperation(name, value) {
  ObjectDefineProperty(globalObject, name, {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

// [Replaceable] readonly attributes on the global object (self, navigator,
// crypto, performance): an accessor whose setter replaces it by a data
// property, so `globalThis.crypto = polyfill` keeps working. `getValue` is
// called on each read (it memoizes, see once()).
function exposeReplaceable(name, getValue) {
  const accessor = host.lazyAccessor(name, getValue, replaceableAccess);
  ObjectDefineProperty(globalObject, name, {
    get: accessor,
    set: accessor,
    enumerable: true,
    configurable: true,
  });
}

// The getter (called with two arguments) and setter (three) of
// exposeReplaceable().
function replaceableAccess(name, getValue, value) {
  if (arguments.length === 2) return getValue();
  ObjectDefineProperty(globalObject, name, {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

// Cold start: classes are created on first use, not in init(). once(f)
// returns a function that calls f the first time and then returns the same
// result. The factory is dropped once it succeeded, so that its bytecode (the
// code building a class, say) does not stay in the isolate.
function once(factory) {
  let done = false;
  let value;
  return () => {
    if (!done) {
      value = factory();
      done = true;
      factory = undefined;
    }
    return value;
  };
}

// An interface object (or namespace) on the global object, created on first
// access by getValue(name). The accessor replaces itself by the usual data
// property {writable, non-enumerable, configurable} at the first get or set.
// It is one function for both, made by the host with `name` and `getValue` as
// its data (host.lazyAccessor): about 60 bytes less than a closure over them,
// for each of some seventy names in every isolate.
function exposeLazyInterface(name, getValue) {
  const accessor = host.lazyAccessor(name, getValue, lazyInterfaceAccess);
  ObjectDefineProperty(globalObject, name, {
    get: accessor,
    set: accessor,
    enumerable: false,
    configurable: true,
  });
}

// The getter (called with two arguments) and setter (three) of
// exposeLazyInterface().
function lazyInterfaceAccess(name, getValue, value) {
  if (arguments.length === 2) value = getValue(name);
  defineInterfaceValue(name, value);
  return value;
}

// The data property an exposeLazyInterface() accessor becomes (one function
// for all of them, not a closure each: there are some seventy).
function defineInterfaceValue(name, value) {
  try {
    ObjectDefineProperty(globalObject, name, {
      value,
      writable: true,
      enumerable: false,
      configurable: true,
    });
  } catch {
    // The global object was frozen: keep answering through the getter.
  }
}

// ---------------------------------------------------------------------------
// Date

// The context starts without Date (5 KB and 45 names in every isolate):
// host.addDate() adds it on first use, by the tenant (the global below) or by
// the layer, and returns the constructor straight from the engine, so no
// tenant code can have replaced it. No Date object exists before.
let dateBuiltins;
let dateAccessor;

function date() {
  if (dateBuiltins === undefined) {
    const before = ownDescriptor(globalObject, "Date");
    try {
      const DateCtor = host.addDate();
      dateBuiltins = {
        ctor: DateCtor,
        now: DateCtor.now,
        getTime: DateCtor.prototype.getTime,
        toISOString: DateCtor.prototype.toISOString,
      };
    } finally {
      // The engine defined the global `Date` (also when it then ran out of
      // memory): what the tenant put there first, or its deletion, stays.
      if (before === undefined || before.get !== dateAccessor) {
        restoreProperty(globalObject, "Date", before);
      }
    }
  }
  return dateBuiltins;
}

function dateNow() {
  const builtins = date();
  return ReflectApply(builtins.now, builtins.ctor, []);
}

// Whether `value` is a Date, without adding Date to the context.
function isDate(value) {
  if (dateBuiltins === undefined) return false;
  try {
    ReflectApply(dateBuiltins.getTime, value, []);
    return true;
  } catch {
    return false;
  }
}

exposeLazyInterface("Date", () => date().ctor);
dateAccessor = ObjectGetOwnPropertyDescriptor(globalObject, "Date").get;

// ---------------------------------------------------------------------------
// Buffers

// The context starts without ArrayBuffer, SharedArrayBuffer, DataView, Atomics
// and the typed arrays (17.6 KB and 55 names in every isolate, and a request
// with a string body needs none of them): typedArrays() adds them on first
// use, by the tenant (the globals below), by the layer, or by the host before
// it hands out bytes (its `typedArrays` hook), and returns the engine's own
// constructors with the accessors the layer calls (made by the chunk
// js/buffers, so that the code which adds them is not in every isolate).
// Until it succeeded, no value of these kinds exists, so a brand check answers
// without adding them. The names with a class of their own come in the order
// of the engine's class ids, as host.addTypedArrays() checks; then Atomics.
const typedArrayGlobalNames = [
  "ArrayBuffer",
  "SharedArrayBuffer",
  "Uint8ClampedArray",
  "Int8Array",
  "Uint8Array",
  "Int16Array",
  "Uint16Array",
  "Int32Array",
  "Uint32Array",
  "BigInt64Array",
  "BigUint64Array",
  "Float16Array",
  "Float32Array",
  "Float64Array",
  "DataView",
  "Atomics",
];
let typedArrayBuiltins;
// The layer's accessors of those globals, by position.
const typedArrayAccessors = [];

// Puts back the property `name` of `object` as `previous` (from ownDescriptor())
// describes it, or deletes it if there was none; nothing when the object was
// frozen meanwhile.
function restoreProperty(object, name, previous) {
  try {
    if (previous === undefined) ReflectDeleteProperty(object, name);
    else ObjectDefineProperty(object, name, previous);
  } catch {
    // Not configurable: it stayed as it was.
  }
}

// An own property's descriptor (undefined if none) with no prototype, so that
// reading it or defining it back sees none of Object.prototype's properties.
function ownDescriptor(object, name) {
  const descriptor = ObjectGetOwnPropertyDescriptor(object, name);
  if (descriptor !== undefined) ObjectSetPrototypeOf(descriptor, null);
  return descriptor;
}

function typedArrays() {
  if (typedArrayBuiltins === undefined) {
    typedArrayBuiltins = layerChunk("buffers").addTypedArrayBuiltins();
    // Needed once: the chunk's code is let go.
    delete loadedChunks.buffers;
  }
  return typedArrayBuiltins;
}

function typedArrayGlobal(name) {
  return typedArrays().globals[name];
}

for (let i = 0; i < typedArrayGlobalNames.length; i++) {
  exposeLazyInterface(typedArrayGlobalNames[i], typedArrayGlobal);
  typedArrayAccessors[i] = ObjectGetOwnPropertyDescriptor(globalObject, typedArrayGlobalNames[i]).get;
}

function typedArraysAdded() {
  return typedArrayBuiltins !== undefined;
}

// A new Uint8Array: `new Uint8Array(source, byteOffset, length)` (the last two
// are ignored unless `source` is an ArrayBuffer, where undefined means all).
function newUint8Array(source, byteOffset, length) {
  return new (typedArrays().Uint8Array)(source, byteOffset, length);
}

// The kind of a typed array ("Uint8Array", ...), undefined for any other value.
function typedArrayKind(value) {
  if (!typedArraysAdded()) return undefined;
  return ReflectApply(typedArrayBuiltins.typedArrayGetKind, value, []);
}

// ArrayBuffer.isView
function isArrayBufferView(value) {
  return typedArrayBuiltins !== undefined && typedArrayBuiltins.isView(value);
}

function isArrayBuffer(value) {
  if (typedArrayBuiltins === undefined) return false;
  try {
    ReflectApply(typedArrayBuiltins.arrayBufferGetByteLength, value, []);
    return true;
  } catch {
    return false;
  }
}

function typedArrayByteLength(view) {
  return ReflectApply(typedArrays().typedArrayGetByteLength, view, []);
}

// A Uint8Array over the bytes of an ArrayBuffer or ArrayBufferView (no
// copy), or null if `value` is neither.
function bufferSourceView(value) {
  if (typeof value !== "object" || value === null || typedArrayBuiltins === undefined) {
    return null;
  }
  const ta = typedArrayBuiltins;
  const kind = ReflectApply(ta.typedArrayGetKind, value, []);
  if (kind !== undefined) {
    if (kind === "Uint8Array") return value;
    return new ta.Uint8Array(
      ReflectApply(ta.typedArrayGetBuffer, value, []),
      ReflectApply(ta.typedArrayGetByteOffset, value, []),
      ReflectApply(ta.typedArrayGetByteLength, value, []),
    );
  }
  if (ta.isView(value)) {
    // DataView
    return new ta.Uint8Array(
      ReflectApply(ta.dataViewGetBuffer, value, []),
      ReflectApply(ta.dataViewGetByteOffset, value, []),
      ReflectApply(ta.dataViewGetByteLength, value, []),
    );
  }
  if (isArrayBuffer(value)) return new ta.Uint8Array(value);
  return null;
}

// Copies into a fresh, exactly sized buffer (TypedArray constructor from a
// typed array always allocates a plain %ArrayBuffer%).
function copyBytes(u8) {
  return newUint8Array(u8);
}

function concatBytes(chunks, count, total) {
  const ta = typedArrays();
  const out = new ta.Uint8Array(total);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const chunk = chunks[i];
    ReflectApply(ta.typedArraySet, out, [chunk, offset]);
    offset += ReflectApply(ta.typedArrayGetByteLength, chunk, []);
  }
  return out;
}

// The ArrayBuffer behind `u8` if the view covers it exactly, else a copy.
function bytesToArrayBuffer(u8) {
  const ta = typedArrays();
  const buffer = ReflectApply(ta.typedArrayGetBuffer, u8, []);
  if (
    ReflectApply(ta.typedArrayGetByteOffset, u8, []) === 0 &&
    ReflectApply(ta.typedArrayGetByteLength, u8, []) ===
      ReflectApply(ta.arrayBufferGetByteLength, buffer, [])
  ) {
    return buffer;
  }
  return ReflectApply(ta.typedArrayGetBuffer, copyBytes(u8), []);
}

// ECMA-262 IsDetachedBuffer
function isDetachedBuffer(buffer) {
  return ReflectApply(typedArrays().arrayBufferGetDetached, buffer, []);
}

function arrayBufferByteLength(buffer) {
  return ReflectApply(typedArrays().arrayBufferGetByteLength, buffer, []);
}

// Streams §8.3 TransferArrayBuffer: a new ArrayBuffer with the contents;
// `buffer` is detached. Throws a TypeError for a detached buffer.
function transferArrayBuffer(buffer) {
  return ReflectApply(typedArrays().arrayBufferTransfer, buffer, []);
}

// ---------------------------------------------------------------------------
// Web IDL integer conversions (§3.2.4.9 ConvertToInt, 64-bit)

const maxSafeInteger = 9007199254740991;

// [EnforceRange] unsigned long long: TypeError outside [0, 2^53 - 1].
function toEnforceRangeUnsignedLongLong(value, context) {
  let x = NumberCtor(value);
  if (!NumberIsFinite(x)) {
    throw new TypeErrorCtor(`${context}: the value is not a finite number`);
  }
  x = MathTrunc(x);
  if (x < 0 || x > maxSafeInteger) {
    throw new TypeErrorCtor(`${context}: the value is outside the range [0, 2^53 - 1]`);
  }
  return x === 0 ? 0 : x;
}

// [Clamp] long long: clamped to [-(2^53 - 1), 2^53 - 1], rounded half to even.
function toClampLongLong(value) {
  let x = NumberCtor(value);
  if (NumberIsNaN(x)) return 0;
  x = MathMin(MathMax(x, -maxSafeInteger), maxSafeInteger);
  const floor = MathFloor(x);
  const diff = x - floor;
  let rounded = floor;
  if (diff > 0.5 || (diff === 0.5 && floor % 2 !== 0)) rounded = floor + 1;
  return rounded === 0 ? 0 : rounded;
}

// long long (no extended attribute): truncated, non-finite values are 0.
// Beyond 2^53 the value is kept as it is (not reduced modulo 2^64).
function toLongLong(value) {
  const x = NumberCtor(value);
  if (!NumberIsFinite(x)) return 0;
  const t = MathTrunc(x);
  return t === 0 ? 0 : t;
}

// ---------------------------------------------------------------------------
// Errors

function safeGet(object, key) {
  try {
    return object[key];
  } catch {
    return undefined;
  }
}

function safeToString(value) {
  if (typeof value === "string") return value;
  if (typeof value === "symbol") {
    return ReflectApply(SymbolPrototypeToString, value, []);
  }
  try {
    return StringCtor(value);
  } catch {
    try {
      return ReflectApply(ObjectPrototypeToString, value, []);
    } catch {
      return "[object]";
    }
  }
}

function isErrorObject(value) {
  return (
    typeof value === "object" &&
    value !== null &&
    ReflectApply(ObjectPrototypeIsPrototypeOf, ErrorPrototype, [value])
  );
}

// "Name: message" (ECMA-262 Error.prototype.toString, but never throws).
function errorSummary(error) {
  const name = safeGet(error, "name");
  const message = safeGet(error, "message");
  const n = name === undefined ? "Error" : safeToString(name);
  const m = message === undefined ? "" : safeToString(message);
  if (n === "") return m;
  if (m === "") return n;
  return `${n}: ${m}`;
}

const stackFramesOnlyRe = /^\s+at /;

// An error with its stack trace. Engines differ: V8 puts the summary line
// at the top of `stack`, QuickJS only lists frames.
function formatError(error, depth) {
  const summary = errorSummary(error);
  let stack = safeGet(error, "stack");
  let out;
  if (typeof stack !== "string" || stack === "") {
    out = summary;
  } else {
    let end = stack.length;
    while (end > 0 && stack.charCodeAt(end - 1) === 10) end--;
    stack = stack.slice(0, end);
    out = stackFramesOnlyRe.test(stack) ? `${summary}\n${stack}` : stack;
  }
  let hasCause = false;
  try {
    hasCause = ObjectGetOwnPropertyDescriptor(error, "cause") !== undefined;
  } catch {
    // a Proxy trap threw
  }
  if (hasCause && (depth === undefined || depth < 4)) {
    out += `\nCaused by: ${formatThrown(safeGet(error, "cause"), (depth || 0) + 1)}`;
  }
  return out;
}

// Any thrown value, as printed after "Uncaught ".
function formatThrown(value, depth) {
  if (isErrorObject(value)) return formatError(value, depth);
  try {
    return inspect(value, undefined);
  } catch {
    return safeToString(value);
  }
}

// Reports an exception nobody caught. Without a prefix (timer callbacks,
// microtasks, event listeners, reportError()) this is HTML's "report an
// exception": a cancelable ErrorEvent is dispatched on globalThis first, and
// the exception is logged unless a listener canceled it. With a prefix
// ("Uncaught (in promise)", "Uncaught (in waitUntil)", ...) it is only
// logged. Never throws.
function reportException(error, prefix) {
  if (prefix === undefined && !dispatchErrorEvent(error)) return;
  let text;
  try {
    text = `${prefix === undefined ? "Uncaught" : prefix} ${formatThrown(error, 0)}`;
  } catch {
    text = "Uncaught (unprintable exception)";
  }
  try {
    host.log("error", text);
  } catch {
    // nothing left to do
  }
}

// ---------------------------------------------------------------------------
// console.log support for our own classes: prototype -> function(object)
// returning a plain object whose entries are printed as the object's fields.
const inspectHooks = new MapCtor();

function registerInspectHook(Class, fn) {
  ReflectApply(MapPrototypeSet, inspectHooks, [Class.prototype, fn]);
}

// ---------------------------------------------------------------------------
// A stable merge sort of `items` by the string keyOf(item), in UTF-16 code
// unit order (Headers' "sort and combine", URLSearchParams' sort()). Returns
// a new array, or `items` itself when it has fewer than two.
function stableSortBy(items, keyOf) {
  const n = items.length;
  if (n < 2) return items;
  let src = items;
  let dst = new ArrayCtor(n);
  for (let width = 1; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = MathMin(lo + width, n);
      const hi = MathMin(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        dst[k++] = keyOf(src[j]) < keyOf(src[i]) ? src[j++] : src[i++];
      }
      while (i < mid) dst[k++] = src[i++];
      while (j < hi) dst[k++] = src[j++];
    }
    const t = src;
    src = dst;
    dst = t === items ? new ArrayCtor(n) : t;
  }
  return src;
}

// Web IDL pair iterators (§3.7.10): keys(), values(), entries() and
// @@iterator (equal to entries()) on the prototype of Class, whose instances
// pass `isInstance`. The iterators' `next()` reads the live pairs at each
// step through `getLength(target)` and `getPair(target, index)`; `tag` is
// their @@toStringTag. Call it before configureInterface(Class).
function definePairIterable(Class, tag, isInstance, getLength, getPair) {
  const PairIterator = pairIteratorClass(tag, getLength, getPair);
  const iterate = (target, kind) => {
    if (!isInstance(target)) throw new TypeErrorCtor("Illegal invocation");
    return new PairIterator(target, kind);
  };
  const methods = {
    keys() {
      return iterate(this, "key");
    },
    values() {
      return iterate(this, "value");
    },
    entries() {
      return iterate(this, "key+value");
    },
  };
  const names = ["keys", "values", "entries"];
  for (let i = 0; i < names.length; i++) {
    ObjectDefineProperty(Class.prototype, names[i], {
      value: methods[names[i]],
      writable: true,
      enumerable: false,
      configurable: true,
    });
  }
  ObjectDefineProperty(Class.prototype, SymbolIterator, {
    value: methods.entries,
    writable: true,
    enumerable: false,
    configurable: true,
  });
}

// console.log fields for an iterable of [name, value] pairs: a repeated
// name shows its values as an array.
function pairsAsInspectFields(pairs) {
  const fields = ObjectCreate(null);
  for (const [name, value] of pairs) {
    const previous = fields[name];
    if (previous === undefined) fields[name] = value;
    else if (ArrayIsArray(previous)) previous.push(value);
    else fields[name] = [previous, value];
  }
  return fields;
}

function pairIteratorClass(tag, getLength, getPair) {
  class PairIterator {
    #target;
    #kind;
    #index = 0;

    constructor(target, kind) {
      this.#target = target;
      this.#kind = kind;
    }

    next() {
      const target = this.#target;
      const index = this.#index;
      if (index >= getLength(target)) return { value: undefined, done: true };
      this.#index = index + 1;
      const pair = getPair(target, index);
      const kind = this.#kind;
      if (kind === "key") return { value: pair[0], done: false };
      if (kind === "value") return { value: pair[1], done: false };
      return { value: [pair[0], pair[1]], done: false };
    }
  }
  ObjectSetPrototypeOf(PairIterator.prototype, IteratorPrototype);
  // Like built-in iterator prototypes: no own `constructor`.
  delete PairIterator.prototype.constructor;
  configureInterface(PairIterator, tag);
  return PairIterator;
}

// ---------------------------------------------------------------------------
// DOMException (WebIDL §3.14.1): name, message, the legacy code of the
// name (WebIDL "error names" table) and the legacy code constants.

function domExceptionCode(name) {
  switch (name) {
    case "IndexSizeError": return 1;
    case "HierarchyRequestError": return 3;
    case "WrongDocumentError": return 4;
    case "InvalidCharacterError": return 5;
    case "NoModificationAllowedError": return 7;
    case "NotFoundError": return 8;
    case "NotSupportedError": return 9;
    case "InUseAttributeError": return 10;
    case "InvalidStateError": return 11;
    case "SyntaxError": return 12;
    case "InvalidModificationError": return 13;
    case "NamespaceError": return 14;
    case "InvalidAccessError": return 15;
    case "TypeMismatchError": return 17;
    case "SecurityError": return 18;
    case "NetworkError": return 19;
    case "AbortError": return 20;
    case "URLMismatchError": return 21;
    case "QuotaExceededError": return 22;
    case "TimeoutError": return 23;
    case "InvalidNodeTypeError": return 24;
    case "DataCloneError": return 25;
    default: return 0;
  }
}

// WebIDL §3.14.1: the constants, in code order (1 to 25).
const domExceptionConstantNames = [
  "INDEX_SIZE_ERR", "DOMSTRING_SIZE_ERR", "HIERARCHY_REQUEST_ERR",
  "WRONG_DOCUMENT_ERR", "INVALID_CHARACTER_ERR", "NO_DATA_ALLOWED_ERR",
  "NO_MODIFICATION_ALLOWED_ERR", "NOT_FOUND_ERR", "NOT_SUPPORTED_ERR",
  "INUSE_ATTRIBUTE_ERR", "INVALID_STATE_ERR", "SYNTAX_ERR",
  "INVALID_MODIFICATION_ERR", "NAMESPACE_ERR", "INVALID_ACCESS_ERR",
  "VALIDATION_ERR", "TYPE_MISMATCH_ERR", "SECURITY_ERR", "NETWORK_ERR",
  "ABORT_ERR", "URL_MISMATCH_ERR", "QUOTA_EXCEEDED_ERR", "TIMEOUT_ERR",
  "INVALID_NODE_TYPE_ERR", "DATA_CLONE_ERR",
];

// (value) -> { name, message } for a DOMException, else null (structuredClone).
let domExceptionInternals = (value) => null;

const domExceptionClass = once(() => {
  class DOMException extends ErrorCtor {
    #name;
    #message;

    // WebIDL §3.14.1 constructor(message, name)
    constructor(message = "", name = "Error") {
      // No argument: the message is exposed by the getter below, not as an own
      // property, like in browsers.
      super();
      this.#message = toDOMString(message);
      this.#name = toDOMString(name);
    }

    get name() {
      return this.#name;
    }

    get message() {
      return this.#message;
    }

    get code() {
      return domExceptionCode(this.#name);
    }

    static {
      domExceptionInternals = (value) =>
        isObjectLike(value) && #name in value
          ? { name: value.#name, message: value.#message }
          : null;
    }
  }
  configureInterface(DOMException);
  // Constants: {writable: false, enumerable: true, configurable: false} on
  // the interface object and on the prototype (WebIDL §3.7.5).
  for (let i = 0; i < domExceptionConstantNames.length; i++) {
    const desc = { value: i + 1, writable: false, enumerable: true, configurable: false };
    ObjectDefineProperty(DOMException, domExceptionConstantNames[i], desc);
    ObjectDefineProperty(DOMException.prototype, domExceptionConstantNames[i], desc);
  }
  return DOMException;
});

function newDOMException(message, name) {
  const DOMException = domExceptionClass();
  return new DOMException(message, name);
}

exposeLazyInterface("DOMException", domExceptionClass);

// ---------------------------------------------------------------------------
// Pending host operations (body reads, stream waits): the host reports the
// outcome with internal.complete(opId, value, error).

const pendingHostOps = ObjectCreate(null);
let nextHostOpId = 1;

function registerHostOp(callback) {
  const opId = nextHostOpId++;
  pendingHostOps[opId] = callback;
  return opId;
}

function forgetHostOp(opId) {
  delete pendingHostOps[opId];
}

// Never throws.
function completeHostOp(opId, value, error) {
  const callback = pendingHostOps[opId];
  if (callback === undefined) return;
  delete pendingHostOps[opId];
  try {
    callback(value, error);
  } catch (e) {
    reportException(e);
  }
}

// ---------------------------------------------------------------------------
// Error.prepareStackTrace, V8's API, which QuickJS-NG has: the function set
// there turns an error's call sites into its `stack`, and a call site's
// getFunction() gives the frame's function, also a frame of the layer's, which
// no tenant code may reach (V8 gives undefined for a strict function). So the
// layer owns the property, as an accessor that cannot be deleted or redefined
// (the engine reads its own copy of the function, which only the engine's
// setter, held here, changes). A function the tenant sets gets the call sites
// of the layer's frames replaced (js/stacks, loaded when a tenant first sets
// one).

const enginePrepareStackTraceSetter = ObjectGetOwnPropertyDescriptor(
  ErrorCtor,
  "prepareStackTrace",
).set;
let tenantPrepareStackTrace;
let prepareStackTraceForTenant = null;

// The engine's CallSite.prototype, taken here, before any tenant code runs: a
// tenant that has a call site may replace its methods, and one that runs
// before the layer takes it can make the engine's stack trace empty
// (Error.stackTraceLimit = 0) or read an error's raw `stack` (a getter on
// Error.prototype). Taken inside the engine's call, and the error dropped.
const callSitePrototype = (() => {
  let proto;
  callFunction(enginePrepareStackTraceSetter, ErrorCtor, (error, sites) => {
    proto = ObjectGetPrototypeOf(sites[0]);
  });
  try {
    new ErrorCtor();
  } finally {
    callFunction(enginePrepareStackTraceSetter, ErrorCtor, undefined);
  }
  return proto;
})();

ObjectDefineProperty(ErrorCtor, "prepareStackTrace", {
  __proto__: null,
  get: function prepareStackTrace() {
    return tenantPrepareStackTrace;
  },
  set: function prepareStackTrace(value) {
    if (this === undefined || this === null) {
      throw new TypeErrorCtor("Error.prepareStackTrace: not an object");
    }
    const isFunction = typeof value === "function";
    if (isFunction && prepareStackTraceForTenant === null) {
      prepareStackTraceForTenant = layerChunk("stacks").tenantStackTraces(
        callSitePrototype,
        () => tenantPrepareStackTrace,
      );
    }
    tenantPrepareStackTrace = value;
    callFunction(
      enginePrepareStackTraceSetter,
      ErrorCtor,
      isFunction ? prepareStackTraceForTenant : value,
    );
  },
  enumerable: false,
  configurable: false,
});
