// HTML §2.7 structuredClone: serializable types, identity, cycles, errors and transfer.
import { assert, assertEquals, assertThrows, run, test } from "./_harness.js";

function assertDataCloneError(fn) {
  const error = assertThrows(fn, DOMException);
  assertEquals(error.name, "DataCloneError");
  assertEquals(error.code, 25);
}

test("primitives come back as they are", () => {
  for (const value of [1, -0, NaN, "s", true, null, undefined, 12n]) {
    assert(Object.is(structuredClone(value), value), String(value));
  }
});

test("primitive wrappers, Date and RegExp", () => {
  const wrapped = structuredClone([Object(1), Object("s"), Object(true), Object(5n)]);
  assertEquals(wrapped.map((w) => typeof w), ["object", "object", "object", "object"]);
  assertEquals(wrapped.map((w) => w.valueOf()).slice(0, 3), [1, "s", true]);
  assertEquals(wrapped[3].valueOf() === 5n, true);
  const date = new Date(1700000000000);
  const dateCopy = structuredClone(date);
  assert(dateCopy instanceof Date && dateCopy !== date);
  assertEquals(dateCopy.getTime(), 1700000000000);
  const re = /a+b/gi;
  re.lastIndex = 3;
  const reCopy = structuredClone(re);
  assertEquals([reCopy.source, reCopy.flags, reCopy.lastIndex], ["a+b", "gi", 0]);
});

test("plain objects and arrays: own enumerable string keys only, prototype dropped", () => {
  const sym = Symbol("k");
  const source = { a: 1, nested: { b: [1, 2, { c: "d" }] }, [sym]: 1 };
  Object.defineProperty(source, "hidden", { value: 1, enumerable: false });
  const copy = structuredClone(source);
  assertEquals(copy, { a: 1, nested: { b: [1, 2, { c: "d" }] } });
  assertEquals(Object.getOwnPropertySymbols(copy).length, 0);
  class Point { constructor() { this.x = 1; } }
  const p = structuredClone(new Point());
  assertEquals(Object.getPrototypeOf(p), Object.prototype);
  assertEquals(p, { x: 1 });
  const sparse = [1, , 3];
  sparse.extra = "x";
  const sparseCopy = structuredClone(sparse);
  assertEquals([sparseCopy.length, 1 in sparseCopy, sparseCopy.extra], [3, false, "x"]);
});

test("getters run once, in property order, and their values are copied", () => {
  const order = [];
  const source = {
    get a() { order.push("a"); return 1; },
    get b() { order.push("b"); return 2; },
  };
  const copy = structuredClone(source);
  assertEquals(order, ["a", "b"]);
  assertEquals(Object.getOwnPropertyDescriptor(copy, "a").value, 1);
});

test("cycles and shared references are preserved", () => {
  const shared = { s: 1 };
  const root = { left: shared, right: shared, list: [shared] };
  root.self = root;
  const copy = structuredClone(root);
  assert(copy !== root);
  assert(copy.self === copy, "cycle");
  assert(copy.left === copy.right && copy.left === copy.list[0], "shared");
  assert(copy.left !== shared);
});

test("Map and Set keep their entries (keys cloned too) and identity", () => {
  const key = { k: 1 };
  const map = new Map([[key, "v"], ["self", null]]);
  map.set("self", map);
  const set = new Set([1, key]);
  const [mapCopy, setCopy] = structuredClone([map, set]);
  assertEquals(mapCopy.size, 2);
  const [keyCopy, value] = [...mapCopy][0];
  assertEquals([keyCopy, value], [{ k: 1 }, "v"]);
  assert(mapCopy.get("self") === mapCopy);
  assertEquals(setCopy.size, 2);
  assert([...setCopy].includes(1));
});

test("ArrayBuffer, typed arrays and DataView share a cloned buffer", () => {
  const buffer = new ArrayBuffer(8);
  const bytes = new Uint8Array(buffer);
  bytes.set([1, 2, 3, 4, 5, 6, 7, 8]);
  const view = new DataView(buffer, 2, 4);
  const words = new Uint16Array(buffer, 4, 2);
  const copy = structuredClone({ buffer, bytes, view, words });
  assert(copy.buffer !== buffer);
  assert(copy.bytes.buffer === copy.buffer && copy.view.buffer === copy.buffer && copy.words.buffer === copy.buffer);
  assertEquals([...copy.bytes], [1, 2, 3, 4, 5, 6, 7, 8]);
  assertEquals([copy.view.byteOffset, copy.view.byteLength, copy.view.getUint8(0)], [2, 4, 3]);
  assertEquals([copy.words.constructor.name, copy.words.length, copy.words.byteOffset], ["Uint16Array", 2, 4]);
  copy.bytes[0] = 99;
  assertEquals(bytes[0], 1, "independent bytes");
  const floats = structuredClone(new Float64Array([1.5, -2]));
  assertEquals([...floats], [1.5, -2]);
  const big = structuredClone(new BigInt64Array([5n]));
  assertEquals(big[0] === 5n, true);
});

test("resizable ArrayBuffers stay resizable", () => {
  const buffer = new ArrayBuffer(2, { maxByteLength: 16 });
  const copy = structuredClone(buffer);
  assertEquals([copy.resizable, copy.maxByteLength, copy.byteLength], [true, 16, 2]);
});

test("errors keep their type, message, cause and stack", () => {
  const cause = new Error("root");
  const error = new RangeError("out of range", { cause });
  const copy = structuredClone(error);
  assert(copy instanceof RangeError && copy !== error);
  assertEquals([copy.name, copy.message], ["RangeError", "out of range"]);
  assert(copy.cause instanceof Error && copy.cause.message === "root");
  assertEquals(typeof copy.stack, typeof error.stack);
  class CustomError extends Error {}
  const custom = structuredClone(new CustomError("x"));
  assertEquals([Object.getPrototypeOf(custom) === Error.prototype, custom.message], [true, "x"]);
  const weird = new Error("w");
  weird.name = "NotAStandardName";
  assertEquals(structuredClone(weird).name, "Error");
  for (const Ctor of [EvalError, ReferenceError, SyntaxError, TypeError, URIError]) {
    assert(structuredClone(new Ctor("m")) instanceof Ctor, Ctor.name);
  }
});

test("DOMException, Blob and File are serializable platform objects", async () => {
  const exception = structuredClone(new DOMException("msg", "NotFoundError"));
  assert(exception instanceof DOMException);
  assertEquals([exception.name, exception.message, exception.code], ["NotFoundError", "msg", 8]);
  const blob = structuredClone(new Blob(["blob text"], { type: "text/plain" }));
  assert(blob instanceof Blob);
  assertEquals([blob.type, await blob.text()], ["text/plain", "blob text"]);
  const file = structuredClone(new File(["f"], "name.txt", { lastModified: 42 }));
  assert(file instanceof File);
  assertEquals([file.name, file.lastModified, await file.text()], ["name.txt", 42, "f"]);
});

test("functions, symbols and non-serializable objects are DataCloneErrors", () => {
  assertDataCloneError(() => structuredClone(() => {}));
  assertDataCloneError(() => structuredClone({ f() {} }));
  assertDataCloneError(() => structuredClone(Symbol("s")));
  assertDataCloneError(() => structuredClone({ s: Symbol("s") }));
  assertDataCloneError(() => structuredClone(Promise.resolve()));
  assertDataCloneError(() => structuredClone(new WeakMap()));
  assertDataCloneError(() => structuredClone(new WeakSet()));
  assertDataCloneError(() => structuredClone(Object(Symbol("s"))));
  assertDataCloneError(() => structuredClone(new Headers()));
  assertDataCloneError(() => structuredClone(new Request("https://e.com")));
  assertDataCloneError(() => structuredClone(new ReadableStream()));
  assertDataCloneError(() => structuredClone(new EventTarget()));
  assertDataCloneError(() => structuredClone(new AbortController().signal));
  assertDataCloneError(() => structuredClone([1].values()));
  assertThrows(() => structuredClone(), TypeError);
});

test("transfer detaches the original ArrayBuffer", () => {
  const buffer = new Uint8Array([1, 2, 3]).buffer;
  const view = new Uint8Array(buffer);
  const copy = structuredClone({ view }, { transfer: [buffer] });
  assertEquals(buffer.byteLength, 0);
  assertEquals([...copy.view], [1, 2, 3]);
  assertEquals(copy.view.buffer.byteLength, 3);
  const alone = new ArrayBuffer(4);
  const moved = structuredClone(alone, { transfer: [alone] });
  assertEquals([alone.byteLength, moved.byteLength], [0, 4]);
});

test("transfer errors: duplicates, detached buffers, non-transferables, non-iterables", () => {
  const buffer = new ArrayBuffer(1);
  assertDataCloneError(() => structuredClone(buffer, { transfer: [buffer, buffer] }));
  assertEquals(buffer.byteLength, 1, "not detached after a failure");
  assertDataCloneError(() => structuredClone({ f() {} }, { transfer: [buffer] }));
  assertEquals(buffer.byteLength, 1, "not detached when serialization fails");
  assertDataCloneError(() => structuredClone(1, { transfer: [{}] }));
  assertThrows(() => structuredClone(1, { transfer: 5 }), TypeError);
  assertThrows(() => structuredClone(1, { transfer: [1] }), TypeError);
  const detached = new ArrayBuffer(1);
  structuredClone(detached, { transfer: [detached] });
  assertDataCloneError(() => structuredClone(detached, { transfer: [detached] }));
  assertDataCloneError(() => structuredClone(detached));
});

export default { fetch: run };
