//! Host functions behind `EdgeRuntime.userWorkers`, installed only in a main service's isolate.
//!
//! - `userWorkerCreate(optionsJson) -> [true, key] | [false, errorJson]`
//! - `userWorkerFetch(key, method, url, [name, value, ...], body, opId)`: `body` is `null`, the
//!   id of an untouched incoming body of this isolate (handed over without copying), or a
//!   Uint8Array. Later `complete(opId, [status, statusText, headersFlat, bodyId | -1])`, or
//!   `complete(opId, undefined, errorJson)` where the error JSON is `{name, message, reason}`.

use std::rc::Weak;

use bytes::Bytes;
use futures_util::StreamExt;
use rquickjs::{Array, Ctx, Exception, Function, IntoJs, Object, Value};

use crate::host::{copy_bytes, header_map, live_inner};
use crate::isolate::{BodySlot, Inner, flatten_headers};
use crate::types::{BodyStream, IncomingRequest, ResponseBody};
use crate::user_workers::{UserWorkerError, UserWorkerOptions};

pub(crate) fn install<'js>(
    ctx: &Ctx<'js>,
    host: &Object<'js>,
    weak: &Weak<Inner>,
) -> rquickjs::Result<()> {
    let w = weak.clone();
    host.set(
        "userWorkerCreate",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, options: String| -> rquickjs::Result<Array<'js>> {
                let inner = live_inner(&ctx, &w)?;
                let Some(user_workers) = inner.user_workers.clone() else {
                    return Err(Exception::throw_type(
                        &ctx,
                        "EdgeRuntime.userWorkers is only available in the main service",
                    ));
                };
                let options: UserWorkerOptions = serde_json::from_str(&options).map_err(|e| {
                    Exception::throw_type(&ctx, &format!("invalid user worker options: {e}"))
                })?;
                let (created, text) = match user_workers.create(options) {
                    Ok(key) => (true, key),
                    Err(error) => (false, error_json(&error)),
                };
                let result = Array::new(ctx.clone())?;
                result.set(0, created)?;
                result.set(1, text)?;
                Ok(result)
            },
        )?,
    )?;

    let w = weak.clone();
    host.set(
        "userWorkerFetch",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  key: String,
                  method: String,
                  url: String,
                  headers: Vec<String>,
                  body: Value<'js>,
                  op_id: u32|
                  -> rquickjs::Result<()> {
                let Some(inner) = w.upgrade() else {
                    return Ok(());
                };
                let Some(user_workers) = inner.user_workers.clone() else {
                    return Err(Exception::throw_type(
                        &ctx,
                        "EdgeRuntime.userWorkers is only available in the main service",
                    ));
                };
                let method = http::Method::from_bytes(method.as_bytes())
                    .map_err(|_| Exception::throw_type(&ctx, "invalid method"))?;
                let headers = header_map(&headers).map_err(|m| Exception::throw_type(&ctx, &m))?;
                let body: Option<BodyStream> = if body.is_null() || body.is_undefined() {
                    None
                } else if let Some(id) = body.as_number() {
                    // An incoming body of this isolate, handed over as it is.
                    match inner.state.borrow_mut().bodies.remove(&(id as u32)) {
                        Some(BodySlot::Idle(stream)) => Some(stream),
                        _ => {
                            return Err(Exception::throw_type(
                                &ctx,
                                "the request body is not available",
                            ));
                        }
                    }
                } else {
                    Some(once(copy_bytes(&ctx, body)?))
                };
                let request = IncomingRequest {
                    method,
                    url,
                    headers,
                    body,
                    remote_addr: None,
                    client: None,
                };
                let response = user_workers.fetch(&key, request);
                let task_weak = w.clone();
                tokio::task::spawn_local(async move {
                    let result = response.await;
                    let Some(inner) = task_weak.upgrade() else {
                        return;
                    };
                    match result {
                        Ok(response) => {
                            let headers = flatten_headers(&response.headers);
                            let body_id: i64 = match response.body {
                                ResponseBody::Empty => -1,
                                ResponseBody::Full(bytes) => register_body(&inner, once(bytes)),
                                ResponseBody::Stream(mut receiver) => {
                                    let stream = futures_util::stream::poll_fn(move |cx| {
                                        receiver.poll_recv(cx)
                                    });
                                    register_body(&inner, Box::pin(stream))
                                }
                            };
                            let status_text = response
                                .status_text
                                .or_else(|| response.status.canonical_reason().map(str::to_owned))
                                .unwrap_or_default();
                            let head = Head {
                                status: response.status.as_u16(),
                                status_text,
                                headers,
                                body_id,
                            };
                            inner.complete(op_id, head, None);
                        }
                        Err(error) => {
                            inner.complete(op_id, rquickjs::Undefined, Some(error_json(&error)))
                        }
                    }
                });
                Ok(())
            },
        )?,
    )?;
    Ok(())
}

fn register_body(inner: &Inner, body: BodyStream) -> i64 {
    let mut state = inner.state.borrow_mut();
    let id = state.next_id();
    state.bodies.insert(id, BodySlot::Idle(body));
    i64::from(id)
}

fn once(bytes: Bytes) -> BodyStream {
    Box::pin(
        futures_util::stream::once(async move { Ok(bytes) }).filter(|r| {
            let keep = !matches!(r, Ok(b) if b.is_empty());
            async move { keep }
        }),
    )
}

fn error_json(error: &UserWorkerError) -> String {
    serde_json::json!({"name": error.name, "message": error.message, "reason": error.reason})
        .to_string()
}

/// A user worker's response head as the Web layer takes it: `[status, statusText, headers,
/// bodyId]`.
struct Head {
    status: u16,
    status_text: String,
    headers: Vec<String>,
    body_id: i64,
}

impl<'js> IntoJs<'js> for Head {
    fn into_js(self, ctx: &Ctx<'js>) -> rquickjs::Result<Value<'js>> {
        let array = Array::new(ctx.clone())?;
        array.set(0, self.status)?;
        array.set(1, self.status_text)?;
        array.set(2, self.headers)?;
        array.set(3, self.body_id)?;
        Ok(array.into_value())
    }
}
