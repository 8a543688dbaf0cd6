// 09_body.js
//
// Fetch bodies (WHATWG Fetch §5.1 BodyInit, §5.3 Body mixin). A body keeps
// its source (string, bytes, or an incoming host body) and only creates its
// ReadableStream (a byte stream) when `.body` is read, cloned or streamed
// out; text() / json() / arrayBuffer() / bytes() / blob() / formData() on a
// body whose stream was never created take a direct path (no stream, no
// per-chunk promises). Blob and FormData bodies are bytes from the start
// (FormData serialized as multipart/form-data).

const BODY_STRING = 1; // source: well-formed string
const BODY_BYTES = 2; // source: Uint8Array we own (a private copy)
const BODY_HOST = 3; // source: host body id (incoming request)
const BODY_STREAM = 4; // stream only

// A body's state: an array indexed by these constants, as the other
// per-request records are (see newRequestContext() in 99_internal.js).
const B_KIND = 0; // BODY_STRING, BODY_BYTES, BODY_HOST or BODY_STREAM
const B_SOURCE = 1; // as its kind says
const B_STREAM = 2; // StreamState once created, or undefined
const B_USED = 3; // consumed without a stream

function newBodyState(kind, source) {
  return [kind, source, undefined, false];
}

function bodyFromStream(stream) {
  const body = newBodyState(BODY_STREAM, undefined);
  body[B_STREAM] = stream;
  return body;
}

// A byte stream over an incoming request body on the host: one
// host.bodyRead per pull (high-water mark 0: nothing is read until someone
// reads).
function createHostBodyStreamState(bodyId) {
  return byteStreamOps().createReadableByteStreamState(
    (controller) => {
      const deferred = createDeferred();
      const opId = registerHostOp((value, error) => {
        try {
          if (typeof error === "string") {
            readableStreamSourceError(controller, new TypeErrorCtor(error));
          } else if (value === null || value === undefined) {
            readableStreamSourceClose(controller);
          } else {
            readableStreamSourceEnqueue(controller, value);
          }
        } finally {
          deferred.resolve(undefined);
        }
      });
      try {
        host.bodyRead(bodyId, opId);
      } catch (error) {
        forgetHostOp(opId);
        return promiseReject(error);
      }
      return deferred.promise;
    },
    () => {
      host.bodyCancel(bodyId);
      return resolvedPromise;
    },
  );
}

// Reads a whole incoming host body without a stream. Loops rather than
// recursing should the host complete a read synchronously.
function readHostBodyAll(bodyId) {
  const deferred = createDeferred();
  const chunks = [];
  let count = 0;
  let total = 0;
  let reading = false;
  let readAgain = false;
  const onComplete = (value, error) => {
    if (typeof error === "string") {
      deferred.reject(new TypeErrorCtor(error));
      return;
    }
    if (value === null || value === undefined) {
      deferred.resolve(
        count === 0
          ? newUint8Array(0)
          : count === 1
            ? chunks[0]
            : concatBytes(chunks, count, total),
      );
      return;
    }
    chunks[count++] = value;
    total += typedArrayByteLength(value);
    if (reading) readAgain = true;
    else readNext();
  };
  const readNext = () => {
    do {
      readAgain = false;
      reading = true;
      const opId = registerHostOp(onComplete);
      try {
        host.bodyRead(bodyId, opId);
      } catch (error) {
        forgetHostOp(opId);
        deferred.reject(error);
        readAgain = false;
      }
      reading = false;
    } while (readAgain);
  };
  readNext();
  return deferred.promise;
}

// The body's stream (StreamState), created on first use.
function bodyStreamState(body) {
  let stream = body[B_STREAM];
  if (stream !== undefined) return stream;
  if (body[B_USED]) {
    // Consumed through the direct path: a disturbed, closed stream.
    stream = byteStreamOps().createReadableByteStreamState(resolvedUndefined, resolvedUndefined);
    readableStreamClose(stream);
    stream.disturbed = true;
  } else if (body[B_KIND] === BODY_HOST) {
    stream = createHostBodyStreamState(body[B_SOURCE]);
  } else {
    // Fetch §5.1 extract a body: a byte stream with the bytes (our own
    // copy, which the stream may detach).
    stream = byteStreamOps().createSingleChunkStreamState(
      body[B_KIND] === BODY_STRING ? host.utf8Encode(body[B_SOURCE]) : body[B_SOURCE],
    );
  }
  body[B_KIND] = BODY_STREAM;
  body[B_SOURCE] = undefined;
  body[B_STREAM] = stream;
  return stream;
}

function bodyIsUsed(body) {
  return body !== null && (body[B_USED] || (body[B_STREAM] !== undefined && body[B_STREAM].disturbed));
}

// Fetch §5.3 "unusable": disturbed or locked.
function bodyIsUnusable(body) {
  return (
    body !== null &&
    (body[B_USED] ||
      (body[B_STREAM] !== undefined &&
        (body[B_STREAM].disturbed || body[B_STREAM].reader !== undefined)))
  );
}

// Fetch §5.1 "clone a body": tee the stream; strings and bytes are copied
// without creating a stream.
function cloneBody(body) {
  if (body === null) return null;
  if (body[B_STREAM] === undefined && !body[B_USED]) {
    if (body[B_KIND] === BODY_STRING) return newBodyState(BODY_STRING, body[B_SOURCE]);
    if (body[B_KIND] === BODY_BYTES) {
      return newBodyState(BODY_BYTES, copyBytes(body[B_SOURCE]));
    }
  }
  const branches = readableStreamTee(bodyStreamState(body), true);
  body[B_STREAM] = branches[0];
  return bodyFromStream(branches[1]);
}

// The Content-Type of a body extracted from a string.
const TEXT_PLAIN_UTF8 = "text/plain;charset=UTF-8";

// Fetch §5.1 "extract a body". Returns [BodyState, contentType or null].
function extractBody(init) {
  if (typeof init === "string") {
    return [newBodyState(BODY_STRING, toUSVString(init)), TEXT_PLAIN_UTF8];
  }
  if (typeof init === "object" && init !== null) {
    if (isReadableStream(init)) {
      const stream = readableStreamStateOf(init);
      if (stream.disturbed || stream.reader !== undefined) {
        throw new TypeErrorCtor("the body's ReadableStream is disturbed or locked");
      }
      return [bodyFromStream(stream), null];
    }
    const blob = blobInternals(init);
    if (blob !== null) {
      return [newBodyState(BODY_BYTES, copyBytes(blob.bytes)), blob.type === "" ? null : blob.type];
    }
    const view = bufferSourceView(init);
    if (view !== null) return [newBodyState(BODY_BYTES, copyBytes(view)), null];
    if (isFormData(init)) {
      const { newMultipartBoundary, serializeMultipartFormData } = formDataOps();
      const boundary = newMultipartBoundary();
      const bytes = serializeMultipartFormData(formDataEntriesOf(init), boundary);
      return [newBodyState(BODY_BYTES, bytes), `multipart/form-data; boundary=${boundary}`];
    }
    if (isURLSearchParams(init)) {
      return [
        newBodyState(BODY_STRING, urlSearchParamsSerialize(init)),
        "application/x-www-form-urlencoded;charset=UTF-8",
      ];
    }
    // Other objects are USVStrings.
  }
  return [newBodyState(BODY_STRING, toUSVString(init)), TEXT_PLAIN_UTF8];
}

// Fetch §5.3 "consume body" to bytes (Uint8Array we own) or, for
// wantText, directly to a string when the source is one.
function consumeBodyRaw(body, wantText) {
  if (body === null) return promiseResolve(wantText ? "" : newUint8Array(0));
  if (body[B_STREAM] === undefined) {
    body[B_USED] = true;
    const source = body[B_SOURCE];
    body[B_SOURCE] = undefined;
    if (body[B_KIND] === BODY_STRING) {
      return promiseResolve(wantText ? source : host.utf8Encode(source));
    }
    if (body[B_KIND] === BODY_BYTES) return promiseResolve(source);
    return readHostBodyAll(source);
  }
  return readableStreamReadAllBytes(body[B_STREAM]);
}

const BODY_TEXT = 0;
const BODY_JSON = 1;
const BODY_ARRAY_BUFFER = 2;
const BODY_UINT8 = 3;
const BODY_BLOB = 4;
const BODY_FORM_DATA = 5;

// Fetch §5.3 "consume body". `headerList()` gives the object's flat header
// list when the MIME type is needed (blob(), formData()).
function consumeBody(body, type, headerList) {
  if (bodyIsUnusable(body)) {
    return promiseReject(new TypeErrorCtor("Body is unusable: it has already been read"));
  }
  const wantText = type === BODY_TEXT || type === BODY_JSON;
  return promiseThen(
    consumeBodyRaw(body, wantText),
    (data) => {
      switch (type) {
        case BODY_TEXT:
          return typeof data === "string" ? data : utf8DecodeWithBOM(data);
        case BODY_JSON:
          return JSONParse(typeof data === "string" ? data : utf8DecodeWithBOM(data));
        case BODY_ARRAY_BUFFER:
          return bytesToArrayBuffer(data);
        case BODY_BLOB: {
          // The bytes are ours alone: the Blob can keep them.
          const { extractMimeType, serializeMimeType } = formDataOps();
          const mimeType = extractMimeType(headerList());
          blobClasses(); // defines createBlob
          return createBlob(data, mimeType === null ? "" : serializeMimeType(mimeType));
        }
        case BODY_FORM_DATA: {
          const { bodyBytesToFormData, extractMimeType } = formDataOps();
          return bodyBytesToFormData(data, extractMimeType(headerList()));
        }
        default:
          return data;
      }
    },
    undefined,
  );
}

// What console.log shows for a body without creating its stream (creating
// it would turn a string body into a streamed one).
const readableStreamPreviewClass = once(() => {
  class ReadableStreamPreview {
    constructor(locked) {
      this.locked = locked;
    }
  }
  ObjectDefineProperty(ReadableStreamPreview, "name", { value: "ReadableStream" });
  return ReadableStreamPreview;
});

function bodyInspectPreview(body) {
  if (body === null) return null;
  if (body[B_STREAM] !== undefined) return readableStreamWrapper(body[B_STREAM]);
  const ReadableStreamPreview = readableStreamPreviewClass();
  return new ReadableStreamPreview(false);
}

// Installs the Body mixin members on Class.prototype. `bodyOf(object)`
// returns the object's BodyState (or null) and throws for other objects;
// `headerListOf(object)` its flat header list.
function installBodyMixin(Class, bodyOf, headerListOf) {
  const consume = (object, type) => {
    let body;
    try {
      body = bodyOf(object);
    } catch (error) {
      return promiseReject(error);
    }
    return consumeBody(body, type, () => headerListOf(object));
  };
  const members = {
    get body() {
      const body = bodyOf(this);
      return body === null ? null : readableStreamWrapper(bodyStreamState(body));
    },
    get bodyUsed() {
      return bodyIsUsed(bodyOf(this));
    },
    arrayBuffer() {
      return consume(this, BODY_ARRAY_BUFFER);
    },
    blob() {
      return consume(this, BODY_BLOB);
    },
    bytes() {
      return consume(this, BODY_UINT8);
    },
    formData() {
      return consume(this, BODY_FORM_DATA);
    },
    json() {
      return consume(this, BODY_JSON);
    },
    text() {
      return consume(this, BODY_TEXT);
    },
  };
  const keys = ReflectOwnKeys(members);
  for (let i = 0; i < keys.length; i++) {
    const desc = ObjectGetOwnPropertyDescriptor(members, keys[i]);
    desc.enumerable = false; // made enumerable by configureInterface
    ObjectDefineProperty(Class.prototype, keys[i], desc);
  }
}
