//! What one isolate costs, measured in-process: a bare QuickJS runtime and context, an isolate
//! with the Web layer loaded (`Isolate::prepare`), giving it a hello-world function
//! (`Isolate::assign` and `boot`), and its first and second request (dispatch to the answer),
//! each over `COUNT` isolates kept alive (default 200). Then the boot of a large module (about
//! 200 KiB of JavaScript), compiled from source, and from the module cache's memory and disk
//! tiers; and the first request of a function that uses a chunk of the Web layer (which loads
//! it), with the heap after it.
//!
//! ```sh
//! cargo run --release -p edgefn-isolate --example isolate_cost
//! ```

use std::time::{Duration, Instant};

use edgefn_isolate::{
    FetchClient, IncomingRequest, Isolate, ModuleCache, ModuleCacheOptions, TenantOptions,
};

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

fn tenant() -> TenantOptions {
    TenantOptions {
        memory_limit_bytes: 0,
        cpu_time_limit: None,
        env: Default::default(),
        log: std::rc::Rc::new(|_, _| {}),
        allowed_hosts: None,
    }
}

/// A module of many small functions and objects, like a bundled library.
fn large_module() -> String {
    let mut source = String::new();
    for i in 0..800 {
        source.push_str(&format!(
            "export function helper{i}(input, options = {{}}) {{\n  const state = {{ id: {i}, \
             name: 'helper{i}', items: [input, options.extra ?? null] }};\n  if (typeof input \
             === 'string') return state.name + ':' + input.toUpperCase();\n  return \
             state.items.filter(Boolean).map((x) => x * {i}).length;\n}}\n"
        ));
    }
    source.push_str("export default { fetch: () => new Response(String(helper7('ok'))) };\n");
    source
}

/// Boot times of the module in `folder` with `cache`, each in a fresh prepared isolate; the
/// first boot (which fills the cache) is not counted.
async fn large_boots(folder: &std::path::Path, cache: &ModuleCache, count: usize) -> Vec<Duration> {
    let fetch = FetchClient::new(Vec::new().into(), "edgefn".into());
    let mut times = Vec::with_capacity(count);
    for round in 0..=count {
        let isolate = Isolate::prepare("edgefn", fetch.clone())
            .await
            .expect("an isolate");
        isolate.assign(tenant()).expect("assign");
        let started = Instant::now();
        isolate.boot(folder, cache).await.expect("boot");
        if round > 0 {
            times.push(started.elapsed());
        }
        request(&isolate).await;
    }
    times
}

fn main() {
    // As the server's warm-up does: no chunk of the layer is compiled while measuring.
    edgefn_isolate::compile_layer().expect("the Web layer compiles");
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
        let no_cache = ModuleCache::disabled();
        let mut isolates = Vec::with_capacity(count);
        let (mut prepare_times, mut boot_times) = (Vec::new(), Vec::new());
        let (mut first_times, mut second_times) = (Vec::new(), Vec::new());
        let mut prepared_heap = 0;
        for _ in 0..count {
            let started = Instant::now();
            let isolate = Isolate::prepare("edgefn", fetch.clone())
                .await
                .expect("an isolate");
            prepare_times.push(started.elapsed());
            prepared_heap = isolate.memory_used_bytes();
            let started = Instant::now();
            isolate.assign(tenant()).expect("assign");
            isolate.boot(folder.path(), &no_cache).await.expect("boot");
            boot_times.push(started.elapsed());
            first_times.push(request(&isolate).await);
            second_times.push(request(&isolate).await);
            isolates.push(isolate);
        }
        let report = |what: &str, times: &mut Vec<Duration>, heap: Option<usize>| {
            times.sort();
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            let heap = heap.map_or(String::new(), |heap| {
                format!("  heap {:.0} KiB", heap as f64 / 1024.0)
            });
            println!(
                "{what:<28} p50 {:.3} ms  p99 {:.3} ms{heap}",
                ms(times[times.len() / 2]),
                ms(times[times.len() * 99 / 100]),
            );
        };
        println!("{count} isolates, each kept alive");
        report("bare runtime + context", &mut bare_times, Some(bare_heap));
        report(
            "prepare (Web layer loaded)",
            &mut prepare_times,
            Some(prepared_heap),
        );
        report(
            "assign + boot hello",
            &mut boot_times,
            Some(isolates[0].memory_used_bytes()),
        );
        let heap = isolates[0].memory_used_bytes();
        report("first request", &mut first_times, Some(heap));
        report("second request", &mut second_times, Some(heap));
        println!("{}", isolates[0].heap_report());
        println!("layer chunks loaded: {:?}", isolates[0].layer_chunks());
        drop(isolates);

        let large = tempfile::tempdir().expect("a temporary folder");
        let source = large_module();
        std::fs::write(large.path().join("index.js"), &source).expect("writable folder");
        let rounds = (count / 10).max(5);
        println!(
            "\nboot of a {} KiB module, {rounds} isolates each",
            source.len() / 1024
        );
        let mut compiled = large_boots(large.path(), &ModuleCache::disabled(), rounds).await;
        report("compiled from source", &mut compiled, None);
        let memory = ModuleCache::new(&ModuleCacheOptions {
            memory_bytes: 64 << 20,
            dir: None,
            disk_bytes: 0,
        })
        .expect("a memory cache");
        let mut from_memory = large_boots(large.path(), &memory, rounds).await;
        report("from the memory tier", &mut from_memory, None);
        let cache_dir = tempfile::tempdir().expect("a temporary folder");
        let disk = ModuleCache::new(&ModuleCacheOptions {
            memory_bytes: 0,
            dir: Some(cache_dir.path().to_owned()),
            disk_bytes: 64 << 20,
        })
        .expect("a disk cache");
        // The entry is written by the cache's own thread: wait for it.
        large_boots(large.path(), &disk, 0).await;
        while disk.stats().disk_bytes == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let mut from_disk = large_boots(large.path(), &disk, rounds).await;
        report("from the disk tier", &mut from_disk, None);
        println!(
            "bytecode {} KiB; loads from disk {}",
            disk.stats().disk_bytes / 1024,
            disk.stats().disk_hits
        );

        println!(
            "\nfirst request that uses a chunk of the Web layer (loads it), {rounds} isolates each"
        );
        for (chunk, expression) in [
            ("none", "0"),
            ("console", "console.log('a line')"),
            ("events", "new AbortController()"),
            ("encoding", "new TextEncoder()"),
            ("url", "new URL('http://a/')"),
            ("fetch", "fetch('not a URL').catch(() => {})"),
            ("streams", "new ReadableStream()"),
            ("extension", "new Blob(['a'])"),
            ("clone", "structuredClone({ a: [1] })"),
            ("subtle", "crypto.subtle"),
            ("urlpattern", "new URLPattern({ pathname: '/a' })"),
            ("buffers", "new Uint8Array(1)"),
        ] {
            let folder = tempfile::tempdir().expect("a temporary folder");
            std::fs::write(
                folder.path().join("index.js"),
                format!(
                    "export default {{ fetch() {{ {expression}; return new Response('ok'); }} }};\n"
                ),
            )
            .expect("writable temporary folder");
            let mut first = Vec::with_capacity(rounds);
            let mut heap = 0;
            for _ in 0..rounds {
                let isolate = Isolate::prepare("edgefn", fetch.clone())
                    .await
                    .expect("an isolate");
                isolate.assign(tenant()).expect("assign");
                isolate.boot(folder.path(), &no_cache).await.expect("boot");
                first.push(request(&isolate).await);
                heap = isolate.memory_used_bytes();
            }
            report(chunk, &mut first, Some(heap));
        }
    });
}
