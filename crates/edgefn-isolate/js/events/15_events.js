// js/events/15_events.js
//
// DOM §2 events: Event, CustomEvent and EventTarget (subclassable, with the
// `signal` listener option), HTML §8.1.8 event handler attributes (onabort,
// onmessage, onerror, ...), HTML's ErrorEvent and PromiseRejectionEvent, and
// globalThis as an event target. The global object fires `error` for
// exceptions reported by reportException()/reportError() and
// `unhandledrejection` for rejections the host reports and
// `rejectionhandled` when one of those gets a handler later; the host also
// dispatches `beforeunload` on it.
//
// A chunk loaded on first use: the core's 15_events.js installs Event and
// EventTarget (99_interfaces.js names the others) and answers for it until
// then.

const eventInternals = new WeakMapCtor(); // Event -> its record
// EventTarget -> Map(type -> listener[]), or null while it has none. Being
// a key is the EventTarget brand.
const targetListeners = new WeakMapCtor();
// EventTarget -> null-prototype object: event handler name -> record.
const targetEventHandlers = new WeakMapCtor();

// DOM §2.2 an event's flags and attributes.
function newEventRecord(type, bubbles, cancelable, composed, trusted) {
  return {
    type,
    bubbles,
    cancelable,
    composed,
    trusted,
    canceled: false,
    stop: false,
    stopImmediate: false,
    dispatching: false,
    initialized: true,
    target: null,
    currentTarget: null,
    inPassiveListener: false,
    timeStamp: host.now(),
  };
}

// DOM §2.2 EventInit, as read by every event constructor (members in Web IDL
// order). Internal callers pass kInternal as `type` and a record
// { type, bubbles, cancelable, composed, trusted, ... } as `init`.
function eventRecordFrom(type, init, context) {
  if (type === kInternal) {
    return newEventRecord(init.type, !!init.bubbles, !!init.cancelable, false, !!init.trusted);
  }
  type = toDOMString(type);
  const dict = toDictionary(init, context);
  if (dict === undefined) return newEventRecord(type, false, false, false, false);
  const bubbles = !!dict.bubbles;
  const cancelable = !!dict.cancelable;
  const composed = !!dict.composed;
  return newEventRecord(type, bubbles, cancelable, composed, false);
}

function internalsOf(event) {
  const internals = weakGet(eventInternals, event);
  if (internals === undefined) throw new TypeErrorCtor("Illegal invocation: not an Event");
  return internals;
}

const eventClass = once(() => {
  class Event {
    // DOM §2.2 constructor(type, eventInitDict)
    constructor(type, init = undefined) {
      requireArguments(arguments.length, 1, "Event");
      weakSet(eventInternals, this, eventRecordFrom(type, init, "Event"));
    }
    get type() { return internalsOf(this).type; }
    get target() { return internalsOf(this).target; }
    get srcElement() { return internalsOf(this).target; }
    get currentTarget() { return internalsOf(this).currentTarget; }
    // DOM §2.2 composedPath(): only the target, as there is no tree.
    composedPath() {
      const target = internalsOf(this).currentTarget;
      return target === null ? [] : [target];
    }
    get eventPhase() { return internalsOf(this).dispatching ? 2 : 0; }
    stopPropagation() { internalsOf(this).stop = true; }
    get cancelBubble() { return internalsOf(this).stop; }
    set cancelBubble(value) { if (value) internalsOf(this).stop = true; }
    stopImmediatePropagation() {
      const i = internalsOf(this);
      i.stop = true;
      i.stopImmediate = true;
    }
    get bubbles() { return internalsOf(this).bubbles; }
    get cancelable() { return internalsOf(this).cancelable; }
    get returnValue() { return !internalsOf(this).canceled; }
    set returnValue(value) { if (!value) setCanceledFlag(internalsOf(this)); }
    preventDefault() { setCanceledFlag(internalsOf(this)); }
    get defaultPrevented() { return internalsOf(this).canceled; }
    get composed() { return internalsOf(this).composed; }
    get isTrusted() { return internalsOf(this).trusted; }
    get timeStamp() { return internalsOf(this).timeStamp; }
    // DOM §2.2 initEvent(type, bubbles, cancelable) (legacy)
    initEvent(type, bubbles = false, cancelable = false) {
      requireArguments(arguments.length, 1, "Event.initEvent");
      const i = internalsOf(this);
      if (i.dispatching) return;
      i.initialized = true;
      i.stop = false;
      i.stopImmediate = false;
      i.canceled = false;
      i.trusted = false;
      i.target = null;
      i.type = toDOMString(type);
      i.bubbles = !!bubbles;
      i.cancelable = !!cancelable;
    }
  }
  const phases = ["NONE", "CAPTURING_PHASE", "AT_TARGET", "BUBBLING_PHASE"];
  for (let value = 0; value < phases.length; value++) {
    const desc = { value, writable: false, enumerable: true, configurable: false };
    ObjectDefineProperty(Event, phases[value], desc);
    ObjectDefineProperty(Event.prototype, phases[value], desc);
  }
  configureInterface(Event);
  registerInspectHook(Event, (event) => ({
    type: event.type,
    defaultPrevented: event.defaultPrevented,
    cancelable: event.cancelable,
    timeStamp: event.timeStamp,
  }));
  return Event;
});

// DOM §2.2 "set the canceled flag": ignored for non-cancelable events and
// inside passive listeners.
function setCanceledFlag(internals) {
  if (internals.cancelable && !internals.inPassiveListener) internals.canceled = true;
}

// Creates an event of one of our classes without reading a dictionary
// (events the runtime fires itself; isTrusted is true).
function createTrustedEvent(Class, type, cancelable, fields) {
  const init = fields === undefined ? { __proto__: null } : fields;
  init.type = type;
  init.cancelable = cancelable;
  init.trusted = true;
  return new Class(kInternal, init);
}

const customEventClass = once(() => {
  const Event = eventClass();
  class CustomEvent extends Event {
    #detail = null;

    // DOM §2.4 constructor(type, eventInitDict)
    constructor(type, init = undefined) {
      requireArguments(arguments.length, 1, "CustomEvent");
      super(type, init);
      const dict = toDictionary(init, "CustomEvent");
      if (dict !== undefined && dict.detail !== undefined) this.#detail = dict.detail;
    }

    get detail() {
      return this.#detail;
    }

    // DOM §2.4 initCustomEvent (legacy)
    initCustomEvent(type, bubbles = false, cancelable = false, detail = null) {
      requireArguments(arguments.length, 1, "CustomEvent.initCustomEvent");
      this.#detail; // brand check
      if (internalsOf(this).dispatching) return;
      this.initEvent(type, bubbles, cancelable);
      this.#detail = detail;
    }
  }
  configureInterface(CustomEvent);
  return CustomEvent;
});

// (event) -> { message, filename, lineno, colno, error } for an ErrorEvent,
// else null.
let errorEventInternals = (event) => null;

// HTML §8.1.4.7 ErrorEvent
const errorEventClass = once(() => {
  const Event = eventClass();
  class ErrorEvent extends Event {
    #message = "";
    #filename = "";
    #lineno = 0;
    #colno = 0;
    #error = null;

    constructor(type, init = undefined) {
      requireArguments(arguments.length, 1, "ErrorEvent");
      super(type, init);
      const dict = type === kInternal ? init : toDictionary(init, "ErrorEvent");
      if (dict === undefined) return;
      // ErrorEventInit members in Web IDL order: colno, error, filename,
      // lineno, message.
      const colno = dict.colno;
      const error = dict.error;
      const filename = dict.filename;
      const lineno = dict.lineno;
      const message = dict.message;
      if (colno !== undefined) this.#colno = NumberCtor(colno) >>> 0;
      if (error !== undefined) this.#error = error;
      if (filename !== undefined) this.#filename = toUSVString(filename);
      if (lineno !== undefined) this.#lineno = NumberCtor(lineno) >>> 0;
      if (message !== undefined) this.#message = toDOMString(message);
    }

    get message() { return this.#message; }
    get filename() { return this.#filename; }
    get lineno() { return this.#lineno; }
    get colno() { return this.#colno; }
    get error() { return this.#error; }

    static {
      errorEventInternals = (event) =>
        isObjectLike(event) && #message in event
          ? {
              message: event.#message,
              filename: event.#filename,
              lineno: event.#lineno,
              colno: event.#colno,
              error: event.#error,
            }
          : null;
    }
  }
  configureInterface(ErrorEvent);
  return ErrorEvent;
});

// HTML §8.1.4.8 PromiseRejectionEvent
const promiseRejectionEventClass = once(() => {
  const Event = eventClass();
  class PromiseRejectionEvent extends Event {
    #promise;
    #reason;

    constructor(type, init = undefined) {
      requireArguments(arguments.length, 2, "PromiseRejectionEvent");
      super(type, init);
      const dict = type === kInternal ? init : toDictionary(init, "PromiseRejectionEvent");
      // PromiseRejectionEventInit: required object promise; any reason.
      const promise = dict === undefined ? undefined : dict.promise;
      if (!isObjectLike(promise)) {
        throw new TypeErrorCtor(
          "PromiseRejectionEvent: the required member 'promise' is missing or not an object",
        );
      }
      this.#promise = promise;
      this.#reason = dict.reason;
    }

    get promise() { return this.#promise; }
    get reason() { return this.#reason; }
  }
  configureInterface(PromiseRejectionEvent);
  return PromiseRejectionEvent;
});

// ---------------------------------------------------------------------------
// EventTarget

function registerEventTarget(target) {
  weakSet(targetListeners, target, null);
}

// Web IDL §3.7.6: a missing `this` means the global object; anything that
// is not an EventTarget is an illegal invocation.
function eventTargetOf(value) {
  const target = value === undefined || value === null ? globalObject : value;
  if (!weakHas(targetListeners, target)) {
    throw new TypeErrorCtor("Illegal invocation: not an EventTarget");
  }
  return target;
}

function listenersOf(target) {
  let map = weakGet(targetListeners, target);
  if (map === null || map === undefined) {
    map = new MapCtor();
    weakSet(targetListeners, target, map);
  }
  return map;
}

function listenerList(target, type) {
  const map = weakGet(targetListeners, target);
  if (map === null || map === undefined) return undefined;
  return ReflectApply(MapPrototypeGet, map, [type]);
}

function hasEventListeners(target, type) {
  const list = listenerList(target, type);
  return list !== undefined && list.length > 0;
}

// Web IDL conversion of an EventListener? callback interface value.
function toEventListener(callback, context) {
  if (callback === undefined || callback === null) return null;
  if (!isObjectLike(callback)) {
    throw new TypeErrorCtor(`${context}: parameter 2 is not of type 'EventListener'`);
  }
  return callback;
}

// DOM §2.7 "flatten more": { capture, once, passive, signal (a signal
// state record or null) }. Members in Web IDL order.
function flattenListenerOptions(options, context) {
  if (!isObjectLike(options)) {
    return { capture: !!options, once: false, passive: false, signal: null };
  }
  const capture = !!options.capture;
  const onceOption = !!options.once;
  const passive = !!options.passive;
  const signalValue = options.signal;
  let signal = null;
  if (signalValue !== undefined) {
    if (!isAbortSignal(signalValue)) {
      throw new TypeErrorCtor(`${context}: the 'signal' option is not an AbortSignal`);
    }
    signal = abortSignalStateOf(signalValue);
  }
  return { capture, once: onceOption, passive, signal };
}

// DOM §2.7 "add an event listener"
function addEventListenerSteps(target, type, callback, flat) {
  if (callback === null) return;
  const signal = flat.signal;
  if (signal !== null && signal.reason !== undefined) return;
  const map = listenersOf(target);
  let list = ReflectApply(MapPrototypeGet, map, [type]);
  if (list === undefined) {
    list = [];
    ReflectApply(MapPrototypeSet, map, [type, list]);
  }
  for (let i = 0; i < list.length; i++) {
    if (list[i].callback === callback && list[i].capture === flat.capture) return;
  }
  const listener = {
    callback,
    capture: flat.capture,
    once: flat.once,
    passive: flat.passive,
    removed: false,
  };
  list[list.length] = listener;
  if (signal !== null) {
    abortSignalAddAlgorithm(signal, () => removeListener(target, type, listener));
  }
  if (type === "abort") abortSignalListenerAdded(target);
}

function removeListener(target, type, listener) {
  listener.removed = true;
  const list = listenerList(target, type);
  if (list === undefined) return;
  let kept = 0;
  for (let n = 0; n < list.length; n++) {
    if (list[n] !== listener) list[kept++] = list[n];
  }
  list.length = kept;
}

// DOM §2.10 "inner invoke" for one listener.
function invokeListener(target, event, internals, listener) {
  if (listener.once) removeListener(target, internals.type, listener);
  internals.inPassiveListener = listener.passive;
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
  internals.inPassiveListener = false;
}

// DOM §2.9 "dispatch" with no tree: the target is the whole path, so its
// capturing listeners run first, then the others (both AT_TARGET).
function dispatchEventSteps(target, event, internals) {
  internals.dispatching = true;
  internals.target = target;
  internals.currentTarget = target;
  const list = listenerList(target, internals.type);
  if (list !== undefined && list.length > 0) {
    const snapshot = [];
    for (let n = 0; n < list.length; n++) snapshot[n] = list[n];
    for (let phase = 0; phase < 2 && !internals.stop; phase++) {
      const capture = phase === 0;
      for (let n = 0; n < snapshot.length; n++) {
        const listener = snapshot[n];
        if (listener.removed || listener.capture !== capture) continue;
        invokeListener(target, event, internals, listener);
        if (internals.stopImmediate) break;
      }
    }
  }
  internals.dispatching = false;
  internals.currentTarget = null;
  internals.stop = false;
  internals.stopImmediate = false;
  return !internals.canceled;
}

// The methods shared by EventTarget instances and the global object.
const eventTargetMethods = {
  // DOM §2.7 addEventListener(type, callback, options)
  addEventListener(type, callback, options = undefined) {
    requireArguments(arguments.length, 2, "addEventListener");
    const target = eventTargetOf(this);
    type = toDOMString(type);
    callback = toEventListener(callback, "addEventListener");
    const flat = flattenListenerOptions(options, "addEventListener");
    addEventListenerSteps(target, type, callback, flat);
  },
  // DOM §2.7 removeEventListener(type, callback, options)
  removeEventListener(type, callback, options = undefined) {
    requireArguments(arguments.length, 2, "removeEventListener");
    const target = eventTargetOf(this);
    type = toDOMString(type);
    callback = toEventListener(callback, "removeEventListener");
    const capture = isObjectLike(options) ? !!options.capture : !!options;
    const list = listenerList(target, type);
    if (list === undefined || callback === null) return;
    for (let i = 0; i < list.length; i++) {
      if (list[i].callback === callback && list[i].capture === capture) {
        removeListener(target, type, list[i]);
        return;
      }
    }
  },
  // DOM §2.7 dispatchEvent(event)
  dispatchEvent(event) {
    requireArguments(arguments.length, 1, "dispatchEvent");
    const target = eventTargetOf(this);
    const internals = internalsOf(event);
    if (internals.dispatching || !internals.initialized) {
      throw newDOMException("The event is already being dispatched", "InvalidStateError");
    }
    internals.trusted = false;
    return dispatchEventSteps(target, event, internals);
  },
};

// Fires `event` (created by the runtime) at `target`. Never throws from
// listeners (they are reported). Returns false if it was canceled.
function fireEvent(target, event) {
  return dispatchEventSteps(target, event, internalsOf(event));
}

const eventTargetClass = once(() => {
  class EventTarget {
    // DOM §2.7 constructor()
    constructor() {
      registerEventTarget(this);
    }
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

// ---------------------------------------------------------------------------
// HTML §8.1.8.1 event handler IDL attributes: a handler is one listener,
// added when the attribute is first set to a non-null value and kept in
// place (even if the value changes) until it is set back to null.

function eventHandlerRecord(target, name, create) {
  let handlers = weakGet(targetEventHandlers, target);
  if (handlers === undefined) {
    if (!create) return undefined;
    handlers = ObjectCreate(null);
    weakSet(targetEventHandlers, target, handlers);
  }
  let record = handlers[name];
  if (record === undefined && create) {
    record = { value: null, listener: null };
    handlers[name] = record;
  }
  return record;
}

// HTML §8.1.8.1 "the event handler processing algorithm"
function processEventHandler(target, record, event) {
  const callback = record.value;
  if (typeof callback !== "function") return;
  const internals = internalsOf(event);
  const special =
    internals.type === "error" && target === globalObject && errorEventInternals(event) !== null;
  let result;
  if (special) {
    const fields = errorEventInternals(event);
    result = ReflectApply(callback, target, [
      fields.message,
      fields.filename,
      fields.lineno,
      fields.colno,
      fields.error,
    ]);
    if (result === true) setCanceledFlag(internals);
  } else {
    result = ReflectApply(callback, target, [event]);
    if (result === false) setCanceledFlag(internals);
  }
}

function getEventHandler(target, name) {
  const record = eventHandlerRecord(target, name, false);
  return record === undefined ? null : record.value;
}

function setEventHandler(target, name, type, value) {
  const record = eventHandlerRecord(target, name, true);
  // [LegacyTreatNonObjectAsNull] callback function
  const handler = isObjectLike(value) ? value : null;
  record.value = handler;
  if (handler === null) {
    if (record.listener !== null) {
      removeListener(target, type, record.listener);
      record.listener = null;
    }
    return;
  }
  if (record.listener !== null) return;
  const callback = (event) => processEventHandler(target, record, event);
  addEventListenerSteps(target, type, callback, {
    capture: false,
    once: false,
    passive: false,
    signal: null,
  });
  const list = listenerList(target, type);
  record.listener = list[list.length - 1];
}

// Defines `on<type>` on an interface prototype or on the global object
// (whose accessors always act on it). `onSet(target)` runs after each set
// (MessagePort: onmessage starts the port).
function defineEventHandler(proto, type, onSet) {
  const name = `on${type}`;
  const targetOf = proto === globalObject ? () => globalObject : eventTargetOf;
  ObjectDefineProperty(proto, name, {
    get: {
      [name]() {
        return getEventHandler(targetOf(this), name);
      },
    }[name],
    set: {
      [name](value) {
        const target = targetOf(this);
        setEventHandler(target, name, type, value);
        if (onSet !== undefined) onSet(target);
      },
    }[name],
    enumerable: true,
    configurable: true,
  });
}

// ---------------------------------------------------------------------------
// The global object as an event target, and its error events

registerEventTarget(globalObject);

// Dispatches a plain event of `type` on the global object (used by the host).
function dispatchGlobalEvent(type) {
  return fireEvent(globalObject, createTrustedEvent(eventClass(), type, false));
}

// HTML §8.1.4.6 "report an exception": fires a cancelable ErrorEvent at the
// global object. Returns true when the exception is still not handled (no
// listener canceled it), false when it was. An exception thrown while an
// error event is being handled is not reported again (HTML's "in error
// reporting mode"). Never throws.
let inErrorReportingMode = false;

function dispatchErrorEvent(error) {
  if (inErrorReportingMode || !hasEventListeners(globalObject, "error")) return true;
  inErrorReportingMode = true;
  try {
    const location = errorLocation(error);
    const fields = { __proto__: null };
    fields.message = `Uncaught ${isErrorObject(error) ? errorSummary(error) : safeToString(error)}`;
    fields.filename = location[0];
    fields.lineno = location[1];
    fields.colno = location[2];
    fields.error = error;
    return fireEvent(globalObject, createTrustedEvent(errorEventClass(), "error", true, fields));
  } catch {
    return true;
  } finally {
    inErrorReportingMode = false;
  }
}

const stackLocationRe = /\(?([^\s()]+):(\d+):(\d+)\)?\s*$/;

// [filename, line, column] of the innermost stack frame of an error.
function errorLocation(error) {
  const stack = isErrorObject(error) ? safeGet(error, "stack") : undefined;
  if (typeof stack === "string") {
    const lines = stack.split("\n");
    for (let i = 0; i < lines.length; i++) {
      if (!stackFramesOnlyRe.test(lines[i])) continue;
      const match = stackLocationRe.exec(lines[i]);
      if (match !== null) return [match[1], NumberCtor(match[2]), NumberCtor(match[3])];
    }
  }
  return ["", 0, 0];
}

// HostPromiseRejectionTracker "handle", for a promise the host saw get a
// handler after its rejection was reported: fires `rejectionhandled` (not
// cancelable) when the promise was outstanding. With `fire` false the
// promise only leaves the set (an `unhandledrejection` listener handled
// it). Never throws.
function dispatchRejectionHandled(promise, fire) {
  const reason = weakGet(outstandingRejections, promise);
  if (!ReflectApply(WeakMapPrototypeDelete, outstandingRejections, [promise])) return;
  if (!fire || !hasEventListeners(globalObject, "rejectionhandled")) return;
  try {
    const fields = { __proto__: null };
    fields.promise = promise;
    fields.reason = reason;
    fireEvent(
      globalObject,
      createTrustedEvent(promiseRejectionEventClass(), "rejectionhandled", false, fields),
    );
  } catch {
    // a listener's exception is reported by the dispatch itself
  }
}

// HTML §8.1.4.8 "notify about rejected promises", for one rejection the
// host reports: fires a cancelable PromiseRejectionEvent at the global
// object. Returns true when the rejection is still not handled. Never throws.
function dispatchRejectionEvent(reason, promise) {
  if (!hasEventListeners(globalObject, "unhandledrejection")) return true;
  try {
    const fields = { __proto__: null };
    fields.promise = promise;
    fields.reason = reason;
    const PromiseRejectionEvent = promiseRejectionEventClass();
    return fireEvent(
      globalObject,
      createTrustedEvent(PromiseRejectionEvent, "unhandledrejection", true, fields),
    );
  } catch {
    return true;
  }
}
