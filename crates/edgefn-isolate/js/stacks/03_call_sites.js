// js/stacks/03_call_sites.js
//
// What a tenant's Error.prepareStackTrace gets (the core's accessor, in
// 02_util.js): the engine's call sites of its own frames as they are, and for
// each frame of the layer (its file name starts with `edgefn:`) a
// LayerCallSite, which answers as the engine's would except getFunction(),
// which is undefined: the layer's functions stay out of the tenant's reach. A
// chunk loaded when a tenant first sets a function there.

// The function the engine calls instead of the tenant's, `prepare()` giving
// the tenant's: made once, when the tenant first sets a function, before it
// has seen any call site, so that the methods of the engine's CallSite
// prototype (`proto`, taken by the core at init) are still the engine's (a
// tenant that reaches CallSite.prototype through a call site may replace them).
function tenantStackTraces(proto, prepare) {
  const getFileName = proto.getFileName;
  const getLineNumber = proto.getLineNumber;
  const getColumnNumber = proto.getColumnNumber;
  const getFunctionName = proto.getFunctionName;
  const isNative = proto.isNative;
  const isConstructor = proto.isConstructor;
  const startsWith = StringPrototypeStartsWith;

  class LayerCallSite {
    #site;

    constructor(site) {
      this.#site = site;
    }

    getFileName() {
      return callFunction(getFileName, this.#site);
    }

    getLineNumber() {
      return callFunction(getLineNumber, this.#site);
    }

    getColumnNumber() {
      return callFunction(getColumnNumber, this.#site);
    }

    getFunctionName() {
      return callFunction(getFunctionName, this.#site);
    }

    isNative() {
      return callFunction(isNative, this.#site);
    }

    isConstructor() {
      return callFunction(isConstructor, this.#site);
    }

    getFunction() {
      this.#site;
      return undefined;
    }
  }
  ObjectDefineProperty(LayerCallSite.prototype, SymbolToStringTag, {
    __proto__: null,
    value: "CallSite",
    configurable: true,
  });
  // The constructor is not the tenant's to call.
  const construct = (site) => new LayerCallSite(site);
  ObjectDefineProperty(LayerCallSite.prototype, "constructor", {
    __proto__: null,
    value: undefined,
  });

  // `this` is Error, as the engine calls it; `sites` the engine's own array.
  return function prepareStackTrace(error, sites) {
    for (let i = 0; i < sites.length; i++) {
      const file = callFunction(getFileName, sites[i]);
      if (typeof file === "string" && callFunction(startsWith, file, "edgefn:")) {
        sites[i] = construct(sites[i]);
      }
    }
    return callFunction(prepare(), this, error, sites);
  };
}
