// WHATWG Streams §6 TransformStream / TransformStreamDefaultController, and §4.9.1
// ReadableStreamPipeTo behind pipeTo() and pipeThrough() (all options).
import { assert, assertEquals, assertRejects, assertThrows, run, test } from "./_harness.js";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function collect(stream) {
  const out = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

function fromArray(items, extra = {}) {
  return new ReadableStream({
    start(c) {
      for (const item of items) c.enqueue(item);
      c.close();
    },
    ...extra,
  });
}

function collectingSink(log = []) {
  return new WritableStream({
    write(chunk) { log.push(chunk); },
    close() { log.push("<close>"); },
    abort(reason) { log.push(["<abort>", reason]); },
  });
}

async function assertRejectsWith(promise, expected) {
  let outcome;
  await promise.then(() => (outcome = "fulfilled"), (reason) => (outcome = reason));
  assertEquals(outcome, expected);
}

test("an identity TransformStream passes chunks through", async () => {
  const { readable, writable } = new TransformStream();
  const writer = writable.getWriter();
  writer.write("a");
  writer.write("b");
  writer.close();
  assertEquals(await collect(readable), ["a", "b"]);
});

test("transform, flush and the controller", async () => {
  let controller;
  const upper = new TransformStream({
    start(c) { controller = c; },
    transform(chunk, c) {
      c.enqueue(chunk.toUpperCase());
      c.enqueue("|");
    },
    flush(c) { c.enqueue("END"); },
  });
  assert(controller instanceof TransformStreamDefaultController);
  assertEquals(controller.desiredSize, 0);
  const result = collect(fromArray(["x", "y"]).pipeThrough(upper));
  assertEquals(await result, ["X", "|", "Y", "|", "END"]);
});

test("terminate() closes the readable side and errors the writable side", async () => {
  const ts = new TransformStream({ transform(chunk, c) { c.enqueue(chunk); c.terminate(); } });
  const writer = ts.writable.getWriter();
  writer.write("only").catch(() => {});
  assertEquals(await collect(ts.readable), ["only"]);
  await assertRejects(() => writer.closed, TypeError);
});

test("a throwing transform errors both sides", async () => {
  const ts = new TransformStream({ transform() { throw new RangeError("bad chunk"); } });
  const writer = ts.writable.getWriter();
  // The write waits for a read (the readable side's high water mark is 0).
  const writing = writer.write("x");
  const reading = ts.readable.getReader().read();
  await assertRejects(() => writing, RangeError);
  await assertRejects(() => reading, RangeError);
  await assertRejects(() => writer.closed, RangeError);
});

test("cancelling the readable side calls transformer.cancel and errors the writable side", async () => {
  let cancelled;
  const ts = new TransformStream({ cancel(reason) { cancelled = reason; } });
  await ts.readable.cancel("no more");
  assertEquals(cancelled, "no more");
  await assertRejectsWith(ts.writable.getWriter().closed, "no more");
});

test("TransformStream constructor errors", () => {
  assertThrows(() => new TransformStream({ readableType: "bytes" }), RangeError);
  assertThrows(() => new TransformStream({ writableType: "bytes" }), RangeError);
  assertThrows(() => new TransformStream({ transform: 1 }), TypeError);
  assertThrows(() => new TransformStream({}, { highWaterMark: NaN }), RangeError);
  assertThrows(() => new TransformStream({ start() { throw new SyntaxError("s"); } }), SyntaxError);
  assertThrows(() => new TransformStreamDefaultController(), TypeError);
});

test("pipeTo moves every chunk and closes the destination", async () => {
  const log = [];
  const source = fromArray([1, 2, 3]);
  const dest = collectingSink(log);
  const done = source.pipeTo(dest);
  assert(source.locked && dest.locked, "both locked while piping");
  await done;
  assertEquals(log, [1, 2, 3, "<close>"]);
  assertEquals([source.locked, dest.locked], [false, false]);
});

test("pipeTo with preventClose leaves the destination open", async () => {
  const log = [];
  const dest = collectingSink(log);
  await fromArray([1]).pipeTo(dest, { preventClose: true });
  await fromArray([2]).pipeTo(dest);
  assertEquals(log, [1, 2, "<close>"]);
});

test("a source error aborts the destination unless preventAbort", async () => {
  const failing = () => new ReadableStream({ start(c) { c.enqueue(1); c.error("source broke"); } });
  const log = [];
  await assertRejectsWith(failing().pipeTo(collectingSink(log)), "source broke");
  assertEquals(log.at(-1), ["<abort>", "source broke"]);
  const kept = [];
  const dest = collectingSink(kept);
  await assertRejectsWith(failing().pipeTo(dest, { preventAbort: true }), "source broke");
  assertEquals(kept.some((e) => Array.isArray(e)), false);
  assertEquals(dest.locked, false);
});

test("a destination error cancels the source unless preventCancel", async () => {
  let cancelled;
  const source = new ReadableStream({ pull(c) { c.enqueue("x"); }, cancel(r) { cancelled = r; } });
  const dest = new WritableStream({ write() { throw "sink broke"; } });
  await assertRejectsWith(source.pipeTo(dest), "sink broke");
  assertEquals(cancelled, "sink broke");
  let cancelled2 = false;
  const source2 = new ReadableStream({ pull(c) { c.enqueue("x"); }, cancel() { cancelled2 = true; } });
  const dest2 = new WritableStream({ write() { throw "again"; } });
  await assertRejectsWith(source2.pipeTo(dest2, { preventCancel: true }), "again");
  assertEquals([cancelled2, source2.locked], [false, false]);
});

test("a closed destination cancels the source with a TypeError", async () => {
  let reason;
  const source = new ReadableStream({ cancel(r) { reason = r; } });
  const dest = new WritableStream();
  await dest.close();
  await assertRejects(() => source.pipeTo(dest), TypeError);
  assert(reason instanceof TypeError);
});

test("the signal option aborts the pipe with the signal's reason", async () => {
  const controller = new AbortController();
  let cancelled;
  const source = new ReadableStream({ pull(c) { return sleep(1).then(() => c.enqueue("tick")); }, cancel(r) { cancelled = r; } });
  const log = [];
  const done = source.pipeTo(collectingSink(log), { signal: controller.signal });
  await sleep(5);
  controller.abort("user stop");
  await assertRejectsWith(done, "user stop");
  assertEquals(cancelled, "user stop");
  assertEquals(log.at(-1), ["<abort>", "user stop"]);
  const already = AbortSignal.abort("before");
  await assertRejectsWith(fromArray([1]).pipeTo(new WritableStream(), { signal: already }), "before");
});

test("pipeTo argument errors reject; pipeThrough's throw", async () => {
  const stream = fromArray([]);
  await assertRejects(() => stream.pipeTo({}), TypeError);
  await assertRejects(() => stream.pipeTo(new WritableStream(), { signal: {} }), TypeError);
  const locked = fromArray([]);
  locked.getReader();
  await assertRejects(() => locked.pipeTo(new WritableStream()), TypeError);
  const lockedDest = new WritableStream();
  lockedDest.getWriter();
  await assertRejects(() => fromArray([]).pipeTo(lockedDest), TypeError);
  assertThrows(() => fromArray([]).pipeThrough({ readable: fromArray([]) }), TypeError);
  assertThrows(() => fromArray([]).pipeThrough({ writable: new WritableStream() }), TypeError);
  assertThrows(() => locked.pipeThrough(new TransformStream()), TypeError);
});

test("pipeThrough respects backpressure: the source is not drained ahead", async () => {
  let pulls = 0;
  const source = new ReadableStream({ pull(c) { pulls++; c.enqueue(pulls); } }, { highWaterMark: 0 });
  const readable = source.pipeThrough(new TransformStream());
  await sleep(10);
  assert(pulls < 5, `pulled ${pulls} chunks with nobody reading`);
  const reader = readable.getReader();
  assertEquals((await reader.read()).value, 1);
  await reader.cancel();
});

export default { fetch: run };
