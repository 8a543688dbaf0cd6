// 07_streams.js
//
// ReadableStream with the default controller and default reader (WHATWG
// Streams §4). Internal slots live in plain records (newStreamState(),
// newControllerState(), newReaderState()) that tenant code never sees; the
// public classes, created on first use, are thin wrappers holding one of
// them in a private field. The abstract operations below work on the
// records, so host-facing code (body reading, response pumping) never goes
// through a public, patchable method and never needs the public classes.
//
// Not yet: byte streams (type: "bytes" is accepted but runs on a default
// controller that copies enqueued views into Uint8Arrays), BYOB readers,
// pipeTo/pipeThrough, WritableStream, TransformStream.

// A FIFO without Array.prototype.shift (O(1) amortised, not patchable):
// { items, head }.
function listQueueNew() {
  return { items: [], head: 0 };
}

function listQueueSize(queue) {
  return queue.items.length - queue.head;
}

function listQueuePush(queue, value) {
  const items = queue.items;
  items[items.length] = value;
}

function listQueueShift(queue) {
  const items = queue.items;
  const head = queue.head;
  const value = items[head];
  items[head] = undefined;
  if (head + 1 === items.length) {
    queue.items = [];
    queue.head = 0;
  } else if (head >= 1024 && head * 2 >= items.length) {
    const rest = [];
    for (let i = head + 1; i < items.length; i++) rest[rest.length] = items[i];
    queue.items = rest;
    queue.head = 0;
  } else {
    queue.head = head + 1;
  }
  return value;
}

// Streams §4.2.2 ReadableStream internal slots
function newStreamState() {
  return {
    state: "readable", // "readable" | "closed" | "errored"
    reader: undefined,
    storedError: undefined,
    disturbed: false,
    controller: undefined,
    wrapper: undefined, // the public ReadableStream, created on demand
  };
}

// Streams §4.6.2 ReadableStreamDefaultController internal slots
function newControllerState() {
  return {
    stream: undefined,
    queue: listQueueNew(), // entries: { value, size }
    queueTotalSize: 0,
    started: false,
    closeRequested: false,
    pullAgain: false,
    pulling: false,
    strategyHWM: 1,
    strategySizeAlgorithm: undefined,
    pullAlgorithm: undefined, // (controller) -> Promise
    cancelAlgorithm: undefined, // (reason) -> Promise
    bytes: false, // type: "bytes" emulation
    wrapper: undefined,
  };
}

// Streams §4.4.2 ReadableStreamDefaultReader internal slots. The closed
// promise is created on first access of `reader.closed`; until then only
// its state is tracked.
function newReaderState() {
  return {
    stream: undefined,
    readRequests: listQueueNew(),
    closedState: "pending", // "pending" | "resolved" | "rejected"
    closedError: undefined,
    closedDeferred: undefined,
    wrapper: undefined,
  };
}

function readerSettleClosed(reader, state, error) {
  const deferred = reader.closedDeferred;
  if (deferred !== undefined) {
    if (reader.closedState === "pending") {
      if (state === "resolved") {
        deferred.resolve(undefined);
      } else {
        deferred.reject(error);
        markPromiseHandled(deferred.promise);
      }
    } else {
      // Already settled: the slot gets a new promise (created lazily).
      reader.closedDeferred = undefined;
    }
  }
  reader.closedState = state;
  reader.closedError = error;
}

function readerClosedPromise(reader) {
  let deferred = reader.closedDeferred;
  if (deferred === undefined) {
    deferred = createDeferred();
    reader.closedDeferred = deferred;
    if (reader.closedState === "resolved") {
      deferred.resolve(undefined);
    } else if (reader.closedState === "rejected") {
      deferred.reject(reader.closedError);
      markPromiseHandled(deferred.promise);
    }
  }
  return deferred.promise;
}

// ---------------------------------------------------------------------------
// Streams §4.9 ReadableStream abstract operations

function readableStreamClose(stream) {
  stream.state = "closed";
  const reader = stream.reader;
  if (reader === undefined) return;
  readerSettleClosed(reader, "resolved", undefined);
  const requests = reader.readRequests;
  reader.readRequests = listQueueNew();
  while (listQueueSize(requests) > 0) listQueueShift(requests).closeSteps();
}

function readableStreamError(stream, error) {
  stream.state = "errored";
  stream.storedError = error;
  const reader = stream.reader;
  if (reader === undefined) return;
  readerSettleClosed(reader, "rejected", error);
  readableStreamDefaultReaderErrorReadRequests(reader, error);
}

function readableStreamCancel(stream, reason) {
  stream.disturbed = true;
  if (stream.state === "closed") return promiseResolve(undefined);
  if (stream.state === "errored") return promiseReject(stream.storedError);
  readableStreamClose(stream);
  // [[CancelSteps]] of the default controller (§4.6.5)
  const controller = stream.controller;
  resetQueue(controller);
  const cancelAlgorithm = controller.cancelAlgorithm;
  const sourceCancelPromise =
    cancelAlgorithm === undefined
      ? promiseResolve(undefined)
      : cancelAlgorithm(reason);
  readableStreamDefaultControllerClearAlgorithms(controller);
  return promiseThen(sourceCancelPromise, noop, undefined);
}

function readableStreamAddReadRequest(stream, readRequest) {
  listQueuePush(stream.reader.readRequests, readRequest);
}

function readableStreamFulfillReadRequest(stream, chunk, done) {
  const readRequest = listQueueShift(stream.reader.readRequests);
  if (done) readRequest.closeSteps();
  else readRequest.chunkSteps(chunk);
}

function readableStreamHasPendingReads(stream) {
  const reader = stream.reader;
  return reader !== undefined && listQueueSize(reader.readRequests) > 0;
}

// ---------------------------------------------------------------------------
// Streams §4.4 readers

function setUpReadableStreamDefaultReader(reader, stream) {
  if (stream.reader !== undefined) {
    throw new TypeErrorCtor("ReadableStream is locked");
  }
  // ReadableStreamReaderGenericInitialize
  reader.stream = stream;
  stream.reader = reader;
  if (stream.state === "closed") {
    reader.closedState = "resolved";
  } else if (stream.state === "errored") {
    reader.closedState = "rejected";
    reader.closedError = stream.storedError;
  }
}

function acquireReadableStreamDefaultReader(stream) {
  const reader = newReaderState();
  setUpReadableStreamDefaultReader(reader, stream);
  return reader;
}

function readableStreamDefaultReaderRead(reader, readRequest) {
  const stream = reader.stream;
  stream.disturbed = true;
  if (stream.state === "closed") {
    readRequest.closeSteps();
  } else if (stream.state === "errored") {
    readRequest.errorSteps(stream.storedError);
  } else {
    readableStreamDefaultControllerPullSteps(stream.controller, readRequest);
  }
}

function readableStreamDefaultReaderErrorReadRequests(reader, error) {
  const requests = reader.readRequests;
  reader.readRequests = listQueueNew();
  while (listQueueSize(requests) > 0) listQueueShift(requests).errorSteps(error);
}

// ReadableStreamReaderGenericRelease + ReadableStreamDefaultReaderRelease
function readableStreamDefaultReaderRelease(reader) {
  const stream = reader.stream;
  readerSettleClosed(
    reader,
    "rejected",
    new TypeErrorCtor("the reader's lock was released"),
  );
  stream.reader = undefined;
  reader.stream = undefined;
  readableStreamDefaultReaderErrorReadRequests(
    reader,
    new TypeErrorCtor("the reader's lock was released"),
  );
}

// ---------------------------------------------------------------------------
// Streams §4.6.4 ReadableStreamDefaultController abstract operations

function resetQueue(controller) {
  controller.queue = listQueueNew();
  controller.queueTotalSize = 0;
}

function readableStreamDefaultControllerClearAlgorithms(controller) {
  controller.pullAlgorithm = undefined;
  controller.cancelAlgorithm = undefined;
  controller.strategySizeAlgorithm = undefined;
}

function readableStreamDefaultControllerCanCloseOrEnqueue(controller) {
  return !controller.closeRequested && controller.stream.state === "readable";
}

function readableStreamDefaultControllerGetDesiredSize(controller) {
  const state = controller.stream.state;
  if (state === "errored") return null;
  if (state === "closed") return 0;
  return controller.strategyHWM - controller.queueTotalSize;
}

function readableStreamDefaultControllerShouldCallPull(controller) {
  if (!readableStreamDefaultControllerCanCloseOrEnqueue(controller)) return false;
  if (!controller.started) return false;
  if (readableStreamHasPendingReads(controller.stream)) return true;
  return readableStreamDefaultControllerGetDesiredSize(controller) > 0;
}

function readableStreamDefaultControllerCallPullIfNeeded(controller) {
  if (!readableStreamDefaultControllerShouldCallPull(controller)) return;
  if (controller.pulling) {
    controller.pullAgain = true;
    return;
  }
  controller.pulling = true;
  const pullPromise = controller.pullAlgorithm(controller);
  promiseThen(
    pullPromise,
    () => {
      controller.pulling = false;
      if (controller.pullAgain) {
        controller.pullAgain = false;
        readableStreamDefaultControllerCallPullIfNeeded(controller);
      }
    },
    (error) => {
      readableStreamDefaultControllerError(controller, error);
    },
  );
}

function readableStreamDefaultControllerClose(controller) {
  if (!readableStreamDefaultControllerCanCloseOrEnqueue(controller)) return;
  controller.closeRequested = true;
  if (listQueueSize(controller.queue) === 0) {
    readableStreamDefaultControllerClearAlgorithms(controller);
    readableStreamClose(controller.stream);
  }
}

function readableStreamDefaultControllerEnqueue(controller, chunk) {
  if (!readableStreamDefaultControllerCanCloseOrEnqueue(controller)) return;
  const stream = controller.stream;
  if (readableStreamHasPendingReads(stream)) {
    readableStreamFulfillReadRequest(stream, chunk, false);
  } else {
    let size;
    try {
      size = controller.strategySizeAlgorithm(chunk);
      // EnqueueValueWithSize (§8.1)
      if (typeof size !== "number" || !(size >= 0) || size === Infinity) {
        throw new RangeErrorCtor(
          "the queuing strategy's size() must return a finite, non-negative number",
        );
      }
    } catch (error) {
      readableStreamDefaultControllerError(controller, error);
      throw error;
    }
    listQueuePush(controller.queue, { value: chunk, size });
    controller.queueTotalSize += size;
  }
  readableStreamDefaultControllerCallPullIfNeeded(controller);
}

function readableStreamDefaultControllerError(controller, error) {
  const stream = controller.stream;
  if (stream.state !== "readable") return;
  resetQueue(controller);
  readableStreamDefaultControllerClearAlgorithms(controller);
  readableStreamError(stream, error);
}

// [[PullSteps]] (§4.6.5)
function readableStreamDefaultControllerPullSteps(controller, readRequest) {
  const stream = controller.stream;
  if (listQueueSize(controller.queue) > 0) {
    // DequeueValue (§8.1)
    const entry = listQueueShift(controller.queue);
    controller.queueTotalSize -= entry.size;
    if (controller.queueTotalSize < 0) controller.queueTotalSize = 0;
    if (controller.closeRequested && listQueueSize(controller.queue) === 0) {
      readableStreamDefaultControllerClearAlgorithms(controller);
      readableStreamClose(stream);
    } else {
      readableStreamDefaultControllerCallPullIfNeeded(controller);
    }
    readRequest.chunkSteps(entry.value);
  } else {
    readableStreamAddReadRequest(stream, readRequest);
    readableStreamDefaultControllerCallPullIfNeeded(controller);
  }
}

function setUpReadableStreamDefaultController(
  stream,
  controller,
  startAlgorithm,
  pullAlgorithm,
  cancelAlgorithm,
  highWaterMark,
  sizeAlgorithm,
) {
  controller.stream = stream;
  controller.strategySizeAlgorithm = sizeAlgorithm;
  controller.strategyHWM = highWaterMark;
  controller.pullAlgorithm = pullAlgorithm;
  controller.cancelAlgorithm = cancelAlgorithm;
  stream.controller = controller;
  const startResult = startAlgorithm(controller);
  promiseThen(
    promiseResolve(startResult),
    () => {
      controller.started = true;
      readableStreamDefaultControllerCallPullIfNeeded(controller);
    },
    (error) => {
      readableStreamDefaultControllerError(controller, error);
    },
  );
}

function sizeOne() {
  return 1;
}

function resolvedUndefined() {
  return resolvedPromise;
}

// CreateReadableStream (§4.9): internal streams. Algorithms receive the
// ControllerState; pull must return a promise.
function createReadableStreamState(
  startAlgorithm,
  pullAlgorithm,
  cancelAlgorithm,
  highWaterMark = 1,
  sizeAlgorithm = sizeOne,
) {
  const stream = newStreamState();
  setUpReadableStreamDefaultController(
    stream,
    newControllerState(),
    startAlgorithm === undefined ? noop : startAlgorithm,
    pullAlgorithm === undefined ? resolvedUndefined : pullAlgorithm,
    cancelAlgorithm === undefined ? resolvedUndefined : cancelAlgorithm,
    highWaterMark,
    sizeAlgorithm,
  );
  return stream;
}

// A stream that yields `chunk` once and closes (used for byte bodies).
function createSingleChunkStreamState(chunk) {
  return createReadableStreamState(
    (controller) => {
      readableStreamDefaultControllerEnqueue(controller, chunk);
      readableStreamDefaultControllerClose(controller);
    },
    undefined,
    undefined,
    0,
  );
}

// Streams §4.9 ReadableStreamDefaultTee (cloneForBranch2 = false)
function readableStreamDefaultTee(stream) {
  const reader = acquireReadableStreamDefaultReader(stream);
  let reading = false;
  let readAgain = false;
  let canceled1 = false;
  let canceled2 = false;
  let reason1;
  let reason2;
  let branch1;
  let branch2;
  const cancelDeferred = createDeferred();

  const readRequest = {
    chunkSteps(chunk) {
      // Queued so that an error right after this chunk is seen first.
      enqueueMicrotask(() => {
        readAgain = false;
        if (!canceled1) {
          readableStreamDefaultControllerEnqueue(branch1.controller, chunk);
        }
        if (!canceled2) {
          readableStreamDefaultControllerEnqueue(branch2.controller, chunk);
        }
        reading = false;
        if (readAgain) pullAlgorithm();
      });
    },
    closeSteps() {
      reading = false;
      if (!canceled1) readableStreamDefaultControllerClose(branch1.controller);
      if (!canceled2) readableStreamDefaultControllerClose(branch2.controller);
      if (!canceled1 || !canceled2) cancelDeferred.resolve(undefined);
    },
    errorSteps() {
      reading = false;
    },
  };

  function pullAlgorithm() {
    if (reading) {
      readAgain = true;
      return resolvedPromise;
    }
    reading = true;
    readableStreamDefaultReaderRead(reader, readRequest);
    return resolvedPromise;
  }

  function cancelBoth() {
    const cancelResult = readableStreamCancel(stream, [reason1, reason2]);
    promiseThen(cancelResult, cancelDeferred.resolve, cancelDeferred.reject);
  }

  function cancel1Algorithm(reason) {
    canceled1 = true;
    reason1 = reason;
    if (canceled2) cancelBoth();
    return cancelDeferred.promise;
  }

  function cancel2Algorithm(reason) {
    canceled2 = true;
    reason2 = reason;
    if (canceled1) cancelBoth();
    return cancelDeferred.promise;
  }

  branch1 = createReadableStreamState(undefined, pullAlgorithm, cancel1Algorithm);
  branch2 = createReadableStreamState(undefined, pullAlgorithm, cancel2Algorithm);

  promiseThen(readerClosedPromise(reader), undefined, (error) => {
    readableStreamDefaultControllerError(branch1.controller, error);
    readableStreamDefaultControllerError(branch2.controller, error);
    if (!canceled1 || !canceled2) cancelDeferred.resolve(undefined);
  });

  return [branch1, branch2];
}

// Streams §4.9 ReadableStreamFromIterable
function readableStreamFromIterable(asyncIterable) {
  let iterator;
  let nextMethod;
  let isSync = false;
  const asyncMethod = asyncIterable == null ? undefined : asyncIterable[SymbolAsyncIterator];
  if (asyncMethod !== undefined && asyncMethod !== null) {
    if (typeof asyncMethod !== "function") {
      throw new TypeErrorCtor("ReadableStream.from: Symbol.asyncIterator is not a function");
    }
    iterator = ReflectApply(asyncMethod, asyncIterable, []);
  } else {
    const syncMethod = asyncIterable == null ? undefined : asyncIterable[SymbolIterator];
    if (typeof syncMethod !== "function") {
      throw new TypeErrorCtor("ReadableStream.from: the argument is not iterable");
    }
    iterator = ReflectApply(syncMethod, asyncIterable, []);
    isSync = true; // CreateAsyncFromSyncIterator: values are awaited
  }
  if (!isObjectLike(iterator)) {
    throw new TypeErrorCtor("ReadableStream.from: the iterator is not an object");
  }
  nextMethod = iterator.next;

  function pullAlgorithm(controller) {
    let nextResult;
    try {
      nextResult = ReflectApply(nextMethod, iterator, []);
    } catch (error) {
      return promiseReject(error);
    }
    return promiseThen(promiseResolve(nextResult), (iterResult) => {
      if (!isObjectLike(iterResult)) {
        throw new TypeErrorCtor("ReadableStream.from: the iterator result is not an object");
      }
      if (iterResult.done) {
        readableStreamDefaultControllerClose(controller);
        return undefined;
      }
      const value = iterResult.value;
      if (isSync) {
        return promiseThen(promiseResolve(value), (v) => {
          readableStreamDefaultControllerEnqueue(controller, v);
        }, undefined);
      }
      readableStreamDefaultControllerEnqueue(controller, value);
      return undefined;
    }, undefined);
  }

  function cancelAlgorithm(reason) {
    let returnMethod;
    let returnResult;
    try {
      returnMethod = iterator.return;
      if (returnMethod === undefined || returnMethod === null) {
        return promiseResolve(undefined);
      }
      returnResult = ReflectApply(returnMethod, iterator, [reason]);
    } catch (error) {
      return promiseReject(error);
    }
    return promiseThen(promiseResolve(returnResult), (result) => {
      if (!isObjectLike(result)) {
        throw new TypeErrorCtor("ReadableStream.from: iterator.return() did not return an object");
      }
      return undefined;
    }, undefined);
  }

  return createReadableStreamState(undefined, pullAlgorithm, cancelAlgorithm, 0);
}

// Reads every chunk of `stream` (locking it) into one Uint8Array (Fetch
// "fully read" / Streams "read all bytes"). Returns a promise. The read
// request loops instead of recursing when chunks are already queued.
function readableStreamReadAllBytes(stream) {
  const request = {
    reader: acquireReadableStreamDefaultReader(stream),
    deferred: createDeferred(),
    chunks: [],
    count: 0,
    total: 0,
    inRead: false,
    again: false,
    chunkSteps: readAllBytesChunkSteps,
    closeSteps: readAllBytesCloseSteps,
    errorSteps: readAllBytesErrorSteps,
  };
  readAllBytesLoop(request);
  return request.deferred.promise;
}

function readAllBytesLoop(request) {
  do {
    request.again = false;
    request.inRead = true;
    readableStreamDefaultReaderRead(request.reader, request);
    request.inRead = false;
  } while (request.again);
}

function readAllBytesChunkSteps(chunk) {
  if (ReflectApply(TypedArrayPrototypeGetToStringTag, chunk, []) !== "Uint8Array") {
    this.deferred.reject(new TypeErrorCtor("body stream chunks must be Uint8Array objects"));
    return;
  }
  this.chunks[this.count++] = chunk;
  this.total += typedArrayByteLength(chunk);
  if (this.inRead) this.again = true;
  else readAllBytesLoop(this);
}

function readAllBytesCloseSteps() {
  // Always a copy: the chunks may still be referenced by whoever enqueued
  // them.
  this.deferred.resolve(concatBytes(this.chunks, this.count, this.total));
}

function readAllBytesErrorSteps(error) {
  this.deferred.reject(error);
}

// ---------------------------------------------------------------------------
// Public classes, created on first use.

let readableStreamStateOf; // (ReadableStream) -> StreamState (throws if not one)
let isReadableStream = (value) => false;
const kEndOfIteration = SymbolCtor("end of iteration");

function readableStreamWrapper(stream) {
  if (stream.wrapper === undefined) {
    const { ReadableStream } = streamClasses();
    new ReadableStream(kInternal, stream);
  }
  return stream.wrapper;
}

function extractHighWaterMark(strategy, defaultHWM) {
  if (strategy === undefined) return defaultHWM;
  const hwm = strategy.highWaterMark;
  if (hwm === undefined) return defaultHWM;
  const n = NumberCtor(hwm);
  if (NumberIsNaN(n) || n < 0) {
    throw new RangeErrorCtor("the queuing strategy's highWaterMark must be a non-negative number");
  }
  return n;
}

// Invokes a user callback, turning a throw into a rejected promise
// (Web IDL "invoke a callback function" for promise-returning callbacks).
function promiseCall(fn, thisArg, args) {
  try {
    return promiseResolve(ReflectApply(fn, thisArg, args));
  } catch (error) {
    return promiseReject(error);
  }
}

function sourceCallback(source, name) {
  const value = source[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "function") {
    throw new TypeErrorCtor(`ReadableStream: underlyingSource.${name} is not a function`);
  }
  return value;
}

const streamClasses = once(() => {
  // A read request settling a promise with { value, done } (§4.4.4 read()).
  class PromiseReadRequest {
    constructor(resolve, reject) {
      this.resolve = resolve;
      this.reject = reject;
    }
    chunkSteps(chunk) {
      this.resolve({ value: chunk, done: false });
    }
    closeSteps() {
      this.resolve({ value: undefined, done: true });
    }
    errorSteps(error) {
      this.reject(error);
    }
  }

  class ReadableStream {
    #s;

    // Streams §4.2.4 constructor(underlyingSource, strategy)
    constructor(underlyingSource = undefined, strategy = undefined) {
      if (underlyingSource === kInternal) {
        this.#s = strategy;
        strategy.wrapper = this;
        return;
      }
      const stream = newStreamState();
      this.#s = stream;
      stream.wrapper = this;
      const source = toDictionary(underlyingSource, "ReadableStream");
      const strategyDict = toDictionary(strategy, "ReadableStream");
      // Dictionary members in Web IDL order: cancel, pull, start, type.
      let cancel;
      let pull;
      let start;
      let type;
      if (source !== undefined) {
        cancel = sourceCallback(source, "cancel");
        pull = sourceCallback(source, "pull");
        start = sourceCallback(source, "start");
        type = source.type;
        if (type !== undefined) {
          type = `${type}`;
          if (type !== "bytes") {
            throw new TypeErrorCtor(
              `ReadableStream: '${type}' is not a valid value for underlyingSource.type`,
            );
          }
        }
      }
      let size;
      if (strategyDict !== undefined) {
        size = strategyDict.size;
        if (size !== undefined && typeof size !== "function") {
          throw new TypeErrorCtor("ReadableStream: strategy.size is not a function");
        }
      }
      const controller = newControllerState();
      let highWaterMark;
      let sizeAlgorithm = sizeOne;
      if (type === "bytes") {
        if (size !== undefined) {
          throw new RangeErrorCtor("ReadableStream: a byte stream cannot have a strategy.size");
        }
        highWaterMark = extractHighWaterMark(strategyDict, 0);
        controller.bytes = true;
        sizeAlgorithm = (chunk) => typedArrayByteLength(chunk);
      } else {
        highWaterMark = extractHighWaterMark(strategyDict, 1);
        if (size !== undefined) {
          sizeAlgorithm = (chunk) => NumberCtor(ReflectApply(size, undefined, [chunk]));
        }
      }
      // SetUpReadableStreamDefaultControllerFromUnderlyingSource (§4.6.4)
      const controllerWrapper = new ReadableStreamDefaultController(kInternal, controller);
      setUpReadableStreamDefaultController(
        stream,
        controller,
        start === undefined
          ? noop
          : () => ReflectApply(start, source, [controllerWrapper]),
        pull === undefined
          ? resolvedUndefined
          : () => promiseCall(pull, source, [controllerWrapper]),
        cancel === undefined
          ? resolvedUndefined
          : (reason) => promiseCall(cancel, source, [reason]),
        highWaterMark,
        sizeAlgorithm,
      );
    }

    static from(asyncIterable) {
      requireArguments(arguments.length, 1, "ReadableStream.from");
      return readableStreamWrapper(readableStreamFromIterable(asyncIterable));
    }

    get locked() {
      return this.#s.reader !== undefined;
    }

    cancel(reason = undefined) {
      if (!(isObjectLike(this) && #s in this)) {
        return promiseReject(new TypeErrorCtor("Illegal invocation"));
      }
      const stream = this.#s;
      if (stream.reader !== undefined) {
        return promiseReject(new TypeErrorCtor("Cannot cancel a locked ReadableStream"));
      }
      return readableStreamCancel(stream, reason);
    }

    getReader(options = undefined) {
      this.#s; // brand check
      const dict = toDictionary(options, "ReadableStream.getReader");
      const mode = dict === undefined ? undefined : dict.mode;
      if (mode !== undefined) {
        const m = `${mode}`;
        if (m === "byob") {
          throw new TypeErrorCtor(
            "ReadableStream.getReader: mode 'byob' is not supported yet",
          );
        }
        throw new TypeErrorCtor(
          `ReadableStream.getReader: '${m}' is not a valid value for mode`,
        );
      }
      return new ReadableStreamDefaultReader(this);
    }

    tee() {
      const branches = readableStreamDefaultTee(this.#s);
      return [readableStreamWrapper(branches[0]), readableStreamWrapper(branches[1])];
    }

    // Streams §4.2.5 asynchronous iteration
    values(options = undefined) {
      const stream = this.#s;
      const dict = toDictionary(options, "ReadableStream.values");
      const preventCancel = dict !== undefined && !!dict.preventCancel;
      const reader = acquireReadableStreamDefaultReader(stream);
      return new ReadableStreamAsyncIterator(kInternal, reader, preventCancel);
    }

    static {
      readableStreamStateOf = (value) => {
        if (!isObjectLike(value) || !(#s in value)) {
          throw new TypeErrorCtor("the value is not a ReadableStream");
        }
        return value.#s;
      };
      isReadableStream = (value) => isObjectLike(value) && #s in value;
    }
  }
  ObjectDefineProperty(ReadableStream.prototype, SymbolAsyncIterator, {
    value: ReadableStream.prototype.values,
    writable: true,
    enumerable: false,
    configurable: true,
  });
  configureInterface(ReadableStream);
  registerInspectHook(ReadableStream, (stream) => ({ locked: stream.locked }));


  // Read request for the async iterator: "get the next iteration result".
  class IteratorReadRequest {
    constructor(reader, resolve, reject) {
      this.reader = reader;
      this.resolve = resolve;
      this.reject = reject;
    }
    chunkSteps(chunk) {
      this.resolve(chunk);
    }
    closeSteps() {
      readableStreamDefaultReaderRelease(this.reader);
      this.resolve(kEndOfIteration);
    }
    errorSteps(error) {
      readableStreamDefaultReaderRelease(this.reader);
      this.reject(error);
    }
  }

  // Web IDL §3.7.10.2 asynchronous iterator prototype object for ReadableStream
  class ReadableStreamAsyncIterator {
    #reader;
    #preventCancel;
    #ongoing = null;
    #finished = false;

    constructor(token = undefined, reader = undefined, preventCancel = false) {
      if (token !== kInternal) throw new TypeErrorCtor("Illegal constructor");
      this.#reader = reader;
      this.#preventCancel = preventCancel;
    }

    next() {
      if (!(isObjectLike(this) && #reader in this)) {
        return promiseReject(new TypeErrorCtor("Illegal invocation"));
      }
      const nextSteps = () => {
        if (this.#finished) return { value: undefined, done: true };
        const deferred = createDeferred();
        readableStreamDefaultReaderRead(
          this.#reader,
          new IteratorReadRequest(this.#reader, deferred.resolve, deferred.reject),
        );
        return promiseThen(
          deferred.promise,
          (chunk) => {
            this.#ongoing = null;
            if (chunk === kEndOfIteration) {
              this.#finished = true;
              return { value: undefined, done: true };
            }
            return { value: chunk, done: false };
          },
          (error) => {
            this.#ongoing = null;
            this.#finished = true;
            throw error;
          },
        );
      };
      const ongoing = this.#ongoing;
      const next =
        ongoing === null
          ? promiseResolve(nextSteps())
          : promiseThen(ongoing, nextSteps, nextSteps);
      this.#ongoing = next;
      return next;
    }

    return(value = undefined) {
      if (!(isObjectLike(this) && #reader in this)) {
        return promiseReject(new TypeErrorCtor("Illegal invocation"));
      }
      const returnSteps = () => {
        if (this.#finished) return undefined;
        this.#finished = true;
        const reader = this.#reader;
        if (reader.stream === undefined) return undefined;
        if (!this.#preventCancel) {
          const result = readableStreamCancel(reader.stream, value);
          readableStreamDefaultReaderRelease(reader);
          return result;
        }
        readableStreamDefaultReaderRelease(reader);
        return undefined;
      };
      const ongoing = this.#ongoing;
      const after =
        ongoing === null
          ? promiseCall(returnSteps, undefined, [])
          : promiseThen(ongoing, returnSteps, returnSteps);
      this.#ongoing = after;
      return promiseThen(after, () => ({ value, done: true }), undefined);
    }
  }
  ObjectSetPrototypeOf(ReadableStreamAsyncIterator.prototype, AsyncIteratorPrototype);
  delete ReadableStreamAsyncIterator.prototype.constructor;
  configureInterface(ReadableStreamAsyncIterator, "ReadableStream AsyncIterator");

  class ReadableStreamDefaultReader {
    #r;

    // Streams §4.4.3 constructor(stream)
    constructor(stream) {
      requireArguments(arguments.length, 1, "ReadableStreamDefaultReader");
      if (!isReadableStream(stream)) {
        throw new TypeErrorCtor(
          "ReadableStreamDefaultReader: parameter 1 is not of type 'ReadableStream'",
        );
      }
      const reader = newReaderState();
      setUpReadableStreamDefaultReader(reader, readableStreamStateOf(stream));
      reader.wrapper = this;
      this.#r = reader;
    }

    get closed() {
      if (!(isObjectLike(this) && #r in this)) {
        return promiseReject(new TypeErrorCtor("Illegal invocation"));
      }
      return readerClosedPromise(this.#r);
    }

    read() {
      if (!(isObjectLike(this) && #r in this)) {
        return promiseReject(new TypeErrorCtor("Illegal invocation"));
      }
      const reader = this.#r;
      if (reader.stream === undefined) {
        return promiseReject(
          new TypeErrorCtor("Cannot read from a released reader"),
        );
      }
      const deferred = createDeferred();
      readableStreamDefaultReaderRead(
        reader,
        new PromiseReadRequest(deferred.resolve, deferred.reject),
      );
      return deferred.promise;
    }

    releaseLock() {
      const reader = this.#r;
      if (reader.stream === undefined) return;
      readableStreamDefaultReaderRelease(reader);
    }

    cancel(reason = undefined) {
      if (!(isObjectLike(this) && #r in this)) {
        return promiseReject(new TypeErrorCtor("Illegal invocation"));
      }
      const reader = this.#r;
      if (reader.stream === undefined) {
        return promiseReject(new TypeErrorCtor("Cannot cancel with a released reader"));
      }
      return readableStreamCancel(reader.stream, reason);
    }
  }
  configureInterface(ReadableStreamDefaultReader);

  class ReadableStreamDefaultController {
    #c;

    constructor(token = undefined, controller = undefined) {
      if (token !== kInternal) throw new TypeErrorCtor("Illegal constructor");
      this.#c = controller;
      controller.wrapper = this;
    }

    get desiredSize() {
      return readableStreamDefaultControllerGetDesiredSize(this.#c);
    }

    close() {
      const controller = this.#c;
      if (!readableStreamDefaultControllerCanCloseOrEnqueue(controller)) {
        throw new TypeErrorCtor("The stream is closing or closed and cannot be closed again");
      }
      readableStreamDefaultControllerClose(controller);
    }

    enqueue(chunk = undefined) {
      const controller = this.#c;
      if (!readableStreamDefaultControllerCanCloseOrEnqueue(controller)) {
        throw new TypeErrorCtor("The stream is closing or closed and cannot be enqueued to");
      }
      if (controller.bytes) {
        // type: "bytes" emulation: ArrayBufferView chunks, copied.
        if (!ArrayBufferIsView(chunk)) {
          throw new TypeErrorCtor("chunk must be an ArrayBufferView for a byte stream");
        }
        const view = bufferSourceView(chunk);
        if (typedArrayByteLength(view) === 0) {
          throw new TypeErrorCtor("chunk must have a non-zero byteLength");
        }
        chunk = copyBytes(view);
      }
      readableStreamDefaultControllerEnqueue(controller, chunk);
    }

    error(e = undefined) {
      readableStreamDefaultControllerError(this.#c, e);
    }
  }
  configureInterface(ReadableStreamDefaultController);

  return {
    ReadableStream,
    ReadableStreamDefaultReader,
    ReadableStreamDefaultController,
  };
});

exposeLazyInterface("ReadableStream", () => streamClasses().ReadableStream);
exposeLazyInterface(
  "ReadableStreamDefaultReader",
  () => streamClasses().ReadableStreamDefaultReader,
);
exposeLazyInterface(
  "ReadableStreamDefaultController",
  () => streamClasses().ReadableStreamDefaultController,
);
