// 03_console.js
//
// The constructor names that `console` (the chunk js/console, loaded on first
// use), inspect() and error messages print.

// The name of the constructor an object was made by, as inspect() and error
// messages print it: "" when unknown, null for a null prototype.
function inspectConstructorName(obj) {
  let proto;
  try {
    proto = ObjectGetPrototypeOf(obj);
  } catch {
    return "";
  }
  if (proto === null) return null;
  let guard = 0;
  while (proto !== null && guard++ < 100) {
    let desc;
    try {
      desc = ObjectGetOwnPropertyDescriptor(proto, "constructor");
    } catch {
      return "";
    }
    if (desc !== undefined && typeof desc.value === "function") {
      const name = safeGet(desc.value, "name");
      if (typeof name === "string" && name !== "") return name;
    }
    try {
      proto = ObjectGetPrototypeOf(proto);
    } catch {
      return "";
    }
  }
  return "";
}

const consoleWrite = forwardToChunk("console", "consoleWrite");
const formatLogArgs = forwardToChunk("console", "formatLogArgs");
