// WHATWG Fetch §5.4 Request, §5.5 Response, §5.3 Body mixin.
import { assert, assertEquals, assertRejects, assertThrows, run, test } from "./_harness.js";

test("Request exposes method, url and headers", () => {
  const r = new Request("https://example.com/a?b=1", { method: "post", headers: { "x-k": "v" }, body: "x" });
  assertEquals(r.method, "POST");
  assertEquals(r.url, "https://example.com/a?b=1");
  assertEquals(r.headers.get("x-k"), "v");
  assert(r instanceof Request);
});

test("Request rejects forbidden methods, bodies on GET and relative URLs", () => {
  assertThrows(() => new Request("https://e.com", { method: "CONNECT" }), TypeError);
  assertThrows(() => new Request("https://e.com", { method: "GET", body: "x" }), TypeError);
  assertThrows(() => new Request("/relative"), TypeError);
  assertThrows(() => new Request(), TypeError);
  assertThrows(() => new Request(undefined), TypeError);
});

test("Request body can be read as text, json and arrayBuffer", async () => {
  assertEquals(await new Request("https://e.com", { method: "POST", body: "hi" }).text(), "hi");
  assertEquals(await new Request("https://e.com", { method: "POST", body: '{"a":[1]}' }).json(), { a: [1] });
  const buf = await new Request("https://e.com", { method: "POST", body: new Uint8Array([1, 2, 3]) }).arrayBuffer();
  assert(buf instanceof ArrayBuffer);
  assertEquals([...new Uint8Array(buf)], [1, 2, 3]);
});

test("a body can be read only once", async () => {
  const r = new Response("once");
  assertEquals(r.bodyUsed, false);
  await r.text();
  assertEquals(r.bodyUsed, true);
  await assertRejects(() => r.text(), TypeError);
});

test("invalid JSON rejects with SyntaxError", async () => {
  await assertRejects(() => new Response("{nope").json(), SyntaxError);
});

test("Response bodies from string, bytes, ArrayBuffer, stream and null", async () => {
  assertEquals(await new Response("s").text(), "s");
  assertEquals(await new Response(new Uint8Array([104, 105])).text(), "hi");
  assertEquals(await new Response(new Uint8Array([111, 107]).buffer).text(), "ok");
  const stream = new ReadableStream({
    start(c) {
      c.enqueue(new TextEncoder().encode("str"));
      c.enqueue(new TextEncoder().encode("eam"));
      c.close();
    },
  });
  assertEquals(await new Response(stream).text(), "stream");
  const empty = new Response(null);
  assertEquals(empty.body, null);
  assertEquals(await empty.text(), "");
});

test("Response body is a ReadableStream of Uint8Array", async () => {
  const reader = new Response("abc").body.getReader();
  const { value, done } = await reader.read();
  assertEquals(done, false);
  assert(value instanceof Uint8Array);
  assertEquals(new TextDecoder().decode(value), "abc");
  assertEquals((await reader.read()).done, true);
});

test("Response status, statusText, ok and default content types", () => {
  const r = new Response("x", { status: 201, statusText: "Created!" });
  assertEquals([r.status, r.statusText, r.ok], [201, "Created!", true]);
  assertEquals(new Response("x").headers.get("content-type"), "text/plain;charset=UTF-8");
  assertEquals(new Response(new URLSearchParams("a=1")).headers.get("content-type"), "application/x-www-form-urlencoded;charset=UTF-8");
  assertEquals(new Response(null, { status: 404 }).ok, false);
});

test("Response rejects bad statuses and bodies on null-body statuses", () => {
  assertThrows(() => new Response("x", { status: 99 }), RangeError);
  assertThrows(() => new Response("x", { status: 600 }), RangeError);
  assertThrows(() => new Response("x", { status: 204 }), TypeError);
});

test("Response.json serialises and sets the content type", async () => {
  const r = Response.json({ a: 1 }, { status: 422, headers: { "x-extra": "1" } });
  assertEquals(r.status, 422);
  assertEquals(r.headers.get("content-type"), "application/json");
  assertEquals(r.headers.get("x-extra"), "1");
  assertEquals(await r.json(), { a: 1 });
});

test("Response.redirect validates status and URL", () => {
  const r = Response.redirect("https://example.com/next", 307);
  assertEquals(r.status, 307);
  assertEquals(r.headers.get("location"), "https://example.com/next");
  assertEquals(Response.redirect("https://example.com/").status, 302);
  assertThrows(() => Response.redirect("https://example.com/", 200), RangeError);
  assertThrows(() => Response.redirect("not a url"), TypeError);
  assertThrows(() => r.headers.set("location", "x"), TypeError);
});

test("Response.error is a network error", () => {
  const r = Response.error();
  assertEquals([r.type, r.status], ["error", 0]);
  assertThrows(() => r.headers.set("a", "b"), TypeError);
  assertThrows(() => Response.redirect("https://x.test/", 301).headers.set("a", "b"), TypeError);
});

test("Response headers are one object, and a clone has its own", () => {
  const a = new Response("x", { headers: { "x-a": "1" } });
  assertEquals(a.headers === a.headers, true);
  const b = a.clone();
  b.headers.set("x-a", "2");
  a.headers.append("x-late", "3");
  assertEquals([...a.headers], [["content-type", "text/plain;charset=UTF-8"], ["x-a", "1"], ["x-late", "3"]]);
  assertEquals([...b.headers], [["content-type", "text/plain;charset=UTF-8"], ["x-a", "2"]]);
});

test("clone does not go through a tenant's Array iterator", () => {
  const iterator = Array.prototype[Symbol.iterator];
  Array.prototype[Symbol.iterator] = function* () { yield "x-injected"; yield "1"; };
  try {
    const b = new Response(null, { headers: { "x-a": "1" } }).clone();
    Array.prototype[Symbol.iterator] = iterator;
    assertEquals([...b.headers], [["x-a", "1"]]);
  } finally {
    Array.prototype[Symbol.iterator] = iterator;
  }
});

test("clone gives two independent bodies", async () => {
  const a = new Response("twice");
  const b = a.clone();
  assertEquals(await a.text(), "twice");
  assertEquals(await b.text(), "twice");
});

test("the incoming request is a Request with a null body for GET", (request) => {
  assert(request instanceof Request);
  assertEquals(request.method, "GET");
  assertEquals(request.body, null);
  assertEquals(new URL(request.url).searchParams.get("x"), "1");
});

export default { fetch: run };
