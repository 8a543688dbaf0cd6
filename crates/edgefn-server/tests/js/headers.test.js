// WHATWG Fetch §5.2 Headers.
import { assert, assertEquals, assertThrows, run, test } from "./_harness.js";

test("names are case-insensitive and values combine with ', '", () => {
  const h = new Headers();
  h.append("Accept", "text/html");
  h.append("accept", "application/json");
  assertEquals(h.get("ACCEPT"), "text/html, application/json");
  assert(h.has("aCcEpT"));
  h.set("Accept", "*/*");
  assertEquals(h.get("accept"), "*/*");
  h.delete("ACCEPT");
  assertEquals(h.get("accept"), null);
});

test("iteration is sorted, lowercased and combined; set-cookie stays separate", () => {
  const h = new Headers([["X-B", "2"], ["x-a", "1"], ["Set-Cookie", "a=1"], ["set-cookie", "b=2"], ["x-a", "3"]]);
  assertEquals([...h], [["set-cookie", "a=1"], ["set-cookie", "b=2"], ["x-a", "1, 3"], ["x-b", "2"]]);
  assertEquals(h.getSetCookie(), ["a=1", "b=2"]);
  assertEquals([...h.keys()], ["set-cookie", "set-cookie", "x-a", "x-b"]);
});

test("constructs from a record, pairs and another Headers", () => {
  assertEquals(new Headers({ "Content-Type": "text/plain" }).get("content-type"), "text/plain");
  const copy = new Headers(new Headers([["a", "1"]]));
  assertEquals(copy.get("a"), "1");
  assertThrows(() => new Headers([["only-one"]]), TypeError);
});

test("values are trimmed of HTTP whitespace", () => {
  const h = new Headers({ a: "  padded \t" });
  assertEquals(h.get("a"), "padded");
  h.set("X-Trimmed", "\r\n value \r\n");
  h.append("Latin-1", "caf\u00e9");
  assertEquals([...h], [["a", "padded"], ["latin-1", "caf\u00e9"], ["x-trimmed", "value"]]);
});

test("invalid names and values are TypeErrors", () => {
  assertThrows(() => new Headers({ "bad name": "x" }), TypeError);
  assertThrows(() => new Headers({ "": "x" }), TypeError);
  assertThrows(() => new Headers({ a: "line\nbreak" }), TypeError);
  assertThrows(() => new Headers({ a: "nul\0" }), TypeError);
  assertThrows(() => new Headers({ a: "snowman ☃" }), TypeError);
  assertThrows(() => new Headers({ "snow☃": "x" }), TypeError);
  assertThrows(() => new Headers().set("a", "inner\r\nbreak"), TypeError);
  assertThrows(() => new Headers().get("bad name"), TypeError);
  // Lone surrogates are not ByteStrings: the layer's own TypeError, naming the method.
  for (const init of [{ a: "\uD800" }, { "\uD800": "x" }]) {
    let error;
    try {
      new Headers(init);
    } catch (e) {
      error = e;
    }
    assert(error instanceof TypeError && error.message.startsWith("Headers:"), String(error));
  }
});

test("a tenant's patched RegExp does not let an invalid header through", () => {
  const { exec, test: regexTest } = RegExp.prototype;
  RegExp.prototype.exec = () => null;
  RegExp.prototype.test = () => false;
  try {
    assertThrows(() => new Headers({ "bad name": "x" }), TypeError);
    assertThrows(() => new Headers({ a: "line\nbreak" }), TypeError);
  } finally {
    RegExp.prototype.exec = exec;
    RegExp.prototype.test = regexTest;
  }
});

test("forEach visits every entry", () => {
  const seen = [];
  new Headers({ b: "2", a: "1" }).forEach((value, name) => seen.push(name + "=" + value));
  assertEquals(seen, ["a=1", "b=2"]);
});

test("incoming request headers are visible, lowercased", (request) => {
  assert(request.headers.get("Host")?.includes("127.0.0.1"), "host header");
  assert([...request.headers.keys()].every((k) => k === k.toLowerCase()));
});

export default { fetch: run };
