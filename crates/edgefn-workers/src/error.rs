//! Why a request got no response from its function, and why a worker ended.

use edgefn_isolate::{BootError, HandlerError, Stop};

/// Why a dispatched request has no response from the function. The server maps each variant to
/// one status code and JSON body.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WorkerError {
    /// The function's code could not be loaded (syntax error, missing entry file, failed import,
    /// top-level throw, no handler).
    #[error("boot failed: {0}")]
    Boot(#[from] BootError),
    /// The handler threw or its promise rejected.
    #[error("uncaught exception: {message}")]
    Uncaught {
        /// `Name: message` of the thrown value.
        message: String,
        /// The JavaScript stack, when there is one.
        stack: Option<String>,
    },
    /// The handler's result was not a `Response`.
    #[error("invalid response: {0}")]
    InvalidResponse(String),
    /// The worker ended before answering; the reason says how.
    #[error("worker terminated ({reason}): {detail}")]
    Terminated {
        /// How the worker ended.
        reason: TerminationReason,
        /// What happened, for the log.
        detail: String,
    },
    /// A process function reported an error for the invocation.
    #[error("function error {error_type}: {error_message}")]
    FunctionError {
        /// Its `errorType`.
        error_type: String,
        /// Its `errorMessage`.
        error_message: String,
    },
    /// The request body is over the 6 MB invocation payload limit of process functions.
    #[error("the request is over the 6 MB payload limit")]
    PayloadTooLarge,
    /// No worker became free within the request wait timeout.
    #[error("no worker of the function became free within {waited_ms} ms")]
    NoWorkerAvailable {
        /// How long the request waited.
        waited_ms: u64,
    },
}

impl From<HandlerError> for WorkerError {
    fn from(error: HandlerError) -> Self {
        match error {
            HandlerError::Uncaught { message, stack } => WorkerError::Uncaught { message, stack },
            HandlerError::InvalidResponse(message) => WorkerError::InvalidResponse(message),
            HandlerError::Terminated { stop, detail } => WorkerError::Terminated {
                reason: TerminationReason::from_stop(stop),
                detail,
            },
            HandlerError::Dropped => WorkerError::Terminated {
                reason: TerminationReason::Shutdown,
                detail: error.to_string(),
            },
        }
    }
}

/// Every way a worker can end: one closed set. The names returned by
/// [`TerminationReason::as_str`] are stable; events, logs and response bodies all use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TerminationReason {
    /// The worker used more CPU time than its hard limit and was stopped at once.
    CpuTime,
    /// The worker's heap reached its limit.
    Memory,
    /// A request ran longer than the wall-clock limit; the worker was stopped.
    WallClock,
    /// A Rust panic inside the worker; the worker was discarded.
    Panic,
    /// The worker's code failed to load.
    BootFailure,
    /// The worker reached its soft CPU limit and was retired once its requests finished.
    Retired,
    /// The worker was idle longer than the idle timeout (scale to zero).
    Idle,
    /// The worker was evicted, least recently used first, to respect the process's cap on
    /// isolates or on warm memory.
    Evicted,
    /// The `oneshot` policy: the worker served its one request.
    Oneshot,
    /// A process worker exited or crashed on its own; it is replaced.
    ProcessExited,
    /// The worker's thread or the whole process is stopping.
    Shutdown,
}

impl TerminationReason {
    /// The stable name of the reason.
    pub fn as_str(self) -> &'static str {
        match self {
            TerminationReason::CpuTime => "cpu",
            TerminationReason::Memory => "memory",
            TerminationReason::WallClock => "wall_clock",
            TerminationReason::Panic => "panic",
            TerminationReason::BootFailure => "boot_failure",
            TerminationReason::Retired => "retired",
            TerminationReason::Idle => "idle",
            TerminationReason::Evicted => "evicted",
            TerminationReason::Oneshot => "oneshot",
            TerminationReason::ProcessExited => "process_exited",
            TerminationReason::Shutdown => "shutdown",
        }
    }

    pub(crate) fn from_stop(stop: Stop) -> TerminationReason {
        match stop {
            Stop::CpuTime => TerminationReason::CpuTime,
            Stop::Memory => TerminationReason::Memory,
            Stop::WallClock => TerminationReason::WallClock,
            Stop::Panic => TerminationReason::Panic,
            Stop::Owner => TerminationReason::Shutdown,
        }
    }
}

impl std::fmt::Display for TerminationReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
