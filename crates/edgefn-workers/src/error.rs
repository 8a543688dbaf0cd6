//! Why a request got no response from its function, and why a worker ended.

use edgefn_isolate::{BootError, HandlerError};

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
        /// What happened, for the log and the response body.
        detail: String,
    },
}

impl From<HandlerError> for WorkerError {
    fn from(error: HandlerError) -> Self {
        match error {
            HandlerError::Uncaught { message, stack } => WorkerError::Uncaught { message, stack },
            HandlerError::InvalidResponse(message) => WorkerError::InvalidResponse(message),
            HandlerError::Panicked(detail) => WorkerError::Terminated {
                reason: TerminationReason::Panic,
                detail,
            },
            HandlerError::Dropped => WorkerError::Terminated {
                reason: TerminationReason::Shutdown,
                detail: error.to_string(),
            },
        }
    }
}

/// Every way a worker can end. The names returned by [`TerminationReason::as_str`] are stable:
/// events, metric labels, logs and response bodies all use them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TerminationReason {
    /// A Rust panic inside the worker; the worker was discarded.
    Panic,
    /// The worker's thread or the whole process is stopping.
    Shutdown,
}

impl TerminationReason {
    /// The stable name of the reason.
    pub fn as_str(self) -> &'static str {
        match self {
            TerminationReason::Panic => "panic",
            TerminationReason::Shutdown => "shutdown",
        }
    }
}

impl std::fmt::Display for TerminationReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
