// 13_performance.js
//
// The global `performance` (W3C High Resolution Time), made by the chunk
// js/timing on first use (with User Timing; its 99_interfaces.js names the
// Performance classes).

exposeReplaceable("performance", () => layerChunk("timing").performanceInstance());
