// js/events/18_abort.js
//
// AbortSignal and AbortController (DOM §3), the public side of the signal
// states of the core's 18_abort.js, which Request and fetch() use without
// loading this chunk.

// AbortSignal.timeout(ms): aborts with a TimeoutError after `ms`.
function createTimeoutAbortSignal(ms) {
  const signal = newAbortSignalState();
  startInternalTimer(() => {
    signalAbort(signal, newDOMException("The operation timed out", "TimeoutError"));
  }, ms);
  return signal;
}

// Set when the AbortSignal class is created (the core's functions of the
// same names answer through these once this chunk is loaded).
let abortSignalStateOrUndefined = (value) => undefined;
let isAbortSignal = (value) => false;

// An `abort` listener was added to an event target (15_events.js).
function abortSignalListenerAdded(target) {
  const signal = abortSignalStateOrUndefined(target);
  if (signal !== undefined) abortSignalRetain(signal);
}

const abortSignalClass = once(() => {
  const EventTarget = eventTargetClass();
  class AbortSignal extends EventTarget {
    #s;

    constructor(token = undefined, signal = undefined) {
      if (token !== kInternal) throw new TypeErrorCtor("Illegal constructor");
      super();
      this.#s = signal;
      signal.wrapper = this;
    }

    // DOM §3.2 static abort(reason)
    static abort(reason = undefined) {
      const signal = newAbortSignalState();
      signal.reason = reason === undefined ? newAbortError() : reason;
      return abortSignalWrapper(signal);
    }

    // DOM §3.2 static timeout(milliseconds)
    static timeout(milliseconds) {
      requireArguments(arguments.length, 1, "AbortSignal.timeout");
      const ms = toEnforceRangeUnsignedLongLong(milliseconds, "AbortSignal.timeout");
      return abortSignalWrapper(createTimeoutAbortSignal(ms));
    }

    // DOM §3.2 static any(signals)
    static any(signals) {
      requireArguments(arguments.length, 1, "AbortSignal.any");
      const states = [];
      for (const value of toSequence(signals, "AbortSignal.any")) {
        states[states.length] = abortSignalStateOf(value);
      }
      return abortSignalWrapper(createDependentAbortSignal(states));
    }

    get aborted() {
      return this.#s.reason !== undefined;
    }

    get reason() {
      return this.#s.reason;
    }

    // DOM §3.2 throwIfAborted()
    throwIfAborted() {
      const reason = this.#s.reason;
      if (reason !== undefined) throw reason;
    }

    static {
      abortSignalStateOrUndefined = (value) =>
        isObjectLike(value) && #s in value ? value.#s : undefined;
      isAbortSignal = (value) => isObjectLike(value) && #s in value;
    }
  }
  defineEventHandler(AbortSignal.prototype, "abort");
  configureInterface(AbortSignal);
  registerInspectHook(AbortSignal, (signal) => ({
    aborted: signal.aborted,
    reason: signal.reason,
  }));
  return AbortSignal;
});

const abortControllerClass = once(() => {
  class AbortController {
    #s;

    // DOM §3.1 constructor()
    constructor() {
      this.#s = newAbortSignalState();
    }

    get signal() {
      return abortSignalWrapper(this.#s);
    }

    // DOM §3.1 abort(reason)
    abort(reason = undefined) {
      signalAbort(this.#s, reason);
    }
  }
  configureInterface(AbortController);
  registerInspectHook(AbortController, (controller) => ({ signal: controller.signal }));
  return AbortController;
});

