// DOM §3 AbortController and AbortSignal, the `signal` listener option, Request.signal.
import { assert, assertEquals, assertRejects, assertThrows, run, test } from "./_harness.js";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test("abort() sets aborted and reason, fires abort once, then onabort order", () => {
  const controller = new AbortController();
  const { signal } = controller;
  assert(signal instanceof AbortSignal && signal instanceof EventTarget);
  assertEquals([signal.aborted, signal.reason], [false, undefined]);
  const seen = [];
  signal.addEventListener("abort", (e) => seen.push(["listener", e.type, e.isTrusted, e.target === signal]));
  signal.onabort = () => seen.push(["onabort"]);
  controller.abort("why");
  controller.abort("again");
  assertEquals(signal.aborted, true);
  assertEquals(signal.reason, "why");
  assertEquals(seen, [["listener", "abort", true, true], ["onabort"]]);
  assert(controller.signal === signal, "[SameObject] signal");
});

test("the default reason is an AbortError DOMException", () => {
  const controller = new AbortController();
  controller.abort();
  const reason = controller.signal.reason;
  assert(reason instanceof DOMException);
  assertEquals([reason.name, reason.code], ["AbortError", 20]);
  assertEquals(AbortSignal.abort().reason.name, "AbortError");
  assertEquals(AbortSignal.abort(undefined).reason.name, "AbortError");
  assertEquals(AbortSignal.abort(null).reason, null);
});

test("throwIfAborted throws the reason", () => {
  const signal = AbortSignal.abort(new RangeError("stop"));
  assertThrows(() => signal.throwIfAborted(), RangeError, "stop");
  new AbortController().signal.throwIfAborted();
});

test("AbortSignal cannot be constructed and brand-checks", () => {
  assertThrows(() => new AbortSignal(), TypeError);
  const get = Object.getOwnPropertyDescriptor(AbortSignal.prototype, "aborted").get;
  assertThrows(() => get.call({}), TypeError);
  assertThrows(() => AbortSignal.prototype.throwIfAborted.call({}), TypeError);
});

test("AbortSignal.timeout aborts with a TimeoutError", async () => {
  const signal = AbortSignal.timeout(5);
  assertEquals(signal.aborted, false);
  let fired = 0;
  signal.onabort = () => fired++;
  await sleep(30);
  assertEquals(signal.aborted, true);
  assertEquals(signal.reason.name, "TimeoutError");
  assertEquals(fired, 1);
});

test("AbortSignal.timeout validates its argument ([EnforceRange] unsigned long long)", () => {
  assertThrows(() => AbortSignal.timeout(-1), TypeError);
  assertThrows(() => AbortSignal.timeout(NaN), TypeError);
  assertThrows(() => AbortSignal.timeout(Infinity), TypeError);
  assertThrows(() => AbortSignal.timeout(), TypeError);
});

test("AbortSignal.timeout is not cancelled by clearTimeout of guessed ids", async () => {
  const signal = AbortSignal.timeout(5);
  for (let id = 0; id < 10000; id++) clearTimeout(id);
  await sleep(30);
  assertEquals(signal.aborted, true);
});

test("AbortSignal.any follows its sources", () => {
  const a = new AbortController();
  const b = new AbortController();
  const any = AbortSignal.any([a.signal, b.signal]);
  const nested = AbortSignal.any([any]);
  const order = [];
  any.onabort = () => order.push("any");
  nested.onabort = () => order.push("nested");
  a.signal.onabort = () => order.push("a");
  assertEquals(any.aborted, false);
  b.abort("b first");
  assertEquals([any.aborted, any.reason, nested.reason], [true, "b first", "b first"]);
  assertEquals(order, ["any", "nested"]);
  a.abort("later");
  assertEquals(any.reason, "b first");
});

test("AbortSignal.any of an aborted signal is aborted at once; bad entries throw", () => {
  const aborted = AbortSignal.abort("done");
  const signal = AbortSignal.any([new AbortController().signal, aborted]);
  assertEquals([signal.aborted, signal.reason], [true, "done"]);
  assertEquals(AbortSignal.any([]).aborted, false);
  assertThrows(() => AbortSignal.any([{}]), TypeError);
  assertThrows(() => AbortSignal.any(5), TypeError);
});

test("the signal listener option removes the listener on abort", () => {
  const target = new EventTarget();
  const controller = new AbortController();
  let count = 0;
  target.addEventListener("x", () => count++, { signal: controller.signal });
  target.dispatchEvent(new Event("x"));
  controller.abort();
  target.dispatchEvent(new Event("x"));
  assertEquals(count, 1);
  target.addEventListener("x", () => count++, { signal: controller.signal });
  target.dispatchEvent(new Event("x"));
  assertEquals(count, 1, "an aborted signal adds nothing");
  assertThrows(() => target.addEventListener("x", () => {}, { signal: {} }), TypeError);
  assertThrows(() => target.addEventListener("x", () => {}, { signal: null }), TypeError);
});

test("Request.signal is an AbortSignal that follows init.signal, and clones follow it", () => {
  const controller = new AbortController();
  const request = new Request("https://example.com/", { signal: controller.signal });
  assert(request.signal instanceof AbortSignal);
  assert(request.signal !== controller.signal, "a new, dependent signal");
  const clone = request.clone();
  const copy = new Request(request);
  assertEquals([request.signal.aborted, clone.signal.aborted, copy.signal.aborted], [false, false, false]);
  controller.abort("client gone");
  assertEquals([request.signal.reason, clone.signal.reason, copy.signal.reason], ["client gone", "client gone", "client gone"]);
  assertEquals(new Request("https://example.com/").signal.aborted, false);
  assertEquals(new Request("https://example.com/", { signal: null }).signal.aborted, false);
  assertThrows(() => new Request("https://example.com/", { signal: {} }), TypeError);
});

test("the incoming request has a signal", (request) => {
  assert(request.signal instanceof AbortSignal);
  assertEquals(request.signal.aborted, false);
});

test("a listener added to an aborted controller's signal never fires", async () => {
  const controller = new AbortController();
  controller.abort();
  let fired = false;
  controller.signal.addEventListener("abort", () => (fired = true));
  await sleep(1);
  assertEquals(fired, false);
  await assertRejects(() => Promise.reject(controller.signal.reason), DOMException);
});

export default { fetch: run };
