// inspect/03_inspect.js
//
// How console.log and uncaught errors print a value that is not a
// string (Node/Deno style), and console.table: the chunk "inspect", loaded on
// first use (see 29_extension.js).

const inspectBreakLength = 80;
const inspectMaxArrayItems = 100;
const inspectMaxBufferBytes = 50;
const identifierKeyRe = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const needsEscapeRe = /["'`\\\x00-\x1f\x7f]/;

function inspectQuote(s) {
  let quote = '"';
  if (s.includes('"')) {
    if (!s.includes("'")) quote = "'";
    else if (!s.includes("`") && !s.includes("${")) quote = "`";
  }
  if (!needsEscapeRe.test(s)) return quote + s + quote;
  let out = quote;
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc;
    if (c === 0x5c) esc = "\\\\";
    else if (c === quote.charCodeAt(0)) esc = "\\" + quote;
    else if (c === 0x0a) esc = "\\n";
    else if (c === 0x09) esc = "\\t";
    else if (c === 0x0d) esc = "\\r";
    else if (c === 0x08) esc = "\\b";
    else if (c === 0x0c) esc = "\\f";
    else if (c === 0x0b) esc = "\\v";
    else if (c < 0x20 || c === 0x7f) {
      esc = "\\x" + (c < 16 ? "0" : "") + c.toString(16).toUpperCase();
    } else continue;
    out += s.slice(last, i) + esc;
    last = i + 1;
  }
  return out + s.slice(last) + quote;
}

function inspectKey(key) {
  if (typeof key === "symbol") {
    return `[${ReflectApply(SymbolPrototypeToString, key, [])}]`;
  }
  return identifierKeyRe.test(key) ? key : inspectQuote(key);
}

// Name of the nearest constructor on the prototype chain, "" if none, or
// null for a null-prototype object.
function inspectPrefix(obj, fallback, size) {
  const ctorName = inspectConstructorName(obj);
  let tag = safeGet(obj, SymbolToStringTag);
  if (typeof tag !== "string") tag = "";
  const sizePart = size === undefined ? "" : `(${size})`;
  if (ctorName === null) {
    return `[${fallback}${sizePart}: null prototype] ${tag !== "" && tag !== fallback ? `[${tag}] ` : ""}`;
  }
  const name = ctorName === "" ? fallback : ctorName;
  let prefix = name + sizePart;
  if (tag !== "" && tag !== name) prefix += ` [${tag}]`;
  return prefix + " ";
}

function inspectFunctionBase(fn) {
  let source = "";
  try {
    source = ReflectApply(FunctionPrototypeToString, fn, []);
  } catch {
    // not a real function (revoked proxy, ...)
  }
  const name = safeGet(fn, "name");
  const named = typeof name === "string" && name !== "";
  if (source.startsWith("class") && /^class[\s{]/.test(source)) {
    return `[class ${named ? name : "(anonymous)"}]`;
  }
  let kind = "Function";
  const ctorName = inspectConstructorName(fn);
  if (
    ctorName === "AsyncFunction" ||
    ctorName === "GeneratorFunction" ||
    ctorName === "AsyncGeneratorFunction"
  ) {
    kind = ctorName;
  }
  return `[${kind}${named ? `: ${name}` : " (anonymous)"}]`;
}

// Own enumerable properties as "key: value" entries.
function inspectOwnProperties(ctx, obj, level, indent, skipIndices, out) {
  let keys;
  try {
    keys = ReflectOwnKeys(obj);
  } catch {
    return;
  }
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    if (skipIndices && typeof key === "string" && isArrayIndexKey(key)) continue;
    let desc;
    try {
      desc = ObjectGetOwnPropertyDescriptor(obj, key);
    } catch {
      continue;
    }
    if (desc === undefined || !desc.enumerable) continue;
    let text;
    if (desc.get !== undefined || desc.set !== undefined) {
      text =
        desc.get !== undefined
          ? desc.set !== undefined
            ? "[Getter/Setter]"
            : "[Getter]"
          : "[Setter]";
    } else {
      text = inspectValue(ctx, desc.value, level + 1, indent + 2);
    }
    out[out.length] = `${inspectKey(key)}: ${text}`;
  }
}

function isArrayIndexKey(key) {
  const n = NumberCtor(key);
  return n >= 0 && n < 4294967295 && MathFloor(n) === n && `${n}` === key;
}

function inspectGroupArrayEntries(entries, indent, numeric) {
  let maxLen = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e.includes("\n")) return entries;
    if (e.length > maxLen) maxLen = e.length;
  }
  if (maxLen > 16) return entries;
  // Aim for a roughly 2.5:1 (width:height) block of columns.
  const biased = MathMax(maxLen - 1, 1);
  const columns = MathMin(
    Math.round(Math.sqrt(2.5 * biased * entries.length) / biased),
    MathFloor((inspectBreakLength - indent) / (maxLen + 2)),
    15,
  );
  if (columns <= 1) return entries;
  const rows = [];
  for (let i = 0; i < entries.length; i += columns) {
    let line = "";
    const end = MathMin(i + columns, entries.length);
    for (let j = i; j < end; j++) {
      const e = entries[j];
      const padded = numeric ? e.padStart(maxLen) : e.padEnd(maxLen);
      line += j === end - 1 ? (numeric ? padded : e) : padded + ", ";
    }
    rows[rows.length] = line;
  }
  return rows;
}

function inspectJoin(entries, prefix, open, close, indent, groupable, numeric) {
  if (entries.length === 0) return `${prefix}${open}${close}`;
  let total = prefix.length + open.length + close.length + indent + 2;
  let multiline = false;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    total += e.length + 2;
    if (e.includes("\n")) multiline = true;
  }
  if (!multiline && total <= inspectBreakLength) {
    return `${prefix}${open} ${entries.join(", ")} ${close}`;
  }
  let lines = entries;
  if (groupable && entries.length > 6) {
    lines = inspectGroupArrayEntries(entries, indent + 2, numeric);
  }
  const pad = " ".repeat(indent + 2);
  return `${prefix}${open}\n${pad}${lines.join(`,\n${pad}`)}\n${" ".repeat(indent)}${close}`;
}

function inspectBytes(u8, limit) {
  let out = "<";
  const n = MathMin(u8.length, limit);
  for (let i = 0; i < n; i++) {
    const b = u8[i];
    out += (i === 0 ? "" : " ") + (b < 16 ? "0" : "") + b.toString(16);
  }
  if (u8.length > limit) out += ` ... ${u8.length - limit} more byte${u8.length - limit === 1 ? "" : "s"}`;
  return out + ">";
}

function inspectIndentLines(text, indent) {
  if (indent === 0) return text;
  return text.replaceAll("\n", "\n" + " ".repeat(indent));
}

function inspectValue(ctx, value, level, indent) {
  switch (typeof value) {
    case "string":
      return inspectQuote(value);
    case "number":
      return ObjectIs(value, -0) ? "-0" : `${value}`;
    case "bigint":
      return `${value}n`;
    case "boolean":
      return value ? "true" : "false";
    case "undefined":
      return "undefined";
    case "symbol":
      return ReflectApply(SymbolPrototypeToString, value, []);
  }
  if (value === null) return "null";
  const seen = ctx.seen;
  for (let i = 0; i < seen.length; i++) {
    if (seen[i] === value) return "[Circular]";
  }
  seen[seen.length] = value;
  try {
    return inspectObject(ctx, value, level, indent);
  } finally {
    seen.length--;
  }
}

function inspectObject(ctx, obj, level, indent) {
  const entries = [];

  if (typeof obj === "function") {
    const base = inspectFunctionBase(obj);
    if (level > ctx.depth) return base;
    inspectOwnProperties(ctx, obj, level, indent, false, entries);
    return entries.length === 0
      ? base
      : inspectJoin(entries, base + " ", "{", "}", indent, false, false);
  }

  if (isErrorObject(obj)) {
    return inspectIndentLines(formatError(obj, 0), indent);
  }

  // Our own Web classes (Headers, URL, Request, ...).
  let proto = null;
  try {
    proto = ObjectGetPrototypeOf(obj);
  } catch {
    // Proxy trap threw
  }
  if (proto !== null) {
    const hook = ReflectApply(MapPrototypeGet, inspectHooks, [proto]);
    if (hook !== undefined) {
      const prefix = inspectPrefix(obj, "Object");
      if (level > ctx.depth) return `[${prefix.trimEnd()}]`;
      let fields;
      try {
        fields = hook(obj);
      } catch {
        fields = null;
      }
      if (fields !== null) {
        inspectOwnProperties(ctx, fields, level, indent, false, entries);
        return inspectJoin(entries, prefix, "{", "}", indent, false, false);
      }
    }
  }

  if (ArrayIsArray(obj)) {
    const prefix = inspectPrefix(obj, "Array");
    const simple = prefix === "Array ";
    if (level > ctx.depth) return "[Array]";
    const length = obj.length;
    const n = MathMin(length, inspectMaxArrayItems);
    let holes = 0;
    let numeric = true;
    for (let i = 0; i < n; i++) {
      if (!ObjectCtor.hasOwn(obj, i)) {
        holes++;
        continue;
      }
      if (holes > 0) {
        entries[entries.length] = `<${holes} empty item${holes === 1 ? "" : "s"}>`;
        holes = 0;
        numeric = false;
      }
      const item = obj[i];
      if (typeof item !== "number" && typeof item !== "bigint") numeric = false;
      entries[entries.length] = inspectValue(ctx, item, level + 1, indent + 2);
    }
    if (holes > 0) {
      entries[entries.length] = `<${holes} empty item${holes === 1 ? "" : "s"}>`;
    }
    if (length > n) {
      entries[entries.length] = `... ${length - n} more item${length - n === 1 ? "" : "s"}`;
    }
    inspectOwnProperties(ctx, obj, level, indent, true, entries);
    return inspectJoin(entries, simple ? "" : prefix, "[", "]", indent, true, numeric);
  }

  const typedKind = typedArrayKind(obj);
  if (typedKind !== undefined) {
    const length = ReflectApply(typedArrays().typedArrayGetLength, obj, []);
    const prefix = `${typedKind}(${length}) `;
    if (level > ctx.depth) return `[${typedKind}]`;
    const n = MathMin(length, inspectMaxArrayItems);
    const bigint = typedKind.startsWith("Big");
    for (let i = 0; i < n; i++) {
      const v = obj[i];
      entries[entries.length] = bigint ? `${v}n` : ObjectIs(v, -0) ? "-0" : `${v}`;
    }
    if (length > n) {
      entries[entries.length] = `... ${length - n} more item${length - n === 1 ? "" : "s"}`;
    }
    return inspectJoin(entries, prefix, "[", "]", indent, true, true);
  }

  if (isArrayBuffer(obj)) {
    const u8 = newUint8Array(obj);
    return `ArrayBuffer { [Uint8Contents]: ${inspectBytes(u8, inspectMaxBufferBytes)}, byteLength: ${u8.length} }`;
  }

  if (isArrayBufferView(obj)) {
    const u8 = bufferSourceView(obj);
    return `DataView { byteLength: ${u8.length}, byteOffset: ${u8.byteOffset}, buffer: ArrayBuffer { [Uint8Contents]: ${inspectBytes(u8, inspectMaxBufferBytes)} } }`;
  }

  let size;
  try {
    size = ReflectApply(MapPrototypeGetSize, obj, []);
  } catch {
    size = undefined;
  }
  if (size !== undefined) {
    const prefix = inspectPrefix(obj, "Map", size);
    if (level > ctx.depth) return `[Map]`;
    const it = ReflectApply(MapPrototypeEntries, obj, []);
    let count = 0;
    for (let r = it.next(); !r.done; r = it.next()) {
      if (count++ >= inspectMaxArrayItems) {
        entries[entries.length] = `... ${size - inspectMaxArrayItems} more item${size - inspectMaxArrayItems === 1 ? "" : "s"}`;
        break;
      }
      entries[entries.length] =
        `${inspectValue(ctx, r.value[0], level + 1, indent + 2)} => ${inspectValue(ctx, r.value[1], level + 1, indent + 2)}`;
    }
    inspectOwnProperties(ctx, obj, level, indent, false, entries);
    return inspectJoin(entries, prefix, "{", "}", indent, false, false);
  }

  try {
    size = ReflectApply(SetPrototypeGetSize, obj, []);
  } catch {
    size = undefined;
  }
  if (size !== undefined) {
    const prefix = inspectPrefix(obj, "Set", size);
    if (level > ctx.depth) return `[Set]`;
    const it = ReflectApply(SetPrototypeValues, obj, []);
    let count = 0;
    for (let r = it.next(); !r.done; r = it.next()) {
      if (count++ >= inspectMaxArrayItems) {
        entries[entries.length] = `... ${size - inspectMaxArrayItems} more item${size - inspectMaxArrayItems === 1 ? "" : "s"}`;
        break;
      }
      entries[entries.length] = inspectValue(ctx, r.value, level + 1, indent + 2);
    }
    inspectOwnProperties(ctx, obj, level, indent, false, entries);
    return inspectJoin(entries, prefix, "{", "}", indent, true, false);
  }

  try {
    ReflectApply(WeakMapPrototypeHas, obj, [obj]);
    return "WeakMap { <items unknown> }";
  } catch {
    // not a WeakMap
  }
  try {
    ReflectApply(WeakSetPrototypeHas, obj, [obj]);
    return "WeakSet { <items unknown> }";
  } catch {
    // not a WeakSet
  }

  if (isDate(obj)) {
    const builtins = date();
    const time = ReflectApply(builtins.getTime, obj, []);
    return NumberIsNaN(time) ? "Invalid Date" : ReflectApply(builtins.toISOString, obj, []);
  }

  try {
    ReflectApply(RegExpPrototypeGetSource, obj, []);
    if (obj !== RegExp.prototype) {
      return ReflectApply(RegExpPrototypeToString, obj, []);
    }
  } catch {
    // not a RegExp
  }

  const prefix = inspectPrefix(obj, "Object");
  if (level > ctx.depth) {
    const p = prefix.trimEnd();
    return `[${p === "" ? "Object" : p}]`;
  }
  inspectOwnProperties(ctx, obj, level, indent, false, entries);
  return inspectJoin(entries, prefix === "Object " ? "" : prefix, "{", "}", indent, false, false);
}

// util.inspect-like: strings are quoted; options.depth (default 2).
function inspect(value, options) {
  let depth = 2;
  if (options !== undefined && options !== null) {
    const d = options.depth;
    if (d === null || d === Infinity) depth = Infinity;
    else if (typeof d === "number" && d >= 0) depth = d;
  }
  return inspectValue({ depth, seen: [] }, value, 0, 0);
}

function consoleTable(data, properties) {
  if (data === null || typeof data !== "object") {
    consoleWrite("info", formatLogArgs([data]));
    return;
  }
  const filter = ArrayIsArray(properties) ? properties.map((p) => `${p}`) : null;
  const columns = [];
  const columnIndex = new MapCtor();
  let hasValues = false;
  const rows = [];
  let rowKeys;
  let rowValues;
  let mapSize;
  try {
    mapSize = ReflectApply(MapPrototypeGetSize, data, []);
  } catch {
    mapSize = undefined;
  }
  if (mapSize !== undefined) {
    rowKeys = [];
    rowValues = [];
    let i = 0;
    for (const [k, v] of ReflectApply(MapPrototypeEntries, data, [])) {
      rowKeys[i] = inspect(k, { depth: 1 });
      rowValues[i++] = v;
    }
  } else {
    rowKeys = ObjectKeys(data);
    rowValues = rowKeys.map((k) => data[k]);
  }
  const cell = (v) => inspect(v, { depth: 1 });
  for (let r = 0; r < rowKeys.length; r++) {
    const value = rowValues[r];
    const row = new MapCtor();
    if (value !== null && typeof value === "object") {
      const keys = filter === null ? ObjectKeys(value) : filter;
      for (const k of keys) {
        if (filter !== null && !ObjectCtor.hasOwn(value, k)) continue;
        if (!columnIndex.has(k)) {
          columnIndex.set(k, columns.length);
          columns.push(k);
        }
        row.set(k, cell(value[k]));
      }
    } else {
      hasValues = true;
      row.set(kConsoleValues, cell(value));
    }
    rows.push(row);
  }
  const header = ["(index)", ...columns];
  if (hasValues) header.push("Values");
  const keysInOrder = [...columns];
  if (hasValues) keysInOrder.push(kConsoleValues);
  const table = rows.map((row, r) => [
    rowKeys[r],
    ...keysInOrder.map((k) => (row.has(k) ? row.get(k) : "")),
  ]);
  const widths = header.map((h, c) =>
    Math.max(h.length, ...table.map((line) => line[c].length)) + 2,
  );
  const line = (l, m, r) => l + widths.map((w) => "─".repeat(w)).join(m) + r;
  const render = (cells) =>
    "│" + cells.map((text, c) => ` ${text}`.padEnd(widths[c])).join("│") + "│";
  const out = [line("┌", "┬", "┐"), render(header), line("├", "┼", "┤")];
  for (const cells of table) out.push(render(cells));
  out.push(line("└", "┴", "┘"));
  consoleWrite("info", out.join("\n"));
}

const kConsoleValues = SymbolCtor("values");
