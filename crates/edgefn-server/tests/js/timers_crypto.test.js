// Timers (HTML §8.6), queueMicrotask, crypto.getRandomValues/randomUUID (WebCrypto §10).
import { assert, assertEquals, assertThrows, run, test } from "./_harness.js";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test("setTimeout runs callbacks in delay order with arguments", async () => {
  const order = [];
  setTimeout((x) => order.push(x), 20, "late");
  setTimeout((x) => order.push(x), 1, "early");
  await sleep(40);
  assertEquals(order, ["early", "late"]);
});

test("clearTimeout cancels", async () => {
  let fired = false;
  const id = setTimeout(() => (fired = true), 5);
  assert(typeof id === "number" && id > 0);
  clearTimeout(id);
  await sleep(20);
  assertEquals(fired, false);
});

test("setInterval repeats until cleared", async () => {
  let count = 0;
  const id = setInterval(() => {
    count++;
    if (count === 3) clearInterval(id);
  }, 1);
  await sleep(50);
  assertEquals(count, 3);
});

test("queueMicrotask runs before timers", async () => {
  const order = [];
  setTimeout(() => order.push("timer"), 0);
  queueMicrotask(() => order.push("microtask"));
  await sleep(10);
  assertEquals(order, ["microtask", "timer"]);
  assertThrows(() => queueMicrotask("not a function"), TypeError);
});

test("getRandomValues fills integer arrays and returns them", () => {
  const a = new Uint8Array(32);
  const same = crypto.getRandomValues(a);
  assert(same === a);
  assert(a.some((b) => b !== 0), "all zero");
  crypto.getRandomValues(new Uint32Array(4));
  assertThrows(() => crypto.getRandomValues(new Float64Array(2)));
  assertThrows(() => crypto.getRandomValues(new Uint8Array(65537)));
});

test("randomUUID is a version 4 UUID", () => {
  const id = crypto.randomUUID();
  assert(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id), id);
  assert(crypto.randomUUID() !== id);
});

test("globals: self, navigator, structured globals exist", () => {
  assert(self === globalThis);
  assert(navigator.userAgent.startsWith("edgefn/"));
  for (const name of ["Request", "Response", "Headers", "ReadableStream", "URL", "URLSearchParams", "TextEncoder", "TextDecoder"]) {
    assertEquals(typeof globalThis[name], "function", name);
  }
});

export default { fetch: run };
