// The rarely used part of the Web layer is loaded into an isolate on first use
// (js/29_extension.js). Its interfaces must look the same before and after,
// and loading it late must not pick up globals a tenant replaced meanwhile.
// The tests run in order in a fresh isolate: the first ones run before
// anything loads the extension. (The same for inspect: tests/handlers.rs.)
import { assert, assertEquals, run, test } from "./_harness.js";

const EXTENSION_INTERFACES = [
  "Blob", "File", "FormData", "MessageChannel", "MessagePort", "MessageEvent",
  "ReadableByteStreamController", "ReadableStreamBYOBRequest", "ReadableStreamBYOBReader",
  "WritableStream", "WritableStreamDefaultWriter", "WritableStreamDefaultController",
  "TransformStream", "TransformStreamDefaultController", "ByteLengthQueuingStrategy",
  "CountQueuingStrategy", "TextEncoderStream", "TextDecoderStream", "URLPattern",
  "CompressionStream", "DecompressionStream", "CryptoKey", "SubtleCrypto",
];

test("every interface of the extension is a global before it loads", () => {
  for (const name of EXTENSION_INTERFACES) {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, name);
    assert(descriptor !== undefined, `${name} is missing`);
    assertEquals(descriptor.enumerable, false, `${name} is not enumerable`);
    assertEquals(descriptor.configurable, true, `${name} is configurable`);
  }
  const clone = Object.getOwnPropertyDescriptor(globalThis, "structuredClone");
  assertEquals(typeof clone.value, "function");
  assertEquals([clone.value.name, clone.value.length], ["structuredClone", 1]);
});

test("a tenant's replaced globals do not reach the extension when it loads late", async () => {
  const saved = { WeakMap, RegExp, btoa, atob };
  globalThis.WeakMap = function () { throw new Error("tenant WeakMap"); };
  globalThis.RegExp = function () { throw new Error("tenant RegExp"); };
  globalThis.btoa = globalThis.atob = () => "!tenant!";
  try {
    const key = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
    const jwk = await crypto.subtle.exportKey("jwk", key);
    assertEquals(jwk.kty, "oct");
    assert(/^[A-Za-z0-9_-]+$/.test(jwk.k), jwk.k);
    assert(new URLPattern({ pathname: "/books/:id" }).test("https://x.test/books/1"));
  } finally {
    Object.assign(globalThis, saved);
  }
});

test("the core and the extension share their objects", async () => {
  const blob = await new Response("body").blob();
  assertEquals([blob instanceof Blob, blob.size, await blob.text()], [true, 4, "body"]);
  const form = new FormData();
  form.append("a", "1");
  assertEquals(await new Response(form).formData().then((f) => f.get("a")), "1");
  const copy = structuredClone({ when: new Date(0), bytes: new Uint8Array([1, 2]) });
  assertEquals([copy.when.getTime(), [...copy.bytes]], [0, [1, 2]]);
  assertEquals(await new Response(new Blob(["x"]).stream()).text(), "x");
  assert(crypto.subtle instanceof SubtleCrypto);
});

export default { fetch: run };
