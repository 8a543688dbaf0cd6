// console/99_interfaces.js
//
// The console namespace on the global object: the core exposes it lazily and
// asks here on first access (see chunkInterface in 29_extension.js).

function interfaceNamed(name) {
  switch (name) {
    case "console":
      return consoleNamespace();
  }
  return undefined;
}
