// 15_events.js
//
// DOM §2 events and HTML's error events are the chunk js/events, loaded on
// first use: Event, CustomEvent, EventTarget, ErrorEvent,
// PromiseRejectionEvent, AbortSignal and AbortController, and the global
// object as an event target. This part of the core installs Event and
// EventTarget (the chunk's 99_interfaces.js names the others, AbortSignal is
// in 18_abort.js), and answers the runtime's own dispatches (an error or a rejection
// nobody caught, `beforeunload`) without loading the chunk: before it is
// loaded, nothing can be listening.

function events() {
  return layerChunk("events");
}

function weakGet(map, key) {
  return ReflectApply(WeakMapPrototypeGet, map, [key]);
}

function weakSet(map, key, value) {
  ReflectApply(WeakMapPrototypeSet, map, [key, value]);
}

function weakHas(map, key) {
  return ReflectApply(WeakMapPrototypeHas, map, [key]);
}

function eventClass() {
  return events().eventClass();
}

function eventTargetClass() {
  return events().eventTargetClass();
}

const createTrustedEvent = forwardToChunk("events", "createTrustedEvent");
const defineEventHandler = forwardToChunk("events", "defineEventHandler");
const fireEvent = forwardToChunk("events", "fireEvent");
const internalsOf = forwardToChunk("events", "internalsOf");

exposeLazyInterface("Event", eventClass);
exposeLazyInterface("EventTarget", eventTargetClass);

// The global object is an event target (HTML §7.2: WindowOrWorkerGlobalScope).
exposeOperation("addEventListener", function addEventListener(type, callback, options) {
  return ReflectApply(events().eventTargetMethods.addEventListener, globalObject, arguments);
});
exposeOperation("removeEventListener", function removeEventListener(type, callback, options) {
  return ReflectApply(events().eventTargetMethods.removeEventListener, globalObject, arguments);
});
exposeOperation("dispatchEvent", function dispatchEvent(event) {
  return ReflectApply(events().eventTargetMethods.dispatchEvent, globalObject, arguments);
});

// HTML §8.1.8 the global object's onerror, onunhandledrejection and
// onrejectionhandled: null until one is set.
for (const type of ["error", "unhandledrejection", "rejectionhandled"]) {
  const name = `on${type}`;
  ObjectDefineProperty(globalObject, name, {
    get: {
      [name]() {
        const loaded = loadedChunks.events;
        return loaded === undefined ? null : loaded.getEventHandler(globalObject, name);
      },
    }[name],
    set: {
      [name](value) {
        events().setEventHandler(globalObject, name, type, value);
      },
    }[name],
    enumerable: true,
    configurable: true,
  });
}

// Dispatches a plain event of `type` on the global object (used by the host).
function dispatchGlobalEvent(type) {
  const loaded = loadedChunks.events;
  return loaded === undefined || loaded.dispatchGlobalEvent(type);
}

// HTML §8.1.4.6 "report an exception": true when the exception is still not
// handled (no `error` listener canceled it). Never throws.
function dispatchErrorEvent(error) {
  const loaded = loadedChunks.events;
  return loaded === undefined || loaded.dispatchErrorEvent(error);
}

// HTML §8.1.4.8 "notify about rejected promises", for one rejection: true
// when it is still not handled. Never throws.
function dispatchRejectionEvent(reason, promise) {
  const loaded = loadedChunks.events;
  return loaded === undefined || loaded.dispatchRejectionEvent(reason, promise);
}

// HTML's outstanding rejected promises weak set: reported rejections that
// are still unhandled, each with its reason (a `rejectionhandled` listener
// may be added after the rejection was reported).
const outstandingRejections = new WeakMapCtor();

// HostPromiseRejectionTracker "handle", for a promise the host saw get a
// handler after its rejection was reported (see the chunk's). Never throws.
function dispatchRejectionHandled(promise, fire) {
  const loaded = loadedChunks.events;
  if (loaded !== undefined) {
    loaded.dispatchRejectionHandled(promise, fire);
  } else {
    ReflectApply(WeakMapPrototypeDelete, outstandingRejections, [promise]);
  }
}
