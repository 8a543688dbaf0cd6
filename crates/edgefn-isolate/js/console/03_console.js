// console/03_console.js
//
// The `console` namespace (WHATWG Console Standard). Output goes to
// host.log(level, text) with the text fully formatted here; a value that is
// not a string is printed by inspect(), in the chunk js/inspect. A chunk
// loaded on first use; the global is named in 99_interfaces.js.

// console.log argument: strings are printed as they are.
function inspectArg(value) {
  return typeof value === "string" ? value : inspect(value, undefined);
}

function hasUserToString(obj) {
  let proto = obj;
  let guard = 0;
  while (proto !== null && guard++ < 100) {
    const desc = ObjectGetOwnPropertyDescriptor(proto, "toString");
    if (desc !== undefined) {
      return (
        desc.value !== ObjectPrototype.toString &&
        desc.value !== ErrorPrototype.toString &&
        typeof desc.value === "function"
      );
    }
    proto = ObjectGetPrototypeOf(proto);
  }
  return false;
}

// Console Standard §2.2 Formatter, with Node/Deno's specifier set.
function formatLogArgs(args) {
  const count = args.length;
  if (count === 0) return "";
  const first = args[0];
  let out = "";
  let next = 1;
  if (typeof first === "string") {
    if (count === 1) return first;
    let last = 0;
    for (let i = 0; i < first.length - 1; i++) {
      if (first.charCodeAt(i) !== 37) continue; // '%'
      const c = first.charCodeAt(i + 1);
      if (c === 37) {
        out += first.slice(last, i) + "%";
        last = i + 2;
        i++;
        continue;
      }
      if (next >= count) continue;
      let piece;
      const arg = args[next];
      switch (c) {
        case 115: // s
          if (typeof arg === "string") piece = arg;
          else if (typeof arg === "bigint") piece = `${arg}n`;
          else if (typeof arg === "symbol") piece = safeToString(arg);
          else if (typeof arg === "number") piece = ObjectIs(arg, -0) ? "-0" : `${arg}`;
          else if (typeof arg === "object" && arg !== null) {
            piece = !isErrorObject(arg) && hasUserToString(arg)
              ? safeToString(arg)
              : inspect(arg, { depth: 0 });
          } else piece = safeToString(arg);
          break;
        case 100: // d
        case 105: // i
          if (typeof arg === "bigint") piece = `${arg}n`;
          else if (typeof arg === "symbol" || (typeof arg === "object" && arg !== null)) piece = "NaN";
          else {
            const num = c === 100 ? NumberCtor(arg) : NumberParseInt(arg);
            piece = ObjectIs(num, -0) ? "-0" : `${num}`;
          }
          break;
        case 102: // f
          piece = typeof arg === "symbol" ? "NaN" : `${NumberParseFloat(arg)}`;
          break;
        case 106: // j
          try {
            const json = JSONStringify(arg);
            piece = json === undefined ? "undefined" : json;
          } catch {
            piece = "[Circular]";
          }
          break;
        case 111: // o
          piece = inspect(arg, { depth: 4 });
          break;
        case 79: // O
          piece = inspect(arg, undefined);
          break;
        case 99: // c: CSS, ignored
          piece = "";
          break;
        default:
          continue;
      }
      out += first.slice(last, i) + piece;
      last = i + 2;
      i++;
      next++;
    }
    out += first.slice(last);
  } else {
    out = inspectArg(first);
  }
  for (let i = next; i < count; i++) {
    out += " " + inspectArg(args[i]);
  }
  return out;
}

let consoleGroupIndent = "";
const consoleCounts = new MapCtor();
const consoleTimers = new MapCtor();

function consoleWrite(level, text) {
  if (consoleGroupIndent !== "") {
    text = consoleGroupIndent + text.replaceAll("\n", "\n" + consoleGroupIndent);
  }
  try {
    host.log(level, text);
  } catch {
    // logging must never throw into user code
  }
}

function consoleLabel(label) {
  return label === undefined ? "default" : toDOMString(label);
}

function consoleDuration(label) {
  const start = ReflectApply(MapPrototypeGet, consoleTimers, [label]);
  const ms = host.now() - start;
  return `${label}: ${ms >= 1000 ? `${(ms / 1000).toFixed(3)}s` : `${ms.toFixed(3)}ms`}`;
}

function consoleStackFrames() {
  let stack = safeGet(new ErrorCtor(), "stack");
  if (typeof stack !== "string") return "";
  const lines = stack.split("\n");
  const frames = [];
  for (let i = 0; i < lines.length; i++) {
    if (stackFramesOnlyRe.test(lines[i])) frames[frames.length] = lines[i];
  }
  // Drop our own frames (consoleStackFrames and console.trace).
  return frames.slice(2).join("\n");
}


// The console namespace object (Console Standard §1), created on first use.
const consoleNamespace = once(() => {
  const console = {
    log(...args) {
      consoleWrite("info", formatLogArgs(args));
    },
    info(...args) {
      consoleWrite("info", formatLogArgs(args));
    },
    debug(...args) {
      consoleWrite("debug", formatLogArgs(args));
    },
    warn(...args) {
      consoleWrite("warn", formatLogArgs(args));
    },
    error(...args) {
      consoleWrite("error", formatLogArgs(args));
    },
    trace(...args) {
      const message = args.length === 0 ? "Trace" : `Trace: ${formatLogArgs(args)}`;
      const frames = consoleStackFrames();
      consoleWrite("debug", frames === "" ? message : `${message}\n${frames}`);
    },
    assert(condition = false, ...data) {
      if (condition) return;
      if (data.length === 0) {
        consoleWrite("error", "Assertion failed");
      } else if (typeof data[0] === "string") {
        data[0] = `Assertion failed: ${data[0]}`;
        consoleWrite("error", formatLogArgs(data));
      } else {
        consoleWrite("error", formatLogArgs(["Assertion failed:", ...data]));
      }
    },
    dir(item, options) {
      consoleWrite("info", inspect(item, options));
    },
    dirxml(...args) {
      consoleWrite("info", formatLogArgs(args));
    },
    table(data, properties) {
      consoleTable(data, properties);
    },
    count(label) {
      label = consoleLabel(label);
      const n = (ReflectApply(MapPrototypeGet, consoleCounts, [label]) || 0) + 1;
      ReflectApply(MapPrototypeSet, consoleCounts, [label, n]);
      consoleWrite("info", `${label}: ${n}`);
    },
    countReset(label) {
      label = consoleLabel(label);
      if (ReflectApply(MapPrototypeHas, consoleCounts, [label])) {
        ReflectApply(MapPrototypeSet, consoleCounts, [label, 0]);
      } else {
        consoleWrite("warn", `Count for '${label}' does not exist`);
      }
    },
    time(label) {
      label = consoleLabel(label);
      if (ReflectApply(MapPrototypeHas, consoleTimers, [label])) {
        consoleWrite("warn", `Timer '${label}' already exists`);
        return;
      }
      ReflectApply(MapPrototypeSet, consoleTimers, [label, host.now()]);
    },
    timeLog(label, ...data) {
      label = consoleLabel(label);
      if (!ReflectApply(MapPrototypeHas, consoleTimers, [label])) {
        consoleWrite("warn", `Timer '${label}' does not exist`);
        return;
      }
      const text = consoleDuration(label);
      consoleWrite("info", data.length === 0 ? text : `${text} ${formatLogArgs(data)}`);
    },
    timeEnd(label) {
      label = consoleLabel(label);
      if (!ReflectApply(MapPrototypeHas, consoleTimers, [label])) {
        consoleWrite("warn", `Timer '${label}' does not exist`);
        return;
      }
      const text = consoleDuration(label);
      ReflectApply(MapPrototypeDelete, consoleTimers, [label]);
      consoleWrite("info", text);
    },
    group(...label) {
      if (label.length > 0) consoleWrite("info", formatLogArgs(label));
      consoleGroupIndent += "  ";
    },
    groupCollapsed(...label) {
      if (label.length > 0) consoleWrite("info", formatLogArgs(label));
      consoleGroupIndent += "  ";
    },
    groupEnd() {
      consoleGroupIndent = consoleGroupIndent.slice(2);
    },
    clear() {},
  };
  ObjectDefineProperty(console, SymbolToStringTag, {
    value: "console",
    writable: false,
    enumerable: false,
    configurable: true,
  });
  return console;
});
