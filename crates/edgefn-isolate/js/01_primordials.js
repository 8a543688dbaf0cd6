// 01_primordials.js
//
// Built-ins captured once per isolate, before any tenant code runs. Tenant
// code may replace globals and prototype methods (`Promise.prototype.then`,
// `Array.prototype.push`, `globalThis.Response`, ...). Every path that the
// host drives (dispatch, response pumping, body reading, timers, op
// completion) only uses the values captured here, so a tenant can break its
// own code but not the runtime's invariants (e.g. "respond exactly once").
//
// All js/*.js files are concatenated into the body of one function
// `init(host, config)`, so every top-level name below is visible to the
// files that follow. Names must be unique across files.

const globalObject = globalThis;

const ReflectApply = Reflect.apply;
const ReflectOwnKeys = Reflect.ownKeys;
const ReflectDeleteProperty = Reflect.deleteProperty;

const ObjectCtor = Object;
const ObjectPrototype = Object.prototype;
const ObjectCreate = Object.create;
const ObjectDefineProperty = Object.defineProperty;
const ObjectFreeze = Object.freeze;
const ObjectGetOwnPropertyDescriptor = Object.getOwnPropertyDescriptor;
// The getter of an accessor property, e.g. getterOf(Map.prototype, "size").
const getterOf = (object, name) => ObjectGetOwnPropertyDescriptor(object, name).get;
const ObjectGetPrototypeOf = Object.getPrototypeOf;
const ObjectSetPrototypeOf = Object.setPrototypeOf;
const ObjectIs = Object.is;
const ObjectKeys = Object.keys;
const ObjectIsExtensible = Object.isExtensible;
const ObjectPrototypeToString = Object.prototype.toString;
const ObjectPrototypeIsPrototypeOf = Object.prototype.isPrototypeOf;

const FunctionPrototypeToString = Function.prototype.toString;

const ArrayCtor = Array;
const ArrayIsArray = Array.isArray;
const ArrayPrototype = Array.prototype;
const ArrayPrototypeToString = Array.prototype.toString;

const StringCtor = String;
const StringFromCharCode = String.fromCharCode;
const StringPrototypeToWellFormed = String.prototype.toWellFormed;
const StringPrototypeStartsWith = String.prototype.startsWith;
// callFunction(f, thisArg, ...args) is f.call(thisArg, ...args) with the
// engine's own call: where the arguments are known, it saves ReflectApply's
// argument array (and the engine's copy of it) on a hot path.
const FunctionPrototypeCall = Function.prototype.call;
const callFunction = FunctionPrototypeCall.bind(FunctionPrototypeCall);
// toWellFormed as a function of the string, the same way.
const stringToWellFormed =
  StringPrototypeToWellFormed === undefined
    ? undefined
    : FunctionPrototypeCall.bind(StringPrototypeToWellFormed);

const NumberCtor = Number;
const NumberIsFinite = Number.isFinite;
const NumberIsNaN = Number.isNaN;
const NumberParseInt = Number.parseInt;
const NumberParseFloat = Number.parseFloat;
const MathFloor = Math.floor;
const MathTrunc = Math.trunc;
const MathMin = Math.min;
const MathMax = Math.max;

const JSONParse = JSON.parse;
const JSONStringify = JSON.stringify;

const SymbolCtor = Symbol;
const SymbolIterator = Symbol.iterator;
const SymbolAsyncIterator = Symbol.asyncIterator;
const SymbolToStringTag = Symbol.toStringTag;
const SymbolPrototypeToString = Symbol.prototype.toString;

const ErrorCtor = Error;
const ErrorPrototype = Error.prototype;
const TypeErrorCtor = TypeError;
const RangeErrorCtor = RangeError;
// Error.isError (a brand check for [[ErrorData]]); undefined on older engines.
const ErrorIsError = Error.isError;
// The error constructors StructuredSerialize keeps by name (HTML §2.7.3).
const ErrorConstructors = {
  __proto__: null,
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};

const PromiseCtor = Promise;
const PromisePrototype = Promise.prototype;
const PromisePrototypeThen = Promise.prototype.then;
const PromiseResolveFn = Promise.resolve;
const PromiseRejectFn = Promise.reject;

const MapCtor = Map;
const MapPrototypeGet = Map.prototype.get;
const MapPrototypeSet = Map.prototype.set;
const MapPrototypeHas = Map.prototype.has;
const MapPrototypeDelete = Map.prototype.delete;
const MapPrototypeGetSize = getterOf(Map.prototype, "size");
const MapPrototypeEntries = Map.prototype.entries;
const SetPrototypeGetSize = getterOf(Set.prototype, "size");
const SetCtor = Set;
const SetPrototypeValues = Set.prototype.values;
const SetPrototypeAdd = Set.prototype.add;
const WeakMapCtor = WeakMap;
const WeakMapPrototypeGet = WeakMap.prototype.get;
const WeakMapPrototypeSet = WeakMap.prototype.set;
const WeakMapPrototypeDelete = WeakMap.prototype.delete;
const WeakMapPrototypeHas = WeakMap.prototype.has;
const WeakSetCtor = WeakSet;
const WeakSetPrototypeHas = WeakSet.prototype.has;
const WeakSetPrototypeAdd = WeakSet.prototype.add;
const WeakRefCtor = WeakRef;
const WeakRefPrototypeDeref = WeakRef.prototype.deref;

const BooleanPrototypeValueOf = Boolean.prototype.valueOf;
const NumberPrototypeValueOf = Number.prototype.valueOf;
const StringPrototypeValueOf = String.prototype.valueOf;
const BigIntPrototypeValueOf = BigInt.prototype.valueOf;
const SymbolPrototypeValueOf = Symbol.prototype.valueOf;

const RegExpPrototypeGetSource = getterOf(RegExp.prototype, "source");
const RegExpPrototypeToString = RegExp.prototype.toString;
const RegExpCtor = RegExp;
const RegExpPrototypeExec = RegExp.prototype.exec;
const RegExpPrototypeGetFlags = getterOf(RegExp.prototype, "flags");

// ArrayBuffer, DataView and the typed arrays are added on first use: see
// typedArrays() (02_util.js).

// %IteratorPrototype% and %AsyncIteratorPrototype% (ECMA-262 §27.1.2/§27.1.3)
const IteratorPrototype = ObjectGetPrototypeOf(
  ObjectGetPrototypeOf([][SymbolIterator]()),
);
const AsyncIteratorPrototype = ObjectGetPrototypeOf(
  ObjectGetPrototypeOf(async function* () {}).prototype,
);
