//! The supervisor's limits: each stops only the faulty worker, with the exact termination
//! reason, while another function keeps answering, and the next request to the faulty function
//! gets a fresh isolate.

mod support;

use support::{RunningServer, TestServer};

/// Counts requests in module state, so a fresh isolate shows as "1" again; `?fault` runs the
/// misbehaviour given.
fn faulty(fault: &str) -> String {
    format!(
        r#"let served = 0;
           Deno.serve(async (req) => {{
               served++;
               if (new URL(req.url).searchParams.has('fault')) {{ {fault} }}
               return new Response(String(served));
           }});"#
    )
}

const HEALTHY: &str = "Deno.serve(() => new Response('healthy'));";

/// Sends the faulty request and, until it is answered, keeps calling the healthy function,
/// which must answer every time. Returns the faulty request's status and JSON body.
async fn fault_while_healthy_serves(srv: &RunningServer) -> (u16, serde_json::Value) {
    assert_eq!(srv.get_text("/faulty").await, (200, "1".into()));
    let faulty = tokio::spawn({
        let client = srv.client().clone();
        let url = srv.url("/faulty?fault");
        async move {
            let response = client.get(url).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.unwrap())
        }
    });
    let mut healthy_answers = 0;
    while !faulty.is_finished() {
        assert_eq!(srv.get_text("/healthy").await, (200, "healthy".into()));
        healthy_answers += 1;
    }
    assert!(healthy_answers > 0);
    let result = faulty.await.unwrap();
    // The next request is served by a fresh isolate: its module state starts over.
    assert_eq!(srv.get_text("/faulty").await, (200, "1".into()));
    assert_eq!(srv.get_text("/healthy").await, (200, "healthy".into()));
    result
}

#[tokio::test]
async fn infinite_loop_is_stopped_at_the_cpu_hard_limit() {
    let srv = TestServer::new()
        .function("faulty", &faulty("while (true) {}"))
        .function("healthy", HEALTHY)
        .config(|c| {
            c.limits.cpu_soft_ms = 100;
            c.limits.cpu_hard_ms = 300;
        })
        .start()
        .await;
    let (status, body) = fault_while_healthy_serves(&srv).await;
    assert_eq!(status, 546, "{body}");
    assert_eq!(
        body,
        serde_json::json!({"error": "WorkerLimit", "function": "faulty", "reason": "cpu"})
    );
    let logged = support::function_logs("faulty");
    assert!(
        logged
            .iter()
            .any(|l| l["fields"]["event"] == "shutdown" && l["fields"]["reason"] == "cpu"),
        "{logged:#?}"
    );
}

#[tokio::test]
async fn try_catch_cannot_escape_the_cpu_limit() {
    let srv = TestServer::new()
        .function(
            "faulty",
            &faulty("try { while (true) {} } catch { return new Response('escaped'); }"),
        )
        .function("healthy", HEALTHY)
        .config(|c| {
            c.limits.cpu_soft_ms = 100;
            c.limits.cpu_hard_ms = 300;
        })
        .start()
        .await;
    let (status, body) = fault_while_healthy_serves(&srv).await;
    assert_eq!((status, body["reason"].as_str()), (546, Some("cpu")));
}

#[tokio::test]
async fn allocation_bomb_is_stopped_at_the_memory_limit() {
    let srv = TestServer::new()
        .function(
            "faulty",
            &faulty(
                "const hoard = []; \
                 try { while (true) hoard.push(new Array(100000).fill(hoard.length)); } \
                 catch { return new Response('caught the out-of-memory error'); }",
            ),
        )
        .function("healthy", HEALTHY)
        .config(|c| c.limits.memory_mb = 32)
        .start()
        .await;
    let (status, body) = fault_while_healthy_serves(&srv).await;
    assert_eq!(status, 546, "{body}");
    assert_eq!(
        body,
        serde_json::json!({"error": "WorkerLimit", "function": "faulty", "reason": "memory"})
    );
}

#[tokio::test]
async fn handler_that_never_answers_gets_504_and_so_does_its_neighbour_request() {
    let srv = TestServer::new()
        .function("faulty", &faulty("await new Promise(() => {});"))
        .function("healthy", HEALTHY)
        .config(|c| c.limits.wall_clock_ms = 300)
        .start()
        .await;
    assert_eq!(srv.get_text("/faulty").await, (200, "1".into()));
    let hanging = |query: &'static str| {
        let client = srv.client().clone();
        let url = srv.url(&format!("/faulty?fault&{query}"));
        tokio::spawn(async move {
            let response = client.get(url).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.unwrap())
        })
    };
    // Two hanging requests on the same isolate: when the first runs out of time the isolate
    // is stopped, and the other is answered the same way.
    let first = hanging("first");
    let second = hanging("second");
    while !(first.is_finished() && second.is_finished()) {
        assert_eq!(srv.get_text("/healthy").await, (200, "healthy".into()));
    }
    for (status, body) in [first.await.unwrap(), second.await.unwrap()] {
        assert_eq!(status, 504, "{body}");
        assert_eq!(
            body,
            serde_json::json!({"error": "WorkerTimeout", "function": "faulty"})
        );
    }
    assert_eq!(srv.get_text("/faulty").await, (200, "1".into()));
}

#[tokio::test]
async fn wall_clock_is_per_request_not_per_worker_lifetime() {
    // Many short requests add up to far more than the wall-clock limit on one reused worker;
    // none of them is cut short.
    let srv = TestServer::new()
        .function(
            "f",
            "let served = 0; Deno.serve(async () => { await new Promise((r) => setTimeout(r, 20)); return new Response(String(++served)); });",
        )
        .config(|c| c.limits.wall_clock_ms = 100)
        .start()
        .await;
    for expected in 1..=12 {
        assert_eq!(srv.get_text("/f").await, (200, expected.to_string()));
    }
}

#[tokio::test]
async fn soft_cpu_limit_retires_the_worker_after_its_request() {
    let srv = TestServer::new()
        .function(
            "f",
            &faulty("let x = 0; for (let i = 0; i < 3e6; i++) x += i; if (x < 0) throw 0;"),
        )
        .config(|c| {
            c.limits.cpu_soft_ms = 20;
            c.limits.cpu_hard_ms = 60_000;
        })
        .start()
        .await;
    assert_eq!(srv.get_text("/f").await, (200, "1".into()));
    // The request that crosses the soft limit still completes...
    assert_eq!(srv.get_text("/f?fault").await, (200, "2".into()));
    // ...and the worker is retired: the next request gets a fresh isolate.
    assert_eq!(srv.get_text("/f").await, (200, "1".into()));
    let logged = support::function_logs("f");
    assert!(
        logged.iter().any(|l| l["fields"]["reason"] == "retired"),
        "{logged:#?}"
    );
}

#[tokio::test]
async fn per_function_limits_override_the_defaults() {
    let srv = TestServer::new()
        .function("strict", &faulty("while (true) {}"))
        .function("healthy", HEALTHY)
        .config(|c| {
            let strict = c.functions.entry("strict".into()).or_default();
            strict.limits.cpu_soft_ms = Some(50);
            strict.limits.cpu_hard_ms = Some(150);
        })
        .start()
        .await;
    let (status, body) = srv.get_json("/strict?fault").await;
    assert_eq!((status, body["reason"].as_str()), (546, Some("cpu")));
    assert_eq!(srv.get_text("/healthy").await, (200, "healthy".into()));
}
