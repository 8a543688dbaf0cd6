// W3C Web Cryptography: SubtleCrypto digest and HMAC.
import { assert, assertEquals, assertRejects, run, test } from "./_harness.js";

const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
const enc = (s) => new TextEncoder().encode(s);

test("digest: SHA-1/256/384/512 known answers", async () => {
  assertEquals(hex(await crypto.subtle.digest("SHA-256", enc("abc"))),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assertEquals(hex(await crypto.subtle.digest({ name: "sha-1" }, enc("abc"))),
    "a9993e364706816aba3e25717850c26c9cd0d89d");
  assertEquals((await crypto.subtle.digest("SHA-384", new ArrayBuffer(0))).byteLength, 48);
  assertEquals((await crypto.subtle.digest("SHA-512", enc(""))).byteLength, 64);
  await assertRejects(() => crypto.subtle.digest("MD5", enc("x")), DOMException);
});

test("HMAC sign and verify (RFC 4231 case 2)", async () => {
  const key = await crypto.subtle.importKey("raw", enc("Jefe"), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
  assertEquals(key.type, "secret");
  assertEquals(key.algorithm, { name: "HMAC", hash: { name: "SHA-256" }, length: 32 });
  const mac = await crypto.subtle.sign("HMAC", key, enc("what do ya want for nothing?"));
  assertEquals(hex(mac), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  assert(await crypto.subtle.verify("HMAC", key, mac, enc("what do ya want for nothing?")));
  assert(!(await crypto.subtle.verify("HMAC", key, mac, enc("something else"))));
});

test("HMAC generateKey and JWK round trip", async () => {
  const key = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-512" }, true, ["sign"]);
  assertEquals(key.algorithm.length, 1024);
  const jwk = await crypto.subtle.exportKey("jwk", key);
  assertEquals([jwk.kty, jwk.alg], ["oct", "HS512"]);
  const again = await crypto.subtle.importKey("jwk", jwk, { name: "HMAC", hash: "SHA-512" }, true, ["sign"]);
  assertEquals(hex(await crypto.subtle.exportKey("raw", again)), hex(await crypto.subtle.exportKey("raw", key)));
});

test("errors: usages, extractability, unsupported algorithms", async () => {
  const key = await crypto.subtle.importKey("raw", enc("k"), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  await assertRejects(() => crypto.subtle.sign("HMAC", key, enc("x")), DOMException, "usages");
  await assertRejects(() => crypto.subtle.exportKey("raw", key), DOMException, "extractable");
  await assertRejects(() => crypto.subtle.importKey("raw", enc("k"), { name: "HMAC", hash: "SHA-256" }, false, ["encrypt"]), DOMException);
  await assertRejects(() => crypto.subtle.encrypt({ name: "X448" }, key, enc("x")), DOMException, "not supported");
  await assertRejects(() => crypto.subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, key, enc("x")), DOMException, "AES-GCM");
});

export default { fetch: run };
