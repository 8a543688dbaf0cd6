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
  const n = NumberCtor(value);
  if (!NumberIsFinite(n)) return 0;
  const t = MathTrunc(n) % 65536;
  return t < 0 ? t + 65536 : t === 0 ? 0 : t;
}

let isResponse = (value) => false;
// (response) -> its record { type, status, statusText, h, headers, body }: `h`
// is the headers record, `headers` its Headers object once `response.headers`
// was read (null until then).
let responseInternals;
let responseBodyOf; // (response) -> BodyState | null

// A Response's record of type "default", as its constructor and static
// methods make it: `h` is a headers record, `body` a BodyState or null.
function newResponseRecord(status, statusText, h, body) {
  return { type: "default", status, statusText, h, headers: null, body };
}

// A response's headers record when init gives no headers: the body's
// content type (or null) is the only one.
function responseHeaders(contentType) {
  return newHeadersRecord(contentType === null ? [] : ["content-type", contentType], "response");
}

const responseClass = once(() => {
  headersClass(); // Response uses the Headers internals
  class Response {
    #r; // { type, status, statusText, h, headers, body }

    // Fetch §5.5 constructor(body, init)
    constructor(body = null, init = undefined) {
      if (body === kInternal) {
        // Internal: init is the record { type, status, statusText, h, headers, body }
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
      return new Response(kInternal, {
        type: "error",
        status: 0,
        statusText: "",
        h: newHeadersRecord([], "immutable"),
        headers: null,
        body: null,
      });
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
      return this.#r.type;
    }

    // Fetch §5.5: the response's URL list is empty unless it came from fetch().
    get url() {
      return this.#r.url ?? "";
    }

    get redirected() {
      return this.#r.redirected === true;
    }

    get status() {
      return this.#r.status;
    }

    get ok() {
      return this.#r.status >= 200 && this.#r.status <= 299;
    }

    get statusText() {
      return this.#r.statusText;
    }

    get headers() {
      const r = this.#r;
      if (r.headers === null) r.headers = headersFromRecord(r.h);
      return r.headers;
    }

    // Fetch §5.5 clone()
    clone() {
      const body = this.#r.body;
      if (bodyIsUnusable(body)) {
        throw new TypeErrorCtor("Response.clone: the body has already been used");
      }
      return new Response(kInternal, {
        type: this.#r.type,
        status: this.#r.status,
        statusText: this.#r.statusText,
        h: headersRecordClone(this.#r.h),
        headers: null,
        body: cloneBody(body),
      });
    }

    static {
      isResponse = (value) => typeof value === "object" && value !== null && #r in value;
      responseInternals = (response) => response.#r;
      responseBodyOf = (response) => response.#r.body;
    }
  }
  installBodyMixin(
    Response,
    (response) => responseBodyOf(response),
    (response) => responseInternals(response).h.list,
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
