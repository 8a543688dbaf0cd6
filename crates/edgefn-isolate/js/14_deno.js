// 14_deno.js
//
// Runtime-specific globals: Deno.serve / Deno.env, EdgeRuntime.waitUntil,
// navigator and self.

// ---------------------------------------------------------------------------
// Deno.serve: registers the request handler (a later call replaces it).

let serveHandler = null;
let serveOnError = null;

function denoServe(arg0 = undefined, arg1 = undefined) {
  let handler;
  let options;
  if (typeof arg0 === "function") {
    // Deno.serve(handler) and the older Deno.serve(handler, options)
    handler = arg0;
    if (isObjectLike(arg1)) options = arg1;
  } else if (isObjectLike(arg0)) {
    // Deno.serve(options, handler) and Deno.serve({ handler, ...options })
    options = arg0;
    handler = typeof arg1 === "function" ? arg1 : arg0.handler;
  }
  if (typeof handler !== "function") {
    throw new TypeErrorCtor(
      "Deno.serve: a handler function is required: Deno.serve(handler), Deno.serve(options, handler) or Deno.serve({ handler })",
    );
  }
  let onError = null;
  let onListen;
  if (options !== undefined) {
    const e = options.onError;
    if (e !== undefined && e !== null) {
      if (typeof e !== "function") {
        throw new TypeErrorCtor("Deno.serve: options.onError must be a function");
      }
      onError = e;
    }
    onListen = options.onListen;
  }
  serveHandler = handler;
  serveOnError = onError;
  const addr = { transport: "tcp", hostname: "0.0.0.0", port: 9000 };
  if (typeof onListen === "function") {
    enqueueMicrotask(() => {
      try {
        ReflectApply(onListen, undefined, [{ transport: "tcp", hostname: "0.0.0.0", port: 9000 }]);
      } catch (error) {
        reportException(error);
      }
    });
  }
  return {
    // The runtime owns the listener: the server never finishes by itself.
    finished: new PromiseCtor(noop),
    shutdown() {
      return promiseResolve(undefined);
    },
    ref() {},
    unref() {},
    addr,
  };
}

// ---------------------------------------------------------------------------
// Deno.env over a per-isolate copy of the function's configured variables.

let denoEnvStore = null;

function configEnvEntries() {
  const out = [];
  const source = config.env;
  if (source === null || typeof source !== "object") return out;
  const keys = ObjectKeys(source);
  for (let i = 0; i < keys.length; i++) {
    const value = source[keys[i]];
    if (typeof value === "string") out[out.length] = [keys[i], value];
  }
  return out;
}

function denoEnvMap() {
  if (denoEnvStore === null) {
    denoEnvStore = ObjectCreate(null);
    const entries = configEnvEntries();
    for (let i = 0; i < entries.length; i++) denoEnvStore[entries[i][0]] = entries[i][1];
  }
  return denoEnvStore;
}

function denoEnvKey(key) {
  key = toDOMString(key);
  if (key === "") throw new TypeErrorCtor("Key is an empty string.");
  if (key.includes("=") || key.includes("\0")) {
    throw new TypeErrorCtor(`Key contains invalid characters: "${key}"`);
  }
  return key;
}

const denoEnv = {
  get(key) {
    key = denoEnvKey(key);
    return denoEnvMap()[key];
  },
  set(key, value) {
    key = denoEnvKey(key);
    value = toDOMString(value);
    if (value.includes("\0")) {
      throw new TypeErrorCtor(`Value contains invalid characters: "${value}"`);
    }
    denoEnvMap()[key] = value;
  },
  has(key) {
    key = denoEnvKey(key);
    return denoEnvMap()[key] !== undefined;
  },
  delete(key) {
    key = denoEnvKey(key);
    delete denoEnvMap()[key];
  },
  toObject() {
    const map = denoEnvMap();
    const out = {};
    const keys = ObjectKeys(map);
    for (let i = 0; i < keys.length; i++) out[keys[i]] = map[keys[i]];
    return out;
  },
};

// `env` for `export default { fetch(request, env, ctx) }`: a frozen copy.
let exportedEnv = null;

function exportedEnvObject() {
  if (exportedEnv === null) {
    const env = {};
    const entries = configEnvEntries();
    for (let i = 0; i < entries.length; i++) env[entries[i][0]] = entries[i][1];
    exportedEnv = ObjectFreeze(env);
  }
  return exportedEnv;
}

const Deno = {
  serve: denoServe,
  env: denoEnv,
};
ObjectDefineProperty(denoServe, "name", { value: "serve" });

// ---------------------------------------------------------------------------
// waitUntil: for now a rejection is reported; the host will track these.

// The host keeps the worker alive (within its limits) until every promise
// given to waitUntil has settled.
function trackWaitUntil(promise) {
  let settled;
  try {
    settled = promiseResolve(promise);
  } catch (error) {
    reportException(error, "Uncaught (in waitUntil)");
    return;
  }
  host.keepAlive(1);
  promiseThen(
    settled,
    () => host.keepAlive(-1),
    (error) => {
      host.keepAlive(-1);
      reportException(error, "Uncaught (in waitUntil)");
    },
  );
}

const EdgeRuntime = {
  waitUntil(promise) {
    trackWaitUntil(promise);
  },
};

// ---------------------------------------------------------------------------
// navigator (HTML §8.9.1, WinterTC: userAgent) and self.

const navigatorUserAgent =
  typeof config.userAgent === "string" ? config.userAgent : "edgefn";

const navigatorClass = once(() => {
  class Navigator {
    #brand = true;

    constructor(token = undefined) {
      if (token !== kInternal) throw new TypeErrorCtor("Illegal constructor");
    }

    get userAgent() {
      this.#brand;
      return navigatorUserAgent;
    }
  }
  configureInterface(Navigator);
  registerInspectHook(Navigator, (navigator) => ({ userAgent: navigator.userAgent }));
  return Navigator;
});
const navigatorInstance = once(() => {
  const Navigator = navigatorClass();
  return new Navigator(kInternal);
});

exposeInterface("Deno", Deno);
exposeInterface("EdgeRuntime", EdgeRuntime);
exposeLazyInterface("Navigator", navigatorClass);
exposeReplaceable("navigator", navigatorInstance);
exposeReplaceable("self", () => globalObject);
