// 21_form_data.js
//
// FormData (XHR §5), its multipart/form-data serialization (HTML §4.10.21.8)
// and parsing (Fetch §5.3 formData(): RFC 7578, as the WHATWG multipart
// parser draft reads it), and MIME types (MIME Sniffing §4) for the Body
// mixin's blob() and formData().

let formDataEntriesOf; // (formData) -> its live entry list [[name, value], ...]

let isFormData = (value) => false;

// Created on first use.
const formDataOps = once(() => {
  // ---------------------------------------------------------------------------
  // MIME types (MIME Sniffing §4.4 parse, §4.5 serialize)

  const httpTokenRe = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
  const httpQuotedStringTokenRe = /^[\t\x20-\x7E\x80-\xFF]*$/;

  function isHttpWhitespaceCode(c) {
    return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
  }

  function trimHttpWhitespace(s) {
    let start = 0;
    let end = s.length;
    while (start < end && isHttpWhitespaceCode(s.charCodeAt(start))) start++;
    while (end > start && isHttpWhitespaceCode(s.charCodeAt(end - 1))) end--;
    return s.slice(start, end);
  }

  // Fetch §2.2 "collect an HTTP quoted string" with the extract-value flag.
  // Returns [value, new position].
  function collectHttpQuotedString(input, position) {
    let value = "";
    position++; // the opening quote
    while (position < input.length) {
      const c = input[position];
      if (c === '"') return [value, position + 1];
      if (c === "\\") {
        position++;
        if (position >= input.length) return [value + "\\", position];
      }
      value += input[position];
      position++;
    }
    return [value, position];
  }

  // MIME Sniffing §4.4 "parse a MIME type": { type, subtype, essence,
  // parameters: Map } or null.
  function parseMimeType(input) {
    input = trimHttpWhitespace(input);
    const slash = input.indexOf("/");
    if (slash <= 0) return null;
    const type = input.slice(0, slash);
    if (!httpTokenRe.test(type)) return null;
    let position = input.indexOf(";", slash + 1);
    if (position < 0) position = input.length;
    const subtype = trimHttpWhitespace(input.slice(slash + 1, position));
    if (!httpTokenRe.test(subtype)) return null;
    const mimeType = {
      type: type.toLowerCase(),
      subtype: subtype.toLowerCase(),
      essence: "",
      parameters: new MapCtor(),
    };
    mimeType.essence = `${mimeType.type}/${mimeType.subtype}`;
    while (position < input.length) {
      position++; // ";"
      while (position < input.length && isHttpWhitespaceCode(input.charCodeAt(position))) {
        position++;
      }
      let nameEnd = position;
      while (nameEnd < input.length && input[nameEnd] !== ";" && input[nameEnd] !== "=") nameEnd++;
      const name = input.slice(position, nameEnd).toLowerCase();
      position = nameEnd;
      if (position < input.length) {
        if (input[position] === ";") continue;
        position++; // "="
      }
      if (position >= input.length) break;
      let value;
      if (input[position] === '"') {
        [value, position] = collectHttpQuotedString(input, position);
        while (position < input.length && input[position] !== ";") position++;
      } else {
        let valueEnd = input.indexOf(";", position);
        if (valueEnd < 0) valueEnd = input.length;
        value = trimHttpWhitespace(input.slice(position, valueEnd));
        position = valueEnd;
        if (value === "") continue;
      }
      if (
        name !== "" &&
        httpTokenRe.test(name) &&
        httpQuotedStringTokenRe.test(value) &&
        !ReflectApply(MapPrototypeHas, mimeType.parameters, [name])
      ) {
        ReflectApply(MapPrototypeSet, mimeType.parameters, [name, value]);
      }
    }
    return mimeType;
  }

  // MIME Sniffing §4.5 "serialize a MIME type"
  function serializeMimeType(mimeType) {
    let out = mimeType.essence;
    for (const [name, value] of ReflectApply(MapPrototypeEntries, mimeType.parameters, [])) {
      out += `;${name}=`;
      if (value !== "" && httpTokenRe.test(value)) {
        out += value;
      } else {
        out += `"${value.replace(/["\\]/g, "\\$&")}"`;
      }
    }
    return out;
  }

  // Fetch §2.2 "getting, decoding, and splitting" a header value: split on
  // commas outside quoted strings, each part stripped of tabs and spaces.
  function splitHeaderValue(value) {
    const out = [];
    let position = 0;
    let current = "";
    while (position <= value.length) {
      const c = value[position];
      if (c === '"') {
        const start = position;
        position = collectHttpQuotedString(value, position)[1];
        current += value.slice(start, position);
        continue;
      }
      if (c === "," || c === undefined) {
        out[out.length] = current.replace(/^[\t ]+|[\t ]+$/g, "");
        current = "";
        position++;
        continue;
      }
      current += c;
      position++;
    }
    return out;
  }

  // Fetch §3.1.7 "extract a MIME type" from a flat header list; null for
  // failure.
  function extractMimeType(headersFlat) {
    let combined = null;
    for (let i = 0; i < headersFlat.length; i += 2) {
      if (headersFlat[i] !== "content-type") continue;
      combined = combined === null ? headersFlat[i + 1] : `${combined}, ${headersFlat[i + 1]}`;
    }
    if (combined === null) return null;
    let charset = null;
    let essence = null;
    let mimeType = null;
    const values = splitHeaderValue(combined);
    for (let i = 0; i < values.length; i++) {
      const parsed = parseMimeType(values[i]);
      if (parsed === null || parsed.essence === "*/*") continue;
      mimeType = parsed;
      const params = mimeType.parameters;
      if (mimeType.essence !== essence) {
        charset = ReflectApply(MapPrototypeHas, params, ["charset"])
          ? ReflectApply(MapPrototypeGet, params, ["charset"])
          : null;
        essence = mimeType.essence;
      } else if (!ReflectApply(MapPrototypeHas, params, ["charset"]) && charset !== null) {
        ReflectApply(MapPrototypeSet, params, ["charset", charset]);
      }
    }
    return mimeType;
  }

  // ---------------------------------------------------------------------------
  // FormData

  let createFormData; // (entries) -> FormData adopting the list

  // XHR §5 "create an entry": Blob values become Files, named "blob" or
  // `filename`.
  function createFormDataEntry(name, value, filename) {
    name = toUSVString(name);
    const blob = blobInternals(value);
    if (blob === null) return [name, toUSVString(value)];
    if (blob.name === undefined || filename !== undefined) {
      const fileName = filename === undefined ? (blob.name ?? "blob") : filename;
      const lastModified =
        blob.lastModified === undefined ? dateNow() : blob.lastModified;
      value = createFile(blob.bytes, blob.type, fileName, lastModified);
    }
    return [name, value];
  }

  // Web IDL overload resolution of append()/set(): (USVString, USVString) or
  // (USVString, Blob, optional USVString).
  function formDataEntryArguments(args, context) {
    requireArguments(args.length, 2, context);
    const value = args[1];
    if (args.length >= 3 && args[2] !== undefined) {
      if (blobInternals(value) === null) {
        throw new TypeErrorCtor(`${context}: parameter 2 is not of type 'Blob'`);
      }
      return createFormDataEntry(args[0], value, toUSVString(args[2]));
    }
    return createFormDataEntry(args[0], value, undefined);
  }

  const formDataClass = once(() => {
    blobClasses(); // entries hold Files

    class FormData {
      #entries = [];

      // XHR §5.1 constructor(form, submitter): there is no HTMLFormElement.
      constructor(form = undefined, submitter = undefined) {
        if (form === kInternal) {
          this.#entries = submitter;
          return;
        }
        if (form !== undefined) {
          throw new TypeErrorCtor("FormData: the form argument is not supported (there is no DOM)");
        }
      }

      append(name, value, filename = undefined) {
        const entries = this.#entries;
        entries[entries.length] = formDataEntryArguments(arguments, "FormData.append");
      }

      delete(name) {
        requireArguments(arguments.length, 1, "FormData.delete");
        name = toUSVString(name);
        const entries = this.#entries;
        let kept = 0;
        for (let i = 0; i < entries.length; i++) {
          if (entries[i][0] !== name) entries[kept++] = entries[i];
        }
        entries.length = kept;
      }

      get(name) {
        requireArguments(arguments.length, 1, "FormData.get");
        name = toUSVString(name);
        const entries = this.#entries;
        for (let i = 0; i < entries.length; i++) {
          if (entries[i][0] === name) return entries[i][1];
        }
        return null;
      }

      getAll(name) {
        requireArguments(arguments.length, 1, "FormData.getAll");
        name = toUSVString(name);
        const entries = this.#entries;
        const out = [];
        for (let i = 0; i < entries.length; i++) {
          if (entries[i][0] === name) out[out.length] = entries[i][1];
        }
        return out;
      }

      has(name) {
        requireArguments(arguments.length, 1, "FormData.has");
        name = toUSVString(name);
        const entries = this.#entries;
        for (let i = 0; i < entries.length; i++) if (entries[i][0] === name) return true;
        return false;
      }

      // XHR §5.2 set(): replaces the first entry with the name, drops the others.
      set(name, value, filename = undefined) {
        const entry = formDataEntryArguments(arguments, "FormData.set");
        const entries = this.#entries;
        let kept = 0;
        let replaced = false;
        for (let i = 0; i < entries.length; i++) {
          if (entries[i][0] !== entry[0]) {
            entries[kept++] = entries[i];
          } else if (!replaced) {
            entries[kept++] = entry;
            replaced = true;
          }
        }
        entries.length = kept;
        if (!replaced) entries[entries.length] = entry;
      }

      forEach(callback, thisArg = undefined) {
        requireArguments(arguments.length, 1, "FormData.forEach");
        if (typeof callback !== "function") {
          throw new TypeErrorCtor("FormData.forEach: parameter 1 is not of type 'Function'");
        }
        const entries = this.#entries;
        for (let i = 0; i < entries.length; i++) {
          ReflectApply(callback, thisArg, [entries[i][1], entries[i][0], this]);
        }
      }

      static {
        formDataEntriesOf = (formData) => formData.#entries;
        createFormData = (entries) => new FormData(kInternal, entries);
        isFormData = (value) => isObjectLike(value) && #entries in value;
      }
    }
    // Web IDL §3.7.10 iterable<USVString, FormDataEntryValue>
    definePairIterable(
      FormData,
      "FormData Iterator",
      isFormData,
      (formData) => formDataEntriesOf(formData).length,
      (formData, index) => formDataEntriesOf(formData)[index],
    );
    configureInterface(FormData);
    registerInspectHook(FormData, (formData) => {
      const fields = ObjectCreate(null);
      const entries = formDataEntriesOf(formData);
      for (let i = 0; i < entries.length; i++) fields[entries[i][0]] = entries[i][1];
      return fields;
    });
    return FormData;
  });

  // ---------------------------------------------------------------------------
  // multipart/form-data serialization (HTML §4.10.21.8)

  const lonelyNewlineRe = /\r(?!\n)|(?<!\r)\n/g;
  const multipartEscapeRe = /[\n\r"]/g;

  function normalizeNewlines(s) {
    return s.replace(lonelyNewlineRe, "\r\n");
  }

  // Field names and filenames: LF, CR and '"' percent-encoded.
  function escapeMultipartName(s) {
    return s.replace(multipartEscapeRe, (c) => (c === "\n" ? "%0A" : c === "\r" ? "%0D" : "%22"));
  }

  function newMultipartBoundary() {
    return `----formdata-edgefn-${host.randomUUID().replaceAll("-", "")}`;
  }

  // Returns the body bytes for the entries, delimited by `boundary`.
  function serializeMultipartFormData(entries, boundary) {
    const chunks = [];
    let total = 0;
    const push = (bytes) => {
      chunks[chunks.length] = bytes;
      total += bytes.length;
    };
    for (let i = 0; i < entries.length; i++) {
      const name = escapeMultipartName(normalizeNewlines(entries[i][0]));
      const value = entries[i][1];
      let head = `--${boundary}\r\nContent-Disposition: form-data; name="${name}"`;
      if (typeof value === "string") {
        push(host.utf8Encode(`${head}\r\n\r\n`));
        push(host.utf8Encode(normalizeNewlines(value)));
      } else {
        const file = blobInternals(value);
        const type = file.type === "" ? "application/octet-stream" : file.type;
        head += `; filename="${escapeMultipartName(file.name)}"\r\nContent-Type: ${type}\r\n\r\n`;
        push(host.utf8Encode(head));
        push(file.bytes);
      }
      push(host.utf8Encode("\r\n"));
    }
    push(host.utf8Encode(`--${boundary}--\r\n`));
    return concatBytes(chunks, chunks.length, total);
  }

  // ---------------------------------------------------------------------------
  // multipart/form-data parsing

  // Index of `pattern` in `bytes` at or after `from`, or -1.
  function indexOfBytes(bytes, pattern, from) {
    const first = pattern[0];
    const last = bytes.length - pattern.length;
    for (let i = from; i <= last; i++) {
      if (bytes[i] !== first) continue;
      let j = 1;
      while (j < pattern.length && bytes[i + j] === pattern[j]) j++;
      if (j === pattern.length) return i;
    }
    return -1;
  }

  function indexOfCRLF(bytes, from) {
    for (let i = from; i + 1 < bytes.length; i++) {
      if (bytes[i] === 0x0d && bytes[i + 1] === 0x0a) return i;
    }
    return -1;
  }

  function startsWithBytes(bytes, pattern, at) {
    if (at + pattern.length > bytes.length) return false;
    for (let j = 0; j < pattern.length; j++) if (bytes[at + j] !== pattern[j]) return false;
    return true;
  }

  const multipartUnescapeRe = /%0A|%0D|%22/g;

  // A Content-Disposition parameter value: a quoted string (no backslash
  // escapes: HTML percent-encodes instead) or a token.
  function contentDispositionParameters(value) {
    const params = ObjectCreate(null);
    let position = value.indexOf(";");
    const type = trimHttpWhitespace(position < 0 ? value : value.slice(0, position));
    if (type.toLowerCase() !== "form-data") return null;
    if (position < 0) return params;
    while (position < value.length) {
      position++; // ";"
      while (position < value.length && isHttpWhitespaceCode(value.charCodeAt(position))) {
        position++;
      }
      const equals = value.indexOf("=", position);
      if (equals < 0) break;
      const name = trimHttpWhitespace(value.slice(position, equals)).toLowerCase();
      position = equals + 1;
      let paramValue;
      if (value[position] === '"') {
        const close = value.indexOf('"', position + 1);
        if (close < 0) return null;
        paramValue = value.slice(position + 1, close);
        position = value.indexOf(";", close);
        if (position < 0) position = value.length;
      } else {
        let end = value.indexOf(";", position);
        if (end < 0) end = value.length;
        paramValue = trimHttpWhitespace(value.slice(position, end));
        position = end;
      }
      if (params[name] === undefined) {
        params[name] = paramValue.replace(multipartUnescapeRe, (e) =>
          e === "%0A" ? "\n" : e === "%0D" ? "\r" : '"',
        );
      }
    }
    return params;
  }

  // Fetch §5.3 formData() for multipart/form-data: the entry list, or null
  // when the bytes are not a well-formed multipart body.
  function parseMultipartFormData(bytes, boundary) {
    const delimiter = host.utf8Encode(`--${boundary}`);
    const crlfDelimiter = host.utf8Encode(`\r\n--${boundary}`);
    let position;
    if (startsWithBytes(bytes, delimiter, 0)) {
      position = delimiter.length;
    } else {
      const first = indexOfBytes(bytes, crlfDelimiter, 0); // after a preamble
      if (first < 0) return null;
      position = first + crlfDelimiter.length;
    }
    const entries = [];
    for (;;) {
      if (bytes[position] === 0x2d && bytes[position + 1] === 0x2d) return entries; // "--"
      while (bytes[position] === 0x20 || bytes[position] === 0x09) position++; // padding
      if (bytes[position] !== 0x0d || bytes[position + 1] !== 0x0a) return null;
      position += 2;
      const part = parseMultipartHeaders(bytes, position);
      if (part === null) return null;
      const end = indexOfBytes(bytes, crlfDelimiter, part.bodyStart);
      if (end < 0) return null;
      const body = u8View(bytes, part.bodyStart, end);
      if (part.filename === undefined) {
        entries[entries.length] = [part.name, utf8DecodeWithBOM(body)];
      } else {
        const type = part.contentType === null ? "text/plain" : normalizeBlobType(part.contentType);
        const now = dateNow();
        const file = createFile(copyBytes(body), type, part.filename, now);
        entries[entries.length] = [part.name, file];
      }
      position = end + crlfDelimiter.length;
    }
  }

  // The headers of one part: { name, filename, contentType, bodyStart } or null.
  function parseMultipartHeaders(bytes, position) {
    let name;
    let filename;
    let contentType = null;
    for (;;) {
      const lineEnd = indexOfCRLF(bytes, position);
      if (lineEnd < 0) return null;
      if (lineEnd === position) break;
      const line = host.utf8Decode(u8View(bytes, position, lineEnd), false);
      position = lineEnd + 2;
      const colon = line.indexOf(":");
      if (colon <= 0) return null;
      const headerName = trimHttpWhitespace(line.slice(0, colon)).toLowerCase();
      const headerValue = trimHttpWhitespace(line.slice(colon + 1));
      if (headerName === "content-disposition") {
        const params = contentDispositionParameters(headerValue);
        if (params === null || params.name === undefined) return null;
        name = params.name;
        filename = params.filename;
      } else if (headerName === "content-type") {
        contentType = headerValue;
      }
    }
    if (name === undefined) return null;
    return { name, filename, contentType, bodyStart: position + 2 };
  }

  // Fetch §5.3 formData(): a FormData from the body bytes and MIME type, or
  // a TypeError.
  function bodyBytesToFormData(bytes, mimeType) {
    formDataClass(); // defines createFormData
    const essence = mimeType === null ? "" : mimeType.essence;
    if (essence === "multipart/form-data") {
      const boundary = ReflectApply(MapPrototypeGet, mimeType.parameters, ["boundary"]);
      const entries = boundary === undefined ? null : parseMultipartFormData(bytes, boundary);
      if (entries === null) {
        throw new TypeErrorCtor("formData(): the body is not a valid multipart/form-data payload");
      }
      return createFormData(entries);
    }
    if (essence === "application/x-www-form-urlencoded") {
      return createFormData(formParseToList(utf8DecodeWithBOM(bytes)));
    }
    throw new TypeErrorCtor(
      `formData(): the Content-Type '${essence}' is neither multipart/form-data ` +
        "nor application/x-www-form-urlencoded",
    );
  }

  return {
    serializeMimeType,
    extractMimeType,
    newMultipartBoundary,
    serializeMultipartFormData,
    bodyBytesToFormData,
    formDataClass,
  };
});
