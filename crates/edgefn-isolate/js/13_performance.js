// 13_performance.js
//
// The global `performance` (W3C High Resolution Time) and the Performance
// classes, made by the chunk js/timing on first use (with User Timing).

exposeReplaceable("performance", () => layerChunk("timing").performanceInstance());
