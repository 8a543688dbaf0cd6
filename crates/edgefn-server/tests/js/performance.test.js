// W3C High Resolution Time (performance.now, timeOrigin), Performance Timeline
// (getEntries*) and User Timing (mark, measure, clearMarks, clearMeasures).
import { assert, assertEquals, assertThrows, run, test } from "./_harness.js";

function reset() {
  performance.clearMarks();
  performance.clearMeasures();
}

test("now() is monotonic and timeOrigin is a wall-clock time", () => {
  const a = performance.now();
  const b = performance.now();
  assert(b >= a && a >= 0);
  assert(performance.timeOrigin > 1e12, "milliseconds since the epoch");
  assertEquals(performance.toJSON().timeOrigin, performance.timeOrigin);
  assert(performance instanceof Performance && performance instanceof EventTarget);
});

test("mark() records a PerformanceMark with detail cloned", () => {
  reset();
  const detail = { step: 1 };
  const mark = performance.mark("start", { detail });
  assert(mark instanceof PerformanceMark && mark instanceof PerformanceEntry);
  assertEquals([mark.name, mark.entryType, mark.duration], ["start", "mark", 0]);
  assertEquals(mark.detail, { step: 1 });
  assert(mark.detail !== detail, "structured clone");
  assertEquals(performance.mark("plain").detail, null);
  const fixed = performance.mark("fixed", { startTime: 12.5 });
  assertEquals(fixed.startTime, 12.5);
  assertEquals(fixed.toJSON(), { name: "fixed", entryType: "mark", startTime: 12.5, duration: 0, detail: null });
});

test("mark() errors: negative startTime, uncloneable detail, no name", () => {
  assertThrows(() => performance.mark("m", { startTime: -1 }), TypeError);
  assertThrows(() => performance.mark("m", { startTime: NaN }), TypeError);
  const error = assertThrows(() => performance.mark("m", { detail: () => {} }), DOMException);
  assertEquals(error.name, "DataCloneError");
  assertThrows(() => performance.mark(), TypeError);
});

test("new PerformanceMark() works without recording; the other entries cannot be constructed", () => {
  reset();
  const mark = new PerformanceMark("standalone", { startTime: 3 });
  assertEquals([mark.name, mark.startTime], ["standalone", 3]);
  assertEquals(performance.getEntriesByName("standalone"), []);
  assertThrows(() => new PerformanceEntry(), TypeError);
  assertThrows(() => new PerformanceMeasure(), TypeError);
});

test("measure() between marks, timestamps, and with options", () => {
  reset();
  performance.mark("a", { startTime: 10 });
  performance.mark("b", { startTime: 25 });
  const between = performance.measure("a-b", "a", "b");
  assert(between instanceof PerformanceMeasure);
  assertEquals([between.entryType, between.startTime, between.duration, between.detail], ["measure", 10, 15, null]);
  assertEquals(performance.measure("o", { start: "a", end: 40 }).duration, 30);
  assertEquals(performance.measure("d", { start: 5, duration: 7 }).duration, 7);
  const backwards = performance.measure("e", { end: "b", duration: 5, detail: [1] });
  assertEquals([backwards.startTime, backwards.duration, backwards.detail], [20, 5, [1]]);
  const fromZero = performance.measure("z");
  assertEquals(fromZero.startTime, 0);
  assertEquals(performance.measure("endOnly", {}, "b").duration, 25);
});

test("measure() errors", () => {
  reset();
  performance.mark("a");
  const missing = assertThrows(() => performance.measure("m", "nope"), DOMException);
  assertEquals(missing.name, "SyntaxError");
  assertThrows(() => performance.measure("m", { start: "a" }, "a"), TypeError);
  assertThrows(() => performance.measure("m", { duration: 1 }), TypeError);
  assertThrows(() => performance.measure("m", { detail: 1 }), TypeError);
  assertThrows(() => performance.measure("m", { start: 1, end: 2, duration: 1 }), TypeError);
  assertThrows(() => performance.measure("m", { start: -1 }), TypeError);
});

test("getEntries* are sorted by startTime and filter by name and type", () => {
  reset();
  performance.mark("late", { startTime: 50 });
  performance.mark("early", { startTime: 5 });
  performance.measure("span", { start: 1, end: 2 });
  assertEquals(performance.getEntries().map((e) => e.name), ["span", "early", "late"]);
  assertEquals(performance.getEntriesByType("mark").map((e) => e.name), ["early", "late"]);
  assertEquals(performance.getEntriesByName("span").length, 1);
  assertEquals(performance.getEntriesByName("span", "mark").length, 0);
  assertEquals(performance.getEntriesByType("resource"), []);
});

test("clearMarks and clearMeasures, by name or all", () => {
  reset();
  performance.mark("x");
  performance.mark("y");
  performance.measure("m1");
  performance.measure("m2");
  performance.clearMarks("x");
  assertEquals(performance.getEntriesByType("mark").map((e) => e.name), ["y"]);
  performance.clearMeasures();
  assertEquals(performance.getEntriesByType("measure"), []);
  performance.clearMarks();
  assertEquals(performance.getEntries(), []);
});

test("Performance cannot be constructed; methods brand-check", () => {
  assertThrows(() => new Performance(), TypeError);
  assertThrows(() => Performance.prototype.now.call({}), TypeError);
  assertThrows(() => Performance.prototype.mark.call({}, "x"), TypeError);
});

export default { fetch: run };
