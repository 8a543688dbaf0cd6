//! What an operator watches: health, readiness, Prometheus metrics that move as requests, cold
//! starts and terminations happen, request ids, and `--watch`.

mod support;

use support::{TestServer, metrics, value};

#[tokio::test]
async fn health_and_readiness() {
    let srv = TestServer::new().start().await;
    let (status, body) = srv.get_json("/_edgefn/health").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, body) = support::eventually(
        || srv.get_json("/_edgefn/ready"),
        |(status, _)| *status == 200,
    )
    .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")));
}

/// Readiness waits for the warm-up: until every thread has its prepared isolates (and the Web
/// layer is compiled), it answers 503 `starting`, while functions are already served.
#[tokio::test]
async fn readiness_answers_starting_until_the_pool_is_warm() {
    let srv = TestServer::new()
        .threads(2)
        .config(|c| c.pool.prepared_isolates = 16)
        .function("early", "Deno.serve(() => new Response('served'));")
        .start()
        .await;
    assert_eq!(srv.get_text("/early").await, (200, "served".into()));
    let mut answers = Vec::new();
    loop {
        let (status, body) = srv.get_json("/_edgefn/ready").await;
        if status == 200 {
            assert_eq!(body["status"], "ready");
            break;
        }
        assert_eq!((status, body["status"].as_str()), (503, Some("starting")));
        answers.push(status);
        assert!(answers.len() < 10_000, "never ready");
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    // Both threads made their 16; the function's worker took one of them, and its thread is
    // making a new one, which may not be there yet.
    let prepared = value(&metrics(&srv).await, "edgefn_prepared_isolates");
    assert!(prepared >= 31.0, "ready with {prepared} isolates prepared");
}

/// With no prepared isolates to make, the warm-up is the layer's compilation alone.
#[tokio::test]
async fn readiness_comes_without_prepared_isolates() {
    let srv = TestServer::new()
        .config(|c| c.pool.prepared_isolates = 0)
        .start()
        .await;
    let (status, body) = support::eventually(
        || srv.get_json("/_edgefn/ready"),
        |(status, _)| *status == 200,
    )
    .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")));
    assert_eq!(value(&metrics(&srv).await, "edgefn_prepared_isolates"), 0.0);
}

#[tokio::test]
async fn metrics_move_with_requests_cold_starts_and_terminations() {
    let srv = TestServer::new()
        .function("counted", "Deno.serve(() => new Response('ok'));")
        .function("spinner", "Deno.serve(() => { while (true) {} });")
        .config(|c| {
            let spinner = c.functions.entry("spinner".into()).or_default();
            spinner.limits.cpu_soft_ms = Some(20);
            spinner.limits.cpu_hard_ms = Some(50);
        })
        .start()
        .await;
    let before = metrics(&srv).await;
    let ok = r#"edgefn_requests_total{function="counted",status="200"}"#;
    assert_eq!(value(&before, ok), 0.0);
    for _ in 0..3 {
        assert_eq!(srv.get_text("/counted").await.0, 200);
    }
    assert_eq!(srv.get_json("/spinner").await.0, 546);
    let after = metrics(&srv).await;
    assert_eq!(value(&after, ok), 3.0);
    assert_eq!(
        value(
            &after,
            r#"edgefn_requests_total{function="spinner",status="546"}"#
        ),
        1.0
    );
    assert_eq!(
        value(&after, r#"edgefn_cold_starts_total{function="counted"}"#),
        1.0
    );
    assert_eq!(
        value(
            &after,
            r#"edgefn_worker_terminations_total{function="spinner",reason="cpu"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &after,
            r#"edgefn_request_duration_seconds_count{function="counted"}"#
        ),
        3.0
    );
    assert!(value(&after, r#"edgefn_cpu_seconds_total{function="spinner"}"#) >= 0.05);
    assert_eq!(
        value(&after, r#"edgefn_workers{function="counted",state="idle"}"#),
        1.0
    );
    assert!(value(&after, r#"edgefn_memory_bytes{function="counted"}"#) > 0.0);
    assert_eq!(
        value(
            &after,
            r#"edgefn_boot_duration_seconds_count{function="counted"}"#
        ),
        1.0
    );
}

#[tokio::test]
async fn request_id_is_honoured_or_generated_and_returned() {
    let srv = TestServer::new()
        .function(
            "f",
            "Deno.serve((req) => new Response(req.headers.get('x-request-id')));",
        )
        .start()
        .await;
    let response = srv
        .client()
        .get(srv.url("/f"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-me-42");
    assert_eq!(response.text().await.unwrap(), "trace-me-42");
    let response = srv.get("/f").await;
    let generated = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(generated.len(), 36, "{generated}");
    assert_eq!(
        response.text().await.unwrap(),
        generated,
        "the function sees the same id"
    );
    // Errors carry it too.
    assert!(
        srv.get("/missing")
            .await
            .headers()
            .contains_key("x-request-id")
    );
}

#[tokio::test]
async fn admin_endpoints_can_move_to_their_own_port() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let srv = TestServer::new()
        .function("f", "Deno.serve(() => new Response('function'));")
        .config(|c| c.server.admin_port = Some(port))
        .start()
        .await;
    assert_eq!(srv.get_json("/_edgefn/health").await.0, 404);
    assert_eq!(srv.get_text("/f").await, (200, "function".into()));
    let ready = || async {
        reqwest::get(format!("http://127.0.0.1:{port}/_edgefn/ready"))
            .await
            .unwrap()
            .status()
    };
    assert_eq!(
        support::eventually(ready, |status| *status == 200).await,
        200
    );
    let admin = reqwest::get(format!("http://127.0.0.1:{port}/f"))
        .await
        .unwrap();
    assert_eq!(admin.status(), 404);
}

#[tokio::test]
async fn watch_replaces_the_workers_of_an_edited_function() {
    let srv = TestServer::new()
        .function("live", "Deno.serve(() => new Response('version 1'));")
        .config(|c| c.watch = true)
        .start()
        .await;
    assert_eq!(srv.get_text("/live").await, (200, "version 1".into()));
    std::fs::write(
        srv.functions_dir().join("live/index.js"),
        "Deno.serve(() => new Response('version 2'));",
    )
    .unwrap();
    let seen = support::eventually(
        || async { srv.get_text("/live").await.1 },
        |s| s == "version 2",
    )
    .await;
    assert_eq!(seen, "version 2");
}
