// Error.prepareStackTrace (V8's API): the function a tenant sets gets the call sites of an
// error's frames, but no function of the runtime's own frames (file names `edgefn:...`).
import { assert, assertEquals, assertThrows, run, test } from "./_harness.js";

function withPrepare(prepare, fn) {
  Error.prepareStackTrace = prepare;
  try {
    return fn();
  } finally {
    Error.prepareStackTrace = undefined;
  }
}

const isLayerSite = (site) => String(site.getFileName()).startsWith("edgefn:");

// An error made by tenant code the runtime called: a getter the Response constructor reads.
function errorThroughTheLayer() {
  try {
    new Response("x", {
      get status() {
        throw new Error("from a getter");
      },
    });
  } catch (error) {
    return error;
  }
  throw new Error("the getter was not called");
}

function sitesOf(makeError) {
  let sites;
  withPrepare((error, callSites) => {
    sites = callSites;
    return "prepared";
  }, makeError);
  return sites;
}

// First, in the file's fresh isolate, before anything set Error.prepareStackTrace: a tenant that
// empties the engine's stack traces and reads errors' raw stacks beforehand gets no function of
// the runtime either.
test("what a tenant sets up before its first prepareStackTrace exposes no runtime function", () => {
  const stackAccessor = Object.getOwnPropertyDescriptor(Error.prototype, "stack");
  const limit = Error.stackTraceLimit;
  const seen = [];
  Object.defineProperty(Error.prototype, "stack", {
    get() {
      const value = stackAccessor.get.call(this);
      if (Array.isArray(value)) seen.push(...value);
      return value;
    },
    set: stackAccessor.set,
    configurable: true,
  });
  Error.stackTraceLimit = 0;
  try {
    Error.prepareStackTrace = (error, sites) => sites;
  } finally {
    Error.stackTraceLimit = limit;
  }
  try {
    const sites = errorThroughTheLayer().stack;
    assert(Array.isArray(sites), "the function's result is the stack");
    assert(sites.some(isLayerSite), "some frames are the runtime's");
    const all = [...sites, ...seen];
    assert(all.every((site) => !isLayerSite(site) || site.getFunction() === undefined));
  } finally {
    Error.prepareStackTrace = undefined;
    Object.defineProperty(Error.prototype, "stack", stackAccessor);
  }
});

test("the function set makes the stack from the error's call sites", () => {
  let received;
  const error = withPrepare((e, sites) => {
    received = [e.message, sites.length];
    return "prepared";
  }, errorThroughTheLayer);
  assertEquals(error.stack, "prepared");
  assertEquals(received[0], "from a getter");
  assert(received[1] >= 4, `${received[1]} call sites`);
});

test("a runtime frame's call site answers, except with its function", () => {
  const sites = sitesOf(errorThroughTheLayer);
  const layer = sites.filter(isLayerSite);
  assert(layer.length >= 1, "some frames are the runtime's");
  assert(layer.some((site) => site.getFunctionName() === "Response"), "the Response constructor's frame");
  for (const site of layer) {
    assertEquals(site.getFunction(), undefined);
    assertEquals(typeof site.getLineNumber(), "number");
    assertEquals(typeof site.getColumnNumber(), "number");
    assertEquals(site.isNative(), false);
    assertEquals(Object.prototype.toString.call(site), "[object CallSite]");
    assertEquals(Object.getPrototypeOf(site).constructor, undefined);
  }
  const own = sites.find((site) => site.getFunctionName() === "errorThroughTheLayer");
  assertEquals(own.getFunction(), errorThroughTheLayer);
  assertEquals(Object.prototype.toString.call(own), "[object CallSite]");
});

test("Error.captureStackTrace goes through the same function", () => {
  const target = {};
  let layer;
  withPrepare((e, sites) => {
    layer = sites.filter(isLayerSite);
    return "captured";
  }, () => {
    new Response("x", {
      get status() {
        Error.captureStackTrace(target);
        return 200;
      },
    });
  });
  assertEquals(target.stack, "captured");
  assert(layer.length >= 1 && layer.every((site) => site.getFunction() === undefined));
});

test("replacing the engine's call site methods does not hide the runtime's frames", () => {
  const tenantSite = sitesOf(() => new Error("e")).find((site) => !isLayerSite(site));
  const proto = Object.getPrototypeOf(tenantSite);
  const { getFileName, getFunction } = proto;
  let reached = [];
  proto.getFileName = function () {
    reached.push(getFunction.call(this));
    return "tenant.js";
  };
  let sites;
  try {
    sites = sitesOf(errorThroughTheLayer);
  } finally {
    proto.getFileName = getFileName;
  }
  assertEquals(reached, []);
  const layer = sites.filter(isLayerSite);
  assert(layer.length >= 1 && layer.every((site) => site.getFunction() === undefined));
});

test("the property reads back the tenant's function, and stays the runtime's", () => {
  const prepare = () => "mine";
  Error.prepareStackTrace = prepare;
  try {
    assertEquals(Error.prepareStackTrace, prepare);
    assertEquals(new Error("e").stack, "mine");
    assertThrows(() => {
      delete Error.prepareStackTrace;
    }, TypeError);
    assertThrows(() => Object.defineProperty(Error, "prepareStackTrace", { value: () => "x" }), TypeError);
    const accessor = Object.getOwnPropertyDescriptor(Error, "prepareStackTrace");
    assertEquals(accessor.get.call(Error), prepare);
  } finally {
    Error.prepareStackTrace = undefined;
  }
  assertEquals(Error.prepareStackTrace, undefined);
  const stack = new Error("e").stack;
  assert(typeof stack === "string" && stack.includes("at "), `the engine's own stack: ${stack}`);
});

export default { fetch: run };
