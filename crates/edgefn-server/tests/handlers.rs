//! Every handler form a function can use, and what the handler sees of the request.

mod support;

use support::TestServer;

#[tokio::test]
async fn deno_serve_with_a_handler() {
    let srv = TestServer::new()
        .function("f", "Deno.serve((req) => new Response('plain handler'));")
        .start()
        .await;
    assert_eq!(srv.get_text("/f").await, (200, "plain handler".into()));
}

#[tokio::test]
async fn deno_serve_with_options_and_a_handler() {
    let srv = TestServer::new()
        .function(
            "f",
            "Deno.serve({ port: 1234 }, async (req) => new Response('options then handler'));",
        )
        .start()
        .await;
    assert_eq!(
        srv.get_text("/f").await,
        (200, "options then handler".into())
    );
}

#[tokio::test]
async fn deno_serve_with_a_handler_in_the_options() {
    let srv = TestServer::new()
        .function(
            "f",
            "Deno.serve({ handler: () => new Response('in options') });",
        )
        .start()
        .await;
    assert_eq!(srv.get_text("/f").await, (200, "in options".into()));
}

#[tokio::test]
async fn export_default_fetch_with_env_and_ctx() {
    let srv = TestServer::new()
        .function(
            "f",
            r#"export default {
                greeting: 'hello',
                async fetch(request, env, ctx) {
                    ctx.waitUntil(Promise.resolve());
                    return Response.json({ greeting: this.greeting, token: env.TOKEN, method: request.method });
                },
            };"#,
        )
        .env("f", "TOKEN", "secret-1")
        .start()
        .await;
    let (status, body) = srv.get_json("/f").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        serde_json::json!({"greeting": "hello", "token": "secret-1", "method": "GET"})
    );
}

#[tokio::test]
async fn handler_may_return_a_promise_that_resolves_later() {
    let srv = TestServer::new()
        .function(
            "f",
            r#"Deno.serve(() => new Promise((resolve) =>
                setTimeout(() => resolve(new Response('after a timer')), 5)));"#,
        )
        .start()
        .await;
    assert_eq!(srv.get_text("/f").await, (200, "after a timer".into()));
}

#[tokio::test]
async fn top_level_await_finishes_before_the_first_request() {
    let srv = TestServer::new()
        .function(
            "f",
            r#"const config = await new Promise((r) => setTimeout(() => r('loaded'), 5));
               export default { fetch: () => new Response(config) };"#,
        )
        .start()
        .await;
    assert_eq!(srv.get_text("/f").await, (200, "loaded".into()));
}

#[tokio::test]
async fn request_url_is_the_full_original_url_on_both_routes() {
    let srv = TestServer::new()
        .function("f", "Deno.serve((req) => new Response(req.url));")
        .start()
        .await;
    let base = format!("http://{}", srv.addr());
    assert_eq!(
        srv.get_text("/f/a/b?x=1&y=2").await.1,
        format!("{base}/f/a/b?x=1&y=2")
    );
    assert_eq!(
        srv.get_text("/functions/v1/f/a?z").await.1,
        format!("{base}/functions/v1/f/a?z")
    );
}

#[tokio::test]
async fn deno_serve_handler_sees_the_remote_address() {
    let srv = TestServer::new()
        .function(
            "f",
            "Deno.serve((req, info) => new Response(info.remoteAddr.hostname + ' ' + typeof info.remoteAddr.port));",
        )
        .start()
        .await;
    assert_eq!(srv.get_text("/f").await, (200, "127.0.0.1 number".into()));
}

#[tokio::test]
async fn env_comes_from_configuration_never_from_the_process() {
    // PATH and HOME are set in every test process; a function must not see them.
    let srv = TestServer::new()
        .function(
            "f",
            r#"Deno.serve(() => Response.json({
                configured: Deno.env.get('API_URL'),
                path: Deno.env.get('PATH') ?? null,
                home: Deno.env.get('HOME') ?? null,
                all: Deno.env.toObject(),
            }));"#,
        )
        .env("f", "API_URL", "https://api.example")
        .start()
        .await;
    let (_, body) = srv.get_json("/f").await;
    assert_eq!(
        body,
        serde_json::json!({
            "configured": "https://api.example",
            "path": null,
            "home": null,
            "all": {"API_URL": "https://api.example"},
        })
    );
}

#[tokio::test]
async fn console_prints_objects_with_the_layer_s_own_globals_even_after_a_tenant_replaced_them() {
    // The printing of objects (js/inspect) is loaded on first use, here after the tenant
    // replaced the globals it relies on.
    let srv = TestServer::new()
        .function(
            "replacer",
            r#"const { Map: RealMap, Set: RealSet } = globalThis;
               globalThis.Map = globalThis.Set = function () { throw new Error('tenant'); };
               Object.keys = Object.getOwnPropertyNames = () => ['tenant'];
               Deno.serve(() => {
                   console.log({ a: [1, 'two'], m: new RealMap([[1, { x: 1 }]]), f() {} });
                   console.log(new RealSet(['s']));
                   console.table([{ k: 1 }]);
                   return new Response('logged');
               });"#,
        )
        .start()
        .await;
    assert_eq!(srv.get_text("/replacer").await, (200, "logged".into()));
    let messages: Vec<String> = support::function_logs("replacer")
        .iter()
        .filter(|line| line["target"] == "edgefn::console")
        .filter_map(|line| line["fields"]["message"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        messages[..2],
        [
            "{ a: [ 1, \"two\" ], m: Map(1) { 1 => { x: 1 } }, f: [Function: f] }",
            "Set(1) { \"s\" }",
        ],
        "{messages:#?}"
    );
    assert!(messages[2].contains("│ 0       │ 1 │"), "{messages:#?}");
}

#[tokio::test]
async fn headers_changed_after_the_response_was_made_reach_the_client() {
    let srv = TestServer::new()
        .function(
            "late",
            r#"Deno.serve(() => {
                const response = new Response('body', { headers: { 'x-early': '1' } });
                response.headers.set('x-late', '2');
                return response;
            });"#,
        )
        .start()
        .await;
    let response = srv.get("/late").await;
    assert_eq!(response.headers()["x-early"], "1");
    assert_eq!(response.headers()["x-late"], "2");
    assert_eq!(response.text().await.unwrap(), "body");
}

#[tokio::test]
async fn module_state_persists_across_requests_in_one_isolate() {
    let srv = TestServer::new()
        .function(
            "f",
            "let n = 0; Deno.serve(() => new Response(String(++n)));",
        )
        .start()
        .await;
    for expected in 1..=3 {
        assert_eq!(srv.get_text("/f").await.1, expected.to_string());
    }
}

#[tokio::test]
async fn console_output_goes_to_the_log_tagged_with_the_function() {
    let srv = TestServer::new()
        .function(
            "chatty",
            r#"Deno.serve(() => {
                console.log('plain %s and %d', 'text', 42, { nested: [1, 2] });
                console.warn('careful');
                console.error(new Error('shown with stack'));
                console.debug('details');
                return new Response('logged');
            });"#,
        )
        .start()
        .await;
    assert_eq!(srv.get_text("/chatty").await, (200, "logged".into()));
    let lines = support::function_logs("chatty");
    let find = |needle: &str| {
        lines
            .iter()
            .find(|line| {
                line["target"] == "edgefn::console"
                    && line["fields"]["message"]
                        .as_str()
                        .is_some_and(|m| m.contains(needle))
            })
            .unwrap_or_else(|| panic!("no console line with {needle:?} in {lines:#?}"))
    };
    let plain = find("plain text and 42");
    assert_eq!(plain["level"], "INFO");
    assert!(
        plain["fields"]["message"]
            .as_str()
            .unwrap()
            .contains("{ nested: [ 1, 2 ] }"),
        "{plain}"
    );
    assert!(plain["fields"]["worker_id"].is_number(), "{plain}");
    assert_eq!(find("careful")["level"], "WARN");
    let error = find("Error: shown with stack");
    assert_eq!(error["level"], "ERROR");
    assert_eq!(find("details")["level"], "DEBUG");
}
