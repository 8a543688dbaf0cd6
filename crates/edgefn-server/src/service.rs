//! One request, from hyper to a function and back.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use edgefn_isolate::{BodyError, ClientGuard, IncomingRequest};
use edgefn_workers::{Function, Functions, Served, TerminationReason, WorkerError, WorkerPool};
use futures_util::TryStreamExt;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body::Body as _;
use http_body_util::BodyDataStream;
use hyper::body::Incoming;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::body::ResponseBody;
use crate::metrics::Metrics;
use crate::respond::{self, Failure};
use crate::router::{self, Route};

/// The request id header: honoured when the client sends one, generated otherwise, and
/// returned on every response.
const REQUEST_ID: &str = "x-request-id";

/// What a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// Functions and the `/_edgefn/` endpoints (no separate admin port).
    Everything,
    /// Functions only; `/_edgefn/` lives on the admin port.
    Functions,
    /// The `/_edgefn/` endpoints only.
    Admin,
}

/// What every connection shares.
pub(crate) struct App {
    functions: Functions,
    /// When set, every request goes to this function, which routes with `EdgeRuntime.userWorkers`.
    main_service: Option<Arc<Function>>,
    pub(crate) pool: WorkerPool,
    /// The listener's own address, used for `request.url` when a request has no `Host`.
    local_addr: SocketAddr,
    metrics: Arc<Metrics>,
    /// `false` once the process is stopping: readiness answers 503.
    pub(crate) ready: AtomicBool,
    /// Set once the worker pool is warm ([`WorkerPool::warmed_up`]); until then readiness
    /// answers 503 `starting`.
    pub(crate) warm: AtomicBool,
    /// Cancelled when the shutdown deadline passed: what still waits is answered 503.
    pub(crate) stop: CancellationToken,
}

impl App {
    pub(crate) fn new(
        functions: Functions,
        main_service: Option<Arc<Function>>,
        pool: WorkerPool,
        local_addr: SocketAddr,
        metrics: Arc<Metrics>,
        stop: CancellationToken,
    ) -> App {
        App {
            functions,
            main_service,
            pool,
            local_addr,
            metrics,
            ready: AtomicBool::new(true),
            warm: AtomicBool::new(false),
            stop,
        }
    }

    /// Serves one request; never fails (every failure is a response).
    pub(crate) async fn handle(
        self: Arc<Self>,
        mut request: Request<Incoming>,
        remote_addr: SocketAddr,
        role: Role,
    ) -> Result<Response<ResponseBody>, Infallible> {
        let request_id = match request.headers().get(REQUEST_ID) {
            Some(id) => id.clone(),
            None => {
                let id = HeaderValue::try_from(uuid::Uuid::new_v4().to_string())
                    .expect("a UUID is a valid header value");
                request.headers_mut().insert(REQUEST_ID, id.clone());
                id
            }
        };
        let route = router::route(request.uri().path());
        let mut response = match (route, role) {
            (Route::Admin(path), Role::Everything | Role::Admin) => self.admin(path),
            (_, Role::Admin) | (Route::Admin(_), Role::Functions) => {
                respond::failure(Failure::AdminNotFound(request.uri().path()))
            }
            (route, _) => match (&self.main_service, route) {
                (Some(main), _) => {
                    let main = main.clone();
                    self.serve(&main, request, remote_addr).await
                }
                (None, Route::Function(name)) => {
                    let name = name.to_owned();
                    self.call_function(&name, request, remote_addr).await
                }
                (None, _) => respond::failure(Failure::FunctionNotFound("")),
            },
        };
        response.headers_mut().insert(REQUEST_ID, request_id);
        Ok(response)
    }

    async fn call_function(
        &self,
        name: &str,
        request: Request<Incoming>,
        remote_addr: SocketAddr,
    ) -> Response<ResponseBody> {
        let function = match self.functions.lookup(name) {
            Ok(Some(function)) => function,
            Ok(None) => return respond::failure(Failure::FunctionNotFound(name)),
            Err(_) => return respond::failure(Failure::InvalidFunctionName(name)),
        };
        self.serve(&function, request, remote_addr).await
    }

    /// Hands a request to a function and turns its answer into a response.
    async fn serve(
        &self,
        function: &Arc<Function>,
        request: Request<Incoming>,
        remote_addr: SocketAddr,
    ) -> Response<ResponseBody> {
        let started = Instant::now();
        let name = function.name.as_str();
        let url = match self.full_url(&request) {
            Ok(url) => url,
            Err(message) => return respond::failure(Failure::BadRequest(message)),
        };
        let (parts, body) = request.into_parts();
        let head_only = parts.method == http::Method::HEAD;
        let body = (!body.is_end_stream()).then(|| {
            let stream = BodyDataStream::new(body).map_err(|e| BodyError(e.to_string()));
            Box::pin(stream) as edgefn_isolate::BodyStream
        });
        // Dropped with this future when the client goes away, the guard aborts the request's
        // signal while the response is not complete; a streamed response keeps it until its
        // last chunk (a full one is complete when it leaves the isolate).
        let (guard, client) = edgefn_isolate::client_watch();
        let incoming = IncomingRequest {
            method: parts.method,
            url,
            headers: parts.headers,
            body,
            remote_addr: Some(remote_addr),
            client: Some(client),
        };
        let result = tokio::select! {
            result = self.pool.dispatch(function, incoming) => result,
            () = self.stop.cancelled() => Err(WorkerError::Terminated {
                reason: TerminationReason::Shutdown,
                detail: "the server stopped before the request finished".into(),
            }),
        };
        let response = match result {
            Ok(served) => into_http(served, guard, head_only),
            Err(error) => {
                guard.finish();
                respond::failure(Failure::Worker {
                    function: name,
                    error: &error,
                })
            }
        };
        self.metrics
            .request(name, response.status().as_u16(), started.elapsed());
        response
    }

    /// The full URL of a request: `http://` + its `Host` (or HTTP/2 authority) + path and query.
    fn full_url(&self, request: &Request<Incoming>) -> Result<String, &'static str> {
        let local;
        let authority = match request.uri().authority() {
            Some(authority) => authority.as_str(),
            None => match request.headers().get(header::HOST) {
                Some(host) => {
                    let host = host.to_str().map_err(|_| "the Host header is not valid")?;
                    // Checked, and used as it is (the authority's text is the header's).
                    http::uri::Authority::from_str(host)
                        .map_err(|_| "the Host header is not valid")?;
                    host
                }
                None => {
                    local = self.local_addr.to_string();
                    &local
                }
            },
        };
        let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
        // Pushed rather than formatted: this runs for every request.
        let mut url = String::with_capacity("http://".len() + authority.len() + path.len());
        url.push_str("http://");
        url.push_str(authority);
        url.push_str(path);
        Ok(url)
    }

    /// The server's own endpoints under `/_edgefn/`.
    fn admin(&self, path: &str) -> Response<ResponseBody> {
        match path {
            "health" => respond::json_response(StatusCode::OK, &json!({"status": "ok"})),
            "ready" => {
                let status = if !self.ready.load(Ordering::SeqCst) {
                    "shutting_down"
                } else if !self.warm.load(Ordering::SeqCst) {
                    "starting"
                } else {
                    return respond::json_response(StatusCode::OK, &json!({"status": "ready"}));
                };
                respond::json_response(StatusCode::SERVICE_UNAVAILABLE, &json!({"status": status}))
            }
            "metrics" => {
                let text = self.metrics.render(&self.pool.snapshot());
                let mut response = Response::new(ResponseBody::full(text));
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                );
                response
            }
            other => respond::failure(Failure::AdminNotFound(&format!("/_edgefn/{other}"))),
        }
    }
}

fn into_http(served: Served, guard: ClientGuard, head_only: bool) -> Response<ResponseBody> {
    let Served { response, lease } = served;
    let sent = !head_only
        && response.status != StatusCode::NO_CONTENT
        && response.status != StatusCode::NOT_MODIFIED;
    let mut http = Response::new(ResponseBody::from_function(
        response.body,
        lease,
        guard,
        sent,
    ));
    *http.status_mut() = response.status;
    *http.headers_mut() = response.headers;
    if let Some(text) = response.status_text
        && let Ok(reason) = hyper::ext::ReasonPhrase::try_from(text.into_bytes())
    {
        http.extensions_mut().insert(reason);
    }
    http
}
