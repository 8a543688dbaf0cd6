//! With `workers.serve_connections`, connections are served on the user-worker threads: a
//! request runs on the thread that read it when its function has a worker there, and a function
//! called at once from connections on two threads gets a worker on each (`max_parallelism = 0`).
//! By default, requests are read on the main runtime and every one crosses to a worker thread.
//! The metric `edgefn_dispatches_total{thread_hop}` tells the two paths apart.

mod support;

use support::{RunningServer, TestServer, metrics, value};

/// Answers with the id of its isolate in `x-isolate`; with `?hold`, the response body stays
/// open (so the worker stays busy) until the client drops it.
const HOLD: &str = r#"
const id = crypto.randomUUID();
export default {
    fetch(req) {
        const hold = new URL(req.url).searchParams.has('hold');
        const body = hold
            ? new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('open')); } })
            : 'done';
        return new Response(body, { headers: { 'x-isolate': id } });
    },
};"#;

const LOCAL: &str = "edgefn_dispatches_total{thread_hop=\"false\"}";
const HOP: &str = "edgefn_dispatches_total{thread_hop=\"true\"}";

/// A server serving connections on its two worker threads, with `max_parallelism`.
fn no_hop(max_parallelism: usize) -> TestServer {
    TestServer::new().threads(2).config(|c| {
        c.workers.serve_connections = true;
        c.pool.max_parallelism = max_parallelism;
    })
}

/// Opens and uses one connection first, so that the connections of the test start on thread 1:
/// a new worker then lands on thread 1 only because the request came from there (thread 0 is
/// where it would go otherwise, all threads being equal).
async fn skip_thread_0(srv: &RunningServer) {
    let response = connection()
        .get(srv.url("/_edgefn/health"))
        .send()
        .await
        .expect("a response");
    assert_eq!(response.status(), 200);
}

/// A client of its own: one connection, so one thread of the server.
fn connection() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .build()
        .expect("a client")
}

async fn isolate_of(
    client: &reqwest::Client,
    srv: &RunningServer,
    path: &str,
) -> (String, reqwest::Response) {
    let response = client.get(srv.url(path)).send().await.expect("a response");
    assert_eq!(response.status(), 200);
    let id = response.headers()["x-isolate"].to_str().unwrap().to_owned();
    (id, response)
}

#[tokio::test]
async fn requests_of_one_connection_run_on_its_thread() {
    let srv = no_hop(1).function("f", HOLD).start().await;
    skip_thread_0(&srv).await;
    let client = connection();
    let (first, response) = isolate_of(&client, &srv, "/f").await;
    assert_eq!(response.text().await.unwrap(), "done");
    for _ in 0..9 {
        let (id, response) = isolate_of(&client, &srv, "/f").await;
        assert_eq!(id, first);
        assert_eq!(response.text().await.unwrap(), "done");
    }
    let m = metrics(&srv).await;
    assert_eq!(value(&m, LOCAL), 10.0);
    assert_eq!(value(&m, HOP), 0.0);
}

#[tokio::test]
async fn a_function_busy_on_one_thread_gets_a_worker_on_the_other() {
    let srv = no_hop(0).function("f", HOLD).start().await;
    skip_thread_0(&srv).await;
    // Two connections accepted one after the other go to the two threads (1, then 0).
    let (a, b) = (connection(), connection());
    let (held_id, held) = isolate_of(&a, &srv, "/f?hold").await;
    let (other_id, response) = isolate_of(&b, &srv, "/f").await;
    assert_eq!(response.text().await.unwrap(), "done");
    assert_ne!(
        other_id, held_id,
        "the second thread got a worker of its own"
    );
    let m = metrics(&srv).await;
    assert_eq!(value(&m, LOCAL), 2.0);
    assert_eq!(value(&m, HOP), 0.0);
    drop(held);
}

#[tokio::test]
async fn with_max_parallelism_1_the_other_thread_hands_requests_over() {
    let srv = no_hop(1).function("f", HOLD).start().await;
    let (a, b) = (connection(), connection());
    let (held_id, held) = isolate_of(&a, &srv, "/f?hold").await;
    let (other_id, response) = isolate_of(&b, &srv, "/f").await;
    assert_eq!(response.text().await.unwrap(), "done");
    assert_eq!(other_id, held_id, "one worker serves both");
    let m = metrics(&srv).await;
    assert_eq!(value(&m, LOCAL), 1.0);
    assert_eq!(value(&m, HOP), 1.0);
    drop(held);
}

#[tokio::test]
async fn by_default_every_request_crosses_threads() {
    let srv = TestServer::new()
        .threads(2)
        .function("f", HOLD)
        .start()
        .await;
    let client = connection();
    for _ in 0..5 {
        let (_, response) = isolate_of(&client, &srv, "/f").await;
        assert_eq!(response.text().await.unwrap(), "done");
    }
    let m = metrics(&srv).await;
    assert_eq!(value(&m, LOCAL), 0.0);
    assert_eq!(value(&m, HOP), 5.0);
}
