// 28_encoding_streams.js
//
// TextEncoderStream and TextDecoderStream (WHATWG Encoding, "interface
// TextEncoderStream" / "interface TextDecoderStream"), transform streams
// over the same UTF-8 codec and decoder state as TextEncoder/TextDecoder.

// Encoding: "encode and enqueue a chunk" keeping a trailing lead surrogate
// for the next chunk. `state` is { pendingHighSurrogate: string | null }.
function encodeAndEnqueueChunk(state, controller, chunk) {
  let input = toDOMString(chunk);
  if (state.pendingHighSurrogate !== null) {
    input = state.pendingHighSurrogate + input;
    state.pendingHighSurrogate = null;
  }
  const last = input.length === 0 ? 0 : input.charCodeAt(input.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) {
    state.pendingHighSurrogate = input.slice(-1);
    input = input.slice(0, -1);
  }
  if (input === "") return;
  transformStreamDefaultControllerEnqueue(controller, host.utf8Encode(toUSVString(input)));
}

// Encoding: "encode and flush": a lone lead surrogate left over becomes
// U+FFFD.
function encodeAndFlush(state, controller) {
  if (state.pendingHighSurrogate === null) return;
  state.pendingHighSurrogate = null;
  transformStreamDefaultControllerEnqueue(controller, newUint8Array([0xef, 0xbf, 0xbd]));
}

// Encoding: "decode and enqueue a chunk"
function decodeAndEnqueueChunk(decoder, controller, chunk) {
  const bytes = bufferSourceView(chunk);
  if (bytes === null) {
    throw new TypeErrorCtor(
      "TextDecoderStream: the chunk is not an ArrayBuffer or ArrayBufferView",
    );
  }
  const text = decoderDecode(decoder, bytes, true);
  if (text !== "") transformStreamDefaultControllerEnqueue(controller, text);
}

// Encoding: "flush and enqueue"
function decodeFlushAndEnqueue(decoder, controller) {
  const text = decoderDecode(decoder, newUint8Array(0), false);
  if (text !== "") transformStreamDefaultControllerEnqueue(controller, text);
}

const encodingStreamClasses = once(() => {
  class TextEncoderStream {
    #t; // transform stream state

    constructor() {
      const state = { pendingHighSurrogate: null };
      this.#t = createTransformStreamState(
        (controller, chunk) => encodeAndEnqueueChunk(state, controller, chunk),
        (controller) => encodeAndFlush(state, controller),
      );
    }

    get encoding() {
      this.#t; // brand check
      return "utf-8";
    }

    get readable() {
      return readableStreamWrapper(this.#t.readable);
    }

    get writable() {
      return writableStreamWrapper(this.#t.writable);
    }
  }
  configureInterface(TextEncoderStream);

  class TextDecoderStream {
    #d; // decoder state
    #t; // transform stream state

    constructor(label = "utf-8", options = undefined) {
      const decoder = decoderFromLabel(label, options, "TextDecoderStream");
      this.#d = decoder;
      this.#t = createTransformStreamState(
        (controller, chunk) => decodeAndEnqueueChunk(decoder, controller, chunk),
        (controller) => decodeFlushAndEnqueue(decoder, controller),
      );
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

    get readable() {
      return readableStreamWrapper(this.#t.readable);
    }

    get writable() {
      return writableStreamWrapper(this.#t.writable);
    }
  }
  configureInterface(TextDecoderStream);

  return { TextEncoderStream, TextDecoderStream };
});
