//! Every response the server makes up itself, in one place: each failure cause maps to one
//! status code and a JSON body `{"error": <stable name>, ...}`.
//!
//! | cause                                   | status | `error`               |
//! |-----------------------------------------|--------|-----------------------|
//! | no function folder with that name       | 404    | `FunctionNotFound`    |
//! | function name with path syntax          | 400    | `InvalidFunctionName` |
//! | unusable request (e.g. bad `Host`)      | 400    | `BadRequest`          |
//! | function failed to load                 | 500    | `BootError`           |
//! | handler threw or rejected               | 500    | `UncaughtException`   |
//! | handler returned something else         | 502    | `InvalidResponse`     |
//! | worker crashed (Rust panic)             | 500    | `WorkerCrashed`       |
//! | worker hit its CPU or memory limit      | 546    | `WorkerLimit` (with `reason`: `cpu`, `memory`) |
//! | request ran past the wall-clock limit   | 504    | `WorkerTimeout`       |
//! | a process function reported an error    | 502    | `FunctionError` (+ `errorType`, `errorMessage`) |
//! | a process worker exited mid-request     | 502    | `ProcessExited`       |
//! | request over a process's 6 MB payload   | 413    | `PayloadTooLarge`     |
//! | no worker free within the wait timeout  | 503    | `WorkerUnavailable` (+ `Retry-After`) |
//! | worker or process shutting down         | 503    | `ShuttingDown`        |
//! | unknown `/_edgefn/` path                | 404    | `NotFound`            |
//!
//! Malformed HTTP never reaches this module: hyper answers it with 400 (or 414 / 431) and closes
//! only that connection.

use edgefn_workers::{TerminationReason, WorkerError};
use http::{HeaderValue, Response, StatusCode, header};
use serde_json::json;

use crate::body::ResponseBody;

/// Why the server answers instead of a function.
#[derive(Debug)]
pub(crate) enum Failure<'a> {
    FunctionNotFound(&'a str),
    InvalidFunctionName(&'a str),
    BadRequest(&'a str),
    AdminNotFound(&'a str),
    Worker {
        function: &'a str,
        error: &'a WorkerError,
    },
}

/// The response for a failure.
pub(crate) fn failure(failure: Failure<'_>) -> Response<ResponseBody> {
    let (status, body) = match failure {
        Failure::FunctionNotFound(function) => (
            StatusCode::NOT_FOUND,
            json!({"error": "FunctionNotFound", "function": function}),
        ),
        Failure::InvalidFunctionName(function) => (
            StatusCode::BAD_REQUEST,
            json!({"error": "InvalidFunctionName", "function": function}),
        ),
        Failure::BadRequest(message) => (
            StatusCode::BAD_REQUEST,
            json!({"error": "BadRequest", "message": message}),
        ),
        Failure::AdminNotFound(path) => (
            StatusCode::NOT_FOUND,
            json!({"error": "NotFound", "path": path}),
        ),
        Failure::Worker { function, error } => worker_failure(function, error),
    };
    let mut response = json_response(status, &body);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from_static(RETRY_AFTER_SECONDS),
        );
    }
    response
}

fn worker_failure(function: &str, error: &WorkerError) -> (StatusCode, serde_json::Value) {
    match error {
        WorkerError::Boot(boot) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": "BootError", "function": function, "message": boot.to_string()}),
        ),
        WorkerError::Uncaught { message, .. } => (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": "UncaughtException", "function": function, "message": message}),
        ),
        WorkerError::InvalidResponse(message) => (
            StatusCode::BAD_GATEWAY,
            json!({"error": "InvalidResponse", "function": function, "message": message}),
        ),
        WorkerError::Terminated { reason, .. } => match reason {
            TerminationReason::CpuTime | TerminationReason::Memory => (
                WORKER_LIMIT,
                json!({"error": "WorkerLimit", "function": function, "reason": reason.as_str()}),
            ),
            TerminationReason::WallClock => (
                StatusCode::GATEWAY_TIMEOUT,
                json!({"error": "WorkerTimeout", "function": function}),
            ),
            TerminationReason::Panic => (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "WorkerCrashed", "function": function, "reason": "panic"}),
            ),
            TerminationReason::ProcessExited => (
                StatusCode::BAD_GATEWAY,
                json!({"error": "ProcessExited", "function": function, "reason": reason.as_str()}),
            ),
            // Planned endings never cut a request short; only a stopping process does.
            TerminationReason::BootFailure
            | TerminationReason::Retired
            | TerminationReason::Idle
            | TerminationReason::Evicted
            | TerminationReason::Oneshot
            | TerminationReason::Shutdown => (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": "ShuttingDown", "function": function}),
            ),
        },
        WorkerError::FunctionError {
            error_type,
            error_message,
        } => (
            StatusCode::BAD_GATEWAY,
            json!({"error": "FunctionError", "function": function, "errorType": error_type, "errorMessage": error_message}),
        ),
        WorkerError::PayloadTooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"error": "PayloadTooLarge", "function": function, "limit_bytes": edgefn_process::MAX_PAYLOAD_BYTES}),
        ),
        WorkerError::NoWorkerAvailable { waited_ms } => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"error": "WorkerUnavailable", "function": function, "waited_ms": waited_ms}),
        ),
    }
}

/// Status of a request whose worker hit its CPU or memory limit, as Supabase's edge-runtime
/// answers it.
const WORKER_LIMIT: StatusCode = match StatusCode::from_u16(546) {
    Ok(status) => status,
    Err(_) => panic!("546 is a valid status code"),
};

/// Seconds a client refused with `WorkerUnavailable` should wait before retrying.
const RETRY_AFTER_SECONDS: &str = "1";

/// A JSON response with the given status.
pub(crate) fn json_response(
    status: StatusCode,
    body: &serde_json::Value,
) -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::full(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
