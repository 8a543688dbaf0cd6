// DOM §2 (EventTarget subclassing, capture order, brand checks), HTML ErrorEvent,
// PromiseRejectionEvent, event handler attributes, and the global error events.
import { assert, assertEquals, assertThrows, run, test } from "./_harness.js";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

test("EventTarget can be subclassed", () => {
  class Clock extends EventTarget {
    tick() {
      return this.dispatchEvent(new CustomEvent("tick", { detail: 1, cancelable: true }));
    }
  }
  const clock = new Clock();
  let detail;
  clock.addEventListener("tick", (e) => {
    detail = e.detail;
    e.preventDefault();
  });
  assertEquals(clock.tick(), false);
  assertEquals(detail, 1);
  assert(clock instanceof EventTarget);
});

test("EventTarget methods brand-check this; listeners must be objects", () => {
  assertThrows(() => EventTarget.prototype.addEventListener.call({}, "x", () => {}), TypeError);
  assertThrows(() => EventTarget.prototype.dispatchEvent.call({}, new Event("x")), TypeError);
  const target = new EventTarget();
  assertThrows(() => target.addEventListener("x", 5), TypeError);
  target.addEventListener("x", null);
  assertThrows(() => target.dispatchEvent({ type: "x" }), TypeError);
  assertThrows(() => target.addEventListener("x"), TypeError);
});

test("capturing listeners run before the others at the target", () => {
  const target = new EventTarget();
  const order = [];
  target.addEventListener("e", () => order.push("bubble"));
  target.addEventListener("e", () => order.push("capture"), { capture: true });
  target.addEventListener("e", () => order.push("capture2"), true);
  const event = new Event("e");
  target.dispatchEvent(event);
  assertEquals(order, ["capture", "capture2", "bubble"]);
  assertEquals([event.eventPhase, event.currentTarget, event.target], [Event.NONE, null, target]);
});

test("dispatching an event twice at once is an InvalidStateError", () => {
  const target = new EventTarget();
  const event = new Event("again");
  let error;
  target.addEventListener("again", () => {
    try {
      target.dispatchEvent(event);
    } catch (e) {
      error = e;
    }
  });
  target.dispatchEvent(event);
  assert(error instanceof DOMException);
  assertEquals(error.name, "InvalidStateError");
});

test("Event attributes, initEvent, returnValue and isTrusted", () => {
  const event = new Event("a", { bubbles: true, cancelable: true, composed: true });
  assertEquals([event.type, event.bubbles, event.cancelable, event.composed, event.isTrusted], ["a", true, true, true, false]);
  event.returnValue = false;
  assertEquals(event.defaultPrevented, true);
  event.initEvent("b", false, false);
  assertEquals([event.type, event.bubbles, event.cancelable, event.defaultPrevented], ["b", false, false, false]);
  assertEquals([Event.AT_TARGET, new Event("x").AT_TARGET], [2, 2]);
  assert(typeof event.timeStamp === "number");
  assertThrows(() => new Event("x", 5), TypeError);
});

test("ErrorEvent carries message, filename, lineno, colno and error", () => {
  const error = new Error("boom");
  const event = new ErrorEvent("error", { message: "m", filename: "f.js", lineno: 3, colno: 4, error, cancelable: true });
  assertEquals([event.message, event.filename, event.lineno, event.colno], ["m", "f.js", 3, 4]);
  assert(event.error === error && event instanceof Event && event.cancelable);
  const empty = new ErrorEvent("error");
  assertEquals([empty.message, empty.filename, empty.lineno, empty.colno, empty.error], ["", "", 0, 0, null]);
  assertThrows(() => new ErrorEvent(), TypeError);
});

test("PromiseRejectionEvent needs a promise", () => {
  const promise = Promise.resolve(1);
  const event = new PromiseRejectionEvent("unhandledrejection", { promise, reason: "r" });
  assert(event.promise === promise);
  assertEquals(event.reason, "r");
  assertThrows(() => new PromiseRejectionEvent("x", {}), TypeError);
  assertThrows(() => new PromiseRejectionEvent("x"), TypeError);
});

test("event handler attributes: one listener, kept in place, null removes it", () => {
  const controller = new AbortController();
  const signal = controller.signal;
  const order = [];
  signal.onabort = () => order.push("first handler");
  signal.addEventListener("abort", () => order.push("listener"));
  signal.onabort = () => order.push("second handler");
  assertEquals(typeof signal.onabort, "function");
  signal.onabort = "not a function";
  assertEquals(signal.onabort, null);
  signal.onabort = () => order.push("third handler");
  controller.abort();
  assertEquals(order, ["listener", "third handler"]);
});

test("an error event listener sees exceptions from reportError and can cancel them", () => {
  const seen = [];
  const listener = (event) => {
    seen.push([event.constructor.name, event.error.message, event.cancelable, event.isTrusted]);
    event.preventDefault();
  };
  addEventListener("error", listener);
  reportError(new Error("reported"));
  removeEventListener("error", listener);
  assertEquals(seen, [["ErrorEvent", "reported", true, true]]);
});

test("exceptions thrown by timers and listeners reach globalThis's error event", async () => {
  const seen = [];
  const listener = (event) => {
    seen.push(event.error?.message);
    event.preventDefault();
  };
  addEventListener("error", listener);
  setTimeout(() => { throw new Error("from a timer"); }, 0);
  queueMicrotask(() => { throw new Error("from a microtask"); });
  const target = new EventTarget();
  target.addEventListener("x", () => { throw new Error("from a listener"); });
  target.dispatchEvent(new Event("x"));
  // The timer callback ran once this later timer fires (same or earlier deadline).
  await sleep(10);
  removeEventListener("error", listener);
  assertEquals(seen.sort(), ["from a listener", "from a microtask", "from a timer"]);
});

test("onerror on globalThis gets (message, filename, lineno, colno, error); true cancels", () => {
  let args;
  globalThis.onerror = (...a) => {
    args = a;
    return true;
  };
  const error = new TypeError("bad");
  reportError(error);
  globalThis.onerror = null;
  assertEquals(args.length, 5);
  assert(String(args[0]).includes("bad"));
  assert(args[4] === error);
});

test("an exception in an error listener is not reported again (no recursion)", () => {
  let calls = 0;
  const listener = () => {
    calls++;
    throw new Error("inside the error listener");
  };
  addEventListener("error", listener);
  reportError(new Error("outer"));
  removeEventListener("error", listener);
  assertEquals(calls, 1);
});

test("unhandled rejections fire a cancelable unhandledrejection event", async () => {
  const seen = [];
  const listener = (event) => {
    seen.push([event.reason?.message, event.cancelable, typeof event.promise?.then]);
    event.preventDefault();
  };
  addEventListener("unhandledrejection", listener);
  Promise.reject(new Error("nobody catches this"));
  await sleep(10);
  removeEventListener("unhandledrejection", listener);
  assertEquals(seen, [["nobody catches this", true, "function"]]);
});

test("a reported rejection that gets a handler later fires rejectionhandled", async () => {
  const seen = [];
  const onUnhandled = (event) => {
    seen.push(["unhandledrejection", event.reason]);
    event.preventDefault();
    // A handler added by the listener itself: handled, never outstanding.
    if (event.reason === "handled in the listener") event.promise.catch(() => {});
  };
  const onHandled = (event) => {
    seen.push([event.type, event.reason, event.cancelable, event.promise === late]);
  };
  addEventListener("unhandledrejection", onUnhandled);
  addEventListener("rejectionhandled", onHandled);
  let onprop = 0;
  globalThis.onrejectionhandled = () => onprop++;
  const late = Promise.reject("late");
  Promise.reject("handled in the listener");
  Promise.reject("handled at once").catch(() => {});
  await sleep(10);
  late.catch(() => {});
  await sleep(10);
  late.catch(() => {}); // a second handler is no news
  await sleep(10);
  removeEventListener("unhandledrejection", onUnhandled);
  removeEventListener("rejectionhandled", onHandled);
  globalThis.onrejectionhandled = null;
  assertEquals(seen, [
    ["unhandledrejection", "late"],
    ["unhandledrejection", "handled in the listener"],
    ["rejectionhandled", "late", false, true],
  ]);
  assertEquals(onprop, 1);
});

export default { fetch: run };
