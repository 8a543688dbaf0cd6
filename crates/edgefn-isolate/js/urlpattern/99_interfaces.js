// urlpattern/99_interfaces.js
//
// URLPattern on the global object: the core exposes it lazily and asks here
// on first access (see chunkInterface in 29_extension.js).

function interfaceNamed(name) {
  switch (name) {
    case "URLPattern":
      return urlPatternClass();
  }
  return undefined;
}
