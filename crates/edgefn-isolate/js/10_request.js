// 10_request.js
//
// Request (WHATWG Fetch §5.4). There is no base URL on a server runtime,
// so relative URLs are a TypeError. Incoming requests are built by
// newIncomingRecord() and createIncomingRequest() without parsing the URL or the header list until
// they are read.

const methodTokenRe = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

// Fetch §2.2.1 method: forbidden check and normalization.
function normalizeMethod(method) {
  method = toByteString(method, "Request");
  if (!methodTokenRe.test(method)) {
    throw new TypeErrorCtor(`Request: '${method}' is not a valid HTTP method`);
  }
  const upper = method.toUpperCase();
  switch (upper) {
    case "CONNECT":
    case "TRACE":
    case "TRACK":
      throw new TypeErrorCtor(`Request: '${method}' HTTP method is unsupported`);
    case "DELETE":
    case "GET":
    case "HEAD":
    case "OPTIONS":
    case "POST":
    case "PUT":
      return upper;
    default:
      return method;
  }
}

let isRequest = (value) => false;
let requestBodyOf; // (request) -> BodyState | null
let requestInternals; // (request) -> its record from newRequestRecord()

// A request's internal state (one private record keeps construction cheap):
// an array indexed by these constants, as the other per-request records are
// (see newRequestContext() in 99_internal.js).
const RQ_METHOD = 0;
const RQ_URL = 1;
const RQ_H = 2; // the headers record
const RQ_HEADERS = 3; // its Headers object, made when `request.headers` is first read
const RQ_BODY = 4; // BodyState | null
const RQ_REDIRECT = 5;
const RQ_SIGNAL = 6; // AbortSignal state, or undefined: a new one is created on access

function newRequestRecord(method, url, h, body, redirect, signal) {
  return [method, url, h, null, body, redirect, signal];
}

// The request's signal state, created on first use.
function requestSignalState(record) {
  if (record[RQ_SIGNAL] === undefined) record[RQ_SIGNAL] = newAbortSignalState();
  return record[RQ_SIGNAL];
}

const requestClass = once(() => {
  headersClass(); // Request uses the Headers internals
  class Request {
    #r;

    // Fetch §5.4 constructor(input, init)
    constructor(input, init = undefined) {
      if (input === kInternal) {
        this.#r = init; // a record from newRequestRecord()
        return;
      }
      // Web IDL's argument count, told by the value: reading `arguments`
      // would make every request pay for an object (incoming requests come
      // through here). `new Request(undefined)` is a TypeError either way,
      // its URL "undefined" not being absolute.
      if (input === undefined) {
        throw new TypeErrorCtor("Request: 1 argument required (a URL or a Request), but it is undefined.");
      }
      const dict = toDictionary(init, "Request");
      let inputRecord = null;
      let method = "GET";
      let url;
      let redirect = "follow";
      let signal;
      if (isObjectLike(input) && #r in input) {
        // Step 6: input is a Request.
        inputRecord = input.#r;
        method = inputRecord[RQ_METHOD];
        url = inputRecord[RQ_URL];
        redirect = inputRecord[RQ_REDIRECT];
        signal = requestSignalState(inputRecord);
      } else {
        // Step 5: parse the URL (no base URL here).
        const href = toUSVString(input);
        const components = parseAbsoluteURL(href);
        if (components === null) {
          throw new TypeErrorCtor(`Request: invalid URL '${href}' (URLs must be absolute)`);
        }
        if (components[URL_USERNAME] !== "" || components[URL_PASSWORD] !== "") {
          throw new TypeErrorCtor(`Request: the URL '${href}' includes credentials`);
        }
        url = components[URL_HREF];
      }

      let initBodyValue;
      let initHeaders;
      if (dict !== undefined) {
        // Dictionary members in Web IDL order.
        initBodyValue = dict.body;
        initHeaders = dict.headers;
        const initMethod = dict.method;
        const initRedirect = dict.redirect;
        const initSignal = dict.signal;
        // Step 25: method
        if (initMethod !== undefined) method = normalizeMethod(initMethod);
        if (initRedirect !== undefined) {
          const r = `${initRedirect}`;
          if (r !== "follow" && r !== "error" && r !== "manual") {
            throw new TypeErrorCtor(`Request: '${r}' is not a valid value for redirect`);
          }
          redirect = r;
        }
        // Step 29: signal (AbortSignal? member)
        if (initSignal !== undefined) {
          if (initSignal !== null && !isAbortSignal(initSignal)) {
            throw new TypeErrorCtor("Request: the 'signal' member is not an AbortSignal");
          }
          signal = initSignal === null ? null : abortSignalStateOf(initSignal);
        }
      }

      // Steps 30-32: headers
      let h;
      if (initHeaders !== undefined) {
        h = newHeadersRecord([], "request");
        headersRecordFill(h, initHeaders);
      } else if (inputRecord !== null) {
        h = headersRecordClone(inputRecord[RQ_H]);
        h[H_GUARD] = "request";
      } else {
        h = newHeadersRecord([], "request");
      }

      // Step 34: GET/HEAD cannot have a body.
      const inputBody = inputRecord === null ? null : inputRecord[RQ_BODY];
      const hasInitBody = initBodyValue !== undefined && initBodyValue !== null;
      if ((hasInitBody || inputBody !== null) && (method === "GET" || method === "HEAD")) {
        throw new TypeErrorCtor("Request with GET/HEAD method cannot have body.");
      }

      // Steps 35-36: extract the init body and set Content-Type.
      let body = null;
      if (hasInitBody) {
        const extracted = extractBody(initBodyValue);
        body = extracted[0];
        if (extracted[1] !== null && !headersRecordContains(h, "content-type")) {
          headersRecordAppendTrusted(h, "content-type", extracted[1]);
        }
      } else if (inputBody !== null) {
        // Steps 39-40: take over the input's body ("proxy"): the new request
        // reads the input's stream, and the input's body counts as used.
        if (bodyIsUnusable(inputBody)) {
          throw new TypeErrorCtor("Request: the input request's body has already been used");
        }
        const stream = bodyStreamState(inputBody);
        inputBody[B_USED] = true;
        body = bodyFromStream(stream);
      }
      // Step 29: this's signal follows the input's or init's signal.
      const ownSignal =
        signal === undefined || signal === null
          ? undefined
          : createDependentAbortSignal([signal]);
      this.#r = newRequestRecord(method, url, h, body, redirect, ownSignal);
    }

    get method() {
      return this.#r[RQ_METHOD];
    }

    get url() {
      return this.#r[RQ_URL];
    }

    get headers() {
      const r = this.#r;
      if (r[RQ_HEADERS] === null) r[RQ_HEADERS] = headersFromRecord(r[RQ_H]);
      return r[RQ_HEADERS];
    }

    get destination() {
      this.#r;
      return "";
    }

    get referrer() {
      this.#r;
      return "about:client";
    }

    get referrerPolicy() {
      this.#r;
      return "";
    }

    get mode() {
      this.#r;
      return "cors";
    }

    get credentials() {
      this.#r;
      return "same-origin";
    }

    get cache() {
      this.#r;
      return "default";
    }

    get redirect() {
      return this.#r[RQ_REDIRECT];
    }

    get integrity() {
      this.#r;
      return "";
    }

    get keepalive() {
      this.#r;
      return false;
    }

    get isReloadNavigation() {
      this.#r;
      return false;
    }

    get isHistoryNavigation() {
      this.#r;
      return false;
    }

    get signal() {
      return abortSignalWrapper(requestSignalState(this.#r));
    }

    get duplex() {
      this.#r;
      return "half";
    }

    // Fetch §5.4 clone()
    clone() {
      const r = this.#r;
      if (bodyIsUnusable(r[RQ_BODY])) {
        throw new TypeErrorCtor("Request.clone: the body has already been used");
      }
      return new Request(
        kInternal,
        newRequestRecord(
          r[RQ_METHOD],
          r[RQ_URL],
          headersRecordClone(r[RQ_H]),
          cloneBody(r[RQ_BODY]),
          r[RQ_REDIRECT],
          // Fetch §5.4 clone(): a dependent signal of this request's signal.
          createDependentAbortSignal([requestSignalState(r)]),
        ),
      );
    }

    static {
      isRequest = (value) => isObjectLike(value) && #r in value;
      requestBodyOf = (request) => request.#r[RQ_BODY];
      requestInternals = (request) => request.#r;
    }
  }
  installBodyMixin(
    Request,
    (request) => requestBodyOf(request),
    (request) => requestInternals(request)[RQ_H][H_LIST],
  );
  configureInterface(Request);

  registerInspectHook(Request, (request) => ({
    bodyUsed: request.bodyUsed,
    headers: request.headers,
    method: request.method,
    redirect: request.redirect,
    url: request.url,
  }));
  return Request;
});

// An incoming request: headersFlat as given by the host (lowercased names),
// bodyId -1 for no body.
function newIncomingRecord(method, url, headersFlat, bodyId) {
  return newRequestRecord(
    method,
    url,
    newHeadersRecord(headersFlat, "request"),
    bodyId === -1 ? null : newBodyState(BODY_HOST, bodyId),
    "follow",
    undefined,
  );
}

function createIncomingRequest(record) {
  const Request = requestClass();
  return new Request(kInternal, record);
}

// The client of an incoming request went away before its response was
// complete: the request's signal aborts (as in Deno and Cloudflare Workers),
// so a handler can stop work nobody waits for.
function abortIncomingRequest(record) {
  signalAbort(
    requestSignalState(record),
    newDOMException("The client went away before the response was complete", "AbortError"),
  );
}

exposeLazyInterface("Request", requestClass);
