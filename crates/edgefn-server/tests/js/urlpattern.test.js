// WHATWG URL Pattern §1 URLPattern.
import { assert, assertEquals, assertThrows, run, test } from "./_harness.js";

test("pathname patterns with named groups", () => {
  const p = new URLPattern({ pathname: "/books/:id" });
  assertEquals(p.pathname, "/books/:id");
  assert(p.test("https://example.com/books/123"));
  assert(!p.test("https://example.com/books"));
  const m = p.exec("https://example.com/books/123");
  assertEquals(m.pathname.groups, { id: "123" });
  assertEquals(m.pathname.input, "/books/123");
  assertEquals(m.inputs, ["https://example.com/books/123"]);
});

test("constructor strings, base URLs and wildcards", () => {
  const p = new URLPattern("/api/*", "https://example.com");
  assertEquals(p.hostname, "example.com");
  assert(p.test("https://example.com/api/v1/items"));
  assert(!p.test("https://other.com/api/v1/items"));
  assertEquals(p.exec("https://example.com/api/a/b").pathname.groups, { 0: "a/b" });
  assert(new URLPattern({ hostname: "*.example.com" }).test({ hostname: "api.example.com" }));
});

test("regexp groups, optional and repeated segments", () => {
  const p = new URLPattern({ pathname: "/post/:id(\\d+)/:tab?" });
  assert(p.hasRegExpGroups);
  assertEquals(p.exec({ pathname: "/post/42" }).pathname.groups, { id: "42", tab: undefined });
  assert(!p.test({ pathname: "/post/abc" }));
  assert(new URLPattern({ pathname: "/files/:path+" }).test({ pathname: "/files/a/b/c" }));
});

test("ignoreCase and test with a base URL", () => {
  const p = new URLPattern({ pathname: "/Users" }, { ignoreCase: true });
  assert(p.test("/users", "https://e.com"));
  assertEquals(new URLPattern({ pathname: "/x" }).exec("not a url"), null);
});

test("invalid patterns are TypeErrors", () => {
  assertThrows(() => new URLPattern({ pathname: "/(" }), TypeError);
  assertThrows(() => new URLPattern("https://example.com/:id(+)"), TypeError);
  assertThrows(() => new URLPattern({ pathname: "/a" }, "https://base.example"), TypeError);
});

export default { fetch: run };
