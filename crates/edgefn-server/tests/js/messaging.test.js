// HTML §9.4 MessageChannel / MessagePort and §9.2 MessageEvent, within one isolate.
import { assert, assertEquals, assertThrows, run, test } from "./_harness.js";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Waits (polling) until `condition()` holds, failing after `ms`.
async function waitFor(condition, ms = 2000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for messages");
    await sleep(1);
  }
}
const nextMessage = (port) => new Promise((resolve) => port.addEventListener("message", resolve, { once: true }));

test("messages are structured clones, delivered asynchronously in order", async () => {
  const { port1, port2 } = new MessageChannel();
  const received = [];
  port2.onmessage = (event) => received.push(event.data);
  const payload = { n: 1, nested: { list: [1, 2] }, when: new Date(5) };
  port1.postMessage(payload);
  port1.postMessage("second");
  assertEquals(received, [], "not synchronous");
  await waitFor(() => received.length === 2);
  assert(received[0] !== payload, "a clone");
  assertEquals(received[0].nested, { list: [1, 2] });
  assertEquals(received[0].when.getTime(), 5);
  assertEquals(received[1], "second");
});

test("both directions work; the event is a trusted MessageEvent at the port", async () => {
  const { port1, port2 } = new MessageChannel();
  port1.start();
  port2.start();
  const got = nextMessage(port1);
  port2.postMessage("pong");
  const event = await got;
  assert(event instanceof MessageEvent);
  assertEquals([event.type, event.data, event.isTrusted, event.target === port1, event.origin, event.lastEventId], ["message", "pong", true, true, "", ""]);
  assertEquals(event.ports, []);
  assert(Object.isFrozen(event.ports));
});

test("messages wait until the port is started (addEventListener does not start it)", async () => {
  const { port1, port2 } = new MessageChannel();
  const received = [];
  port2.addEventListener("message", (e) => received.push(e.data));
  port1.postMessage(1);
  await sleep(5);
  assertEquals(received, []);
  port2.start();
  await waitFor(() => received.length === 1);
  assertEquals(received, [1]);
});

test("microtasks run between two messages (each is its own task)", async () => {
  const { port1, port2 } = new MessageChannel();
  const order = [];
  port2.onmessage = (e) => {
    order.push(e.data);
    queueMicrotask(() => order.push(`micro ${e.data}`));
  };
  port1.postMessage("a");
  port1.postMessage("b");
  await waitFor(() => order.length === 4);
  assertEquals(order, ["a", "micro a", "b", "micro b"]);
});

test("close() stops delivery both ways; posting to a closed peer is a no-op", async () => {
  const { port1, port2 } = new MessageChannel();
  const received = [];
  port2.onmessage = (e) => received.push(e.data);
  port2.close();
  port1.postMessage("dropped");
  port2.postMessage("also dropped");
  await sleep(5);
  assertEquals(received, []);
});

test("postMessage throws DataCloneError synchronously for uncloneable data", () => {
  const { port1 } = new MessageChannel();
  const error = assertThrows(() => port1.postMessage(() => {}), DOMException);
  assertEquals(error.name, "DataCloneError");
  assertThrows(() => port1.postMessage(), TypeError);
});

test("ArrayBuffers can be transferred, by list or by options", async () => {
  const { port1, port2 } = new MessageChannel();
  port2.start();
  const a = new Uint8Array([1, 2]).buffer;
  const first = nextMessage(port2);
  port1.postMessage(a, [a]);
  assertEquals(a.byteLength, 0);
  assertEquals([...new Uint8Array((await first).data)], [1, 2]);
  const b = new ArrayBuffer(3);
  const second = nextMessage(port2);
  port1.postMessage({ b }, { transfer: [b] });
  assertEquals(b.byteLength, 0);
  assertEquals((await second).data.b.byteLength, 3);
});

test("a MessagePort can be transferred; the event lists it in ports", async () => {
  const outer = new MessageChannel();
  const inner = new MessageChannel();
  outer.port2.start();
  const got = nextMessage(outer.port2);
  outer.port1.postMessage({ port: inner.port2 }, [inner.port2]);
  const event = await got;
  const moved = event.data.port;
  assert(moved instanceof MessagePort && moved !== inner.port2);
  assert(event.ports.length === 1 && event.ports[0] === moved);
  const reply = nextMessage(moved);
  moved.start();
  inner.port1.postMessage("through the moved port");
  assertEquals((await reply).data, "through the moved port");
  const error = assertThrows(() => outer.port1.postMessage(null, [outer.port1]), DOMException);
  assertEquals(error.name, "DataCloneError");
});

test("MessageEvent constructor and MessagePort/MessageChannel errors", () => {
  const { port1 } = new MessageChannel();
  const event = new MessageEvent("message", { data: { x: 1 }, origin: "o", lastEventId: "7", source: port1, ports: [port1] });
  assertEquals([event.data, event.origin, event.lastEventId], [{ x: 1 }, "o", "7"]);
  assert(event.source === port1 && event.ports[0] === port1);
  assertEquals(new MessageEvent("m").data, null);
  assertThrows(() => new MessageEvent("m", { ports: [{}] }), TypeError);
  assertThrows(() => new MessageEvent("m", { source: {} }), TypeError);
  assertThrows(() => new MessagePort(), TypeError);
  assert(port1 instanceof EventTarget);
});

export default { fetch: run };
