//! Functions in any language: a child process per worker that pulls its invocations from a
//! Lambda-compatible Runtime API, as AWS Lambda's custom runtimes and `awslambdaric` do.
//!
//! - `api.rs` — the Runtime API (2018-06-01), one loopback listener per process.
//! - `apigw.rs` — an HTTP request as an API Gateway HTTP API event (payload format 2.0) and the
//!   function's result mapped back as API Gateway maps it.
//! - `worker.rs` — starting, feeding, limiting and watching one process.
//! - `cgroup.rs` — memory limits through cgroup v2 where the machine allows it.
//!
//! Architecture invariant: like the isolate crate, this crate knows one worker, never tenants,
//! pools or the HTTP ingress. It borrows the request and response types of the isolate crate.

mod api;
mod apigw;
mod cgroup;
mod worker;

pub use api::MAX_PAYLOAD_BYTES;
pub use worker::{InvokeError, ProcessOptions, ProcessStop, ProcessWorker};
