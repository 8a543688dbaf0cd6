// 13_performance.js
//
// The global `performance` (W3C High Resolution Time) and the Performance
// classes, made by the chunk js/timing on first use (with User Timing).

function performanceEntryInterface(name) {
  return layerChunk("timing").performanceEntryClasses()[name];
}

exposeLazyInterface("Performance", () => layerChunk("timing").performanceClass());
for (const name of ["PerformanceEntry", "PerformanceMark", "PerformanceMeasure"]) {
  exposeLazyInterface(name, performanceEntryInterface);
}
exposeReplaceable("performance", () => layerChunk("timing").performanceInstance());
