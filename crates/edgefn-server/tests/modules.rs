//! ES modules inside a function folder: relative imports of TypeScript, JavaScript and JSON,
//! TypeScript syntax stripped, and imports that escape the folder refused.

mod support;

use support::TestServer;

#[tokio::test]
async fn relative_imports_of_ts_js_mjs_and_json() {
    let srv = TestServer::new()
        .file(
            "multi/index.ts",
            r#"import { greet } from './lib/greet.ts';
               import { twice } from './lib/math.js';
               import { VERSION } from './lib/version.mjs';
               import data from './data.json' with { type: 'json' };
               Deno.serve(() => new Response(`${greet(data.name)} ${twice(21)} ${VERSION}`));"#,
        )
        .file(
            "multi/lib/greet.ts",
            "import { punctuation } from '../punct.ts';\n\
             export function greet(name: string): string { return `hello ${name}${punctuation}`; }",
        )
        .file("multi/punct.ts", "export const punctuation: string = '!';")
        .file("multi/lib/math.js", "export const twice = (n) => n * 2;")
        .file("multi/lib/version.mjs", "export const VERSION = 'v1';")
        .file("multi/data.json", r#"{ "name": "edgefn" }"#)
        .start()
        .await;
    assert_eq!(
        srv.get_text("/multi").await,
        (200, "hello edgefn! 42 v1".into())
    );
}

#[tokio::test]
async fn typescript_syntax_is_stripped() {
    let srv = TestServer::new()
        .ts_function(
            "ts",
            r#"
interface Shape { area(): number }
type Pair<T> = [T, T];
enum Color { Red, Green = 5, Blue }
const enum Flag { On = 1 }
declare const injected: string;
abstract class Base<T> { abstract value(): T; }
class Square extends Base<number> implements Shape {
    constructor(private readonly side: number, public label: string = 'sq') { super(); }
    value(): number { return this.side; }
    area(): number { return this.side ** 2; }
}
function first<T>(pair: Pair<T>): T { return pair[0]; }
const config = { port: 1 } satisfies Record<string, number>;
const n = (config.port as unknown as number)!;
namespace Util { export const k = 3; }
export default {
    fetch(_req: Request): Response {
        const sq = new Square(4);
        return Response.json([sq.area(), sq.label, Color.Green, Color[6], first<number>([7, 8]), n, Util.k, Flag.On]);
    },
} satisfies { fetch(r: Request): Response };
"#,
        )
        .start()
        .await;
    let (status, body) = srv.get_json("/ts").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, serde_json::json!([16, "sq", 5, "Blue", 7, 1, 3, 1]));
}

#[tokio::test]
async fn import_escaping_the_function_folder_is_a_boot_error_naming_it() {
    let srv = TestServer::new()
        .file("shared.js", "export const secret = 'outside';")
        .function(
            "f",
            "import { secret } from '../shared.js';\nDeno.serve(() => new Response(secret));",
        )
        .function(
            "sibling",
            "import { x } from '../f/index.js';\nDeno.serve(() => new Response('x'));",
        )
        .start()
        .await;
    for name in ["f", "sibling"] {
        let (status, body) = srv.get_json(&format!("/{name}")).await;
        assert_eq!(status, 500, "{name}");
        assert_eq!(body["error"], "BootError", "{name}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains("escapes the function folder"), "{message}");
    }
}

#[tokio::test]
async fn bare_and_remote_specifiers_are_refused_with_a_clear_message() {
    let srv = TestServer::new()
        .function(
            "f",
            "import { Hono } from 'npm:hono';\nDeno.serve(() => new Response('x'));",
        )
        .start()
        .await;
    let (status, body) = srv.get_json("/f").await;
    assert_eq!(status, 500);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("unsupported import 'npm:hono'"),
        "{body}"
    );
}

#[tokio::test]
async fn invalid_json_module_is_a_boot_error_naming_the_file() {
    let srv = TestServer::new()
        .function(
            "f",
            "import d from './d.json';\nDeno.serve(() => Response.json(d));",
        )
        .file("f/d.json", "{ \"a\": }")
        .start()
        .await;
    let (status, body) = srv.get_json("/f").await;
    assert_eq!(status, 500);
    assert!(
        body["message"].as_str().unwrap().contains("d.json:1:"),
        "{body}"
    );
}

#[tokio::test]
async fn dynamic_import_inside_the_folder_works() {
    let srv = TestServer::new()
        .function(
            "f",
            "Deno.serve(async () => { const m = await import('./later.js'); return new Response(m.value); });",
        )
        .file("f/later.js", "export const value = 'loaded lazily';")
        .start()
        .await;
    assert_eq!(srv.get_text("/f").await, (200, "loaded lazily".into()));
}

/// The entry of the `stack` function, whose answer is a stack trace through an imported
/// module: bytecode from the cache must keep file names and line numbers.
const STACK_ENTRY: &str = "import { where } from './lib.js';\n\
                           import { SMALL } from './small.js';\n\
                           export default { fetch: () => new Response(where() + SMALL) };\n";
/// Under the 1 KiB the disk tier requires.
const SMALL: &str = "export const SMALL = '';\n";

/// `code` with a comment that makes it over 1 KiB, the smallest module the disk tier keeps.
fn padded(code: &str) -> String {
    format!("{code}// {}\n", "padding ".repeat(128))
}

/// The `stack` function: `new Error` is on line 2 of its `lib.js`. Its files are small
/// JavaScript at the folder's top, so the worker thread compiles them itself (nothing is
/// compiled ahead on the compute pool).
fn stack_function() -> TestServer {
    TestServer::new()
        .function("stack", &padded(STACK_ENTRY))
        .file("stack/lib.js", &stack_lib())
        .file("stack/small.js", SMALL)
}

/// The `stack` function's answer (a stack trace), which must be a 200.
async fn stack_answer(srv: &support::RunningServer) -> String {
    let (status, body) = srv.get_text("/stack").await;
    assert_eq!(status, 200, "{body}");
    body
}

fn stack_lib() -> String {
    padded("export function where() {\n  return new Error('here').stack;\n}\n")
}

/// `edgefn_module_loads_total` by source: (memory, disk, compiled).
async fn module_loads(srv: &support::RunningServer) -> (f64, f64, f64) {
    let metrics = support::metrics(srv).await;
    let loads = |source: &str| {
        support::value(
            &metrics,
            &format!("edgefn_module_loads_total{{source=\"{source}\"}}"),
        )
    };
    (loads("memory"), loads("disk"), loads("compiled"))
}

/// `support::eventually` for what the cache's writer does. It runs at idle priority
/// (`SCHED_IDLE`), so while other tests keep both cores busy it may not run for seconds: this
/// waits up to a minute (six rounds).
async fn eventually_written<T, F: std::future::Future<Output = T>>(
    mut probe: impl FnMut() -> F,
    ready: impl Fn(&T) -> bool,
) -> T {
    let mut value = support::eventually(&mut probe, &ready).await;
    for _ in 0..5 {
        if ready(&value) {
            break;
        }
        value = support::eventually(&mut probe, &ready).await;
    }
    value
}

/// The entry files of the cache's disk tier, once the writer thread has written `count`.
async fn cache_entries(srv: &support::RunningServer, count: usize) -> Vec<std::path::PathBuf> {
    let dir = srv.cache_dir();
    let entries = || {
        std::fs::read_dir(&dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|entry| entry.path())
                    .filter(|path| path.extension().is_some_and(|e| e == "qbc"))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    };
    let found = eventually_written(|| async { entries() }, |found| found.len() >= count).await;
    assert_eq!(found.len(), count, "entries in {}", dir.display());
    found
}

#[tokio::test]
async fn a_module_is_compiled_once_then_loaded_from_the_cache() {
    let srv = stack_function()
        .config(|c| c.pool.policy = edgefn_runtime::Policy::Oneshot)
        .start()
        .await;
    let first = stack_answer(&srv).await;
    assert!(first.contains("stack/lib.js:2"), "{first}");
    for _ in 0..2 {
        // A fresh isolate per request: each loads both modules again.
        assert_eq!(srv.get_text("/stack").await, (200, first.clone()));
    }
    assert_eq!(module_loads(&srv).await, (6.0, 0.0, 3.0));
}

#[tokio::test]
async fn the_cache_survives_a_restart_and_an_edited_module_is_compiled_again() {
    let srv = stack_function().start().await;
    let first = stack_answer(&srv).await;
    cache_entries(&srv, 2).await;

    let srv = srv.restart().await;
    assert_eq!(srv.get_text("/stack").await, (200, first));
    assert_eq!(
        module_loads(&srv).await,
        (0.0, 2.0, 1.0),
        "small.js is not kept on disk"
    );

    let lib = srv.functions_dir().join("stack/lib.js");
    std::fs::write(&lib, format!("// moved down a line\n{}", stack_lib())).unwrap();
    let srv = srv.restart().await;
    let (status, edited) = srv.get_text("/stack").await;
    assert_eq!(status, 200, "{edited}");
    assert!(
        edited.contains("stack/lib.js:3"),
        "the edited file runs: {edited}"
    );
    assert_eq!(
        module_loads(&srv).await,
        (0.0, 1.0, 2.0),
        "only lib.js changed"
    );
}

#[tokio::test]
async fn a_damaged_cache_entry_is_deleted_and_the_module_compiled_again() {
    let srv = stack_function().start().await;
    let first = stack_answer(&srv).await;
    let mut damaged = Vec::new();
    for entry in cache_entries(&srv, 2).await {
        let mut bytes = std::fs::read(&entry).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x55;
        std::fs::write(&entry, &bytes).unwrap();
        damaged.push((entry, bytes));
    }

    let srv = srv.restart().await;
    assert_eq!(srv.get_text("/stack").await, (200, first.clone()));
    assert_eq!(module_loads(&srv).await, (0.0, 0.0, 3.0));
    let metrics = support::metrics(&srv).await;
    assert_eq!(
        support::value(&metrics, "edgefn_module_cache_rejected_total"),
        2.0
    );

    // Compiled again, the modules were written again (the damaged files are only replaced once
    // the cache's writer gets to them).
    let rewritten = || async {
        damaged
            .iter()
            .all(|(entry, bytes)| std::fs::read(entry).is_ok_and(|now| now != *bytes))
    };
    assert!(eventually_written(rewritten, |done| *done).await);
    let srv = srv.restart().await;
    assert_eq!(srv.get_text("/stack").await, (200, first));
    assert_eq!(module_loads(&srv).await, (0.0, 2.0, 1.0));
}

#[tokio::test]
async fn entries_deleted_by_someone_else_are_written_again() {
    // No memory tier: every boot of this oneshot function looks on disk.
    let srv = stack_function()
        .config(|c| {
            c.pool.policy = edgefn_runtime::Policy::Oneshot;
            c.cache.memory_mb = 0;
        })
        .start()
        .await;
    let first = stack_answer(&srv).await;
    for entry in cache_entries(&srv, 2).await {
        std::fs::remove_file(entry).unwrap();
    }
    assert_eq!(srv.get_text("/stack").await, (200, first.clone()));
    cache_entries(&srv, 2).await;
    assert_eq!(srv.get_text("/stack").await, (200, first));
    // small.js is compiled on every request; the others twice, then read from disk.
    assert_eq!(module_loads(&srv).await, (0.0, 2.0, 7.0));
}

#[tokio::test]
async fn a_broken_import_of_a_cached_module_is_reported_and_the_module_stays_cached() {
    let srv = stack_function()
        .config(|c| c.pool.policy = edgefn_runtime::Policy::Oneshot)
        .start()
        .await;
    let first = stack_answer(&srv).await;
    let lib = srv.functions_dir().join("stack/lib.js");
    std::fs::write(&lib, "export function where() {\n  return ;;; )\n}\n").unwrap();
    let (status, body) = srv.get_json("/stack").await;
    assert_eq!(status, 500, "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("stack/lib.js:2"), "{message}");

    std::fs::write(&lib, stack_lib()).unwrap();
    assert_eq!(srv.get_text("/stack").await, (200, first));
    // index.js was compiled once: its entry survived the failed load of its import. (The
    // failed load counts for nothing; the last request loaded all three from memory.)
    assert_eq!(module_loads(&srv).await, (3.0, 0.0, 3.0));
}

#[tokio::test]
async fn typescript_and_large_modules_are_compiled_ahead_on_the_compute_pool() {
    // A generated module of about 40 KiB, over the 16 KiB from which plain JavaScript is
    // compiled ahead, and a TypeScript function.
    let large: String = (0..400)
        .map(|i| {
            format!("export function helper{i}(x) {{ return [x, {i}, 'helper{i}'].length; }}\n")
        })
        .collect::<String>()
        + "export default { fetch: () => new Response(String(helper7(1))) };\n";
    assert!(large.len() > 16 * 1024);
    let srv = TestServer::new()
        .function("large", &large)
        .ts_function(
            "typed",
            "import { n } from './lib/n.ts';\n\
             export default { fetch: (): Response => new Response(String(n)) };\n",
        )
        .file("typed/lib/n.ts", "export const n: number = 42;\n")
        .start()
        .await;
    assert_eq!(srv.get_text("/large").await, (200, "3".into()));
    assert_eq!(srv.get_text("/typed").await, (200, "42".into()));
    // Every module the isolates loaded had been compiled, on the compute pool, before.
    assert_eq!(module_loads(&srv).await, (3.0, 0.0, 3.0));
}

#[tokio::test]
async fn a_json_module_is_one_instance_for_importers_from_bytecode_and_from_source() {
    // QuickJS's bytecode drops import attributes: had index.js come from the disk tier after
    // the restart and small.js (under 1 KiB) been compiled, each would get its own data.json.
    let srv = TestServer::new()
        .function(
            "json",
            &padded(
                "import data from './data.json' with { type: 'json' };\n\
                 import { same } from './small.js';\n\
                 import { PLAIN } from './plain.js';\n\
                 export default { fetch: () => new Response(String(same(data)) + PLAIN) };\n",
            ),
        )
        .file(
            "json/small.js",
            "import data from './data.json' with { type: 'json' };\n\
             export const same = (other) => other === data;\n",
        )
        .file("json/plain.js", &padded("export const PLAIN = '';\n"))
        .file("json/data.json", r#"{ "a": 1 }"#)
        .start()
        .await;
    assert_eq!(srv.get_text("/json").await, (200, "true".into()));
    // Only plain.js is written: index.js imports with attributes.
    cache_entries(&srv, 1).await;
    let srv = srv.restart().await;
    assert_eq!(srv.get_text("/json").await, (200, "true".into()));
    assert_eq!(
        module_loads(&srv).await,
        (0.0, 1.0, 3.0),
        "plain.js from disk; index.js, small.js and data.json compiled"
    );
}
