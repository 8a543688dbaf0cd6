// 20_blob.js
//
// Blob and File (W3C File API §3, §4). A blob's bytes are one Uint8Array
// that is never written after construction, so slices, clones, File copies
// and structuredClone share it; every read hands out a copy.

const blobStreamChunkSize = 65536;

// File API §3.1 the type member: "" if it has a character outside
// U+0020..U+007E, else ASCII-lowercased.
function normalizeBlobType(type) {
  const t = toDOMString(type);
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return "";
  }
  return t.toLowerCase();
}

// File API §3.1.1 "convert line endings to native" (LF here).
const lineEndingsRe = /\r\n?/g;

function convertLineEndingsToNative(s) {
  return s.replace(lineEndingsRe, "\n");
}

// File API §3.1 BlobPropertyBag { endings, type } (Web IDL member order).
function blobPropertyBag(options, context) {
  const dict = toDictionary(options, context);
  let endings = "transparent";
  let type = "";
  if (dict !== undefined) {
    const e = dict.endings;
    if (e !== undefined) {
      endings = toDOMString(e);
      if (endings !== "transparent" && endings !== "native") {
        throw new TypeErrorCtor(`${context}: '${endings}' is not a valid value for endings`);
      }
    }
    const t = dict.type;
    if (t !== undefined) type = normalizeBlobType(t);
  }
  return { dict, endings, type };
}

// sequence<BlobPart>: each part converted while iterating (Blob,
// BufferSource copied, else USVString).
function blobPartsFrom(blobParts, context) {
  if (blobParts === undefined) return [];
  const parts = toSequence(blobParts, context);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const blob = blobInternals(part);
    if (blob !== null) {
      parts[i] = blob.bytes;
      continue;
    }
    const view = bufferSourceView(part);
    parts[i] = view !== null ? copyBytes(view) : toUSVString(part);
  }
  return parts;
}

// File API §3.1.1 "process blob parts"
function processBlobParts(parts, endings) {
  const chunks = [];
  let total = 0;
  for (let i = 0; i < parts.length; i++) {
    let part = parts[i];
    if (typeof part === "string") {
      if (endings === "native") part = convertLineEndingsToNative(part);
      part = host.utf8Encode(part);
    }
    chunks[i] = part;
    total += typedArrayByteLength(part);
  }
  if (chunks.length === 1) return chunks[0];
  return concatBytes(chunks, chunks.length, total);
}

// A stream over the bytes (File API §3.3.2 "get stream"), copied chunk by
// chunk into the buffers it hands out.
function createBlobStreamState(bytes) {
  let offset = 0;
  return byteStreamOps().createReadableByteStreamState(
    (controller) => {
      const end = MathMin(offset + blobStreamChunkSize, bytes.length);
      if (end > offset) {
        readableStreamSourceEnqueue(controller, copyBytes(u8View(bytes, offset, end)));
        offset = end;
      }
      if (offset >= bytes.length) readableStreamSourceClose(controller);
      return resolvedPromise;
    },
    resolvedUndefined,
  );
}

// (value) -> { bytes, type, name, lastModified } for a Blob (name undefined
// unless it is a File), else null.
let blobInternals = (value) => null;
let createBlob; // (bytes, type) -> Blob sharing `bytes`
let createFile; // (bytes, type, name, lastModified) -> File sharing `bytes`

// structuredClone: a new Blob or File over the same bytes.
function cloneBlob(blob) {
  blobClasses(); // the classes define createBlob/createFile
  return blob.name === undefined
    ? createBlob(blob.bytes, blob.type)
    : createFile(blob.bytes, blob.type, blob.name, blob.lastModified);
}

const blobClasses = once(() => {
  class Blob {
    #bytes;
    #type;

    // File API §3.1 constructor(blobParts, options)
    constructor(blobParts = undefined, options = undefined) {
      if (blobParts === kInternal) {
        this.#bytes = options.bytes;
        this.#type = options.type;
        return;
      }
      const parts = blobPartsFrom(blobParts, "Blob");
      const bag = blobPropertyBag(options, "Blob");
      this.#bytes = processBlobParts(parts, bag.endings);
      this.#type = bag.type;
    }

    get size() {
      return this.#bytes.length;
    }

    get type() {
      return this.#type;
    }

    // File API §3.3.1 slice(start, end, contentType)
    slice(start = undefined, end = undefined, contentType = undefined) {
      const bytes = this.#bytes;
      const size = bytes.length;
      const relative = (value, fallback) => {
        if (value === undefined) return fallback;
        const n = toClampLongLong(value);
        return n < 0 ? MathMax(size + n, 0) : MathMin(n, size);
      };
      const relativeStart = relative(start, 0);
      const relativeEnd = relative(end, size);
      const type = contentType === undefined ? "" : normalizeBlobType(contentType);
      const span = MathMax(relativeEnd - relativeStart, 0);
      return createBlob(u8View(bytes, relativeStart, relativeStart + span), type);
    }

    // File API §3.3.2 stream()
    stream() {
      return readableStreamWrapper(createBlobStreamState(this.#bytes));
    }

    // File API §3.3.3 text()
    text() {
      if (!(isObjectLike(this) && #bytes in this)) {
        return promiseReject(new TypeErrorCtor("Illegal invocation"));
      }
      return promiseResolve(utf8DecodeWithBOM(this.#bytes));
    }

    // File API §3.3.4 arrayBuffer()
    arrayBuffer() {
      if (!(isObjectLike(this) && #bytes in this)) {
        return promiseReject(new TypeErrorCtor("Illegal invocation"));
      }
      return promiseResolve(bytesToArrayBuffer(copyBytes(this.#bytes)));
    }

    // File API §3.3.5 bytes()
    bytes() {
      if (!(isObjectLike(this) && #bytes in this)) {
        return promiseReject(new TypeErrorCtor("Illegal invocation"));
      }
      return promiseResolve(copyBytes(this.#bytes));
    }

    static {
      createBlob = (bytes, type) => new Blob(kInternal, { bytes, type });
      blobInternals = (value) => {
        if (!isObjectLike(value) || !(#bytes in value)) return null;
        const file = fileInternals(value);
        return {
          bytes: value.#bytes,
          type: value.#type,
          name: file === null ? undefined : file.name,
          lastModified: file === null ? undefined : file.lastModified,
        };
      };
    }
  }
  configureInterface(Blob);
  registerInspectHook(Blob, (blob) => ({ size: blob.size, type: blob.type }));

  let fileInternals = (value) => null;

  class File extends Blob {
    #name;
    #lastModified;

    // File API §4.1 constructor(fileBits, fileName, options)
    constructor(fileBits, fileName, options = undefined) {
      if (fileBits === kInternal) {
        super(kInternal, fileName);
        this.#name = fileName.name;
        this.#lastModified = fileName.lastModified;
        return;
      }
      requireArguments(arguments.length, 2, "File");
      const parts = blobPartsFrom(fileBits, "File");
      const name = toUSVString(fileName);
      const bag = blobPropertyBag(options, "File");
      // FilePropertyBag: lastModified after the BlobPropertyBag members.
      const lastModified = bag.dict === undefined ? undefined : bag.dict.lastModified;
      super(kInternal, { bytes: processBlobParts(parts, bag.endings), type: bag.type });
      this.#name = name;
      this.#lastModified =
        lastModified === undefined
          ? dateNow()
          : toLongLong(lastModified);
    }

    get name() {
      return this.#name;
    }

    get lastModified() {
      return this.#lastModified;
    }

    static {
      createFile = (bytes, type, name, lastModified) =>
        new File(kInternal, { bytes, type, name, lastModified });
      fileInternals = (value) =>
        #name in value ? { name: value.#name, lastModified: value.#lastModified } : null;
    }
  }
  configureInterface(File);
  registerInspectHook(File, (file) => ({
    name: file.name,
    size: file.size,
    type: file.type,
    lastModified: file.lastModified,
  }));
  return { Blob, File };
});
