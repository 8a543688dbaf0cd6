//! Bodies stream in both directions without being buffered whole. Each test proves it by
//! ordering, not timing: the client reacts to the first chunk before the function produces or
//! receives the next one.

mod support;

use bytes::Bytes;
use support::TestServer;
use tokio::sync::mpsc;

#[tokio::test]
async fn response_streams_chunk_by_chunk() {
    // The stream's second chunk is only produced after the client, having received the first,
    // asks the function (through a second request) to continue.
    let srv = TestServer::new()
        .function(
            "f",
            r#"let next;
               export default { fetch(req) {
                   if (new URL(req.url).searchParams.has('continue')) { next(); return new Response('ok'); }
                   const enc = new TextEncoder();
                   return new Response(new ReadableStream({
                       start(c) { c.enqueue(enc.encode('first;')); },
                       async pull(c) {
                           await new Promise((r) => (next = r));
                           c.enqueue(enc.encode('second'));
                           c.close();
                       },
                   }), { headers: { 'content-type': 'text/plain' } });
               } };"#,
        )
        .start()
        .await;
    let mut response = srv.get("/f").await;
    assert_eq!(response.status(), 200);
    let first = response.chunk().await.unwrap().unwrap();
    assert_eq!(first, Bytes::from_static(b"first;"));
    assert_eq!(srv.get_text("/f?continue").await, (200, "ok".into()));
    let mut rest = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        rest.extend_from_slice(&chunk);
    }
    assert_eq!(rest, b"second");
}

#[tokio::test]
async fn request_body_streams_into_the_handler_and_back_out() {
    // An echo: the client sends one chunk, reads its echo, and only then sends the next.
    let srv = TestServer::new()
        .function("echo", "Deno.serve((req) => new Response(req.body));")
        .start()
        .await;
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(1);
    let body = reqwest::Body::wrap_stream(tokio_stream_from(rx));
    let request = srv.client().post(srv.url("/echo")).body(body).send();
    tx.send(Ok(Bytes::from_static(b"ping-1"))).await.unwrap();
    let mut response = request.await.unwrap();
    assert_eq!(
        response.chunk().await.unwrap().unwrap(),
        Bytes::from_static(b"ping-1")
    );
    tx.send(Ok(Bytes::from_static(b"ping-2"))).await.unwrap();
    assert_eq!(
        response.chunk().await.unwrap().unwrap(),
        Bytes::from_static(b"ping-2")
    );
    drop(tx);
    assert!(response.chunk().await.unwrap().is_none());
}

#[tokio::test]
async fn request_body_reader_sees_every_chunk_of_a_large_body() {
    let srv = TestServer::new()
        .function(
            "count",
            r#"Deno.serve(async (req) => {
                let bytes = 0, chunks = 0, sum = 0;
                for await (const chunk of req.body) {
                    chunks++; bytes += chunk.byteLength;
                    for (const b of chunk) sum = (sum + b) % 65521;
                }
                return Response.json({ bytes, sum, streamed: chunks > 1 });
            });"#,
        )
        .start()
        .await;
    let body: Vec<u8> = (0..4 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let expected_sum = body.iter().fold(0u64, |s, &b| (s + u64::from(b)) % 65521);
    let response = srv
        .client()
        .post(srv.url("/count"))
        .body(body)
        .send()
        .await
        .unwrap();
    let json: serde_json::Value = response.json().await.unwrap();
    assert_eq!(json["bytes"], 4 * 1024 * 1024);
    assert_eq!(json["sum"], expected_sum);
    assert_eq!(json["streamed"], true);
}

#[tokio::test]
async fn client_going_away_cancels_the_response_stream() {
    let srv = TestServer::new()
        .function(
            "f",
            r#"let cancelled = 'no';
               export default { fetch(req) {
                   if (new URL(req.url).searchParams.has('status')) return new Response(cancelled);
                   let i = 0;
                   return new Response(new ReadableStream({
                       pull(c) { c.enqueue(new Uint8Array(64 * 1024).fill(i++ % 256)); },
                       cancel(reason) { cancelled = 'yes'; },
                   }));
               } };"#,
        )
        .start()
        .await;
    let mut response = srv.get("/f").await;
    assert!(response.chunk().await.unwrap().is_some());
    drop(response);
    // The stream notices the departure when it next writes; poll its status until it has.
    let seen = support::eventually(
        || async { srv.get_text("/f?status").await.1 },
        |s| s == "yes",
    )
    .await;
    assert_eq!(seen, "yes");
}

#[tokio::test]
async fn request_signal_aborts_when_the_client_goes_away() {
    // The function keeps each request's signal: one answered in full, two the client abandons
    // while the handler is still working (HTTP/1.1 and HTTP/2), one abandoned in the middle of
    // its streamed response.
    let srv = TestServer::new()
        .function(
            "watch",
            r#"const seen = {};
               export default { async fetch(req) {
                   const params = new URL(req.url).searchParams;
                   if (params.has('state')) {
                       const state = {};
                       for (const [id, { signal, heard }] of Object.entries(seen)) {
                           state[id] = signal.aborted
                               ? `${heard}:${signal.reason.name}`
                               : 'waiting';
                       }
                       return Response.json(state);
                   }
                   const id = params.get('id');
                   const entry = (seen[id] = { signal: req.signal, heard: 'unheard' });
                   req.signal.addEventListener('abort', () => (entry.heard = 'heard'));
                   if (id === 'complete') return new Response('complete');
                   if (id === 'streaming') {
                       return new Response(new ReadableStream({
                           start(c) { c.enqueue(new TextEncoder().encode('first')); },
                       }));
                   }
                   if (id === 'head') {
                       // Endless, until the host stops taking chunks.
                       return new Response(new ReadableStream({
                           pull(c) { c.enqueue(new TextEncoder().encode('more')); },
                           cancel() { seen['head-body'] = { signal: { aborted: true, reason: { name: 'cancelled' } }, heard: 'body' }; },
                       }));
                   }
                   if (id === 'broken') {
                       return new Response(new ReadableStream({
                           start(c) { c.enqueue(new TextEncoder().encode('part')); },
                           pull(c) { c.error(new Error('the function broke its body')); },
                       }));
                   }
                   await new Promise((resolve) => req.signal.addEventListener('abort', resolve));
                   return new Response('nobody reads this');
               } };"#,
        )
        .start()
        .await;
    assert_eq!(
        srv.get_text("/watch?id=complete").await,
        (200, "complete".into())
    );

    use tokio::io::AsyncWriteExt;
    let mut pending = tokio::net::TcpStream::connect(srv.addr()).await.unwrap();
    pending
        .write_all(b"GET /watch?id=pending HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let state = wait_for_state(&srv, |s| s["pending"] == "waiting").await;
    assert_eq!(state["complete"], "waiting");
    drop(pending);
    wait_for_state(&srv, |s| s["pending"] == "heard:AbortError").await;

    // Over HTTP/2 the client resets its stream instead of closing a connection.
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let request = tokio::spawn(h2.get(srv.url("/watch?id=h2")).send());
    wait_for_state(&srv, |s| s["h2"] == "waiting").await;
    request.abort();
    wait_for_state(&srv, |s| s["h2"] == "heard:AbortError").await;

    let mut streaming = srv.get("/watch?id=streaming").await;
    assert_eq!(streaming.chunk().await.unwrap().unwrap(), "first");
    drop(streaming);
    wait_for_state(&srv, |s| s["streaming"] == "heard:AbortError").await;

    // Neither a HEAD request (hyper never reads the body) nor a body the function breaks off
    // means the client went away.
    let head = srv.client().head(srv.url("/watch?id=head")).send().await;
    assert_eq!(head.unwrap().status(), 200);
    // The break may reach the client before or after the response head.
    let broken = match srv.client().get(srv.url("/watch?id=broken")).send().await {
        Ok(response) => response.bytes().await.is_err(),
        Err(_) => true,
    };
    assert!(broken, "the body was cut short");
    let state = wait_for_state(&srv, |s| s["head-body"] == "body:cancelled").await;
    assert_eq!(state["head"], "waiting");
    assert_eq!(state["broken"], "waiting");
    // The request answered in full was never aborted.
    assert_eq!(state["complete"], "waiting");
}

/// Polls the `watch` function's state until `ready` holds (a client's departure is noticed
/// when the connection next reads or writes).
async fn wait_for_state(
    srv: &support::RunningServer,
    ready: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let state =
        support::eventually(|| async { srv.get_json("/watch?state").await.1 }, &ready).await;
    assert!(
        ready(&state),
        "the function never reached the expected state; last seen: {state}"
    );
    state
}

fn tokio_stream_from(
    mut rx: mpsc::Receiver<Result<Bytes, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}
