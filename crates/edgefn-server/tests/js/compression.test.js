// WHATWG Compression §5 CompressionStream, §6 DecompressionStream.
import { assert, assertEquals, assertRejects, assertThrows, run, test } from "./_harness.js";

async function collect(stream) {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function through(bytes, transform) {
  return new Blob([bytes]).stream().pipeThrough(transform);
}

const text = "hello hello hello hello, compression ".repeat(50);
const input = new TextEncoder().encode(text);

for (const format of ["gzip", "deflate", "deflate-raw"]) {
  test(`${format} round trip`, async () => {
    const compressed = await collect(through(input, new CompressionStream(format)));
    assert(compressed.length < input.length, `${compressed.length} >= ${input.length}`);
    const restored = await collect(through(compressed, new DecompressionStream(format)));
    assertEquals(new TextDecoder().decode(restored), text);
  });
}

test("gzip output starts with the gzip magic number", async () => {
  const compressed = await collect(through(input, new CompressionStream("gzip")));
  assertEquals([compressed[0], compressed[1]], [0x1f, 0x8b]);
});

test("unknown formats are TypeErrors", () => {
  assertThrows(() => new CompressionStream("brotli"), TypeError);
  assertThrows(() => new DecompressionStream("zip"), TypeError);
  assertThrows(() => new CompressionStream(), TypeError);
});

test("invalid or truncated input fails the stream with a TypeError", async () => {
  await assertRejects(() => collect(through(new Uint8Array([1, 2, 3, 4]), new DecompressionStream("gzip"))), TypeError);
  const compressed = await collect(through(input, new CompressionStream("deflate")));
  await assertRejects(() => collect(through(compressed.slice(0, 10), new DecompressionStream("deflate"))), TypeError);
});

test("non-buffer chunks are TypeErrors", async () => {
  const cs = new CompressionStream("gzip");
  // A transform stream only takes a write while its readable side is being read.
  const reading = new Response(cs.readable).arrayBuffer();
  const writer = cs.writable.getWriter();
  await assertRejects(() => writer.write("a string"), TypeError);
  await assertRejects(() => reading, TypeError);
});

export default { fetch: run };
