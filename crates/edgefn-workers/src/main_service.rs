//! The main service's `EdgeRuntime.userWorkers`: user workers created from JavaScript, served by
//! the same pool, with the same policies, limits and events as the functions of the folder.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use edgefn_isolate::{
    IncomingRequest, OutgoingResponse, ResponseBody, UserWorkerError, UserWorkerOptions,
    UserWorkers,
};
use futures_util::future::LocalBoxFuture;

use crate::error::WorkerError;
use crate::functions::Function;
use crate::pool::{Served, dispatch};
use crate::scheduler::Scheduler;
use crate::settings::FunctionSettings;

/// The user workers created by the main service, shared by all its isolates.
pub(crate) struct UserWorkerHub {
    defaults: FunctionSettings,
    workers: Mutex<HashMap<String, Arc<Function>>>,
}

impl UserWorkerHub {
    pub(crate) fn new(defaults: FunctionSettings) -> Arc<UserWorkerHub> {
        Arc::new(UserWorkerHub {
            defaults,
            workers: Mutex::new(HashMap::new()),
        })
    }
}

/// `EdgeRuntime.userWorkers` for one main-service isolate.
pub(crate) struct Bridge {
    pub(crate) scheduler: Arc<Scheduler>,
    pub(crate) hub: Arc<UserWorkerHub>,
}

fn invalid(message: String) -> UserWorkerError {
    UserWorkerError {
        name: "InvalidWorkerCreation",
        message,
        reason: None,
    }
}

impl UserWorkers for Bridge {
    fn create(&self, options: UserWorkerOptions) -> Result<String, UserWorkerError> {
        let root = PathBuf::from(&options.service_path);
        let root = std::fs::canonicalize(&root)
            .map_err(|e| invalid(format!("servicePath {}: {e}", options.service_path)))?;
        if !root.is_dir() {
            return Err(invalid(format!(
                "servicePath {} is not a folder",
                options.service_path
            )));
        }
        let mut settings = self.hub.defaults.clone();
        let limits = &mut settings.limits;
        if let Some(mb) = options.memory_limit_mb {
            limits.memory_bytes =
                usize::try_from(mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX);
        }
        if let Some(ms) = options.worker_timeout_ms {
            limits.wall_clock = Duration::from_millis(ms);
        }
        if let Some(ms) = options.cpu_time_hard_limit_ms {
            limits.cpu_hard = Duration::from_millis(ms);
            limits.cpu_soft = limits.cpu_soft.min(limits.cpu_hard);
        }
        if let Some(ms) = options.cpu_time_soft_limit_ms {
            limits.cpu_soft = Duration::from_millis(ms);
        }
        if limits.cpu_soft > limits.cpu_hard {
            return Err(invalid(
                "cpuTimeSoftLimitMs must not be greater than cpuTimeHardLimitMs".into(),
            ));
        }
        settings.env = options.env_vars.into_iter().collect();
        let base = root
            .file_name()
            .map_or_else(|| "worker".to_owned(), |n| n.to_string_lossy().into_owned());
        let mut workers = self.hub.workers.lock().unwrap_or_else(|p| p.into_inner());
        if !options.force_create
            && let Some(existing) = workers
                .values()
                .find(|f| f.root == root && f.settings == settings)
        {
            return Ok(existing.name.clone());
        }
        // A new key: the folder's name, made unique among the user workers.
        let key = (0..)
            .map(|n| {
                if n == 0 {
                    base.clone()
                } else {
                    format!("{base}#{n}")
                }
            })
            .find(|key| !workers.contains_key(key))
            .expect("an unused key exists");
        workers.insert(
            key.clone(),
            Arc::new(Function {
                name: key.clone(),
                root,
                settings,
            }),
        );
        Ok(key)
    }

    fn fetch(
        &self,
        key: &str,
        request: IncomingRequest,
    ) -> LocalBoxFuture<'static, Result<OutgoingResponse, UserWorkerError>> {
        let function = self
            .hub
            .workers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned();
        let scheduler = self.scheduler.clone();
        Box::pin(async move {
            let function =
                function.ok_or_else(|| invalid("no user worker with that key".into()))?;
            match dispatch(&scheduler, &function, request, false).await {
                Ok(served) => Ok(keep_lease_with_body(served)),
                Err(error) => answer_or_raise(&function.name, error),
            }
        })
    }
}

/// The user worker's response; a streamed body keeps the worker's lease until it ends.
fn keep_lease_with_body(served: Served) -> OutgoingResponse {
    let Served {
        mut response,
        lease,
    } = served;
    if let ResponseBody::Stream(mut source) = response.body {
        let (sender, receiver) = tokio::sync::mpsc::channel(16);
        tokio::task::spawn_local(async move {
            let _lease = lease;
            while let Some(chunk) = source.recv().await {
                if sender.send(chunk).await.is_err() {
                    break;
                }
            }
        });
        response.body = ResponseBody::Stream(receiver);
    }
    response
}

/// Handler failures become the same JSON responses the router answers with; failures of the
/// worker itself become exceptions for the main service.
fn answer_or_raise(
    function: &str,
    error: WorkerError,
) -> Result<OutgoingResponse, UserWorkerError> {
    let json = |status: u16, body: serde_json::Value| {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        Ok(OutgoingResponse {
            status: http::StatusCode::from_u16(status).expect("valid status"),
            status_text: None,
            headers,
            body: ResponseBody::Full(body.to_string().into()),
        })
    };
    match error {
        WorkerError::Uncaught { message, .. } => json(
            500,
            serde_json::json!({"error": "UncaughtException", "function": function, "message": message}),
        ),
        WorkerError::InvalidResponse(message) => json(
            502,
            serde_json::json!({"error": "InvalidResponse", "function": function, "message": message}),
        ),
        WorkerError::FunctionError {
            error_type,
            error_message,
        } => json(
            502,
            serde_json::json!({"error": "FunctionError", "function": function, "errorType": error_type, "errorMessage": error_message}),
        ),
        WorkerError::PayloadTooLarge => json(
            413,
            serde_json::json!({"error": "PayloadTooLarge", "function": function}),
        ),
        WorkerError::Boot(error) => Err(invalid(error.to_string())),
        WorkerError::Terminated { reason, detail } => Err(UserWorkerError {
            name: "WorkerRequestCancelled",
            message: format!("the request was cancelled: {detail}"),
            reason: Some(reason.as_str()),
        }),
        WorkerError::NoWorkerAvailable { waited_ms } => Err(UserWorkerError {
            name: "WorkerUnavailable",
            message: format!("no worker became free within {waited_ms} ms"),
            reason: None,
        }),
    }
}
