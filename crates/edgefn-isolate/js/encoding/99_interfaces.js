// encoding/99_interfaces.js
//
// TextEncoder and TextDecoder on the global
// object: the core exposes them lazily and asks here on first access (see
// chunkInterface in 29_extension.js).

function interfaceNamed(name) {
  switch (name) {
    case "TextEncoder":
    case "TextDecoder":
      return encodingClasses()[name];
  }
  return undefined;
}
