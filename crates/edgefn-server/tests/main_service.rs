//! The programmable main service (`--main-service`): a JS function that receives every request
//! and routes it to user workers with `EdgeRuntime.userWorkers.create(...)` and
//! `worker.fetch(request)`, written like Supabase edge-runtime's `examples/main`.

mod support;

use support::TestServer;

const MAIN: &str = r#"
Deno.serve(async (req) => {
  const url = new URL(req.url);
  const serviceName = url.pathname.split('/')[1];
  if (!serviceName) {
    return Response.json({ msg: 'missing function name in request' }, { status: 400 });
  }
  const servicePath = `${Deno.env.get('FUNCTIONS_DIR')}/${serviceName}`;
  const envVarsObj = Deno.env.toObject();
  const envVars = Object.keys(envVarsObj).map((k) => [k, envVarsObj[k]]);
  const limits = serviceName === 'spinner'
    ? { cpuTimeSoftLimitMs: 50, cpuTimeHardLimitMs: 100 }
    : serviceName === 'sleeper' ? { workerTimeoutMs: 200 } : {};
  try {
    const worker = await EdgeRuntime.userWorkers.create({
      servicePath,
      memoryLimitMb: 150,
      workerTimeoutMs: 60 * 1000,
      envVars,
      forceCreate: url.searchParams.has('force'),
      ...limits,
    });
    return await worker.fetch(req);
  } catch (e) {
    return Response.json({ msg: e.toString(), name: e.name, reason: e.reason ?? null }, { status: 500 });
  }
});
"#;

fn server() -> TestServer {
    TestServer::new()
        .main_service(MAIN)
        .function(
            "hello",
            "let n = 0; Deno.serve((req) => new Response(`hello ${++n} ${new URL(req.url).pathname} ${Deno.env.get('FUNCTIONS_DIR') !== undefined}`));",
        )
        .function("echo", "Deno.serve(async (req) => Response.json({ got: await req.json(), method: req.method, type: req.headers.get('content-type') }));")
        .function(
            "stream",
            "Deno.serve(() => new Response(ReadableStream.from(['a', 'b', 'c'].map((s) => new TextEncoder().encode(s)))));",
        )
        .function("spinner", "Deno.serve(() => { while (true) {} });")
        .function("sleeper", "Deno.serve(() => new Promise(() => {}));")
        .function("thrower", "Deno.serve(() => { throw new Error('user worker threw'); });")
        .function("broken", "export const = ;")
}

#[tokio::test]
async fn routes_every_request_to_user_workers() {
    let srv = server().start().await;
    assert_eq!(
        srv.get_text("/hello/x").await,
        (200, "hello 1 /hello/x true".into())
    );
    // The same options reuse the same worker; forceCreate makes a new one.
    assert_eq!(
        srv.get_text("/hello").await,
        (200, "hello 2 /hello true".into())
    );
    assert_eq!(
        srv.get_text("/hello?force").await,
        (200, "hello 1 /hello true".into())
    );
    let (status, body) = srv.get_json("/").await;
    assert_eq!(
        (status, body["msg"].as_str()),
        (400, Some("missing function name in request"))
    );
    // The server's own endpoints are not routed to the main service.
    assert_eq!(srv.get_json("/_edgefn/health").await.0, 200);
}

#[tokio::test]
async fn request_bodies_and_streamed_responses_pass_through() {
    let srv = server().start().await;
    let response = srv
        .client()
        .post(srv.url("/echo"))
        .json(&serde_json::json!({"through": "main"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"got": {"through": "main"}, "method": "POST", "type": "application/json"})
    );
    assert_eq!(srv.get_text("/stream").await, (200, "abc".into()));
}

#[tokio::test]
async fn per_request_limits_surface_as_worker_request_cancelled() {
    let srv = server().start().await;
    let (status, body) = srv.get_json("/spinner").await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["name"], "WorkerRequestCancelled");
    assert_eq!(body["reason"], "cpu");
    let (status, body) = srv.get_json("/sleeper").await;
    assert_eq!(
        (status, body["name"].as_str()),
        (500, Some("WorkerRequestCancelled"))
    );
    assert_eq!(body["reason"], "wall_clock");
    // The main service and the other user workers keep serving.
    assert_eq!(srv.get_text("/hello").await.0, 200);
}

#[tokio::test]
async fn creation_and_boot_failures_are_invalid_worker_creation() {
    let srv = server().start().await;
    for path in ["/missing", "/broken"] {
        let (status, body) = srv.get_json(path).await;
        assert_eq!(status, 500, "{path}: {body}");
        assert_eq!(body["name"], "InvalidWorkerCreation", "{path}: {body}");
    }
    let (status, body) = srv.get_json("/broken").await;
    assert!(
        body["msg"].as_str().unwrap().contains("SyntaxError"),
        "{status} {body}"
    );
}

#[tokio::test]
async fn user_worker_exceptions_answer_like_the_router() {
    let srv = server().start().await;
    let (status, body) = srv.get_json("/thrower").await;
    assert_eq!(status, 500);
    assert_eq!(body["error"], "UncaughtException");
    assert_eq!(body["message"], "Error: user worker threw");
}

#[tokio::test]
async fn user_workers_api_is_only_in_the_main_service() {
    let srv = TestServer::new()
        .function(
            "f",
            "Deno.serve(() => new Response(`${EdgeRuntime.userWorkers} ${typeof EventManager}`));",
        )
        .start()
        .await;
    assert_eq!(
        srv.get_text("/f").await,
        (200, "undefined undefined".into()),
        "neither the main service's API nor the event worker's is in an ordinary function"
    );
}
