// A programmable main service, written like Supabase edge-runtime's examples/main: it receives
// every request and routes /<name>/... to the function folder examples/functions/<name>,
// with per-request limits.
//
//   edgefn start --main-service examples/main-service
//   curl localhost:9000/hello

Deno.serve(async (req: Request) => {
  const url = new URL(req.url);
  const serviceName = url.pathname.split("/")[1];
  if (!serviceName) {
    return Response.json({ msg: "missing function name in request" }, { status: 400 });
  }
  const servicePath = `./examples/functions/${serviceName}`;
  const envVarsObj = Deno.env.toObject();
  const envVars = Object.keys(envVarsObj).map((k) => [k, envVarsObj[k]]);
  try {
    const worker = await EdgeRuntime.userWorkers.create({
      servicePath,
      memoryLimitMb: 150,
      workerTimeoutMs: 60 * 1000,
      cpuTimeSoftLimitMs: 1000,
      cpuTimeHardLimitMs: 2000,
      envVars,
    });
    return await worker.fetch(req);
  } catch (e) {
    const status = e.name === "InvalidWorkerCreation" ? 404 : 500;
    return Response.json({ msg: String(e), reason: e.reason ?? null }, { status });
  }
});
