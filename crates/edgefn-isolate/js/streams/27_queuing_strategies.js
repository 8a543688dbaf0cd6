// 27_queuing_strategies.js
//
// ByteLengthQueuingStrategy and CountQueuingStrategy (WHATWG Streams §7.2,
// §7.3).

// Streams §7.1 QueuingStrategyInit { required unrestricted double highWaterMark }
function queuingStrategyInitHighWaterMark(init, context) {
  const dict = toDictionary(init, context);
  const hwm = dict === undefined ? undefined : dict.highWaterMark;
  if (hwm === undefined) {
    throw new TypeErrorCtor(`${context}: the required member 'highWaterMark' is missing`);
  }
  return NumberCtor(hwm);
}

const queuingStrategyClasses = once(() => {
  // Streams §7.2.1 / §7.3.1: one size function per realm, shared by every
  // instance (not a method: it ignores `this`).
  const byteLengthSize = {
    size(chunk) {
      return chunk.byteLength;
    },
  }.size;
  const countSize = {
    size() {
      return 1;
    },
  }.size;

  class ByteLengthQueuingStrategy {
    #highWaterMark;

    // Streams §7.2.3 constructor(init)
    constructor(init) {
      requireArguments(arguments.length, 1, "ByteLengthQueuingStrategy");
      this.#highWaterMark = queuingStrategyInitHighWaterMark(init, "ByteLengthQueuingStrategy");
    }

    get highWaterMark() {
      return this.#highWaterMark;
    }

    get size() {
      this.#highWaterMark; // brand check
      return byteLengthSize;
    }
  }
  configureInterface(ByteLengthQueuingStrategy);
  registerInspectHook(ByteLengthQueuingStrategy, (strategy) => ({
    highWaterMark: strategy.highWaterMark,
  }));

  class CountQueuingStrategy {
    #highWaterMark;

    // Streams §7.3.3 constructor(init)
    constructor(init) {
      requireArguments(arguments.length, 1, "CountQueuingStrategy");
      this.#highWaterMark = queuingStrategyInitHighWaterMark(init, "CountQueuingStrategy");
    }

    get highWaterMark() {
      return this.#highWaterMark;
    }

    get size() {
      this.#highWaterMark; // brand check
      return countSize;
    }
  }
  configureInterface(CountQueuingStrategy);
  registerInspectHook(CountQueuingStrategy, (strategy) => ({
    highWaterMark: strategy.highWaterMark,
  }));

  return { ByteLengthQueuingStrategy, CountQueuingStrategy };
});
