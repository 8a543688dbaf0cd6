// subtle/99_interfaces.js
//
// CryptoKey and SubtleCrypto on the global object: the core exposes each
// lazily and asks here on first access (see chunkInterface in 29_extension.js).

function interfaceNamed(name) {
  switch (name) {
    case "CryptoKey":
      return cryptoKeyClass();
    case "SubtleCrypto":
      return subtleCryptoClass();
  }
  return undefined;
}
