//! What the pool reports as it works, for metrics; implemented by the server.

use std::time::Duration;

use crate::error::TerminationReason;

/// Receives the pool's measurements. Called from the user-worker threads: must not block.
pub trait PoolObserver: Send + Sync {
    /// A worker of `function` booted (a cold start) in `boot_time`; `prepared` when it started
    /// from a prepared isolate.
    fn worker_booted(&self, function: &str, boot_time: Duration, prepared: bool);
    /// The number of prepared isolates (ready for new workers) went up or down by `change`.
    fn prepared_isolates(&self, change: i64);
    /// A worker of `function` ended for `reason`.
    fn worker_ended(&self, function: &str, reason: TerminationReason);
    /// A request of `function` used `cpu` of CPU time inside JavaScript.
    fn cpu_used(&self, function: &str, cpu: Duration);
    /// A request was handed to a worker: on the thread that serves its connection, or
    /// (`thread_hop`) on another thread.
    fn dispatched(&self, thread_hop: bool) {
        let _ = thread_hop;
    }
}

/// The workers of one function at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSnapshot {
    /// The function's name.
    pub function: String,
    /// Workers serving at least one request.
    pub active: usize,
    /// Workers serving nothing.
    pub idle: usize,
    /// Heap bytes of all its workers, as last reported.
    pub memory_bytes: usize,
}
