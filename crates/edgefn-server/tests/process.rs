//! Functions in another language: Python handlers run unmodified by the real `awslambdaric`,
//! and a custom `bootstrap` speaking the Runtime API directly, with the limits and recovery of
//! the isolates. A JS function is served alongside throughout.

mod support;

use std::collections::HashSet;

use support::{RunningServer, TestServer, lambda_python};

const APP: &str = r#"
import base64, json, os, time

def handler(event, context):
    path = event["rawPath"]
    if path.endswith("/boom"):
        raise KeyError("missing thing")
    if path.endswith("/binary"):
        return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
                "body": base64.b64encode(bytes([0, 255, 1, 254])).decode(), "isBase64Encoded": True}
    if path.endswith("/bare"):
        return {"just": "an object"}
    if path.endswith("/slow"):
        time.sleep(float(event["queryStringParameters"]["s"]))
    if path.endswith("/spin"):
        while True:
            pass
    if path.endswith("/hog"):
        hoard = []
        while True:
            hoard.append(bytearray(16 * 1024 * 1024))
    if path.endswith("/hang"):
        with open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "pid"), "w") as f:
            f.write(str(os.getpid()))
        time.sleep(3600)
    print("handled", path, flush=True)
    body = event.get("body")
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).hex()
    return {
        "statusCode": 201,
        "headers": {"content-type": "application/json", "x-echo": event["headers"].get("x-echo", "")},
        "cookies": ["session=abc; Path=/"],
        "body": json.dumps({
            "path": path, "query": event.get("queryStringParameters"),
            "params": event.get("pathParameters"), "body": body, "pid": os.getpid(),
            "env": {k: os.environ.get(k) for k in ["AWS_LAMBDA_FUNCTION_NAME", "_HANDLER",
                    "LAMBDA_TASK_ROOT", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "CONFIGURED", "HOME"]},
        }),
    }
"#;

const JS: &str = "Deno.serve(() => new Response('js alongside'));";

fn python_function(srv: TestServer, name: &str, handler: &str) -> TestServer {
    let manifest = format!(
        "runtime = \"process\"\ncommand = [\"{}\", \"-m\", \"awslambdaric\", \"{handler}\"]\n",
        lambda_python()
    );
    srv.file(&format!("{name}/app.py"), APP)
        .file(&format!("{name}/function.toml"), &manifest)
}

async fn js_still_serves(srv: &RunningServer) {
    assert_eq!(srv.get_text("/js").await, (200, "js alongside".into()));
}

#[tokio::test]
async fn awslambdaric_runs_a_python_handler_unmodified() {
    let srv = python_function(TestServer::new(), "py", "app.handler")
        .function("js", JS)
        .env("py", "CONFIGURED", "yes")
        .start()
        .await;
    let response = srv
        .client()
        .post(srv.url("/py/items/42?q=rust&page=2"))
        .header("content-type", "application/json")
        .header("x-echo", "hello")
        .body(r#"{"a":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-echo"], "hello");
    assert_eq!(response.headers()["set-cookie"], "session=abc; Path=/");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["path"], "/py/items/42");
    assert_eq!(body["query"], serde_json::json!({"q": "rust", "page": "2"}));
    assert_eq!(body["params"], serde_json::json!({"proxy": "items/42"}));
    assert_eq!(body["body"], r#"{"a":1}"#);
    let env = &body["env"];
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "py");
    assert_eq!(env["_HANDLER"], "app.handler");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "150");
    assert_eq!(env["CONFIGURED"], "yes");
    assert!(env["LAMBDA_TASK_ROOT"].as_str().unwrap().ends_with("/py"));
    assert_eq!(
        env["HOME"],
        serde_json::Value::Null,
        "the server's environment leaked"
    );
    js_still_serves(&srv).await;
}

#[tokio::test]
async fn binary_bodies_travel_as_base64_both_ways() {
    let srv = python_function(TestServer::new(), "py", "app.handler")
        .start()
        .await;
    let response = srv
        .client()
        .post(srv.url("/py"))
        .header("content-type", "application/octet-stream")
        .body(vec![0u8, 159, 146, 150])
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["body"], "009f9296");
    let response = srv.get("/py/binary").await;
    assert_eq!(
        response.headers()["content-type"],
        "application/octet-stream"
    );
    assert_eq!(response.bytes().await.unwrap().as_ref(), &[0, 255, 1, 254]);
    let (status, bare) = srv.get_json("/py/bare").await;
    assert_eq!(
        (status, bare),
        (200, serde_json::json!({"just": "an object"}))
    );
}

#[tokio::test]
async fn an_exception_is_502_with_its_type() {
    let srv = python_function(TestServer::new(), "py", "app.handler")
        .function("js", JS)
        .start()
        .await;
    let (status, body) = srv.get_json("/py/boom").await;
    assert_eq!(status, 502);
    assert_eq!(body["error"], "FunctionError");
    assert_eq!(body["errorType"], "KeyError");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("missing thing")
    );
    // The same process keeps serving.
    assert_eq!(srv.get_json("/py").await.0, 201);
    js_still_serves(&srv).await;
}

#[tokio::test]
async fn a_missing_handler_is_a_boot_error() {
    let srv = python_function(TestServer::new(), "py", "app.nonexistent")
        .function("js", JS)
        .start()
        .await;
    let (status, body) = srv.get_json("/py").await;
    assert_eq!(status, 500);
    assert_eq!(body["error"], "BootError");
    assert!(
        body["message"].as_str().unwrap().contains("nonexistent"),
        "{body}"
    );
    js_still_serves(&srv).await;
}

#[tokio::test]
async fn several_processes_serve_concurrently() {
    let srv = python_function(TestServer::new(), "py", "app.handler")
        .config(|c| c.functions.entry("py".into()).or_default().max_parallelism = Some(3))
        .start()
        .await;
    let requests: Vec<_> = (0..6)
        .map(|_| {
            let client = srv.client().clone();
            let url = srv.url("/py/slow?s=0.3");
            tokio::spawn(async move {
                let body: serde_json::Value =
                    client.get(url).send().await.unwrap().json().await.unwrap();
                body["pid"].as_u64().unwrap()
            })
        })
        .collect();
    let mut pids = HashSet::new();
    for request in requests {
        pids.insert(request.await.unwrap());
    }
    assert!(pids.len() > 1 && pids.len() <= 3, "{pids:?}");
}

#[tokio::test]
async fn a_handler_past_its_timeout_gets_504_and_its_process_is_replaced() {
    let srv = python_function(TestServer::new(), "py", "app.handler")
        .function("js", JS)
        .config(|c| {
            c.functions
                .entry("py".into())
                .or_default()
                .limits
                .wall_clock_ms = Some(500)
        })
        .start()
        .await;
    let first = srv.get_json("/py").await.1["pid"].clone();
    let (status, body) = srv.get_json("/py/slow?s=30").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (504, Some("WorkerTimeout"))
    );
    js_still_serves(&srv).await;
    let (status, body) = srv.get_json("/py").await;
    assert_eq!(status, 201);
    assert_ne!(body["pid"], first);
}

#[tokio::test]
async fn a_process_killed_from_outside_is_502_process_exited_and_replaced() {
    let srv = python_function(TestServer::new(), "py", "app.handler")
        .function("js", JS)
        .start()
        .await;
    let hanging = tokio::spawn({
        let client = srv.client().clone();
        let url = srv.url("/py/hang");
        async move {
            let response = client.get(url).send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<serde_json::Value>().await.unwrap(),
            )
        }
    });
    let pid_file = srv.functions_dir().join("py/pid");
    let read_pid = || async { std::fs::read_to_string(&pid_file).unwrap_or_default() };
    let pid = support::eventually(read_pid, |pid| !pid.is_empty()).await;
    assert!(!pid.is_empty(), "the handler never started");
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let (status, body) = hanging.await.unwrap();
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"], "ProcessExited");
    js_still_serves(&srv).await;
    let (status, body) = srv.get_json("/py").await;
    assert_eq!(status, 201);
    assert_ne!(body["pid"].to_string(), pid);
}

#[tokio::test]
async fn a_memory_hog_is_546_memory() {
    let srv = python_function(TestServer::new(), "py", "app.handler")
        .function("js", JS)
        .config(|c| c.functions.entry("py".into()).or_default().limits.memory_mb = Some(256))
        .start()
        .await;
    let (status, body) = srv.get_json("/py/hog").await;
    assert_eq!(status, 546, "{body}");
    assert_eq!(body["reason"], "memory");
    js_still_serves(&srv).await;
    assert_eq!(srv.get_json("/py").await.0, 201);
}

#[tokio::test]
async fn a_cpu_hog_is_546_cpu() {
    let srv = python_function(TestServer::new(), "hot", "app.handler")
        .function("js", JS)
        .config(|c| {
            let hot = c.functions.entry("hot".into()).or_default();
            hot.limits.cpu_soft_ms = Some(500);
            hot.limits.cpu_hard_ms = Some(1000);
        })
        .start()
        .await;
    let (status, body) = srv.get_json("/hot/spin").await;
    assert_eq!(status, 546, "{body}");
    assert_eq!(body["reason"], "cpu");
    js_still_serves(&srv).await;
    assert_eq!(srv.get_json("/hot").await.0, 201);
}

/// A custom runtime speaking the Runtime API directly (stdlib Python, no awslambdaric).
const BOOTSTRAP: &str = r#"#!/usr/bin/env python3
import json, os, urllib.error, urllib.request

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
ROOT = os.environ["LAMBDA_TASK_ROOT"]

def post(path, data, headers=None):
    request = urllib.request.Request(API + path, data=data, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(request) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code

if os.path.exists(os.path.join(ROOT, "fail-init")):
    post("/init/error", json.dumps({"errorType": "Init.Broken", "errorMessage": "cannot start"}).encode())
    raise SystemExit(1)

finished = None
while True:
    with urllib.request.urlopen(API + "/invocation/next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(r.read())
    path = event["rawPath"]
    if path.endswith("/huge"):
        status = post(f"/invocation/{rid}/response", b'"' + b"x" * (7 * 1024 * 1024) + b'"')
        with open(os.path.join(ROOT, "huge-status"), "w") as f:
            f.write(str(status))
    elif path.endswith("/states"):
        unknown = post("/invocation/no-such-id/response", b"{}")
        stale = post(f"/invocation/{finished}/response", b"{}") if finished else 0
        post(f"/invocation/{rid}/response", json.dumps({"unknown": unknown, "stale": stale}).encode())
    elif path.endswith("/stream"):
        def chunks():
            yield json.dumps({"statusCode": 207, "headers": {"x-streamed": "yes"}}).encode() + b"\0" * 8
            yield b"first;"
            gate = os.path.join(ROOT, "go-on")
            while not os.path.exists(gate):
                pass
            yield b"second"
        request = urllib.request.Request(
            f"{API}/invocation/{rid}/response", data=chunks(), method="POST",
            headers={"Lambda-Runtime-Function-Response-Mode": "streaming",
                     "Content-Type": "application/vnd.awslambda.http-integration-response",
                     "Transfer-Encoding": "chunked"})
        urllib.request.urlopen(request).read()
    else:
        post(f"/invocation/{rid}/response", json.dumps({"statusCode": 200, "body": "bootstrap " + path}).encode())
    finished = rid
"#;

#[tokio::test]
async fn a_custom_bootstrap_speaks_the_runtime_api() {
    let srv = TestServer::new()
        .executable("custom/bootstrap", BOOTSTRAP)
        .start()
        .await;
    assert_eq!(
        srv.get_text("/custom/x").await,
        (200, "bootstrap /custom/x".into())
    );
    // An unknown id is 400; a call for an invocation that is already answered is 403.
    let (status, body) = srv.get_json("/custom/states").await;
    assert_eq!(status, 200);
    assert_eq!(body, serde_json::json!({"unknown": 400, "stale": 403}));
}

#[tokio::test]
async fn a_response_over_6_mb_is_refused() {
    let srv = TestServer::new()
        .executable("custom/bootstrap", BOOTSTRAP)
        .start()
        .await;
    let (status, body) = srv.get_json("/custom/huge").await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["errorType"], "Function.ResponseSizeTooLarge");
    // The runtime records the status it got once its POST returns.
    let record = srv.functions_dir().join("custom/huge-status");
    let read_record = || async { std::fs::read_to_string(&record).unwrap_or_default() };
    let runtime_saw = support::eventually(read_record, |saw| !saw.is_empty()).await;
    assert_eq!(runtime_saw, "413");
}

#[tokio::test]
async fn an_init_error_is_a_boot_error() {
    let srv = TestServer::new()
        .executable("custom/bootstrap", BOOTSTRAP)
        .file("custom/fail-init", "")
        .function("js", JS)
        .start()
        .await;
    let (status, body) = srv.get_json("/custom").await;
    assert_eq!(status, 500);
    assert_eq!(body["error"], "BootError");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("Init.Broken") && message.contains("cannot start"),
        "{message}"
    );
    js_still_serves(&srv).await;
}

#[tokio::test]
async fn a_streamed_response_reaches_the_client_as_it_arrives() {
    let srv = TestServer::new()
        .executable("custom/bootstrap", BOOTSTRAP)
        .start()
        .await;
    let mut response = srv.get("/custom/stream").await;
    assert_eq!(response.status(), 207);
    assert_eq!(response.headers()["x-streamed"], "yes");
    assert_eq!(response.chunk().await.unwrap().unwrap(), &b"first;"[..]);
    // The runtime only sends the rest once the client has the first part.
    std::fs::write(srv.functions_dir().join("custom/go-on"), "").unwrap();
    let mut rest = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        rest.extend_from_slice(&chunk);
    }
    assert_eq!(rest, b"second");
}
