//! Pool policies: which isolate serves a request, how many exist at once, how long a request
//! waits for one, and when idle ones go away. Each isolate shows its identity through a random
//! id chosen when its module loads.

mod support;

use std::collections::HashSet;

use edgefn_runtime::Policy;
use support::{RunningServer, TestServer};

/// Answers with the isolate's id and how many requests it was serving at most at once; waits
/// a little while serving so that concurrent requests overlap.
const IDENTIFY: &str = r#"
const id = crypto.randomUUID();
let active = 0, maxActive = 0;
Deno.serve(async (req) => {
    active++; maxActive = Math.max(maxActive, active);
    const wait = Number(new URL(req.url).searchParams.get('wait') ?? '0');
    if (wait) await new Promise((r) => setTimeout(r, wait));
    active--;
    return Response.json({ id, maxActive });
});"#;

async fn identify(srv: &RunningServer, query: &str) -> serde_json::Value {
    identify_at(srv, "f", query).await
}

async fn identify_at(srv: &RunningServer, function: &str, query: &str) -> serde_json::Value {
    let (status, body) = srv.get_json(&format!("/{function}?{query}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn concurrently(srv: &RunningServer, n: usize, query: &str) -> Vec<serde_json::Value> {
    concurrently_at(srv, "f", n, query).await
}

/// `n` requests to `function` at once; every one must answer 200 with JSON.
async fn concurrently_at(
    srv: &RunningServer,
    function: &str,
    n: usize,
    query: &str,
) -> Vec<serde_json::Value> {
    let requests: Vec<_> = (0..n)
        .map(|_| {
            let client = srv.client().clone();
            let url = srv.url(&format!("/{function}?{query}"));
            tokio::spawn(async move {
                let response = client.get(url).send().await.unwrap();
                assert_eq!(response.status(), 200);
                response.json::<serde_json::Value>().await.unwrap()
            })
        })
        .collect();
    let mut bodies = Vec::new();
    for request in requests {
        bodies.push(request.await.unwrap());
    }
    bodies
}

fn ids(bodies: &[serde_json::Value]) -> HashSet<String> {
    bodies
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_owned())
        .collect()
}

fn server(policy: Policy, max_parallelism: usize) -> TestServer {
    TestServer::new().function("f", IDENTIFY).config(|c| {
        c.pool.policy = policy;
        c.pool.max_parallelism = max_parallelism;
    })
}

#[tokio::test]
async fn per_worker_serves_concurrent_requests_on_one_isolate() {
    let srv = server(Policy::PerWorker, 1).start().await;
    let first = identify(&srv, "").await;
    let bodies = concurrently(&srv, 8, "wait=50").await;
    assert_eq!(
        ids(&bodies),
        HashSet::from([first["id"].as_str().unwrap().to_owned()])
    );
    // One isolate served several of them at the same time.
    assert!(
        bodies.iter().any(|b| b["maxActive"].as_u64().unwrap() > 1),
        "{bodies:?}"
    );
}

#[tokio::test]
async fn per_request_serves_one_request_at_a_time_and_reuses_isolates() {
    let srv = server(Policy::PerRequest, 2).start().await;
    let bodies = concurrently(&srv, 8, "wait=20").await;
    assert!(
        bodies.iter().all(|b| b["maxActive"] == 1),
        "an isolate served two requests at once: {bodies:?}"
    );
    let used = ids(&bodies);
    assert!(!used.is_empty() && used.len() <= 2, "{used:?}");
    // Afterwards, requests reuse those isolates instead of creating new ones.
    for _ in 0..3 {
        let id = identify(&srv, "").await["id"].as_str().unwrap().to_owned();
        assert!(used.contains(&id), "{id} is a new isolate");
    }
}

#[tokio::test]
async fn oneshot_gives_every_request_a_fresh_isolate() {
    let srv = TestServer::new()
        .function("oneshot", IDENTIFY)
        .config(|c| c.pool.policy = Policy::Oneshot)
        .start()
        .await;
    let mut seen = HashSet::new();
    for _ in 0..4 {
        let id = identify_at(&srv, "oneshot", "").await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(seen.insert(id), "an isolate was reused");
    }
    let logged = support::function_logs("oneshot");
    assert!(
        logged.iter().any(|l| l["fields"]["reason"] == "oneshot"),
        "{logged:#?}"
    );
}

#[tokio::test]
async fn max_parallelism_bounds_isolates_and_a_full_pool_answers_503_after_the_wait() {
    // The first request holds the only isolate with a response that never ends.
    let srv = TestServer::new()
        .function(
            "f",
            r#"Deno.serve((req) => new URL(req.url).searchParams.has('hold')
                ? new Response(new ReadableStream({ start(c) { c.enqueue(new Uint8Array([104])); } }))
                : new Response('served'));"#,
        )
        .config(|c| {
            c.pool.policy = Policy::PerRequest;
            c.pool.max_parallelism = 1;
            c.pool.request_wait_timeout_ms = 200;
        })
        .start()
        .await;
    let mut held = srv.get("/f?hold").await;
    assert_eq!(held.chunk().await.unwrap().unwrap(), &b"h"[..]);
    let refused = srv.get("/f").await;
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "WorkerUnavailable");
    assert_eq!(body["function"], "f");
    // When the client holding the isolate goes away, the isolate is free again.
    drop(held);
    assert_eq!(srv.get_text("/f").await, (200, "served".into()));
}

#[tokio::test]
async fn a_waiting_request_gets_the_isolate_as_soon_as_it_is_free() {
    let srv = server(Policy::PerRequest, 1)
        .config(|c| c.pool.request_wait_timeout_ms = 30_000)
        .start()
        .await;
    let bodies = concurrently(&srv, 4, "wait=20").await;
    assert_eq!(ids(&bodies).len(), 1);
    assert!(bodies.iter().all(|b| b["maxActive"] == 1), "{bodies:?}");
}

#[tokio::test]
async fn idle_isolates_are_evicted_and_the_next_request_boots_a_new_one() {
    let srv = TestServer::new()
        .function("idler", IDENTIFY)
        .config(|c| c.pool.idle_timeout_ms = 50)
        .start()
        .await;
    let first = identify_at(&srv, "idler", "").await["id"].clone();
    // Wait until the eviction is logged, then the next request needs a new isolate.
    let evicted = support::eventually(
        || async {
            support::function_logs("idler")
                .iter()
                .any(|l| l["fields"]["reason"] == "idle")
        },
        |evicted| *evicted,
    )
    .await;
    assert!(evicted, "no idle eviction was logged");
    assert_ne!(identify_at(&srv, "idler", "").await["id"], first);
}

#[tokio::test]
async fn the_process_cap_evicts_the_least_recently_used_idle_isolate() {
    let srv = TestServer::new()
        .function("cap-a", IDENTIFY)
        .function("cap-b", IDENTIFY)
        .function("cap-c", IDENTIFY)
        .config(|c| c.pool.max_isolates = 2)
        .start()
        .await;
    let id = |body: serde_json::Value| body["id"].as_str().unwrap().to_owned();
    let a = id(srv.get_json("/cap-a").await.1);
    let b = id(srv.get_json("/cap-b").await.1);
    assert_eq!(id(srv.get_json("/cap-a").await.1), a); // a is now the most recently used
    srv.get_json("/cap-c").await; // evicts b, the least recently used
    assert_eq!(id(srv.get_json("/cap-a").await.1), a);
    assert_ne!(id(srv.get_json("/cap-b").await.1), b);
    assert!(
        support::function_logs("cap-b")
            .iter()
            .any(|l| l["fields"]["reason"] == "evicted")
    );
}

#[tokio::test]
async fn per_function_policy_overrides_the_default() {
    let srv = TestServer::new()
        .function("f", IDENTIFY)
        .function("g", IDENTIFY)
        .config(|c| {
            c.functions.entry("g".into()).or_default().policy = Some(Policy::Oneshot);
        })
        .start()
        .await;
    let f1 = srv.get_json("/f").await.1["id"].clone();
    let f2 = srv.get_json("/f").await.1["id"].clone();
    assert_eq!(f1, f2);
    let g1 = srv.get_json("/g").await.1["id"].clone();
    let g2 = srv.get_json("/g").await.1["id"].clone();
    assert_ne!(g1, g2);
}

/// Polls the captured logs of `function` until a console line contains `needle`.
async fn wait_for_log(function: &str, needle: &str) -> bool {
    let found = || async {
        support::function_logs(function).iter().any(|l| {
            l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(needle))
        })
    };
    support::eventually(found, |found| *found).await
}

#[tokio::test]
async fn beforeunload_is_dispatched_before_a_planned_retirement() {
    let srv = TestServer::new()
        .function(
            "unloader",
            r#"addEventListener('beforeunload', (event) => console.log('beforeunload fired: ' + event.type));
               Deno.serve(() => new Response('once'));"#,
        )
        .config(|c| c.pool.policy = Policy::Oneshot)
        .start()
        .await;
    assert_eq!(srv.get_text("/unloader").await, (200, "once".into()));
    assert!(wait_for_log("unloader", "beforeunload fired: beforeunload").await);
}

#[tokio::test]
async fn wait_until_keeps_a_retiring_worker_alive_until_it_settles() {
    let srv = TestServer::new()
        .function(
            "background",
            r#"export default {
                fetch(request, env, ctx) {
                    ctx.waitUntil(new Promise((resolve) => setTimeout(() => {
                        console.log('background work finished');
                        resolve();
                    }, 50)));
                    EdgeRuntime.waitUntil(Promise.resolve().then(() => console.log('edge runtime wait')));
                    return new Response('answered first');
                },
            };"#,
        )
        .config(|c| c.pool.policy = Policy::Oneshot)
        .start()
        .await;
    assert_eq!(
        srv.get_text("/background").await,
        (200, "answered first".into())
    );
    assert!(wait_for_log("background", "background work finished").await);
    assert!(wait_for_log("background", "edge runtime wait").await);
    // Only after that is the worker gone.
    let lines = support::function_logs("background");
    let finished = lines
        .iter()
        .position(|l| l["fields"]["message"] == "background work finished");
    let ended = lines
        .iter()
        .position(|l| l["fields"]["event"] == "shutdown");
    assert!(finished.is_some());
    if let Some(ended) = ended {
        assert!(finished.unwrap() < ended, "{lines:#?}");
    }
}

#[tokio::test]
async fn warm_memory_bound_evicts_the_least_recently_used_idle_isolate() {
    // Each isolate holds about 2.5 MB (2 MB of ballast, the rest its own): two fit under 6 MiB
    // (6.3 MB), three do not, with room either way for the layer's size to change.
    let heavy = format!("const ballast = new Uint8Array(2000000).fill(1);\n{IDENTIFY}");
    let srv = TestServer::new()
        .function("mem-a", &heavy)
        .function("mem-b", &heavy)
        .function("mem-c", &heavy)
        .config(|c| c.pool.max_warm_memory_mb = 6)
        .start()
        .await;
    let id = |body: serde_json::Value| body["id"].as_str().unwrap().to_owned();
    let a = id(srv.get_json("/mem-a").await.1);
    let b = id(srv.get_json("/mem-b").await.1);
    assert_eq!(id(srv.get_json("/mem-a").await.1), a, "two isolates fit");
    srv.get_json("/mem-c").await; // over the bound: b, the least recently used, goes
    assert_eq!(id(srv.get_json("/mem-a").await.1), a);
    assert_ne!(id(srv.get_json("/mem-b").await.1), b);
    assert!(
        support::function_logs("mem-b")
            .iter()
            .any(|l| l["fields"]["reason"] == "evicted")
    );
}

#[tokio::test]
async fn prestarted_workers_boot_before_the_first_request() {
    let srv = TestServer::new()
        .function("warm", IDENTIFY)
        .config(|c| {
            let warm = c.functions.entry("warm".into()).or_default();
            warm.prestart = 2;
            warm.max_parallelism = Some(2);
            warm.policy = Some(Policy::PerRequest);
        })
        .start()
        .await;
    let booted = || {
        support::function_logs("warm")
            .iter()
            .filter(|l| l["fields"]["event"] == "boot")
            .count()
    };
    support::eventually(|| async { booted() }, |n| *n == 2).await;
    assert_eq!(booted(), 2, "two workers boot with no request");
    let bodies = concurrently_at(&srv, "warm", 2, "wait=50").await;
    assert_eq!(ids(&bodies).len(), 2);
    assert_eq!(
        booted(),
        2,
        "the requests were served by the prestarted workers"
    );
}

/// Answers with what the isolate was given: its environment (both ways a function reads it),
/// its time origin, whether `fetch()` may leave; `?hog` allocates without bound.
const TENANT: &str = r#"
console.log(`${Deno.env.get('NAME')} booted`);
export default {
    async fetch(req, env) {
        if (new URL(req.url).searchParams.has('hog')) {
            const hoard = [];
            while (true) hoard.push(new Array(100000).fill(hoard.length));
        }
        let outbound;
        try { await fetch(new URL('/elsewhere', req.url)); outbound = 'allowed'; }
        catch (e) { outbound = e.name; }
        return Response.json({
            name: Deno.env.get('NAME'),
            fromArgument: env.NAME,
            timeOrigin: performance.timeOrigin,
            outbound,
        });
    },
};
"#;

#[tokio::test]
async fn a_prepared_isolate_becomes_the_function_s_own() {
    let srv = TestServer::new()
        .threads(1)
        .config(|c| c.pool.prepared_isolates = 2)
        .function("first", TENANT)
        .function("second", TENANT)
        .env("first", "NAME", "first")
        .env("second", "NAME", "second")
        .config(|c| {
            let second = c.functions.entry("second".into()).or_default();
            second.limits.memory_mb = Some(16);
            second.allowed_hosts = Some(vec!["api.example.com".into()]);
        })
        .start()
        .await;
    let prepared = |expected: f64| {
        let srv = &srv;
        async move {
            support::eventually(
                || async { support::metrics(srv).await },
                |m| support::value(m, "edgefn_prepared_isolates") == expected,
            )
            .await
        }
    };
    assert_eq!(
        support::value(&prepared(2.0).await, "edgefn_prepared_isolates"),
        2.0
    );

    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as f64;
    let (status, first) = srv.get_json("/first").await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["name"], "first");
    assert_eq!(first["fromArgument"], "first");
    assert_eq!(first["outbound"], "allowed");
    assert!(
        first["timeOrigin"].as_f64().unwrap() >= before,
        "the time origin is when the function got the isolate, not when it was prepared: {first}"
    );

    // The thread makes another while idle; the second function gets its own.
    prepared(2.0).await;
    let (status, second) = srv.get_json("/second").await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["name"], "second");
    assert_eq!(second["fromArgument"], "second");
    assert_eq!(second["outbound"], "TypeError", "its allow-list applies");

    let (status, body) = srv.get_json("/second?hog").await;
    assert_eq!(status, 546, "its memory limit applies: {body}");
    assert_eq!(body["reason"], "memory");
    assert_eq!(srv.get_json("/first").await.1["name"], "first");

    let metrics = support::metrics(&srv).await;
    for function in ["first", "second"] {
        assert_eq!(
            support::value(
                &metrics,
                &format!("edgefn_prepared_starts_total{{function=\"{function}\"}}")
            ),
            1.0,
            "{function} started from a prepared isolate"
        );
        let booted = format!("{function} booted");
        assert!(
            support::function_logs(function)
                .iter()
                .any(|l| l["fields"]["message"] == booted.as_str()),
            "{function}'s console goes to its own log"
        );
    }
}

#[tokio::test]
async fn without_prepared_isolates_workers_boot_from_scratch() {
    let srv = TestServer::new()
        .config(|c| c.pool.prepared_isolates = 0)
        .function("first", TENANT)
        .env("first", "NAME", "first")
        .start()
        .await;
    let (status, first) = srv.get_json("/first").await;
    assert_eq!((status, &first["name"]), (200, &"first".into()));
    let metrics = support::metrics(&srv).await;
    assert_eq!(support::value(&metrics, "edgefn_prepared_isolates"), 0.0);
    assert_eq!(
        support::value(&metrics, "edgefn_prepared_starts_total{function=\"first\"}"),
        0.0
    );
    assert_eq!(
        support::value(&metrics, "edgefn_cold_starts_total{function=\"first\"}"),
        1.0
    );
}
