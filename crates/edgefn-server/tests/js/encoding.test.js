// WHATWG Encoding §8 TextEncoder/TextDecoder (UTF-8), HTML §8.3 atob/btoa.
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

test("atob and btoa", () => {
  assertEquals(btoa("hello"), "aGVsbG8=");
  assertEquals(atob("aGVsbG8="), "hello");
  assertEquals(atob(" aGVs bG8 "), "hello");
  assertThrows(() => btoa("€"));
  assertThrows(() => atob("@@@"));
});

export default { fetch: run };
