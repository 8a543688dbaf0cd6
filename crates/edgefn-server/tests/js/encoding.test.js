// WHATWG Encoding §8 TextEncoder/TextDecoder (UTF-8 and the legacy encodings), HTML §8.3 atob/btoa.
import { assertEquals, assertThrows, run, test } from "./_harness.js";

test("TextEncoder encodes UTF-8, lone surrogates as U+FFFD", () => {
  const enc = new TextEncoder();
  assertEquals(enc.encoding, "utf-8");
  assertEquals([...enc.encode("aé€😀")], [97, 195, 169, 226, 130, 172, 240, 159, 152, 128]);
  assertEquals([...enc.encode("\ud800")], [239, 191, 189]);
  assertEquals(enc.encode().length, 0);
});

test("encodeInto writes whole characters only", () => {
  const dest = new Uint8Array(5);
  const result = new TextEncoder().encodeInto("a€b", dest);
  assertEquals([result.read, result.written], [3, 5]);
  const small = new Uint8Array(2);
  const partial = new TextEncoder().encodeInto("a€", small);
  assertEquals([partial.read, partial.written], [1, 1]);
});

test("TextDecoder decodes, strips the BOM unless told not to", () => {
  const bytes = new Uint8Array([0xef, 0xbb, 0xbf, 104, 105]);
  assertEquals(new TextDecoder().decode(bytes), "hi");
  assertEquals(new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes), "\ufeffhi");
  assertEquals(new TextDecoder().decode(new Uint8Array([0xff])), "\ufffd");
  assertEquals(new TextDecoder().decode(), "");
  assertEquals(new TextDecoder().decode(new Uint8Array([104, 105]).buffer), "hi");
});

test("fatal decoding throws a TypeError", () => {
  const d = new TextDecoder("utf-8", { fatal: true });
  assertEquals(d.fatal, true);
  assertThrows(() => d.decode(new Uint8Array([0xc3])), TypeError);
});

test("streaming decode joins split sequences", () => {
  const d = new TextDecoder();
  const euro = [0xe2, 0x82, 0xac];
  assertEquals(d.decode(new Uint8Array(euro.slice(0, 1)), { stream: true }), "");
  assertEquals(d.decode(new Uint8Array(euro.slice(1)), { stream: true }), "€");
  assertEquals(d.decode(new Uint8Array([0xe2]), { stream: true }), "");
  assertEquals(d.decode(), "\ufffd");
});

test("labels: utf8 aliases accepted, unknown labels are RangeErrors", () => {
  assertEquals(new TextDecoder("UTF8").encoding, "utf-8");
  assertThrows(() => new TextDecoder("no-such-encoding"), RangeError);
});

test("legacy encodings decode by their WHATWG labels", () => {
  const latin = new TextDecoder(" Latin1 ");
  assertEquals(latin.encoding, "windows-1252");
  assertEquals(latin.decode(new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x80])), "café€");
  const sjis = new TextDecoder("shift_jis");
  assertEquals(sjis.encoding, "shift_jis");
  assertEquals(sjis.decode(new Uint8Array([0x93, 0xfa, 0x96, 0x7b])), "日本");
  const utf16 = new TextDecoder("utf-16le");
  assertEquals(utf16.encoding, "utf-16le");
  assertEquals(utf16.decode(new Uint8Array([0xff, 0xfe, 0x68, 0x00, 0x69, 0x00])), "hi");
  assertEquals(
    new TextDecoder("utf-16le", { ignoreBOM: true }).decode(new Uint8Array([0xff, 0xfe, 0x68, 0x00])),
    "\ufeffh",
  );
  assertEquals(new TextDecoder("gbk").encoding, "gbk");
  assertEquals(new TextDecoder("euc-kr").decode(new Uint8Array([0xc7, 0xd1])), "한");
});

test("legacy encodings: fatal, replacement and the replacement encoding", () => {
  assertEquals(new TextDecoder("shift_jis").decode(new Uint8Array([0x93])), "\ufffd");
  const fatal = new TextDecoder("shift_jis", { fatal: true });
  assertThrows(() => fatal.decode(new Uint8Array([0x93])), TypeError);
  // The decoder is usable again after a fatal error.
  assertEquals(fatal.decode(new Uint8Array([0x93, 0xfa])), "日");
  // "iso-2022-kr" names the replacement encoding, which TextDecoder refuses.
  assertThrows(() => new TextDecoder("iso-2022-kr"), RangeError);
});

test("legacy encodings stream across calls", () => {
  const d = new TextDecoder("shift_jis");
  assertEquals(d.decode(new Uint8Array([0x93]), { stream: true }), "");
  assertEquals(d.decode(new Uint8Array([0xfa, 0x96]), { stream: true }), "日");
  assertEquals(d.decode(new Uint8Array([0x7b])), "本");
  // A finished stream starts over: a dangling lead byte is flushed as U+FFFD.
  assertEquals(d.decode(new Uint8Array([0x96]), { stream: true }), "");
  assertEquals(d.decode(), "\ufffd");
  const fatal = new TextDecoder("utf-16be", { fatal: true });
  assertEquals(fatal.decode(new Uint8Array([0x00]), { stream: true }), "");
  assertThrows(() => fatal.decode(), TypeError);
  assertEquals(fatal.decode(new Uint8Array([0x00, 0x68])), "h");
});

test("unfinished legacy streams are capped, and ending one frees its slot", () => {
  const open = [];
  let error;
  try {
    for (let i = 0; i < 5000; i++) {
      const d = new TextDecoder("shift_jis");
      d.decode(new Uint8Array([0x93]), { stream: true });
      open.push(d);
    }
  } catch (e) {
    error = e;
  }
  assertEquals(error instanceof RangeError, true);
  assertEquals(open.length, 4096);
  assertEquals(String(error.message).includes("at most 4096"), true);
  assertEquals(open[0].decode(new Uint8Array([0xfa])), "日");
  const again = new TextDecoder("shift_jis");
  assertEquals(again.decode(new Uint8Array([0x93]), { stream: true }), "");
  for (const d of open.slice(1)) d.decode();
  assertEquals(again.decode(new Uint8Array([0xfa])), "日");
});

test("atob and btoa", () => {
  assertEquals(btoa("hello"), "aGVsbG8=");
  assertEquals(atob("aGVsbG8="), "hello");
  assertEquals(atob(" aGVs bG8 "), "hello");
  assertThrows(() => btoa("€"));
  assertThrows(() => atob("@@@"));
});

export default { fetch: run };
