// js/timing/13_performance.js
//
// Performance (W3C High Resolution Time §5: now(), timeOrigin, toJSON()),
// an EventTarget, with the Performance Timeline's getEntries*() (W3C
// Performance Timeline §3) over User Timing marks and measures (W3C User
// Timing §3: mark(), measure(), clearMarks(), clearMeasures(),
// PerformanceEntry, PerformanceMark, PerformanceMeasure). host.now() is the
// clock. There are no other entry types (no resource or navigation timing),
// and no PerformanceObserver. With the entries and User Timing
// (13_user_timing.js), the chunk js/timing, loaded on first use; the core's
// 13_performance.js installs `performance`, and 99_interfaces.js names the
// classes.

const performanceClass = once(() => {
  const EventTarget = eventTargetClass();
  class Performance extends EventTarget {
    #brand = true;

    constructor(token = undefined) {
      if (token !== kInternal) throw new TypeErrorCtor("Illegal constructor");
      super();
    }

    get timeOrigin() {
      this.#brand;
      return host.timeOrigin();
    }

    now() {
      this.#brand;
      return host.now();
    }

    toJSON() {
      this.#brand;
      return { timeOrigin: host.timeOrigin() };
    }

    // Performance Timeline §3.1 getEntries()
    getEntries() {
      this.#brand;
      return filterPerformanceEntries(undefined, undefined);
    }

    // Performance Timeline §3.2 getEntriesByType(type)
    getEntriesByType(type) {
      this.#brand;
      requireArguments(arguments.length, 1, "Performance.getEntriesByType");
      return filterPerformanceEntries(undefined, toDOMString(type));
    }

    // Performance Timeline §3.3 getEntriesByName(name, type)
    getEntriesByName(name, type = undefined) {
      this.#brand;
      requireArguments(arguments.length, 1, "Performance.getEntriesByName");
      return filterPerformanceEntries(
        toDOMString(name),
        type === undefined ? undefined : toDOMString(type),
      );
    }

    // User Timing §3.1.1 mark(markName, markOptions)
    mark(markName, markOptions = undefined) {
      this.#brand;
      requireArguments(arguments.length, 1, "performance.mark");
      return performanceMark(markName, markOptions);
    }

    // User Timing §3.1.2 measure(measureName, startOrMeasureOptions, endMark)
    measure(measureName, startOrMeasureOptions = undefined, endMark = undefined) {
      this.#brand;
      requireArguments(arguments.length, 1, "performance.measure");
      return performanceMeasure(measureName, startOrMeasureOptions, endMark);
    }

    // User Timing §3.1.3 clearMarks(markName)
    clearMarks(markName = undefined) {
      this.#brand;
      const name = markName === undefined ? undefined : toDOMString(markName);
      clearPerformanceEntries("mark", name);
    }

    // User Timing §3.1.4 clearMeasures(measureName)
    clearMeasures(measureName = undefined) {
      this.#brand;
      clearPerformanceEntries(
        "measure",
        measureName === undefined ? undefined : toDOMString(measureName),
      );
    }
  }
  configureInterface(Performance);
  registerInspectHook(Performance, (performance) => ({ timeOrigin: performance.timeOrigin }));
  return Performance;
});
const performanceInstance = once(() => {
  const Performance = performanceClass();
  return new Performance(kInternal);
});

