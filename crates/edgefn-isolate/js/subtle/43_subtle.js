// 43_subtle.js
//
// SubtleCrypto (W3C Web Cryptography §14) on the host's RustCrypto: digest (SHA-1/256/384/512),
// HMAC, AES-GCM, AES-CBC, AES-CTR, AES-KW, PBKDF2, HKDF, ECDSA and ECDH on P-256 and P-384,
// Ed25519, X25519, RSASSA-PKCS1-v1_5, RSA-PSS and RSA-OAEP, with generateKey, importKey/exportKey (raw, jwk, pkcs8, spki where the
// spec allows), encrypt/decrypt, sign/verify, deriveBits/deriveKey and wrapKey/unwrapKey.
// ECDSA/ECDH on P-521, Ed448, X448 and anything else reject with NotSupportedError.
//
// Key material lives only here, in a WeakMap from CryptoKey to a record { raw } (secret keys),
// { priv, pub } (private keys) or { pub } (public keys) (RSA keys: PKCS#8 / SPKI DER, plus the
// modulus n and exponent e); the host sees it only for the duration
// of one call.

// Limits on host work a single call may ask for (host calls are not interruptible).
const SUBTLE_MAX_RSA_BITS = 8192;
const SUBTLE_MAX_PBKDF2_ITERATIONS = 5_000_000;

const SUBTLE_HASHES = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"];
const cryptoKeySecret = new WeakMapCtor(); // CryptoKey -> key material record

// The registered algorithms (§18.4 "supportedAlgorithms"), by their canonical casing. For each:
// `secret` usages of a secret key, or `pub`/`priv` usages of the key pair's halves.
const SUBTLE_ALGORITHMS = {
  __proto__: null,
  "HMAC": { secret: ["sign", "verify"] },
  "AES-GCM": { secret: ["encrypt", "decrypt", "wrapKey", "unwrapKey"] },
  "AES-CBC": { secret: ["encrypt", "decrypt", "wrapKey", "unwrapKey"] },
  "AES-CTR": { secret: ["encrypt", "decrypt", "wrapKey", "unwrapKey"] },
  "AES-KW": { secret: ["wrapKey", "unwrapKey"] },
  "PBKDF2": { secret: ["deriveBits", "deriveKey"], kdf: true },
  "HKDF": { secret: ["deriveBits", "deriveKey"], kdf: true },
  "ECDSA": { pub: ["verify"], priv: ["sign"], ec: true },
  "ECDH": { pub: [], priv: ["deriveBits", "deriveKey"], ec: true },
  "Ed25519": { pub: ["verify"], priv: ["sign"], okp: "ed" },
  "X25519": { pub: [], priv: ["deriveBits", "deriveKey"], okp: "x" },
  "RSASSA-PKCS1-v1_5": { pub: ["verify"], priv: ["sign"], rsa: "RS" },
  "RSA-PSS": { pub: ["verify"], priv: ["sign"], rsa: "PS" },
  "RSA-OAEP": { pub: ["encrypt", "wrapKey"], priv: ["decrypt", "unwrapKey"], rsa: "RSA-OAEP" },
};
const SUBTLE_KNOWN_NAMES = [...SUBTLE_HASHES, ...ObjectKeys(SUBTLE_ALGORITHMS), "Ed448", "X448"];
const SUBTLE_CURVES = { __proto__: null, "P-256": 32, "P-384": 48 };

function notSupported(what) {
  return newDOMException(`${what} is not supported`, "NotSupportedError");
}

function subtleError(context, message, name) {
  return newDOMException(`${context}: ${message}`, name);
}

// WebCrypto §18.4 "normalize an algorithm": a string is { name }; names match case-insensitively
// against the registered ones and take their registered casing.
function normalizeAlgorithm(algorithm, context) {
  const dict = typeof algorithm === "string" ? { name: algorithm } : algorithm;
  if (dict === null || typeof dict !== "object" || typeof dict.name !== "string") {
    throw new TypeErrorCtor(`${context}: the algorithm must be a string or an object with a name`);
  }
  const upper = dict.name.toUpperCase();
  const name = SUBTLE_KNOWN_NAMES.find((known) => known.toUpperCase() === upper) ?? upper;
  return { ...dict, name };
}

// Normalizes for one operation: only registered algorithms that support it are accepted.
function normalizeFor(algorithm, context, allowed) {
  const alg = normalizeAlgorithm(algorithm, context);
  if (!allowed.includes(alg.name)) throw notSupported(`${context}: ${alg.name}`);
  return alg;
}

function normalizeHash(hash, context) {
  if (hash === undefined) throw new TypeErrorCtor(`${context}: a hash is required`);
  const name = normalizeAlgorithm(hash, context).name;
  if (!SUBTLE_HASHES.includes(name)) throw notSupported(`${context}: the hash ${name}`);
  return name;
}

// HMAC's default key length: the hash's block size (WebCrypto §29.6 "get key length").
function hmacBlockBits(hash) {
  return hash === "SHA-384" || hash === "SHA-512" ? 1024 : 512;
}

function base64UrlEncode(bytes) {
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += StringFromCharCode(bytes[i]);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function base64UrlDecode(text, context, member = "k") {
  if (typeof text !== "string" || /[^A-Za-z0-9_-]/.test(text) || text.length % 4 === 1) {
    throw subtleError(context, `the JWK "${member}" is missing or not base64url`, "DataError");
  }
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = newUint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function bufferSourceCopy(data, context) {
  const view = bufferSourceView(data);
  if (view === null) throw new TypeErrorCtor(`${context}: expected an ArrayBuffer or ArrayBufferView`);
  return copyBytes(view);
}

function toArrayBuffer(u8) {
  return bytesToArrayBuffer(u8);
}

function subtleConcat(...parts) {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = newUint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function subtleBytesEqual(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// Calls a host operation; `null` (failure) becomes a DOMException named `failure`.
function subtleOp(op, name, numbers, buffers, context, failure) {
  const out = host.subtleOp(op, name, numbers, buffers);
  if (out === null) throw subtleError(context, `the ${op} operation failed`, failure);
  return out;
}

const cryptoKeyClass = once(() => {
  class CryptoKey {
    #type;
    #extractable;
    #algorithm;
    #usages;

    constructor(token = undefined, type, extractable, algorithm, usages) {
      if (token !== kInternal) throw new TypeErrorCtor("Illegal constructor");
      this.#type = type;
      this.#extractable = extractable;
      this.#algorithm = ObjectFreeze(algorithm);
      this.#usages = ObjectFreeze(usages);
    }

    get type() { return this.#type; }
    get extractable() { return this.#extractable; }
    get algorithm() { return this.#algorithm; }
    get usages() { return this.#usages; }
  }
  configureInterface(CryptoKey);
  return CryptoKey;
});

// §14.3.9 importKey steps 9-10 and §14.3.6 generateKey: every usage must be one the key type
// allows (SyntaxError), and a secret or private key needs at least one.
function subtleCheckUsages(usages, allowed, type, context) {
  if (!ArrayIsArray(usages)) throw new TypeErrorCtor(`${context}: usages must be an array`);
  for (const usage of usages) {
    if (!allowed.includes(usage)) {
      throw subtleError(context, `this key cannot be used to ${usage}`, "SyntaxError");
    }
  }
  if (type !== "public" && usages.length === 0) {
    throw subtleError(context, `a ${type} key needs at least one usage`, "SyntaxError");
  }
}

function subtleMakeKey(type, extractable, algorithm, usages, material) {
  const CryptoKey = cryptoKeyClass();
  // Usages are kept in the spec's order without duplicates (§14.3 "normalize usages").
  const order = ["encrypt", "decrypt", "sign", "verify", "deriveKey", "deriveBits", "wrapKey", "unwrapKey"];
  const normalized = order.filter((usage) => usages.includes(usage));
  if (algorithm.hash !== undefined) algorithm.hash = ObjectFreeze({ ...algorithm.hash });
  const frozenAlgorithm = ObjectFreeze(algorithm);
  const frozenUsages = ObjectFreeze(normalized);
  const key = new CryptoKey(kInternal, type, !!extractable, frozenAlgorithm, frozenUsages);
  // The internal slots (§13.2) are read from here, never through the (replaceable) getters.
  material.type = type;
  material.extractable = !!extractable;
  material.algorithm = frozenAlgorithm;
  material.usages = frozenUsages;
  ReflectApply(WeakMapPrototypeSet, cryptoKeySecret, [key, material]);
  return key;
}

function materialOf(key, context) {
  const material = ReflectApply(WeakMapPrototypeGet, cryptoKeySecret, [key]);
  if (material === undefined) throw new TypeErrorCtor(`${context}: the key is not a CryptoKey`);
  return material;
}

// The checks every operation makes on its key: the algorithm it was made for (§14.3.x step
// "If the name member of normalizedAlgorithm is not equal to the name attribute of the
// [[algorithm]] internal slot of key then throw an InvalidAccessError") and the usage.
function keyFor(key, algName, usage, context) {
  const material = materialOf(key, context);
  if (material.algorithm.name !== algName) {
    throw subtleError(context, `the key is a ${material.algorithm.name} key, not ${algName}`, "InvalidAccessError");
  }
  if (usage !== undefined && !material.usages.includes(usage)) {
    throw subtleError(context, `the key's usages do not include ${usage}`, "InvalidAccessError");
  }
  return material;
}

// --- DER for the Curve25519 keys (RFC 8410): fixed prefixes before the 32 key bytes ---

function okpOid(name) {
  return name === "Ed25519" ? 0x70 : 0x6e;
}

function okpSpki(name, pub) {
  return subtleConcat(newUint8Array([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, okpOid(name), 0x03, 0x21, 0x00]), pub);
}

function okpPkcs8(name, priv) {
  return subtleConcat(newUint8Array([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, okpOid(name), 0x04, 0x22, 0x04, 0x20]), priv);
}

function okpFromDer(der, template, context) {
  const prefix = template.subarray(0, template.length - 32);
  if (der.length !== template.length || !subtleBytesEqual(der.subarray(0, prefix.length), prefix)) {
    throw subtleError(context, "the key data is not a valid key of this algorithm", "DataError");
  }
  return der.slice(prefix.length);
}

// --- import (§14.3.9 and each algorithm's "import key") ---

function jwkCommonChecks(jwk, kty, extractable, usages, use, context) {
  if (jwk.kty !== kty) throw subtleError(context, `the JWK "kty" must be "${kty}"`, "DataError");
  if (jwk.use !== undefined && usages.length > 0 && jwk.use !== use) {
    throw subtleError(context, `the JWK "use" must be "${use}"`, "DataError");
  }
  if (jwk.key_ops !== undefined) {
    if (!ArrayIsArray(jwk.key_ops) || !usages.every((usage) => jwk.key_ops.includes(usage))) {
      throw subtleError(context, "the JWK \"key_ops\" do not allow these usages", "DataError");
    }
  }
  if (jwk.ext === false && extractable) {
    throw subtleError(context, "the JWK is not extractable", "DataError");
  }
}

const AES_JWK_SUFFIX = { __proto__: null, "AES-GCM": "GCM", "AES-CBC": "CBC", "AES-CTR": "CTR", "AES-KW": "KW" };
const HMAC_JWK_ALG = { __proto__: null, "SHA-1": "HS1", "SHA-256": "HS256", "SHA-384": "HS384", "SHA-512": "HS512" };

function importSecret(format, keyData, alg, extractable, usages, context) {
  const info = SUBTLE_ALGORITHMS[alg.name];
  // Each algorithm's "import key" step 1: usages outside the allowed set are a SyntaxError.
  subtleCheckUsages(usages, info.secret, "public", context);
  let bytes;
  let jwk;
  if (format === "raw") {
    bytes = bufferSourceCopy(keyData, context);
  } else if (format === "jwk" && !info.kdf) {
    jwk = keyData;
    jwkCommonChecks(jwk, "oct", extractable, usages, alg.name === "HMAC" ? "sig" : "enc", context);
    bytes = base64UrlDecode(jwk.k, context);
  } else {
    throw notSupported(`${context}: the ${format} format for ${alg.name}`);
  }
  subtleCheckUsages(usages, info.secret, "secret", context);
  if (alg.name === "HMAC") {
    const hash = normalizeHash(alg.hash, context);
    if (jwk !== undefined && jwk.alg !== undefined && jwk.alg !== HMAC_JWK_ALG[hash]) {
      throw subtleError(context, `the JWK "alg" does not match ${hash}`, "DataError");
    }
    if (bytes.length === 0) throw subtleError(context, "the key is empty", "DataError");
    let length = bytes.length * 8;
    if (alg.length !== undefined) {
      // §29.6 import key: a length may drop at most the last byte's bits.
      length = NumberCtor(alg.length);
      if (!(length <= bytes.length * 8 && length > (bytes.length - 1) * 8)) {
        throw subtleError(context, "the length does not match the key data", "DataError");
      }
    }
    return subtleMakeKey("secret", extractable, { name: "HMAC", hash: { name: hash }, length }, usages, { raw: bytes });
  }
  if (info.kdf) {
    // §30.4/§31.4 import key: KDF keys are raw and never extractable.
    if (extractable) throw subtleError(context, `a ${alg.name} key cannot be extractable`, "SyntaxError");
    return subtleMakeKey("secret", false, { name: alg.name }, usages, { raw: bytes });
  }
  if (bytes.length !== 16 && bytes.length !== 24 && bytes.length !== 32) {
    throw subtleError(context, "an AES key is 128, 192 or 256 bits long", "DataError");
  }
  if (jwk !== undefined && jwk.alg !== undefined && jwk.alg !== `A${bytes.length * 8}${AES_JWK_SUFFIX[alg.name]}`) {
    throw subtleError(context, "the JWK \"alg\" does not match the key", "DataError");
  }
  return subtleMakeKey("secret", extractable, { name: alg.name, length: bytes.length * 8 }, usages, { raw: bytes });
}

function asymAlgorithmDict(alg, curve) {
  return SUBTLE_ALGORITHMS[alg.name].ec ? { name: alg.name, namedCurve: curve } : { name: alg.name };
}

function importAsymmetric(format, keyData, alg, extractable, usages, context) {
  const info = SUBTLE_ALGORITHMS[alg.name];
  let curve = alg.name;
  if (info.ec) {
    curve = alg.namedCurve;
    if (typeof curve !== "string") throw new TypeErrorCtor(`${context}: a namedCurve is required`);
    if (SUBTLE_CURVES[curve] === undefined) throw notSupported(`${context}: the curve ${curve}`);
  }
  const fail = (what) => subtleError(context, what, "DataError");
  // §23.4/§33.4 import key: usages are checked against the key type before the key data.
  const early = format === "pkcs8" || (format === "jwk" && keyData !== null && typeof keyData === "object" && keyData.d !== undefined)
    ? "private" : "public";
  subtleCheckUsages(usages, early === "public" ? info.pub : info.priv, "public", context);
  let type;
  let material;
  if (format === "jwk") {
    const jwk = keyData;
    if (jwk === null || typeof jwk !== "object") throw new TypeErrorCtor(`${context}: a JWK must be an object`);
    jwkCommonChecks(jwk, info.ec ? "EC" : "OKP", extractable, usages, alg.name === "ECDSA" || alg.name === "Ed25519" ? "sig" : "enc", context);
    if (jwk.crv !== curve) throw fail(`the JWK "crv" must be "${curve}"`);
    type = jwk.d !== undefined ? "private" : "public";
    if (info.ec) {
      const size = SUBTLE_CURVES[curve];
      if (alg.name === "ECDSA" && jwk.alg !== undefined && jwk.alg !== (curve === "P-256" ? "ES256" : "ES384")) {
        throw fail("the JWK \"alg\" does not match the curve");
      }
      const x = base64UrlDecode(jwk.x, context, "x");
      const y = base64UrlDecode(jwk.y, context, "y");
      if (x.length !== size || y.length !== size) throw fail("the JWK point has the wrong size");
      const point = subtleConcat(newUint8Array([4]), x, y);
      if (type === "private") {
        const d = base64UrlDecode(jwk.d, context, "d");
        const [priv, pub] = subtleOp("ec-private-raw", curve, [], [d, point], context, "DataError");
        material = { priv, pub };
      } else {
        material = { pub: subtleOp("ec-public-raw", curve, [], [point], context, "DataError") };
      }
    } else {
      if (alg.name === "Ed25519" && jwk.alg !== undefined && jwk.alg !== "Ed25519" && jwk.alg !== "EdDSA") {
        throw fail("the JWK \"alg\" must be Ed25519 or EdDSA");
      }
      const x = base64UrlDecode(jwk.x, context, "x");
      if (x.length !== 32) throw fail("the JWK \"x\" must be 32 bytes");
      if (type === "private") {
        const d = base64UrlDecode(jwk.d, context, "d");
        if (d.length !== 32) throw fail("the JWK \"d\" must be 32 bytes");
        const pub = subtleOp(`${info.okp}-public`, "", [], [d], context, "DataError");
        if (!subtleBytesEqual(pub, x)) throw fail("the JWK \"x\" does not match \"d\"");
        material = { priv: d, pub };
      } else {
        if (info.okp === "ed") subtleOp("ed-check-public", "", [], [x], context, "DataError");
        material = { pub: x };
      }
    }
  } else {
    const data = bufferSourceCopy(keyData, context);
    if (format === "raw" || format === "spki") {
      type = "public";
      if (info.ec) {
        const op = format === "raw" ? "ec-public-raw" : "ec-import-spki";
        material = { pub: subtleOp(op, curve, [], [data], context, "DataError") };
      } else {
        const pub = format === "raw" ? data : okpFromDer(data, okpSpki(alg.name, newUint8Array(32)), context);
        if (pub.length !== 32) throw fail("the key must be 32 bytes");
        if (info.okp === "ed") subtleOp("ed-check-public", "", [], [pub], context, "DataError");
        material = { pub };
      }
    } else if (format === "pkcs8") {
      type = "private";
      if (info.ec) {
        const [priv, pub] = subtleOp("ec-import-pkcs8", curve, [], [data], context, "DataError");
        material = { priv, pub };
      } else {
        const priv = okpFromDer(data, okpPkcs8(alg.name, newUint8Array(32)), context);
        material = { priv, pub: subtleOp(`${info.okp}-public`, "", [], [priv], context, "DataError") };
      }
    } else {
      throw notSupported(`${context}: the ${format} format for ${alg.name}`);
    }
  }
  subtleCheckUsages(usages, type === "public" ? info.pub : info.priv, type, context);
  return subtleMakeKey(type, extractable, asymAlgorithmDict(alg, curve), usages, material);
}

// --- RSA (§20-§22): keys as DER, the algorithm dictionary from the modulus ---

function rsaJwkAlg(name, hash) {
  const bits = hash.slice(4);
  if (name === "RSA-OAEP") return hash === "SHA-1" ? "RSA-OAEP" : `RSA-OAEP-${bits}`;
  return `${SUBTLE_ALGORITHMS[name].rsa}${hash === "SHA-1" ? "1" : bits}`;
}

function rsaBitLength(n) {
  let bits = n.length * 8;
  for (let top = n[0]; top < 0x80 && bits > 0; top <<= 1) bits--;
  return bits;
}

// Adds n and e to a material record, from its SPKI.
function rsaWithInfo(material, context) {
  const [n, e] = subtleOp("rsa-info", "", [], [material.pub], context, "DataError");
  return { ...material, n, e };
}

function rsaAlgorithmDict(name, hash, material) {
  return { name, modulusLength: rsaBitLength(material.n), publicExponent: copyBytes(material.e), hash: { name: hash } };
}

const RSA_JWK_MEMBERS = ["n", "e", "d", "p", "q", "dp", "dq", "qi"];

function importRsa(format, keyData, alg, extractable, usages, context) {
  const info = SUBTLE_ALGORITHMS[alg.name];
  const hash = normalizeHash(alg.hash, context);
  const early = format === "pkcs8" || (format === "jwk" && keyData.d !== undefined) ? "private" : "public";
  subtleCheckUsages(usages, early === "public" ? info.pub : info.priv, "public", context);
  let material;
  if (format === "spki") {
    material = { pub: subtleOp("rsa-import-spki", "", [], [bufferSourceCopy(keyData, context)], context, "DataError") };
  } else if (format === "pkcs8") {
    const [priv, pub] = subtleOp("rsa-import-pkcs8", "", [], [bufferSourceCopy(keyData, context)], context, "DataError");
    material = { priv, pub };
  } else if (format === "jwk") {
    const jwk = keyData;
    jwkCommonChecks(jwk, "RSA", extractable, usages, alg.name === "RSA-OAEP" ? "enc" : "sig", context);
    if (jwk.alg !== undefined && jwk.alg !== rsaJwkAlg(alg.name, hash)) {
      throw subtleError(context, `the JWK "alg" does not match ${alg.name} with ${hash}`, "DataError");
    }
    if (jwk.oth !== undefined) throw notSupported(`${context}: multi-prime RSA keys`);
    const members = jwk.d === undefined ? RSA_JWK_MEMBERS.slice(0, 2) : RSA_JWK_MEMBERS;
    const parts = members.map((member) => base64UrlDecode(jwk[member], context, member));
    const out = subtleOp("rsa-from-jwk", "", [], parts, context, "DataError");
    material = jwk.d === undefined ? { pub: out } : { priv: out[0], pub: out[1] };
  } else {
    throw notSupported(`${context}: the ${format} format for ${alg.name}`);
  }
  const type = material.priv === undefined ? "public" : "private";
  subtleCheckUsages(usages, type === "public" ? info.pub : info.priv, type, context);
  material = rsaWithInfo(material, context);
  return subtleMakeKey(type, extractable, rsaAlgorithmDict(alg.name, hash, material), usages, material);
}

function exportRsa(format, key, material, base, context) {
  const isPublic = material.type === "public";
  if (format === "spki" && isPublic) return copyBytes(material.pub);
  if (format === "pkcs8" && !isPublic) return copyBytes(material.priv);
  if (format === "jwk") {
    const jwk = { kty: "RSA", alg: rsaJwkAlg(material.algorithm.name, material.algorithm.hash.name) };
    if (isPublic) {
      jwk.n = base64UrlEncode(material.n);
      jwk.e = base64UrlEncode(material.e);
    } else {
      const parts = subtleOp("rsa-export-jwk", "", [], [material.priv], context, "OperationError");
      for (let i = 0; i < RSA_JWK_MEMBERS.length; i++) jwk[RSA_JWK_MEMBERS[i]] = base64UrlEncode(parts[i]);
    }
    return { ...jwk, ...base };
  }
  if (format === "raw") throw notSupported(`${context}: the raw format for ${material.algorithm.name}`);
  throw subtleError(context, `a ${material.type} key cannot be exported as ${format}`, "InvalidAccessError");
}

function generateRsa(alg, extractable, usages, context) {
  const info = SUBTLE_ALGORITHMS[alg.name];
  const hash = normalizeHash(alg.hash, context);
  subtleCheckUsages(usages, [...info.pub, ...info.priv], "public", context);
  const bits = NumberCtor(alg.modulusLength);
  const exponent = bufferSourceView(alg.publicExponent);
  if (!(bits > 0) || exponent === null) {
    throw new TypeErrorCtor(`${context}: RSA needs a modulusLength and a publicExponent`);
  }
  const privUsages = usages.filter((usage) => info.priv.includes(usage));
  if (privUsages.length === 0) throw subtleError(context, "the private key needs at least one usage", "SyntaxError");
  // §20.4 generate key step 2: a key generation failure is an OperationError.
  // Capped at 8192 bits: a host call cannot be interrupted, so an unbounded key size would
  // let one request run far past its function's CPU limit.
  if (bits < 512 || bits > SUBTLE_MAX_RSA_BITS || bits % 8 !== 0) {
    throw subtleError(context, `the modulusLength must be a multiple of 8 from 512 to ${SUBTLE_MAX_RSA_BITS}`, "OperationError");
  }
  const [priv, pub] = subtleOp("rsa-generate", "", [bits], [copyBytes(exponent)], context, "OperationError");
  const material = rsaWithInfo({ priv, pub }, context);
  const algorithm = rsaAlgorithmDict(alg.name, hash, material);
  const publicKey = subtleMakeKey("public", true, { ...algorithm, publicExponent: copyBytes(material.e) },
    usages.filter((usage) => info.pub.includes(usage)), { pub, n: material.n, e: material.e });
  const privateKey = subtleMakeKey("private", extractable, algorithm, privUsages, material);
  return { publicKey, privateKey };
}

function importKeyData(format, keyData, alg, extractable, usages, context) {
  if (format !== "raw" && format !== "jwk" && format !== "pkcs8" && format !== "spki") {
    throw new TypeErrorCtor(`${context}: unknown key format ${format}`);
  }
  if (format === "jwk" && (keyData === null || typeof keyData !== "object" || bufferSourceView(keyData) !== null)) {
    throw new TypeErrorCtor(`${context}: a JWK must be an object`);
  }
  const info = SUBTLE_ALGORITHMS[alg.name];
  if (info.secret) return importSecret(format, keyData, alg, extractable, usages, context);
  if (info.rsa) return importRsa(format, keyData, alg, extractable, usages, context);
  return importAsymmetric(format, keyData, alg, extractable, usages, context);
}

// --- export (§14.3.10 and each algorithm's "export key") ---

function exportKeyData(format, key, context) {
  const material = materialOf(key, context);
  if (format !== "raw" && format !== "jwk" && format !== "pkcs8" && format !== "spki") {
    throw new TypeErrorCtor(`${context}: unknown key format ${format}`);
  }
  if (!material.extractable) throw subtleError(context, "the key is not extractable", "InvalidAccessError");
  const alg = material.algorithm;
  const info = SUBTLE_ALGORITHMS[alg.name];
  const base = { key_ops: [...material.usages], ext: material.extractable };
  if (material.type === "secret") {
    if (format === "raw") return copyBytes(material.raw);
    if (format === "jwk" && !info.kdf) {
      const jwkAlg = alg.name === "HMAC" ? HMAC_JWK_ALG[alg.hash.name] : `A${alg.length}${AES_JWK_SUFFIX[alg.name]}`;
      return { kty: "oct", k: base64UrlEncode(material.raw), alg: jwkAlg, ...base };
    }
    throw notSupported(`${context}: the ${format} format for ${alg.name}`);
  }
  if (info.rsa) return exportRsa(format, key, material, base, context);
  const isPublic = material.type === "public";
  if (format === "raw" || format === "spki") {
    if (!isPublic) throw subtleError(context, `a private key cannot be exported as ${format}`, "InvalidAccessError");
    if (format === "raw") return copyBytes(material.pub);
    if (info.ec) return subtleOp("ec-export-spki", alg.namedCurve, [], [material.pub], context, "OperationError");
    return okpSpki(alg.name, material.pub);
  }
  if (format === "pkcs8") {
    if (isPublic) throw subtleError(context, "a public key cannot be exported as pkcs8", "InvalidAccessError");
    if (info.ec) return subtleOp("ec-export-pkcs8", alg.namedCurve, [], [material.priv], context, "OperationError");
    return okpPkcs8(alg.name, material.priv);
  }
  // jwk
  let jwk;
  if (info.ec) {
    const size = SUBTLE_CURVES[alg.namedCurve];
    jwk = {
      kty: "EC",
      crv: alg.namedCurve,
      x: base64UrlEncode(material.pub.subarray(1, 1 + size)),
      y: base64UrlEncode(material.pub.subarray(1 + size)),
    };
    if (alg.name === "ECDSA") jwk.alg = alg.namedCurve === "P-256" ? "ES256" : "ES384";
  } else {
    jwk = { kty: "OKP", crv: alg.name, x: base64UrlEncode(material.pub) };
    if (alg.name === "Ed25519") jwk.alg = "Ed25519";
  }
  if (!isPublic) jwk.d = base64UrlEncode(material.priv);
  return { ...jwk, ...base };
}

function exportResult(value) {
  return typedArrayKind(value) === "Uint8Array" ? toArrayBuffer(value) : value;
}

// --- generateKey (§14.3.6) ---

function generateKeyFor(alg, extractable, usages, context) {
  const info = SUBTLE_ALGORITHMS[alg.name];
  if (info.kdf) throw notSupported(`${context}: ${alg.name}`);
  if (info.rsa) return generateRsa(alg, extractable, usages, context);
  if (info.secret) {
    let bits;
    let algorithm;
    if (alg.name === "HMAC") {
      const hash = normalizeHash(alg.hash, context);
      subtleCheckUsages(usages, info.secret, "secret", context);
      bits = alg.length === undefined ? hmacBlockBits(hash) : NumberCtor(alg.length);
      if (!(bits > 0) || bits % 8 !== 0) {
        throw subtleError(context, "the length must be a positive multiple of 8", "OperationError");
      }
      algorithm = { name: "HMAC", hash: { name: hash }, length: bits };
    } else {
      subtleCheckUsages(usages, info.secret, "secret", context);
      bits = NumberCtor(alg.length);
      // §27.4 generate key step 2: the length must be 128, 192 or 256.
      if (bits !== 128 && bits !== 192 && bits !== 256) {
        throw subtleError(context, "an AES key length must be 128, 192 or 256", "OperationError");
      }
      algorithm = { name: alg.name, length: bits };
    }
    const bytes = newUint8Array(bits / 8);
    host.randomFill(bytes);
    return subtleMakeKey("secret", extractable, algorithm, usages, { raw: bytes });
  }
  // Key pairs: every usage must belong to one half (§23.4 generate key step 1).
  subtleCheckUsages(usages, [...info.pub, ...info.priv], "public", context);
  let curve = "";
  if (info.ec) {
    curve = alg.namedCurve;
    if (typeof curve !== "string") throw new TypeErrorCtor(`${context}: a namedCurve is required`);
    if (SUBTLE_CURVES[curve] === undefined) throw notSupported(`${context}: the curve ${curve}`);
  }
  const privUsages = usages.filter((usage) => info.priv.includes(usage));
  if (privUsages.length === 0) {
    throw subtleError(context, "the private key needs at least one usage", "SyntaxError");
  }
  const [priv, pub] = subtleOp(info.ec ? "ec-generate" : `${info.okp}-generate`, curve, [], [], context, "OperationError");
  const algorithm = asymAlgorithmDict(alg, curve);
  const publicKey = subtleMakeKey("public", true, { ...algorithm },
    usages.filter((usage) => info.pub.includes(usage)), { pub });
  const privateKey = subtleMakeKey("private", extractable, algorithm, privUsages, { priv, pub });
  return { publicKey, privateKey };
}

// --- encrypt / decrypt / wrap (§25-§28) ---

function subtleCipher(alg, key, data, encrypt, context) {
  const usage = encrypt ? "encrypt" : "decrypt";
  return subtleCipherWith(alg, key, keyFor(key, alg.name, usage, context), data, encrypt, context);
}

function subtleCipherWith(alg, key, material, data, encrypt, context) {
  const raw = material.raw;
  if (alg.name === "RSA-OAEP") {
    // §22.4 encrypt/decrypt step 1: encryption needs the public key, decryption the private.
    if (material.type !== (encrypt ? "public" : "private")) {
      throw subtleError(context, `RSA-OAEP ${encrypt ? "encryption needs a public" : "decryption needs a private"} key`, "InvalidAccessError");
    }
    const label = alg.label === undefined ? newUint8Array(0) : bufferSourceCopy(alg.label, context);
    return subtleOp(encrypt ? "rsa-oaep-encrypt" : "rsa-oaep-decrypt", material.algorithm.hash.name, [],
      [encrypt ? material.pub : material.priv, label, data], context, "OperationError");
  }
  if (alg.name === "AES-GCM") {
    const iv = bufferSourceCopy(alg.iv, context);
    const aad = alg.additionalData === undefined ? newUint8Array(0) : bufferSourceCopy(alg.additionalData, context);
    const tagLength = alg.tagLength === undefined ? 128 : NumberCtor(alg.tagLength);
    // §27.4 encrypt step 4: the tag length must be one GCM allows.
    if (![32, 64, 96, 104, 112, 120, 128].includes(tagLength)) {
      throw subtleError(context, "the tagLength is not valid for AES-GCM", "OperationError");
    }
    if (iv.length !== 12) throw notSupported(`${context}: AES-GCM with a ${iv.length}-byte iv`);
    // §27.4 decrypt step 2: a ciphertext shorter than the tag is an OperationError.
    return subtleOp(encrypt ? "aes-gcm-encrypt" : "aes-gcm-decrypt", "", [tagLength / 8], [raw, iv, aad, data], context, "OperationError");
  }
  if (alg.name === "AES-CBC") {
    const iv = bufferSourceCopy(alg.iv, context);
    // §26.4 encrypt step 1: the iv is one block.
    if (iv.length !== 16) throw subtleError(context, "the AES-CBC iv must be 16 bytes", "OperationError");
    return subtleOp(encrypt ? "aes-cbc-encrypt" : "aes-cbc-decrypt", "", [], [raw, iv, data], context, "OperationError");
  }
  // AES-CTR
  const counter = bufferSourceCopy(alg.counter, context);
  const length = NumberCtor(alg.length);
  // §25.4 encrypt steps 1-2.
  if (counter.length !== 16) throw subtleError(context, "the AES-CTR counter must be 16 bytes", "OperationError");
  if (!(length >= 1 && length <= 128)) {
    throw subtleError(context, "the AES-CTR length must be between 1 and 128", "OperationError");
  }
  return subtleOp("aes-ctr", "", [length], [raw, counter, data], context, "OperationError");
}

// --- sign / verify (§29, §23, §33, §20, §21) ---

// RsaPssParams.saltLength is required (§21.3); PKCS#1 v1.5 has none.
function rsaSaltLength(alg, context) {
  if (alg.name !== "RSA-PSS") return 0;
  const salt = NumberCtor(alg.saltLength);
  if (alg.saltLength === undefined || !(salt >= 0)) throw new TypeErrorCtor(`${context}: RSA-PSS needs a saltLength`);
  return salt;
}

function subtleSign(alg, key, data, context) {
  const material = keyFor(key, alg.name, "sign", context);
  if (alg.name === "HMAC") return host.subtleHmacSign(material.algorithm.hash.name, material.raw, data);
  if (material.type !== "private") throw subtleError(context, "signing needs a private key", "InvalidAccessError");
  if (alg.name === "ECDSA") {
    const prehash = host.subtleDigest(normalizeHash(alg.hash, context), data);
    return subtleOp("ecdsa-sign", material.algorithm.namedCurve, [], [material.priv, prehash], context, "OperationError");
  }
  if (alg.name !== "Ed25519") {
    const op = alg.name === "RSA-PSS" ? "rsa-pss-sign" : "rsa-pkcs1-sign";
    return subtleOp(op, material.algorithm.hash.name, [rsaSaltLength(alg, context)], [material.priv, data], context, "OperationError");
  }
  return subtleOp("ed-sign", "", [], [material.priv, data], context, "OperationError");
}

function subtleVerify(alg, key, signature, data, context) {
  const material = keyFor(key, alg.name, "verify", context);
  if (alg.name === "HMAC") return host.subtleHmacVerify(material.algorithm.hash.name, material.raw, signature, data);
  if (material.type !== "public") throw subtleError(context, "verifying needs a public key", "InvalidAccessError");
  if (alg.name === "ECDSA") {
    const prehash = host.subtleDigest(normalizeHash(alg.hash, context), data);
    return subtleOp("ecdsa-verify", material.algorithm.namedCurve, [], [material.pub, prehash, signature], context, "OperationError");
  }
  if (alg.name !== "Ed25519") {
    const op = alg.name === "RSA-PSS" ? "rsa-pss-verify" : "rsa-pkcs1-verify";
    return subtleOp(op, material.algorithm.hash.name, [rsaSaltLength(alg, context)], [material.pub, data, signature], context, "OperationError");
  }
  return subtleOp("ed-verify", "", [], [material.pub, data, signature], context, "OperationError");
}

// --- deriveBits (§30, §31, §24, §34) ---

function subtleDeriveBits(alg, key, length, usage, context) {
  const material = keyFor(key, alg.name, usage, context);
  if (alg.name === "PBKDF2" || alg.name === "HKDF") {
    const hash = normalizeHash(alg.hash, context);
    const salt = bufferSourceCopy(alg.salt, context);
    // §30.4/§31.4 derive bits step 1: the length is a multiple of 8.
    if (length === null || length === undefined || NumberCtor(length) % 8 !== 0) {
      throw subtleError(context, "the length must be a multiple of 8", "OperationError");
    }
    const bytes = NumberCtor(length) / 8;
    if (alg.name === "PBKDF2") {
      const iterations = NumberCtor(alg.iterations);
      if (!(iterations > 0)) throw subtleError(context, "the iterations must not be zero", "OperationError");
      // Capped for the same reason as RSA key sizes: the derivation runs uninterrupted.
      if (iterations > SUBTLE_MAX_PBKDF2_ITERATIONS) {
        throw subtleError(context, `more than ${SUBTLE_MAX_PBKDF2_ITERATIONS} iterations`, "NotSupportedError");
      }
      if (bytes === 0) return newUint8Array(0);
      return subtleOp("pbkdf2", hash, [iterations, bytes], [material.raw, salt], context, "OperationError");
    }
    const info = bufferSourceCopy(alg.info, context);
    return subtleOp("hkdf", hash, [bytes], [material.raw, salt, info], context, "OperationError");
  }
  // ECDH and X25519: { public: CryptoKey }.
  const publicKey = alg.public;
  const peer = ReflectApply(WeakMapPrototypeGet, cryptoKeySecret, [publicKey ?? {}]);
  if (peer === undefined) throw new TypeErrorCtor(`${context}: the public member must be a CryptoKey`);
  if (material.type !== "private") throw subtleError(context, "the base key must be a private key", "InvalidAccessError");
  // §24.4 derive bits steps 2-4.
  if (peer.type !== "public") throw subtleError(context, "the public member must be a public key", "InvalidAccessError");
  if (peer.algorithm.name !== alg.name) {
    throw subtleError(context, "the public key belongs to another algorithm", "InvalidAccessError");
  }
  let secret;
  if (alg.name === "ECDH") {
    if (peer.algorithm.namedCurve !== material.algorithm.namedCurve) {
      throw subtleError(context, "the public key is on another curve", "InvalidAccessError");
    }
    secret = subtleOp("ecdh", material.algorithm.namedCurve, [], [material.priv, peer.pub], context, "OperationError");
  } else {
    secret = subtleOp("x-derive", "", [], [material.priv, peer.pub], context, "OperationError");
  }
  if (length === null || length === undefined) return secret;
  const bits = NumberCtor(length);
  if (bits > secret.length * 8) throw subtleError(context, "the length is longer than the secret", "OperationError");
  const out = secret.slice(0, MathFloor((bits + 7) / 8));
  if (bits % 8 !== 0) out[out.length - 1] &= (0xff << (8 - (bits % 8))) & 0xff;
  return out;
}

// §14.3.7 deriveKey step: the derived key's "get key length" operation.
function derivedKeyLength(alg, context) {
  if (AES_JWK_SUFFIX[alg.name] !== undefined) {
    const length = NumberCtor(alg.length);
    if (length !== 128 && length !== 192 && length !== 256) {
      throw subtleError(context, "an AES key length must be 128, 192 or 256", "OperationError");
    }
    return length;
  }
  if (alg.name === "HMAC") {
    const hash = normalizeHash(alg.hash, context);
    if (alg.length === undefined) return hmacBlockBits(hash);
    const length = NumberCtor(alg.length);
    if (!(length > 0)) throw new TypeErrorCtor(`${context}: the HMAC length must be positive`);
    return length;
  }
  return null;
}

const SUBTLE_SECRET_ALGS = ["HMAC", "AES-GCM", "AES-CBC", "AES-CTR", "AES-KW", "PBKDF2", "HKDF"];
const SUBTLE_ALL_KEY_ALGS = ObjectKeys(SUBTLE_ALGORITHMS);

const subtleCryptoClass = once(() => {
  // Every method returns a promise that rejects instead of throwing (WebCrypto §14.3).
  const promised = (fn) => function (...args) {
    try {
      return promiseResolve(ReflectApply(fn, this, args));
    } catch (error) {
      return promiseReject(error);
    }
  };
  class SubtleCrypto {
    constructor(token = undefined) {
      if (token !== kInternal) throw new TypeErrorCtor("Illegal constructor");
    }
  }
  const CIPHERS = ["AES-GCM", "AES-CBC", "AES-CTR", "RSA-OAEP"];
  const SIGNERS = ["HMAC", "ECDSA", "Ed25519", "RSASSA-PKCS1-v1_5", "RSA-PSS"];
  const DERIVERS = ["PBKDF2", "HKDF", "ECDH", "X25519"];
  const methods = {
    // WebCrypto §14.3.5 digest
    digest(algorithm, data) {
      const hash = normalizeHash(algorithm, "SubtleCrypto.digest");
      return toArrayBuffer(host.subtleDigest(hash, bufferSourceCopy(data, "SubtleCrypto.digest")));
    },
    // §14.3.1 encrypt
    encrypt(algorithm, key, data) {
      const context = "SubtleCrypto.encrypt";
      const alg = normalizeFor(algorithm, context, CIPHERS);
      return toArrayBuffer(subtleCipher(alg, key, bufferSourceCopy(data, context), true, context));
    },
    // §14.3.2 decrypt
    decrypt(algorithm, key, data) {
      const context = "SubtleCrypto.decrypt";
      const alg = normalizeFor(algorithm, context, CIPHERS);
      return toArrayBuffer(subtleCipher(alg, key, bufferSourceCopy(data, context), false, context));
    },
    // §14.3.3 sign
    sign(algorithm, key, data) {
      const context = "SubtleCrypto.sign";
      const alg = normalizeFor(algorithm, context, SIGNERS);
      return toArrayBuffer(subtleSign(alg, key, bufferSourceCopy(data, context), context));
    },
    // §14.3.4 verify
    verify(algorithm, key, signature, data) {
      const context = "SubtleCrypto.verify";
      const alg = normalizeFor(algorithm, context, SIGNERS);
      return subtleVerify(alg, key, bufferSourceCopy(signature, context), bufferSourceCopy(data, context), context);
    },
    // §14.3.6 generateKey
    generateKey(algorithm, extractable, usages) {
      const context = "SubtleCrypto.generateKey";
      const alg = normalizeFor(algorithm, context, SUBTLE_ALL_KEY_ALGS);
      return generateKeyFor(alg, extractable, usages, context);
    },
    // §14.3.7 deriveKey
    deriveKey(algorithm, baseKey, derivedKeyType, extractable, usages) {
      const context = "SubtleCrypto.deriveKey";
      const alg = normalizeFor(algorithm, context, DERIVERS);
      const keyAlg = normalizeFor(derivedKeyType, context, SUBTLE_SECRET_ALGS);
      const length = derivedKeyLength(keyAlg, context);
      const bits = subtleDeriveBits(alg, baseKey, length, "deriveKey", context);
      return importKeyData("raw", bits, keyAlg, extractable, usages, context);
    },
    // §14.3.8 deriveBits
    deriveBits(algorithm, baseKey, length = null) {
      const context = "SubtleCrypto.deriveBits";
      const alg = normalizeFor(algorithm, context, DERIVERS);
      return toArrayBuffer(subtleDeriveBits(alg, baseKey, length, "deriveBits", context));
    },
    // §14.3.9 importKey
    importKey(format, keyData, algorithm, extractable, usages) {
      const context = "SubtleCrypto.importKey";
      const alg = normalizeFor(algorithm, context, SUBTLE_ALL_KEY_ALGS);
      return importKeyData(format, keyData, alg, extractable, usages, context);
    },
    // §14.3.10 exportKey
    exportKey(format, key) {
      return exportResult(exportKeyData(format, key, "SubtleCrypto.exportKey"));
    },
    // §14.3.11 wrapKey
    wrapKey(format, key, wrappingKey, wrapAlgorithm) {
      const context = "SubtleCrypto.wrapKey";
      const alg = normalizeFor(wrapAlgorithm, context, [...CIPHERS, "AES-KW"]);
      const material = keyFor(wrappingKey, alg.name, "wrapKey", context);
      materialOf(key, context);
      const exported = exportKeyData(format, key, context);
      const bytes = format === "jwk" ? host.utf8Encode(JSONStringify(exported)) : exported;
      if (alg.name === "AES-KW") {
        // §28.4 wrap key step 1: the data is a whole number of 64-bit blocks.
        if (bytes.length % 8 !== 0) throw subtleError(context, "AES-KW wraps whole 64-bit blocks", "OperationError");
        return toArrayBuffer(subtleOp("aes-kw-wrap", "", [], [material.raw, bytes], context, "OperationError"));
      }
      return toArrayBuffer(subtleCipherWith(alg, wrappingKey, material, bytes, true, context));
    },
    // §14.3.12 unwrapKey
    unwrapKey(format, wrappedKey, unwrappingKey, unwrapAlgorithm, unwrappedKeyAlgorithm, extractable, usages) {
      const context = "SubtleCrypto.unwrapKey";
      const alg = normalizeFor(unwrapAlgorithm, context, [...CIPHERS, "AES-KW"]);
      const keyAlg = normalizeFor(unwrappedKeyAlgorithm, context, SUBTLE_ALL_KEY_ALGS);
      const wrapped = bufferSourceCopy(wrappedKey, context);
      const material = keyFor(unwrappingKey, alg.name, "unwrapKey", context);
      const bytes = alg.name === "AES-KW"
        ? subtleOp("aes-kw-unwrap", "", [], [material.raw, wrapped], context, "OperationError")
        : subtleCipherWith(alg, unwrappingKey, material, wrapped, false, context);
      let keyData = bytes;
      if (format === "jwk") {
        try {
          keyData = JSONParse(host.utf8Decode(bytes, true));
        } catch {
          throw subtleError(context, "the unwrapped data is not a JWK", "DataError");
        }
      }
      return importKeyData(format, keyData, keyAlg, extractable, usages, context);
    },
  };
  for (const [name, fn] of Object.entries(methods)) {
    ObjectDefineProperty(SubtleCrypto.prototype, name, {
      value: promised(fn),
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  configureInterface(SubtleCrypto);
  return SubtleCrypto;
});

const subtleCrypto = once(() => {
  const SubtleCrypto = subtleCryptoClass();
  return new SubtleCrypto(kInternal);
});
