//! The capability behind `EdgeRuntime.userWorkers` in a main service: creating user workers and
//! sending them requests. The isolate only defines the interface; the worker layer implements
//! it, so this crate still knows nothing about pools or threads.

use futures_util::future::LocalBoxFuture;
use serde::Deserialize;

use crate::types::{IncomingRequest, OutgoingResponse};

/// `EdgeRuntime.userWorkers.create(options)`, as Supabase's edge-runtime takes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserWorkerOptions {
    /// The function's folder; relative paths are taken from the process's working directory.
    pub service_path: String,
    /// Heap limit in MiB.
    pub memory_limit_mb: Option<u64>,
    /// Wall-clock limit of each request, in ms.
    pub worker_timeout_ms: Option<u64>,
    /// Soft CPU limit in ms (retirement).
    pub cpu_time_soft_limit_ms: Option<u64>,
    /// Hard CPU limit in ms (stop).
    pub cpu_time_hard_limit_ms: Option<u64>,
    /// Environment variables as `[name, value]` pairs.
    #[serde(default)]
    pub env_vars: Vec<(String, String)>,
    /// Create a new worker even if one with the same options exists.
    #[serde(default)]
    pub force_create: bool,
}

/// Why a user worker could not be created or did not answer, surfaced in JavaScript as an
/// exception whose `name` is [`UserWorkerError::name`] (Supabase's names).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {message}")]
pub struct UserWorkerError {
    /// `InvalidWorkerCreation`, `WorkerRequestCancelled` or `WorkerUnavailable`.
    pub name: &'static str,
    /// What happened.
    pub message: String,
    /// For a cancelled request, the termination reason (`cpu`, `memory`, `wall_clock`, ...).
    pub reason: Option<&'static str>,
}

/// Creates user workers and serves requests with them.
pub trait UserWorkers {
    /// Validates `options` and returns the key of a worker with them.
    fn create(&self, options: UserWorkerOptions) -> Result<String, UserWorkerError>;

    /// Serves `request` with the worker `key`.
    fn fetch(
        &self,
        key: &str,
        request: IncomingRequest,
    ) -> LocalBoxFuture<'static, Result<OutgoingResponse, UserWorkerError>>;
}
