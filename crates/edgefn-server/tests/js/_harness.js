// A minimal test harness for JS test files run by edgefn itself. A test file imports it,
// declares tests, and exports `fetch` from `run`; the Rust runner (tests/web_platform.rs)
// serves each file as a function, requests it, and expects every test to pass.

const tests = [];

export function test(name, fn) {
  tests.push({ name, fn });
}

function show(value) {
  try {
    return typeof value === "string" ? JSON.stringify(value) : String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

export function assert(condition, message = "assertion failed") {
  if (!condition) throw new Error(message);
}

export function assertEquals(actual, expected, message = "") {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e || (typeof actual !== typeof expected)) {
    throw new Error(`${message ? message + ": " : ""}expected ${e} (${typeof expected}), got ${a} (${typeof actual})`);
  }
}

export function assertThrows(fn, ErrorClass = Error, includes = "") {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof ErrorClass)) {
      throw new Error(`expected ${ErrorClass.name}, got ${error?.name}: ${error?.message}`);
    }
    if (includes && !String(error.message).includes(includes)) {
      throw new Error(`expected message containing ${show(includes)}, got ${show(error.message)}`);
    }
    return error;
  }
  throw new Error(`expected ${ErrorClass.name} to be thrown`);
}

export async function assertRejects(fn, ErrorClass = Error, includes = "") {
  try {
    await fn();
  } catch (error) {
    if (!(error instanceof ErrorClass)) {
      throw new Error(`expected rejection with ${ErrorClass.name}, got ${error?.name}: ${error?.message}`);
    }
    if (includes && !String(error.message).includes(includes)) {
      throw new Error(`expected message containing ${show(includes)}, got ${show(error.message)}`);
    }
    return error;
  }
  throw new Error(`expected a rejection with ${ErrorClass.name}`);
}

/// The handler every test file exports: runs the tests, in order, and reports.
export async function run(request) {
  const results = [];
  for (const { name, fn } of tests) {
    try {
      await fn(request);
      results.push({ name, ok: true });
    } catch (error) {
      results.push({ name, ok: false, error: `${error?.name}: ${error?.message}\n${error?.stack ?? ""}` });
    }
  }
  const failed = results.filter((r) => !r.ok);
  return Response.json({ passed: results.length - failed.length, failed: failed.length, failures: failed });
}
