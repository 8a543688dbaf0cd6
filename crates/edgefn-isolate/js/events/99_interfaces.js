// events/99_interfaces.js
//
// CustomEvent, ErrorEvent, PromiseRejectionEvent and AbortController on the global
// object: the core exposes them lazily and asks here on first access (see
// chunkInterface in 29_extension.js).

function interfaceNamed(name) {
  switch (name) {
    case "CustomEvent":
      return customEventClass();
    case "ErrorEvent":
      return errorEventClass();
    case "PromiseRejectionEvent":
      return promiseRejectionEventClass();
    case "AbortController":
      return abortControllerClass();
  }
  return undefined;
}
