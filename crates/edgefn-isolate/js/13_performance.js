// 13_performance.js
//
// Performance (W3C High Resolution Time §5), minimal: now(), timeOrigin,
// toJSON(). The EventTarget base and the User Timing marks/measures come
// with the full version.

const performanceClass = once(() => {
  class Performance {
    #brand = true;

    constructor(token = undefined) {
      if (token !== kInternal) throw new TypeErrorCtor("Illegal constructor");
    }

    get timeOrigin() {
      this.#brand;
      return host.timeOrigin;
    }

    now() {
      this.#brand;
      return host.now();
    }

    toJSON() {
      this.#brand;
      return { timeOrigin: host.timeOrigin };
    }
  }
  configureInterface(Performance);
  return Performance;
});
const performanceInstance = once(() => {
  const Performance = performanceClass();
  return new Performance(kInternal);
});

exposeLazyInterface("Performance", performanceClass);
exposeReplaceable("performance", performanceInstance);
