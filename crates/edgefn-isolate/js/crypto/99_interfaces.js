// crypto/99_interfaces.js
//
// Crypto on the global object: the core exposes it lazily and asks here on
// first access (see chunkInterface in 29_extension.js).

function interfaceNamed(name) {
  switch (name) {
    case "Crypto":
      return cryptoClass();
  }
  return undefined;
}
