// 99_internal.js
//
// The functions the host calls: handler resolution, request dispatch,
// host-op completion, timers, unhandled rejections. Only captured
// built-ins are used on these paths, none of them throws to the host, and
// each request is answered exactly once (host.respond or host.respondError).

const HANDLER_NONE = 0;
const HANDLER_EXPORT = 1; // export default { fetch(request, env, ctx) }
const HANDLER_SERVE = 2; // Deno.serve(handler)

let handlerMode = HANDLER_NONE;
let exportedFetch;
let exportedThis;

function resolveHandler(namespace) {
  try {
    const defaultExport = namespace.default;
    if (defaultExport !== undefined && defaultExport !== null) {
      const fetch = defaultExport.fetch;
      if (typeof fetch === "function") {
        exportedFetch = fetch;
        exportedThis = defaultExport;
        handlerMode = HANDLER_EXPORT;
        return null;
      }
    }
  } catch (error) {
    return `could not read the entry module's default export: ${formatThrown(error, 0)}`;
  }
  if (serveHandler !== null) {
    handlerMode = HANDLER_SERVE;
    return null;
  }
  return "no request handler: call Deno.serve(handler) or export default { fetch(request) { ... } }";
}

// Per-request state: an array indexed by these constants, as the layer's
// other per-request records are (an array literal costs the engine about a
// third of an object literal with the same fields; see ARCHITECTURE.md).
const CTX_REQUEST_ID = 0;
const CTX_RESPONDED = 1; // host.respond / host.respondError was called
const CTX_FINISHED = 2; // the response was fully handed over, or failed
const CTX_FINISH_ERROR = 3;
const CTX_COMPLETED = 4; // Deno.serve info.completed deferred, created on access
const CTX_IN_ON_ERROR = 5;

function newRequestContext(requestId) {
  return [requestId, false, false, undefined, null, false];
}

// The response was fully handed over to the host (error undefined) or
// failed: settles Deno.serve's info.completed.
function finishRequest(ctx, error) {
  if (ctx[CTX_FINISHED]) return;
  ctx[CTX_FINISHED] = true;
  ctx[CTX_FINISH_ERROR] = error;
  const completed = ctx[CTX_COMPLETED];
  if (completed === null) return;
  if (error === undefined) completed.resolve(undefined);
  else completed.reject(error);
}

function requestCompletedPromise(ctx) {
  let completed = ctx[CTX_COMPLETED];
  if (completed === null) {
    completed = createDeferred();
    markPromiseHandled(completed.promise);
    ctx[CTX_COMPLETED] = completed;
    if (ctx[CTX_FINISHED]) {
      if (ctx[CTX_FINISH_ERROR] === undefined) completed.resolve(undefined);
      else completed.reject(ctx[CTX_FINISH_ERROR]);
    }
  }
  return completed.promise;
}

// Deno.serve's second handler argument: { remoteAddr, completed }, with the
// `completed` promise created only if the handler looks at it.
const serveHandlerInfoClass = once(() => {
  class ServeHandlerInfo {
    #ctx;
    // A field, so that it is defined: assigned, it would run a setter the
    // tenant put on Object.prototype.
    remoteAddr;

    constructor(ctx, remoteAddr) {
      this.#ctx = ctx;
      this.remoteAddr = remoteAddr;
    }

    get completed() {
      return requestCompletedPromise(this.#ctx);
    }
  }
  configureInterface(ServeHandlerInfo);
  registerInspectHook(ServeHandlerInfo, (info) => ({
    remoteAddr: info.remoteAddr,
    completed: info.completed,
  }));
  return ServeHandlerInfo;
});

function describeNonResponse(value) {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return "a string";
    case "number":
      return "a number";
    case "bigint":
      return "a bigint";
    case "boolean":
      return "a boolean";
    case "symbol":
      return "a symbol";
    case "function":
      return "a function";
  }
  const name = inspectConstructorName(value);
  if (name === "Response") {
    return "a Response object that was not created by the runtime's Response class";
  }
  if (name === null) return "an object with a null prototype";
  if (name === "" || name === "Object") return "an object";
  return `an object of type ${name}`;
}

function respondError(ctx, kind, message, stack) {
  if (ctx[CTX_RESPONDED]) return;
  ctx[CTX_RESPONDED] = true;
  try {
    host.respondError(ctx[CTX_REQUEST_ID], kind, message, stack);
  } catch (error) {
    reportException(error);
  }
  finishRequest(ctx, new ErrorCtor(message));
}

function respondUncaught(ctx, error) {
  if (ctx[CTX_RESPONDED]) {
    reportException(error);
    return;
  }
  let message;
  let stack;
  if (isErrorObject(error)) {
    message = errorSummary(error);
    const s = safeGet(error, "stack");
    if (typeof s === "string") stack = s;
  } else {
    message = safeToString(error);
  }
  respondError(ctx, "UncaughtException", message, stack);
}

function respondInvalid(ctx, value) {
  respondError(
    ctx,
    "InvalidResponse",
    `handler returned ${describeNonResponse(value)} instead of a Response`,
  );
}

// The handler (or onError) threw or rejected.
function handleHandlerError(ctx, error) {
  if (ctx[CTX_RESPONDED]) {
    reportException(error);
    return;
  }
  if (!ctx[CTX_IN_ON_ERROR] && handlerMode === HANDLER_SERVE && serveOnError !== null) {
    // Deno.serve({ onError }): its Response is sent instead.
    ctx[CTX_IN_ON_ERROR] = true;
    let result;
    try {
      result = ReflectApply(serveOnError, undefined, [error]);
    } catch (onErrorError) {
      respondUncaught(ctx, onErrorError);
      return;
    }
    handleHandlerResult(ctx, result);
    return;
  }
  respondUncaught(ctx, error);
}

function handleHandlerResult(ctx, result) {
  if (isResponse(result)) {
    sendResponse(ctx, result);
    return;
  }
  if (!isObjectLike(result)) {
    respondInvalid(ctx, result);
    return;
  }
  // A promise or another thenable: wait for it.
  let promise;
  try {
    promise = promiseResolve(result);
  } catch (error) {
    handleHandlerError(ctx, error);
    return;
  }
  promiseThen(
    promise,
    (value) => {
      if (isResponse(value)) sendResponse(ctx, value);
      else respondInvalid(ctx, value);
    },
    (error) => {
      handleHandlerError(ctx, error);
    },
  );
}

function sendResponse(ctx, response) {
  if (ctx[CTX_RESPONDED]) return;
  const r = responseInternals(response);
  if (r[R_TYPE] === "error") {
    respondError(
      ctx,
      "InvalidResponse",
      "handler returned a network error (Response.error()) instead of a Response",
    );
    return;
  }
  const body = r[R_BODY];
  let payload = null;
  let stream;
  if (body !== null) {
    if (bodyIsUnusable(body)) {
      respondError(
        ctx,
        "InvalidResponse",
        "handler returned a Response whose body has already been used",
      );
      return;
    }
    if (body[B_STREAM] === undefined && body[B_KIND] !== BODY_HOST) {
      // String or bytes: sent in one piece.
      payload = body[B_SOURCE];
      body[B_USED] = true;
      body[B_SOURCE] = undefined;
    } else {
      stream = bodyStreamState(body);
    }
  }

  if (stream === undefined) {
    ctx[CTX_RESPONDED] = true;
    try {
      host.respond(ctx[CTX_REQUEST_ID], r[R_STATUS], r[R_STATUS_TEXT], r[R_H][H_LIST], payload);
    } catch (error) {
      ctx[CTX_RESPONDED] = false;
      respondUncaught(ctx, error);
      return;
    }
    finishRequest(ctx, undefined);
    return;
  }

  // Streaming body: lock the stream, send the head, then pump.
  const reader = acquireReadableStreamDefaultReader(stream);
  let streamId;
  ctx[CTX_RESPONDED] = true;
  try {
    streamId = host.respond(ctx[CTX_REQUEST_ID], r[R_STATUS], r[R_STATUS_TEXT], r[R_H][H_LIST], true);
  } catch (error) {
    ctx[CTX_RESPONDED] = false;
    readableStreamDefaultReaderRelease(reader);
    respondUncaught(ctx, error);
    return;
  }
  if (typeof streamId !== "number") {
    // The host refused the head (it answered the request with an error
    // itself): drop the body.
    const error = new TypeErrorCtor("the response was rejected by the runtime");
    promiseThen(readableStreamCancel(stream, error), undefined, reportException);
    finishRequest(ctx, error);
    return;
  }
  const HostStreamPump = hostStreamPumpClass();
  new HostStreamPump(streamId, reader, RESPONSE_BODY, (error) => finishRequest(ctx, error)).loop();
}

// What a HostStreamPump carries: the messages it uses, and whether a failing
// source stream is reported as an uncaught error (a response body's is;
// a request body's failure rejects its fetch() instead).
const RESPONSE_BODY = {
  name: "response body",
  gone: "the client disconnected before the response body was sent",
  report: true,
};
const REQUEST_BODY = {
  name: "request body",
  gone: "the server stopped reading the request body",
  report: false,
};

// `ctx` argument of `export default { fetch(request, env, ctx) }`.
const executionContextClass = once(() => {
  class ExecutionContext {
    #ctx;

    constructor(token = undefined, ctx = undefined) {
      if (token !== kInternal) throw new TypeErrorCtor("Illegal constructor");
      this.#ctx = ctx;
    }

    waitUntil(promise) {
      this.#ctx;
      trackWaitUntil(promise);
    }

    passThroughOnException() {
      this.#ctx;
    }
  }
  configureInterface(ExecutionContext);
  return ExecutionContext;
});

// An isolate that has served 16 requests keeps the shapes of the objects
// every request makes (the shapes chunk, js/shapes), so that the next ones do
// not make them again: 11 KiB of that isolate for a tenth of a hello-world
// request's instructions. The objects that keep them, once made:
let requestShapeKeepers = null;
let requestsDispatched = 0;

// Serves a request from the host; returns its internal record, which the host
// keeps while the client may still go away (see clientGone).
function dispatch(requestId, method, url, headersFlat, bodyId, remoteHost, remotePort) {
  if (++requestsDispatched === 16) {
    try {
      requestShapeKeepers = layerChunk("shapes").keepRequestShapes(handlerMode === HANDLER_SERVE);
    } catch {
      // Only the speed of the next requests depends on it, and the only
      // failure is the isolate's memory limit, which the meter enforces.
    }
    // Its code is used once.
    delete loadedChunks.shapes;
  }
  const record = newIncomingRecord(method, url, headersFlat, bodyId);
  serveIncoming(requestId, record, remoteHost, remotePort);
  return record;
}

function serveIncoming(requestId, record, remoteHost, remotePort) {
  let ctx;
  try {
    ctx = newRequestContext(requestId);
    const request = createIncomingRequest(record);
    let result;
    try {
      if (handlerMode === HANDLER_EXPORT) {
        const ExecutionContext = executionContextClass();
        result = callFunction(
          exportedFetch,
          exportedThis,
          request,
          exportedEnvObject(),
          new ExecutionContext(kInternal, ctx),
        );
      } else if (handlerMode === HANDLER_SERVE && serveHandler !== null) {
        const ServeHandlerInfo = serveHandlerInfoClass();
        result = callFunction(
          serveHandler,
          undefined,
          request,
          new ServeHandlerInfo(ctx, {
            transport: "tcp",
            hostname: remoteHost,
            port: remotePort,
          }),
        );
      } else {
        respondError(ctx, "UncaughtException", "Error: no request handler is registered", undefined);
        return;
      }
    } catch (error) {
      handleHandlerError(ctx, error);
      return;
    }
    handleHandlerResult(ctx, result);
  } catch (error) {
    // Only reachable through a runtime bug; still answer the request.
    if (ctx === undefined) ctx = newRequestContext(requestId);
    respondUncaught(ctx, error);
  }
}

// Called by the host for an unhandled promise rejection (from QuickJS's
// rejection tracker, once the microtask queue is drained): HTML §8.1.4.8
// fires a cancelable `unhandledrejection` event first, and the rejection is
// logged unless a listener canceled it. Either way the promise becomes
// outstanding, so a handler added later fires `rejectionhandled`.
function unhandledRejection(reason, promise) {
  try {
    if (!isObjectLike(promise)) {
      promise = promiseReject(reason);
      markPromiseHandled(promise);
    } else {
      weakSet(outstandingRejections, promise, reason);
    }
    if (!dispatchRejectionEvent(reason, promise)) return;
  } catch {
    // still log it
  }
  reportException(reason, "Uncaught (in promise)");
}


// Called by the host before a planned retirement (HTML §7.1.5 beforeunload,
// as Supabase's edge-runtime dispatches it to user workers).
function beforeUnload() {
  try {
    dispatchGlobalEvent("beforeunload");
  } catch (error) {
    reportException(error);
  }
}

function clientGone(record) {
  try {
    abortIncomingRequest(record);
  } catch (error) {
    reportException(error);
  }
}

function fireTimerFromHost(id) {
  try {
    fireTimer(id);
  } catch (error) {
    reportException(error);
  }
}

// Every binding a chunk uses is initialised by now: capture them for the
// chunks (29_extension.js).
chunkBindings = captureChunkBindings();

// A service isolate (the event worker, a main service) loads what only a
// service has: EventManager, EdgeRuntime.userWorkers.
if (config.inbox === true || config.userWorkers === true) {
  layerChunk("services");
}

// A prepared isolate (one made ahead of its function) creates the classes
// every request uses, so that a cold start does not wait for them.
function prewarm() {
  headersClass();
  requestClass();
  responseClass();
  executionContextClass();
  serveHandlerInfoClass();
}

return {
  prewarm,
  resolveHandler,
  dispatch,
  complete: completeHostOp,
  fireTimer: fireTimerFromHost,
  unhandledRejection,
  rejectionHandled: dispatchRejectionHandled,
  beforeUnload,
  clientGone,
  typedArrays,
};
