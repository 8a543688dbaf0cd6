// DOM §2 Event, CustomEvent, EventTarget, and the global object as an event target.
import { assert, assertEquals, assertThrows, run, test } from "./_harness.js";

test("listeners run in order with the target as this", () => {
  const target = new EventTarget();
  const seen = [];
  target.addEventListener("ping", function (e) { seen.push(["fn", this === target, e.type]); });
  target.addEventListener("ping", { handleEvent(e) { seen.push(["obj", e.target === target]); } });
  assertEquals(target.dispatchEvent(new Event("ping")), true);
  assertEquals(seen, [["fn", true, "ping"], ["obj", true]]);
});

test("once, duplicate registration and removal", () => {
  const target = new EventTarget();
  let count = 0;
  const listener = () => count++;
  target.addEventListener("x", listener);
  target.addEventListener("x", listener);
  target.addEventListener("y", () => count += 10, { once: true });
  target.dispatchEvent(new Event("x"));
  target.dispatchEvent(new Event("y"));
  target.dispatchEvent(new Event("y"));
  target.removeEventListener("x", listener);
  target.dispatchEvent(new Event("x"));
  assertEquals(count, 11);
});

test("preventDefault only for cancelable events and not in passive listeners", () => {
  const target = new EventTarget();
  target.addEventListener("c", (e) => e.preventDefault());
  assertEquals(target.dispatchEvent(new Event("c", { cancelable: true })), false);
  assertEquals(target.dispatchEvent(new Event("c")), true);
  const passive = new EventTarget();
  passive.addEventListener("c", (e) => e.preventDefault(), { passive: true });
  assertEquals(passive.dispatchEvent(new Event("c", { cancelable: true })), true);
});

test("stopImmediatePropagation skips later listeners", () => {
  const target = new EventTarget();
  const seen = [];
  target.addEventListener("s", (e) => { seen.push(1); e.stopImmediatePropagation(); });
  target.addEventListener("s", () => seen.push(2));
  target.dispatchEvent(new Event("s"));
  assertEquals(seen, [1]);
});

test("CustomEvent carries detail; Event needs a type", () => {
  assertEquals(new CustomEvent("d", { detail: { a: 1 } }).detail, { a: 1 });
  assertEquals(new CustomEvent("d").detail, null);
  assert(new CustomEvent("d") instanceof Event);
  assertThrows(() => new Event(), TypeError);
});

test("a throwing listener is reported and does not stop the others", () => {
  const target = new EventTarget();
  let after = false;
  target.addEventListener("t", () => { throw new Error("listener failed"); });
  target.addEventListener("t", () => { after = true; });
  target.dispatchEvent(new Event("t"));
  assert(after);
});

test("globalThis is an event target", () => {
  let fired = 0;
  const listener = (e) => { fired++; assertEquals(e.currentTarget, globalThis); };
  addEventListener("custom-global", listener);
  dispatchEvent(new Event("custom-global"));
  globalThis.removeEventListener("custom-global", listener);
  dispatchEvent(new Event("custom-global"));
  assertEquals(fired, 1);
});

export default { fetch: run };
