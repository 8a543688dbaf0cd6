//! Running function instances: how many isolates each function gets, on which thread, and how
//! they are stopped when they misbehave.
//!
//! - `scheduler.rs` decides, for each request, which worker serves it: an existing one, a new
//!   one, or none yet (the request waits, bounded). It applies the pool policy and
//!   `max_parallelism` of the function, the process-wide cap on isolates, idle eviction and the
//!   bound on warm memory.
//! - `pool.rs` owns the user-worker threads: N OS threads, each with a single-threaded tokio
//!   runtime and a `LocalSet` hosting many isolates; an isolate lives on one thread for its
//!   whole life.
//! - `thread.rs` boots and serves isolates on one thread and supervises them: CPU time (soft
//!   limit retires, hard limit stops at once), memory, and the wall clock of each request.
//!
//! Architecture invariant: this crate knows functions and isolates but not HTTP connections or
//! routing; it never touches rquickjs types (the isolate crate's API is its boundary).

mod error;
mod events;
mod functions;
mod instance;
mod main_service;
mod observer;
mod pool;
mod scheduler;
mod settings;
mod thread;
mod warm_up;

pub use error::{TerminationReason, WorkerError};
pub use events::{ChannelSink, EventKind, EventSink, Events, StdoutSink, WorkerEvent};
pub use functions::{Function, Functions, InvalidFunctionName, validate_name};
pub use observer::{FunctionSnapshot, PoolObserver};
pub use pool::{PoolConfig, Served, WorkerPool};
pub use scheduler::Lease;
pub use settings::{FunctionSettings, Limits, Policy, Runtime};
pub use thread::LocalTask;
