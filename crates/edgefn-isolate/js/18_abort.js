// 18_abort.js
//
// The state of AbortSignals (DOM §3). A signal's state lives in a record
// (newAbortSignalState()) that the runtime uses directly (Request, fetch(),
// WritableStream, pipeTo, event listeners); the public AbortSignal wrapping
// it is created when tenant code asks for it, by the chunk js/events.
//
// Dependent signals (AbortSignal.any, Request signals) are held weakly by
// their sources, so that `AbortSignal.any([longLived, perRequest])` does not
// grow the long-lived signal forever; a dependent signal with `abort`
// listeners or abort algorithms is also held strongly until it aborts, as DOM
// §3.2's garbage collection rule requires.

// DOM §3.2 an AbortSignal's state
function newAbortSignalState() {
  return {
    reason: undefined, // abort reason; aborted iff not undefined
    algorithms: null, // abort algorithms (array, entries may be null)
    dependent: false,
    sources: null, // source signals (states), for a dependent signal
    dependents: null, // WeakRefs to dependent signal states
    dependentsPruneAt: 8,
    retained: null, // dependent states held strongly (see above)
    isRetained: false,
    wrapper: undefined, // the public AbortSignal, created on demand
  };
}

function abortSignalAborted(signal) {
  return signal.reason !== undefined;
}

// DOM §3.2 "add" an abort algorithm; returns a handle for removal.
function abortSignalAddAlgorithm(signal, algorithm) {
  if (signal.reason !== undefined) return null;
  if (signal.algorithms === null) signal.algorithms = [];
  const algorithms = signal.algorithms;
  algorithms[algorithms.length] = algorithm;
  abortSignalRetain(signal);
  return algorithm;
}

// DOM §3.2 "remove" an abort algorithm.
function abortSignalRemoveAlgorithm(signal, handle) {
  const algorithms = signal.algorithms;
  if (algorithms === null || handle === null) return;
  for (let i = 0; i < algorithms.length; i++) {
    if (algorithms[i] === handle) {
      algorithms[i] = null;
      return;
    }
  }
}

// Keeps a dependent signal alive while it can still abort and someone is
// interested (DOM §3.2 garbage collection).
function abortSignalRetain(signal) {
  if (!signal.dependent || signal.isRetained) return;
  signal.isRetained = true;
  const sources = signal.sources;
  for (let i = 0; i < sources.length; i++) {
    const source = sources[i];
    if (source.retained === null) source.retained = [];
    source.retained[source.retained.length] = signal;
  }
}

function abortSignalAddDependent(source, dependent) {
  if (source.dependents === null) source.dependents = [];
  const dependents = source.dependents;
  if (dependents.length >= source.dependentsPruneAt) {
    // Drop the references to collected signals (amortised).
    let kept = 0;
    for (let i = 0; i < dependents.length; i++) {
      if (ReflectApply(WeakRefPrototypeDeref, dependents[i], []) !== undefined) {
        dependents[kept++] = dependents[i];
      }
    }
    dependents.length = kept;
    source.dependentsPruneAt = MathMax(8, kept * 2);
  }
  dependents[dependents.length] = new WeakRefCtor(dependent);
}

// DOM §3.2.1 "create a dependent abort signal" from signal states.
function createDependentAbortSignal(signals) {
  const result = newAbortSignalState();
  for (let i = 0; i < signals.length; i++) {
    if (signals[i].reason !== undefined) {
      result.reason = signals[i].reason;
      return result;
    }
  }
  result.dependent = true;
  result.sources = [];
  const addSource = (source) => {
    const sources = result.sources;
    for (let i = 0; i < sources.length; i++) if (sources[i] === source) return;
    sources[sources.length] = source;
    abortSignalAddDependent(source, result);
  };
  for (let i = 0; i < signals.length; i++) {
    const signal = signals[i];
    if (!signal.dependent) {
      addSource(signal);
    } else {
      const sources = signal.sources;
      for (let j = 0; j < sources.length; j++) addSource(sources[j]);
    }
  }
  return result;
}

function newAbortError() {
  return newDOMException("This operation was aborted", "AbortError");
}

// DOM §3.2 "signal abort"
function signalAbort(signal, reason) {
  if (signal.reason !== undefined) return;
  signal.reason = reason === undefined ? newAbortError() : reason;
  const toAbort = [];
  const dependents = signal.dependents;
  signal.dependents = null;
  signal.retained = null;
  if (dependents !== null) {
    for (let i = 0; i < dependents.length; i++) {
      const dependent = ReflectApply(WeakRefPrototypeDeref, dependents[i], []);
      if (dependent !== undefined && dependent.reason === undefined) {
        dependent.reason = signal.reason;
        toAbort[toAbort.length] = dependent;
      }
    }
  }
  runAbortSteps(signal);
  for (let i = 0; i < toAbort.length; i++) runAbortSteps(toAbort[i]);
}

// DOM §3.2 "run the abort steps"
function runAbortSteps(signal) {
  const algorithms = signal.algorithms;
  signal.algorithms = null;
  if (algorithms !== null) {
    for (let i = 0; i < algorithms.length; i++) {
      const algorithm = algorithms[i];
      if (algorithm === null) continue;
      try {
        algorithm();
      } catch (error) {
        reportException(error);
      }
    }
  }
  const wrapper = signal.wrapper;
  if (wrapper !== undefined) {
    fireEvent(wrapper, createTrustedEvent(eventClass(), "abort", false));
  }
}

// The public AbortSignal and AbortController are in the chunk js/events,
// loaded on first use. No AbortSignal exists before it is loaded, so these
// answer without loading it.

// The state of an AbortSignal, undefined for any other value.
function abortSignalStateOrUndefined(value) {
  const events = loadedChunks.events;
  return events === undefined ? undefined : events.abortSignalStateOrUndefined(value);
}

function isAbortSignal(value) {
  const events = loadedChunks.events;
  return events !== undefined && events.isAbortSignal(value);
}

function abortSignalClass() {
  return layerChunk("events").abortSignalClass();
}

// (AbortSignal) -> its state record; TypeError for anything else.
function abortSignalStateOf(value) {
  const signal = abortSignalStateOrUndefined(value);
  if (signal === undefined) throw new TypeErrorCtor("the value is not an AbortSignal");
  return signal;
}

function abortSignalWrapper(signal) {
  if (signal.wrapper === undefined) {
    const AbortSignal = abortSignalClass();
    new AbortSignal(kInternal, signal);
  }
  return signal.wrapper;
}

exposeLazyInterface("AbortSignal", abortSignalClass);
