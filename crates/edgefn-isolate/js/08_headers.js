// 08_headers.js
//
// Headers (WHATWG Fetch §5.2). The header list is stored flat,
// [name0, value0, name1, value1, ...], with names lowercased (every read
// path of the API lowercases them anyway), which is also the format the
// host takes in host.respond().
//
// Guards: "none", "request", "response" (no forbidden-name filtering on a
// server runtime) and "immutable".
//
// Names and values are checked on the host (host.headerCheck), which also
// checks them again before they reach the wire.

function isHttpWhitespace(c) {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

// Fetch §2.2 "normalize": strip leading and trailing HTTP whitespace.
function normalizeHeaderValue(value) {
  let start = 0;
  let end = value.length;
  while (start < end && isHttpWhitespace(value.charCodeAt(start))) start++;
  while (end > start && isHttpWhitespace(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

// host.headerCheck(name, value): 0 when the name is lowercase and the value
// normalized, else these bits, or a negative answer for an invalid pair.
const HEADER_UPPERCASE = 1;
const HEADER_UNTRIMMED = 2;
const HEADER_BAD_NAME = -1;

// Throws the TypeError for a pair host.headerCheck() refused: first the
// ByteString conversion errors of the arguments (Web IDL converts both before
// the method runs), then the header checks.
function throwInvalidHeader(check, name, value, context) {
  toByteString(name, context);
  toByteString(value, context);
  if (check === HEADER_BAD_NAME) {
    throw new TypeErrorCtor(`${context}: invalid header name: "${name}"`);
  }
  throw new TypeErrorCtor(`${context}: invalid header value for "${name.toLowerCase()}"`);
}

// ByteString conversion + "is a header name" check, lowercased.
function headerNameFrom(name, context) {
  if (typeof name !== "string") name = `${name}`;
  const check = host.headerCheck(name, "");
  if (check === 0) return name;
  if (check < 0) throwInvalidHeader(check, name, "", context);
  return name.toLowerCase();
}

// Fetch §5.2 "sort and combine" of a headers record (cached until the
// list changes).
function headersSortAndCombine(h) {
  let sorted = h[H_SORTED];
  if (sorted !== null) return sorted;
  const list = h[H_LIST];
  const n = list.length / 2;
  const indices = new ArrayCtor(n);
  for (let i = 0; i < n; i++) indices[i] = i;
  const order = stableSortBy(indices, (pair) => list[pair * 2]);
  sorted = [];
  for (let k = 0; k < n; k++) {
    const i = order[k] * 2;
    const name = list[i];
    const value = list[i + 1];
    const last = sorted.length - 1;
    if (name !== "set-cookie" && last >= 0 && sorted[last][0] === name) {
      sorted[last][1] += ", " + value;
    } else {
      sorted[sorted.length] = [name, value];
    }
  }
  h[H_SORTED] = sorted;
  return sorted;
}

function headersCheckMutable(h) {
  if (h[H_GUARD] === "immutable") {
    throw new TypeErrorCtor("Headers are immutable");
  }
}

// The (lowercase name, normalized value) of a pair given to append() or
// set(), in headerPairName / headerPairValue: ByteString conversion, then
// "is a header name" and "normalize" + "is a header value", in one host call.
let headerPairName = "";
let headerPairValue = "";

function headerPairFrom(name, value, context) {
  if (typeof name !== "string") name = `${name}`;
  if (typeof value !== "string") {
    // The name's ByteString conversion comes before the value's (Web IDL).
    toByteString(name, context);
    value = `${value}`;
  }
  const check = host.headerCheck(name, value);
  if (check !== 0) {
    if (check < 0) throwInvalidHeader(check, name, value, context);
    if ((check & HEADER_UPPERCASE) !== 0) name = name.toLowerCase();
    if ((check & HEADER_UNTRIMMED) !== 0) value = normalizeHeaderValue(value);
  }
  headerPairName = name;
  headerPairValue = value;
}

// Fetch §5.2 "append" on a headers record.
function headersRecordAppend(h, name, value, context) {
  headerPairFrom(name, value, context);
  headersCheckMutable(h);
  const list = h[H_LIST];
  list[list.length] = headerPairName;
  list[list.length] = headerPairValue;
  h[H_SORTED] = null;
}

// A headers record, the state behind a Headers object: Request and Response
// keep one and make their Headers object only when `.headers` is read. An
// array indexed by these constants, as the other per-request records are
// (see newRequestContext() in 99_internal.js).
const H_LIST = 0; // [name, value, name, value, ...], names lowercase
const H_GUARD = 1; // "none", "request", "response" or "immutable"
const H_SORTED = 2; // the sorted and combined list, made when iterated, or null

function newHeadersRecord(list, guard) {
  return [list, guard, null];
}

function headersRecordContains(h, lower) {
  const list = h[H_LIST];
  for (let i = 0; i < list.length; i += 2) {
    if (list[i] === lower) return true;
  }
  return false;
}

// Appends a pair the layer made itself (already lowercase and valid).
function headersRecordAppendTrusted(h, lower, value) {
  const list = h[H_LIST];
  list[list.length] = lower;
  list[list.length] = value;
  h[H_SORTED] = null;
}

// A copy of a headers record (Request and Response clone()).
function headersRecordClone(h) {
  const list = h[H_LIST];
  const copy = [];
  for (let i = 0; i < list.length; i++) copy[i] = list[i];
  return newHeadersRecord(copy, h[H_GUARD]);
}

// Internal helpers, set up in the class body when the class is created
// (headersClass()); until then no Headers instance can exist.
let headersRecordFill; // (h, init): Fetch "fill", respects the guard
let headersFromRecord; // (h) -> a Headers object over the record
let isHeaders = (value) => false;

const headersClass = once(() => {

  class Headers {
    #h; // its record, from newHeadersRecord()

    // Fetch §5.2 constructor(init)
    constructor(init = undefined) {
      if (init === kInternal) return; // headersFromRecord sets #h
      this.#h = newHeadersRecord([], "none");
      if (init !== undefined) Headers.#fill(this.#h, init);
    }

    // Fetch §5.2 "fill"
    static #fill(h, init) {
      if (!isObjectLike(init)) {
        throw new TypeErrorCtor(
          "Headers: the init value must be a sequence of name/value pairs or a record",
        );
      }
      if (#h in init) {
        // Fast path for our own Headers (equivalent to iterating it).
        headersCheckMutable(h);
        const other = init.#h[H_LIST];
        const list = h[H_LIST];
        for (let i = 0; i < other.length; i++) list[list.length] = other[i];
        h[H_SORTED] = null;
        return;
      }
      const method = init[SymbolIterator];
      if (method !== undefined && method !== null) {
        // sequence<sequence<ByteString>>
        if (typeof method !== "function") {
          throw new TypeErrorCtor("Headers: the init value's Symbol.iterator is not a function");
        }
        for (const header of { [SymbolIterator]: () => ReflectApply(method, init, []) }) {
          if (!isObjectLike(header) || typeof header[SymbolIterator] !== "function") {
            throw new TypeErrorCtor("Headers: each header must be a sequence of two strings");
          }
          const pair = [...header];
          if (pair.length !== 2) {
            throw new TypeErrorCtor(
              `Headers: a header pair must contain exactly two items, got ${pair.length}`,
            );
          }
          headersRecordAppend(h, pair[0], pair[1], "Headers");
        }
        return;
      }
      // record<ByteString, ByteString>: own enumerable string keys
      const keys = ObjectKeys(init);
      for (let i = 0; i < keys.length; i++) {
        headersRecordAppend(h, keys[i], init[keys[i]], "Headers");
      }
    }

    append(name, value) {
      requireArguments(arguments.length, 2, "Headers.append");
      headersRecordAppend(this.#h, name, value, "Headers.append");
    }

    delete(name) {
      const h = this.#h;
      requireArguments(arguments.length, 1, "Headers.delete");
      const lower = headerNameFrom(name, "Headers.delete");
      headersCheckMutable(h);
      const list = h[H_LIST];
      let j = 0;
      for (let i = 0; i < list.length; i += 2) {
        if (list[i] !== lower) {
          list[j++] = list[i];
          list[j++] = list[i + 1];
        }
      }
      if (j !== list.length) {
        list.length = j;
        h[H_SORTED] = null;
      }
    }

    get(name) {
      const list = this.#h[H_LIST];
      requireArguments(arguments.length, 1, "Headers.get");
      const lower = headerNameFrom(name, "Headers.get");
      let result = null;
      for (let i = 0; i < list.length; i += 2) {
        if (list[i] === lower) {
          result = result === null ? list[i + 1] : result + ", " + list[i + 1];
        }
      }
      return result;
    }

    getSetCookie() {
      const list = this.#h[H_LIST];
      const out = [];
      for (let i = 0; i < list.length; i += 2) {
        if (list[i] === "set-cookie") out[out.length] = list[i + 1];
      }
      return out;
    }

    has(name) {
      const list = this.#h[H_LIST];
      requireArguments(arguments.length, 1, "Headers.has");
      const lower = headerNameFrom(name, "Headers.has");
      for (let i = 0; i < list.length; i += 2) {
        if (list[i] === lower) return true;
      }
      return false;
    }

    set(name, value) {
      const h = this.#h;
      requireArguments(arguments.length, 2, "Headers.set");
      headerPairFrom(name, value, "Headers.set");
      const lower = headerPairName;
      const normalized = headerPairValue;
      headersCheckMutable(h);
      // Fetch §2.2 header list "set": replace the first, remove the others.
      const list = h[H_LIST];
      let found = false;
      let j = 0;
      for (let i = 0; i < list.length; i += 2) {
        if (list[i] === lower) {
          if (found) continue;
          found = true;
          list[j++] = lower;
          list[j++] = normalized;
          continue;
        }
        list[j++] = list[i];
        list[j++] = list[i + 1];
      }
      list.length = j;
      if (!found) {
        list[list.length] = lower;
        list[list.length] = normalized;
      }
      h[H_SORTED] = null;
    }

    forEach(callback, thisArg = undefined) {
      const h = this.#h;
      requireArguments(arguments.length, 1, "Headers.forEach");
      if (typeof callback !== "function") {
        throw new TypeErrorCtor("Headers.forEach: the callback is not a function");
      }
      // Web IDL iterable forEach: the pairs are re-read at each step.
      for (let i = 0; i < headersSortAndCombine(h).length; i++) {
        const pair = headersSortAndCombine(h)[i];
        ReflectApply(callback, thisArg, [pair[1], pair[0], this]);
      }
    }

    static {
      headersFromRecord = (h) => {
        const headers = new Headers(kInternal);
        headers.#h = h;
        return headers;
      };
      headersRecordFill = (h, init) => Headers.#fill(h, init);
      isHeaders = (value) => isObjectLike(value) && #h in value;
      definePairIterable(
        Headers,
        "Headers Iterator",
        isHeaders,
        (headers) => headersSortAndCombine(headers.#h).length,
        (headers, index) => headersSortAndCombine(headers.#h)[index],
      );
    }
  }
  configureInterface(Headers);
  registerInspectHook(Headers, pairsAsInspectFields);
  return Headers;
});

exposeLazyInterface("Headers", headersClass);
