// 04_timers.js
//
// setTimeout / setInterval / clearTimeout / clearInterval (HTML §8.6 timer
// initialization steps), queueMicrotask (HTML §8.7) and reportError.
// Timers are armed on the host with a JS-chosen id; the host calls
// internal.fireTimer(id) when one fires.

// id -> { callback, args, repeat, timeout, nesting, internal }
const activeTimers = ObjectCreate(null);
let nextTimerId = 1;
// Timer nesting level of the timer task currently running (0 outside).
let runningTimerNesting = 0;

function timerCallbackCheck(callback, context) {
  if (typeof callback !== "function") {
    throw new TypeErrorCtor(
      `${context}: the callback must be a function (string callbacks are not supported)`,
    );
  }
}

// HTML §8.6 "timer initialization steps" for a new timer.
function timerInitialize(callback, timeout, args, repeat) {
  // Web IDL `long`: ToNumber, then modulo 2^32 into the signed range.
  timeout = NumberCtor(timeout) | 0;
  if (timeout < 0) timeout = 0;
  const id = nextTimerId++;
  // Step 5/6: nesting level > 5 clamps timeouts below 4ms to 4ms.
  const nesting = runningTimerNesting;
  let delay = timeout;
  if (nesting > 5 && delay < 4) delay = 4;
  activeTimers[id] = {
    callback,
    args,
    repeat,
    timeout,
    nesting: nesting + 1,
    internal: false,
  };
  host.timerStart(id, delay);
  return id;
}

// A one-shot timer of the runtime itself (AbortSignal.timeout, message
// delivery): no Web IDL `long` wrap-around, no nesting clamp, and
// clearTimeout() cannot cancel it. `callback` must not throw.
function startInternalTimer(callback, delay) {
  const id = nextTimerId++;
  activeTimers[id] = {
    callback,
    args: [],
    repeat: false,
    timeout: delay,
    nesting: 0,
    internal: true,
  };
  host.timerStart(id, delay);
  return id;
}

function timerClear(id) {
  id = NumberCtor(id) | 0;
  const timer = activeTimers[id];
  if (timer === undefined || timer.internal) return;
  delete activeTimers[id];
  host.timerCancel(id);
}

function setTimeout(callback, timeout = 0, ...args) {
  timerCallbackCheck(callback, "setTimeout");
  return timerInitialize(callback, timeout, args, false);
}

function setInterval(callback, timeout = 0, ...args) {
  timerCallbackCheck(callback, "setInterval");
  return timerInitialize(callback, timeout, args, true);
}

function clearTimeout(id = 0) {
  timerClear(id);
}

function clearInterval(id = 0) {
  timerClear(id);
}

// Called by the host (through internal.fireTimer). Never throws.
function fireTimer(id) {
  const timer = activeTimers[id];
  if (timer === undefined) return; // cleared meanwhile
  if (!timer.repeat) delete activeTimers[id];
  const previousNesting = runningTimerNesting;
  runningTimerNesting = timer.nesting;
  try {
    ReflectApply(timer.callback, globalObject, timer.args);
  } catch (error) {
    reportException(error);
  } finally {
    runningTimerNesting = previousNesting;
  }
  // setInterval: re-arm unless the callback cleared it, with the nesting
  // level of this task (HTML §8.6 step 11 re-runs the steps with repeat).
  if (timer.repeat && activeTimers[id] === timer) {
    let delay = timer.timeout;
    if (timer.nesting > 5 && delay < 4) delay = 4;
    timer.nesting++;
    try {
      host.timerStart(id, delay);
    } catch (error) {
      delete activeTimers[id];
      reportException(error);
    }
  }
}

function queueMicrotask(callback) {
  requireArguments(arguments.length, 1, "queueMicrotask");
  if (typeof callback !== "function") {
    throw new TypeErrorCtor(
      "queueMicrotask: parameter 1 is not of type 'Function'",
    );
  }
  enqueueMicrotask(() => {
    try {
      callback();
    } catch (error) {
      reportException(error);
    }
  });
}

// HTML §8.1.4.6 reportError(e): "report an exception" (an ErrorEvent on
// globalThis, then the log unless a listener canceled it).
function reportError(error) {
  requireArguments(arguments.length, 1, "reportError");
  reportException(error);
}

exposeOperation("setTimeout", setTimeout);
exposeOperation("setInterval", setInterval);
exposeOperation("clearTimeout", clearTimeout);
exposeOperation("clearInterval", clearInterval);
exposeOperation("queueMicrotask", queueMicrotask);
exposeOperation("reportError", reportError);
