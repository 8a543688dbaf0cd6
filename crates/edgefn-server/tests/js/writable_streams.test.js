// WHATWG Streams §5 WritableStream, WritableStreamDefaultWriter,
// WritableStreamDefaultController, and §7 queuing strategies.
import { assert, assertEquals, assertRejects, assertThrows, run, test } from "./_harness.js";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function assertRejectsWith(promise, expected) {
  let outcome;
  await promise.then(() => (outcome = "fulfilled"), (reason) => (outcome = reason));
  assertEquals(outcome, expected);
}

function recordingSink(extra = {}) {
  const log = [];
  const sink = {
    start(c) { log.push("start"); sink.controller = c; },
    write(chunk) { log.push(["write", chunk]); },
    close() { log.push("close"); },
    abort(reason) { log.push(["abort", reason]); },
    ...extra,
  };
  return { log, sink };
}

test("writes reach the sink in order, then close", async () => {
  const { log, sink } = recordingSink();
  const stream = new WritableStream(sink);
  const writer = stream.getWriter();
  assert(stream.locked);
  await writer.write("a");
  await writer.write("b");
  await writer.close();
  await writer.closed;
  assertEquals(log, ["start", ["write", "a"], ["write", "b"], "close"]);
});

test("writes wait for the previous one (one in flight at a time)", async () => {
  const log = [];
  let release;
  const stream = new WritableStream({
    write(chunk) {
      log.push(`begin ${chunk}`);
      return new Promise((resolve) => (release = () => { log.push(`end ${chunk}`); resolve(); }));
    },
  });
  const writer = stream.getWriter();
  const w1 = writer.write(1);
  const w2 = writer.write(2);
  await sleep(1);
  assertEquals(log, ["begin 1"]);
  release();
  await w1;
  await sleep(1);
  release();
  await w2;
  assertEquals(log, ["begin 1", "end 1", "begin 2", "end 2"]);
});

test("desiredSize and ready follow the high water mark (backpressure)", async () => {
  let release;
  const stream = new WritableStream(
    { write() { return new Promise((resolve) => (release = resolve)); } },
    new CountQueuingStrategy({ highWaterMark: 2 }),
  );
  const writer = stream.getWriter();
  assertEquals(writer.desiredSize, 2);
  writer.write("a");
  writer.write("b");
  assertEquals(writer.desiredSize, 0);
  let ready = false;
  writer.ready.then(() => (ready = true));
  await sleep(1);
  assertEquals(ready, false);
  release();
  await sleep(1);
  assertEquals(ready, true);
  assertEquals(writer.desiredSize, 1);
});

test("a size() strategy counts chunks by their size", () => {
  const stream = new WritableStream({}, { highWaterMark: 10, size: (chunk) => chunk.length });
  const writer = stream.getWriter();
  writer.write("abcd");
  assertEquals(writer.desiredSize, 6);
});

test("a rejecting write errors the stream; later writes reject with the same error", async () => {
  const error = new RangeError("sink failed");
  const stream = new WritableStream({ write() { throw error; } });
  const writer = stream.getWriter();
  await assertRejects(() => writer.write("x"), RangeError);
  await assertRejects(() => writer.write("y"), RangeError);
  await assertRejects(() => writer.closed, RangeError);
  assertEquals(writer.desiredSize, null);
});

test("controller.error() errors the stream", async () => {
  const { sink } = recordingSink();
  const stream = new WritableStream(sink);
  const writer = stream.getWriter();
  sink.controller.error(new TypeError("stop"));
  await assertRejects(() => writer.write("x"), TypeError);
  await assertRejects(() => writer.ready, TypeError);
});

test("abort() rejects queued writes, calls the sink's abort and signals the controller", async () => {
  let release;
  const { log, sink } = recordingSink({
    write(chunk) {
      log.push(["write", chunk]);
      return new Promise((resolve) => (release = resolve));
    },
  });
  const stream = new WritableStream(sink);
  const writer = stream.getWriter();
  await sleep(1);
  const signal = sink.controller.signal;
  assert(signal instanceof AbortSignal);
  const w1 = writer.write(1);
  const w2 = writer.write(2);
  const aborted = writer.abort("reason");
  assertEquals([signal.aborted, signal.reason], [true, "reason"]);
  release();
  await w1;
  await assertRejectsWith(w2, "reason");
  await aborted;
  assertEquals(log, ["start", ["write", 1], ["abort", "reason"]]);
  await assertRejectsWith(writer.closed, "reason");
});

test("close() on the stream and on a locked stream", async () => {
  const stream = new WritableStream();
  await stream.close();
  const locked = new WritableStream();
  const writer = locked.getWriter();
  await assertRejects(() => locked.close(), TypeError);
  await assertRejects(() => locked.abort(), TypeError);
  await writer.close();
  await assertRejects(() => writer.close(), TypeError);
  await assertRejects(() => writer.write("late"), TypeError);
});

test("releaseLock() rejects the writer's promises and unlocks", async () => {
  const stream = new WritableStream();
  const writer = stream.getWriter();
  writer.releaseLock();
  assertEquals(stream.locked, false);
  await assertRejects(() => writer.closed, TypeError);
  await assertRejects(() => writer.write("x"), TypeError);
  assertThrows(() => writer.desiredSize, TypeError);
  const second = stream.getWriter();
  assertThrows(() => stream.getWriter(), TypeError);
  assertThrows(() => new WritableStreamDefaultWriter(stream), TypeError);
  second.releaseLock();
});

test("constructor errors and brand checks", () => {
  assertThrows(() => new WritableStream({ type: "bytes" }), RangeError);
  assertThrows(() => new WritableStream({ write: "nope" }), TypeError);
  assertThrows(() => new WritableStream({}, { highWaterMark: -1 }), RangeError);
  assertThrows(() => new WritableStream({}, { size: 5 }), TypeError);
  assertThrows(() => new WritableStreamDefaultController(), TypeError);
  assertThrows(() => new WritableStreamDefaultWriter({}), TypeError);
  assertThrows(() => Object.getOwnPropertyDescriptor(WritableStream.prototype, "locked").get.call({}), TypeError);
});

test("a start() that rejects errors the stream", async () => {
  const stream = new WritableStream({ start() { return Promise.reject(new SyntaxError("no start")); } });
  await assertRejects(() => stream.getWriter().closed, SyntaxError);
});

test("ByteLengthQueuingStrategy and CountQueuingStrategy", () => {
  const bytes = new ByteLengthQueuingStrategy({ highWaterMark: 16 });
  assertEquals(bytes.highWaterMark, 16);
  assertEquals(bytes.size(new Uint8Array(5)), 5);
  assert(bytes.size === new ByteLengthQueuingStrategy({ highWaterMark: 1 }).size, "one size function");
  assertEquals(bytes.size.name, "size");
  const count = new CountQueuingStrategy({ highWaterMark: 3 });
  assertEquals([count.highWaterMark, count.size("anything")], [3, 1]);
  assertThrows(() => new CountQueuingStrategy({}), TypeError);
  assertThrows(() => new ByteLengthQueuingStrategy(), TypeError);
  assertThrows(() => Object.getOwnPropertyDescriptor(CountQueuingStrategy.prototype, "size").get.call({}), TypeError);
  const stream = new ReadableStream({}, new ByteLengthQueuingStrategy({ highWaterMark: 10 }));
  assert(stream instanceof ReadableStream);
});

export default { fetch: run };
