// js/crypto/12_crypto.js
//
// Crypto (W3C Web Cryptography §10): getRandomValues and randomUUID on the
// host CSPRNG; crypto.subtle is in 43_subtle.js.
// A chunk loaded on first use; the core's 12_crypto.js installs `crypto`,
// and 99_interfaces.js names `Crypto`.

const cryptoClass = once(() => {
  class Crypto {
    #brand = true;

    constructor(token = undefined) {
      if (token !== kInternal) throw new TypeErrorCtor("Illegal constructor");
    }

    // WebCrypto §10.1.1 getRandomValues(array)
    getRandomValues(array) {
      this.#brand;
      requireArguments(arguments.length, 1, "Crypto.getRandomValues");
      const kind = typedArrayKind(array);
      switch (kind) {
        case "Int8Array":
        case "Uint8Array":
        case "Uint8ClampedArray":
        case "Int16Array":
        case "Uint16Array":
        case "Int32Array":
        case "Uint32Array":
        case "BigInt64Array":
        case "BigUint64Array":
          break;
        default:
          if (!isArrayBufferView(array)) {
            throw new TypeErrorCtor(
              "Crypto.getRandomValues: parameter 1 is not of type 'ArrayBufferView'",
            );
          }
          throw newDOMException(
            "Crypto.getRandomValues: the array is not an integer-type TypedArray",
            "TypeMismatchError",
          );
      }
      const view = bufferSourceView(array);
      const length = typedArrayByteLength(view);
      if (length > 65536) {
        throw newDOMException(
          `Crypto.getRandomValues: the ArrayBufferView's byte length (${length}) exceeds the number of bytes of entropy available via this API (65536)`,
          "QuotaExceededError",
        );
      }
      if (length > 0) host.randomFill(view);
      return array;
    }

    // WebCrypto §10.1.2 randomUUID()
    randomUUID() {
      this.#brand;
      return host.randomUUID();
    }

    // WebCrypto §10.1 subtle
    get subtle() {
      this.#brand;
      return subtleCrypto();
    }
  }
  configureInterface(Crypto);
  return Crypto;
});
const cryptoInstance = once(() => {
  const Crypto = cryptoClass();
  return new Crypto(kInternal);
});

