// WHATWG Encoding TextEncoderStream and TextDecoderStream (UTF-8).
import { assert, assertEquals, assertRejects, assertThrows, run, test } from "./_harness.js";

async function collect(stream) {
  const out = [];
  for await (const chunk of stream) out.push(chunk);
  return out;
}

function fromArray(items) {
  return new ReadableStream({
    start(c) {
      for (const item of items) c.enqueue(item);
      c.close();
    },
  });
}

test("TextEncoderStream encodes strings to Uint8Array chunks", async () => {
  const encoder = new TextEncoderStream();
  assertEquals(encoder.encoding, "utf-8");
  assert(encoder.readable instanceof ReadableStream && encoder.writable instanceof WritableStream);
  const chunks = await collect(fromArray(["h\u00e9", "", "llo"]).pipeThrough(encoder));
  assert(chunks.every((c) => c instanceof Uint8Array));
  assertEquals(chunks.map((c) => [...c]), [[104, 0xc3, 0xa9], [108, 108, 111]]);
});

test("TextEncoderStream joins surrogate pairs split across chunks", async () => {
  const chunks = await collect(fromArray(["a\ud83d", "\ude00b"]).pipeThrough(new TextEncoderStream()));
  assertEquals(chunks.map((c) => [...c]), [[97], [0xf0, 0x9f, 0x98, 0x80, 98]]);
});

test("TextEncoderStream turns a lone surrogate at the end into U+FFFD", async () => {
  const chunks = await collect(fromArray(["x\ud83d"]).pipeThrough(new TextEncoderStream()));
  assertEquals(chunks.map((c) => [...c]), [[120], [0xef, 0xbf, 0xbd]]);
  const lone = await collect(fromArray(["\ude00"]).pipeThrough(new TextEncoderStream()));
  assertEquals(lone.map((c) => [...c]), [[0xef, 0xbf, 0xbd]]);
});

test("TextEncoderStream converts non-strings with ToString", async () => {
  const chunks = await collect(fromArray([1, { toString: () => "o" }]).pipeThrough(new TextEncoderStream()));
  assertEquals(chunks.map((c) => [...c]), [[49], [111]]);
});

test("TextDecoderStream decodes sequences split across chunks", async () => {
  const euro = [0xe2, 0x82, 0xac];
  const input = [new Uint8Array([euro[0]]), new Uint8Array([euro[1], euro[2], 0x61]).buffer, new DataView(new Uint8Array([0x62]).buffer)];
  const decoder = new TextDecoderStream();
  assertEquals([decoder.encoding, decoder.fatal, decoder.ignoreBOM], ["utf-8", false, false]);
  const text = (await collect(fromArray(input).pipeThrough(decoder))).join("");
  assertEquals(text, "\u20acab");
});

test("TextDecoderStream strips the BOM unless ignoreBOM", async () => {
  const bom = new Uint8Array([0xef, 0xbb, 0xbf, 0x61]);
  assertEquals((await collect(fromArray([bom]).pipeThrough(new TextDecoderStream()))).join(""), "a");
  const kept = await collect(fromArray([bom]).pipeThrough(new TextDecoderStream("utf-8", { ignoreBOM: true })));
  assertEquals(kept.join(""), "\ufeffa");
});

test("TextDecoderStream: an incomplete sequence at the end is U+FFFD, or an error when fatal", async () => {
  const truncated = () => fromArray([new Uint8Array([0x61, 0xe2, 0x82])]);
  assertEquals((await collect(truncated().pipeThrough(new TextDecoderStream()))).join(""), "a\ufffd");
  await assertRejects(() => collect(truncated().pipeThrough(new TextDecoderStream("utf8", { fatal: true }))), TypeError);
});

test("TextDecoderStream rejects non-buffer chunks and unknown labels", async () => {
  await assertRejects(() => collect(fromArray(["text"]).pipeThrough(new TextDecoderStream())), TypeError);
  assertThrows(() => new TextDecoderStream("no-such-encoding"), RangeError);
  assertEquals(new TextDecoderStream(" UTF8 ").encoding, "utf-8");
});

test("TextDecoderStream decodes legacy encodings split across chunks", async () => {
  const chunks = [new Uint8Array([0x93]), new Uint8Array([0xfa, 0x96]), new Uint8Array([0x7b, 0x93])];
  const decoded = await collect(fromArray(chunks).pipeThrough(new TextDecoderStream("shift_jis")));
  assertEquals(decoded.join(""), "日本\ufffd");
  const latin = new TextDecoderStream("latin2");
  assertEquals(latin.encoding, "iso-8859-2");
  assertEquals((await collect(fromArray([new Uint8Array([0xb1])]).pipeThrough(latin))).join(""), "ą");
});

test("Response bodies pipe through TextDecoderStream", async () => {
  const text = (await collect(new Response("streamed \u00e9").body.pipeThrough(new TextDecoderStream()))).join("");
  assertEquals(text, "streamed \u00e9");
});

export default { fetch: run };
