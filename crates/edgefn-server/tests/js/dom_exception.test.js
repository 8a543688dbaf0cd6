// WebIDL §3.14.1 DOMException: names, legacy codes and constants.
import { assert, assertEquals, assertThrows, run, test } from "./_harness.js";

const constants = [
  "INDEX_SIZE_ERR", "DOMSTRING_SIZE_ERR", "HIERARCHY_REQUEST_ERR", "WRONG_DOCUMENT_ERR",
  "INVALID_CHARACTER_ERR", "NO_DATA_ALLOWED_ERR", "NO_MODIFICATION_ALLOWED_ERR", "NOT_FOUND_ERR",
  "NOT_SUPPORTED_ERR", "INUSE_ATTRIBUTE_ERR", "INVALID_STATE_ERR", "SYNTAX_ERR",
  "INVALID_MODIFICATION_ERR", "NAMESPACE_ERR", "INVALID_ACCESS_ERR", "VALIDATION_ERR",
  "TYPE_MISMATCH_ERR", "SECURITY_ERR", "NETWORK_ERR", "ABORT_ERR", "URL_MISMATCH_ERR",
  "QUOTA_EXCEEDED_ERR", "TIMEOUT_ERR", "INVALID_NODE_TYPE_ERR", "DATA_CLONE_ERR",
];

test("every legacy code constant, on the interface and the prototype, read-only", () => {
  constants.forEach((name, i) => {
    assertEquals(DOMException[name], i + 1, name);
    assertEquals(DOMException.prototype[name], i + 1, name);
    const desc = Object.getOwnPropertyDescriptor(DOMException, name);
    assertEquals([desc.writable, desc.enumerable, desc.configurable], [false, true, false], name);
  });
});

test("names map to their legacy codes; other names have code 0", () => {
  const names = {
    IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4, InvalidCharacterError: 5,
    NoModificationAllowedError: 7, NotFoundError: 8, NotSupportedError: 9, InUseAttributeError: 10,
    InvalidStateError: 11, SyntaxError: 12, InvalidModificationError: 13, NamespaceError: 14,
    InvalidAccessError: 15, TypeMismatchError: 17, SecurityError: 18, NetworkError: 19,
    AbortError: 20, URLMismatchError: 21, QuotaExceededError: 22, TimeoutError: 23,
    InvalidNodeTypeError: 24, DataCloneError: 25, EncodingError: 0, NotReadableError: 0,
    OperationError: 0, Error: 0,
  };
  for (const [name, code] of Object.entries(names)) {
    assertEquals(new DOMException("m", name).code, code, name);
  }
});

test("defaults, inheritance and string conversion", () => {
  const e = new DOMException();
  assertEquals([e.name, e.message, e.code], ["Error", "", 0]);
  assert(e instanceof Error);
  assertEquals(Object.prototype.toString.call(e), "[object DOMException]");
  const f = new DOMException("went wrong", "NotFoundError");
  assertEquals(String(f), "NotFoundError: went wrong");
  assertEquals(new DOMException(1, 2).name, "2");
  assertEquals(Object.keys(f), []);
});

test("attributes brand-check their receiver", () => {
  const name = Object.getOwnPropertyDescriptor(DOMException.prototype, "name").get;
  assertThrows(() => name.call({}), TypeError);
  const code = Object.getOwnPropertyDescriptor(DOMException.prototype, "code").get;
  assertThrows(() => code.call(new Error("x")), TypeError);
});

test("DOMException can be subclassed", () => {
  class MyError extends DOMException {
    constructor() {
      super("custom", "AbortError");
    }
  }
  const e = new MyError();
  assertEquals([e.name, e.code, e instanceof DOMException], ["AbortError", 20, true]);
});

export default { fetch: run };
