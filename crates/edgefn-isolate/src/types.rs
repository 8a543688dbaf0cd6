//! What crosses the isolate boundary: a request going in, a response coming out, and why a
//! dispatch or a boot failed.
//!
//! Architecture invariant: these types describe HTTP messages, never connections, threads or
//! tenants. The server builds an [`IncomingRequest`] from whatever it accepted and turns an
//! [`OutgoingResponse`] back into its own response type.

use std::net::SocketAddr;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::Stream;
use tokio::sync::{mpsc, oneshot};

/// A request body as it arrives: chunks of bytes, or an error saying why the body broke off.
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, BodyError>> + Send>>;

/// A request body that ended with an error (client reset, malformed chunked encoding, ...).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct BodyError(pub String);

/// A request handed to the isolate.
pub struct IncomingRequest {
    /// The request method.
    pub method: http::Method,
    /// The full original URL, as the function sees it in `request.url`.
    pub url: String,
    /// The request headers.
    pub headers: http::HeaderMap,
    /// The body; `None` when the request has none (`request.body === null`).
    pub body: Option<BodyStream>,
    /// The peer's address, shown to `Deno.serve` handlers as `info.remoteAddr`.
    pub remote_addr: Option<SocketAddr>,
    /// Tells the function when its client stops waiting (`request.signal` aborts); `None`
    /// when nothing reports it (a main service calling a user worker).
    pub client: Option<ClientGone>,
}

/// The sender's half of [`client_watch`]: dropped before [`ClientGuard::finish`], it tells the
/// function that its client went away before the response was complete. A response whose body
/// is known in full, and a failure, are complete when they leave the isolate, which then stops
/// listening; only a streamed body needs its guard until its last chunk.
#[derive(Debug)]
pub struct ClientGuard(oneshot::Sender<()>);

/// The function's half of [`client_watch`], carried by an [`IncomingRequest`]: resolves with
/// `Ok` when the response was complete, with `Err` when the client went away first (the
/// isolate drops it once its response is complete, see [`ClientGuard`]).
pub type ClientGone = oneshot::Receiver<()>;

/// A guard for the server to hold while the client waits for the response, and its watch for
/// the request.
pub fn client_watch() -> (ClientGuard, ClientGone) {
    let (tx, rx) = oneshot::channel();
    (ClientGuard(tx), rx)
}

impl ClientGuard {
    /// The response is complete: the client's leaving no longer matters.
    pub fn finish(self) {
        let _ = self.0.send(());
    }
}

/// The response a handler produced.
#[derive(Debug)]
pub struct OutgoingResponse {
    /// The status code.
    pub status: http::StatusCode,
    /// The status text when the handler set one other than the standard reason phrase.
    pub status_text: Option<String>,
    /// The response headers.
    pub headers: http::HeaderMap,
    /// The response body.
    pub body: ResponseBody,
}

/// A response body: known in full when the handler built it from a string or bytes, streamed
/// otherwise.
#[derive(Debug)]
pub enum ResponseBody {
    /// No body at all (`new Response(null)`).
    Empty,
    /// The whole body, known when the response head is sent.
    Full(Bytes),
    /// A body the handler streams. The channel ends when the stream closes; an `Err` item means
    /// the stream errored and the response must be cut short.
    Stream(mpsc::Receiver<Result<Bytes, BodyError>>),
}

/// Why an isolate could not be created or its function's code could not be loaded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BootError {
    /// The engine refused to create a runtime or context (usually out of memory).
    #[error("could not create the JavaScript engine: {0}")]
    Engine(String),
    /// The entry module does not exist.
    #[error("missing entry file: none of {0} exists")]
    MissingEntry(String),
    /// A module could not be read, resolved, transpiled or compiled; the message names the file
    /// and, for syntax errors, the line.
    #[error("{0}")]
    Module(String),
    /// Evaluating the module threw.
    #[error("{message}")]
    Evaluation {
        /// `Name: message` of the thrown value.
        message: String,
        /// The JavaScript stack, when there is one.
        stack: Option<String>,
    },
    /// The module evaluated but registered no request handler.
    #[error("{0}")]
    NoHandler(String),
}

/// Why a dispatched request got no response from the handler.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HandlerError {
    /// The handler threw or its promise rejected.
    #[error("{message}")]
    Uncaught {
        /// `Name: message` of the thrown value.
        message: String,
        /// The JavaScript stack, when there is one.
        stack: Option<String>,
    },
    /// The handler resolved to something that is not a `Response`.
    #[error("{0}")]
    InvalidResponse(String),
    /// The isolate was stopped (a limit, a panic, or its owner) before the handler answered;
    /// it must be discarded.
    #[error("the isolate was stopped ({stop:?}): {detail}")]
    Terminated {
        /// Why.
        stop: crate::Stop,
        /// What happened.
        detail: String,
    },
    /// The isolate was dropped before the handler answered.
    #[error("the worker ended before the handler answered")]
    Dropped,
}
