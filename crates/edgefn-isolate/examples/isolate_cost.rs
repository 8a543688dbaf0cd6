//! What one isolate costs, measured in-process: a bare QuickJS runtime and context, an isolate
//! with the Web layer loaded (`Isolate::prepare`), giving it a hello-world function
//! (`Isolate::assign` and `boot`), and its first and second request (dispatch to the answer),
//! each over `COUNT` isolates kept alive (default 200).
//!
//! ```sh
//! cargo run --release -p edgefn-isolate --example isolate_cost
//! ```

use std::time::{Duration, Instant};

use edgefn_isolate::{FetchClient, IncomingRequest, Isolate, TenantOptions};

/// Time from dispatch to the response head of one GET.
async fn request(isolate: &Isolate) -> Duration {
    let started = Instant::now();
    let response = isolate
        .dispatch(IncomingRequest {
            method: http::Method::GET,
            url: "http://localhost/hello".into(),
            headers: http::HeaderMap::new(),
            body: None,
            remote_addr: None,
            client: None,
        })
        .await
        .expect("an answer")
        .expect("a response");
    let elapsed = started.elapsed();
    assert_eq!(response.status, 200);
    elapsed
}

fn main() {
    let count: usize = std::env::var("COUNT")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    let folder = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(
        folder.path().join("index.js"),
        "export default { fetch: () => new Response('hello') };\n",
    )
    .expect("writable temporary folder");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, async {
        let mut bare = Vec::with_capacity(count);
        let mut bare_times = Vec::with_capacity(count);
        for _ in 0..count {
            let started = Instant::now();
            let rt = rquickjs::Runtime::new().expect("a runtime");
            let ctx = rquickjs::Context::full(&rt).expect("a context");
            bare_times.push(started.elapsed());
            bare.push((ctx, rt));
        }
        let bare_heap = bare[0].1.memory_usage().malloc_size as usize;
        drop(bare);

        let fetch = FetchClient::new(Vec::new().into(), "edgefn".into());
        let mut isolates = Vec::with_capacity(count);
        let (mut prepare_times, mut boot_times) = (Vec::new(), Vec::new());
        let (mut first_times, mut second_times) = (Vec::new(), Vec::new());
        let mut prepared_heap = 0;
        for _ in 0..count {
            let started = Instant::now();
            let isolate = Isolate::prepare("edgefn", fetch.clone()).expect("an isolate");
            prepare_times.push(started.elapsed());
            prepared_heap = isolate.memory_used_bytes();
            let started = Instant::now();
            isolate
                .assign(TenantOptions {
                    memory_limit_bytes: 0,
                    cpu_time_limit: None,
                    env: Default::default(),
                    log: std::rc::Rc::new(|_, _| {}),
                    allowed_hosts: None,
                })
                .expect("assign");
            isolate.boot(folder.path()).await.expect("boot");
            boot_times.push(started.elapsed());
            first_times.push(request(&isolate).await);
            second_times.push(request(&isolate).await);
            isolates.push(isolate);
        }
        let report = |what: &str, times: &mut Vec<Duration>, heap: usize| {
            times.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            println!(
                "{what:<28} p50 {:.3} ms  p99 {:.3} ms  heap {:.0} KiB",
                ms(times[times.len() / 2]),
                ms(times[times.len() * 99 / 100]),
                heap as f64 / 1024.0
            );
        };
        println!("{count} isolates, each kept alive");
        report("bare runtime + context", &mut bare_times, bare_heap);
        report(
            "prepare (Web layer loaded)",
            &mut prepare_times,
            prepared_heap,
        );
        report(
            "assign + boot hello",
            &mut boot_times,
            isolates[0].memory_used_bytes(),
        );
        let heap = isolates[0].memory_used_bytes();
        report("first request", &mut first_times, heap);
        report("second request", &mut second_times, heap);
        println!("{}", isolates[0].heap_report());
    });
}
