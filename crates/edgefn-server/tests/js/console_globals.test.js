// The console namespace (WHATWG Console) and the WinterTC Minimum Common API globals.
import { assert, assertEquals, run, test } from "./_harness.js";

test("console has every Console Standard method and accepts format specifiers", () => {
  const methods = [
    "assert", "clear", "count", "countReset", "debug", "dir", "dirxml", "error", "group",
    "groupCollapsed", "groupEnd", "info", "log", "table", "time", "timeEnd", "timeLog", "trace", "warn",
  ];
  for (const name of methods) assertEquals(typeof console[name], "function", name);
  assertEquals(Object.prototype.toString.call(console), "[object console]");
  console.log("%s=%d %i %f %o %O %j %c%%", "n", 1.5, 2.9, "3.25", { a: 1 }, [1], { j: true }, "color: red");
  console.assert(true, "not printed");
  console.assert(false, "printed: %s", "assertion");
  console.count("c");
  console.countReset("c");
  console.group("g");
  console.groupEnd();
  console.time("t");
  console.timeLog("t", "extra");
  console.timeEnd("t");
  console.table([{ a: 1 }, { a: 2, b: 3 }]);
  console.dir({ deep: { deeper: {} } }, { depth: 0 });
  console.trace("trace %s", "here");
});

test("every WinterTC Minimum Common API interface implemented in JavaScript is a global", () => {
  const interfaces = [
    "AbortController", "AbortSignal", "Blob", "ByteLengthQueuingStrategy", "CountQueuingStrategy",
    "Crypto", "CustomEvent", "DOMException", "ErrorEvent", "Event", "EventTarget", "File", "FormData",
    "Headers", "MessageChannel", "MessageEvent", "MessagePort", "Performance", "PerformanceEntry",
    "PerformanceMark", "PerformanceMeasure", "PromiseRejectionEvent", "ReadableByteStreamController",
    "ReadableStream", "ReadableStreamBYOBReader", "ReadableStreamBYOBRequest",
    "ReadableStreamDefaultController", "ReadableStreamDefaultReader", "Request", "Response",
    "TextDecoder", "TextDecoderStream", "TextEncoder", "TextEncoderStream", "TransformStream",
    "TransformStreamDefaultController", "URL", "URLSearchParams", "WritableStream",
    "WritableStreamDefaultController", "WritableStreamDefaultWriter",
  ];
  for (const name of interfaces) {
    assertEquals(typeof globalThis[name], "function", name);
    const desc = Object.getOwnPropertyDescriptor(globalThis, name);
    assertEquals(desc.enumerable, false, `${name} is not enumerable`);
    assertEquals(Object.prototype.toString.call(globalThis[name].prototype), `[object ${name}]`, name);
  }
  for (const name of ["atob", "btoa", "queueMicrotask", "reportError", "setTimeout", "clearTimeout", "setInterval", "clearInterval", "structuredClone"]) {
    assertEquals(typeof globalThis[name], "function", name);
  }
  assert(self === globalThis && typeof navigator.userAgent === "string");
  assertEquals(typeof performance.now(), "number");
  assertEquals(typeof performance.timeOrigin, "number");
});

test("globals can be replaced by tenant code", () => {
  const original = globalThis.Blob;
  globalThis.Blob = "replaced";
  assertEquals(globalThis.Blob, "replaced");
  globalThis.Blob = original;
  assertEquals(typeof Blob, "function");
});

export default { fetch: run };
