//! Two popular router frameworks from the npm registry (Hono, itty-router), bundled with
//! esbuild by `scripts/test`, serve their routes through edgefn unmodified: params, queries,
//! JSON bodies, streaming and their own error handling.

mod support;

use support::{RunningServer, TestServer};

fn bundle(app: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../target/frameworks/out/{app}/index.js"));
    std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run scripts/test, which bundles it",
            path.display()
        )
    })
}

async fn server() -> RunningServer {
    TestServer::new()
        .file("hono/index.js", &bundle("hono"))
        .file("itty/index.js", &bundle("itty"))
        .start()
        .await
}

async fn routes(srv: &RunningServer, app: &str, streamed: &str) {
    let (status, body) = srv.get_json(&format!("/{app}/hello/ann?q=1")).await;
    assert_eq!(status, 200, "{app}");
    assert_eq!(body, serde_json::json!({"hello": "ann", "q": "1"}), "{app}");

    let response = srv
        .client()
        .post(srv.url(&format!("/{app}/echo")))
        .json(&serde_json::json!({"n": [1, 2]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{app}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"received": {"n": [1, 2]}}),
        "{app}"
    );

    assert_eq!(
        srv.get_text(&format!("/{app}/stream")).await,
        (200, streamed.into()),
        "{app}"
    );

    let (status, text) = srv.get_text(&format!("/{app}/teapot")).await;
    assert_eq!(status, 418, "{app}");
    assert!(text.contains("short and stout"), "{app}: {text}");

    let (status, text) = srv.get_text(&format!("/{app}/crash")).await;
    assert_eq!(status, 500, "{app}");
    assert!(text.contains("route failed"), "{app}: {text}");
}

#[tokio::test]
async fn hono_serves_its_routes() {
    let srv = server().await;
    routes(&srv, "hono", "abc").await;
    let (status, body) = srv.get_json("/hono/missing").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("no such route"))
    );
}

#[tokio::test]
async fn itty_router_serves_its_routes() {
    let srv = server().await;
    routes(&srv, "itty", "xyz").await;
}
