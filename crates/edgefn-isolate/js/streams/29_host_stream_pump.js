// streams/29_host_stream_pump.js
//
// HostStreamPump: how a body stream reaches the host. Every such body is a
// ReadableStream, so this lives in the streams chunk.

// Moves the chunks of a body stream to a host stream (a streamed response,
// or the upload of a fetch()) with host.streamWrite, honouring backpressure
// (1 = full: wait with host.streamWait, then retry the chunk). `finish` is
// called once when the pump stops, with undefined when the stream ended and
// the reason otherwise.
const hostStreamPumpClass = once(() => {
  class HostStreamPump {
    constructor(streamId, reader, what, finish) {
      this.streamId = streamId;
      this.reader = reader;
      this.what = what;
      this.finish = finish;
      this.inRead = false;
      this.again = false;
      this.finished = false;
    }

    loop() {
      do {
        this.again = false;
        this.inRead = true;
        try {
          readableStreamDefaultReaderRead(this.reader, this);
        } catch (error) {
          this.fail(error, true);
        }
        this.inRead = false;
      } while (this.again && !this.finished);
    }

    // Read request steps
    chunkSteps(chunk) {
      if (this.finished) return;
      const view = bufferSourceView(chunk);
      if (view === null) {
        this.fail(
          new TypeErrorCtor(
            `${this.what.name} stream chunks must be ArrayBuffer or ArrayBufferView objects (got ${describeNonResponse(chunk)})`,
          ),
          true,
        );
        return;
      }
      if (typedArrayByteLength(view) === 0 || this.write(view)) this.proceed();
    }

    closeSteps() {
      if (this.finished) return;
      this.finished = true;
      try {
        host.streamClose(this.streamId);
      } catch (error) {
        reportException(error);
      }
      this.finish(undefined);
    }

    errorSteps(error) {
      if (this.finished) return;
      this.fail(error, false);
    }

    proceed() {
      if (this.inRead) this.again = true;
      else this.loop();
    }

    // Returns true when the chunk was taken and reading may go on.
    write(view) {
      let status;
      try {
        status = host.streamWrite(this.streamId, view);
      } catch (error) {
        this.fail(error, true);
        return false;
      }
      if (status === 0) return true;
      if (status === 1) {
        const opId = registerHostOp((ok) => {
          if (this.finished) return;
          if (ok !== true) {
            this.clientGone();
            return;
          }
          if (this.write(view)) this.proceed();
        });
        try {
          host.streamWait(this.streamId, opId);
        } catch (error) {
          forgetHostOp(opId);
          this.fail(error, true);
        }
        return false;
      }
      this.clientGone();
      return false;
    }

    // The reader on the host side went away: stop and cancel the source stream.
    clientGone() {
      this.stop(new ErrorCtor(this.what.gone));
    }

    // Stops pumping and cancels the source stream with `reason`.
    stop(reason) {
      if (this.finished) return;
      this.finished = true;
      this.cancelSource(reason);
      this.finish(reason);
    }

    // The body failed: abort the host stream and say why. `cancel` is true
    // when the source stream is still readable and must be cancelled.
    fail(error, cancel) {
      if (this.finished) return;
      this.finished = true;
      if (this.what.report) reportException(error, `Uncaught (in ${this.what.name})`);
      const message = isErrorObject(error) ? errorSummary(error) : safeToString(error);
      try {
        host.streamAbort(this.streamId, message);
      } catch (e) {
        reportException(e);
      }
      if (cancel) this.cancelSource(error);
      this.finish(error);
    }

    cancelSource(reason) {
      const stream = this.reader.stream;
      if (stream === undefined) return;
      try {
        promiseThen(readableStreamCancel(stream, reason), undefined, (error) => {
          reportException(error);
        });
      } catch (error) {
        reportException(error);
      }
    }
  }
  return HostStreamPump;
});
