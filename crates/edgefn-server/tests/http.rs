//! The HTTP layer: keep-alive, HTTP/2 cleartext, HEAD, framing of known and unknown lengths,
//! and malformed requests.

mod support;

use support::{TestServer, raw_http};

const HELLO: &str = "Deno.serve(() => new Response('hello'));";

#[tokio::test]
async fn keep_alive_serves_many_requests_on_one_connection() {
    let srv = TestServer::new().function("hello", HELLO).start().await;
    let request = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n".repeat(4)
        + "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let response = raw_http(srv.addr(), request.as_bytes()).await;
    assert_eq!(response.matches("HTTP/1.1 200 OK").count(), 5, "{response}");
    assert_eq!(response.matches("\r\n\r\nhello").count(), 5, "{response}");
}

#[tokio::test]
async fn http2_cleartext_with_prior_knowledge() {
    let srv = TestServer::new()
        .function(
            "hello",
            "Deno.serve((req) => new Response('h2 ' + req.method));",
        )
        .start()
        .await;
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let response = client.get(srv.url("/hello")).send().await.unwrap();
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.text().await.unwrap(), "h2 GET");
    // The function sees the full URL from the HTTP/2 authority.
    let srv2 = TestServer::new()
        .function("u", "Deno.serve((req) => new Response(req.url));")
        .start()
        .await;
    let url = client
        .get(srv2.url("/u/x?y"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(url, srv2.url("/u/x?y"));
}

#[tokio::test]
async fn head_gets_headers_without_a_body() {
    let srv = TestServer::new()
        .function(
            "f",
            "Deno.serve((req) => new Response('twelve bytes', { headers: { 'x-method': req.method } }));",
        )
        .start()
        .await;
    let response = raw_http(
        srv.addr(),
        b"HEAD /f HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(response.contains("x-method: HEAD"), "{response}");
    assert!(response.contains("content-length: 12"), "{response}");
    assert!(
        response.ends_with("\r\n\r\n"),
        "a body was sent: {response:?}"
    );
}

#[tokio::test]
async fn known_length_gets_content_length_and_streams_get_chunked() {
    let srv = TestServer::new()
        .function("full", "Deno.serve(() => new Response('abc'));")
        .function(
            "streamed",
            r#"Deno.serve(() => new Response(new ReadableStream({
                start(c) { c.enqueue(new TextEncoder().encode('abc')); c.close(); }
            })));"#,
        )
        .start()
        .await;
    let full = raw_http(
        srv.addr(),
        b"GET /full HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(full.contains("content-length: 3"), "{full}");
    assert!(!full.contains("transfer-encoding"), "{full}");
    let streamed = raw_http(
        srv.addr(),
        b"GET /streamed HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(
        streamed.contains("transfer-encoding: chunked"),
        "{streamed}"
    );
    assert!(streamed.ends_with("3\r\nabc\r\n0\r\n\r\n"), "{streamed:?}");
}

#[tokio::test]
async fn status_text_and_multiple_headers_reach_the_client() {
    let srv = TestServer::new()
        .function(
            "f",
            r#"Deno.serve(() => {
                const headers = new Headers([['set-cookie', 'a=1'], ['set-cookie', 'b=2'], ['x-one', '1']]);
                return new Response('created', { status: 201, statusText: 'Made It', headers });
            });"#,
        )
        .start()
        .await;
    let response = raw_http(
        srv.addr(),
        b"GET /f HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(
        response.starts_with("HTTP/1.1 201 Made It\r\n"),
        "{response}"
    );
    assert!(response.contains("set-cookie: a=1\r\n"), "{response}");
    assert!(response.contains("set-cookie: b=2\r\n"), "{response}");
    assert!(response.contains("x-one: 1\r\n"), "{response}");
}

#[tokio::test]
async fn malformed_requests_get_400_and_only_that_connection_is_affected() {
    let srv = TestServer::new()
        .function("hello", HELLO)
        .function(
            "echo",
            "Deno.serve(async (req) => new Response(await req.text()));",
        )
        .start()
        .await;
    // A connection that stays open with a request in progress, on the side.
    let mut open = tokio::net::TcpStream::connect(srv.addr()).await.unwrap();
    {
        use tokio::io::AsyncWriteExt;
        open.write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
    }
    for garbage in [
        &b"THIS IS NOT HTTP\r\n\r\n"[..],
        b"GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n",
        b"GET /hello HTTP/1.1\r\nBad Header Line\r\n\r\n",
        b"GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    ] {
        let response = raw_http(srv.addr(), garbage).await;
        assert!(
            response.is_empty() || response.starts_with("HTTP/1.1 400"),
            "{:?} got {response:?}",
            String::from_utf8_lossy(garbage)
        );
    }
    // Broken chunked framing is only noticed when the function reads the body: its read fails,
    // and the client gets an error, never a 200.
    let response = raw_http(
        srv.addr(),
        b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",
    )
    .await;
    assert!(!response.starts_with("HTTP/1.1 200"), "{response}");
    // The connection left open still completes its request.
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        open.write_all(b"Connection: close\r\n\r\n").await.unwrap();
        let mut response = String::new();
        open.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with("hello"), "{response}");
    }
    assert_eq!(srv.get_text("/hello").await, (200, "hello".into()));
}

#[tokio::test]
async fn health_endpoint_is_never_routed_to_a_function() {
    let srv = TestServer::new()
        .file(
            "_edgefn/index.js",
            "Deno.serve(() => new Response('hijacked'));",
        )
        .start()
        .await;
    let (status, body) = srv.get_json("/_edgefn/health").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    assert_eq!(srv.get_json("/_edgefn/other").await.0, 404);
}
