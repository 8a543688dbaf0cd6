//! The Lambda Runtime API (2018-06-01) one process pulls its invocations from.
//!
//! Each process gets its own loopback listener, since `AWS_LAMBDA_RUNTIME_API` can only be a
//! `host:port`. Endpoints and answers, as AWS documents them:
//!
//! | request | answer |
//! |---|---|
//! | `GET /2018-06-01/runtime/invocation/next` | 200 + event (long poll) |
//! | `POST /2018-06-01/runtime/invocation/{id}/response` | 202; 400 unknown id; 403 not the current invocation; 413 over 6 MB |
//! | `POST /2018-06-01/runtime/invocation/{id}/error` | 202; 400; 403 |
//! | `POST /2018-06-01/runtime/init/error` | 202; 403 after init |

use std::cell::RefCell;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::rc::Rc;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

/// Largest response payload a function may post (Lambda's synchronous invocation limit).
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// Content type of a streamed response whose body starts with the HTTP prelude.
const HTTP_INTEGRATION: &str = "application/vnd.awslambda.http-integration-response";

/// One invocation waiting for, or handed to, the process.
pub(crate) struct Invocation {
    pub(crate) id: String,
    pub(crate) deadline_ms: u64,
    pub(crate) event: Bytes,
    pub(crate) reply: oneshot::Sender<Outcome>,
}

/// What the process answered.
pub(crate) enum Outcome {
    /// A buffered result payload.
    Payload(Bytes),
    /// A streamed result: its content type and chunks as they arrive.
    Stream {
        content_type: Option<String>,
        chunks: mpsc::Receiver<Result<Bytes, String>>,
    },
    /// The function reported an error.
    FunctionError {
        error_type: String,
        error_message: String,
    },
    /// The payload was over the limit.
    TooLarge,
}

enum Phase {
    /// Started, not yet asked for its first invocation.
    Init,
    /// Waiting for (or in) `/next`.
    Idle,
    /// Handling invocation `id`.
    Busy {
        id: String,
        reply: oneshot::Sender<Outcome>,
    },
}

/// State shared by the process worker and its Runtime API.
pub(crate) struct Shared {
    phase: RefCell<Phase>,
    queued: RefCell<VecDeque<Invocation>>,
    waiting: RefCell<Option<oneshot::Sender<Invocation>>>,
    /// Resolved at the first `/next` (ready) or `/init/error` (its message).
    ready: RefCell<Option<oneshot::Sender<Result<(), String>>>>,
    /// Ids of finished invocations, to tell "wrong state" (403) from "unknown" (400).
    finished: RefCell<VecDeque<String>>,
    function_arn: String,
}

impl Shared {
    pub(crate) fn new(function: &str, ready: oneshot::Sender<Result<(), String>>) -> Rc<Shared> {
        Rc::new(Shared {
            phase: RefCell::new(Phase::Init),
            queued: RefCell::new(VecDeque::new()),
            waiting: RefCell::new(None),
            ready: RefCell::new(Some(ready)),
            finished: RefCell::new(VecDeque::new()),
            function_arn: format!("arn:aws:lambda:local:000000000000:function:{function}"),
        })
    }

    /// Hands an invocation to the process (now, or at its next `/next`).
    pub(crate) fn submit(&self, invocation: Invocation) {
        match self.waiting.borrow_mut().take() {
            Some(waiter) => {
                if let Err(invocation) = waiter.send(invocation) {
                    self.queued.borrow_mut().push_back(invocation);
                }
            }
            None => self.queued.borrow_mut().push_back(invocation),
        }
    }

    /// The process is gone: drops every reply and waiter, so whoever waits sees it.
    pub(crate) fn abandon(&self) {
        *self.phase.borrow_mut() = Phase::Idle;
        self.queued.borrow_mut().clear();
        self.waiting.borrow_mut().take();
        self.ready.borrow_mut().take();
    }

    fn finish(&self, id: &str) {
        let mut finished = self.finished.borrow_mut();
        finished.push_back(id.to_owned());
        if finished.len() > 64 {
            finished.pop_front();
        }
    }

    /// Takes the reply of invocation `id` if it is the current one; otherwise the status to
    /// answer with (400 unknown, 403 wrong state).
    fn take_current(&self, id: &str) -> Result<oneshot::Sender<Outcome>, StatusCode> {
        let mut phase = self.phase.borrow_mut();
        match &*phase {
            Phase::Busy { id: current, .. } if current == id => {
                let Phase::Busy { reply, .. } = std::mem::replace(&mut *phase, Phase::Idle) else {
                    unreachable!("matched Busy above");
                };
                drop(phase);
                self.finish(id);
                Ok(reply)
            }
            _ if self.finished.borrow().iter().any(|done| done == id) => Err(StatusCode::FORBIDDEN),
            _ => Err(StatusCode::BAD_REQUEST),
        }
    }
}

/// Serves one Runtime API request.
pub(crate) async fn handle(
    shared: Rc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let response = match (request.method().as_str(), parts.as_slice()) {
        ("GET", ["2018-06-01", "runtime", "invocation", "next"]) => next(&shared).await,
        ("POST", ["2018-06-01", "runtime", "invocation", id, "response"]) => {
            let id = (*id).to_owned();
            respond(&shared, &id, request).await
        }
        ("POST", ["2018-06-01", "runtime", "invocation", id, "error"]) => {
            let id = (*id).to_owned();
            match shared.take_current(&id) {
                Ok(reply) => {
                    let (error_type, error_message) = function_error(request).await;
                    let _ = reply.send(Outcome::FunctionError {
                        error_type,
                        error_message,
                    });
                    accepted()
                }
                Err(status) => error(status, &id),
            }
        }
        ("POST", ["2018-06-01", "runtime", "init", "error"]) => {
            let init = matches!(*shared.phase.borrow(), Phase::Init);
            if init {
                let (error_type, error_message) = function_error(request).await;
                if let Some(ready) = shared.ready.borrow_mut().take() {
                    let _ = ready.send(Err(format!("{error_type}: {error_message}")));
                }
                accepted()
            } else {
                error(StatusCode::FORBIDDEN, "init")
            }
        }
        _ => json_response(
            StatusCode::NOT_FOUND,
            &json!({"errorMessage": "not found", "errorType": "NotFound"}),
        ),
    };
    Ok(response)
}

async fn next(shared: &Rc<Shared>) -> Response<Full<Bytes>> {
    if matches!(*shared.phase.borrow(), Phase::Init) {
        *shared.phase.borrow_mut() = Phase::Idle;
        if let Some(ready) = shared.ready.borrow_mut().take() {
            let _ = ready.send(Ok(()));
        }
    }
    let queued = shared.queued.borrow_mut().pop_front();
    let invocation = match queued {
        Some(invocation) => invocation,
        None => {
            let (waiter, arrival) = oneshot::channel();
            *shared.waiting.borrow_mut() = Some(waiter);
            match arrival.await {
                Ok(invocation) => invocation,
                Err(_) => return error(StatusCode::INTERNAL_SERVER_ERROR, "shutting down"),
            }
        }
    };
    let Invocation {
        id,
        deadline_ms,
        event,
        reply,
    } = invocation;
    *shared.phase.borrow_mut() = Phase::Busy {
        id: id.clone(),
        reply,
    };
    Response::builder()
        .status(StatusCode::OK)
        // Exactly this: awslambdaric hands anything else to the handler as raw bytes.
        .header(http::header::CONTENT_TYPE, "application/json")
        .header("Lambda-Runtime-Aws-Request-Id", &id)
        .header("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string())
        .header("Lambda-Runtime-Invoked-Function-Arn", &shared.function_arn)
        .header(
            "Lambda-Runtime-Trace-Id",
            format!("Root=1-{}", id.replace('-', "")),
        )
        .body(Full::new(event))
        .expect("valid response")
}

async fn respond(
    shared: &Rc<Shared>,
    id: &str,
    request: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let reply = match shared.take_current(id) {
        Ok(reply) => reply,
        Err(status) => return error(status, id),
    };
    let streaming = request
        .headers()
        .get("Lambda-Runtime-Function-Response-Mode")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"streaming"));
    if streaming {
        let content_type = request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let (sender, chunks) = mpsc::channel(16);
        let _ = reply.send(Outcome::Stream {
            content_type,
            chunks,
        });
        let mut body = request.into_body().into_data_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| e.to_string());
            let failed = chunk.is_err();
            if sender.send(chunk).await.is_err() || failed {
                break;
            }
        }
        return accepted();
    }
    match Limited::new(request.into_body(), MAX_PAYLOAD_BYTES)
        .collect()
        .await
    {
        Ok(body) => {
            let _ = reply.send(Outcome::Payload(body.to_bytes()));
            accepted()
        }
        Err(_) => {
            let _ = reply.send(Outcome::TooLarge);
            json_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                &json!({
                    "errorMessage": format!("the response payload is over {MAX_PAYLOAD_BYTES} bytes"),
                    "errorType": "RequestEntityTooLarge",
                }),
            )
        }
    }
}

/// The error type (header first, then the JSON body) and message a runtime reported.
async fn function_error(request: Request<Incoming>) -> (String, String) {
    let header_type = request
        .headers()
        .get("Lambda-Runtime-Function-Error-Type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = Limited::new(request.into_body(), MAX_PAYLOAD_BYTES)
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let error_type = header_type
        .or_else(|| json["errorType"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "Unhandled".to_owned());
    let error_message = json["errorMessage"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
    (error_type, error_message)
}

fn accepted() -> Response<Full<Bytes>> {
    json_response(StatusCode::ACCEPTED, &json!({"status": "OK"}))
}

fn error(status: StatusCode, id: &str) -> Response<Full<Bytes>> {
    let (error_type, message) = match status {
        StatusCode::BAD_REQUEST => ("InvalidRequestID", format!("unknown invocation id {id}")),
        StatusCode::FORBIDDEN => (
            "InvalidStateTransition",
            format!("invocation {id} is not in a state that allows this call"),
        ),
        _ => ("ServiceException", id.to_owned()),
    };
    json_response(
        status,
        &json!({"errorMessage": message, "errorType": error_type}),
    )
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("valid response")
}

/// Splits a streamed HTTP-integration response: a JSON prelude, eight NUL bytes, then the body.
pub(crate) fn is_http_integration(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|t| t.starts_with(HTTP_INTEGRATION))
}
