//! `fetch()` from inside a function: one function calling others on the same server (its own
//! address), bodies both ways, redirect modes, aborts, network errors and the allow list.

mod support;

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
