// timing/99_interfaces.js
//
// Performance and the performance entry classes on the global
// object: the core exposes them lazily and asks here on first access (see
// chunkInterface in 29_extension.js).

function interfaceNamed(name) {
  switch (name) {
    case "Performance":
      return performanceClass();
    case "PerformanceEntry":
    case "PerformanceMark":
    case "PerformanceMeasure":
      return performanceEntryClasses()[name];
  }
  return undefined;
}
