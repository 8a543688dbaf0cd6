// 17_user_workers.js
//
// EdgeRuntime.userWorkers, only in the main service (Supabase edge-runtime's
// programmable main worker):
//
//   const worker = await EdgeRuntime.userWorkers.create({ servicePath, memoryLimitMb,
//     workerTimeoutMs, cpuTimeSoftLimitMs, cpuTimeHardLimitMs, envVars, forceCreate });
//   return await worker.fetch(request);
//
// Failures are exceptions with Supabase's names: InvalidWorkerCreation (the
// worker cannot be created or its code does not boot), WorkerRequestCancelled
// (the worker was stopped while serving: `error.reason` is cpu, memory,
// wall_clock, ...), WorkerUnavailable (no worker became free in time).

function userWorkerError(json) {
  let record;
  try {
    record = JSONParse(json);
  } catch {
    record = { name: "Error", message: String(json), reason: null };
  }
  const error = new ErrorCtor(record.message);
  ObjectDefineProperty(error, "name", { value: record.name, writable: true, configurable: true });
  if (record.reason !== null && record.reason !== undefined) error.reason = record.reason;
  return error;
}

// Fetch §5.4 dictionary members the main service may pass, normalised for the host.
function userWorkerOptions(options) {
  const o = toDictionary(options, "EdgeRuntime.userWorkers.create") ?? {};
  const servicePath = o.servicePath;
  if (typeof servicePath !== "string" || servicePath === "") {
    throw new TypeErrorCtor("EdgeRuntime.userWorkers.create: servicePath must be a non-empty string");
  }
  const limit = (name) => {
    const value = o[name];
    if (value === undefined || value === null) return null;
    const n = Number(value);
    if (!(n > 0) || n > Number.MAX_SAFE_INTEGER) {
      throw new TypeErrorCtor(`EdgeRuntime.userWorkers.create: ${name} must be a positive number`);
    }
    return Math.ceil(n);
  };
  // envVars: [[name, value], ...] as in Supabase's example, or a record.
  const envVars = [];
  const env = o.envVars;
  if (env !== undefined && env !== null) {
    const pairs = ArrayIsArray(env) ? env : Object.entries(env);
    for (const pair of pairs) {
      if (!ArrayIsArray(pair) || pair.length !== 2) {
        throw new TypeErrorCtor("EdgeRuntime.userWorkers.create: envVars must be [name, value] pairs");
      }
      envVars[envVars.length] = [String(pair[0]), String(pair[1])];
    }
  }
  return JSONStringify({
    servicePath,
    memoryLimitMb: limit("memoryLimitMb"),
    workerTimeoutMs: limit("workerTimeoutMs"),
    cpuTimeSoftLimitMs: limit("cpuTimeSoftLimitMs"),
    cpuTimeHardLimitMs: limit("cpuTimeHardLimitMs"),
    envVars,
    forceCreate: !!o.forceCreate,
  });
}

// A Response over a body held by the host (a user worker's response).
function createHostResponse(status, statusText, headersFlat, bodyId) {
  const Response = responseClass();
  return new Response(
    kInternal,
    newResponseRecord(
      status,
      statusText,
      newHeadersRecord(headersFlat, "response"),
      bodyId === -1 ? null : newBodyState(BODY_HOST, bodyId),
    ),
  );
}

const userWorkerClass = once(() => {
  class UserWorker {
    #key;

    constructor(token = undefined, key = undefined) {
      if (token !== kInternal) throw new TypeErrorCtor("Illegal constructor");
      this.#key = key;
    }

    get key() {
      return this.#key;
    }

    async fetch(input, init = undefined) {
      const Request = requestClass();
      const request = isRequest(input) && init === undefined ? input : new Request(input, init);
      const r = requestInternals(request);
      const headers = r[RQ_H][H_LIST];
      let body = null;
      const state = r[RQ_BODY];
      if (state !== null) {
        if (bodyIsUnusable(state)) {
          throw new TypeErrorCtor("UserWorker.fetch: the request body has already been used");
        }
        if (state[B_KIND] === BODY_HOST && state[B_STREAM] === undefined && !state[B_USED]) {
          // An untouched incoming body goes to the user worker as it is.
          body = state[B_SOURCE];
          state[B_USED] = true;
        } else {
          body = newUint8Array(await request.arrayBuffer());
        }
      }
      const key = this.#key;
      const head = await new PromiseCtor((resolve, reject) => {
        const opId = registerHostOp((value, error) => {
          if (error !== undefined) reject(userWorkerError(error));
          else resolve(value);
        });
        try {
          host.userWorkerFetch(key, r[RQ_METHOD], r[RQ_URL], headers, body, opId);
        } catch (error) {
          forgetHostOp(opId);
          reject(error);
        }
      });
      return createHostResponse(head[0], head[1], head[2], head[3]);
    }
  }
  configureInterface(UserWorker);
  return UserWorker;
});

if (config.userWorkers === true) {
  ObjectDefineProperty(EdgeRuntime, "userWorkers", {
    value: ObjectFreeze({
      async create(options) {
        const [created, result] = host.userWorkerCreate(userWorkerOptions(options));
        if (!created) throw userWorkerError(result);
        const UserWorker = userWorkerClass();
        return new UserWorker(kInternal, result);
      },
    }),
    enumerable: true,
  });
}
