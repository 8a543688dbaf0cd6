//! Running function instances: which isolate serves which request, on which thread.
//!
//! The user-worker pool is N pinned OS threads, each with a single-threaded tokio runtime and a
//! `LocalSet` hosting many isolates; an isolate lives on exactly one thread for its whole life.
//! A function is placed on a thread when it is first seen, and each of its requests hops once,
//! over a channel, from the server to that thread.
//!
//! Architecture invariant: this crate knows functions and isolates but not HTTP connections or
//! routing; it never touches rquickjs types (the isolate crate's API is its boundary).

mod error;
mod functions;
mod pool;
mod thread;

pub use error::{TerminationReason, WorkerError};
pub use functions::{Function, FunctionSettings, Functions, InvalidFunctionName, validate_name};
pub use pool::{PoolConfig, WorkerPool};
