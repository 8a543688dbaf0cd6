//! The cost of a warm request in-process: boots one function (the module at `HANDLER`, or a
//! hello-world) in one isolate and dispatches `N` requests to it (default 10,000), one after
//! the other: GETs, or POSTs of the file at `BODY`; prints the time per request and the heap
//! after.
//!
//! Under `valgrind --tool=callgrind` the difference between two runs with different `N` is the
//! engine's and the isolate's instructions per request, a figure that does not depend on what
//! else the machine is doing (`bench/run instructions` runs it so).
//!
//! ```sh
//! cargo run --release -p edgefn-isolate --example request_cost
//! HANDLER=bench/functions/hello/index.js cargo run --release -p edgefn-isolate --example request_cost
//! ```

use std::time::Instant;

use edgefn_isolate::{FetchClient, IncomingRequest, Isolate, ModuleCache, TenantOptions};

fn main() {
    edgefn_isolate::compile_layer().expect("the Web layer compiles");
    let count: usize = std::env::var("N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    let source = match std::env::var("HANDLER") {
        Ok(path) => std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}")),
        Err(_) => "export default { fetch: () => new Response('Hello, world!\\n') };\n".into(),
    };
    let body = std::env::var("BODY").ok().map(|path| {
        bytes::Bytes::from(std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
    });
    let folder = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(folder.path().join("index.js"), source).expect("a writable folder");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let fetch = FetchClient::new(Vec::new().into(), "edgefn".into());
        let isolate = Isolate::prepare("edgefn", fetch).await.expect("an isolate");
        isolate
            .assign(TenantOptions {
                memory_limit_bytes: 0,
                cpu_time_limit: None,
                env: Default::default(),
                log: std::rc::Rc::new(|_, line| eprintln!("{line}")),
                allowed_hosts: None,
            })
            .expect("assign");
        isolate
            .boot(folder.path(), &ModuleCache::disabled())
            .await
            .expect("the function boots");
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::HOST, "127.0.0.1:9000".parse().unwrap());
        if body.is_some() {
            headers.insert(
                http::header::CONTENT_TYPE,
                "application/json".parse().unwrap(),
            );
        }
        let started = Instant::now();
        for _ in 0..count {
            let response = isolate
                .dispatch(IncomingRequest {
                    method: if body.is_some() {
                        http::Method::POST
                    } else {
                        http::Method::GET
                    },
                    url: "http://127.0.0.1:9000/hello".into(),
                    headers: headers.clone(),
                    body: body.clone().map(|bytes| {
                        Box::pin(futures_util::stream::iter([Ok(bytes)]))
                            as edgefn_isolate::BodyStream
                    }),
                    remote_addr: None,
                    client: None,
                })
                .await
                .expect("an answer")
                .expect("a response");
            assert!(response.status.is_success(), "status {}", response.status);
        }
        let elapsed = started.elapsed();
        println!(
            "{count} requests: {:.2} µs per request; heap {} bytes; chunks loaded {:?}",
            elapsed.as_secs_f64() * 1e6 / count.max(1) as f64,
            isolate.memory_used_bytes(),
            isolate.layer_chunks(),
        );
    });
}
