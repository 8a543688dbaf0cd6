// 05_encoding.js
//
// The UTF-8 decoding bodies use, and atob and btoa, whose work is in the chunk
// js/encoding (loaded on first use, with TextEncoder and TextDecoder).

// A Uint8Array view of u8[start, end) (no copy, no species lookup).
function u8View(u8, start, end) {
  const ta = typedArrays();
  return new ta.Uint8Array(
    ReflectApply(ta.typedArrayGetBuffer, u8, []),
    ReflectApply(ta.typedArrayGetByteOffset, u8, []) + start,
    end - start,
  );
}

// UTF-8 decode (Encoding §4.1 "UTF-8 decode": BOM stripped, errors
// replaced), used by Body#text() and Body#json().
function utf8DecodeWithBOM(u8) {
  if (u8.length === 0) return "";
  const text = host.utf8Decode(u8, false);
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function encoding() {
  return layerChunk("encoding");
}

// HTML §8.3 atob(data)
function atob(data) {
  return ReflectApply(encoding().atob, undefined, arguments);
}

// HTML §8.3 btoa(data)
function btoa(data) {
  return ReflectApply(encoding().btoa, undefined, arguments);
}

const decoderDecode = forwardToChunk("encoding", "decoderDecode");
const decoderFromLabel = forwardToChunk("encoding", "decoderFromLabel");

exposeOperation("atob", atob);
exposeOperation("btoa", btoa);
