// 24_writable_streams.js
//
// WritableStream, WritableStreamDefaultWriter and
// WritableStreamDefaultController (WHATWG Streams §5), on plain records like
// 07_streams.js: newWritableStreamState(), newWritableControllerState() and
// newWriterState(), wrapped by the public classes when tenant code needs
// them.

let writableStreamStateOf; // (WritableStream) -> its state (throws if not one)
let isWritableStream = (value) => false;

function writableStreamWrapper(stream) {
  if (stream.wrapper === undefined) {
    const { WritableStream } = writableStreamOps().writableStreamClasses();
    new WritableStream(kInternal, stream);
  }
  return stream.wrapper;
}

// The abstract operations and classes, created on first use (cold start:
// an isolate that never writes to a stream never creates them).
const writableStreamOps = once(() => {
  // A promise whose settlement is tracked ("pending" | "resolved" |
  // "rejected"): writers replace their ready/closed promises.
  function newTrackedPromise() {
    const deferred = createDeferred();
    deferred.state = "pending";
    return deferred;
  }

  function trackedResolve(tracked, value) {
    if (tracked.state !== "pending") return;
    tracked.state = "resolved";
    tracked.resolve(value);
  }

  function trackedReject(tracked, error) {
    if (tracked.state !== "pending") return;
    tracked.state = "rejected";
    tracked.reject(error);
  }

  function trackedResolvedPromise() {
    const tracked = newTrackedPromise();
    trackedResolve(tracked, undefined);
    return tracked;
  }

  // A rejected promise marked as handled.
  function trackedRejectedPromise(error) {
    const tracked = newTrackedPromise();
    trackedReject(tracked, error);
    markPromiseHandled(tracked.promise);
    return tracked;
  }

  // Streams §5.2.2 WritableStream internal slots
  function newWritableStreamState() {
    return {
      state: "writable", // "writable" | "closed" | "erroring" | "errored"
      storedError: undefined,
      writer: undefined,
      controller: undefined,
      inFlightWriteRequest: undefined,
      closeRequest: undefined,
      inFlightCloseRequest: undefined,
      pendingAbortRequest: undefined, // { deferred, reason, wasAlreadyErroring }
      writeRequests: listQueueNew(), // deferreds
      backpressure: false,
      wrapper: undefined,
    };
  }

  // Streams §5.4.2 WritableStreamDefaultController internal slots
  function newWritableControllerState() {
    return {
      stream: undefined,
      queue: listQueueNew(), // entries: { value, size }; kCloseSentinel marks close
      queueTotalSize: 0,
      started: false,
      strategyHWM: 1,
      strategySizeAlgorithm: undefined,
      writeAlgorithm: undefined, // (chunk) -> Promise
      closeAlgorithm: undefined, // () -> Promise
      abortAlgorithm: undefined, // (reason) -> Promise
      signal: newAbortSignalState(), // [[abortController]]'s signal
      wrapper: undefined,
    };
  }

  // Streams §5.3.2 WritableStreamDefaultWriter internal slots
  function newWriterState() {
    return {
      stream: undefined,
      readyPromise: undefined, // tracked promise
      closedPromise: undefined, // tracked promise
      wrapper: undefined,
    };
  }

  const kCloseSentinel = SymbolCtor("close sentinel");

  // ---------------------------------------------------------------------------
  // Streams §5.5.1 working with writable streams

  function acquireWritableStreamDefaultWriter(stream) {
    const writer = newWriterState();
    setUpWritableStreamDefaultWriter(writer, stream);
    return writer;
  }

  // Streams §5.5.1 CreateWritableStream: internal streams.
  function createWritableStreamState(
    startAlgorithm,
    writeAlgorithm,
    closeAlgorithm,
    abortAlgorithm,
    highWaterMark = 1,
    sizeAlgorithm = sizeOne,
  ) {
    const stream = newWritableStreamState();
    setUpWritableStreamDefaultController(
      stream,
      newWritableControllerState(),
      startAlgorithm,
      writeAlgorithm,
      closeAlgorithm,
      abortAlgorithm,
      highWaterMark,
      sizeAlgorithm,
    );
    return stream;
  }

  // Streams §5.5.1 WritableStreamAbort
  function writableStreamAbort(stream, reason) {
    if (stream.state === "closed" || stream.state === "errored") return promiseResolve(undefined);
    signalAbort(stream.controller.signal, reason);
    const state = stream.state;
    if (state === "closed" || state === "errored") return promiseResolve(undefined);
    if (stream.pendingAbortRequest !== undefined) {
      return stream.pendingAbortRequest.deferred.promise;
    }
    let wasAlreadyErroring = false;
    if (state === "erroring") {
      wasAlreadyErroring = true;
      reason = undefined;
    }
    const deferred = createDeferred();
    stream.pendingAbortRequest = { deferred, reason, wasAlreadyErroring };
    if (!wasAlreadyErroring) writableStreamStartErroring(stream, reason);
    return deferred.promise;
  }

  // Streams §5.5.1 WritableStreamClose
  function writableStreamClose(stream) {
    const state = stream.state;
    if (state === "closed" || state === "errored") {
      return promiseReject(new TypeErrorCtor("The stream is closed or errored"));
    }
    const deferred = createDeferred();
    stream.closeRequest = deferred;
    const writer = stream.writer;
    if (writer !== undefined && stream.backpressure && state === "writable") {
      trackedResolve(writer.readyPromise, undefined);
    }
    writableStreamDefaultControllerClose(stream.controller);
    return deferred.promise;
  }

  // ---------------------------------------------------------------------------
  // Streams §5.5.2 interfacing with controllers

  function writableStreamAddWriteRequest(stream) {
    const deferred = createDeferred();
    listQueuePush(stream.writeRequests, deferred);
    return deferred.promise;
  }

  function writableStreamCloseQueuedOrInFlight(stream) {
    return stream.closeRequest !== undefined || stream.inFlightCloseRequest !== undefined;
  }

  function writableStreamDealWithRejection(stream, error) {
    if (stream.state === "writable") {
      writableStreamStartErroring(stream, error);
      return;
    }
    writableStreamFinishErroring(stream);
  }

  // Streams §5.5.2 WritableStreamFinishErroring
  function writableStreamFinishErroring(stream) {
    stream.state = "errored";
    resetQueue(stream.controller); // [[ErrorSteps]]
    const storedError = stream.storedError;
    const requests = stream.writeRequests;
    stream.writeRequests = listQueueNew();
    while (listQueueSize(requests) > 0) listQueueShift(requests).reject(storedError);
    const abortRequest = stream.pendingAbortRequest;
    if (abortRequest === undefined) {
      writableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
      return;
    }
    stream.pendingAbortRequest = undefined;
    if (abortRequest.wasAlreadyErroring) {
      abortRequest.deferred.reject(storedError);
      writableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
      return;
    }
    // [[AbortSteps]]
    const controller = stream.controller;
    const result = controller.abortAlgorithm(abortRequest.reason);
    writableStreamDefaultControllerClearAlgorithms(controller);
    promiseThen(
      result,
      () => {
        abortRequest.deferred.resolve(undefined);
        writableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
      },
      (reason) => {
        abortRequest.deferred.reject(reason);
        writableStreamRejectCloseAndClosedPromiseIfNeeded(stream);
      },
    );
  }

  function writableStreamFinishInFlightClose(stream) {
    stream.inFlightCloseRequest.resolve(undefined);
    stream.inFlightCloseRequest = undefined;
    if (stream.state === "erroring") {
      stream.storedError = undefined;
      if (stream.pendingAbortRequest !== undefined) {
        stream.pendingAbortRequest.deferred.resolve(undefined);
        stream.pendingAbortRequest = undefined;
      }
    }
    stream.state = "closed";
    const writer = stream.writer;
    if (writer !== undefined) trackedResolve(writer.closedPromise, undefined);
  }

  function writableStreamFinishInFlightCloseWithError(stream, error) {
    stream.inFlightCloseRequest.reject(error);
    stream.inFlightCloseRequest = undefined;
    if (stream.pendingAbortRequest !== undefined) {
      stream.pendingAbortRequest.deferred.reject(error);
      stream.pendingAbortRequest = undefined;
    }
    writableStreamDealWithRejection(stream, error);
  }

  function writableStreamFinishInFlightWrite(stream) {
    stream.inFlightWriteRequest.resolve(undefined);
    stream.inFlightWriteRequest = undefined;
  }

  function writableStreamFinishInFlightWriteWithError(stream, error) {
    stream.inFlightWriteRequest.reject(error);
    stream.inFlightWriteRequest = undefined;
    writableStreamDealWithRejection(stream, error);
  }

  function writableStreamHasOperationMarkedInFlight(stream) {
    return stream.inFlightWriteRequest !== undefined || stream.inFlightCloseRequest !== undefined;
  }

  function writableStreamRejectCloseAndClosedPromiseIfNeeded(stream) {
    const storedError = stream.storedError;
    if (stream.closeRequest !== undefined) {
      stream.closeRequest.reject(storedError);
      stream.closeRequest = undefined;
    }
    const writer = stream.writer;
    if (writer !== undefined) {
      trackedReject(writer.closedPromise, storedError);
      markPromiseHandled(writer.closedPromise.promise);
    }
  }

  // Streams §5.5.2 WritableStreamStartErroring
  function writableStreamStartErroring(stream, reason) {
    stream.state = "erroring";
    stream.storedError = reason;
    const writer = stream.writer;
    if (writer !== undefined) writableStreamDefaultWriterEnsureReadyPromiseRejected(writer, reason);
    if (!writableStreamHasOperationMarkedInFlight(stream) && stream.controller.started) {
      writableStreamFinishErroring(stream);
    }
  }

  function writableStreamUpdateBackpressure(stream, backpressure) {
    const writer = stream.writer;
    if (writer !== undefined && backpressure !== stream.backpressure) {
      if (backpressure) writer.readyPromise = newTrackedPromise();
      else trackedResolve(writer.readyPromise, undefined);
    }
    stream.backpressure = backpressure;
  }

  // ---------------------------------------------------------------------------
  // Streams §5.5.3 writers

  function setUpWritableStreamDefaultWriter(writer, stream) {
    if (stream.writer !== undefined) throw new TypeErrorCtor("WritableStream is locked");
    writer.stream = stream;
    stream.writer = writer;
    const state = stream.state;
    if (state === "writable") {
      writer.readyPromise =
        !writableStreamCloseQueuedOrInFlight(stream) && stream.backpressure
          ? newTrackedPromise()
          : trackedResolvedPromise();
      writer.closedPromise = newTrackedPromise();
    } else if (state === "erroring") {
      writer.readyPromise = trackedRejectedPromise(stream.storedError);
      writer.closedPromise = newTrackedPromise();
    } else if (state === "closed") {
      writer.readyPromise = trackedResolvedPromise();
      writer.closedPromise = trackedResolvedPromise();
    } else {
      writer.readyPromise = trackedRejectedPromise(stream.storedError);
      writer.closedPromise = trackedRejectedPromise(stream.storedError);
    }
  }

  // Streams §5.5.3 WritableStreamDefaultWriterCloseWithErrorPropagation
  function writableStreamDefaultWriterCloseWithErrorPropagation(writer) {
    const stream = writer.stream;
    const state = stream.state;
    if (writableStreamCloseQueuedOrInFlight(stream) || state === "closed") {
      return promiseResolve(undefined);
    }
    if (state === "errored") return promiseReject(stream.storedError);
    return writableStreamClose(stream);
  }

  function writableStreamDefaultWriterEnsureClosedPromiseRejected(writer, error) {
    if (writer.closedPromise.state === "pending") trackedReject(writer.closedPromise, error);
    else writer.closedPromise = trackedRejectedPromise(error);
    markPromiseHandled(writer.closedPromise.promise);
  }

  function writableStreamDefaultWriterEnsureReadyPromiseRejected(writer, error) {
    if (writer.readyPromise.state === "pending") trackedReject(writer.readyPromise, error);
    else writer.readyPromise = trackedRejectedPromise(error);
    markPromiseHandled(writer.readyPromise.promise);
  }

  function writableStreamDefaultWriterGetDesiredSize(writer) {
    const stream = writer.stream;
    const state = stream.state;
    if (state === "errored" || state === "erroring") return null;
    if (state === "closed") return 0;
    return writableStreamDefaultControllerGetDesiredSize(stream.controller);
  }

  // Streams §5.5.3 WritableStreamDefaultWriterRelease
  function writableStreamDefaultWriterRelease(writer) {
    const stream = writer.stream;
    const releasedError = new TypeErrorCtor("the writer's lock was released");
    writableStreamDefaultWriterEnsureReadyPromiseRejected(writer, releasedError);
    writableStreamDefaultWriterEnsureClosedPromiseRejected(writer, releasedError);
    stream.writer = undefined;
    writer.stream = undefined;
  }

  // Streams §5.5.3 WritableStreamDefaultWriterWrite
  function writableStreamDefaultWriterWrite(writer, chunk) {
    const stream = writer.stream;
    const controller = stream.controller;
    const chunkSize = writableStreamDefaultControllerGetChunkSize(controller, chunk);
    if (stream !== writer.stream) {
      return promiseReject(new TypeErrorCtor("the writer's lock was released"));
    }
    const state = stream.state;
    if (state === "errored") return promiseReject(stream.storedError);
    if (writableStreamCloseQueuedOrInFlight(stream) || state === "closed") {
      return promiseReject(new TypeErrorCtor("The stream is closing or closed"));
    }
    if (state === "erroring") return promiseReject(stream.storedError);
    const promise = writableStreamAddWriteRequest(stream);
    writableStreamDefaultControllerWrite(controller, chunk, chunkSize);
    return promise;
  }

  // ---------------------------------------------------------------------------
  // Streams §5.5.4 default controllers

  // Streams §5.5.4 SetUpWritableStreamDefaultController
  function setUpWritableStreamDefaultController(
    stream,
    controller,
    startAlgorithm,
    writeAlgorithm,
    closeAlgorithm,
    abortAlgorithm,
    highWaterMark,
    sizeAlgorithm,
  ) {
    controller.stream = stream;
    stream.controller = controller;
    controller.strategySizeAlgorithm = sizeAlgorithm;
    controller.strategyHWM = highWaterMark;
    controller.writeAlgorithm = writeAlgorithm;
    controller.closeAlgorithm = closeAlgorithm;
    controller.abortAlgorithm = abortAlgorithm;
    writableStreamUpdateBackpressure(
      stream,
      writableStreamDefaultControllerGetBackpressure(controller),
    );
    const startResult = startAlgorithm(controller);
    promiseThen(
      promiseResolve(startResult),
      () => {
        controller.started = true;
        writableStreamDefaultControllerAdvanceQueueIfNeeded(controller);
      },
      (error) => {
        controller.started = true;
        writableStreamDealWithRejection(stream, error);
      },
    );
  }

  function writableStreamDefaultControllerAdvanceQueueIfNeeded(controller) {
    const stream = controller.stream;
    if (!controller.started || stream.inFlightWriteRequest !== undefined) return;
    if (stream.state === "erroring") {
      writableStreamFinishErroring(stream);
      return;
    }
    if (listQueueSize(controller.queue) === 0) return;
    const value = listQueuePeek(controller.queue).value;
    if (value === kCloseSentinel) writableStreamDefaultControllerProcessClose(controller);
    else writableStreamDefaultControllerProcessWrite(controller, value);
  }

  function writableStreamDefaultControllerClearAlgorithms(controller) {
    controller.writeAlgorithm = undefined;
    controller.closeAlgorithm = undefined;
    controller.abortAlgorithm = undefined;
    controller.strategySizeAlgorithm = undefined;
  }

  function writableStreamDefaultControllerClose(controller) {
    enqueueValueWithSize(controller, kCloseSentinel, 0);
    writableStreamDefaultControllerAdvanceQueueIfNeeded(controller);
  }

  function writableStreamDefaultControllerError(controller, error) {
    writableStreamDefaultControllerClearAlgorithms(controller);
    writableStreamStartErroring(controller.stream, error);
  }

  function writableStreamDefaultControllerErrorIfNeeded(controller, error) {
    if (controller.stream.state === "writable") {
      writableStreamDefaultControllerError(controller, error);
    }
  }

  function writableStreamDefaultControllerGetBackpressure(controller) {
    return writableStreamDefaultControllerGetDesiredSize(controller) <= 0;
  }

  // Streams §5.5.4 WritableStreamDefaultControllerGetChunkSize
  function writableStreamDefaultControllerGetChunkSize(controller, chunk) {
    const sizeAlgorithm = controller.strategySizeAlgorithm;
    if (sizeAlgorithm === undefined) return 1;
    try {
      return sizeAlgorithm(chunk);
    } catch (error) {
      writableStreamDefaultControllerErrorIfNeeded(controller, error);
      return 1;
    }
  }

  function writableStreamDefaultControllerGetDesiredSize(controller) {
    return controller.strategyHWM - controller.queueTotalSize;
  }

  function writableStreamDefaultControllerProcessClose(controller) {
    const stream = controller.stream;
    // WritableStreamMarkCloseRequestInFlight
    stream.inFlightCloseRequest = stream.closeRequest;
    stream.closeRequest = undefined;
    dequeueValue(controller);
    const sinkClosePromise = controller.closeAlgorithm();
    writableStreamDefaultControllerClearAlgorithms(controller);
    promiseThen(
      sinkClosePromise,
      () => writableStreamFinishInFlightClose(stream),
      (reason) => writableStreamFinishInFlightCloseWithError(stream, reason),
    );
  }

  function writableStreamDefaultControllerProcessWrite(controller, chunk) {
    const stream = controller.stream;
    // WritableStreamMarkFirstWriteRequestInFlight
    stream.inFlightWriteRequest = listQueueShift(stream.writeRequests);
    promiseThen(
      controller.writeAlgorithm(chunk),
      () => {
        writableStreamFinishInFlightWrite(stream);
        dequeueValue(controller);
        if (!writableStreamCloseQueuedOrInFlight(stream) && stream.state === "writable") {
          writableStreamUpdateBackpressure(
            stream,
            writableStreamDefaultControllerGetBackpressure(controller),
          );
        }
        writableStreamDefaultControllerAdvanceQueueIfNeeded(controller);
      },
      (reason) => {
        if (stream.state === "writable") writableStreamDefaultControllerClearAlgorithms(controller);
        writableStreamFinishInFlightWriteWithError(stream, reason);
      },
    );
  }

  function writableStreamDefaultControllerWrite(controller, chunk, chunkSize) {
    try {
      enqueueValueWithSize(controller, chunk, chunkSize);
    } catch (error) {
      writableStreamDefaultControllerErrorIfNeeded(controller, error);
      return;
    }
    const stream = controller.stream;
    if (!writableStreamCloseQueuedOrInFlight(stream) && stream.state === "writable") {
      writableStreamUpdateBackpressure(
        stream,
        writableStreamDefaultControllerGetBackpressure(controller),
      );
    }
    writableStreamDefaultControllerAdvanceQueueIfNeeded(controller);
  }

  // ---------------------------------------------------------------------------
  // Public classes

  // Streams §5.2.3 UnderlyingSink { abort, close, start, type, write } in Web
  // IDL order.
  function underlyingSinkFrom(sink) {
    const context = "WritableStream: underlyingSink";
    const out = { abort: undefined, close: undefined, start: undefined, write: undefined };
    if (sink === undefined || sink === null) return out;
    if (!isObjectLike(sink)) {
      throw new TypeErrorCtor("WritableStream: parameter 1 is not an object");
    }
    out.abort = dictionaryCallback(sink, "abort", context);
    out.close = dictionaryCallback(sink, "close", context);
    out.start = dictionaryCallback(sink, "start", context);
    const type = sink.type;
    out.write = dictionaryCallback(sink, "write", context);
    if (type !== undefined) {
      throw new RangeErrorCtor(`${context}.type: no type of writable stream is defined`);
    }
    return out;
  }

  const writableStreamClasses = once(() => {
    class WritableStream {
      #s;

      // Streams §5.2.4 constructor(underlyingSink, strategy)
      constructor(underlyingSink = undefined, strategy = undefined) {
        if (underlyingSink === kInternal) {
          this.#s = strategy;
          strategy.wrapper = this;
          return;
        }
        const strategyDict = queuingStrategyFrom(strategy, "WritableStream");
        const sinkDict = underlyingSinkFrom(underlyingSink);
        const stream = newWritableStreamState();
        this.#s = stream;
        stream.wrapper = this;
        const sizeAlgorithm = extractSizeAlgorithm(strategyDict);
        const highWaterMark = extractHighWaterMark(strategyDict, 1);
        // SetUpWritableStreamDefaultControllerFromUnderlyingSink
        const controller = newWritableControllerState();
        const wrapper = new WritableStreamDefaultController(kInternal, controller);
        const { start, write, close, abort } = sinkDict;
        setUpWritableStreamDefaultController(
          stream,
          controller,
          start === undefined ? noop : () => ReflectApply(start, underlyingSink, [wrapper]),
          write === undefined
            ? resolvedUndefined
            : (chunk) => promiseCall(write, underlyingSink, [chunk, wrapper]),
          close === undefined ? resolvedUndefined : () => promiseCall(close, underlyingSink, []),
          abort === undefined
            ? resolvedUndefined
            : (reason) => promiseCall(abort, underlyingSink, [reason]),
          highWaterMark,
          sizeAlgorithm,
        );
      }

      get locked() {
        return this.#s.writer !== undefined;
      }

      // Streams §5.2.5 abort(reason)
      abort(reason = undefined) {
        if (!(isObjectLike(this) && #s in this)) {
          return promiseReject(new TypeErrorCtor("Illegal invocation"));
        }
        const stream = this.#s;
        if (stream.writer !== undefined) {
          return promiseReject(new TypeErrorCtor("Cannot abort a locked WritableStream"));
        }
        return writableStreamAbort(stream, reason);
      }

      // Streams §5.2.5 close()
      close() {
        if (!(isObjectLike(this) && #s in this)) {
          return promiseReject(new TypeErrorCtor("Illegal invocation"));
        }
        const stream = this.#s;
        if (stream.writer !== undefined) {
          return promiseReject(new TypeErrorCtor("Cannot close a locked WritableStream"));
        }
        if (writableStreamCloseQueuedOrInFlight(stream)) {
          return promiseReject(new TypeErrorCtor("The stream is already closing"));
        }
        return writableStreamClose(stream);
      }

      // Streams §5.2.5 getWriter()
      getWriter() {
        return new WritableStreamDefaultWriter(this);
      }

      static {
        writableStreamStateOf = (value) => {
          if (!isObjectLike(value) || !(#s in value)) {
            throw new TypeErrorCtor("the value is not a WritableStream");
          }
          return value.#s;
        };
        isWritableStream = (value) => isObjectLike(value) && #s in value;
      }
    }
    configureInterface(WritableStream);
    registerInspectHook(WritableStream, (stream) => ({ locked: stream.locked }));

    class WritableStreamDefaultWriter {
      #w;

      // Streams §5.3.3 constructor(stream)
      constructor(stream) {
        requireArguments(arguments.length, 1, "WritableStreamDefaultWriter");
        if (!isWritableStream(stream)) {
          throw new TypeErrorCtor(
            "WritableStreamDefaultWriter: parameter 1 is not of type 'WritableStream'",
          );
        }
        const writer = acquireWritableStreamDefaultWriter(writableStreamStateOf(stream));
        writer.wrapper = this;
        this.#w = writer;
      }

      get closed() {
        if (!(isObjectLike(this) && #w in this)) {
          return promiseReject(new TypeErrorCtor("Illegal invocation"));
        }
        return this.#w.closedPromise.promise;
      }

      get desiredSize() {
        const writer = this.#w;
        if (writer.stream === undefined) {
          throw new TypeErrorCtor("the writer's lock was released");
        }
        return writableStreamDefaultWriterGetDesiredSize(writer);
      }

      get ready() {
        if (!(isObjectLike(this) && #w in this)) {
          return promiseReject(new TypeErrorCtor("Illegal invocation"));
        }
        return this.#w.readyPromise.promise;
      }

      // Streams §5.3.4 abort(reason)
      abort(reason = undefined) {
        if (!(isObjectLike(this) && #w in this)) {
          return promiseReject(new TypeErrorCtor("Illegal invocation"));
        }
        const stream = this.#w.stream;
        if (stream === undefined) {
          return promiseReject(new TypeErrorCtor("the writer's lock was released"));
        }
        return writableStreamAbort(stream, reason);
      }

      // Streams §5.3.4 close()
      close() {
        if (!(isObjectLike(this) && #w in this)) {
          return promiseReject(new TypeErrorCtor("Illegal invocation"));
        }
        const stream = this.#w.stream;
        if (stream === undefined) {
          return promiseReject(new TypeErrorCtor("the writer's lock was released"));
        }
        if (writableStreamCloseQueuedOrInFlight(stream)) {
          return promiseReject(new TypeErrorCtor("The stream is already closing"));
        }
        return writableStreamClose(stream);
      }

      // Streams §5.3.4 releaseLock()
      releaseLock() {
        const writer = this.#w;
        if (writer.stream === undefined) return;
        writableStreamDefaultWriterRelease(writer);
      }

      // Streams §5.3.4 write(chunk)
      write(chunk = undefined) {
        if (!(isObjectLike(this) && #w in this)) {
          return promiseReject(new TypeErrorCtor("Illegal invocation"));
        }
        const writer = this.#w;
        if (writer.stream === undefined) {
          return promiseReject(new TypeErrorCtor("the writer's lock was released"));
        }
        return writableStreamDefaultWriterWrite(writer, chunk);
      }
    }
    configureInterface(WritableStreamDefaultWriter);

    class WritableStreamDefaultController {
      #c;

      constructor(token = undefined, controller = undefined) {
        if (token !== kInternal) throw new TypeErrorCtor("Illegal constructor");
        this.#c = controller;
        controller.wrapper = this;
      }

      // Streams §5.4.3 signal
      get signal() {
        return abortSignalWrapper(this.#c.signal);
      }

      // Streams §5.4.3 error(e)
      error(e = undefined) {
        const controller = this.#c;
        if (controller.stream.state !== "writable") return;
        writableStreamDefaultControllerError(controller, e);
      }
    }
    configureInterface(WritableStreamDefaultController);

    return { WritableStream, WritableStreamDefaultWriter, WritableStreamDefaultController };
  });

  return {
    acquireWritableStreamDefaultWriter,
    createWritableStreamState,
    writableStreamAbort,
    writableStreamCloseQueuedOrInFlight,
    writableStreamDefaultWriterCloseWithErrorPropagation,
    writableStreamDefaultWriterRelease,
    writableStreamDefaultWriterWrite,
    writableStreamDefaultControllerErrorIfNeeded,
    writableStreamClasses,
  };
});
