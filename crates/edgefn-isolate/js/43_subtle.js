// 43_subtle.js
//
// SubtleCrypto (W3C Web Cryptography §14): digest (SHA-1/256/384/512) and HMAC (generateKey,
// importKey and exportKey in raw and jwk, sign, verify) on the host's RustCrypto. Every other
// algorithm or operation rejects with NotSupportedError.

const SUBTLE_HASHES = ["SHA-1", "SHA-256", "SHA-384", "SHA-512"];
const subtleBtoa = globalObject.btoa;
const subtleAtob = globalObject.atob;
const cryptoKeySecret = new WeakMap(); // CryptoKey -> Uint8Array key bytes
const cryptoKeyWeakGet = WeakMap.prototype.get;
const cryptoKeyWeakSet = WeakMap.prototype.set;

function notSupported(what) {
  return newDOMException(`${what} is not supported`, "NotSupportedError");
}

// WebCrypto §18.4 "normalize an algorithm": a string is { name }; names match case-insensitively.
function normalizeAlgorithm(algorithm, context) {
  const dict = typeof algorithm === "string" ? { name: algorithm } : algorithm;
  if (dict === null || typeof dict !== "object" || typeof dict.name !== "string") {
    throw new TypeErrorCtor(`${context}: the algorithm must be a string or an object with a name`);
  }
  return { ...dict, name: dict.name.toUpperCase() };
}

function normalizeHash(hash, context) {
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
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return ReflectApply(subtleBtoa, globalObject, [binary]).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function base64UrlDecode(text, context) {
  if (typeof text !== "string" || /[^A-Za-z0-9_-]/.test(text)) {
    throw newDOMException(`${context}: the JWK "k" is not base64url`, "DataError");
  }
  const binary = ReflectApply(subtleAtob, globalObject, [text.replace(/-/g, "+").replace(/_/g, "/")]);
  const bytes = new Uint8ArrayCtor(binary.length);
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

function hmacKey(bytes, hash, extractable, usages, context) {
  for (const usage of usages) {
    if (usage !== "sign" && usage !== "verify") {
      throw newDOMException(`${context}: an HMAC key cannot be used to ${usage}`, "SyntaxError");
    }
  }
  if (usages.length === 0) {
    throw newDOMException(`${context}: a secret key needs at least one usage`, "SyntaxError");
  }
  const CryptoKey = cryptoKeyClass();
  const key = new CryptoKey(kInternal, "secret", !!extractable,
    { name: "HMAC", hash: { name: hash }, length: bytes.length * 8 }, [...usages]);
  ReflectApply(cryptoKeyWeakSet, cryptoKeySecret, [key, bytes]);
  return key;
}

function secretOf(key, usage, context) {
  const bytes = ReflectApply(cryptoKeyWeakGet, cryptoKeySecret, [key]);
  if (bytes === undefined) throw new TypeErrorCtor(`${context}: the key is not a CryptoKey`);
  if (usage !== undefined && !key.usages.includes(usage)) {
    throw newDOMException(`${context}: the key's usages do not include ${usage}`, "InvalidAccessError");
  }
  return bytes;
}

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
  const methods = {
    // WebCrypto §14.3.5 digest
    digest(algorithm, data) {
      const hash = normalizeHash(algorithm, "SubtleCrypto.digest");
      return toArrayBuffer(host.subtleDigest(hash, bufferSourceCopy(data, "SubtleCrypto.digest")));
    },
    // §14.3.6 generateKey
    generateKey(algorithm, extractable, usages) {
      const alg = normalizeAlgorithm(algorithm, "SubtleCrypto.generateKey");
      if (alg.name !== "HMAC") throw notSupported(`SubtleCrypto.generateKey: ${alg.name}`);
      const hash = normalizeHash(alg.hash, "SubtleCrypto.generateKey");
      const bits = alg.length === undefined ? hmacBlockBits(hash) : Number(alg.length);
      if (!(bits > 0) || bits % 8 !== 0) {
        throw newDOMException("SubtleCrypto.generateKey: the length must be a positive multiple of 8", "OperationError");
      }
      const bytes = new Uint8ArrayCtor(bits / 8);
      host.randomFill(bytes);
      return hmacKey(bytes, hash, extractable, usages, "SubtleCrypto.generateKey");
    },
    // §14.3.9 importKey
    importKey(format, keyData, algorithm, extractable, usages) {
      const context = "SubtleCrypto.importKey";
      const alg = normalizeAlgorithm(algorithm, context);
      if (alg.name !== "HMAC") throw notSupported(`${context}: ${alg.name}`);
      const hash = normalizeHash(alg.hash, context);
      let bytes;
      if (format === "raw") {
        bytes = bufferSourceCopy(keyData, context);
      } else if (format === "jwk") {
        if (keyData === null || typeof keyData !== "object" || keyData.kty !== "oct") {
          throw newDOMException(`${context}: an HMAC JWK must have kty "oct"`, "DataError");
        }
        bytes = base64UrlDecode(keyData.k, context);
        if (keyData.ext === false && extractable) {
          throw newDOMException(`${context}: the JWK is not extractable`, "DataError");
        }
      } else {
        throw notSupported(`${context}: the ${format} format for HMAC`);
      }
      if (bytes.length === 0) throw newDOMException(`${context}: the key is empty`, "DataError");
      return hmacKey(bytes, hash, extractable, usages, context);
    },
    // §14.3.10 exportKey
    exportKey(format, key) {
      const bytes = secretOf(key, undefined, "SubtleCrypto.exportKey");
      if (!key.extractable) {
        throw newDOMException("SubtleCrypto.exportKey: the key is not extractable", "InvalidAccessError");
      }
      if (format === "raw") return toArrayBuffer(copyBytes(bytes));
      if (format === "jwk") {
        const alg = { "SHA-1": "HS1", "SHA-256": "HS256", "SHA-384": "HS384", "SHA-512": "HS512" }[key.algorithm.hash.name];
        return { kty: "oct", k: base64UrlEncode(bytes), alg, key_ops: [...key.usages], ext: true };
      }
      throw notSupported(`SubtleCrypto.exportKey: the ${format} format for HMAC`);
    },
    // §14.3.3 sign
    sign(algorithm, key, data) {
      const alg = normalizeAlgorithm(algorithm, "SubtleCrypto.sign");
      if (alg.name !== "HMAC") throw notSupported(`SubtleCrypto.sign: ${alg.name}`);
      const bytes = secretOf(key, "sign", "SubtleCrypto.sign");
      if (key.algorithm.name !== "HMAC") {
        throw newDOMException("SubtleCrypto.sign: the key is not an HMAC key", "InvalidAccessError");
      }
      return toArrayBuffer(host.subtleHmacSign(key.algorithm.hash.name, bytes, bufferSourceCopy(data, "SubtleCrypto.sign")));
    },
    // §14.3.4 verify
    verify(algorithm, key, signature, data) {
      const alg = normalizeAlgorithm(algorithm, "SubtleCrypto.verify");
      if (alg.name !== "HMAC") throw notSupported(`SubtleCrypto.verify: ${alg.name}`);
      const bytes = secretOf(key, "verify", "SubtleCrypto.verify");
      return host.subtleHmacVerify(key.algorithm.hash.name, bytes,
        bufferSourceCopy(signature, "SubtleCrypto.verify"), bufferSourceCopy(data, "SubtleCrypto.verify"));
    },
  };
  for (const name of ["encrypt", "decrypt", "deriveBits", "deriveKey", "wrapKey", "unwrapKey"]) {
    methods[name] = () => {
      throw notSupported(`SubtleCrypto.${name}`);
    };
  }
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

exposeLazyInterface("CryptoKey", cryptoKeyClass);
exposeLazyInterface("SubtleCrypto", subtleCryptoClass);
