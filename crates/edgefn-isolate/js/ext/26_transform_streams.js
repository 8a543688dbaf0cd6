// 26_transform_streams.js
//
// TransformStream and TransformStreamDefaultController (WHATWG Streams §6),
// on records like the other stream files: a transform stream state holds a
// writable and a readable stream state, and the algorithms connecting them.
// TextEncoderStream and TextDecoderStream are built on
// createTransformStreamState().

// A transform stream for the runtime's own use (encoding and compression
// streams): `transformAlgorithm(controller, chunk)` and
// `flushAlgorithm(controller)` receive the controller state.
function createTransformStreamState(transformAlgorithm, flushAlgorithm) {
  return transformStreamOps().createTransformStreamState(transformAlgorithm, flushAlgorithm);
}

// Streams §6.4.2 TransformStreamDefaultControllerEnqueue, for those
// algorithms.
function transformStreamDefaultControllerEnqueue(controller, chunk) {
  transformStreamOps().transformStreamDefaultControllerEnqueue(controller, chunk);
}

// The abstract operations and classes, created on first use.
const transformStreamOps = once(() => {
  const { createWritableStreamState, writableStreamDefaultControllerErrorIfNeeded } =
    writableStreamOps();

  // Streams §6.2.2 TransformStream internal slots
  function newTransformStreamState() {
    return {
      backpressure: undefined,
      backpressureChangePromise: undefined, // deferred
      controller: undefined,
      readable: undefined, // stream state
      writable: undefined, // writable stream state
      wrapper: undefined,
    };
  }

  // Streams §6.3.2 TransformStreamDefaultController internal slots
  function newTransformControllerState() {
    return {
      stream: undefined,
      transformAlgorithm: undefined, // (chunk) -> Promise
      flushAlgorithm: undefined, // () -> Promise
      cancelAlgorithm: undefined, // (reason) -> Promise
      finishPromise: undefined, // deferred
      wrapper: undefined,
    };
  }

  // ---------------------------------------------------------------------------
  // Streams §6.4.1 working with transform streams

  function initializeTransformStream(
    stream,
    startPromise,
    writableHighWaterMark,
    writableSizeAlgorithm,
    readableHighWaterMark,
    readableSizeAlgorithm,
  ) {
    const startAlgorithm = () => startPromise;
    stream.writable = createWritableStreamState(
      startAlgorithm,
      (chunk) => transformStreamDefaultSinkWriteAlgorithm(stream, chunk),
      () => transformStreamDefaultSinkCloseAlgorithm(stream),
      (reason) => transformStreamDefaultSinkAbortAlgorithm(stream, reason),
      writableHighWaterMark,
      writableSizeAlgorithm,
    );
    stream.readable = createReadableStreamState(
      startAlgorithm,
      () => transformStreamDefaultSourcePullAlgorithm(stream),
      (reason) => transformStreamDefaultSourceCancelAlgorithm(stream, reason),
      readableHighWaterMark,
      readableSizeAlgorithm,
    );
    transformStreamSetBackpressure(stream, true);
  }

  function transformStreamError(stream, error) {
    readableStreamDefaultControllerError(stream.readable.controller, error);
    transformStreamErrorWritableAndUnblockWrite(stream, error);
  }

  function transformStreamErrorWritableAndUnblockWrite(stream, error) {
    transformStreamDefaultControllerClearAlgorithms(stream.controller);
    writableStreamDefaultControllerErrorIfNeeded(stream.writable.controller, error);
    transformStreamUnblockWrite(stream);
  }

  function transformStreamSetBackpressure(stream, backpressure) {
    if (stream.backpressureChangePromise !== undefined) {
      stream.backpressureChangePromise.resolve(undefined);
    }
    stream.backpressureChangePromise = createDeferred();
    stream.backpressure = backpressure;
  }

  function transformStreamUnblockWrite(stream) {
    if (stream.backpressure) transformStreamSetBackpressure(stream, false);
  }

  // ---------------------------------------------------------------------------
  // Streams §6.4.2 default controllers

  function setUpTransformStreamDefaultController(
    stream,
    controller,
    transformAlgorithm,
    flushAlgorithm,
    cancelAlgorithm,
  ) {
    controller.stream = stream;
    stream.controller = controller;
    controller.transformAlgorithm = transformAlgorithm;
    controller.flushAlgorithm = flushAlgorithm;
    controller.cancelAlgorithm = cancelAlgorithm;
  }

  function transformStreamDefaultControllerClearAlgorithms(controller) {
    controller.transformAlgorithm = undefined;
    controller.flushAlgorithm = undefined;
    controller.cancelAlgorithm = undefined;
  }

  // Streams §6.4.2 TransformStreamDefaultControllerEnqueue
  function transformStreamDefaultControllerEnqueue(controller, chunk) {
    const stream = controller.stream;
    const readableController = stream.readable.controller;
    if (!readableStreamDefaultControllerCanCloseOrEnqueue(readableController)) {
      throw new TypeErrorCtor("The readable side is closing or closed and cannot be enqueued to");
    }
    try {
      readableStreamDefaultControllerEnqueue(readableController, chunk);
    } catch (error) {
      transformStreamErrorWritableAndUnblockWrite(stream, error);
      throw stream.readable.storedError;
    }
    const backpressure = readableStreamDefaultControllerHasBackpressure(readableController);
    if (backpressure !== stream.backpressure) transformStreamSetBackpressure(stream, true);
  }

  function transformStreamDefaultControllerPerformTransform(controller, chunk) {
    return promiseThen(controller.transformAlgorithm(chunk), undefined, (reason) => {
      transformStreamError(controller.stream, reason);
      throw reason;
    });
  }

  function transformStreamDefaultControllerTerminate(controller) {
    const stream = controller.stream;
    readableStreamDefaultControllerClose(stream.readable.controller);
    transformStreamErrorWritableAndUnblockWrite(
      stream,
      new TypeErrorCtor("the TransformStream was terminated"),
    );
  }

  // ---------------------------------------------------------------------------
  // Streams §6.4.3 default sinks, §6.4.4 default sources

  function transformStreamDefaultSinkWriteAlgorithm(stream, chunk) {
    const controller = stream.controller;
    if (!stream.backpressure) {
      return transformStreamDefaultControllerPerformTransform(controller, chunk);
    }
    return promiseThen(
      stream.backpressureChangePromise.promise,
      () => {
        const writable = stream.writable;
        if (writable.state === "erroring") throw writable.storedError;
        return transformStreamDefaultControllerPerformTransform(controller, chunk);
      },
      undefined,
    );
  }

  // Runs a finishing step (abort, close, cancel) once: `step()` calls the
  // transformer's algorithm, and the settled outcome goes through
  // `onFulfilled` (which may throw, e.g. when the other side errored
  // meanwhile) or `onRejected`.
  function transformStreamFinish(controller, step, onFulfilled, onRejected) {
    if (controller.finishPromise !== undefined) return controller.finishPromise.promise;
    const finish = createDeferred();
    controller.finishPromise = finish;
    const promise = step();
    transformStreamDefaultControllerClearAlgorithms(controller);
    promiseThen(
      promise,
      () => {
        try {
          onFulfilled();
          finish.resolve(undefined);
        } catch (error) {
          finish.reject(error);
        }
      },
      (reason) => {
        onRejected(reason);
        finish.reject(reason);
      },
    );
    return finish.promise;
  }

  function transformStreamDefaultSinkAbortAlgorithm(stream, reason) {
    const controller = stream.controller;
    const readable = stream.readable;
    return transformStreamFinish(
      controller,
      () => controller.cancelAlgorithm(reason),
      () => {
        if (readable.state === "errored") throw readable.storedError;
        readableStreamDefaultControllerError(readable.controller, reason);
      },
      (error) => readableStreamDefaultControllerError(readable.controller, error),
    );
  }

  function transformStreamDefaultSinkCloseAlgorithm(stream) {
    const controller = stream.controller;
    const readable = stream.readable;
    return transformStreamFinish(
      controller,
      () => controller.flushAlgorithm(),
      () => {
        if (readable.state === "errored") throw readable.storedError;
        readableStreamDefaultControllerClose(readable.controller);
      },
      (error) => readableStreamDefaultControllerError(readable.controller, error),
    );
  }

  function transformStreamDefaultSourceCancelAlgorithm(stream, reason) {
    const controller = stream.controller;
    const writable = stream.writable;
    return transformStreamFinish(
      controller,
      () => controller.cancelAlgorithm(reason),
      () => {
        if (writable.state === "errored") throw writable.storedError;
        writableStreamDefaultControllerErrorIfNeeded(writable.controller, reason);
        transformStreamUnblockWrite(stream);
      },
      (error) => {
        writableStreamDefaultControllerErrorIfNeeded(writable.controller, error);
        transformStreamUnblockWrite(stream);
      },
    );
  }

  function transformStreamDefaultSourcePullAlgorithm(stream) {
    transformStreamSetBackpressure(stream, false);
    return stream.backpressureChangePromise.promise;
  }

  // See createTransformStreamState() at the top of the file.
  function createTransformStreamState(transformAlgorithm, flushAlgorithm) {
    const stream = newTransformStreamState();
    initializeTransformStream(stream, resolvedPromise, 1, sizeOne, 0, sizeOne);
    const controller = newTransformControllerState();
    setUpTransformStreamDefaultController(
      stream,
      controller,
      (chunk) => {
        try {
          transformAlgorithm(controller, chunk);
          return resolvedPromise;
        } catch (error) {
          return promiseReject(error);
        }
      },
      () => {
        try {
          flushAlgorithm(controller);
          return resolvedPromise;
        } catch (error) {
          return promiseReject(error);
        }
      },
      resolvedUndefined,
    );
    return stream;
  }

  // ---------------------------------------------------------------------------
  // Public classes

  // Streams §6.2.3 Transformer { cancel, flush, readableType, start,
  // transform, writableType } in Web IDL order.
  function transformerFrom(transformer) {
    const context = "TransformStream: transformer";
    const out = { cancel: undefined, flush: undefined, start: undefined, transform: undefined };
    if (transformer === undefined || transformer === null) return out;
    if (!isObjectLike(transformer)) {
      throw new TypeErrorCtor("TransformStream: parameter 1 is not an object");
    }
    out.cancel = dictionaryCallback(transformer, "cancel", context);
    out.flush = dictionaryCallback(transformer, "flush", context);
    const readableType = transformer.readableType;
    out.start = dictionaryCallback(transformer, "start", context);
    out.transform = dictionaryCallback(transformer, "transform", context);
    const writableType = transformer.writableType;
    if (readableType !== undefined) {
      throw new RangeErrorCtor(`${context}.readableType: no readable type is defined`);
    }
    if (writableType !== undefined) {
      throw new RangeErrorCtor(`${context}.writableType: no writable type is defined`);
    }
    return out;
  }

  const transformStreamClasses = once(() => {
    class TransformStream {
      #s;

      // Streams §6.2.4 constructor(transformer, writableStrategy, readableStrategy)
      constructor(
        transformer = undefined,
        writableStrategy = undefined,
        readableStrategy = undefined,
      ) {
        if (transformer === kInternal) {
          this.#s = writableStrategy;
          writableStrategy.wrapper = this;
          return;
        }
        const writableDict = queuingStrategyFrom(writableStrategy, "TransformStream");
        const readableDict = queuingStrategyFrom(readableStrategy, "TransformStream");
        const transformerDict = transformerFrom(transformer);
        const readableHighWaterMark = extractHighWaterMark(readableDict, 0);
        const readableSizeAlgorithm = extractSizeAlgorithm(readableDict);
        const writableHighWaterMark = extractHighWaterMark(writableDict, 1);
        const writableSizeAlgorithm = extractSizeAlgorithm(writableDict);
        const stream = newTransformStreamState();
        this.#s = stream;
        stream.wrapper = this;
        const startDeferred = createDeferred();
        initializeTransformStream(
          stream,
          startDeferred.promise,
          writableHighWaterMark,
          writableSizeAlgorithm,
          readableHighWaterMark,
          readableSizeAlgorithm,
        );
        // SetUpTransformStreamDefaultControllerFromTransformer
        const controller = newTransformControllerState();
        const wrapper = new TransformStreamDefaultController(kInternal, controller);
        const { transform, flush, cancel, start } = transformerDict;
        setUpTransformStreamDefaultController(
          stream,
          controller,
          transform === undefined
            ? (chunk) => {
                try {
                  transformStreamDefaultControllerEnqueue(controller, chunk);
                  return resolvedPromise;
                } catch (error) {
                  return promiseReject(error);
                }
              }
            : (chunk) => promiseCall(transform, transformer, [chunk, wrapper]),
          flush === undefined
            ? resolvedUndefined
            : () => promiseCall(flush, transformer, [wrapper]),
          cancel === undefined
            ? resolvedUndefined
            : (reason) => promiseCall(cancel, transformer, [reason]),
        );
        if (start === undefined) startDeferred.resolve(undefined);
        else startDeferred.resolve(ReflectApply(start, transformer, [wrapper]));
      }

      get readable() {
        return readableStreamWrapper(this.#s.readable);
      }

      get writable() {
        return writableStreamWrapper(this.#s.writable);
      }
    }
    configureInterface(TransformStream);
    registerInspectHook(TransformStream, (stream) => ({
      readable: stream.readable,
      writable: stream.writable,
    }));

    class TransformStreamDefaultController {
      #c;

      constructor(token = undefined, controller = undefined) {
        if (token !== kInternal) throw new TypeErrorCtor("Illegal constructor");
        this.#c = controller;
        controller.wrapper = this;
      }

      // Streams §6.3.3 desiredSize
      get desiredSize() {
        return readableStreamDefaultControllerGetDesiredSize(this.#c.stream.readable.controller);
      }

      // Streams §6.3.3 enqueue(chunk)
      enqueue(chunk = undefined) {
        transformStreamDefaultControllerEnqueue(this.#c, chunk);
      }

      // Streams §6.3.3 error(reason)
      error(reason = undefined) {
        transformStreamError(this.#c.stream, reason);
      }

      // Streams §6.3.3 terminate()
      terminate() {
        transformStreamDefaultControllerTerminate(this.#c);
      }
    }
    configureInterface(TransformStreamDefaultController);

    return { TransformStream, TransformStreamDefaultController };
  });

  return {
    createTransformStreamState,
    transformStreamDefaultControllerEnqueue,
    transformStreamClasses,
  };
});
