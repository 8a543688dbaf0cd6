// 25_pipe.js
//
// ReadableStreamPipeTo (WHATWG Streams §4.9.1), behind pipeTo() and
// pipeThrough(): reads chunks with a default reader and writes them with a
// writer, honouring the destination's backpressure (it waits for the
// writer's ready promise), and propagates closing, errors and aborts both
// ways unless preventClose / preventAbort / preventCancel say otherwise.

// Created on first use.
const pipeOps = once(() => {
  const {
    acquireWritableStreamDefaultWriter,
    writableStreamAbort,
    writableStreamCloseQueuedOrInFlight,
    writableStreamDefaultWriterCloseWithErrorPropagation,
    writableStreamDefaultWriterRelease,
    writableStreamDefaultWriterWrite,
  } = writableStreamOps();

  function readableStreamPipeTo(source, dest, preventClose, preventAbort, preventCancel, signal) {
    const reader = acquireReadableStreamDefaultReader(source);
    const writer = acquireWritableStreamDefaultWriter(dest);
    source.disturbed = true;
    const pipe = {
      source,
      dest,
      reader,
      writer,
      preventClose,
      preventAbort,
      preventCancel,
      signal,
      abortHandle: null,
      shuttingDown: false,
      currentWrite: resolvedPromise,
      done: createDeferred(),
    };
    if (signal !== undefined) {
      const abortAlgorithm = () => pipeAbort(pipe);
      if (signal.reason !== undefined) {
        abortAlgorithm();
        return pipe.done.promise;
      }
      pipe.abortHandle = abortSignalAddAlgorithm(signal, abortAlgorithm);
    }
    pipeWatchStates(pipe);
    pipeLoop(pipe);
    return pipe.done.promise;
  }

  // The signal aborted: abort the destination and cancel the source (unless
  // prevented), with the signal's reason.
  function pipeAbort(pipe) {
    const error = pipe.signal.reason;
    pipeShutdownWithAction(
      pipe,
      () => {
        const actions = [];
        if (!pipe.preventAbort) {
          actions[actions.length] =
            pipe.dest.state === "writable"
              ? writableStreamAbort(pipe.dest, error)
              : promiseResolve(undefined);
        }
        if (!pipe.preventCancel) {
          actions[actions.length] =
            pipe.source.state === "readable"
              ? readableStreamCancel(pipe.source, error)
              : promiseResolve(undefined);
        }
        return promiseAllSettledOrFirstRejection(actions);
      },
      true,
      error,
    );
  }

  // Like Promise.all over captured built-ins: fulfils when all do, rejects
  // with the first rejection.
  function promiseAllSettledOrFirstRejection(promises) {
    const deferred = createDeferred();
    let remaining = promises.length;
    if (remaining === 0) deferred.resolve(undefined);
    for (let i = 0; i < promises.length; i++) {
      promiseThen(
        promises[i],
        () => {
          if (--remaining === 0) deferred.resolve(undefined);
        },
        deferred.reject,
      );
    }
    return deferred.promise;
  }

  // The four propagation rules, checked now and whenever a state changes.
  function pipeWatchStates(pipe) {
    const { source, dest, reader, writer } = pipe;
    // Errors must be propagated forward.
    const onSourceError = (error) => {
      if (!pipe.preventAbort) {
        pipeShutdownWithAction(pipe, () => writableStreamAbort(dest, error), true, error);
      } else {
        pipeShutdown(pipe, true, error);
      }
    };
    // Errors must be propagated backward.
    const onDestError = (error) => {
      if (!pipe.preventCancel) {
        pipeShutdownWithAction(pipe, () => readableStreamCancel(source, error), true, error);
      } else {
        pipeShutdown(pipe, true, error);
      }
    };
    // Closing must be propagated forward.
    const onSourceClosed = () => {
      if (!pipe.preventClose) {
        pipeShutdownWithAction(
          pipe,
          () => writableStreamDefaultWriterCloseWithErrorPropagation(writer),
          false,
          undefined,
        );
      } else {
        pipeShutdown(pipe, false, undefined);
      }
    };

    if (source.state === "errored") onSourceError(source.storedError);
    else promiseThen(readerClosedPromise(reader), undefined, onSourceError);
    if (dest.state === "errored") onDestError(dest.storedError);
    else promiseThen(writer.closedPromise.promise, undefined, onDestError);
    if (source.state === "closed") onSourceClosed();
    else promiseThen(readerClosedPromise(reader), onSourceClosed, noop);
    // Closing must be propagated backward.
    if (writableStreamCloseQueuedOrInFlight(dest) || dest.state === "closed") {
      const destClosed = new TypeErrorCtor("the destination closed before the pipe finished");
      if (!pipe.preventCancel) {
        const cancel = () => readableStreamCancel(source, destClosed);
        pipeShutdownWithAction(pipe, cancel, true, destClosed);
      } else {
        pipeShutdown(pipe, true, destClosed);
      }
    }
  }

  // Reads one chunk whenever the destination wants one, and writes it.
  function pipeLoop(pipe) {
    if (pipe.shuttingDown) return;
    const writer = pipe.writer;
    promiseThen(
      writer.readyPromise.promise,
      () => {
        if (pipe.shuttingDown) return;
        readableStreamDefaultReaderRead(pipe.reader, {
          chunkSteps(chunk) {
            if (pipe.shuttingDown) return;
            pipe.currentWrite = writableStreamDefaultWriterWrite(writer, chunk);
            markPromiseHandled(pipe.currentWrite);
            pipeLoop(pipe);
          },
          closeSteps: noop, // seen through the reader's closed promise
          errorSteps: noop,
        });
      },
      noop, // the destination errored: seen through the writer's closed promise
    );
  }

  // Resolves once the last write that was started has settled (and any that
  // started meanwhile).
  function pipeWaitForWrites(pipe) {
    const write = pipe.currentWrite;
    return promiseThen(
      write,
      () => (write !== pipe.currentWrite ? pipeWaitForWrites(pipe) : undefined),
      () => (write !== pipe.currentWrite ? pipeWaitForWrites(pipe) : undefined),
    );
  }

  function pipeShouldWaitForWrites(pipe) {
    return pipe.dest.state === "writable" && !writableStreamCloseQueuedOrInFlight(pipe.dest);
  }

  // Streams §4.9.1 "shutdown with an action"
  function pipeShutdownWithAction(pipe, action, hasError, originalError) {
    if (pipe.shuttingDown) return;
    pipe.shuttingDown = true;
    const run = () => {
      promiseThen(
        promiseCall(action, undefined, []),
        () => pipeFinalize(pipe, hasError, originalError),
        (newError) => pipeFinalize(pipe, true, newError),
      );
    };
    if (pipeShouldWaitForWrites(pipe)) promiseThen(pipeWaitForWrites(pipe), run, undefined);
    else run();
  }

  // Streams §4.9.1 "shutdown"
  function pipeShutdown(pipe, hasError, error) {
    if (pipe.shuttingDown) return;
    pipe.shuttingDown = true;
    if (pipeShouldWaitForWrites(pipe)) {
      promiseThen(pipeWaitForWrites(pipe), () => pipeFinalize(pipe, hasError, error), undefined);
    } else {
      pipeFinalize(pipe, hasError, error);
    }
  }

  // Streams §4.9.1 "finalize"
  function pipeFinalize(pipe, hasError, error) {
    writableStreamDefaultWriterRelease(pipe.writer);
    readableStreamDefaultReaderRelease(pipe.reader);
    if (pipe.signal !== undefined) abortSignalRemoveAlgorithm(pipe.signal, pipe.abortHandle);
    if (hasError) pipe.done.reject(error);
    else pipe.done.resolve(undefined);
  }

  return {
    readableStreamPipeTo,
  };
});
