//! The Web platform layer (`js/*.js`, and the chunks loaded on first use: `js/ext`,
//! `js/inspect`, `js/timing`, `js/url`, `js/services`, `js/events`, `js/crypto`,
//! `js/encoding`, `js/console` and `js/fetch`), compiled to QuickJS bytecode once per
//! process.
//!
//! Every isolate loads the same bytecode instead of parsing the source again, which keeps the
//! parser off the cold-start path; a chunk is loaded only into the isolates that use it
//! (see `js/29_extension.js`). The bytecode is produced by a scratch runtime of this very
//! process, so it always matches the engine that reads it.

use std::sync::OnceLock;

use rquickjs::{Context, Ctx, Function, Module, Runtime, Value, WriteOptions};

/// The assembled core; see `build.rs`.
pub const SOURCE: &str = include_str!(concat!(env!("OUT_DIR"), "/bootstrap.js"));

// The chunks loaded on first use, assembled by `build.rs`: `CHUNKS`, their module names (as
// they appear in stack traces) and sources.
include!(concat!(env!("OUT_DIR"), "/chunks.rs"));

/// Module name of the core, as it appears in stack traces of the Web platform layer.
pub const MODULE_NAME: &str = "edgefn:runtime";

static BYTECODE: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();
static CHUNK_BYTECODE: [OnceLock<Result<Vec<u8>, String>>; CHUNKS.len()] =
    [const { OnceLock::new() }; CHUNKS.len()];

/// The core module as bytecode, compiled on first use. The chunks are then compiled by a
/// thread of their own, so that a tenant's first use of one does not wait for (or pay the CPU
/// time of) its compilation, unless it comes first.
pub fn bytecode() -> Result<&'static [u8], String> {
    BYTECODE
        .get_or_init(|| {
            let core = compile(MODULE_NAME, SOURCE);
            let compile_chunks = || {
                for (module, _) in CHUNKS {
                    let name = module.strip_prefix("edgefn:").unwrap_or(module);
                    let _ = chunk_bytecode(name);
                }
            };
            if let Err(error) = std::thread::Builder::new()
                .name("edgefn-layer".into())
                .spawn(compile_chunks)
            {
                // They are compiled on first use instead.
                tracing::debug!(%error, "cannot start the thread compiling the layer's chunks");
            }
            core
        })
        .as_deref()
        .map_err(Clone::clone)
}

/// The chunk `name` (`extension` for `edgefn:extension`) as bytecode, compiled on first use.
fn chunk_bytecode(name: &str) -> Result<&'static [u8], String> {
    let index = CHUNKS
        .iter()
        .position(|(module, _)| module.strip_prefix("edgefn:") == Some(name))
        .ok_or_else(|| format!("no chunk of the Web layer is called {name}"))?;
    let (module, source) = CHUNKS[index];
    CHUNK_BYTECODE[index]
        .get_or_init(|| compile(module, source))
        .as_deref()
        .map_err(Clone::clone)
}

fn compile(name: &str, source: &str) -> Result<Vec<u8>, String> {
    let runtime = Runtime::new().map_err(|e| e.to_string())?;
    let context = Context::full(&runtime).map_err(|e| e.to_string())?;
    context.with(|ctx| {
        let module = Module::declare(ctx.clone(), name, source).map_err(|error| {
            let thrown = ctx.catch();
            format!("the built-in module {name} does not compile: {error}: {thrown:?}")
        })?;
        // Without the functions' source text: it is only needed to print a built-in function,
        // and costs about 1 MB of heap in every isolate and a slower load.
        module
            .write(WriteOptions {
                strip_source: true,
                ..WriteOptions::default()
            })
            .map_err(|e| e.to_string())
    })
}

/// Loads the chunk `name` into the isolate of `ctx` and returns its `extend(scope)` function.
pub(crate) fn load_chunk<'js>(ctx: &Ctx<'js>, name: &str) -> rquickjs::Result<Function<'js>> {
    let bytecode =
        chunk_bytecode(name).map_err(|e| rquickjs::Exception::throw_internal(ctx, &e))?;
    // SAFETY: the bytecode was written by `compile` with this same engine build, in this
    // process, from a module that compiled without error.
    let module = unsafe { Module::load(ctx.clone(), bytecode) }?;
    let (module, evaluated) = module.eval()?;
    // A chunk only declares: its evaluation settles at once.
    if let Some(Err(error)) = evaluated.result::<Value>() {
        return Err(error);
    }
    module.get("default")
}
