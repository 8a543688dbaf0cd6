//! The Web platform layer (`js/*.js`), compiled to QuickJS bytecode once per process.
//!
//! Every isolate loads the same bytecode instead of parsing the source again, which keeps the
//! parser off the cold-start path. The bytecode is produced by a scratch runtime of this very
//! process, so it always matches the engine that reads it.

use std::sync::OnceLock;

use rquickjs::{Context, Module, Runtime, WriteOptions};

/// The assembled source; see `build.rs`.
pub const SOURCE: &str = include_str!(concat!(env!("OUT_DIR"), "/bootstrap.js"));

/// Module name of the bootstrap, as it appears in stack traces of the Web platform layer.
pub const MODULE_NAME: &str = "edgefn:runtime";

static BYTECODE: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();

/// The bootstrap module as bytecode, compiled on first use.
pub fn bytecode() -> Result<&'static [u8], String> {
    BYTECODE
        .get_or_init(compile)
        .as_deref()
        .map_err(Clone::clone)
}

fn compile() -> Result<Vec<u8>, String> {
    let runtime = Runtime::new().map_err(|e| e.to_string())?;
    let context = Context::full(&runtime).map_err(|e| e.to_string())?;
    context.with(|ctx| {
        let module = Module::declare(ctx.clone(), MODULE_NAME, SOURCE).map_err(|error| {
            let thrown = ctx.catch();
            format!("the built-in runtime module does not compile: {error}: {thrown:?}")
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
