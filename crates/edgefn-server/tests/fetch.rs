//! `fetch()` from inside a function: one function calling others on the same server (its own
//! address), bodies both ways, redirect modes, aborts, network errors and the allow list.

mod support;

use std::sync::Arc;

use support::{RunningServer, TestServer};

/// Functions `fetch()` calls.
fn targets(srv: TestServer) -> TestServer {
    srv.function(
        "echo",
        r#"Deno.serve(async (req) => Response.json({
            method: req.method,
            header: req.headers.get('x-from'),
            body: req.body ? await req.text() : null,
        }, { headers: { 'x-echo': 'yes' } }));"#,
    )
    .function(
        "chunks",
        r#"Deno.serve(() => new Response(ReadableStream.from(['one ', 'two ', 'three'].map((s) => new TextEncoder().encode(s)))));"#,
    )
    .function(
        "moved",
        "Deno.serve((req) => Response.redirect(new URL('/echo', req.url).href, 302));",
    )
    .function("mirror", "Deno.serve((req) => new Response(req.body));")
    .function(
        "never",
        "Deno.serve(() => new Promise(() => {}));",
    )
}

async fn call(srv: &RunningServer, script: &str) -> serde_json::Value {
    let (status, body) = srv.get_json(&format!("/caller?{script}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

const CALLER: &str = r#"
const scenarios = {
  async get(origin) {
    const res = await fetch(origin + '/echo', { headers: { 'x-from': 'caller' } });
    return { status: res.status, echo: res.headers.get('x-echo'), json: await res.json(), url: res.url, redirected: res.redirected };
  },
  async post(origin) {
    const res = await fetch(new Request(origin + '/echo', { method: 'POST', body: JSON.stringify({ n: 1 }) }));
    return await res.json();
  },
  async stream(origin) {
    const res = await fetch(origin + '/chunks');
    let text = '';
    for await (const chunk of res.body) text += new TextDecoder().decode(chunk);
    return { text };
  },
  async upload(origin) {
    // The second chunk exists only after the first came back through the mirror, so a body
    // read in full before sending would never complete.
    const enc = new TextEncoder();
    let next;
    const body = new ReadableStream({
      start(c) { c.enqueue(enc.encode('one;')); },
      async pull(c) {
        await new Promise((resolve) => (next = resolve));
        c.enqueue(enc.encode('two'));
        c.close();
      },
    });
    const res = await fetch(origin + '/mirror', { method: 'POST', body, duplex: 'half' });
    const reader = res.body.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    next();
    let rest = '';
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    return { first, rest };
  },
  async uploadAll(origin) {
    const parts = ['a', 'b', 'c'].map((s) => new TextEncoder().encode(s.repeat(40000)));
    const res = await fetch(origin + '/echo', { method: 'POST', body: ReadableStream.from(parts), duplex: 'half' });
    const { body } = await res.json();
    return { length: body.length, ends: body.slice(-1) };
  },
  async uploadError(origin) {
    const body = new ReadableStream({
      start(c) { c.enqueue(new TextEncoder().encode('partial')); },
      pull(c) { c.error(new Error('the source broke')); },
    });
    try { await fetch(origin + '/echo', { method: 'POST', body, duplex: 'half' }); return { rejected: false }; }
    catch (e) { return { rejected: e instanceof TypeError, message: e.message }; }
  },
  async uploadAbort(origin) {
    let cancelled = 'not cancelled';
    const body = new ReadableStream({
      pull() { return new Promise(() => {}); },
      cancel(reason) { cancelled = reason.name; },
    });
    const controller = new AbortController();
    const pending = fetch(origin + '/never', { method: 'POST', body, duplex: 'half', signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    let name;
    try { await pending; } catch (e) { name = e.name; }
    return { name, cancelled, locked: body.locked };
  },
  async follow(origin) {
    const res = await fetch(origin + '/moved');
    return { status: res.status, redirected: res.redirected, url: res.url };
  },
  async manual(origin) {
    const res = await fetch(origin + '/moved', { redirect: 'manual' });
    return { status: res.status, location: res.headers.get('location') };
  },
  async error(origin) {
    try { await fetch(origin + '/moved', { redirect: 'error' }); return { rejected: false }; }
    catch (e) { return { rejected: e instanceof TypeError }; }
  },
  async abort(origin) {
    const controller = new AbortController();
    const pending = fetch(origin + '/never', { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    try { await pending; return { aborted: false }; }
    catch (e) { return { aborted: true, name: e.name }; }
  },
  async unreachable() {
    try { await fetch('http://127.0.0.1:1/'); return { rejected: false }; }
    catch (e) { return { rejected: e instanceof TypeError, message: e.message }; }
  },
  async scheme() {
    try { await fetch('ftp://example.com/'); return { rejected: false }; }
    catch (e) { return { rejected: e instanceof TypeError, message: e.message }; }
  },
};
export default {
  async fetch(req) {
    const url = new URL(req.url);
    if (url.searchParams.has('forward')) {
      // The incoming body, passed on as it is.
      const res = await fetch(url.origin + '/echo', { method: 'POST', body: req.body, duplex: 'half' });
      return new Response(res.body, { headers: { 'content-type': 'application/json' } });
    }
    const name = [...url.searchParams.keys()][0];
    return Response.json(await scenarios[name](url.origin));
  },
};
"#;

#[tokio::test]
async fn a_function_fetches_other_functions_on_its_own_server() {
    let srv = targets(TestServer::new())
        .function("caller", CALLER)
        .start()
        .await;
    let body = call(&srv, "get").await;
    assert_eq!(body["status"], 200);
    assert_eq!(body["echo"], "yes");
    assert_eq!(
        body["json"],
        serde_json::json!({"method": "GET", "header": "caller", "body": null})
    );
    assert_eq!(body["url"], srv.url("/echo"));
    assert_eq!(body["redirected"], false);
    assert_eq!(
        call(&srv, "post").await,
        serde_json::json!({"method": "POST", "header": null, "body": "{\"n\":1}"})
    );
    assert_eq!(call(&srv, "stream").await["text"], "one two three");
}

#[tokio::test]
async fn an_incoming_body_is_forwarded_and_the_response_streamed_back() {
    let srv = targets(TestServer::new())
        .function("caller", CALLER)
        .start()
        .await;
    let response = srv
        .client()
        .post(srv.url("/caller?forward"))
        .body("passed through")
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["body"], "passed through");
}

#[tokio::test]
async fn a_stream_body_is_uploaded_as_it_is_read() {
    let srv = targets(TestServer::new())
        .function("caller", CALLER)
        // A body buffered before sending would leave `upload` waiting: it fails at this limit
        // instead of hanging the test.
        .config(|c| {
            c.functions
                .entry("caller".into())
                .or_default()
                .limits
                .wall_clock_ms = Some(10_000);
        })
        .start()
        .await;
    assert_eq!(
        call(&srv, "upload").await,
        serde_json::json!({"first": "one;", "rest": "two"})
    );
    assert_eq!(
        call(&srv, "uploadAll").await,
        serde_json::json!({"length": 120000, "ends": "c"})
    );
    let failed = call(&srv, "uploadError").await;
    assert_eq!(failed["rejected"], true, "{failed}");
    assert!(
        failed["message"]
            .as_str()
            .unwrap_or_default()
            .contains("the source broke"),
        "{failed}"
    );
    // Aborting the fetch cancels the body it was uploading (Fetch §5.6).
    assert_eq!(
        call(&srv, "uploadAbort").await,
        serde_json::json!({"name": "AbortError", "cancelled": "AbortError", "locked": true})
    );
}

#[tokio::test]
async fn redirect_modes() {
    let srv = targets(TestServer::new())
        .function("caller", CALLER)
        .start()
        .await;
    let follow = call(&srv, "follow").await;
    assert_eq!(
        (follow["status"].as_u64(), follow["redirected"].as_bool()),
        (Some(200), Some(true))
    );
    assert_eq!(follow["url"], srv.url("/echo"));
    let manual = call(&srv, "manual").await;
    assert_eq!(manual["status"], 302);
    assert_eq!(manual["location"], srv.url("/echo"));
    assert_eq!(call(&srv, "error").await["rejected"], true);
}

#[tokio::test]
async fn abort_and_network_errors_reject() {
    let srv = targets(TestServer::new())
        .function("caller", CALLER)
        .start()
        .await;
    let aborted = call(&srv, "abort").await;
    assert_eq!(
        (aborted["aborted"].as_bool(), aborted["name"].as_str()),
        (Some(true), Some("AbortError"))
    );
    let unreachable = call(&srv, "unreachable").await;
    assert_eq!(unreachable["rejected"], true, "{unreachable}");
    let scheme = call(&srv, "scheme").await;
    assert_eq!(scheme["rejected"], true);
    assert!(
        scheme["message"].as_str().unwrap().contains("ftp"),
        "{scheme}"
    );
}

#[tokio::test]
async fn the_allow_list_refuses_other_hosts_naming_them() {
    let srv = targets(TestServer::new())
        .function(
            "caller",
            r#"Deno.serve(async (req) => {
                try { await fetch(new URL('/echo', req.url)); return new Response('allowed'); }
                catch (e) { return new Response(`${e.name}: ${e.message}`); }
            });"#,
        )
        .config(|c| {
            c.functions
                .entry("caller".into())
                .or_default()
                .allowed_hosts = Some(vec!["api.example.com".into()]);
        })
        .start()
        .await;
    let (status, text) = srv.get_text("/caller").await;
    assert_eq!(status, 200);
    assert!(
        text.starts_with("TypeError:") && text.contains("127.0.0.1"),
        "{text}"
    );
}

/// An HTTPS server on an ephemeral port of this machine, with a certificate for `localhost`
/// signed by a certificate authority made for the test. It answers every request with the HTTP
/// version it was served over, its method and its body.
struct TlsServer {
    port: u16,
    ca_pem: String,
    _task: tokio::task::JoinHandle<()>,
}

impl TlsServer {
    /// `alpn` lists the protocols it offers (`h2`, `http/1.1`).
    async fn start(alpn: &[&[u8]]) -> TlsServer {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "edgefn test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap(),
            )
            .unwrap();
        tls.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return; // a client that does not trust the CA hangs up
                    };
                    let service = hyper::service::service_fn(answer);
                    let _ = hyper_util::server::conn::auto::Builder::new(
                        hyper_util::rt::TokioExecutor::new(),
                    )
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
                });
            }
        });
        TlsServer {
            port,
            ca_pem: ca_cert.pem(),
            _task: task,
        }
    }

    fn url(&self) -> String {
        format!("https://localhost:{}/tls", self.port)
    }
}

async fn answer(
    request: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<http_body_util::Full<bytes::Bytes>>, std::convert::Infallible> {
    use http_body_util::BodyExt;
    let version = format!("{:?}", request.version());
    let method = request.method().to_string();
    let body = request.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::json!({
        "version": version,
        "method": method,
        "body": String::from_utf8_lossy(&body),
    });
    Ok(hyper::Response::new(json.to_string().into()))
}

/// Fetches `?target=` with a POST body and reports the answer or the error.
const TLS_CALLER: &str = r#"
export default { async fetch(req) {
  const target = new URL(req.url).searchParams.get('target');
  try {
    const res = await fetch(target, { method: 'POST', body: 'sent over tls' });
    return Response.json({ status: res.status, answer: await res.json() });
  } catch (e) {
    return Response.json({ error: `${e.name}: ${e.message}` });
  }
} };"#;

#[tokio::test]
async fn fetch_speaks_http2_and_http1_over_tls_to_a_trusted_ca() {
    let both = TlsServer::start(&[b"h2", b"http/1.1"]).await;
    let http1 = TlsServer::start(&[b"http/1.1"]).await;
    let ca_dir = tempfile::tempdir().unwrap();
    let ca_file = ca_dir.path().join("ca.pem");
    std::fs::write(&ca_file, &both.ca_pem).unwrap();
    std::fs::write(ca_dir.path().join("ca1.pem"), &http1.ca_pem).unwrap();
    let srv = TestServer::new()
        .function("caller", TLS_CALLER)
        .config(|c| c.fetch.ca_files = vec![ca_file.clone(), ca_dir.path().join("ca1.pem")])
        .start()
        .await;
    for (server, version) in [(&both, "HTTP/2.0"), (&http1, "HTTP/1.1")] {
        let (status, result) = srv
            .get_json(&format!("/caller?target={}", server.url()))
            .await;
        assert_eq!(status, 200);
        assert_eq!(result["status"], 200, "{result}");
        assert_eq!(
            result["answer"],
            serde_json::json!({"version": version, "method": "POST", "body": "sent over tls"}),
        );
    }
}

#[tokio::test]
async fn fetch_refuses_a_certificate_from_an_unknown_ca() {
    let tls = TlsServer::start(&[b"h2", b"http/1.1"]).await;
    let srv = TestServer::new()
        .function("caller", TLS_CALLER)
        .start()
        .await;
    let (status, result) = srv.get_json(&format!("/caller?target={}", tls.url())).await;
    assert_eq!(status, 200);
    let error = result["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("TypeError:") && error.contains("certificate"),
        "{result}"
    );
}
