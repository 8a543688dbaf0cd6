//! The HTTP ingress of edgefn: a hyper server (HTTP/1.1 and HTTP/2 cleartext) that routes each
//! request by path to a function and hands it to the worker pool.
//!
//! Architecture invariant: the server never sees rquickjs types or threads of the worker pool;
//! it speaks to functions only through `edgefn_workers`. Every status code it can answer with
//! is listed in `respond.rs`.

mod body;
mod metrics;
mod respond;
mod router;
mod server;
mod service;
mod watch;

pub use body::ResponseBody;
pub use router::{Route, route};
pub use server::{Server, ServerError, ServerRuntimes};
