//! Host functions behind `fetch()`: outgoing HTTP/1.1 and HTTP/2 over rustls (with the bundled
//! web PKI roots and `fetch.ca_files`, nothing read from the machine), redirect modes, aborts,
//! streamed bodies, and the function's network allow list.
//!
//! - `fetchStart(method, url, [name, value, ...], body, redirect, opId) -> fetchId`: `body` is
//!   `null`, an untouched incoming body id of this isolate (handed over as it is), a
//!   Uint8Array, or `true` for a body JavaScript writes into the host stream `fetchId` (with
//!   `streamWrite`, as a streamed response); `redirect` is `follow`, `error` or `manual`. Later `complete(opId, [status,
//!   statusText, headersFlat, bodyId | -1, finalUrl, redirected])` or `complete(opId,
//!   undefined, message)` for a network error (JS rejects with a TypeError).
//! - `fetchAbort(fetchId)`: cancels a fetch whose response head has not arrived.

use std::cell::OnceCell;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use rquickjs::{Array, Ctx, Exception, Function, IntoJs, Object, Value};
use tokio::sync::mpsc;

use crate::host::{STREAM_CHANNEL_CHUNKS, copy_bytes, header_map, live_inner};
use crate::isolate::{BodySlot, Inner, StreamSlot, flatten_headers};
use crate::types::{BodyError, BodyStream};

/// Redirects followed in `follow` mode (WHATWG Fetch §4.4 step 5: more than 20 is an error).
const MAX_REDIRECTS: usize = 20;
/// Longest a connection may take to establish.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The HTTP clients behind `fetch()` for the isolates of one thread (connection pools stay with
/// the runtime that drives them), one per redirect policy, built on first use. They trust the
/// bundled web PKI roots and the extra roots given (DER certificates, from `fetch.ca_files`).
#[derive(Clone)]
pub struct FetchClient(Rc<Clients>);

struct Clients {
    extra_roots: Arc<[Vec<u8>]>,
    user_agent: String,
    following: OnceCell<reqwest::Client>,
    not_following: OnceCell<reqwest::Client>,
}

impl FetchClient {
    /// Clients sending `user_agent` and trusting `extra_roots` besides the web PKI roots.
    pub fn new(extra_roots: Arc<[Vec<u8>]>, user_agent: String) -> FetchClient {
        FetchClient(Rc::new(Clients {
            extra_roots,
            user_agent,
            following: OnceCell::new(),
            not_following: OnceCell::new(),
        }))
    }

    /// The client for `follow` or the other redirect modes; an error says why it cannot be
    /// built (a root certificate rustls rejects).
    fn get(&self, follow: bool) -> Result<reqwest::Client, String> {
        let (cell, policy) = if follow {
            (
                &self.0.following,
                reqwest::redirect::Policy::limited(MAX_REDIRECTS),
            )
        } else {
            (&self.0.not_following, reqwest::redirect::Policy::none())
        };
        if let Some(client) = cell.get() {
            return Ok(client.clone());
        }
        let mut builder = reqwest::Client::builder()
            .redirect(policy)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(&self.0.user_agent);
        for der in self.0.extra_roots.iter() {
            let root = reqwest::Certificate::from_der(der).map_err(|e| e.to_string())?;
            builder = builder.add_root_certificate(root);
        }
        let client = builder.build().map_err(|e| e.to_string())?;
        Ok(cell.get_or_init(|| client).clone())
    }
}

/// Which hosts a function may fetch from: `None` allows all; an entry `*.example.com` allows
/// the subdomains of `example.com`.
pub(crate) fn host_allowed(allowed: Option<&[String]>, host: &str) -> bool {
    let Some(allowed) = allowed else {
        return true;
    };
    allowed.iter().any(|entry| match entry.strip_prefix("*.") {
        Some(domain) => {
            host.len() > domain.len()
                && host.ends_with(domain)
                && host[..host.len() - domain.len()].ends_with('.')
        }
        None => entry.eq_ignore_ascii_case(host),
    })
}

pub(crate) fn install<'js>(
    ctx: &Ctx<'js>,
    host: &Object<'js>,
    weak: &Weak<Inner>,
) -> rquickjs::Result<()> {
    let w = weak.clone();
    host.set(
        "fetchStart",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  method: String,
                  url: String,
                  headers: Vec<String>,
                  body: Value<'js>,
                  redirect: String,
                  op_id: u32|
                  -> rquickjs::Result<u32> {
                let inner = live_inner(&ctx, &w)?;
                let parsed = reqwest::Url::parse(&url).map_err(|_| {
                    Exception::throw_type(&ctx, &format!("fetch: invalid URL {url}"))
                })?;
                if !matches!(parsed.scheme(), "http" | "https") {
                    return Err(Exception::throw_type(
                        &ctx,
                        &format!("fetch: the {} scheme is not supported", parsed.scheme()),
                    ));
                }
                let target = parsed.host_str().unwrap_or_default().to_owned();
                if !host_allowed(inner.allowed_hosts.borrow().as_deref(), &target) {
                    return Err(Exception::throw_type(
                        &ctx,
                        &format!("fetch: {target} is not in this function's allowed hosts"),
                    ));
                }
                let method = reqwest::Method::from_bytes(method.as_bytes())
                    .map_err(|_| Exception::throw_type(&ctx, "fetch: invalid method"))?;
                let headers = header_map(&headers).map_err(|m| Exception::throw_type(&ctx, &m))?;
                let follow = redirect == "follow";
                let client = inner.fetch.get(follow).map_err(|e| {
                    Exception::throw_type(&ctx, &format!("fetch: cannot set up the client: {e}"))
                })?;
                let fetch_id = inner.state.borrow_mut().next_id();
                let body = if body.is_null() || body.is_undefined() {
                    None
                } else if body.as_bool() == Some(true) {
                    // Uploaded as JavaScript writes it into the host stream `fetch_id`.
                    let (sender, mut receiver) = mpsc::channel(STREAM_CHANNEL_CHUNKS);
                    inner.state.borrow_mut().streams.insert(
                        fetch_id,
                        StreamSlot {
                            sender,
                            request_body: None,
                        },
                    );
                    let chunks = futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx));
                    Some(reqwest::Body::wrap_stream(chunks))
                } else if let Some(id) = body.as_number() {
                    match inner.state.borrow_mut().bodies.remove(&(id as u32)) {
                        Some(BodySlot::Idle(stream)) => Some(reqwest::Body::wrap_stream(stream)),
                        _ => {
                            return Err(Exception::throw_type(
                                &ctx,
                                "fetch: the request body is not available",
                            ));
                        }
                    }
                } else {
                    Some(reqwest::Body::from(copy_bytes(&ctx, body)?))
                };
                let mut builder = client.request(method, parsed.clone()).headers(headers);
                if let Some(body) = body {
                    builder = builder.body(body);
                }
                let task_weak = w.clone();
                let task = tokio::task::spawn_local(async move {
                    let result = builder.send().await;
                    let Some(inner) = task_weak.upgrade() else {
                        return;
                    };
                    inner.state.borrow_mut().fetches.remove(&fetch_id);
                    let response = match result {
                        Ok(response) => response,
                        Err(error) => {
                            // An upload still being written has nowhere to go.
                            inner.state.borrow_mut().end_stream(fetch_id);
                            inner.complete(op_id, rquickjs::Undefined, Some(describe(&error)));
                            return;
                        }
                    };
                    if redirect == "error" && response.status().is_redirection() {
                        let message =
                            format!("fetch: {url} redirected, and the redirect mode is \"error\"");
                        inner.complete(op_id, rquickjs::Undefined, Some(message));
                        return;
                    }
                    let head = Head {
                        status: response.status().as_u16(),
                        status_text: response
                            .status()
                            .canonical_reason()
                            .unwrap_or("")
                            .to_owned(),
                        headers: flatten_headers(response.headers()),
                        redirected: follow && response.url() != &parsed,
                        url: response.url().to_string(),
                        body_id: 0,
                    };
                    let stream: BodyStream = Box::pin(
                        response
                            .bytes_stream()
                            .map(|chunk| chunk.map_err(|e| BodyError(describe(&e)))),
                    );
                    let body_id = {
                        let mut state = inner.state.borrow_mut();
                        let id = state.next_id();
                        state.bodies.insert(id, BodySlot::Idle(stream));
                        id
                    };
                    inner.complete(
                        op_id,
                        Head {
                            body_id: i64::from(body_id),
                            ..head
                        },
                        None,
                    );
                });
                inner
                    .state
                    .borrow_mut()
                    .fetches
                    .insert(fetch_id, task.abort_handle());
                Ok(fetch_id)
            },
        )?,
    )?;

    let w = weak.clone();
    host.set(
        "fetchAbort",
        Function::new(ctx.clone(), move |fetch_id: u32| {
            let Some(inner) = w.upgrade() else { return };
            let mut state = inner.state.borrow_mut();
            if let Some(task) = state.fetches.remove(&fetch_id) {
                task.abort();
            }
            state.end_stream(fetch_id);
        })?,
    )?;
    Ok(())
}

/// A network error as a message: reqwest's, with its causes.
fn describe(error: &reqwest::Error) -> String {
    let mut message = format!("fetch failed: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    message
}

/// A response head as the Web layer takes it.
struct Head {
    status: u16,
    status_text: String,
    headers: Vec<String>,
    body_id: i64,
    url: String,
    redirected: bool,
}

impl<'js> IntoJs<'js> for Head {
    fn into_js(self, ctx: &Ctx<'js>) -> rquickjs::Result<Value<'js>> {
        let array = Array::new(ctx.clone())?;
        array.set(0, self.status)?;
        array.set(1, self.status_text)?;
        array.set(2, self.headers)?;
        array.set(3, self.body_id)?;
        array.set(4, self.url)?;
        array.set(5, self.redirected)?;
        Ok(array.into_value())
    }
}

#[cfg(test)]
mod tests {
    use super::host_allowed;

    #[test]
    fn allow_list_matches_hosts_and_subdomains() {
        let allowed = vec!["api.example.com".to_owned(), "*.internal.test".to_owned()];
        assert!(host_allowed(None, "anything.example"));
        assert!(host_allowed(Some(&allowed), "api.example.com"));
        assert!(host_allowed(Some(&allowed), "API.example.com"));
        assert!(host_allowed(Some(&allowed), "a.b.internal.test"));
        assert!(!host_allowed(Some(&allowed), "internal.test"));
        assert!(!host_allowed(Some(&allowed), "evilinternal.test"));
        assert!(!host_allowed(Some(&allowed), "example.com"));
    }
}
