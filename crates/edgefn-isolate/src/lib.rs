//! One JavaScript isolate: the QuickJS-NG engine (through `rquickjs`), the Web platform inside
//! it, the module loader and TypeScript.
//!
//! Architecture invariant: this crate knows nothing about HTTP servers, connections, pools,
//! tenants or clusters. It takes an [`IncomingRequest`] and produces an [`OutgoingResponse`];
//! the worker layer decides which isolate serves which request and on which thread. All
//! `unsafe` code of the project lives here, next to the engine.

mod bootstrap;
// The scan of the Web layer's files that `build.rs` makes, compiled here for its tests.
#[cfg(test)]
#[allow(dead_code)]
#[path = "../build/layer_names.rs"]
mod build_layer_names;
mod host;
mod host_compression;
mod host_crypto;
mod host_encoding;
mod host_fetch;
mod host_urlpattern;
mod host_user_workers;
mod isolate;
mod meter;
mod module_cache;
pub mod modules;
mod panic_guard;
mod types;
pub mod typescript;
mod user_workers;

pub use bootstrap::compile_layer;
pub use host_fetch::FetchClient;
pub use isolate::{
    Isolate, IsolateOptions, LogLevel, LogSink, ResponseReceiver, STACK_LIMIT_BYTES, TenantOptions,
};
pub use meter::Stop;
pub use module_cache::{ModuleCache, ModuleCacheOptions, ModuleCacheStats};
pub use types::{
    BodyError, BodyStream, BootError, ClientGone, ClientGuard, HandlerError, IncomingRequest,
    OutgoingResponse, ResponseBody, client_watch,
};
pub use user_workers::{UserWorkerError, UserWorkerOptions, UserWorkers};

/// Sets the options of mimalloc, the heap the engine's blocks come from. Creating an isolate
/// does it too, but the options apply only to the memory mimalloc reserves after, so a program
/// whose global allocator is mimalloc calls it before its first allocation: the `edgefn` binary
/// does from `.init_array` (`crates/edgefn/src/main.rs`), as `main` comes after the standard
/// library's first allocation. The options override mimalloc's `MIMALLOC_*` variables.
pub fn configure_heap() {
    meter::c_heap::configure();
}
