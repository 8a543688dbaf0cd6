//! Every way a function can fail, each with its JSON error, and the server serving every other
//! function afterwards.

mod support;

use support::{RunningServer, TestServer};

const HEALTHY: &str = "Deno.serve(() => new Response('still serving'));";

/// Requests `path`, asserts a 500 `BootError`, and returns the body and its message.
async fn boot_error(srv: &RunningServer, path: &str) -> (serde_json::Value, String) {
    let (status, body) = srv.get_json(path).await;
    assert_eq!(status, 500);
    assert_eq!(body["error"], "BootError");
    let message = body["message"].as_str().unwrap().to_owned();
    (body, message)
}

async fn assert_healthy(srv: &RunningServer) {
    assert_eq!(
        srv.get_text("/healthy").await,
        (200, "still serving".into())
    );
}

#[tokio::test]
async fn syntax_error_is_a_boot_error_naming_file_and_line() {
    let srv = TestServer::new()
        .function("healthy", HEALTHY)
        .function(
            "broken",
            "const a = 1;\nconst b = ;\nDeno.serve(() => new Response('x'));",
        )
        .start()
        .await;
    let (body, message) = boot_error(&srv, "/broken").await;
    assert_eq!(body["function"], "broken");
    assert!(message.contains("SyntaxError"), "{message}");
    assert!(message.contains("broken/index.js:2"), "{message}");
    assert_healthy(&srv).await;
}

#[tokio::test]
async fn typescript_syntax_error_names_file_and_line() {
    let srv = TestServer::new()
        .function("healthy", HEALTHY)
        .ts_function("broken", "let ok: number = 1;\n\nlet bad: = 2;\n")
        .start()
        .await;
    let (_, message) = boot_error(&srv, "/broken").await;
    assert!(message.contains("broken/index.ts:3:"), "{message}");
    assert_healthy(&srv).await;
}

#[tokio::test]
async fn missing_entry_file_is_a_boot_error() {
    let srv = TestServer::new()
        .function("healthy", HEALTHY)
        .file("empty/README.md", "no code here")
        .start()
        .await;
    let (_, message) = boot_error(&srv, "/empty").await;
    assert!(message.contains("missing entry file"), "{message}");
    assert!(message.contains("index.ts"), "{message}");
    assert_healthy(&srv).await;
}

#[tokio::test]
async fn failed_import_is_a_boot_error_naming_the_import() {
    let srv = TestServer::new()
        .function("healthy", HEALTHY)
        .function(
            "f",
            "import { x } from './nope.js';\nDeno.serve(() => new Response(x));",
        )
        .start()
        .await;
    let (_, message) = boot_error(&srv, "/f").await;
    assert!(message.contains("./nope.js"), "{message}");
    assert_healthy(&srv).await;
}

#[tokio::test]
async fn top_level_throw_is_a_boot_error() {
    let srv = TestServer::new()
        .function("healthy", HEALTHY)
        .function("f", "throw new RangeError('bad config');")
        .start()
        .await;
    let (body, message) = boot_error(&srv, "/f").await;
    assert!(message.contains("RangeError: bad config"), "{body}");
    assert_healthy(&srv).await;
}

#[tokio::test]
async fn module_without_a_handler_is_a_boot_error() {
    let srv = TestServer::new()
        .function("healthy", HEALTHY)
        .function("f", "export const notAHandler = 1;")
        .start()
        .await;
    let (body, message) = boot_error(&srv, "/f").await;
    assert!(message.contains("Deno.serve"), "{body}");
    assert_healthy(&srv).await;
}

#[tokio::test]
async fn fixed_code_boots_on_the_next_request() {
    let srv = TestServer::new()
        .function("f", "this is not javascript")
        .start()
        .await;
    assert_eq!(srv.get_json("/f").await.0, 500);
    std::fs::write(
        srv.functions_dir().join("f/index.js"),
        "Deno.serve(() => new Response('fixed'));",
    )
    .unwrap();
    assert_eq!(srv.get_text("/f").await, (200, "fixed".into()));
}

#[tokio::test]
async fn thrown_exception_is_uncaught_exception_and_the_isolate_keeps_serving() {
    let srv = TestServer::new()
        .function("healthy", HEALTHY)
        .function(
            "f",
            r#"Deno.serve((req) => {
                if (new URL(req.url).searchParams.has('throw')) throw new TypeError('boom');
                return new Response('fine');
            });"#,
        )
        .start()
        .await;
    let (status, body) = srv.get_json("/f?throw").await;
    assert_eq!(status, 500);
    assert_eq!(
        body,
        serde_json::json!({"error": "UncaughtException", "function": "f", "message": "TypeError: boom"})
    );
    assert_eq!(srv.get_text("/f").await, (200, "fine".into()));
    assert_healthy(&srv).await;
    let logged = support::function_logs("f");
    assert!(
        logged
            .iter()
            .any(|line| line["fields"]["message"] == "TypeError: boom"),
        "no log line for the exception: {logged:?}"
    );
}

#[tokio::test]
async fn rejected_promise_is_uncaught_exception() {
    let srv = TestServer::new()
        .function("healthy", HEALTHY)
        .function(
            "f",
            "export default { async fetch() { await null; throw new Error('async boom'); } };",
        )
        .start()
        .await;
    let (status, body) = srv.get_json("/f").await;
    assert_eq!(status, 500);
    assert_eq!(body["error"], "UncaughtException");
    assert_eq!(body["message"], "Error: async boom");
    assert_healthy(&srv).await;
}

#[tokio::test]
async fn non_response_results_are_invalid_responses() {
    let srv = TestServer::new()
        .function("healthy", HEALTHY)
        .function(
            "f",
            r#"Deno.serve((req) => {
                const kind = new URL(req.url).searchParams.get('kind');
                if (kind === 'undefined') return undefined;
                if (kind === 'string') return 'hello';
                if (kind === 'object') return { status: 200, body: 'x' };
                return Promise.resolve(42);
            });"#,
        )
        .start()
        .await;
    for kind in ["undefined", "string", "object", "number"] {
        let (status, body) = srv.get_json(&format!("/f?kind={kind}")).await;
        assert_eq!(status, 502, "{kind}");
        assert_eq!(body["error"], "InvalidResponse", "{kind}");
    }
    assert_healthy(&srv).await;
}

#[tokio::test]
async fn rust_panic_is_contained_and_the_worker_replaced() {
    let srv = TestServer::new()
        .function("healthy", HEALTHY)
        .function(
            "f",
            r#"let requests = 0;
               Deno.serve((req) => {
                   requests++;
                   if (new URL(req.url).searchParams.has('panic')) __edgefnTestPanic();
                   return new Response(String(requests));
               });"#,
        )
        .start()
        .await;
    assert_eq!(srv.get_text("/f").await, (200, "1".into()));
    let (status, body) = srv.get_json("/f?panic").await;
    assert_eq!(status, 500);
    assert_eq!(body["error"], "WorkerCrashed");
    assert_eq!(body["reason"], "panic");
    // A fresh isolate: module state starts over.
    assert_eq!(srv.get_text("/f").await, (200, "1".into()));
    assert_healthy(&srv).await;
}

#[tokio::test]
async fn unknown_function_is_404_with_its_name() {
    let srv = TestServer::new().function("healthy", HEALTHY).start().await;
    let (status, body) = srv.get_json("/nope/x").await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        serde_json::json!({"error": "FunctionNotFound", "function": "nope"})
    );
    let (status, body) = srv.get_json("/functions/v1/nope").await;
    assert_eq!((status, body["function"].as_str()), (404, Some("nope")));
}

#[tokio::test]
async fn function_names_with_path_syntax_are_refused() {
    let srv = TestServer::new()
        .function("healthy", HEALTHY)
        .file(".hidden/index.js", HEALTHY)
        .start()
        .await;
    for path in ["/.hidden", "/a%2Fb", "/functions/v1/.hidden"] {
        let (status, body) = srv.get_json(path).await;
        assert_eq!(status, 400, "{path}");
        assert_eq!(body["error"], "InvalidFunctionName", "{path}");
    }
    // HTTP clients normalise dot segments away, so send these raw.
    for path in ["/..", "/../healthy", "/%2e%2e/x", "/functions/v1/../etc"] {
        let raw = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let response = support::raw_http(srv.addr(), raw.as_bytes()).await;
        assert!(response.starts_with("HTTP/1.1 400"), "{path}: {response}");
        assert!(
            response.contains("InvalidFunctionName"),
            "{path}: {response}"
        );
    }
    assert_healthy(&srv).await;
}

#[tokio::test]
async fn unhandled_rejection_is_logged_and_the_request_still_answered() {
    let srv = TestServer::new()
        .function(
            "f",
            r#"Deno.serve(() => {
                Promise.reject(new Error('nobody listens'));
                Promise.reject(new Error('handled later')).catch(() => {});
                return new Response('answered');
            });"#,
        )
        .start()
        .await;
    assert_eq!(srv.get_text("/f").await, (200, "answered".into()));
    let lines = support::function_logs("f");
    let messages: Vec<&str> = lines
        .iter()
        .filter_map(|line| line["fields"]["message"].as_str())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("Uncaught (in promise) Error: nobody listens")),
        "{messages:?}"
    );
    assert!(
        !messages.iter().any(|m| m.contains("handled later")),
        "{messages:?}"
    );
}
