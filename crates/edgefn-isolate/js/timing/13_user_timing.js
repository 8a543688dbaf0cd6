// timing/13_user_timing.js
//
// The performance entry buffer, PerformanceEntry, PerformanceMark and
// PerformanceMeasure, and User Timing's mark() and measure() (W3C User Timing
// §3) behind the methods of 13_performance.js: the chunk "timing", loaded on
// first use (see 29_extension.js).

// The performance entry buffer: PerformanceEntry objects in insertion order.
const performanceEntryBuffer = [];

// Performance Timeline §3 "filter buffer by name and type": sorted by
// startTime (a stable sort keeps insertion order for equal times).
function filterPerformanceEntries(name, type) {
  const out = [];
  for (let i = 0; i < performanceEntryBuffer.length; i++) {
    const entry = performanceEntryBuffer[i];
    const fields = performanceEntryFields(entry);
    if (name !== undefined && fields.name !== name) continue;
    if (type !== undefined && fields.entryType !== type) continue;
    out[out.length] = entry;
  }
  return out.sort(
    (a, b) => performanceEntryFields(a).startTime - performanceEntryFields(b).startTime,
  );
}

// User Timing §3.1.3 clearMarks / clearMeasures
function clearPerformanceEntries(type, name) {
  let kept = 0;
  for (let i = 0; i < performanceEntryBuffer.length; i++) {
    const entry = performanceEntryBuffer[i];
    const fields = performanceEntryFields(entry);
    if (fields.entryType === type && (name === undefined || fields.name === name)) continue;
    performanceEntryBuffer[kept++] = entry;
  }
  performanceEntryBuffer.length = kept;
}

// Web IDL DOMHighResTimeStamp (a `double`: finite).
function toHighResTimeStamp(value, context) {
  const n = NumberCtor(value);
  if (!NumberIsFinite(n)) throw new TypeErrorCtor(`${context} is not a finite number`);
  return n;
}

// (DOMString or DOMHighResTimeStamp) union conversion.
function toMarkOrTimeStamp(value, context) {
  return typeof value === "number" ? toHighResTimeStamp(value, context) : toDOMString(value);
}

// User Timing §3.1.3 "convert a mark to a timestamp"
function markToTimestamp(mark) {
  if (typeof mark === "string") {
    for (let i = performanceEntryBuffer.length - 1; i >= 0; i--) {
      const fields = performanceEntryFields(performanceEntryBuffer[i]);
      if (fields.entryType === "mark" && fields.name === mark) return fields.startTime;
    }
    throw newDOMException(`The mark '${mark}' does not exist`, "SyntaxError");
  }
  if (mark < 0) throw new TypeErrorCtor(`the timestamp ${mark} is negative`);
  return mark;
}

// User Timing §3.1.2 PerformanceMeasureOptions { detail, duration, end,
// start } (Web IDL order); absent members stay undefined.
function measureOptionsFrom(dict) {
  const detail = dict.detail;
  const duration = dict.duration;
  const end = dict.end;
  const start = dict.start;
  return {
    detail,
    duration: duration === undefined ? undefined : toHighResTimeStamp(duration, "duration"),
    end: end === undefined ? undefined : toMarkOrTimeStamp(end, "end"),
    start: start === undefined ? undefined : toMarkOrTimeStamp(start, "start"),
  };
}

// User Timing §3.1.2 measure() steps 1-3: [start time, end time].
// `options` is null or { start, duration, end } (members possibly undefined).
function measureTimes(options, startMark, endMark) {
  const { start, duration, end } = options === null ? {} : options;
  if (options !== null) {
    if (endMark !== undefined) {
      throw new TypeErrorCtor("performance.measure: endMark cannot be given with measure options");
    }
    if (start === undefined && end === undefined) {
      throw new TypeErrorCtor("performance.measure: the options need a start or an end");
    }
    if (start !== undefined && duration !== undefined && end !== undefined) {
      throw new TypeErrorCtor("performance.measure: start, duration and end cannot all be given");
    }
  }
  let endTime;
  if (endMark !== undefined) endTime = markToTimestamp(endMark);
  else if (end !== undefined) endTime = markToTimestamp(end);
  else if (start !== undefined && duration !== undefined) {
    endTime = markToTimestamp(start) + markToTimestamp(duration);
  } else endTime = host.now();
  let startTime;
  if (start !== undefined) startTime = markToTimestamp(start);
  else if (duration !== undefined && end !== undefined) {
    startTime = markToTimestamp(end) - markToTimestamp(duration);
  } else if (startMark !== undefined) startTime = markToTimestamp(startMark);
  else startTime = 0;
  return [startTime, endTime];
}

// (entry) -> { name, entryType, startTime, duration }
let performanceEntryFields;

const performanceEntryClasses = once(() => {
  class PerformanceEntry {
    #name;
    #entryType;
    #startTime;
    #duration;

    constructor(token = undefined, fields = undefined) {
      if (token !== kInternal) throw new TypeErrorCtor("Illegal constructor");
      this.#name = fields.name;
      this.#entryType = fields.entryType;
      this.#startTime = fields.startTime;
      this.#duration = fields.duration;
    }

    get name() { return this.#name; }
    get entryType() { return this.#entryType; }
    get startTime() { return this.#startTime; }
    get duration() { return this.#duration; }

    // Performance Timeline §4 toJSON()
    toJSON() {
      return {
        name: this.#name,
        entryType: this.#entryType,
        startTime: this.#startTime,
        duration: this.#duration,
      };
    }

    static {
      performanceEntryFields = (entry) => ({
        name: entry.#name,
        entryType: entry.#entryType,
        startTime: entry.#startTime,
        duration: entry.#duration,
      });
    }
  }
  configureInterface(PerformanceEntry);

  class PerformanceMark extends PerformanceEntry {
    #detail;

    // User Timing §4.1 constructor(markName, markOptions)
    constructor(markName, markOptions = undefined) {
      requireArguments(arguments.length, 1, "PerformanceMark");
      const name = toDOMString(markName);
      const dict = toDictionary(markOptions, "PerformanceMark");
      let detail;
      let startTime;
      if (dict !== undefined) {
        // PerformanceMarkOptions { detail, startTime }
        detail = dict.detail;
        const time = dict.startTime;
        if (time !== undefined) startTime = toHighResTimeStamp(time, "PerformanceMark: startTime");
      }
      if (startTime !== undefined && startTime < 0) {
        throw new TypeErrorCtor("PerformanceMark: startTime cannot be negative");
      }
      const clonedDetail =
        detail === undefined || detail === null
          ? null
          : structuredCloneOps().structuredCloneInternal(detail);
      super(kInternal, {
        name,
        entryType: "mark",
        startTime: startTime === undefined ? host.now() : startTime,
        duration: 0,
      });
      this.#detail = clonedDetail;
    }

    get detail() {
      return this.#detail;
    }

    toJSON() {
      const json = super.toJSON();
      json.detail = this.#detail;
      return json;
    }
  }
  configureInterface(PerformanceMark);

  class PerformanceMeasure extends PerformanceEntry {
    #detail;

    constructor(token = undefined, fields = undefined) {
      if (token !== kInternal) throw new TypeErrorCtor("Illegal constructor");
      super(kInternal, fields);
      this.#detail = fields.detail;
    }

    get detail() {
      return this.#detail;
    }

    toJSON() {
      const json = super.toJSON();
      json.detail = this.#detail;
      return json;
    }
  }
  configureInterface(PerformanceMeasure);

  const inspectEntry = (entry) => entry.toJSON();
  registerInspectHook(PerformanceMark, inspectEntry);
  registerInspectHook(PerformanceMeasure, inspectEntry);
  return { PerformanceEntry, PerformanceMark, PerformanceMeasure };
});

// User Timing §3.1.1 mark(markName, markOptions)
function performanceMark(markName, markOptions) {
  const { PerformanceMark } = performanceEntryClasses();
  const entry = new PerformanceMark(markName, markOptions);
  performanceEntryBuffer[performanceEntryBuffer.length] = entry;
  return entry;
}

// User Timing §3.1.2 measure(measureName, startOrMeasureOptions, endMark)
function performanceMeasure(measureName, startOrMeasureOptions, endMark) {
  const name = toDOMString(measureName);
  let options = null;
  let startMark;
  if (isObjectLike(startOrMeasureOptions)) {
    const parsed = measureOptionsFrom(startOrMeasureOptions);
    // Step 1 applies only when at least one member exists.
    if (
      parsed.start !== undefined ||
      parsed.end !== undefined ||
      parsed.duration !== undefined ||
      parsed.detail !== undefined
    ) {
      options = parsed;
    }
  } else if (startOrMeasureOptions !== undefined && startOrMeasureOptions !== null) {
    startMark = toDOMString(startOrMeasureOptions);
  }
  const end = endMark === undefined ? undefined : toDOMString(endMark);
  const [startTime, endTime] = measureTimes(options, startMark, end);
  const detail =
    options === null || options.detail === undefined || options.detail === null
      ? null
      : structuredCloneOps().structuredCloneInternal(options.detail);
  const { PerformanceMeasure } = performanceEntryClasses();
  const entry = new PerformanceMeasure(kInternal, {
    name,
    entryType: "measure",
    startTime,
    duration: endTime - startTime,
    detail,
  });
  performanceEntryBuffer[performanceEntryBuffer.length] = entry;
  return entry;
}

