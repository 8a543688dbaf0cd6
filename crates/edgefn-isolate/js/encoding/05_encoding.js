// encoding/05_encoding.js
//
// TextEncoder / TextDecoder (WHATWG Encoding API, UTF-8 only for now; the
// UTF-8 codec itself is on the host; TextEncoderStream and TextDecoderStream
// are in 28_encoding_streams.js) and atob / btoa (HTML §8.3 with Infra's
// forgiving-base64): the chunk "encoding", loaded on first use; the core's
// 05_encoding.js installs atob and btoa, and 99_interfaces.js names the
// classes.

// Latin-1 string from bytes, in slices small enough for Function#apply.
function bytesToLatin1(u8, length) {
  let out = "";
  for (let i = 0; i < length; i += 8192) {
    const end = MathMin(i + 8192, length);
    out += ReflectApply(StringFromCharCode, null, u8View(u8, i, end));
  }
  return out;
}

// Index where a trailing, possibly incomplete UTF-8 sequence starts (the
// bytes a streaming decoder must keep for the next call), or u8.length.
// Sequences that can no longer become valid are not kept: the decoder
// reports them now, as Encoding §4.1 "UTF-8 decoder" would.
function utf8IncompleteTailStart(u8) {
  const length = u8.length;
  for (let i = length - 1; i >= 0 && i >= length - 3; i--) {
    const b = u8[i];
    if (b < 0x80) return length;
    if (b < 0xc0) continue; // continuation byte: look further back
    let needed;
    let lower = 0x80;
    let upper = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) {
      needed = 2;
    } else if (b >= 0xe0 && b <= 0xef) {
      needed = 3;
      if (b === 0xe0) lower = 0xa0;
      else if (b === 0xed) upper = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      needed = 4;
      if (b === 0xf0) lower = 0x90;
      else if (b === 0xf4) upper = 0x8f;
    } else {
      return length; // invalid lead byte
    }
    const have = length - i;
    if (have >= needed) return length;
    if (have >= 2) {
      const second = u8[i + 1];
      if (second < lower || second > upper) return length;
    }
    return i;
  }
  return length;
}

const asciiWhitespaceEdgesRe = /^[\t\n\f\r ]+|[\t\n\f\r ]+$/g;

// Encoding §4.2 "get an encoding": the encoding's name for a label, or
// null. UTF-8 labels are answered here; every other label goes to the host
// (encoding_rs). The "replacement" encoding is not a decoder a page may ask
// for, so it counts as unsupported (Encoding §7.2 step 2).
function encodingForLabel(label) {
  const key = toDOMString(label).replace(asciiWhitespaceEdgesRe, "").toLowerCase();
  switch (key) {
    case "utf-8":
    case "utf8":
    case "unicode-1-1-utf-8":
    case "unicode11utf8":
    case "unicode20utf8":
    case "x-unicode20utf8":
      return "utf-8";
    default: {
      const name = host.encodingForLabel(key);
      return name === "replacement" ? null : name;
    }
  }
}

// Encoding: the TextDecoderCommon state, shared by TextDecoder and
// TextDecoderStream.
function newDecoderState(encoding, fatal, ignoreBOM) {
  return {
    encoding,
    fatal,
    ignoreBOM,
    bomSeen: false,
    doNotFlush: false,
    pending: null, // bytes of an incomplete sequence kept by stream: true
    hostId: 0, // the host's streaming decoder for a non-UTF-8 encoding
  };
}

// The constructor steps of TextDecoder and TextDecoderStream: the label,
// then TextDecoderOptions { fatal, ignoreBOM }.
function decoderFromLabel(label, options, context) {
  const encoding = encodingForLabel(label);
  if (encoding === null) {
    throw new RangeErrorCtor(
      `${context}: the encoding label provided ('${label}') is invalid or not supported`,
    );
  }
  const dict = toDictionary(options, context);
  if (dict === undefined) return newDecoderState(encoding, false, false);
  const fatal = !!dict.fatal;
  const ignoreBOM = !!dict.ignoreBOM;
  return newDecoderState(encoding, fatal, ignoreBOM);
}

// Encoding: the TextDecoder decode() steps on a Uint8Array; `stream` keeps an
// incomplete trailing sequence for the next call.
function decoderDecode(decoder, bytes, stream) {
  if (decoder.encoding !== "utf-8") return hostDecode(decoder, bytes, stream);
  // Step 1: a previous call without {stream: true} ended the stream.
  if (!decoder.doNotFlush) {
    decoder.pending = null;
    decoder.bomSeen = false;
  }
  decoder.doNotFlush = stream;
  const pending = decoder.pending;
  if (pending !== null) {
    decoder.pending = null;
    bytes = concatBytes([pending, bytes], 2, pending.length + bytes.length);
  }
  let length = bytes.length;
  if (stream && length > 0) {
    const cut = utf8IncompleteTailStart(bytes);
    if (cut < length) {
      decoder.pending = copyBytes(u8View(bytes, cut, length));
      bytes = u8View(bytes, 0, cut);
      length = cut;
    }
  }
  let text = length === 0 ? "" : host.utf8Decode(bytes, decoder.fatal);
  if (!decoder.ignoreBOM && !decoder.bomSeen && text.length > 0) {
    decoder.bomSeen = true;
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  }
  return text;
}

// decode() for the encodings the host decodes: a whole input in one call,
// or a host decoder kept across calls with {stream: true} and freed by the
// call that ends the stream.
function hostDecode(decoder, bytes, stream) {
  if (decoder.hostId === 0) {
    if (!stream) {
      return host.decodeOnce(decoder.encoding, bytes, decoder.fatal, decoder.ignoreBOM);
    }
    decoder.hostId = host.decoderCreate(decoder.encoding, decoder.ignoreBOM);
  }
  const id = decoder.hostId;
  if (!stream) decoder.hostId = 0;
  try {
    return host.decoderDecode(id, bytes, decoder.fatal, !stream);
  } catch (e) {
    decoder.hostId = 0; // the host frees a decoder that met malformed input
    throw e;
  }
}

const encodingClasses = once(() => {
  class TextEncoder {
    // Encoding: TextEncoder
    get encoding() {
      return "utf-8";
    }

    encode(input = "") {
      // Encoding: encode(input) takes a USVString (lone surrogates become U+FFFD).
      return host.utf8Encode(toUSVString(input));
    }

    encodeInto(source, destination) {
      requireArguments(arguments.length, 2, "TextEncoder.encodeInto");
      source = toUSVString(source);
      if (
        typedArrayKind(destination) !==
        "Uint8Array"
      ) {
        throw new TypeErrorCtor(
          "TextEncoder.encodeInto: parameter 2 is not of type 'Uint8Array'",
        );
      }
      const result = host.utf8EncodeInto(source, destination);
      return { read: result[0], written: result[1] };
    }
  }
  configureInterface(TextEncoder);

  class TextDecoder {
    #d; // decoder state, see newDecoderState()

    // Encoding: TextDecoder constructor(label, options)
    constructor(label = "utf-8", options = undefined) {
      this.#d = decoderFromLabel(label, options, "TextDecoder");
    }

    get encoding() {
      return this.#d.encoding;
    }

    get fatal() {
      return this.#d.fatal;
    }

    get ignoreBOM() {
      return this.#d.ignoreBOM;
    }

    // Encoding: TextDecoder decode(input, options)
    decode(input = undefined, options = undefined) {
      const decoder = this.#d;
      let bytes;
      if (input === undefined) {
        bytes = newUint8Array(0);
      } else {
        bytes = bufferSourceView(input);
        if (bytes === null) {
          throw new TypeErrorCtor(
            "TextDecoder.decode: parameter 1 is not of type 'ArrayBuffer or ArrayBufferView'",
          );
        }
      }
      const dict = toDictionary(options, "TextDecoder.decode");
      return decoderDecode(decoder, bytes, dict !== undefined && !!dict.stream);
    }
  }
  configureInterface(TextDecoder);
  return { TextEncoder, TextDecoder };
});

// ---------------------------------------------------------------------------
// base64 (Infra "forgiving-base64 encode/decode")

function base64CharValue(c) {
  if (c >= 65 && c <= 90) return c - 65; // A-Z
  if (c >= 97 && c <= 122) return c - 71; // a-z
  if (c >= 48 && c <= 57) return c + 4; // 0-9
  if (c === 43) return 62; // +
  if (c === 47) return 63; // /
  return -1;
}

function base64Digit(v) {
  if (v < 26) return v + 65;
  if (v < 52) return v + 71;
  if (v < 62) return v - 4;
  return v === 62 ? 43 : 47;
}

function invalidCharacter(message) {
  return newDOMException(message, "InvalidCharacterError");
}

// HTML §8.3 btoa(data)
function btoa(data) {
  requireArguments(arguments.length, 1, "btoa");
  const s = toDOMString(data);
  const length = s.length;
  const out = newUint8Array(MathFloor((length + 2) / 3) * 4);
  let o = 0;
  for (let i = 0; i < length; i += 3) {
    const a = s.charCodeAt(i);
    const b = i + 1 < length ? s.charCodeAt(i + 1) : 0;
    const c = i + 2 < length ? s.charCodeAt(i + 2) : 0;
    if (a > 0xff || b > 0xff || c > 0xff) {
      throw invalidCharacter(
        "btoa: the string to be encoded contains characters outside of the Latin1 range",
      );
    }
    const n = (a << 16) | (b << 8) | c;
    out[o++] = base64Digit((n >> 18) & 63);
    out[o++] = base64Digit((n >> 12) & 63);
    out[o++] = i + 1 < length ? base64Digit((n >> 6) & 63) : 61;
    out[o++] = i + 2 < length ? base64Digit(n & 63) : 61;
  }
  return bytesToLatin1(out, o);
}

const base64WhitespaceRe = /[\t\n\f\r ]/g;

// HTML §8.3 atob(data), Infra forgiving-base64 decode
function atob(data) {
  requireArguments(arguments.length, 1, "atob");
  // Step 1: remove ASCII whitespace.
  let s = toDOMString(data).replace(base64WhitespaceRe, "");
  let length = s.length;
  // Step 2: strip one or two trailing "=" when the length is a multiple of 4.
  if (length % 4 === 0 && length > 0 && s.charCodeAt(length - 1) === 61) {
    length--;
    if (s.charCodeAt(length - 1) === 61) length--;
  }
  // Step 3
  if (length % 4 === 1) {
    throw invalidCharacter("atob: the string to be decoded is not correctly encoded");
  }
  const out = newUint8Array(MathFloor((length * 3) / 4));
  let o = 0;
  let buffer = 0;
  let bits = 0;
  for (let i = 0; i < length; i++) {
    const v = base64CharValue(s.charCodeAt(i));
    if (v < 0) {
      // Step 4: not in the base64 alphabet (includes a misplaced "=")
      throw invalidCharacter("atob: the string to be decoded is not correctly encoded");
    }
    buffer = (buffer << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (buffer >> bits) & 0xff;
    }
  }
  return bytesToLatin1(out, o);
}

