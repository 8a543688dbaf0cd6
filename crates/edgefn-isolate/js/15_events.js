// 15_events.js
//
// DOM §2 events: Event, CustomEvent and EventTarget, and globalThis as an
// event target (addEventListener / removeEventListener / dispatchEvent on
// the global object), which the host uses to dispatch `beforeunload` before a
// planned retirement. AbortSignal and the error/unhandledrejection events
// build on this later.

// Captured at init, before tenant code can replace them.
const eventsWeakMapGet = WeakMap.prototype.get;
const eventsWeakMapSet = WeakMap.prototype.set;
const eventsMapGet = Map.prototype.get;
const eventsMapSet = Map.prototype.set;
const eventInternals = new WeakMap();
const targetListeners = new WeakMap();

function weakGet(map, key) {
  return ReflectApply(eventsWeakMapGet, map, [key]);
}

function weakSet(map, key, value) {
  ReflectApply(eventsWeakMapSet, map, [key, value]);
}

const eventClass = once(() => {
  class Event {
    // DOM §2.2 constructor(type, eventInitDict)
    constructor(type, init = undefined) {
      requireArguments(arguments.length, 1, "Event");
      const dict = toDictionary(init, "Event") ?? {};
      weakSet(eventInternals, this, {
        type: toDOMString(type),
        bubbles: !!dict.bubbles,
        cancelable: !!dict.cancelable,
        composed: !!dict.composed,
        canceled: false,
        stop: false,
        stopImmediate: false,
        dispatching: false,
        target: null,
        currentTarget: null,
        inPassiveListener: false,
        timeStamp: host.now(),
      });
    }
    get type() { return internalsOf(this).type; }
    get target() { return internalsOf(this).target; }
    get srcElement() { return internalsOf(this).target; }
    get currentTarget() { return internalsOf(this).currentTarget; }
    get eventPhase() { return internalsOf(this).dispatching ? 2 : 0; }
    get bubbles() { return internalsOf(this).bubbles; }
    get cancelable() { return internalsOf(this).cancelable; }
    get composed() { return internalsOf(this).composed; }
    get defaultPrevented() { return internalsOf(this).canceled; }
    get returnValue() { return !internalsOf(this).canceled; }
    get isTrusted() { return false; }
    get timeStamp() { return internalsOf(this).timeStamp; }
    get cancelBubble() { return internalsOf(this).stop; }
    set cancelBubble(value) { if (value) internalsOf(this).stop = true; }
    composedPath() {
      const target = internalsOf(this).currentTarget;
      return target === null ? [] : [target];
    }
    stopPropagation() { internalsOf(this).stop = true; }
    stopImmediatePropagation() {
      const i = internalsOf(this);
      i.stop = true;
      i.stopImmediate = true;
    }
    // DOM §2.2 "set the canceled flag": ignored for non-cancelable events and
    // inside passive listeners.
    preventDefault() {
      const i = internalsOf(this);
      if (i.cancelable && !i.inPassiveListener) i.canceled = true;
    }
  }
  for (const [name, value] of [["NONE", 0], ["CAPTURING_PHASE", 1], ["AT_TARGET", 2], ["BUBBLING_PHASE", 3]]) {
    ObjectDefineProperty(Event, name, { value, enumerable: true });
    ObjectDefineProperty(Event.prototype, name, { value, enumerable: true });
  }
  configureInterface(Event);
  return Event;
});

function internalsOf(event) {
  const internals = weakGet(eventInternals, event);
  if (internals === undefined) throw new TypeErrorCtor("Illegal invocation: not an Event");
  return internals;
}

const customEventClass = once(() => {
  const Event = eventClass();
  class CustomEvent extends Event {
    #detail;
    constructor(type, init = undefined) {
      requireArguments(arguments.length, 1, "CustomEvent");
      super(type, init);
      const dict = toDictionary(init, "CustomEvent") ?? {};
      this.#detail = dict.detail === undefined ? null : dict.detail;
    }
    get detail() { return this.#detail; }
  }
  configureInterface(CustomEvent);
  return CustomEvent;
});

// DOM §2.7 "flatten options" / "flatten more".
function listenerOptions(options) {
  if (typeof options === "boolean" || options === undefined || options === null) {
    return { capture: !!options, once: false, passive: false, signal: undefined };
  }
  return {
    capture: !!options.capture,
    once: !!options.once,
    passive: !!options.passive,
    signal: options.signal,
  };
}

function listenersOf(target) {
  let map = weakGet(targetListeners, target);
  if (map === undefined) {
    map = new MapCtor();
    weakSet(targetListeners, target, map);
  }
  return map;
}

// The methods shared by EventTarget instances and the global object.
const eventTargetMethods = {
  // DOM §2.7 addEventListener
  addEventListener(type, callback, options = undefined) {
    requireArguments(arguments.length, 2, "addEventListener");
    const target = this ?? globalObject;
    const flat = listenerOptions(options);
    if (callback === null || callback === undefined) return;
    if (flat.signal !== undefined && flat.signal?.aborted) return;
    type = toDOMString(type);
    const map = listenersOf(target);
    let list = ReflectApply(eventsMapGet, map, [type]);
    if (list === undefined) {
      list = [];
      ReflectApply(eventsMapSet, map, [type, list]);
    }
    for (let i = 0; i < list.length; i++) {
      if (list[i].callback === callback && list[i].capture === flat.capture) return;
    }
    const listener = { callback, capture: flat.capture, once: flat.once, passive: flat.passive, removed: false };
    list[list.length] = listener;
    if (flat.signal !== undefined && typeof flat.signal?.addEventListener === "function") {
      flat.signal.addEventListener("abort", () => removeListener(target, type, listener), { once: true });
    }
  },
  // DOM §2.7 removeEventListener
  removeEventListener(type, callback, options = undefined) {
    requireArguments(arguments.length, 2, "removeEventListener");
    const target = this ?? globalObject;
    const capture = listenerOptions(options).capture;
    const list = ReflectApply(eventsMapGet, listenersOf(target), [toDOMString(type)]);
    if (list === undefined) return;
    for (let i = 0; i < list.length; i++) {
      if (list[i].callback === callback && list[i].capture === capture) {
        removeListener(target, toDOMString(type), list[i]);
        return;
      }
    }
  },
  // DOM §2.9 dispatchEvent (no tree: the target is the only object on the path)
  dispatchEvent(event) {
    requireArguments(arguments.length, 1, "dispatchEvent");
    const target = this ?? globalObject;
    const i = internalsOf(event);
    if (i.dispatching) throw newDOMException("The event is already being dispatched", "InvalidStateError");
    i.dispatching = true;
    i.target = target;
    i.currentTarget = target;
    const list = ReflectApply(eventsMapGet, listenersOf(target), [i.type]);
    if (list !== undefined) {
      const snapshot = [];
      for (let n = 0; n < list.length; n++) snapshot[n] = list[n];
      for (let n = 0; n < snapshot.length; n++) {
        const listener = snapshot[n];
        if (listener.removed) continue;
        if (listener.once) removeListener(target, i.type, listener);
        i.inPassiveListener = listener.passive;
        try {
          const callback = listener.callback;
          if (typeof callback === "function") {
            ReflectApply(callback, target, [event]);
          } else {
            const handleEvent = callback.handleEvent;
            if (typeof handleEvent !== "function") {
              throw new TypeErrorCtor("the event listener has no handleEvent method");
            }
            ReflectApply(handleEvent, callback, [event]);
          }
        } catch (error) {
          reportException(error);
        }
        i.inPassiveListener = false;
        if (i.stopImmediate) break;
      }
    }
    i.dispatching = false;
    i.currentTarget = null;
    i.stop = false;
    i.stopImmediate = false;
    return !i.canceled;
  },
};

function removeListener(target, type, listener) {
  listener.removed = true;
  const list = ReflectApply(eventsMapGet, listenersOf(target), [type]);
  if (list === undefined) return;
  let kept = 0;
  for (let n = 0; n < list.length; n++) {
    if (list[n] !== listener) list[kept++] = list[n];
  }
  list.length = kept;
}

const eventTargetClass = once(() => {
  class EventTarget {
    constructor() {}
    addEventListener(type, callback, options = undefined) {
      return ReflectApply(eventTargetMethods.addEventListener, this, arguments);
    }
    removeEventListener(type, callback, options = undefined) {
      return ReflectApply(eventTargetMethods.removeEventListener, this, arguments);
    }
    dispatchEvent(event) {
      return ReflectApply(eventTargetMethods.dispatchEvent, this, arguments);
    }
  }
  configureInterface(EventTarget);
  return EventTarget;
});

exposeLazyInterface("Event", eventClass);
exposeLazyInterface("CustomEvent", customEventClass);
exposeLazyInterface("EventTarget", eventTargetClass);
// The global object is an event target (HTML §7.2: WindowOrWorkerGlobalScope).
exposeOperation("addEventListener", function addEventListener(type, callback, options) {
  return ReflectApply(eventTargetMethods.addEventListener, globalObject, arguments);
});
exposeOperation("removeEventListener", function removeEventListener(type, callback, options) {
  return ReflectApply(eventTargetMethods.removeEventListener, globalObject, arguments);
});
exposeOperation("dispatchEvent", function dispatchEvent(event) {
  return ReflectApply(eventTargetMethods.dispatchEvent, globalObject, arguments);
});

// Dispatches a plain event of `type` on the global object (used by the host).
function dispatchGlobalEvent(type) {
  const Event = eventClass();
  return ReflectApply(eventTargetMethods.dispatchEvent, globalObject, [new Event(type)]);
}
