// 11_response.js
//
// Response (WHATWG Fetch §5.5).

const reasonPhraseRe = /^[\t\x20-\x7E\x80-\xFF]*$/;

function isNullBodyStatus(status) {
  return status === 101 || status === 103 || status === 204 || status === 205 || status === 304;
}

function isRedirectStatus(status) {
  return status === 301 || status === 302 || status === 303 || status === 307 || status === 308;
}

// Web IDL `unsigned short` conversion.
function toUnsignedShort(value) {
  // A status as handlers give it, without the three calls below.
  if (typeof value === "number" && value > 0 && value <= 65535 && value % 1 === 0) return value;
  const n = NumberCtor(value);
  if (!NumberIsFinite(n)) return 0;
  const t = MathTrunc(n) % 65536;
  return t < 0 ? t + 65536 : t === 0 ? 0 : t;
}

let isResponse = (value) => false;
let responseInternals; // (response) -> its record
let responseBodyOf; // (response) -> BodyState | null

// A Response's record: an array indexed by these constants, as the other
// per-request records are (see newRequestContext() in 99_internal.js).
const R_TYPE = 0; // "default", "basic" (from fetch()) or "error"
const R_STATUS = 1;
const R_STATUS_TEXT = 2;
const R_H = 3; // the headers record
const R_HEADERS = 4; // its Headers object, made when `response.headers` is first read
const R_BODY = 5; // BodyState | null
const R_URL = 6; // the URL fetch() got it from, or ""
const R_REDIRECTED = 7; // fetch() followed a redirect

// A Response's record of type "default", as its constructor and static
// methods make it.
function newResponseRecord(status, statusText, h, body) {
  return ["default", status, statusText, h, null, body, "", false];
}

// A response's headers record when init gives no headers: the body's
// content type (or null) is the only one.
function responseHeaders(contentType) {
  return newHeadersRecord(contentType === null ? [] : ["content-type", contentType], "response");
}

const responseClass = once(() => {
  headersClass(); // Response uses the Headers internals
  class Response {
    #r; // its record, from newResponseRecord()

    // Fetch §5.5 constructor(body, init)
    constructor(body = null, init = undefined) {
      if (body === kInternal) {
        // Internal: init is the record
        this.#r = init;
        return;
      }
      // Step 4: extract the body first (a string, most handlers' answer,
      // without extractBody()'s pair).
      let state = null;
      let contentType = null;
      if (typeof body === "string") {
        state = newBodyState(BODY_STRING, toUSVString(body));
        contentType = TEXT_PLAIN_UTF8;
      } else if (body !== null && body !== undefined) {
        const extracted = extractBody(body);
        state = extracted[0];
        contentType = extracted[1];
      }
      if (init === undefined) {
        // No init, most handlers' case: what initialize makes of none.
        this.#r = newResponseRecord(200, "", responseHeaders(contentType), state);
        return;
      }
      this.#initialize(toDictionary(init, "Response"), state, contentType);
    }

    // Fetch §5.5 "initialize a response", with the extracted body and its
    // content type (or null); makes the response's record.
    #initialize(init, body, contentType) {
      let status = 200;
      let statusText = "";
      let headersInit;
      if (init !== undefined) {
        headersInit = init.headers;
        const s = init.status;
        const t = init.statusText;
        if (s !== undefined) status = toUnsignedShort(s);
        if (t !== undefined) statusText = toByteString(t, "Response");
      }
      if (status < 200 || status > 599) {
        throw new RangeErrorCtor(
          `Response: the status provided (${status}) is outside the range [200, 599]`,
        );
      }
      if (statusText !== "" && !reasonPhraseRe.test(statusText)) {
        throw new TypeErrorCtor("Response: the statusText is not a valid reason phrase");
      }
      let h;
      if (headersInit === undefined) {
        h = responseHeaders(contentType);
      } else {
        h = newHeadersRecord([], "response");
        headersRecordFill(h, headersInit);
        if (contentType !== null && !headersRecordContains(h, "content-type")) {
          headersRecordAppendTrusted(h, "content-type", contentType);
        }
      }
      if (body !== null && isNullBodyStatus(status)) {
        throw new TypeErrorCtor(`Response with null body status (${status}) cannot have body`);
      }
      this.#r = newResponseRecord(status, statusText, h, body);
    }

    // Fetch §5.5 static error()
    static error() {
      return new Response(kInternal, [
        "error",
        0,
        "",
        newHeadersRecord([], "immutable"),
        null,
        null,
        "",
        false,
      ]);
    }

    // Fetch §5.5 static redirect(url, status)
    static redirect(url, status = 302) {
      requireArguments(arguments.length, 1, "Response.redirect");
      const input = toUSVString(url);
      const components = parseAbsoluteURL(input);
      if (components === null) {
        throw new TypeErrorCtor(
          `Response.redirect: invalid URL '${input}' (URLs must be absolute)`,
        );
      }
      status = toUnsignedShort(status);
      if (!isRedirectStatus(status)) {
        throw new RangeErrorCtor(
          `Response.redirect: invalid redirect status ${status} (must be 301, 302, 303, 307 or 308)`,
        );
      }
      return new Response(
        kInternal,
        newResponseRecord(
          status,
          "",
          newHeadersRecord(["location", components[URL_HREF]], "immutable"),
          null,
        ),
      );
    }

    // Fetch §5.5 static json(data, init)
    static json(data, init = undefined) {
      requireArguments(arguments.length, 1, "Response.json");
      const text = JSONStringify(data);
      if (text === undefined) {
        throw new TypeErrorCtor("Response.json: the data is not JSON serializable");
      }
      const response = new Response(kInternal, null);
      response.#initialize(
        toDictionary(init, "Response.json"),
        newBodyState(BODY_STRING, text),
        "application/json",
      );
      return response;
    }

    get type() {
      return this.#r[R_TYPE];
    }

    // Fetch §5.5: the response's URL list is empty unless it came from fetch().
    get url() {
      return this.#r[R_URL];
    }

    get redirected() {
      return this.#r[R_REDIRECTED];
    }

    get status() {
      return this.#r[R_STATUS];
    }

    get ok() {
      return this.#r[R_STATUS] >= 200 && this.#r[R_STATUS] <= 299;
    }

    get statusText() {
      return this.#r[R_STATUS_TEXT];
    }

    get headers() {
      const r = this.#r;
      if (r[R_HEADERS] === null) r[R_HEADERS] = headersFromRecord(r[R_H]);
      return r[R_HEADERS];
    }

    // Fetch §5.5 clone()
    clone() {
      const r = this.#r;
      const body = r[R_BODY];
      if (bodyIsUnusable(body)) {
        throw new TypeErrorCtor("Response.clone: the body has already been used");
      }
      return new Response(kInternal, [
        r[R_TYPE],
        r[R_STATUS],
        r[R_STATUS_TEXT],
        headersRecordClone(r[R_H]),
        null,
        cloneBody(body),
        r[R_URL],
        r[R_REDIRECTED],
      ]);
    }

    static {
      isResponse = (value) => typeof value === "object" && value !== null && #r in value;
      responseInternals = (response) => response.#r;
      responseBodyOf = (response) => response.#r[R_BODY];
    }
  }
  installBodyMixin(
    Response,
    (response) => responseBodyOf(response),
    (response) => responseInternals(response)[R_H][H_LIST],
  );
  configureInterface(Response);

  registerInspectHook(Response, (response) => ({
    body: bodyInspectPreview(responseBodyOf(response)),
    bodyUsed: response.bodyUsed,
    headers: response.headers,
    ok: response.ok,
    redirected: response.redirected,
    status: response.status,
    statusText: response.statusText,
    url: response.url,
  }));
  return Response;
});

exposeLazyInterface("Response", responseClass);
