//! One request, from hyper to a function and back.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::Arc;

use edgefn_isolate::{BodyError, IncomingRequest};
use edgefn_workers::{Function, Functions, Served, WorkerPool};
use futures_util::TryStreamExt;
use http::{Request, Response, StatusCode, header};
use http_body::Body as _;
use http_body_util::BodyDataStream;
use hyper::body::Incoming;
use serde_json::json;

use crate::body::ResponseBody;
use crate::respond::{self, Failure};
use crate::router::{self, Route};

/// What every connection shares: the function registry and the worker pool.
pub(crate) struct App {
    pub(crate) functions: Functions,
    /// When set, every request goes to this function, which routes with `EdgeRuntime.userWorkers`.
    pub(crate) main_service: Option<Arc<Function>>,
    pub(crate) pool: WorkerPool,
    /// The listener's own address, used for `request.url` when a request has no `Host`.
    pub(crate) local_addr: SocketAddr,
}

impl App {
    /// Serves one request; never fails (every failure is a response).
    pub(crate) async fn handle(
        self: Arc<Self>,
        request: Request<Incoming>,
        remote_addr: SocketAddr,
    ) -> Result<Response<ResponseBody>, Infallible> {
        let route = router::route(request.uri().path());
        if let (Some(main), false) = (&self.main_service, matches!(route, Route::Admin(_))) {
            let main = main.clone();
            return Ok(self.serve(&main, request, remote_addr).await);
        }
        let response = match route {
            Route::Admin(path) => admin(path),
            Route::NoFunction => respond::failure(Failure::FunctionNotFound("")),
            Route::Function(name) => {
                let name = name.to_owned();
                self.call_function(&name, request, remote_addr).await
            }
        };
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
        let name = function.name.as_str();
        let url = match self.full_url(&request) {
            Ok(url) => url,
            Err(message) => return respond::failure(Failure::BadRequest(message)),
        };
        let (parts, body) = request.into_parts();
        let body = (!body.is_end_stream()).then(|| {
            let stream = BodyDataStream::new(body).map_err(|e| BodyError(e.to_string()));
            Box::pin(stream) as edgefn_isolate::BodyStream
        });
        let incoming = IncomingRequest {
            method: parts.method,
            url,
            headers: parts.headers,
            body,
            remote_addr: Some(remote_addr),
        };
        match self.pool.dispatch(function, incoming).await {
            Ok(served) => into_http(served),
            Err(error) => respond::failure(Failure::Worker {
                function: name,
                error: &error,
            }),
        }
    }

    /// The full URL of a request: `http://` + its `Host` (or HTTP/2 authority) + path and query.
    fn full_url(&self, request: &Request<Incoming>) -> Result<String, &'static str> {
        let authority = match request.uri().authority() {
            Some(authority) => authority.as_str().to_owned(),
            None => match request.headers().get(header::HOST) {
                Some(host) => {
                    let host = host.to_str().map_err(|_| "the Host header is not valid")?;
                    http::uri::Authority::from_str(host)
                        .map_err(|_| "the Host header is not valid")?
                        .as_str()
                        .to_owned()
                }
                None => self.local_addr.to_string(),
            },
        };
        let path = request.uri().path_and_query().map_or("/", |p| p.as_str());
        Ok(format!("http://{authority}{path}"))
    }
}

fn into_http(served: Served) -> Response<ResponseBody> {
    let Served { response, lease } = served;
    let mut http = Response::new(ResponseBody::from_function(response.body, lease));
    *http.status_mut() = response.status;
    *http.headers_mut() = response.headers;
    if let Some(text) = response.status_text
        && let Ok(reason) = hyper::ext::ReasonPhrase::try_from(text.into_bytes())
    {
        http.extensions_mut().insert(reason);
    }
    http
}

/// The server's own endpoints under `/_edgefn/`.
fn admin(path: &str) -> Response<ResponseBody> {
    match path {
        "health" => respond::json_response(StatusCode::OK, &json!({"status": "ok"})),
        other => respond::failure(Failure::AdminNotFound(other)),
    }
}
