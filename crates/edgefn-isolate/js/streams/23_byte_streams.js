// 23_byte_streams.js
//
// Readable byte streams (WHATWG Streams §4.5, §4.7, §4.8, §4.9.5):
// ReadableByteStreamController, ReadableStreamBYOBReader and
// ReadableStreamBYOBRequest, on the records of 07_streams.js. Request and
// Response bodies and Blob.stream() are byte streams ("set up with byte
// reading support"), so they can be read with a BYOB reader.

// The abstract operations and classes, created on first use (cold start:
// an isolate that never creates a byte stream never creates them).
const byteStreamOps = once(() => {
  // Streams §4.7.2 ReadableByteStreamController internal slots
  function newByteControllerState() {
    return {
      byte: true,
      stream: undefined,
      queue: listQueueNew(), // entries: { buffer, byteOffset, byteLength }
      queueTotalSize: 0,
      started: false,
      closeRequested: false,
      pullAgain: false,
      pulling: false,
      strategyHWM: 0,
      pullAlgorithm: undefined, // (controller) -> Promise
      cancelAlgorithm: undefined, // (reason) -> Promise
      autoAllocateChunkSize: undefined,
      pendingPullIntos: listQueueNew(), // pull-into descriptors
      byobRequest: null, // { controller, view, wrapper } while one is current
      wrapper: undefined,
    };
  }

  // Streams §4.5.2 ReadableStreamBYOBReader internal slots
  function newByobReaderState() {
    return {
      byob: true,
      stream: undefined,
      readIntoRequests: listQueueNew(),
      closedState: "pending",
      closedError: undefined,
      closedDeferred: undefined,
      wrapper: undefined,
    };
  }

  // [buffer, byteOffset, byteLength, typed array kind or undefined (DataView)]
  function arrayBufferViewParts(view) {
    const ta = typedArrays();
    const kind = ReflectApply(ta.typedArrayGetKind, view, []);
    if (kind !== undefined) {
      return [
        ReflectApply(ta.typedArrayGetBuffer, view, []),
        ReflectApply(ta.typedArrayGetByteOffset, view, []),
        ReflectApply(ta.typedArrayGetByteLength, view, []),
        kind,
      ];
    }
    return [
      ReflectApply(ta.dataViewGetBuffer, view, []),
      ReflectApply(ta.dataViewGetByteOffset, view, []),
      ReflectApply(ta.dataViewGetByteLength, view, []),
      undefined,
    ];
  }

  // Copies `count` bytes between ArrayBuffers (Streams §8.3 CopyDataBlockBytes).
  function copyBufferBytes(dest, destOffset, src, srcOffset, count) {
    const ta = typedArrays();
    ReflectApply(ta.typedArraySet, new ta.Uint8Array(dest, destOffset, count), [
      new ta.Uint8Array(src, srcOffset, count),
      0,
    ]);
  }

  // Streams §8.3 CloneAsUint8Array
  function cloneAsUint8Array(view) {
    const parts = arrayBufferViewParts(view);
    return copyBytes(newUint8Array(parts[0], parts[1], parts[2]));
  }

  // ---------------------------------------------------------------------------
  // Streams §4.9.2 / §4.9.3 BYOB readers

  function readableStreamHasBYOBReader(stream) {
    return stream.reader !== undefined && stream.reader.byob;
  }

  function readableStreamGetNumReadIntoRequests(stream) {
    return listQueueSize(stream.reader.readIntoRequests);
  }

  function readableStreamAddReadIntoRequest(stream, readIntoRequest) {
    listQueuePush(stream.reader.readIntoRequests, readIntoRequest);
  }

  function readableStreamFulfillReadIntoRequest(stream, chunk, done) {
    const readIntoRequest = listQueueShift(stream.reader.readIntoRequests);
    if (done) readIntoRequest.closeSteps(chunk);
    else readIntoRequest.chunkSteps(chunk);
  }

  // Streams §4.9.3 SetUpReadableStreamBYOBReader
  function acquireReadableStreamBYOBReader(stream) {
    if (stream.reader !== undefined) throw new TypeErrorCtor("ReadableStream is locked");
    if (!stream.controller.byte) {
      throw new TypeErrorCtor("a BYOB reader needs a byte stream (type: 'bytes')");
    }
    const reader = newByobReaderState();
    readableStreamReaderGenericInitialize(reader, stream);
    return reader;
  }

  function readableStreamBYOBReaderErrorReadIntoRequests(reader, error) {
    const requests = reader.readIntoRequests;
    reader.readIntoRequests = listQueueNew();
    while (listQueueSize(requests) > 0) listQueueShift(requests).errorSteps(error);
  }

  // Streams §4.9.3 ReadableStreamBYOBReaderRelease
  function readableStreamBYOBReaderRelease(reader) {
    readableStreamReaderGenericRelease(reader);
    readableStreamBYOBReaderErrorReadIntoRequests(
      reader,
      new TypeErrorCtor("the reader's lock was released"),
    );
  }

  // Streams §4.9.3 ReadableStreamBYOBReaderRead
  function readableStreamBYOBReaderRead(reader, view, min, readIntoRequest) {
    const stream = reader.stream;
    stream.disturbed = true;
    if (stream.state === "errored") readIntoRequest.errorSteps(stream.storedError);
    else readableByteStreamControllerPullInto(stream.controller, view, min, readIntoRequest);
  }

  // ---------------------------------------------------------------------------
  // Streams §4.9.5 byte stream controllers

  function readableByteStreamControllerCallPullIfNeeded(controller) {
    if (!readableByteStreamControllerShouldCallPull(controller)) return;
    if (controller.pulling) {
      controller.pullAgain = true;
      return;
    }
    controller.pulling = true;
    promiseThen(
      controller.pullAlgorithm(controller),
      () => {
        controller.pulling = false;
        if (controller.pullAgain) {
          controller.pullAgain = false;
          readableByteStreamControllerCallPullIfNeeded(controller);
        }
      },
      (error) => readableByteStreamControllerError(controller, error),
    );
  }

  function readableByteStreamControllerClearAlgorithms(controller) {
    controller.pullAlgorithm = undefined;
    controller.cancelAlgorithm = undefined;
  }

  function readableByteStreamControllerClearPendingPullIntos(controller) {
    readableByteStreamControllerInvalidateBYOBRequest(controller);
    controller.pendingPullIntos = listQueueNew();
  }

  function readableByteStreamControllerClose(controller) {
    const stream = controller.stream;
    if (controller.closeRequested || stream.state !== "readable") return;
    if (controller.queueTotalSize > 0) {
      controller.closeRequested = true;
      return;
    }
    if (listQueueSize(controller.pendingPullIntos) > 0) {
      const first = listQueuePeek(controller.pendingPullIntos);
      if (first.bytesFilled % first.elementSize !== 0) {
        const error = new TypeErrorCtor(
          "the stream closed with a partially filled element in a BYOB read",
        );
        readableByteStreamControllerError(controller, error);
        throw error;
      }
    }
    readableByteStreamControllerClearAlgorithms(controller);
    readableStreamClose(stream);
  }

  function readableByteStreamControllerCommitPullIntoDescriptor(stream, descriptor) {
    const done = stream.state === "closed";
    const filledView = readableByteStreamControllerConvertPullIntoDescriptor(descriptor);
    if (descriptor.readerType === "default") {
      readableStreamFulfillReadRequest(stream, filledView, done);
    } else {
      readableStreamFulfillReadIntoRequest(stream, filledView, done);
    }
  }

  function readableByteStreamControllerConvertPullIntoDescriptor(descriptor) {
    const buffer = transferArrayBuffer(descriptor.buffer);
    const Ctor = descriptor.viewConstructor;
    return new Ctor(
      buffer,
      descriptor.byteOffset,
      descriptor.bytesFilled / descriptor.elementSize,
    );
  }

  // Streams §4.9.5 ReadableByteStreamControllerEnqueue
  function readableByteStreamControllerEnqueue(controller, chunk) {
    const stream = controller.stream;
    if (controller.closeRequested || stream.state !== "readable") return;
    const [buffer, byteOffset, byteLength] = arrayBufferViewParts(chunk);
    if (isDetachedBuffer(buffer)) {
      throw new TypeErrorCtor("the chunk's buffer is detached");
    }
    const transferredBuffer = transferArrayBuffer(buffer);
    if (listQueueSize(controller.pendingPullIntos) > 0) {
      const first = listQueuePeek(controller.pendingPullIntos);
      if (isDetachedBuffer(first.buffer)) {
        throw new TypeErrorCtor("the BYOB request's buffer is detached");
      }
      readableByteStreamControllerInvalidateBYOBRequest(controller);
      first.buffer = transferArrayBuffer(first.buffer);
      if (first.readerType === "none") {
        readableByteStreamControllerEnqueueDetachedPullIntoToQueue(controller, first);
      }
    }
    if (readableStreamHasDefaultReader(stream)) {
      readableByteStreamControllerProcessReadRequestsUsingQueue(controller);
      if (readableStreamGetNumReadRequests(stream) === 0) {
        readableByteStreamControllerEnqueueChunkToQueue(
          controller,
          transferredBuffer,
          byteOffset,
          byteLength,
        );
      } else {
        if (listQueueSize(controller.pendingPullIntos) > 0) {
          readableByteStreamControllerShiftPendingPullInto(controller);
        }
        const view = newUint8Array(transferredBuffer, byteOffset, byteLength);
        readableStreamFulfillReadRequest(stream, view, false);
      }
    } else if (readableStreamHasBYOBReader(stream)) {
      readableByteStreamControllerEnqueueChunkToQueue(
        controller,
        transferredBuffer,
        byteOffset,
        byteLength,
      );
      const filled = readableByteStreamControllerProcessPullIntoDescriptorsUsingQueue(controller);
      for (let i = 0; i < filled.length; i++) {
        readableByteStreamControllerCommitPullIntoDescriptor(stream, filled[i]);
      }
    } else {
      readableByteStreamControllerEnqueueChunkToQueue(
        controller,
        transferredBuffer,
        byteOffset,
        byteLength,
      );
    }
    readableByteStreamControllerCallPullIfNeeded(controller);
  }

  function readableByteStreamControllerEnqueueChunkToQueue(
    controller,
    buffer,
    byteOffset,
    byteLength,
  ) {
    listQueuePush(controller.queue, { buffer, byteOffset, byteLength });
    controller.queueTotalSize += byteLength;
  }

  function readableByteStreamControllerEnqueueClonedChunkToQueue(
    controller,
    buffer,
    byteOffset,
    byteLength,
  ) {
    let clone;
    try {
      const end = byteOffset + byteLength;
      clone = ReflectApply(typedArrays().arrayBufferSlice, buffer, [byteOffset, end]);
    } catch (error) {
      readableByteStreamControllerError(controller, error);
      throw error;
    }
    readableByteStreamControllerEnqueueChunkToQueue(controller, clone, 0, byteLength);
  }

  function readableByteStreamControllerEnqueueDetachedPullIntoToQueue(controller, descriptor) {
    if (descriptor.bytesFilled > 0) {
      readableByteStreamControllerEnqueueClonedChunkToQueue(
        controller,
        descriptor.buffer,
        descriptor.byteOffset,
        descriptor.bytesFilled,
      );
    }
    readableByteStreamControllerShiftPendingPullInto(controller);
  }

  function readableByteStreamControllerError(controller, error) {
    const stream = controller.stream;
    if (stream.state !== "readable") return;
    readableByteStreamControllerClearPendingPullIntos(controller);
    resetQueue(controller);
    readableByteStreamControllerClearAlgorithms(controller);
    readableStreamError(stream, error);
  }

  // Streams §4.9.5 ReadableByteStreamControllerFillPullIntoDescriptorFromQueue
  function readableByteStreamControllerFillPullIntoDescriptorFromQueue(controller, descriptor) {
    const maxBytesToCopy = MathMin(
      controller.queueTotalSize,
      descriptor.byteLength - descriptor.bytesFilled,
    );
    const maxBytesFilled = descriptor.bytesFilled + maxBytesToCopy;
    let totalBytesToCopyRemaining = maxBytesToCopy;
    let ready = false;
    const maxAlignedBytes = maxBytesFilled - (maxBytesFilled % descriptor.elementSize);
    if (maxAlignedBytes >= descriptor.minimumFill) {
      totalBytesToCopyRemaining = maxAlignedBytes - descriptor.bytesFilled;
      ready = true;
    }
    const queue = controller.queue;
    while (totalBytesToCopyRemaining > 0) {
      const head = listQueuePeek(queue);
      const bytesToCopy = MathMin(totalBytesToCopyRemaining, head.byteLength);
      const destStart = descriptor.byteOffset + descriptor.bytesFilled;
      copyBufferBytes(descriptor.buffer, destStart, head.buffer, head.byteOffset, bytesToCopy);
      if (head.byteLength === bytesToCopy) {
        listQueueShift(queue);
      } else {
        head.byteOffset += bytesToCopy;
        head.byteLength -= bytesToCopy;
      }
      controller.queueTotalSize -= bytesToCopy;
      descriptor.bytesFilled += bytesToCopy; // FillHeadPullIntoDescriptor
      totalBytesToCopyRemaining -= bytesToCopy;
    }
    return ready;
  }

  function readableByteStreamControllerFillReadRequestFromQueue(controller, readRequest) {
    const entry = listQueueShift(controller.queue);
    controller.queueTotalSize -= entry.byteLength;
    readableByteStreamControllerHandleQueueDrain(controller);
    readRequest.chunkSteps(newUint8Array(entry.buffer, entry.byteOffset, entry.byteLength));
  }

  // Streams §4.9.5 ReadableByteStreamControllerGetBYOBRequest: the record
  // { controller, view, wrapper } or null.
  function readableByteStreamControllerGetBYOBRequest(controller) {
    if (controller.byobRequest === null && listQueueSize(controller.pendingPullIntos) > 0) {
      const first = listQueuePeek(controller.pendingPullIntos);
      const view = newUint8Array(
        first.buffer,
        first.byteOffset + first.bytesFilled,
        first.byteLength - first.bytesFilled,
      );
      controller.byobRequest = { controller, view, wrapper: undefined };
    }
    return controller.byobRequest;
  }

  function readableByteStreamControllerGetDesiredSize(controller) {
    const state = controller.stream.state;
    if (state === "errored") return null;
    if (state === "closed") return 0;
    return controller.strategyHWM - controller.queueTotalSize;
  }

  function readableByteStreamControllerHandleQueueDrain(controller) {
    if (controller.queueTotalSize === 0 && controller.closeRequested) {
      readableByteStreamControllerClearAlgorithms(controller);
      readableStreamClose(controller.stream);
    } else {
      readableByteStreamControllerCallPullIfNeeded(controller);
    }
  }

  function readableByteStreamControllerInvalidateBYOBRequest(controller) {
    const request = controller.byobRequest;
    if (request === null) return;
    request.controller = undefined;
    request.view = null;
    controller.byobRequest = null;
  }

  function readableByteStreamControllerProcessPullIntoDescriptorsUsingQueue(controller) {
    const filled = [];
    while (listQueueSize(controller.pendingPullIntos) > 0) {
      if (controller.queueTotalSize === 0) break;
      const descriptor = listQueuePeek(controller.pendingPullIntos);
      if (readableByteStreamControllerFillPullIntoDescriptorFromQueue(controller, descriptor)) {
        readableByteStreamControllerShiftPendingPullInto(controller);
        filled[filled.length] = descriptor;
      }
    }
    return filled;
  }

  function readableByteStreamControllerProcessReadRequestsUsingQueue(controller) {
    const reader = controller.stream.reader;
    while (listQueueSize(reader.readRequests) > 0) {
      if (controller.queueTotalSize === 0) return;
      readableByteStreamControllerFillReadRequestFromQueue(
        controller,
        listQueueShift(reader.readRequests),
      );
    }
  }

  // Streams §4.9.5 ReadableByteStreamControllerPullInto
  function readableByteStreamControllerPullInto(controller, view, min, readIntoRequest) {
    const stream = controller.stream;
    const [viewBuffer, byteOffset, byteLength, kind] = arrayBufferViewParts(view);
    let elementSize = 1;
    const ta = typedArrays();
    let viewConstructor = ta.DataView;
    if (kind !== undefined) {
      viewConstructor = ta.constructors[kind];
      elementSize = viewConstructor.BYTES_PER_ELEMENT;
    }
    let buffer;
    try {
      buffer = transferArrayBuffer(viewBuffer);
    } catch (error) {
      readIntoRequest.errorSteps(error);
      return;
    }
    const descriptor = {
      buffer,
      bufferByteLength: arrayBufferByteLength(buffer),
      byteOffset,
      byteLength,
      bytesFilled: 0,
      minimumFill: min * elementSize,
      elementSize,
      viewConstructor,
      readerType: "byob",
    };
    if (listQueueSize(controller.pendingPullIntos) > 0) {
      listQueuePush(controller.pendingPullIntos, descriptor);
      readableStreamAddReadIntoRequest(stream, readIntoRequest);
      return;
    }
    if (stream.state === "closed") {
      readIntoRequest.closeSteps(new viewConstructor(descriptor.buffer, descriptor.byteOffset, 0));
      return;
    }
    if (controller.queueTotalSize > 0) {
      if (readableByteStreamControllerFillPullIntoDescriptorFromQueue(controller, descriptor)) {
        const filledView = readableByteStreamControllerConvertPullIntoDescriptor(descriptor);
        readableByteStreamControllerHandleQueueDrain(controller);
        readIntoRequest.chunkSteps(filledView);
        return;
      }
      if (controller.closeRequested) {
        const error = new TypeErrorCtor("the stream is closing and cannot fill the BYOB read");
        readableByteStreamControllerError(controller, error);
        readIntoRequest.errorSteps(error);
        return;
      }
    }
    listQueuePush(controller.pendingPullIntos, descriptor);
    readableStreamAddReadIntoRequest(stream, readIntoRequest);
    readableByteStreamControllerCallPullIfNeeded(controller);
  }

  // Streams §4.9.5 ReadableByteStreamControllerRespond
  function readableByteStreamControllerRespond(controller, bytesWritten) {
    const first = listQueuePeek(controller.pendingPullIntos);
    if (controller.stream.state === "closed") {
      if (bytesWritten !== 0) {
        throw new TypeErrorCtor("bytesWritten must be 0 once the stream is closed");
      }
    } else {
      if (bytesWritten === 0) {
        throw new TypeErrorCtor("bytesWritten must be greater than 0 while the stream is readable");
      }
      if (first.bytesFilled + bytesWritten > first.byteLength) {
        throw new RangeErrorCtor("bytesWritten is larger than the BYOB request's view");
      }
    }
    first.buffer = transferArrayBuffer(first.buffer);
    readableByteStreamControllerRespondInternal(controller, bytesWritten);
  }

  function readableByteStreamControllerRespondInClosedState(controller, first) {
    if (first.readerType === "none") readableByteStreamControllerShiftPendingPullInto(controller);
    const stream = controller.stream;
    if (readableStreamHasBYOBReader(stream)) {
      const filled = [];
      while (filled.length < readableStreamGetNumReadIntoRequests(stream)) {
        filled[filled.length] = readableByteStreamControllerShiftPendingPullInto(controller);
      }
      for (let i = 0; i < filled.length; i++) {
        readableByteStreamControllerCommitPullIntoDescriptor(stream, filled[i]);
      }
    }
  }

  function readableByteStreamControllerRespondInReadableState(
    controller,
    bytesWritten,
    descriptor,
  ) {
    descriptor.bytesFilled += bytesWritten; // FillHeadPullIntoDescriptor
    const stream = controller.stream;
    if (descriptor.readerType === "none") {
      readableByteStreamControllerEnqueueDetachedPullIntoToQueue(controller, descriptor);
      const filled = readableByteStreamControllerProcessPullIntoDescriptorsUsingQueue(controller);
      for (let i = 0; i < filled.length; i++) {
        readableByteStreamControllerCommitPullIntoDescriptor(stream, filled[i]);
      }
      return;
    }
    if (descriptor.bytesFilled < descriptor.minimumFill) return;
    readableByteStreamControllerShiftPendingPullInto(controller);
    const remainderSize = descriptor.bytesFilled % descriptor.elementSize;
    if (remainderSize > 0) {
      const end = descriptor.byteOffset + descriptor.bytesFilled;
      readableByteStreamControllerEnqueueClonedChunkToQueue(
        controller,
        descriptor.buffer,
        end - remainderSize,
        remainderSize,
      );
    }
    descriptor.bytesFilled -= remainderSize;
    const filled = readableByteStreamControllerProcessPullIntoDescriptorsUsingQueue(controller);
    readableByteStreamControllerCommitPullIntoDescriptor(stream, descriptor);
    for (let i = 0; i < filled.length; i++) {
      readableByteStreamControllerCommitPullIntoDescriptor(stream, filled[i]);
    }
  }

  function readableByteStreamControllerRespondInternal(controller, bytesWritten) {
    const first = listQueuePeek(controller.pendingPullIntos);
    readableByteStreamControllerInvalidateBYOBRequest(controller);
    if (controller.stream.state === "closed") {
      readableByteStreamControllerRespondInClosedState(controller, first);
    } else {
      readableByteStreamControllerRespondInReadableState(controller, bytesWritten, first);
    }
    readableByteStreamControllerCallPullIfNeeded(controller);
  }

  // Streams §4.9.5 ReadableByteStreamControllerRespondWithNewView
  function readableByteStreamControllerRespondWithNewView(controller, view) {
    const first = listQueuePeek(controller.pendingPullIntos);
    const [buffer, byteOffset, byteLength] = arrayBufferViewParts(view);
    if (controller.stream.state === "closed") {
      if (byteLength !== 0) {
        throw new TypeErrorCtor("the view must be empty once the stream is closed");
      }
    } else if (byteLength === 0) {
      throw new TypeErrorCtor("the view must not be empty while the stream is readable");
    }
    if (first.byteOffset + first.bytesFilled !== byteOffset) {
      throw new RangeErrorCtor("the view does not start where the BYOB request's view does");
    }
    if (first.bufferByteLength !== arrayBufferByteLength(buffer)) {
      throw new RangeErrorCtor("the view's buffer does not have the BYOB request's size");
    }
    if (first.bytesFilled + byteLength > first.byteLength) {
      throw new RangeErrorCtor("the view is larger than the BYOB request's view");
    }
    first.buffer = transferArrayBuffer(buffer);
    readableByteStreamControllerRespondInternal(controller, byteLength);
  }

  function readableByteStreamControllerShiftPendingPullInto(controller) {
    return listQueueShift(controller.pendingPullIntos);
  }

  function readableByteStreamControllerShouldCallPull(controller) {
    const stream = controller.stream;
    if (stream.state !== "readable" || controller.closeRequested || !controller.started) {
      return false;
    }
    if (readableStreamHasDefaultReader(stream) && readableStreamGetNumReadRequests(stream) > 0) {
      return true;
    }
    if (readableStreamHasBYOBReader(stream) && readableStreamGetNumReadIntoRequests(stream) > 0) {
      return true;
    }
    return readableByteStreamControllerGetDesiredSize(controller) > 0;
  }

  // Streams §4.7.5 [[PullSteps]]
  function readableByteStreamControllerPullSteps(controller, readRequest) {
    const stream = controller.stream;
    if (controller.queueTotalSize > 0) {
      readableByteStreamControllerFillReadRequestFromQueue(controller, readRequest);
      return;
    }
    const chunkSize = controller.autoAllocateChunkSize;
    if (chunkSize !== undefined) {
      let buffer;
      try {
        buffer = new (typedArrays().ArrayBuffer)(chunkSize);
      } catch (error) {
        readRequest.errorSteps(error);
        return;
      }
      listQueuePush(controller.pendingPullIntos, {
        buffer,
        bufferByteLength: chunkSize,
        byteOffset: 0,
        byteLength: chunkSize,
        bytesFilled: 0,
        minimumFill: 1,
        elementSize: 1,
        viewConstructor: typedArrays().Uint8Array,
        readerType: "default",
      });
    }
    readableStreamAddReadRequest(stream, readRequest);
    readableByteStreamControllerCallPullIfNeeded(controller);
  }

  // Streams §4.7.5 [[ReleaseSteps]]
  function readableByteStreamControllerReleaseSteps(controller) {
    if (listQueueSize(controller.pendingPullIntos) === 0) return;
    const first = listQueuePeek(controller.pendingPullIntos);
    first.readerType = "none";
    controller.pendingPullIntos = listQueueNew();
    listQueuePush(controller.pendingPullIntos, first);
  }

  // Streams §4.9.5 SetUpReadableByteStreamController
  function setUpReadableByteStreamController(
    stream,
    controller,
    startAlgorithm,
    pullAlgorithm,
    cancelAlgorithm,
    highWaterMark,
    autoAllocateChunkSize,
  ) {
    controller.stream = stream;
    controller.strategyHWM = highWaterMark;
    controller.pullAlgorithm = pullAlgorithm;
    controller.cancelAlgorithm = cancelAlgorithm;
    controller.autoAllocateChunkSize = autoAllocateChunkSize;
    stream.controller = controller;
    const startResult = startAlgorithm(controller);
    promiseThen(
      promiseResolve(startResult),
      () => {
        controller.started = true;
        readableByteStreamControllerCallPullIfNeeded(controller);
      },
      (error) => readableByteStreamControllerError(controller, error),
    );
  }

  // Streams §4.9.5 SetUpReadableByteStreamControllerFromUnderlyingSource
  function setUpReadableByteStreamControllerFromUnderlyingSource(
    stream,
    source,
    dict,
    highWaterMark,
  ) {
    const controller = newByteControllerState();
    const { ReadableByteStreamController } = byteStreamClasses();
    const wrapper = new ReadableByteStreamController(kInternal, controller);
    const { start, pull, cancel, autoAllocateChunkSize } = dict;
    if (autoAllocateChunkSize === 0) {
      throw new TypeErrorCtor("ReadableStream: autoAllocateChunkSize must be greater than 0");
    }
    setUpReadableByteStreamController(
      stream,
      controller,
      start === undefined ? noop : () => ReflectApply(start, source, [wrapper]),
      pull === undefined ? resolvedUndefined : () => promiseCall(pull, source, [wrapper]),
      cancel === undefined ? resolvedUndefined : (reason) => promiseCall(cancel, source, [reason]),
      highWaterMark,
      autoAllocateChunkSize,
    );
  }

  // Streams §4.9.1 CreateReadableByteStream (high-water mark 0): internal
  // byte streams. Algorithms receive the controller state.
  function createReadableByteStreamState(pullAlgorithm, cancelAlgorithm, startAlgorithm = noop) {
    const stream = newStreamState();
    setUpReadableByteStreamController(
      stream,
      newByteControllerState(),
      startAlgorithm,
      pullAlgorithm,
      cancelAlgorithm,
      0,
      undefined,
    );
    return stream;
  }

  // A byte stream that yields `bytes` (a Uint8Array it may detach) once and
  // closes; an empty one enqueues nothing (Fetch §5.1 extract a body).
  function createSingleChunkStreamState(bytes) {
    return createReadableByteStreamState(resolvedUndefined, resolvedUndefined, (controller) => {
      if (typedArrayByteLength(bytes) > 0) readableByteStreamControllerEnqueue(controller, bytes);
      readableByteStreamControllerClose(controller);
    });
  }

  // Streams §4.9.1 ReadableByteStreamTee: each chunk reaches one branch as it
  // is and the other as a copy; a branch read with a BYOB reader reads the
  // source with one too.
  function readableByteStreamTee(stream) {
    let reader = acquireReadableStreamDefaultReader(stream);
    let reading = false;
    let readAgainForBranch1 = false;
    let readAgainForBranch2 = false;
    const canceled = [false, false];
    const reasons = [undefined, undefined];
    const branches = [undefined, undefined];
    const cancelDeferred = createDeferred();

    function forwardReaderError(thisReader) {
      promiseThen(readerClosedPromise(thisReader), undefined, (error) => {
        if (thisReader !== reader) return;
        readableByteStreamControllerError(branches[0].controller, error);
        readableByteStreamControllerError(branches[1].controller, error);
        if (!canceled[0] || !canceled[1]) cancelDeferred.resolve(undefined);
      });
    }

    function failBoth(error) {
      readableByteStreamControllerError(branches[0].controller, error);
      readableByteStreamControllerError(branches[1].controller, error);
      cancelDeferred.resolve(readableStreamCancel(stream, error));
    }

    function readAgainIfAsked() {
      if (readAgainForBranch1) pullAlgorithm(0);
      else if (readAgainForBranch2) pullAlgorithm(1);
    }

    function pullWithDefaultReader() {
      if (reader.byob) {
        readableStreamBYOBReaderRelease(reader);
        reader = acquireReadableStreamDefaultReader(stream);
        forwardReaderError(reader);
      }
      readableStreamDefaultReaderRead(reader, {
        chunkSteps(chunk) {
          enqueueMicrotask(() => {
            readAgainForBranch1 = false;
            readAgainForBranch2 = false;
            let chunk2 = chunk;
            if (!canceled[0] && !canceled[1]) {
              try {
                chunk2 = cloneAsUint8Array(chunk);
              } catch (error) {
                failBoth(error);
                return;
              }
            }
            if (!canceled[0]) readableByteStreamControllerEnqueue(branches[0].controller, chunk);
            if (!canceled[1]) readableByteStreamControllerEnqueue(branches[1].controller, chunk2);
            reading = false;
            readAgainIfAsked();
          });
        },
        closeSteps() {
          reading = false;
          for (let i = 0; i < 2; i++) {
            if (!canceled[i]) readableByteStreamControllerClose(branches[i].controller);
          }
          for (let i = 0; i < 2; i++) {
            const controller = branches[i].controller;
            if (listQueueSize(controller.pendingPullIntos) > 0) {
              readableByteStreamControllerRespond(controller, 0);
            }
          }
          if (!canceled[0] || !canceled[1]) cancelDeferred.resolve(undefined);
        },
        errorSteps() {
          reading = false;
        },
      });
    }

    function pullWithBYOBReader(view, forBranch) {
      if (!reader.byob) {
        readableStreamDefaultReaderRelease(reader);
        reader = acquireReadableStreamBYOBReader(stream);
        forwardReaderError(reader);
      }
      const other = 1 - forBranch;
      const byobController = () => branches[forBranch].controller;
      const otherController = () => branches[other].controller;
      readableStreamBYOBReaderRead(reader, view, 1, {
        chunkSteps(chunk) {
          enqueueMicrotask(() => {
            readAgainForBranch1 = false;
            readAgainForBranch2 = false;
            if (!canceled[other]) {
              let cloned;
              try {
                cloned = cloneAsUint8Array(chunk);
              } catch (error) {
                failBoth(error);
                return;
              }
              if (!canceled[forBranch]) {
                readableByteStreamControllerRespondWithNewView(byobController(), chunk);
              }
              readableByteStreamControllerEnqueue(otherController(), cloned);
            } else if (!canceled[forBranch]) {
              readableByteStreamControllerRespondWithNewView(byobController(), chunk);
            }
            reading = false;
            readAgainIfAsked();
          });
        },
        closeSteps(chunk) {
          reading = false;
          if (!canceled[forBranch]) readableByteStreamControllerClose(byobController());
          if (!canceled[other]) readableByteStreamControllerClose(otherController());
          if (chunk !== undefined) {
            if (!canceled[forBranch]) {
              readableByteStreamControllerRespondWithNewView(byobController(), chunk);
            }
            if (!canceled[other] && listQueueSize(otherController().pendingPullIntos) > 0) {
              readableByteStreamControllerRespond(otherController(), 0);
            }
          }
          if (!canceled[forBranch] || !canceled[other]) cancelDeferred.resolve(undefined);
        },
        errorSteps() {
          reading = false;
        },
      });
    }

    function pullAlgorithm(index) {
      if (reading) {
        if (index === 0) readAgainForBranch1 = true;
        else readAgainForBranch2 = true;
        return resolvedPromise;
      }
      reading = true;
      const byobRequest = readableByteStreamControllerGetBYOBRequest(branches[index].controller);
      if (byobRequest === null) pullWithDefaultReader();
      else pullWithBYOBReader(byobRequest.view, index);
      return resolvedPromise;
    }

    function cancelAlgorithm(index, reason) {
      canceled[index] = true;
      reasons[index] = reason;
      if (canceled[1 - index]) {
        const cancelResult = readableStreamCancel(stream, [reasons[0], reasons[1]]);
        cancelDeferred.resolve(cancelResult);
      }
      return cancelDeferred.promise;
    }

    branches[0] = createReadableByteStreamState(
      () => pullAlgorithm(0),
      (reason) => cancelAlgorithm(0, reason),
    );
    branches[1] = createReadableByteStreamState(
      () => pullAlgorithm(1),
      (reason) => cancelAlgorithm(1, reason),
    );
    forwardReaderError(reader);
    return branches;
  }

  // ---------------------------------------------------------------------------
  // Public classes

  function readableStreamBYOBReaderWrapper(reader) {
    if (reader.wrapper === undefined) {
      const { ReadableStreamBYOBReader } = byteStreamClasses();
      new ReadableStreamBYOBReader(kInternal, reader);
    }
    return reader.wrapper;
  }

  // Streams §4.5.4 ReadableStreamBYOBReaderReadOptions { min = 1 }
  function byobReadMinimum(options, view, kind, byteLength) {
    const dict = toDictionary(options, "ReadableStreamBYOBReader.read");
    const minValue = dict === undefined ? undefined : dict.min;
    const min =
      minValue === undefined
        ? 1
        : toEnforceRangeUnsignedLongLong(minValue, "ReadableStreamBYOBReader.read: min");
    if (min === 0) {
      throw new TypeErrorCtor("ReadableStreamBYOBReader.read: min must be greater than 0");
    }
    const limit =
      kind === undefined ? byteLength : ReflectApply(typedArrays().typedArrayGetLength, view, []);
    if (min > limit) {
      throw new RangeErrorCtor("ReadableStreamBYOBReader.read: min is larger than the view");
    }
    return min;
  }

  const byteStreamClasses = once(() => {
    class ReadableByteStreamController {
      #c;

      constructor(token = undefined, controller = undefined) {
        if (token !== kInternal) throw new TypeErrorCtor("Illegal constructor");
        this.#c = controller;
        controller.wrapper = this;
      }

      // Streams §4.7.3 byobRequest
      get byobRequest() {
        const request = readableByteStreamControllerGetBYOBRequest(this.#c);
        if (request === null) return null;
        if (request.wrapper === undefined) {
          request.wrapper = new ReadableStreamBYOBRequest(kInternal, request);
        }
        return request.wrapper;
      }

      get desiredSize() {
        return readableByteStreamControllerGetDesiredSize(this.#c);
      }

      // Streams §4.7.3 close()
      close() {
        const controller = this.#c;
        if (controller.closeRequested) {
          throw new TypeErrorCtor("The stream is already closing");
        }
        if (controller.stream.state !== "readable") {
          throw new TypeErrorCtor("The stream is not readable and cannot be closed");
        }
        readableByteStreamControllerClose(controller);
      }

      // Streams §4.7.3 enqueue(chunk)
      enqueue(chunk) {
        const controller = this.#c;
        requireArguments(arguments.length, 1, "ReadableByteStreamController.enqueue");
        if (!isArrayBufferView(chunk)) {
          throw new TypeErrorCtor(
            "ReadableByteStreamController.enqueue: parameter 1 is not of type 'ArrayBufferView'",
          );
        }
        const [buffer, , byteLength] = arrayBufferViewParts(chunk);
        if (byteLength === 0) throw new TypeErrorCtor("the chunk must not be empty");
        if (arrayBufferByteLength(buffer) === 0) {
          throw new TypeErrorCtor("the chunk's buffer must not be empty or detached");
        }
        if (controller.closeRequested) throw new TypeErrorCtor("The stream is closing");
        if (controller.stream.state !== "readable") {
          throw new TypeErrorCtor("The stream is not readable");
        }
        readableByteStreamControllerEnqueue(controller, chunk);
      }

      // Streams §4.7.3 error(e)
      error(e = undefined) {
        readableByteStreamControllerError(this.#c, e);
      }
    }
    configureInterface(ReadableByteStreamController);
    registerInspectHook(ReadableByteStreamController, (controller) => ({
      byobRequest: controller.byobRequest,
      desiredSize: controller.desiredSize,
    }));

    class ReadableStreamBYOBRequest {
      #r; // { controller, view, wrapper }

      constructor(token = undefined, request = undefined) {
        if (token !== kInternal) throw new TypeErrorCtor("Illegal constructor");
        this.#r = request;
      }

      get view() {
        return this.#r.view;
      }

      // Streams §4.8.3 respond(bytesWritten)
      respond(bytesWritten) {
        requireArguments(arguments.length, 1, "ReadableStreamBYOBRequest.respond");
        const request = this.#r;
        const n = toEnforceRangeUnsignedLongLong(bytesWritten, "ReadableStreamBYOBRequest.respond");
        if (request.controller === undefined) {
          throw new TypeErrorCtor("This BYOB request has already been responded to");
        }
        if (isDetachedBuffer(arrayBufferViewParts(request.view)[0])) {
          throw new TypeErrorCtor("The BYOB request's buffer is detached");
        }
        readableByteStreamControllerRespond(request.controller, n);
      }

      // Streams §4.8.3 respondWithNewView(view)
      respondWithNewView(view) {
        requireArguments(arguments.length, 1, "ReadableStreamBYOBRequest.respondWithNewView");
        const request = this.#r;
        if (!isArrayBufferView(view)) {
          throw new TypeErrorCtor(
            "ReadableStreamBYOBRequest.respondWithNewView: parameter 1 is not of type 'ArrayBufferView'",
          );
        }
        if (request.controller === undefined) {
          throw new TypeErrorCtor("This BYOB request has already been responded to");
        }
        if (isDetachedBuffer(arrayBufferViewParts(view)[0])) {
          throw new TypeErrorCtor("The view's buffer is detached");
        }
        readableByteStreamControllerRespondWithNewView(request.controller, view);
      }
    }
    configureInterface(ReadableStreamBYOBRequest);
    registerInspectHook(ReadableStreamBYOBRequest, (request) => ({ view: request.view }));

    class ReadableStreamBYOBReader {
      #r;

      // Streams §4.5.3 constructor(stream)
      constructor(stream, reader = undefined) {
        if (stream === kInternal) {
          this.#r = reader;
          reader.wrapper = this;
          return;
        }
        requireArguments(arguments.length, 1, "ReadableStreamBYOBReader");
        if (!isReadableStream(stream)) {
          throw new TypeErrorCtor(
            "ReadableStreamBYOBReader: parameter 1 is not of type 'ReadableStream'",
          );
        }
        const state = acquireReadableStreamBYOBReader(readableStreamStateOf(stream));
        state.wrapper = this;
        this.#r = state;
      }

      get closed() {
        if (!(isObjectLike(this) && #r in this)) {
          return promiseReject(new TypeErrorCtor("Illegal invocation"));
        }
        return readerClosedPromise(this.#r);
      }

      // Streams §4.5.4 read(view, options)
      read(view, options = undefined) {
        if (!(isObjectLike(this) && #r in this)) {
          return promiseReject(new TypeErrorCtor("Illegal invocation"));
        }
        const reader = this.#r;
        let min;
        try {
          if (!isArrayBufferView(view)) {
            throw new TypeErrorCtor(
              "ReadableStreamBYOBReader.read: parameter 1 is not of type 'ArrayBufferView'",
            );
          }
          const [buffer, , byteLength, kind] = arrayBufferViewParts(view);
          if (byteLength === 0) throw new TypeErrorCtor("the view must not be empty");
          if (arrayBufferByteLength(buffer) === 0) {
            throw new TypeErrorCtor("the view's buffer must not be empty or detached");
          }
          min = byobReadMinimum(options, view, kind, byteLength);
        } catch (error) {
          return promiseReject(error);
        }
        if (reader.stream === undefined) {
          return promiseReject(new TypeErrorCtor("Cannot read from a released reader"));
        }
        const deferred = createDeferred();
        readableStreamBYOBReaderRead(reader, view, min, {
          chunkSteps(chunk) {
            deferred.resolve({ value: chunk, done: false });
          },
          closeSteps(chunk) {
            deferred.resolve({ value: chunk, done: true });
          },
          errorSteps(error) {
            deferred.reject(error);
          },
        });
        return deferred.promise;
      }

      releaseLock() {
        const reader = this.#r;
        if (reader.stream === undefined) return;
        readableStreamBYOBReaderRelease(reader);
      }

      cancel(reason = undefined) {
        if (!(isObjectLike(this) && #r in this)) {
          return promiseReject(new TypeErrorCtor("Illegal invocation"));
        }
        return readerGenericCancel(this.#r, reason);
      }
    }
    configureInterface(ReadableStreamBYOBReader);

    return {
      ReadableByteStreamController,
      ReadableStreamBYOBRequest,
      ReadableStreamBYOBReader,
    };
  });

  return {
    acquireReadableStreamBYOBReader,
    readableStreamBYOBReaderErrorReadIntoRequests,
    readableStreamBYOBReaderRelease,
    readableByteStreamControllerClearAlgorithms,
    readableByteStreamControllerClearPendingPullIntos,
    readableByteStreamControllerClose,
    readableByteStreamControllerEnqueue,
    readableByteStreamControllerError,
    readableByteStreamControllerRespond,
    readableByteStreamControllerPullSteps,
    readableByteStreamControllerReleaseSteps,
    setUpReadableByteStreamControllerFromUnderlyingSource,
    createReadableByteStreamState,
    createSingleChunkStreamState,
    readableByteStreamTee,
    readableStreamBYOBReaderWrapper,
    byteStreamClasses,
  };
});
