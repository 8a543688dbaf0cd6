// W3C File API §3 Blob, §4 File; Blob as a fetch body and Body#blob().
import { assert, assertEquals, assertRejects, assertThrows, run, test } from "./_harness.js";

const bytesOf = async (blob) => [...new Uint8Array(await blob.arrayBuffer())];

test("a Blob concatenates strings (UTF-8), buffers, views and blobs", async () => {
  const inner = new Blob(["in"]);
  const blob = new Blob(["a€", new Uint8Array([1, 2]), new Uint16Array([0x0403]).buffer, new DataView(new ArrayBuffer(1)), inner]);
  assertEquals(blob.size, 4 + 2 + 2 + 1 + 2);
  assertEquals(await bytesOf(blob), [97, 0xe2, 0x82, 0xac, 1, 2, 3, 4, 0, 105, 110]);
  assertEquals(new Blob().size, 0);
  assertEquals(await new Blob([]).text(), "");
});

test("parts are copied at construction", async () => {
  const source = new Uint8Array([1, 2, 3]);
  const blob = new Blob([source]);
  source[0] = 9;
  assertEquals(await bytesOf(blob), [1, 2, 3]);
  const read = await blob.bytes();
  read[1] = 9;
  assertEquals(await bytesOf(blob), [1, 2, 3]);
});

test("type is lowercased, or empty if it has non-printable characters", () => {
  assertEquals(new Blob([], { type: "Text/HTML" }).type, "text/html");
  assertEquals(new Blob([], { type: "a\u0019b" }).type, "");
  assertEquals(new Blob([], { type: "caf\u00e9" }).type, "");
  assertEquals(new Blob([]).type, "");
});

test("endings: native turns CR and CRLF into LF; transparent keeps them", async () => {
  assertEquals(await new Blob(["a\r\nb\rc\n"], { endings: "native" }).text(), "a\nb\nc\n");
  assertEquals(await new Blob(["a\r\nb"], { endings: "transparent" }).text(), "a\r\nb");
  assertThrows(() => new Blob([], { endings: "other" }), TypeError);
});

test("lone surrogates become U+FFFD", async () => {
  assertEquals(await bytesOf(new Blob(["\ud800"])), [0xef, 0xbf, 0xbd]);
});

test("constructor argument errors", () => {
  assertThrows(() => new Blob("not a sequence"), TypeError);
  assertThrows(() => new Blob({}), TypeError);
  assertThrows(() => new Blob([], 5), TypeError);
  assertEquals(new Blob([{ toString: () => "x" }]).size, 1);
});

test("slice with relative, clamped and reversed bounds", async () => {
  const blob = new Blob(["0123456789"]);
  assertEquals(await blob.slice(2, 5).text(), "234");
  assertEquals(await blob.slice(-3).text(), "789");
  assertEquals(await blob.slice(-100, 2).text(), "01");
  assertEquals(await blob.slice(5, 2).text(), "");
  assertEquals(await blob.slice(8, 100).text(), "89");
  assertEquals(await blob.slice(1.5, 3.5).text(), "23");
  assertEquals(blob.slice(0, 1, "TEXT/Plain").type, "text/plain");
  assertEquals(blob.slice().size, 10);
  assertEquals(await blob.slice(2, 8).slice(1, 3).text(), "34");
});

test("text() strips a BOM and replaces bad UTF-8; arrayBuffer() and bytes() copy", async () => {
  assertEquals(await new Blob([new Uint8Array([0xef, 0xbb, 0xbf, 0x61, 0xff])]).text(), "a\ufffd");
  const blob = new Blob(["xy"]);
  assert((await blob.arrayBuffer()) instanceof ArrayBuffer);
  assert((await blob.bytes()) instanceof Uint8Array);
  await assertRejects(() => Blob.prototype.text.call({}), TypeError);
});

test("stream() yields the bytes and supports a BYOB reader", async () => {
  const big = new Uint8Array(70000).map((_, i) => i & 255);
  const chunks = [];
  for await (const chunk of new Blob([big]).stream()) chunks.push(chunk);
  assert(chunks.length >= 2, "read in several chunks");
  assertEquals(chunks.reduce((n, c) => n + c.length, 0), 70000);
  assertEquals(chunks[1][0], 65536 & 255);
  const reader = new Blob(["abcdef"]).stream().getReader({ mode: "byob" });
  const { value } = await reader.read(new Uint8Array(4));
  assertEquals(new TextDecoder().decode(value), "abcd");
});

test("File has a name and lastModified", () => {
  const file = new File(["content"], "a/b.txt", { type: "text/plain", lastModified: 1234 });
  assert(file instanceof Blob && file instanceof File);
  assertEquals([file.name, file.lastModified, file.type, file.size], ["a/b.txt", 1234, "text/plain", 7]);
  const now = Date.now();
  const fresh = new File([], "x");
  assert(Math.abs(fresh.lastModified - now) < 5000, "lastModified defaults to now");
  assertThrows(() => new File(["x"]), TypeError);
  assertEquals(Object.prototype.toString.call(file), "[object File]");
});

test("a Blob body sends its bytes and its type as Content-Type", async () => {
  const response = new Response(new Blob(["{}"], { type: "application/json" }));
  assertEquals(response.headers.get("content-type"), "application/json");
  assertEquals(await response.json(), {});
  const untyped = new Request("https://e.com", { method: "POST", body: new Blob(["x"]) });
  assertEquals(untyped.headers.get("content-type"), null);
  assertEquals(await untyped.text(), "x");
});

test("body.blob() has the body's bytes and its MIME type", async () => {
  const blob = await new Response("hello", { headers: { "content-type": "Text/Plain; Charset=UTF-8" } }).blob();
  assert(blob instanceof Blob);
  assertEquals([blob.type, blob.size, await blob.text()], ["text/plain;charset=UTF-8", 5, "hello"]);
  assertEquals((await new Response(new Uint8Array([1])).blob()).type, "");
  const r = new Response("once");
  await r.blob();
  await assertRejects(() => r.blob(), TypeError);
});

export default { fetch: run };
