//! Many functions at once, each in its own isolate: no shared globals, module state or env.

mod support;

use support::TestServer;

#[tokio::test]
async fn many_functions_serve_concurrently_each_with_its_own_state() {
    const FUNCTIONS: usize = 40;
    const REQUESTS_EACH: usize = 5;
    let mut builder = TestServer::new().threads(2);
    for i in 0..FUNCTIONS {
        builder = builder.function(
            &format!("fn{i}"),
            &format!(
                "let count = 0; Deno.serve(async () => {{ await null; count++; return Response.json({{ id: {i}, count }}); }});"
            ),
        );
    }
    let srv = builder.start().await;
    let mut requests = Vec::new();
    for round in 0..REQUESTS_EACH {
        for i in 0..FUNCTIONS {
            let client = srv.client().clone();
            let url = srv.url(&format!("/fn{i}"));
            requests.push(tokio::spawn(async move {
                let body: serde_json::Value =
                    client.get(url).send().await.unwrap().json().await.unwrap();
                (i, round, body)
            }));
        }
    }
    let mut counts = vec![Vec::new(); FUNCTIONS];
    for request in requests {
        let (i, _, body) = request.await.unwrap();
        assert_eq!(body["id"], i);
        counts[i].push(body["count"].as_u64().unwrap());
    }
    for (i, mut seen) in counts.into_iter().enumerate() {
        seen.sort_unstable();
        assert_eq!(
            seen,
            (1..=REQUESTS_EACH as u64).collect::<Vec<_>>(),
            "fn{i}"
        );
    }
}

#[tokio::test]
async fn globals_module_state_and_env_are_invisible_to_other_functions() {
    let srv = TestServer::new()
        .function(
            "writer",
            r#"globalThis.leak = 'from writer';
               Array.prototype.leaky = () => 'patched';
               export const shared = 'module state';
               Deno.env.set('RUNTIME_SET', 'x');
               Deno.serve(() => new Response(Deno.env.get('SECRET')));"#,
        )
        .function(
            "reader",
            r#"Deno.serve(() => Response.json({
                leak: globalThis.leak ?? null,
                patched: typeof [].leaky,
                secret: Deno.env.get('SECRET') ?? null,
                runtimeSet: Deno.env.get('RUNTIME_SET') ?? null,
            }));"#,
        )
        .env("writer", "SECRET", "writer-only")
        .threads(1) // same thread: isolation must not depend on threads
        .start()
        .await;
    assert_eq!(srv.get_text("/writer").await, (200, "writer-only".into()));
    let (_, body) = srv.get_json("/reader").await;
    assert_eq!(
        body,
        serde_json::json!({"leak": null, "patched": "undefined", "secret": null, "runtimeSet": null})
    );
}

#[tokio::test]
async fn a_slow_function_does_not_block_another_on_the_same_thread() {
    // `slow` waits on a timer; `fast` is served meanwhile by the same thread's event loop.
    let srv = TestServer::new()
        .function(
            "slow",
            r#"let release;
               const gate = new Promise((r) => (release = r));
               export default { async fetch(req) {
                   if (new URL(req.url).searchParams.has('release')) { release(); return new Response('released'); }
                   await gate;
                   return new Response('slow done');
               } };"#,
        )
        .function("fast", "Deno.serve(() => new Response('fast'));")
        .threads(1)
        .start()
        .await;
    let slow = tokio::spawn({
        let client = srv.client().clone();
        let url = srv.url("/slow");
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    });
    assert_eq!(srv.get_text("/fast").await, (200, "fast".into()));
    assert_eq!(
        srv.get_text("/slow?release").await,
        (200, "released".into())
    );
    assert_eq!(slow.await.unwrap(), "slow done");
}
