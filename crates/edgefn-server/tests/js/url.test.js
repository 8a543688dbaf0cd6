// WHATWG URL §6.1 URL and §6.2 URLSearchParams.
import { assert, assertEquals, assertThrows, run, test } from "./_harness.js";

test("parses into components", () => {
  const u = new URL("https://user:pw@Example.COM:8443/a/./b/../c?q=1#frag");
  assertEquals(
    [u.protocol, u.username, u.password, u.host, u.hostname, u.port, u.pathname, u.search, u.hash, u.origin],
    ["https:", "user", "pw", "example.com:8443", "example.com", "8443", "/a/c", "?q=1", "#frag", "https://example.com:8443"],
  );
  assertEquals(new URL("http://e.com:80/").port, "");
});

test("resolves against a base and refuses invalid input", () => {
  assertEquals(new URL("../x?y", "https://e.com/a/b/c").href, "https://e.com/a/x?y");
  assertThrows(() => new URL("no scheme"), TypeError);
  assertThrows(() => new URL("/x", "not a base"), TypeError);
  assertEquals(URL.canParse("https://e.com"), true);
  assertEquals(URL.canParse("nope"), false);
});

test("setters follow the spec", () => {
  const u = new URL("https://e.com/p");
  u.pathname = "/a b";
  assertEquals(u.pathname, "/a%20b");
  u.search = "x=1";
  assertEquals(u.href, "https://e.com/a%20b?x=1");
  u.hash = "h";
  u.port = "8080";
  u.hostname = "other.org";
  assertEquals(u.href, "https://other.org:8080/a%20b?x=1#h");
  assertThrows(() => { u.href = "not a url"; }, TypeError);
  assertEquals(String(u), u.href);
  assertEquals(JSON.stringify({ u }), `{"u":"${u.href}"}`);
});

test("idna and percent-encoding", () => {
  assertEquals(new URL("https://münchen.de/ä").href, "https://xn--mnchen-3ya.de/%C3%A4");
});

test("URLSearchParams parse, mutate and serialise", () => {
  const p = new URLSearchParams("?a=1&b=x+y&a=2&c=%26");
  assertEquals(p.get("b"), "x y");
  assertEquals(p.getAll("a"), ["1", "2"]);
  assertEquals(p.get("c"), "&");
  assertEquals(p.has("a", "2"), true);
  p.append("d", "é ü");
  p.delete("a", "1");
  p.set("b", "z");
  assertEquals(p.toString(), "b=z&a=2&c=%26&d=%C3%A9+%C3%BC");
  p.sort();
  assertEquals([...p.keys()], ["a", "b", "c", "d"]);
  assertEquals(p.size, 4);
});

test("URLSearchParams from records and pairs", () => {
  assertEquals(new URLSearchParams({ x: "1", y: "2" }).toString(), "x=1&y=2");
  assertEquals(new URLSearchParams([["k", "v"], ["k", "w"]]).toString(), "k=v&k=w");
  assertThrows(() => new URLSearchParams([["only"]]), TypeError);
});

test("searchParams stays in sync with the URL both ways", () => {
  const u = new URL("https://e.com/?a=1");
  u.searchParams.append("b", "2");
  assertEquals(u.search, "?a=1&b=2");
  u.search = "?c=3";
  assertEquals(u.searchParams.get("c"), "3");
  assertEquals(u.searchParams.get("a"), null);
  u.searchParams.delete("c");
  assertEquals(u.href, "https://e.com/");
});

export default { fetch: run };
