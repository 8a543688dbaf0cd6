//! The Web platform layer (`js/*.js`, and the extension `js/ext/*.js`), compiled to QuickJS
//! bytecode once per process.
//!
//! Every isolate loads the same bytecode instead of parsing the source again, which keeps the
//! parser off the cold-start path; the extension is loaded only into the isolates that use it
//! (see `js/29_extension.js`). The bytecode is produced by a scratch runtime of this very
//! process, so it always matches the engine that reads it.

use std::sync::OnceLock;

use rquickjs::{Context, Ctx, Function, Module, Runtime, Value, WriteOptions};

/// The assembled core; see `build.rs`.
pub const SOURCE: &str = include_str!(concat!(env!("OUT_DIR"), "/bootstrap.js"));

/// The assembled extension; see `build.rs`.
pub const EXTENSION_SOURCE: &str = include_str!(concat!(env!("OUT_DIR"), "/extension.js"));

/// Module name of the core, as it appears in stack traces of the Web platform layer.
pub const MODULE_NAME: &str = "edgefn:runtime";

/// Module name of the extension.
pub const EXTENSION_MODULE_NAME: &str = "edgefn:extension";

static BYTECODE: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();
static EXTENSION_BYTECODE: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();

/// The core module as bytecode, compiled on first use.
pub fn bytecode() -> Result<&'static [u8], String> {
    BYTECODE
        .get_or_init(|| compile(MODULE_NAME, SOURCE))
        .as_deref()
        .map_err(Clone::clone)
}

/// The extension module as bytecode, compiled on first use.
fn extension_bytecode() -> Result<&'static [u8], String> {
    EXTENSION_BYTECODE
        .get_or_init(|| compile(EXTENSION_MODULE_NAME, EXTENSION_SOURCE))
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

/// Loads the extension into the isolate of `ctx` and returns its `extend(scope)` function.
pub(crate) fn load_extension<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Function<'js>> {
    let bytecode =
        extension_bytecode().map_err(|e| rquickjs::Exception::throw_internal(ctx, &e))?;
    // SAFETY: the bytecode was written by `compile` with this same engine build, in this
    // process, from a module that compiled without error.
    let module = unsafe { Module::load(ctx.clone(), bytecode) }?;
    let (module, evaluated) = module.eval()?;
    // The extension only declares: its evaluation settles at once.
    if let Some(Err(error)) = evaluated.result::<Value>() {
        return Err(error);
    }
    module.get("default")
}
