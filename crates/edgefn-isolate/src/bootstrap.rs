//! The Web platform layer (`js/*.js`, and the chunks loaded on first use: `js/streams`,
//! `js/ext`, `js/clone`, `js/inspect`, `js/timing`, `js/url`, `js/services`, `js/events`,
//! `js/crypto`, `js/encoding`, `js/console`, `js/fetch`, `js/subtle`, `js/urlpattern`,
//! `js/buffers` and `js/shapes`),
//! compiled to QuickJS bytecode once per process, with its local names shortened first (see
//! [`mangle`]; about 15 ms of start-up, 8 KiB of every isolate).
//!
//! Every isolate loads the same bytecode instead of parsing the source again, which keeps the
//! parser off the cold-start path; a chunk is loaded only into the isolates that use it
//! (see `js/29_extension.js`). The bytecode is produced by a scratch runtime of this very
//! process, so it always matches the engine that reads it.

use std::sync::OnceLock;

use rquickjs::{Context, Ctx, Function, Runtime, Value};

/// The assembled core; see `build.rs`.
pub const SOURCE: &str = include_str!(concat!(env!("OUT_DIR"), "/bootstrap.js"));

// The chunks loaded on first use, assembled by `build.rs`: `CHUNKS`, their file names (as
// they appear in stack traces) and sources.
include!(concat!(env!("OUT_DIR"), "/chunks.rs"));

/// File name of the core, as it appears in stack traces of the Web platform layer.
pub const MODULE_NAME: &str = "edgefn:runtime";

static BYTECODE: OnceLock<Result<Vec<u8>, String>> = OnceLock::new();
static CHUNK_BYTECODE: [OnceLock<Result<Vec<u8>, String>>; CHUNKS.len()] =
    [const { OnceLock::new() }; CHUNKS.len()];

/// The core as bytecode, compiled on first use.
pub fn bytecode() -> Result<&'static [u8], String> {
    BYTECODE
        .get_or_init(|| compile_script(MODULE_NAME, SOURCE))
        .as_deref()
        .map_err(Clone::clone)
}

/// Compiles the whole layer, the core and every chunk, unless done already: blocks until each
/// is compiled (by this caller or by another thread). A chunk is otherwise compiled by the
/// first isolate that uses it, which then waits for (and pays the CPU time of) its
/// compilation; the worker pool calls this on a thread of its own at start-up.
pub fn compile_layer() -> Result<(), String> {
    bytecode()?;
    for index in 0..CHUNKS.len() {
        chunk_at(index)?;
    }
    Ok(())
}

/// The chunk `name` (`extension` for `edgefn:extension`) as bytecode, compiled on first use.
fn chunk_bytecode(name: &str) -> Result<&'static [u8], String> {
    let index = CHUNKS
        .iter()
        .position(|(file, _)| file.strip_prefix("edgefn:") == Some(name))
        .ok_or_else(|| format!("no chunk of the Web layer is called {name}"))?;
    chunk_at(index)
}

/// The chunk at `index` of `CHUNKS` as bytecode, compiled on first use.
fn chunk_at(index: usize) -> Result<&'static [u8], String> {
    let (file, source) = CHUNKS[index];
    CHUNK_BYTECODE[index]
        .get_or_init(|| compile_script(file, source))
        .as_deref()
        .map_err(Clone::clone)
}

/// Compiles a script whose value is a function (the layer's `init`, a chunk's `extend`), without
/// the functions' source text: it is only needed to print a built-in function, and costs about
/// 1 MB of heap in every isolate and a slower load. Once called and dropped, the function's
/// own bytecode is freed, where a module's would live as long as the isolate.
fn compile_script(name: &str, source: &str) -> Result<Vec<u8>, String> {
    use rquickjs::qjs;
    let source = mangle(name, source)?;
    let script = std::ffi::CString::new(source).map_err(|e| e.to_string())?;
    let file = std::ffi::CString::new(name).map_err(|e| e.to_string())?;
    let runtime = Runtime::new().map_err(|e| e.to_string())?;
    let context = Context::full(&runtime).map_err(|e| e.to_string())?;
    context.with(|ctx| {
        let raw = ctx.as_raw().as_ptr();
        // SAFETY: `raw` is this context's, alive for the closure; the strings are
        // NUL-terminated; the compiled value is freed by the `Value` that owns it, and the
        // written buffer by `js_free` after it was copied.
        unsafe {
            let compiled = qjs::JS_Eval(
                raw,
                script.as_ptr(),
                script.as_bytes().len() as _,
                file.as_ptr(),
                (qjs::JS_EVAL_TYPE_GLOBAL
                    | qjs::JS_EVAL_FLAG_STRICT
                    | qjs::JS_EVAL_FLAG_COMPILE_ONLY) as i32,
            );
            if qjs::JS_IsException(compiled) {
                let thrown = ctx.catch();
                return Err(format!(
                    "the built-in script {name} does not compile: {thrown:?}"
                ));
            }
            let compiled = Value::from_raw(ctx.clone(), compiled);
            let mut len: qjs::size_t = 0;
            let buffer = qjs::JS_WriteObject(
                raw,
                &mut len,
                compiled.as_raw(),
                (qjs::JS_WRITE_OBJ_BYTECODE | qjs::JS_WRITE_OBJ_STRIP_SOURCE) as i32,
            );
            if buffer.is_null() {
                let thrown = ctx.catch();
                return Err(format!(
                    "the built-in script {name} cannot be written: {thrown:?}"
                ));
            }
            let bytes = std::slice::from_raw_parts(buffer, len as usize).to_vec();
            qjs::js_free(raw, buffer.cast());
            Ok(bytes)
        }
    })
}

/// The script with its local names shortened (oxc's mangler; a function's or class's `name`
/// is kept, and so are property names and private names, which the engine's errors show):
/// every name a function keeps is an atom of the engine, about 60 bytes of every isolate, and
/// the layer's closures keep hundreds of long ones.
fn mangle(name: &str, source: &str) -> Result<String, String> {
    use oxc::allocator::Allocator;
    use oxc::codegen::{Codegen, CodegenOptions};
    use oxc::mangler::{MangleOptions, MangleOptionsKeepNames, Mangler};
    use oxc::parser::Parser;
    use oxc::span::SourceType;

    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, source, SourceType::script()).parse();
    if let Some(error) = parsed.diagnostics.into_iter().next() {
        return Err(format!(
            "the built-in script {name} does not parse: {error}"
        ));
    }
    let mangled = Mangler::new()
        .with_options(MangleOptions {
            top_level: Some(false),
            keep_names: MangleOptionsKeepNames::all_true(),
            ..MangleOptions::default()
        })
        .build(&parsed.program);
    Ok(Codegen::new()
        .with_options(CodegenOptions {
            comments: oxc::codegen::CommentOptions::disabled(),
            ..CodegenOptions::default()
        })
        .with_scoping(Some(mangled.scoping))
        .build(&parsed.program)
        .code)
}

/// Runs a script written by [`compile_script`] and returns its function. On failure the
/// exception is left pending in `ctx`.
///
/// # Safety
///
/// `bytecode` must have been written by [`compile_script`] in this process: QuickJS does not
/// validate bytecode it reads.
pub(crate) unsafe fn load_script<'js>(
    ctx: &Ctx<'js>,
    bytecode: &[u8],
) -> rquickjs::Result<Function<'js>> {
    use rquickjs::qjs;
    let raw = ctx.as_raw().as_ptr();
    // SAFETY: the caller vouches for the bytecode; `JS_ReadObject` copies what it needs, and
    // `JS_EvalFunction` takes the function it is given, also when it throws.
    unsafe {
        let function = qjs::JS_ReadObject(
            raw,
            bytecode.as_ptr(),
            bytecode.len() as _,
            qjs::JS_READ_OBJ_BYTECODE as i32,
        );
        if qjs::JS_IsException(function) {
            return Err(rquickjs::Error::Exception);
        }
        let value = qjs::JS_EvalFunction(raw, function);
        if qjs::JS_IsException(value) {
            return Err(rquickjs::Error::Exception);
        }
        Value::from_raw(ctx.clone(), value).get()
    }
}

/// Loads the chunk `name` into the isolate of `ctx` and returns its
/// `extend(coreBindings, dependencyExports)` function.
pub(crate) fn load_chunk<'js>(ctx: &Ctx<'js>, name: &str) -> rquickjs::Result<Function<'js>> {
    let bytecode =
        chunk_bytecode(name).map_err(|e| rquickjs::Exception::throw_internal(ctx, &e))?;
    // SAFETY: `chunk_bytecode` returns what `compile_script` wrote in this process.
    unsafe { load_script(ctx, bytecode) }
}
