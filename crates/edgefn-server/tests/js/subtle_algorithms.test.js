// W3C Web Cryptography: AES, PBKDF2, HKDF, ECDSA, ECDH, Ed25519 and X25519, with known answers
// from NIST SP 800-38A/D, RFC 3394, RFC 5869, RFC 6070, RFC 7748 and RFC 8032.
import { assert, assertEquals, assertRejects, run, test } from "./_harness.js";

const subtle = crypto.subtle;
const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (s) => new Uint8Array(s.match(/../g)?.map((b) => parseInt(b, 16)) ?? []);
const enc = (s) => new TextEncoder().encode(s);
const rejectsWith = async (fn, name) => {
  try {
    await fn();
  } catch (error) {
    assertEquals(error.name, name, String(error && error.message));
    return;
  }
  throw new Error(`expected a ${name}`);
};

test("AES-GCM known answers (GCM spec test cases 2 and 3) and tamper detection", async () => {
  const zero = await subtle.importKey("raw", new Uint8Array(16), "AES-GCM", true, ["encrypt", "decrypt"]);
  assertEquals(zero.algorithm, { name: "AES-GCM", length: 128 });
  const ct = await subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, zero, new Uint8Array(16));
  assertEquals(hex(ct), "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf");
  const key = await subtle.importKey("raw", unhex("feffe9928665731c6d6a8f9467308308"), "aes-gcm", false, ["decrypt", "encrypt"]);
  assertEquals([...key.usages], ["encrypt", "decrypt"]);
  const iv = unhex("cafebabefacedbaddecaf888");
  const pt = unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255");
  const out = await subtle.encrypt({ name: "AES-GCM", iv }, key, pt);
  assertEquals(hex(out), "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985" + "4d5c2af327cd64a62cf35abd2ba6fab4");
  assertEquals(hex(await subtle.decrypt({ name: "AES-GCM", iv }, key, out)), hex(pt));
  const aad = enc("header");
  const sealed = await subtle.encrypt({ name: "AES-GCM", iv, additionalData: aad }, key, enc("hi"));
  assertEquals(new TextDecoder().decode(await subtle.decrypt({ name: "AES-GCM", iv, additionalData: aad }, key, sealed)), "hi");
  await rejectsWith(() => subtle.decrypt({ name: "AES-GCM", iv }, key, sealed), "OperationError");
  const bad = new Uint8Array(out).slice();
  bad[0] ^= 1;
  await rejectsWith(() => subtle.decrypt({ name: "AES-GCM", iv }, key, bad), "OperationError");
  await rejectsWith(() => subtle.decrypt({ name: "AES-GCM", iv }, key, new Uint8Array(5)), "OperationError");
  await rejectsWith(() => subtle.encrypt({ name: "AES-GCM", iv, tagLength: 100 }, key, pt), "OperationError");
  // Truncated tags are prefixes of the full tag, and are checked on decryption.
  for (const tagLength of [32, 64, 96, 104, 112, 120]) {
    const short = await subtle.encrypt({ name: "AES-GCM", iv, tagLength }, key, pt);
    assertEquals(hex(short), hex(out).slice(0, 128 + tagLength / 4));
    assertEquals(hex(await subtle.decrypt({ name: "AES-GCM", iv, tagLength }, key, short)), hex(pt));
    const forged = new Uint8Array(short).slice();
    forged[forged.length - 1] ^= 0x80;
    await rejectsWith(() => subtle.decrypt({ name: "AES-GCM", iv, tagLength }, key, forged), "OperationError");
    forged[forged.length - 1] ^= 0x80;
    forged[2] ^= 1;
    await rejectsWith(() => subtle.decrypt({ name: "AES-GCM", iv, tagLength }, key, forged), "OperationError");
  }
});

test("AES-CBC and AES-CTR known answers (SP 800-38A F.2.1, F.5.1)", async () => {
  const raw = unhex("2b7e151628aed2a6abf7158809cf4f3c");
  const cbc = await subtle.importKey("raw", raw, "AES-CBC", false, ["encrypt", "decrypt"]);
  const iv = unhex("000102030405060708090a0b0c0d0e0f");
  const block = unhex("6bc1bee22e409f96e93d7e117393172a");
  const ct = await subtle.encrypt({ name: "AES-CBC", iv }, cbc, block);
  assertEquals(ct.byteLength, 32); // one block plus PKCS#7 padding
  assertEquals(hex(ct).slice(0, 32), "7649abac8119b246cee98e9b12e9197d");
  assertEquals(hex(await subtle.decrypt({ name: "AES-CBC", iv }, cbc, ct)), hex(block));
  await rejectsWith(() => subtle.decrypt({ name: "AES-CBC", iv }, cbc, new Uint8Array(15)), "OperationError");
  await rejectsWith(() => subtle.encrypt({ name: "AES-CBC", iv: new Uint8Array(8) }, cbc, block), "OperationError");

  const ctr = await subtle.importKey("raw", raw, "AES-CTR", false, ["encrypt", "decrypt"]);
  const counter = unhex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
  const pt = unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51");
  const out = await subtle.encrypt({ name: "AES-CTR", counter, length: 64 }, ctr, pt);
  assertEquals(hex(out), "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff");
  assertEquals(hex(await subtle.decrypt({ name: "AES-CTR", counter, length: 64 }, ctr, out)), hex(pt));
  await rejectsWith(() => subtle.encrypt({ name: "AES-CTR", counter, length: 0 }, ctr, pt), "OperationError");
  // A 1-bit counter allows two blocks, not three.
  await rejectsWith(() => subtle.encrypt({ name: "AES-CTR", counter, length: 1 }, ctr, new Uint8Array(33)), "OperationError");
});

test("AES-KW (RFC 3394 4.1) and wrapKey/unwrapKey round trips", async () => {
  const kek = await subtle.importKey("raw", unhex("000102030405060708090a0b0c0d0e0f"), "AES-KW", false, ["wrapKey", "unwrapKey"]);
  const inner = await subtle.importKey("raw", unhex("00112233445566778899aabbccddeeff"), "AES-GCM", true, ["encrypt"]);
  const wrapped = await subtle.wrapKey("raw", inner, kek, "AES-KW");
  assertEquals(hex(wrapped), "1fa68b0a8112b447aef34bd8fb5a7b829d3e862371d2cfe5");
  const back = await subtle.unwrapKey("raw", wrapped, kek, "AES-KW", "AES-GCM", true, ["encrypt"]);
  assertEquals(hex(await subtle.exportKey("raw", back)), "00112233445566778899aabbccddeeff");
  const tampered = new Uint8Array(wrapped);
  tampered[3] ^= 1;
  await rejectsWith(() => subtle.unwrapKey("raw", tampered, kek, "AES-KW", "AES-GCM", true, ["encrypt"]), "OperationError");

  // JWK wrapped with AES-GCM, of an ECDSA private key.
  const gcm = await subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["wrapKey", "unwrapKey"]);
  const { privateKey } = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const blob = await subtle.wrapKey("jwk", privateKey, gcm, { name: "AES-GCM", iv });
  const unwrapped = await subtle.unwrapKey("jwk", blob, gcm, { name: "AES-GCM", iv },
    { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
  assertEquals(unwrapped.type, "private");
  assertEquals((await subtle.exportKey("jwk", unwrapped)).d, (await subtle.exportKey("jwk", privateKey)).d);
  const secret = await subtle.importKey("raw", new Uint8Array(16), "AES-CBC", false, ["encrypt"]);
  await rejectsWith(() => subtle.wrapKey("raw", secret, kek, "AES-KW"), "InvalidAccessError");
  await rejectsWith(() => subtle.wrapKey("raw", inner, gcm, "AES-KW"), "InvalidAccessError");
});

test("AES generateKey, JWK round trip and errors", async () => {
  const key = await subtle.generateKey({ name: "AES-CTR", length: 192 }, true, ["encrypt", "decrypt"]);
  assertEquals(key.algorithm, { name: "AES-CTR", length: 192 });
  const jwk = await subtle.exportKey("jwk", key);
  assertEquals([jwk.kty, jwk.alg, jwk.ext], ["oct", "A192CTR", true]);
  const again = await subtle.importKey("jwk", jwk, "AES-CTR", true, ["encrypt"]);
  assertEquals(hex(await subtle.exportKey("raw", again)), hex(await subtle.exportKey("raw", key)));
  await rejectsWith(() => subtle.importKey("jwk", jwk, "AES-GCM", true, ["encrypt"]), "DataError");
  await rejectsWith(() => subtle.generateKey({ name: "AES-GCM", length: 100 }, true, ["encrypt"]), "OperationError");
  await rejectsWith(() => subtle.generateKey({ name: "AES-GCM", length: 128 }, true, ["sign"]), "SyntaxError");
  await rejectsWith(() => subtle.generateKey({ name: "AES-GCM", length: 128 }, true, []), "SyntaxError");
  await rejectsWith(() => subtle.importKey("raw", new Uint8Array(17), "AES-GCM", true, ["encrypt"]), "DataError");
  await rejectsWith(() => subtle.importKey("spki", new Uint8Array(16), "AES-GCM", true, ["encrypt"]), "NotSupportedError");
  const encOnly = await subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["encrypt"]);
  await rejectsWith(() => subtle.decrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, encOnly, new Uint8Array(32)), "InvalidAccessError");
  await rejectsWith(() => subtle.encrypt({ name: "AES-CBC", iv: new Uint8Array(16) }, encOnly, new Uint8Array(1)), "InvalidAccessError");
  await rejectsWith(() => subtle.exportKey("raw", encOnly), "InvalidAccessError");
  await assertRejects(() => subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, {}, new Uint8Array(1)), TypeError);
});

test("PBKDF2 (RFC 6070) and HKDF (RFC 5869 case 1), deriveBits and deriveKey", async () => {
  const pw = await subtle.importKey("raw", enc("password"), "PBKDF2", false, ["deriveBits", "deriveKey"]);
  assertEquals(pw.algorithm, { name: "PBKDF2" });
  const bits = (iterations) => subtle.deriveBits({ name: "PBKDF2", hash: "SHA-1", salt: enc("salt"), iterations }, pw, 160);
  assertEquals(hex(await bits(1)), "0c60c80f961f0e71f3a9b524af6012062fe037a6");
  assertEquals(hex(await bits(2)), "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
  assertEquals(hex(await bits(4096)), "4b007901b765489abead49d926f721d065a429c1");
  await rejectsWith(() => bits(0), "OperationError");
  await rejectsWith(() => subtle.deriveBits({ name: "PBKDF2", hash: "SHA-1", salt: enc("salt"), iterations: 1 }, pw, 7), "OperationError");
  await rejectsWith(() => subtle.importKey("raw", enc("password"), "PBKDF2", true, ["deriveBits"]), "SyntaxError");
  await rejectsWith(() => subtle.generateKey("PBKDF2", false, ["deriveBits"]), "NotSupportedError");

  const ikm = await subtle.importKey("raw", new Uint8Array(22).fill(0x0b), "HKDF", false, ["deriveBits", "deriveKey"]);
  const hkdf = { name: "HKDF", hash: "SHA-256", salt: unhex("000102030405060708090a0b0c"), info: unhex("f0f1f2f3f4f5f6f7f8f9") };
  assertEquals(hex(await subtle.deriveBits(hkdf, ikm, 42 * 8)),
    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  await rejectsWith(() => subtle.deriveBits(hkdf, ikm, 255 * 32 * 8 + 8), "OperationError");
  await rejectsWith(() => subtle.deriveBits(hkdf, ikm, null), "OperationError");
  const aes = await subtle.deriveKey(hkdf, ikm, { name: "AES-GCM", length: 128 }, true, ["encrypt"]);
  assertEquals(hex(await subtle.exportKey("raw", aes)), "3cb25f25faacd57a90434f64d0362f2a");
  const mac = await subtle.deriveKey(hkdf, ikm, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  assertEquals(mac.algorithm.length, 512);
  await rejectsWith(() => subtle.deriveKey(hkdf, pw, { name: "AES-GCM", length: 128 }, true, ["encrypt"]), "InvalidAccessError");
});

test("Ed25519 (RFC 8032 test 1) in raw, jwk, spki and pkcs8", async () => {
  const seed = unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  const pubHex = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
  const pkcs8 = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20, ...seed]);
  const priv = await subtle.importKey("pkcs8", pkcs8, "Ed25519", true, ["sign"]);
  assertEquals([priv.type, priv.algorithm.name], ["private", "Ed25519"]);
  const sig = await subtle.sign("Ed25519", priv, new Uint8Array(0));
  assertEquals(hex(sig), "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  const pub = await subtle.importKey("raw", unhex(pubHex), { name: "ed25519" }, true, ["verify"]);
  assertEquals(pub.type, "public");
  assert(await subtle.verify("Ed25519", pub, sig, new Uint8Array(0)));
  assert(!(await subtle.verify("Ed25519", pub, sig, enc("x"))));
  assert(!(await subtle.verify("Ed25519", pub, new Uint8Array(10), new Uint8Array(0))));
  const jwk = await subtle.exportKey("jwk", priv);
  assertEquals([jwk.kty, jwk.crv, hex(Uint8Array.from(atob(jwk.x.replace(/-/g, "+").replace(/_/g, "/") + "="), (c) => c.charCodeAt(0)))], ["OKP", "Ed25519", pubHex]);
  assertEquals(hex(await subtle.exportKey("pkcs8", priv)), hex(pkcs8));
  const spki = await subtle.exportKey("spki", pub);
  assertEquals(hex(spki), "302a300506032b6570032100" + pubHex);
  const fromSpki = await subtle.importKey("spki", spki, "Ed25519", true, ["verify"]);
  assertEquals(hex(await subtle.exportKey("raw", fromSpki)), pubHex);
  const fromJwk = await subtle.importKey("jwk", jwk, "Ed25519", false, ["sign"]);
  assertEquals(hex(await subtle.sign("Ed25519", fromJwk, new Uint8Array(0))), hex(sig));
  const { x } = jwk;
  await rejectsWith(() => subtle.importKey("jwk", { ...jwk, x: jwk.d }, "Ed25519", false, ["sign"]), "DataError");
  await rejectsWith(() => subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", x }, "Ed25519", false, ["sign"]), "SyntaxError");
  await rejectsWith(() => subtle.importKey("raw", seed, "Ed25519", false, ["sign"]), "SyntaxError");
  await rejectsWith(() => subtle.importKey("raw", new Uint8Array(31), "Ed25519", false, ["verify"]), "DataError");
  await rejectsWith(() => subtle.sign("Ed25519", pub, enc("x")), "InvalidAccessError");
  await rejectsWith(() => subtle.exportKey("raw", priv), "InvalidAccessError");
  await rejectsWith(() => subtle.exportKey("pkcs8", pub), "InvalidAccessError");

  const pair = await subtle.generateKey("Ed25519", false, ["sign", "verify"]);
  assertEquals([pair.publicKey.extractable, pair.privateKey.extractable], [true, false]);
  assertEquals([[...pair.publicKey.usages], [...pair.privateKey.usages]], [["verify"], ["sign"]]);
  const s = await subtle.sign({ name: "Ed25519" }, pair.privateKey, enc("hello"));
  assert(await subtle.verify("Ed25519", pair.publicKey, s, enc("hello")));
});

test("X25519 (RFC 7748 6.1) deriveBits, deriveKey and formats", async () => {
  const alice = unhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const bobPub = unhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const pkcs8 = new Uint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20, ...alice]);
  const priv = await subtle.importKey("pkcs8", pkcs8, "X25519", true, ["deriveBits", "deriveKey"]);
  const pub = await subtle.importKey("raw", bobPub, "X25519", true, []);
  const shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";
  assertEquals(hex(await subtle.deriveBits({ name: "X25519", public: pub }, priv, 256)), shared);
  assertEquals(hex(await subtle.deriveBits({ name: "X25519", public: pub }, priv, null)), shared);
  assertEquals(hex(await subtle.deriveBits({ name: "X25519", public: pub }, priv, 12)), "4a50");
  await rejectsWith(() => subtle.deriveBits({ name: "X25519", public: pub }, priv, 264), "OperationError");
  const jwk = await subtle.exportKey("jwk", priv);
  assertEquals(hex(Uint8Array.from(atob(jwk.x.replace(/-/g, "+").replace(/_/g, "/") + "="), (c) => c.charCodeAt(0))),
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  const again = await subtle.importKey("jwk", jwk, "X25519", false, ["deriveBits"]);
  assertEquals(hex(await subtle.deriveBits({ name: "X25519", public: pub }, again, 256)), shared);
  const aes = await subtle.deriveKey({ name: "X25519", public: pub }, priv, { name: "AES-GCM", length: 256 }, true, ["encrypt"]);
  assertEquals(hex(await subtle.exportKey("raw", aes)), shared);
  // All-zero shared secret (small-order point) is an OperationError.
  const zero = await subtle.importKey("raw", new Uint8Array(32), "X25519", true, []);
  await rejectsWith(() => subtle.deriveBits({ name: "X25519", public: zero }, priv, 256), "OperationError");
  await rejectsWith(() => subtle.importKey("raw", bobPub, "X25519", true, ["deriveBits"]), "SyntaxError");
  await rejectsWith(() => subtle.deriveBits({ name: "X25519", public: priv }, priv, 256), "InvalidAccessError");
  const spki = await subtle.exportKey("spki", pub);
  assertEquals(hex(spki).slice(0, 24), "302a300506032b656e032100");
  const pair = await subtle.generateKey("X25519", true, ["deriveBits"]);
  assertEquals([...pair.publicKey.usages], []);
  const a = await subtle.deriveBits({ name: "X25519", public: pub }, pair.privateKey, 256);
  assertEquals(a.byteLength, 32);
});

test("ECDSA on P-256 and P-384: sign/verify and every format", async () => {
  for (const [curve, size, hash] of [["P-256", 32, "SHA-256"], ["P-384", 48, "SHA-384"]]) {
    const { publicKey, privateKey } = await subtle.generateKey({ name: "ECDSA", namedCurve: curve }, true, ["sign", "verify"]);
    assertEquals(publicKey.algorithm, { name: "ECDSA", namedCurve: curve });
    assertEquals([publicKey.type, privateKey.type], ["public", "private"]);
    const sig = await subtle.sign({ name: "ECDSA", hash }, privateKey, enc("message"));
    assertEquals(sig.byteLength, 2 * size);
    assert(await subtle.verify({ name: "ECDSA", hash }, publicKey, sig, enc("message")));
    assert(!(await subtle.verify({ name: "ECDSA", hash }, publicKey, sig, enc("other"))));
    assert(!(await subtle.verify({ name: "ECDSA", hash: "SHA-512" }, publicKey, sig, enc("message"))));
    for (const other of ["SHA-1", "SHA-256", "SHA-384", "SHA-512"]) {
      const s = await subtle.sign({ name: "ECDSA", hash: other }, privateKey, enc("m"));
      assert(await subtle.verify({ name: "ECDSA", hash: other }, publicKey, s, enc("m")), `${curve} ${other}`);
    }

    const raw = await subtle.exportKey("raw", publicKey);
    assertEquals(raw.byteLength, 1 + 2 * size);
    const spki = await subtle.exportKey("spki", publicKey);
    const pkcs8 = await subtle.exportKey("pkcs8", privateKey);
    const jwk = await subtle.exportKey("jwk", privateKey);
    assertEquals([jwk.kty, jwk.crv, jwk.alg], ["EC", curve, curve === "P-256" ? "ES256" : "ES384"]);
    const alg = { name: "ECDSA", namedCurve: curve };
    const fromRaw = await subtle.importKey("raw", raw, alg, true, ["verify"]);
    const fromSpki = await subtle.importKey("spki", spki, alg, true, ["verify"]);
    const fromPkcs8 = await subtle.importKey("pkcs8", pkcs8, alg, true, ["sign"]);
    const fromJwk = await subtle.importKey("jwk", jwk, alg, true, ["sign"]);
    const pubJwk = await subtle.importKey("jwk", { kty: "EC", crv: curve, x: jwk.x, y: jwk.y }, alg, true, ["verify"]);
    assertEquals(hex(await subtle.exportKey("spki", fromRaw)), hex(spki));
    assertEquals(hex(await subtle.exportKey("raw", fromSpki)), hex(raw));
    assertEquals(hex(await subtle.exportKey("pkcs8", fromJwk)), hex(pkcs8));
    const s2 = await subtle.sign({ name: "ECDSA", hash }, fromPkcs8, enc("x"));
    assert(await subtle.verify({ name: "ECDSA", hash }, pubJwk, s2, enc("x")));
    await rejectsWith(() => subtle.importKey("raw", raw, { name: "ECDSA", namedCurve: curve === "P-256" ? "P-384" : "P-256" }, true, ["verify"]), "DataError");
    await rejectsWith(() => subtle.importKey("jwk", { ...jwk, crv: "P-999" }, alg, true, ["sign"]), "DataError");
    await rejectsWith(() => subtle.importKey("jwk", { ...jwk, d: jwk.x }, alg, true, ["sign"]), "DataError");
    await rejectsWith(() => subtle.importKey("spki", pkcs8, alg, true, ["verify"]), "DataError");
    await rejectsWith(() => subtle.importKey("raw", raw, alg, true, ["sign"]), "SyntaxError");
    await rejectsWith(() => subtle.sign({ name: "ECDSA", hash }, publicKey, enc("x")), "InvalidAccessError");
  }
  await rejectsWith(() => subtle.generateKey({ name: "ECDSA", namedCurve: "P-521" }, true, ["sign"]), "NotSupportedError");
  await rejectsWith(() => subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["encrypt"]), "SyntaxError");
});

test("ECDH on P-256 and P-384: both sides agree", async () => {
  for (const curve of ["P-256", "P-384"]) {
    const alg = { name: "ECDH", namedCurve: curve };
    const a = await subtle.generateKey(alg, true, ["deriveBits", "deriveKey"]);
    const b = await subtle.generateKey(alg, true, ["deriveBits"]);
    assertEquals([...a.publicKey.usages], []);
    const ab = await subtle.deriveBits({ name: "ECDH", public: b.publicKey }, a.privateKey, null);
    const ba = await subtle.deriveBits({ name: "ECDH", public: a.publicKey }, b.privateKey, null);
    assertEquals(ab.byteLength, curve === "P-256" ? 32 : 48);
    assertEquals(hex(ab), hex(ba));
    const imported = await subtle.importKey("jwk", await subtle.exportKey("jwk", b.publicKey), alg, true, []);
    assertEquals(hex(await subtle.deriveBits({ name: "ECDH", public: imported }, a.privateKey, 128)), hex(ab).slice(0, 32));
    const key = await subtle.deriveKey({ name: "ECDH", public: b.publicKey }, a.privateKey, { name: "HMAC", hash: "SHA-256", length: 256 }, true, ["sign"]);
    assertEquals(hex(await subtle.exportKey("raw", key)), hex(ab).slice(0, 64));
    const pkcs8 = await subtle.exportKey("pkcs8", a.privateKey);
    const again = await subtle.importKey("pkcs8", pkcs8, alg, false, ["deriveBits"]);
    assertEquals(hex(await subtle.deriveBits({ name: "ECDH", public: b.publicKey }, again, null)), hex(ab));
  }
  const p256 = await subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
  const p384 = await subtle.generateKey({ name: "ECDH", namedCurve: "P-384" }, true, ["deriveBits"]);
  await rejectsWith(() => subtle.deriveBits({ name: "ECDH", public: p384.publicKey }, p256.privateKey, null), "InvalidAccessError");
  const ecdsa = await subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
  await rejectsWith(() => subtle.deriveBits({ name: "ECDH", public: ecdsa.publicKey }, p256.privateKey, null), "InvalidAccessError");
});

test("RSASSA-PKCS1-v1_5 and RSA-PSS: sign/verify and every format", async () => {
  const e = new Uint8Array([1, 0, 1]);
  for (const [name, params] of [["RSASSA-PKCS1-v1_5", {}], ["RSA-PSS", { saltLength: 32 }]]) {
    const alg = { name, modulusLength: 1024, publicExponent: e, hash: "SHA-256" };
    const { publicKey, privateKey } = await subtle.generateKey(alg, true, ["sign", "verify"]);
    assertEquals(publicKey.algorithm.modulusLength, 1024);
    assertEquals([...publicKey.algorithm.publicExponent], [1, 0, 1]);
    assertEquals(publicKey.algorithm.hash, { name: "SHA-256" });
    const sig = await subtle.sign({ name, ...params }, privateKey, enc("message"));
    assertEquals(sig.byteLength, 128);
    assert(await subtle.verify({ name, ...params }, publicKey, sig, enc("message")));
    assert(!(await subtle.verify({ name, ...params }, publicKey, sig, enc("massage"))));
    assert(!(await subtle.verify({ name, ...params }, publicKey, new Uint8Array(128), enc("message"))));

    const spki = await subtle.exportKey("spki", publicKey);
    const pkcs8 = await subtle.exportKey("pkcs8", privateKey);
    const jwk = await subtle.exportKey("jwk", privateKey);
    const pubJwk = await subtle.exportKey("jwk", publicKey);
    assertEquals([jwk.kty, jwk.alg, pubJwk.e], ["RSA", name === "RSA-PSS" ? "PS256" : "RS256", "AQAB"]);
    assertEquals(pubJwk.d, undefined);
    const importAlg = { name, hash: "SHA-256" };
    const fromSpki = await subtle.importKey("spki", spki, importAlg, true, ["verify"]);
    const fromPkcs8 = await subtle.importKey("pkcs8", pkcs8, importAlg, true, ["sign"]);
    const fromJwk = await subtle.importKey("jwk", jwk, importAlg, true, ["sign"]);
    const fromPubJwk = await subtle.importKey("jwk", pubJwk, importAlg, true, ["verify"]);
    assertEquals(fromPkcs8.algorithm.modulusLength, 1024);
    assertEquals(hex(await subtle.exportKey("pkcs8", fromJwk)), hex(pkcs8));
    assertEquals(hex(await subtle.exportKey("spki", fromPubJwk)), hex(spki));
    const s2 = await subtle.sign({ name, ...params }, fromPkcs8, enc("x"));
    assert(await subtle.verify({ name, ...params }, fromSpki, s2, enc("x")));
    await rejectsWith(() => subtle.importKey("jwk", { ...jwk, dp: jwk.dq }, importAlg, true, ["sign"]), "DataError");
    await rejectsWith(() => subtle.importKey("jwk", jwk, { name, hash: "SHA-384" }, true, ["sign"]), "DataError");
    await rejectsWith(() => subtle.importKey("spki", pkcs8, importAlg, true, ["verify"]), "DataError");
    await rejectsWith(() => subtle.importKey("spki", spki, importAlg, true, ["sign"]), "SyntaxError");
    await rejectsWith(() => subtle.importKey("raw", spki, importAlg, true, ["verify"]), "NotSupportedError");
    await rejectsWith(() => subtle.exportKey("spki", privateKey), "InvalidAccessError");
    await rejectsWith(() => subtle.sign({ name, ...params }, publicKey, enc("x")), "InvalidAccessError");
  }
  const pss = await subtle.generateKey({ name: "RSA-PSS", modulusLength: 1024, publicExponent: e, hash: "SHA-1" }, false, ["sign", "verify"]);
  await assertRejects(() => subtle.sign({ name: "RSA-PSS" }, pss.privateKey, enc("x")), TypeError);
  const sig = await subtle.sign({ name: "RSA-PSS", saltLength: 0 }, pss.privateKey, enc("x"));
  assert(await subtle.verify({ name: "RSA-PSS", saltLength: 0 }, pss.publicKey, sig, enc("x")));
  assert(!(await subtle.verify({ name: "RSA-PSS", saltLength: 20 }, pss.publicKey, sig, enc("x"))));
  await rejectsWith(() => subtle.generateKey({ name: "RSA-PSS", modulusLength: 1024, publicExponent: e, hash: "SHA-1" }, false, ["encrypt"]), "SyntaxError");
});

test("RSA-OAEP: encrypt/decrypt with labels and key wrapping", async () => {
  const alg = { name: "RSA-OAEP", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" };
  const { publicKey, privateKey } = await subtle.generateKey(alg, true, ["encrypt", "decrypt", "wrapKey", "unwrapKey"]);
  assertEquals([...publicKey.usages], ["encrypt", "wrapKey"]);
  assertEquals([...privateKey.usages], ["decrypt", "unwrapKey"]);
  const ct = await subtle.encrypt({ name: "RSA-OAEP", label: enc("L") }, publicKey, enc("secret"));
  assertEquals(ct.byteLength, 256);
  assertEquals(new TextDecoder().decode(await subtle.decrypt({ name: "RSA-OAEP", label: enc("L") }, privateKey, ct)), "secret");
  await rejectsWith(() => subtle.decrypt({ name: "RSA-OAEP" }, privateKey, ct), "OperationError");
  await rejectsWith(() => subtle.encrypt({ name: "RSA-OAEP" }, publicKey, new Uint8Array(300)), "OperationError");
  await rejectsWith(() => subtle.encrypt({ name: "RSA-OAEP" }, privateKey, enc("x")), "InvalidAccessError");
  const jwk = await subtle.exportKey("jwk", publicKey);
  assertEquals(jwk.alg, "RSA-OAEP-256");
  const aes = await subtle.generateKey({ name: "AES-GCM", length: 128 }, true, ["encrypt"]);
  const wrapped = await subtle.wrapKey("raw", aes, publicKey, { name: "RSA-OAEP" });
  const back = await subtle.unwrapKey("raw", wrapped, privateKey, { name: "RSA-OAEP" }, "AES-GCM", true, ["encrypt"]);
  assertEquals(hex(await subtle.exportKey("raw", back)), hex(await subtle.exportKey("raw", aes)));
  await rejectsWith(() => subtle.generateKey({ ...alg, modulusLength: 100 }, true, ["encrypt", "decrypt"]), "OperationError");
});

test("unsupported algorithms reject with NotSupportedError", async () => {
  await rejectsWith(() => subtle.generateKey("Ed448", true, ["sign"]), "NotSupportedError");
  await rejectsWith(() => subtle.generateKey({ name: "ECDH", namedCurve: "P-521" }, true, ["deriveBits"]), "NotSupportedError");
  const gcm = await subtle.generateKey({ name: "AES-GCM", length: 128 }, false, ["encrypt"]);
  await rejectsWith(() => subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(16) }, gcm, enc("x")), "NotSupportedError");
  await rejectsWith(() => subtle.sign({ name: "AES-GCM" }, {}, enc("x")), "NotSupportedError");
  await rejectsWith(() => subtle.digest("AES-GCM", enc("x")), "NotSupportedError");
});

test("replacing CryptoKey getters does not change what a key allows", async () => {
  const key = await subtle.importKey("raw", new Uint8Array(16), "AES-GCM", false, ["encrypt"]);
  const proto = CryptoKey.prototype;
  const saved = Object.getOwnPropertyDescriptors(proto);
  try {
    Object.defineProperty(proto, "extractable", { get: () => true, configurable: true });
    Object.defineProperty(proto, "usages", { get: () => ["encrypt", "decrypt"], configurable: true });
    await rejectsWith(() => subtle.exportKey("raw", key), "InvalidAccessError");
    await rejectsWith(() => subtle.decrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, key, new Uint8Array(32)), "InvalidAccessError");
  } finally {
    Object.defineProperties(proto, { extractable: saved.extractable, usages: saved.usages });
  }
  assertEquals(key.extractable, false);
  assert(Object.isFrozen(key.algorithm) && Object.isFrozen(key.usages));
});

export default { fetch: run };
