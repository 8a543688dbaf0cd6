// 07_streams.js
//
// ReadableStream (WHATWG Streams §4): the stream, its default controller,
// default reader and async iterator; byte streams (ReadableByteStreamController,
// BYOB readers) are in 23_byte_streams.js, WritableStream in
// 24_writable_streams.js, pipeTo in 25_pipe.js, TransformStream in
// 26_transform_streams.js. Internal slots live in plain records
// (newStreamState(), newControllerState(), newReaderState()) that tenant
// code never sees; the public classes, created on first use, are thin
// wrappers holding one of them in a private field. The abstract operations
// below work on the records, so host-facing code (body reading, response
// pumping) never goes through a public, patchable method and never needs
// the public classes. A controller record says which kind it is (`byte`),
// and the operations that differ ([[PullSteps]], [[CancelSteps]],
// [[ReleaseSteps]]) dispatch on it.

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

function listQueuePeek(queue) {
  return queue.items[queue.head];
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
    byte: false, // a ReadableByteStreamController record when true
    wrapper: undefined,
  };
}

// Streams §4.4.2 ReadableStreamDefaultReader internal slots. The closed
// promise is created on first access of `reader.closed`; until then only
// its state is tracked.
function newReaderState() {
  return {
    byob: false,
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

// Streams §4.3 ReadableStreamGenericReader cancel(reason), once the reader's
// brand is checked (§4.3.1 ReadableStreamReaderGenericCancel).
function readerGenericCancel(reader, reason) {
  if (reader.stream === undefined) {
    return promiseReject(new TypeErrorCtor("Cannot cancel with a released reader"));
  }
  return readableStreamCancel(reader.stream, reason);
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
// Streams §4.9.2 interfacing with controllers

function readableStreamClose(stream) {
  stream.state = "closed";
  const reader = stream.reader;
  if (reader === undefined) return;
  readerSettleClosed(reader, "resolved", undefined);
  if (reader.byob) return;
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
  if (reader.byob) byteStreamOps().readableStreamBYOBReaderErrorReadIntoRequests(reader, error);
  else readableStreamDefaultReaderErrorReadRequests(reader, error);
}

// Streams §4.9.2 ReadableStreamCancel
function readableStreamCancel(stream, reason) {
  stream.disturbed = true;
  if (stream.state === "closed") return promiseResolve(undefined);
  if (stream.state === "errored") return promiseReject(stream.storedError);
  readableStreamClose(stream);
  const reader = stream.reader;
  if (reader !== undefined && reader.byob) {
    const requests = reader.readIntoRequests;
    reader.readIntoRequests = listQueueNew();
    while (listQueueSize(requests) > 0) listQueueShift(requests).closeSteps(undefined);
  }
  const sourceCancelPromise = readableStreamControllerCancelSteps(stream.controller, reason);
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

function readableStreamHasDefaultReader(stream) {
  return stream.reader !== undefined && !stream.reader.byob;
}

function readableStreamGetNumReadRequests(stream) {
  return listQueueSize(stream.reader.readRequests);
}

// IsReadableStreamLocked(stream) and GetNumReadRequests(stream) > 0
function readableStreamHasPendingReads(stream) {
  return readableStreamHasDefaultReader(stream) && readableStreamGetNumReadRequests(stream) > 0;
}

// [[PullSteps]], [[CancelSteps]] and [[ReleaseSteps]] of either controller.
function readableStreamControllerPullSteps(controller, readRequest) {
  if (controller.byte) {
    byteStreamOps().readableByteStreamControllerPullSteps(controller, readRequest);
  } else {
    readableStreamDefaultControllerPullSteps(controller, readRequest);
  }
}

function readableStreamControllerCancelSteps(controller, reason) {
  if (controller.byte) {
    byteStreamOps().readableByteStreamControllerClearPendingPullIntos(controller);
  }
  resetQueue(controller);
  const cancelAlgorithm = controller.cancelAlgorithm;
  const result =
    cancelAlgorithm === undefined ? promiseResolve(undefined) : cancelAlgorithm(reason);
  if (controller.byte) byteStreamOps().readableByteStreamControllerClearAlgorithms(controller);
  else readableStreamDefaultControllerClearAlgorithms(controller);
  return result;
}

function readableStreamControllerReleaseSteps(controller) {
  if (controller.byte) byteStreamOps().readableByteStreamControllerReleaseSteps(controller);
}

// ---------------------------------------------------------------------------
// Streams §4.9.3 readers

function setUpReadableStreamDefaultReader(reader, stream) {
  if (stream.reader !== undefined) {
    throw new TypeErrorCtor("ReadableStream is locked");
  }
  readableStreamReaderGenericInitialize(reader, stream);
}

function readableStreamReaderGenericInitialize(reader, stream) {
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
    readableStreamControllerPullSteps(stream.controller, readRequest);
  }
}

function readableStreamDefaultReaderErrorReadRequests(reader, error) {
  const requests = reader.readRequests;
  reader.readRequests = listQueueNew();
  while (listQueueSize(requests) > 0) listQueueShift(requests).errorSteps(error);
}

// Streams §4.9.3 ReadableStreamReaderGenericRelease
function readableStreamReaderGenericRelease(reader) {
  const stream = reader.stream;
  readerSettleClosed(
    reader,
    "rejected",
    new TypeErrorCtor("the reader's lock was released"),
  );
  readableStreamControllerReleaseSteps(stream.controller);
  stream.reader = undefined;
  reader.stream = undefined;
}

// Streams §4.9.3 ReadableStreamDefaultReaderRelease
function readableStreamDefaultReaderRelease(reader) {
  readableStreamReaderGenericRelease(reader);
  readableStreamDefaultReaderErrorReadRequests(
    reader,
    new TypeErrorCtor("the reader's lock was released"),
  );
}

// Releases either kind of reader.
function readableStreamReaderRelease(reader) {
  if (reader.byob) byteStreamOps().readableStreamBYOBReaderRelease(reader);
  else readableStreamDefaultReaderRelease(reader);
}

// ---------------------------------------------------------------------------
// Streams §4.9.4 default controllers

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

// Streams §8.1 EnqueueValueWithSize
function enqueueValueWithSize(container, value, size) {
  if (typeof size !== "number" || !(size >= 0) || size === Infinity) {
    throw new RangeErrorCtor(
      "the queuing strategy's size() must return a finite, non-negative number",
    );
  }
  listQueuePush(container.queue, { value, size });
  container.queueTotalSize += size;
}

// Streams §8.1 DequeueValue
function dequeueValue(container) {
  const entry = listQueueShift(container.queue);
  container.queueTotalSize -= entry.size;
  if (container.queueTotalSize < 0) container.queueTotalSize = 0;
  return entry.value;
}

function readableStreamDefaultControllerEnqueue(controller, chunk) {
  if (!readableStreamDefaultControllerCanCloseOrEnqueue(controller)) return;
  const stream = controller.stream;
  if (readableStreamHasPendingReads(stream)) {
    readableStreamFulfillReadRequest(stream, chunk, false);
  } else {
    try {
      enqueueValueWithSize(controller, chunk, controller.strategySizeAlgorithm(chunk));
    } catch (error) {
      readableStreamDefaultControllerError(controller, error);
      throw error;
    }
  }
  readableStreamDefaultControllerCallPullIfNeeded(controller);
}

// Used by TransformStream: true when the readable side wants no more.
function readableStreamDefaultControllerHasBackpressure(controller) {
  return !readableStreamDefaultControllerShouldCallPull(controller);
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
    const chunk = dequeueValue(controller);
    if (controller.closeRequested && listQueueSize(controller.queue) === 0) {
      readableStreamDefaultControllerClearAlgorithms(controller);
      readableStreamClose(stream);
    } else {
      readableStreamDefaultControllerCallPullIfNeeded(controller);
    }
    readRequest.chunkSteps(chunk);
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

// Streams §4.9.1 ReadableStreamTee(stream, cloneForBranch2): two branch
// states.
function readableStreamTee(stream, cloneForBranch2) {
  if (stream.controller.byte) return byteStreamOps().readableByteStreamTee(stream);
  return readableStreamDefaultTee(stream, cloneForBranch2);
}

// Streams §4.9.1 ReadableStreamDefaultTee
function readableStreamDefaultTee(stream, cloneForBranch2) {
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
        let chunk2 = chunk;
        if (!canceled2 && cloneForBranch2) {
          try {
            chunk2 = structuredCloneOps().structuredCloneInternal(chunk);
          } catch (error) {
            readableStreamDefaultControllerError(branch1.controller, error);
            readableStreamDefaultControllerError(branch2.controller, error);
            cancelDeferred.resolve(readableStreamCancel(stream, error));
            return;
          }
        }
        if (!canceled1) {
          readableStreamDefaultControllerEnqueue(branch1.controller, chunk);
        }
        if (!canceled2) {
          readableStreamDefaultControllerEnqueue(branch2.controller, chunk2);
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

// Streams "usage by other specifications" (readable streams): enqueue,
// close and error whatever the kind of the controller.
function readableStreamSourceEnqueue(controller, chunk) {
  if (controller.byte) byteStreamOps().readableByteStreamControllerEnqueue(controller, chunk);
  else readableStreamDefaultControllerEnqueue(controller, chunk);
}

function readableStreamSourceClose(controller) {
  if (!controller.byte) {
    readableStreamDefaultControllerClose(controller);
    return;
  }
  byteStreamOps().readableByteStreamControllerClose(controller);
  if (listQueueSize(controller.pendingPullIntos) > 0) {
    byteStreamOps().readableByteStreamControllerRespond(controller, 0);
  }
}

function readableStreamSourceError(controller, error) {
  if (controller.byte) byteStreamOps().readableByteStreamControllerError(controller, error);
  else readableStreamDefaultControllerError(controller, error);
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
  if (typedArrayKind(chunk) !== "Uint8Array") {
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

// Streams §7.1 QueuingStrategy { highWaterMark, size } converted by Web IDL
// (members in order): { highWaterMark: number | undefined, size: function |
// undefined }.
function queuingStrategyFrom(strategy, context) {
  const dict = toDictionary(strategy, context);
  if (dict === undefined) return { highWaterMark: undefined, size: undefined };
  const hwm = dict.highWaterMark;
  const size = dict.size;
  if (size !== undefined && typeof size !== "function") {
    throw new TypeErrorCtor(`${context}: the queuing strategy's size is not a function`);
  }
  return { highWaterMark: hwm === undefined ? undefined : NumberCtor(hwm), size };
}

// Streams §7.4 ExtractHighWaterMark
function extractHighWaterMark(strategy, defaultHWM) {
  const hwm = strategy.highWaterMark;
  if (hwm === undefined) return defaultHWM;
  if (NumberIsNaN(hwm) || hwm < 0) {
    throw new RangeErrorCtor("the queuing strategy's highWaterMark must be a non-negative number");
  }
  return hwm;
}

// Streams §7.4 ExtractSizeAlgorithm
function extractSizeAlgorithm(strategy) {
  const size = strategy.size;
  if (size === undefined) return sizeOne;
  return (chunk) => NumberCtor(ReflectApply(size, undefined, [chunk]));
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

// A callback member of an underlying source/sink or transformer dictionary:
// undefined when absent, else it must be callable.
function dictionaryCallback(dict, name, context) {
  const value = dict[name];
  if (value === undefined) return undefined;
  if (typeof value !== "function") {
    throw new TypeErrorCtor(`${context}.${name} is not a function`);
  }
  return value;
}

// Streams §4.2.3 UnderlyingSource, members in Web IDL order.
function underlyingSourceFrom(source) {
  const context = "ReadableStream: underlyingSource";
  const out = {
    autoAllocateChunkSize: undefined,
    cancel: undefined,
    pull: undefined,
    start: undefined,
    type: undefined,
  };
  if (source === undefined || source === null) return out;
  if (!isObjectLike(source)) {
    throw new TypeErrorCtor("ReadableStream: parameter 1 is not an object");
  }
  const chunkSize = source.autoAllocateChunkSize;
  if (chunkSize !== undefined) {
    out.autoAllocateChunkSize = toEnforceRangeUnsignedLongLong(
      chunkSize,
      `${context}.autoAllocateChunkSize`,
    );
  }
  out.cancel = dictionaryCallback(source, "cancel", context);
  out.pull = dictionaryCallback(source, "pull", context);
  out.start = dictionaryCallback(source, "start", context);
  const type = source.type;
  if (type !== undefined) {
    out.type = `${type}`;
    if (out.type !== "bytes") {
      throw new TypeErrorCtor(`${context}.type: '${out.type}' is not a valid value`);
    }
  }
  return out;
}

// Streams §4.9.4 SetUpReadableStreamDefaultControllerFromUnderlyingSource
function setUpReadableStreamDefaultControllerFromUnderlyingSource(
  stream,
  source,
  dict,
  highWaterMark,
  sizeAlgorithm,
) {
  const controller = newControllerState();
  const { ReadableStreamDefaultController } = streamClasses();
  const wrapper = new ReadableStreamDefaultController(kInternal, controller);
  const { start, pull, cancel } = dict;
  setUpReadableStreamDefaultController(
    stream,
    controller,
    start === undefined ? noop : () => ReflectApply(start, source, [wrapper]),
    pull === undefined ? resolvedUndefined : () => promiseCall(pull, source, [wrapper]),
    cancel === undefined ? resolvedUndefined : (reason) => promiseCall(cancel, source, [reason]),
    highWaterMark,
    sizeAlgorithm,
  );
}

// Streams §4.2.5 StreamPipeOptions { preventAbort, preventCancel,
// preventClose, signal } (Web IDL order).
function streamPipeOptionsFrom(options, context) {
  const dict = toDictionary(options, context);
  const out = { preventAbort: false, preventCancel: false, preventClose: false, signal: undefined };
  if (dict === undefined) return out;
  out.preventAbort = !!dict.preventAbort;
  out.preventCancel = !!dict.preventCancel;
  out.preventClose = !!dict.preventClose;
  const signal = dict.signal;
  if (signal !== undefined) {
    if (!isAbortSignal(signal)) {
      throw new TypeErrorCtor(`${context}: the 'signal' option is not an AbortSignal`);
    }
    out.signal = abortSignalStateOf(signal);
  }
  return out;
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
      const strategyDict = queuingStrategyFrom(strategy, "ReadableStream");
      const sourceDict = underlyingSourceFrom(underlyingSource);
      const stream = newStreamState();
      this.#s = stream;
      stream.wrapper = this;
      if (sourceDict.type === "bytes") {
        if (strategyDict.size !== undefined) {
          throw new RangeErrorCtor("ReadableStream: a byte stream cannot have a strategy.size");
        }
        byteStreamOps().setUpReadableByteStreamControllerFromUnderlyingSource(
          stream,
          underlyingSource,
          sourceDict,
          extractHighWaterMark(strategyDict, 0),
        );
      } else {
        setUpReadableStreamDefaultControllerFromUnderlyingSource(
          stream,
          underlyingSource,
          sourceDict,
          extractHighWaterMark(strategyDict, 1),
          extractSizeAlgorithm(strategyDict),
        );
      }
    }

    // Streams §4.2.4 static from(asyncIterable)
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

    // Streams §4.2.4 getReader(options)
    getReader(options = undefined) {
      const stream = this.#s;
      const dict = toDictionary(options, "ReadableStream.getReader");
      const mode = dict === undefined ? undefined : dict.mode;
      if (mode === undefined) return new ReadableStreamDefaultReader(this);
      const m = `${mode}`;
      if (m !== "byob") {
        throw new TypeErrorCtor(
          `ReadableStream.getReader: '${m}' is not a valid value for mode`,
        );
      }
      const { acquireReadableStreamBYOBReader, readableStreamBYOBReaderWrapper } = byteStreamOps();
      return readableStreamBYOBReaderWrapper(acquireReadableStreamBYOBReader(stream));
    }

    // Streams §4.2.4 pipeThrough(transform, options)
    pipeThrough(transform, options = undefined) {
      requireArguments(arguments.length, 1, "ReadableStream.pipeThrough");
      const stream = this.#s;
      // ReadableWritablePair { required readable, required writable }
      if (!isObjectLike(transform)) {
        throw new TypeErrorCtor("ReadableStream.pipeThrough: parameter 1 is not an object");
      }
      const readable = transform.readable;
      if (!isReadableStream(readable)) {
        throw new TypeErrorCtor(
          "ReadableStream.pipeThrough: transform.readable is not a ReadableStream",
        );
      }
      const writable = transform.writable;
      if (!isWritableStream(writable)) {
        throw new TypeErrorCtor(
          "ReadableStream.pipeThrough: transform.writable is not a WritableStream",
        );
      }
      const opts = streamPipeOptionsFrom(options, "ReadableStream.pipeThrough");
      if (stream.reader !== undefined) {
        throw new TypeErrorCtor("ReadableStream.pipeThrough: the stream is locked");
      }
      const dest = writableStreamStateOf(writable);
      if (dest.writer !== undefined) {
        throw new TypeErrorCtor("ReadableStream.pipeThrough: transform.writable is locked");
      }
      const promise = pipeOps().readableStreamPipeTo(
        stream,
        dest,
        opts.preventClose,
        opts.preventAbort,
        opts.preventCancel,
        opts.signal,
      );
      markPromiseHandled(promise);
      return readable;
    }

    // Streams §4.2.4 pipeTo(destination, options)
    pipeTo(destination, options = undefined) {
      if (!(isObjectLike(this) && #s in this)) {
        return promiseReject(new TypeErrorCtor("Illegal invocation"));
      }
      const stream = this.#s;
      if (!isWritableStream(destination)) {
        return promiseReject(
          new TypeErrorCtor("ReadableStream.pipeTo: parameter 1 is not a WritableStream"),
        );
      }
      let opts;
      try {
        opts = streamPipeOptionsFrom(options, "ReadableStream.pipeTo");
      } catch (error) {
        return promiseReject(error);
      }
      if (stream.reader !== undefined) {
        return promiseReject(new TypeErrorCtor("ReadableStream.pipeTo: the stream is locked"));
      }
      const dest = writableStreamStateOf(destination);
      if (dest.writer !== undefined) {
        return promiseReject(
          new TypeErrorCtor("ReadableStream.pipeTo: the destination is locked"),
        );
      }
      return pipeOps().readableStreamPipeTo(
        stream,
        dest,
        opts.preventClose,
        opts.preventAbort,
        opts.preventCancel,
        opts.signal,
      );
    }

    // Streams §4.2.4 tee()
    tee() {
      const branches = readableStreamTee(this.#s, false);
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
      return readerGenericCancel(this.#r, reason);
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
      readableStreamDefaultControllerEnqueue(controller, chunk);
    }

    error(e = undefined) {
      readableStreamDefaultControllerError(this.#c, e);
    }
  }
  configureInterface(ReadableStreamDefaultController);
  registerInspectHook(ReadableStreamDefaultController, (controller) => ({
    desiredSize: controller.desiredSize,
  }));

  return {
    ReadableStream,
    ReadableStreamDefaultReader,
    ReadableStreamDefaultController,
  };
});
