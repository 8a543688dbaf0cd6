// WHATWG Streams §4.5 ReadableStreamBYOBReader, §4.7 ReadableByteStreamController,
// §4.8 ReadableStreamBYOBRequest, and byte streams behind Request/Response bodies.
import { assert, assertEquals, assertRejects, assertThrows, run, test } from "./_harness.js";

const bytes = (...values) => new Uint8Array(values);

test("a byte stream's controller is a ReadableByteStreamController", () => {
  let controller;
  const stream = new ReadableStream({ type: "bytes", start(c) { controller = c; } });
  assert(controller instanceof ReadableByteStreamController);
  assertEquals([controller.desiredSize, controller.byobRequest], [0, null]);
  assert(stream.getReader({ mode: "byob" }) instanceof ReadableStreamBYOBReader);
  assertThrows(() => new ReadableByteStreamController(), TypeError);
  assertThrows(() => new ReadableStreamBYOBRequest(), TypeError);
});

test("a default reader gets the enqueued chunks as Uint8Arrays; enqueue transfers them", async () => {
  const chunk = bytes(1, 2, 3);
  const stream = new ReadableStream({
    type: "bytes",
    start(c) {
      c.enqueue(chunk);
      c.enqueue(new Uint16Array([0x0201]));
      c.close();
    },
  });
  assertEquals(chunk.byteLength, 0, "the enqueued view's buffer is detached");
  const reader = stream.getReader();
  const first = await reader.read();
  assert(first.value instanceof Uint8Array);
  assertEquals([...first.value], [1, 2, 3]);
  assertEquals([...(await reader.read()).value], [1, 2]);
  assertEquals((await reader.read()).done, true);
});

test("a BYOB reader fills the caller's view; min waits for more bytes", async () => {
  let controller;
  const stream = new ReadableStream({ type: "bytes", start(c) { controller = c; } });
  const reader = stream.getReader({ mode: "byob" });
  controller.enqueue(bytes(1, 2, 3, 4, 5));
  const view = new Uint8Array(3);
  const { value, done } = await reader.read(view);
  assertEquals([done, [...value]], [false, [1, 2, 3]]);
  assertEquals(view.byteLength, 0, "the given view is transferred");
  const pending = reader.read(new Uint8Array(6), { min: 4 });
  controller.enqueue(bytes(6, 7));
  const filled = await pending;
  assertEquals([...filled.value], [4, 5, 6, 7]);
});

test("typed array views get whole elements; a trailing partial element waits", async () => {
  let controller;
  const stream = new ReadableStream({ type: "bytes", start(c) { controller = c; } });
  const reader = stream.getReader({ mode: "byob" });
  const read = reader.read(new Uint16Array(2));
  controller.enqueue(bytes(1, 0, 2));
  const { value } = await read;
  assert(value instanceof Uint16Array);
  assertEquals([...value], [1]);
  controller.enqueue(bytes(0));
  assertEquals([...(await reader.read(new Uint16Array(1))).value], [2]);
});

test("pull() answers the byobRequest with respond()", async () => {
  const stream = new ReadableStream({
    type: "bytes",
    pull(c) {
      const request = c.byobRequest;
      assert(request instanceof ReadableStreamBYOBRequest);
      request.view[0] = 42;
      request.view[1] = 43;
      request.respond(2);
      assertEquals(c.byobRequest, null, "answered requests are invalidated");
      assertThrows(() => request.respond(1), TypeError);
    },
  });
  const { value } = await stream.getReader({ mode: "byob" }).read(new Uint8Array(8));
  assertEquals([...value], [42, 43]);
});

test("respondWithNewView must use the request's buffer at its position", async () => {
  const stream = new ReadableStream({
    type: "bytes",
    pull(c) {
      const view = c.byobRequest.view;
      assertThrows(() => c.byobRequest.respondWithNewView(new Uint8Array(2)), RangeError);
      const answer = new Uint8Array(view.buffer, view.byteOffset, 1);
      answer[0] = 9;
      c.byobRequest.respondWithNewView(answer);
    },
  });
  const { value } = await stream.getReader({ mode: "byob" }).read(new Uint8Array(4));
  assertEquals([...value], [9]);
});

test("autoAllocateChunkSize gives default readers a byobRequest", async () => {
  let sawRequest = false;
  const stream = new ReadableStream({
    type: "bytes",
    autoAllocateChunkSize: 16,
    pull(c) {
      sawRequest = c.byobRequest !== null && c.byobRequest.view.byteLength === 16;
      c.byobRequest.view[0] = 7;
      c.byobRequest.respond(1);
    },
  });
  const { value } = await stream.getReader().read();
  assertEquals([sawRequest, [...value]], [true, [7]]);
  assertThrows(() => new ReadableStream({ type: "bytes", autoAllocateChunkSize: 0 }), TypeError);
});

test("closing resolves pending BYOB reads with done and an empty view", async () => {
  let controller;
  const stream = new ReadableStream({ type: "bytes", start(c) { controller = c; } });
  const reader = stream.getReader({ mode: "byob" });
  const read = reader.read(new Uint8Array(4));
  controller.close();
  controller.byobRequest.respond(0);
  const result = await read;
  assertEquals([result.done, result.value.byteLength, result.value instanceof Uint8Array], [true, 0, true]);
  const after = await reader.read(new Uint8Array(2));
  assertEquals([after.done, after.value.byteLength], [true, 0]);
});

test("BYOB read argument errors", async () => {
  const reader = new ReadableStream({ type: "bytes" }).getReader({ mode: "byob" });
  await assertRejects(() => reader.read(new Uint8Array(0)), TypeError);
  await assertRejects(() => reader.read("nope"), TypeError);
  await assertRejects(() => reader.read(new Uint8Array(2), { min: 0 }), TypeError);
  await assertRejects(() => reader.read(new Uint8Array(2), { min: 3 }), RangeError);
  await assertRejects(() => reader.read(new Uint16Array(2), { min: 3 }), RangeError);
  const detached = new ArrayBuffer(4);
  structuredClone(detached, { transfer: [detached] });
  await assertRejects(() => reader.read(new Uint8Array(detached)), TypeError);
  reader.releaseLock();
  await assertRejects(() => reader.read(new Uint8Array(1)), TypeError);
  assertThrows(() => new ReadableStream().getReader({ mode: "byob" }), TypeError);
  assertThrows(() => new ReadableStream({ type: "bytes" }).getReader({ mode: "other" }), TypeError);
});

test("controller errors: empty chunks, non-views, closing twice, size strategy", () => {
  new ReadableStream({
    type: "bytes",
    start(c) {
      assertThrows(() => c.enqueue(new Uint8Array(0)), TypeError);
      assertThrows(() => c.enqueue("x"), TypeError);
      c.close();
      assertThrows(() => c.close(), TypeError);
      assertThrows(() => c.enqueue(bytes(1)), TypeError);
    },
  });
  assertThrows(() => new ReadableStream({ type: "bytes" }, { size: () => 1 }), RangeError);
  assertThrows(() => new ReadableStream({ type: "other" }), TypeError);
});

test("error() rejects pending reads and closed", async () => {
  let controller;
  const stream = new ReadableStream({ type: "bytes", start(c) { controller = c; } });
  const reader = stream.getReader({ mode: "byob" });
  const read = reader.read(new Uint8Array(1));
  controller.error(new RangeError("broken"));
  await assertRejects(() => read, RangeError);
  await assertRejects(() => reader.closed, RangeError);
});

test("tee() of a byte stream gives each branch its own copy", async () => {
  const stream = new ReadableStream({ type: "bytes", start(c) { c.enqueue(bytes(1, 2)); c.close(); } });
  const [a, b] = stream.tee();
  const ra = await a.getReader().read();
  const rb = await b.getReader({ mode: "byob" }).read(new Uint8Array(4));
  assertEquals([[...ra.value], [...rb.value]], [[1, 2], [1, 2]]);
  ra.value[0] = 9;
  assertEquals(rb.value[0], 1);
});

test("Request and Response bodies are byte streams", async () => {
  const response = new Response("hello world");
  const reader = response.body.getReader({ mode: "byob" });
  const { value } = await reader.read(new Uint8Array(5));
  assertEquals(new TextDecoder().decode(value), "hello");
  const rest = await reader.read(new Uint8Array(20));
  assertEquals(new TextDecoder().decode(rest.value), " world");
  assertEquals((await reader.read(new Uint8Array(1))).done, true);
  const request = new Request("https://e.com", { method: "POST", body: new Uint8Array([1, 2, 3]) });
  const clone = request.clone();
  assertEquals([...new Uint8Array(await request.arrayBuffer())], [1, 2, 3]);
  assertEquals([...new Uint8Array(await clone.arrayBuffer())], [1, 2, 3]);
});

test("cancel through a BYOB reader reaches the source and resolves pending reads", async () => {
  let reason;
  const stream = new ReadableStream({ type: "bytes", cancel(r) { reason = r; } });
  const reader = stream.getReader({ mode: "byob" });
  const read = reader.read(new Uint8Array(1));
  await reader.cancel("stop");
  assertEquals(reason, "stop");
  const result = await read;
  assertEquals([result.done, result.value], [true, undefined]);
});

export default { fetch: run };
