// fetch/40_fetch.js
//
// fetch() (WHATWG Fetch §5.6) over the host's HTTP client: HTTP/1.1 and HTTP/2 with TLS,
// redirect modes, AbortSignal, and bodies handed to and from the host. An untouched incoming
// request body is passed on as it is, a stream body is uploaded chunk by chunk as it is read
// (Fetch §4.5 step 4's "transmit request body"), and a string or bytes body goes in one piece.
//
// A chunk loaded on the first call of fetch() (the core's 40_fetch.js).

function fetch(input, init = undefined) {
  return new PromiseCtor((resolve, reject) => {
    let request;
    try {
      const Request = requestClass();
      request = new Request(input, init);
    } catch (error) {
      reject(error);
      return;
    }
    const r = requestInternals(request);
    // The signal's internal state, not its public methods, which tenant code could replace.
    const signal = requestSignalState(r);
    if (abortSignalAborted(signal)) {
      reject(signal.reason);
      return;
    }
    const headers = r[RQ_H][H_LIST];

    // `body`: null, a host body id, bytes, or true with the `reader` of a stream to pump (the
    // host uploads from a host stream with the fetch's id).
    const start = (body, reader = undefined) => {
      let fetchId;
      let settled = false;
      let abortHandle = null;
      let upload; // the HostStreamPump of a stream body
      const onAbort = () => {
        if (settled) return;
        settled = true;
        forgetHostOp(opId);
        host.fetchAbort(fetchId);
        // Fetch §5.6 "abort the fetch() call": the request body is cancelled.
        if (upload !== undefined) upload.stop(signal.reason);
        reject(signal.reason);
      };
      const opId = registerHostOp((head, error) => {
        if (settled) return;
        settled = true;
        abortSignalRemoveAlgorithm(signal, abortHandle);
        if (error !== undefined) {
          const failure = new TypeErrorCtor(error);
          if (upload !== undefined) upload.stop(failure);
          reject(failure);
          return;
        }
        const Response = responseClass();
        resolve(
          new Response(kInternal, [
            "basic",
            head[0],
            head[1],
            newHeadersRecord(head[2], "immutable"),
            null,
            head[3] === -1 ? null : newBodyState(BODY_HOST, head[3]),
            head[4],
            head[5],
          ]),
        );
      });
      try {
        fetchId = host.fetchStart(r[RQ_METHOD], r[RQ_URL], headers, body, r[RQ_REDIRECT], opId);
      } catch (error) {
        forgetHostOp(opId);
        if (reader !== undefined) {
          readableStreamDefaultReaderRelease(reader);
        }
        reject(error);
        return;
      }
      abortHandle = abortSignalAddAlgorithm(signal, onAbort);
      if (reader !== undefined) {
        // A failed upload fails the fetch through the host (the stream ends in error).
        const HostStreamPump = hostStreamPumpClass();
        upload = new HostStreamPump(fetchId, reader, REQUEST_BODY, () => {});
        upload.loop();
      }
    };

    const state = r[RQ_BODY];
    if (state === null) {
      start(null);
    } else if (bodyIsUnusable(state)) {
      reject(new TypeErrorCtor("fetch: the request body has already been used"));
    } else if (state[B_KIND] === BODY_HOST && state[B_STREAM] === undefined && !state[B_USED]) {
      state[B_USED] = true;
      start(state[B_SOURCE]);
    } else if (state[B_KIND] === BODY_STREAM || state[B_KIND] === BODY_HOST) {
      start(true, acquireReadableStreamDefaultReader(bodyStreamState(state)));
    } else {
      promiseThen(
        request.arrayBuffer(),
        (buffer) => start(newUint8Array(buffer)),
        reject,
      );
    }
  });
}
