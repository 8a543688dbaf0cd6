//! The response body type of the server: empty, known in full, or streamed from a worker.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use edgefn_isolate::{BodyError, ClientGuard, ResponseBody as FunctionBody};
use edgefn_workers::Lease;
use http_body::{Frame, SizeHint};
use tokio::sync::mpsc;

/// A response body as hyper writes it. A streamed body has no length, so HTTP/1.1 sends it with
/// chunked encoding; a body known in full gets a `Content-Length`.
#[derive(Debug)]
pub enum ResponseBody {
    /// No body.
    Empty,
    /// The whole body; `None` once written.
    Full(Option<Bytes>),
    /// Chunks as the function produces them. The lease keeps the worker counted as busy until
    /// the body is finished or abandoned (dropped with the body); the guard, dropped with an
    /// abandoned body, tells the function that its client went away.
    Stream(
        mpsc::Receiver<Result<Bytes, BodyError>>,
        Option<Lease>,
        Option<ClientGuard>,
    ),
}

impl ResponseBody {
    /// A body holding `bytes`.
    pub fn full(bytes: impl Into<Bytes>) -> ResponseBody {
        ResponseBody::Full(Some(bytes.into()))
    }
}

impl ResponseBody {
    /// A function's body; a streamed body keeps `lease` and `guard` until it ends, any other
    /// body is complete now. With `sent` false (a HEAD request, a 204 or 304 status) hyper
    /// never reads the body, so the response is complete with its head.
    pub fn from_function(
        body: FunctionBody,
        lease: Lease,
        guard: ClientGuard,
        sent: bool,
    ) -> ResponseBody {
        let body = match body {
            FunctionBody::Empty => ResponseBody::Empty,
            FunctionBody::Full(bytes) => ResponseBody::Full(Some(bytes)),
            FunctionBody::Stream(receiver) => {
                let guard = if sent {
                    Some(guard)
                } else {
                    guard.finish();
                    None
                };
                return ResponseBody::Stream(receiver, Some(lease), guard);
            }
        };
        guard.finish();
        body
    }
}

impl http_body::Body for ResponseBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        match self.get_mut() {
            ResponseBody::Empty => Poll::Ready(None),
            ResponseBody::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            ResponseBody::Stream(receiver, lease, guard) => {
                let item = std::task::ready!(receiver.poll_recv(cx));
                // The body is complete, or the function broke it off (not the client): the
                // worker is free again.
                if !matches!(item, Some(Ok(_))) {
                    lease.take();
                    if let Some(guard) = guard.take() {
                        guard.finish();
                    }
                }
                Poll::Ready(item.map(|chunk| chunk.map(Frame::data)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ResponseBody::Empty => true,
            ResponseBody::Full(bytes) => bytes.is_none(),
            ResponseBody::Stream(..) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ResponseBody::Empty => SizeHint::with_exact(0),
            ResponseBody::Full(Some(bytes)) => SizeHint::with_exact(bytes.len() as u64),
            ResponseBody::Full(None) => SizeHint::with_exact(0),
            ResponseBody::Stream(..) => SizeHint::default(),
        }
    }
}
