// WHATWG Streams §4 ReadableStream (default controller and reader).
import { assert, assertEquals, assertRejects, assertThrows, run, test } from "./_harness.js";

async function collect(stream) {
  const out = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

test("start enqueues, pull is called on demand, close ends", async () => {
  let pulls = 0;
  const stream = new ReadableStream({
    start(c) { c.enqueue(1); },
    pull(c) {
      pulls++;
      if (pulls < 3) c.enqueue(pulls + 1);
      else c.close();
    },
  });
  assertEquals(await collect(stream), [1, 2, 3]);
});

test("a reader locks the stream; releaseLock unlocks", async () => {
  const stream = new ReadableStream({ start(c) { c.enqueue("a"); c.close(); } });
  const reader = stream.getReader();
  assertEquals(stream.locked, true);
  assertThrows(() => stream.getReader(), TypeError);
  assertEquals(await reader.read(), { value: "a", done: false });
  reader.releaseLock();
  assertEquals(stream.locked, false);
});

test("errors propagate to read and closed", async () => {
  const stream = new ReadableStream({ start(c) { c.error(new RangeError("bad")); } });
  const reader = stream.getReader();
  await assertRejects(() => reader.read(), RangeError);
  await assertRejects(() => reader.closed, RangeError);
});

test("cancel reaches the source with the reason", async () => {
  let reason;
  const stream = new ReadableStream({ cancel(r) { reason = r; } });
  await stream.cancel("enough");
  assertEquals(reason, "enough");
});

test("tee yields the same chunks twice", async () => {
  const [a, b] = new ReadableStream({ start(c) { c.enqueue(1); c.enqueue(2); c.close(); } }).tee();
  assertEquals(await collect(a), [1, 2]);
  assertEquals(await collect(b), [1, 2]);
});

test("ReadableStream.from an async generator and an array", async () => {
  async function* gen() { yield "x"; yield "y"; }
  assertEquals(await collect(ReadableStream.from(gen())), ["x", "y"]);
  assertEquals(await collect(ReadableStream.from([1, 2, 3])), [1, 2, 3]);
});

test("desiredSize follows the high water mark", () => {
  let controller;
  new ReadableStream({ start(c) { controller = c; } }, { highWaterMark: 2 });
  assertEquals(controller.desiredSize, 2);
  controller.enqueue("a");
  assertEquals(controller.desiredSize, 1);
});

test("request body streams arrive as Uint8Array chunks", async () => {
  const req = new Request("https://e.com", { method: "POST", body: "streamed body" });
  const chunks = await collect(req.body);
  assert(chunks.every((c) => c instanceof Uint8Array));
  assertEquals(new TextDecoder().decode(chunks[0]), "streamed body");
});

export default { fetch: run };
