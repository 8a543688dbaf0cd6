//! The host object handed to the Web platform layer: the only way JavaScript reaches Rust.
//!
//! It is passed to `init(host, config)` and never stored on `globalThis`, so tenant code
//! cannot call it. Each function here is synchronous; asynchronous work (timers, body reads,
//! waiting for room in a response stream) runs as a local task that later calls back into
//! JavaScript through `internal.complete(opId, value, error)` or `internal.fireTimer(id)`.
//! The contract, function by function, is written next to each one below.

use std::rc::{Rc, Weak};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use rquickjs::function::Opt;
use rquickjs::{Ctx, Exception, Function, Object, TypedArray, Value};
use tokio::sync::mpsc;

use crate::isolate::{BodySlot, Inner, LogLevel, StreamSlot};
use crate::types::{BodyError, HandlerError, OutgoingResponse, ResponseBody};

/// How many chunks a streamed body (a response, a fetch upload) may run ahead of its reader.
pub(crate) const STREAM_CHANNEL_CHUNKS: usize = 16;

/// The prototype of the Dates the engine makes in `ctx`: none before the Date built-in was
/// added (see `addDate` below).
pub(crate) fn date_prototype<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<Option<Object<'js>>> {
    // SAFETY: `ctx` is entered; `JS_NewDate` returns an owned value of it, or an exception.
    let date = unsafe {
        let date = rquickjs::qjs::JS_NewDate(ctx.as_raw().as_ptr(), 0.0);
        if rquickjs::qjs::JS_IsException(date) {
            return Err(rquickjs::Error::Exception);
        }
        Value::from_raw(ctx.clone(), date)
    };
    Ok(date.as_object().and_then(Object::get_prototype))
}

/// What `object` has as its own property `name`: nothing (`None`), a data property
/// (`Some(true)`) or an accessor (`Some(false)`), found without running any code (`object` is
/// not a Proxy).
fn own_property<'js>(
    ctx: &Ctx<'js>,
    object: &Object<'js>,
    name: &str,
) -> rquickjs::Result<Option<bool>> {
    let raw = ctx.as_raw().as_ptr();
    let mut descriptor = rquickjs::qjs::JSPropertyDescriptor {
        flags: 0,
        value: rquickjs::qjs::JS_UNDEFINED,
        getter: rquickjs::qjs::JS_UNDEFINED,
        setter: rquickjs::qjs::JS_UNDEFINED,
    };
    // SAFETY: `ctx` is entered and `object` is a live value of it; the atom is freed after the
    // lookup, and so are the descriptor's three values, owned when the property is found.
    unsafe {
        let atom = rquickjs::qjs::JS_NewAtomLen(raw, name.as_ptr().cast(), name.len() as _);
        if atom == rquickjs::qjs::JS_ATOM_NULL {
            return Err(rquickjs::Error::Exception);
        }
        let found = rquickjs::qjs::JS_GetOwnProperty(raw, &mut descriptor, object.as_raw(), atom);
        rquickjs::qjs::JS_FreeAtom(raw, atom);
        match found {
            0 => Ok(None),
            1.. => {
                rquickjs::qjs::JS_FreeValue(raw, descriptor.value);
                rquickjs::qjs::JS_FreeValue(raw, descriptor.getter);
                rquickjs::qjs::JS_FreeValue(raw, descriptor.setter);
                Ok(Some(
                    descriptor.flags & rquickjs::qjs::JS_PROP_GETSET as i32 == 0,
                ))
            }
            _ => Err(rquickjs::Error::Exception),
        }
    }
}

/// Adds ArrayBuffer, SharedArrayBuffer, the typed arrays, DataView and Atomics to the context,
/// once, and returns their constructors by global name (in an object without prototype), read
/// from the engine's class prototypes. `names` are their global names as the layer lists them:
/// those with a class of their own in the order of the engine's class ids (from
/// `JS_CLASS_ARRAY_BUFFER` on), checked against the constructors' names, then `Atomics`.
///
/// The engine defines the globals, reads `Array.prototype.toString` and `globalThis.Uint8Array`
/// as it goes, and aborts the process when the global object already has an own `Atomics` (or a
/// tenant's `Uint8Array` has the base64 methods it adds). So it is called only when the global
/// object is extensible and has none of the names, and `Array.prototype.toString` is an own data
/// property: then no tenant code runs meanwhile. The layer makes it so, and puts everything back
/// after (`addTypedArrayBuiltins` in js/buffers).
fn add_typed_arrays<'js>(
    ctx: &Ctx<'js>,
    inner: &Inner,
    names: &[String],
) -> rquickjs::Result<Object<'js>> {
    let Some((atomics, classes)) = names.split_last().filter(|(last, _)| *last == "Atomics") else {
        return Err(Exception::throw_internal(
            ctx,
            "the typed arrays' names end with Atomics",
        ));
    };
    let raw = ctx.as_raw().as_ptr();
    if !inner.typed_arrays_added.get() {
        let globals = ctx.globals();
        let array_prototype = rquickjs::Array::new(ctx.clone())?
            .as_object()
            .get_prototype()
            .ok_or_else(|| Exception::throw_internal(ctx, "an Array without a prototype"))?;
        // SAFETY: `ctx` is entered; the global object is not a Proxy, so no code runs.
        let extensible = unsafe { rquickjs::qjs::JS_IsExtensible(raw, globals.as_raw()) } > 0;
        let mut ready = extensible;
        for name in classes.iter().chain([atomics]) {
            ready = ready && own_property(ctx, &globals, name)?.is_none();
        }
        ready = ready && own_property(ctx, &array_prototype, "toString")? == Some(true);
        if !ready {
            return Err(Exception::throw_internal(
                ctx,
                "the typed arrays can only be added to a global object that has none of their \
                 names, with Array.prototype.toString a data property",
            ));
        }
        // SAFETY: `ctx` is this context, entered.
        if unsafe { rquickjs::qjs::JS_AddIntrinsicTypedArrays(raw) } < 0 {
            return Err(rquickjs::Error::Exception);
        }
        inner.typed_arrays_added.set(true);
    }
    let buffer = rquickjs::ArrayBuffer::new(ctx.clone(), Vec::<u8>::new())?;
    // SAFETY: `buffer` is a live value of this context.
    let first = unsafe { rquickjs::qjs::JS_GetClassID(buffer.as_value().as_raw()) };
    let constructors = Object::new(ctx.clone())?;
    constructors.set_prototype(None)?;
    for (class_id, name) in (first..).zip(classes) {
        // SAFETY: as above; `JS_GetClassProto` returns an owned value (null for a class the
        // context has no prototype of).
        let proto =
            unsafe { Value::from_raw(ctx.clone(), rquickjs::qjs::JS_GetClassProto(raw, class_id)) };
        let constructor: Option<Function> = match proto.as_object() {
            Some(proto) => proto.get("constructor")?,
            None => None,
        };
        match constructor {
            Some(constructor) if constructor.get::<_, String>("name")? == *name => {
                constructors.set(name, constructor)?;
            }
            _ => {
                return Err(Exception::throw_internal(
                    ctx,
                    &format!("the engine has no {name} after adding the typed arrays"),
                ));
            }
        }
    }
    Ok(constructors)
}

/// The getter and setter of a global the layer makes on first use (see `lazyAccessor` below),
/// whose data is `[access, name, getValue]`: a read calls `access(name, getValue)`, a write
/// `access(name, getValue, value)`.
unsafe extern "C" fn lazy_global_accessor(
    ctx: *mut rquickjs::qjs::JSContext,
    _this: rquickjs::qjs::JSValue,
    argc: std::ffi::c_int,
    argv: *mut rquickjs::qjs::JSValue,
    _magic: std::ffi::c_int,
    data: *mut rquickjs::qjs::JSValue,
) -> rquickjs::qjs::JSValue {
    // SAFETY: the engine calls this with the three values `lazyAccessor` gave the function, and
    // `argc` arguments (at least `length`, 0) in `argv`; `JS_Call` borrows its arguments and
    // returns an owned value or an exception, which is what this function returns.
    unsafe {
        let data = std::slice::from_raw_parts(data, 3);
        let mut args = [data[1], data[2], rquickjs::qjs::JS_UNDEFINED];
        let count = if argc > 0 {
            args[2] = *argv;
            3
        } else {
            2
        };
        rquickjs::qjs::JS_Call(
            ctx,
            data[0],
            rquickjs::qjs::JS_UNDEFINED,
            count,
            args.as_mut_ptr(),
        )
    }
}

/// A new `Uint8Array` of `bytes`, in a context that may not have the typed arrays yet.
pub(crate) fn new_bytes<'js>(
    ctx: &Ctx<'js>,
    weak: &Weak<Inner>,
    bytes: Vec<u8>,
) -> rquickjs::Result<TypedArray<'js, u8>> {
    live_inner(ctx, weak)?.typed_arrays(ctx)?;
    TypedArray::new(ctx.clone(), bytes)
}

/// Builds the host object for one isolate.
pub(crate) fn install<'js>(ctx: &Ctx<'js>, weak: Weak<Inner>) -> rquickjs::Result<Object<'js>> {
    let host = Object::new(ctx.clone())?;
    let set = |name: &str, f: Function<'js>| -> rquickjs::Result<()> {
        f.set_name(name)?;
        host.set(name, f)
    };

    // log(level, message): a line from console.* or an uncaught error.
    let w = weak.clone();
    set(
        "log",
        Function::new(ctx.clone(), move |level: String, message: String| {
            if let Some(inner) = w.upgrade() {
                let level = match level.as_str() {
                    "debug" => LogLevel::Debug,
                    "warn" => LogLevel::Warn,
                    "error" => LogLevel::Error,
                    _ => LogLevel::Info,
                };
                (inner.log.borrow())(level, &message);
            }
        })?,
    )?;

    // loadChunk(name) -> extend(coreBindings, dependencyExports): a chunk of the Web layer
    // (js/29_extension.js).
    let w = weak.clone();
    set(
        "loadChunk",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, name: String| {
            let extend = crate::bootstrap::load_chunk(&ctx, &name)?;
            if let Some(inner) = w.upgrade() {
                let mut loaded = inner.layer_chunks.borrow_mut();
                // Loaded again only when its first `extend` threw.
                if !loaded.contains(&name) {
                    loaded.push(name);
                }
            }
            Ok::<_, rquickjs::Error>(extend)
        })?,
    )?;

    // addDate() -> Date: adds the Date built-in to the context, which starts without it (5 KB
    // and 45 names in every isolate that never uses it), and returns its constructor, read from
    // the new prototype, which no code has seen yet. The layer calls it once (js/02_util.js).
    set(
        "addDate",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>| -> rquickjs::Result<Value<'js>> {
                // SAFETY: `ctx` is this context, entered.
                if unsafe { rquickjs::qjs::JS_AddIntrinsicDate(ctx.as_raw().as_ptr()) } < 0 {
                    return Err(rquickjs::Error::Exception);
                }
                date_prototype(&ctx)?
                    .ok_or_else(|| Exception::throw_internal(&ctx, "a Date without a prototype"))?
                    .get("constructor")
            },
        )?,
    )?;

    // addTypedArrays(names) -> { ArrayBuffer, ..., DataView }: adds the typed arrays to the context,
    // which starts without them (17.6 KB and 55 names in every isolate that never uses them).
    // The layer calls it once (`addTypedArrayBuiltins` in js/buffers, on the first use of
    // typedArrays() in js/02_util.js), also for the host (see `Inner::typed_arrays`).
    let w = weak.clone();
    set(
        "addTypedArrays",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, names: Vec<String>| {
            add_typed_arrays(&ctx, &*live_inner(&ctx, &w)?, &names)
        })?,
    )?;

    // lazyAccessor(name, getValue, access) -> the getter and setter of the global `name`, which
    // calls `access(name, getValue)` or `access(name, getValue, value)`: a function the engine
    // makes with the three values as its data, about 60 bytes smaller than a closure over `name`
    // and `getValue` (4 KiB of every isolate, which has some seventy globals made on first use;
    // js/02_util.js).
    set(
        "lazyAccessor",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>,
             name: rquickjs::String<'js>,
             get_value: Value<'js>,
             access: Function<'js>|
             -> rquickjs::Result<Value<'js>> {
                let c_name = std::ffi::CString::new(name.to_string()?)
                    .map_err(|_| Exception::throw_type(&ctx, "a global name with a NUL"))?;
                let mut data = [access.as_raw(), name.as_raw(), get_value.as_raw()];
                // SAFETY: `ctx` is entered; the function takes its own references to the values
                // of `data`, which live until the end of this call; the result is owned (or an
                // exception).
                unsafe {
                    let accessor = rquickjs::qjs::JS_NewCFunctionData2(
                        ctx.as_raw().as_ptr(),
                        Some(lazy_global_accessor),
                        c_name.as_ptr(),
                        0,
                        0,
                        3,
                        data.as_mut_ptr(),
                    );
                    if rquickjs::qjs::JS_IsException(accessor) {
                        return Err(rquickjs::Error::Exception);
                    }
                    Ok(Value::from_raw(ctx, accessor))
                }
            },
        )?,
    )?;

    // now() -> milliseconds since the isolate's time origin (monotonic).
    let w = weak.clone();
    set(
        "now",
        Function::new(ctx.clone(), move || {
            w.upgrade().map_or(0.0, |inner| {
                inner.time_origin.get().elapsed().as_secs_f64() * 1000.0
            })
        })?,
    )?;

    // timeOrigin() -> the time origin in milliseconds since the Unix epoch.
    let w = weak.clone();
    set(
        "timeOrigin",
        Function::new(ctx.clone(), move || {
            w.upgrade()
                .map_or(0.0, |inner| inner.time_origin_unix_ms.get())
        })?,
    )?;

    // timerStart(id, delayMs): fire internal.fireTimer(id) after the delay.
    let w = weak.clone();
    set(
        "timerStart",
        Function::new(ctx.clone(), move |id: u32, delay_ms: f64| {
            let Some(inner) = w.upgrade() else { return };
            let delay = Duration::from_secs_f64(delay_ms.max(0.0) / 1000.0);
            let task_weak = w.clone();
            let task = tokio::task::spawn_local(async move {
                tokio::time::sleep(delay).await;
                if let Some(inner) = task_weak.upgrade() {
                    inner.state.borrow_mut().timers.remove(&id);
                    inner.fire_timer(id);
                }
            });
            if let Some(old) = inner
                .state
                .borrow_mut()
                .timers
                .insert(id, task.abort_handle())
            {
                old.abort();
            }
        })?,
    )?;

    // timerCancel(id)
    let w = weak.clone();
    set(
        "timerCancel",
        Function::new(ctx.clone(), move |id: u32| {
            if let Some(inner) = w.upgrade()
                && let Some(timer) = inner.state.borrow_mut().timers.remove(&id)
            {
                timer.abort();
            }
        })?,
    )?;

    // randomFill(u8): fill a Uint8Array with bytes from the OS CSPRNG.
    set(
        "randomFill",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, array: TypedArray<'js, u8>| {
            let Some(raw) = array.as_raw() else {
                return Err(Exception::throw_type(
                    &ctx,
                    "the array's buffer is detached",
                ));
            };
            // SAFETY: no JavaScript runs while the slice is alive, and the typed array keeps
            // its buffer alive for the duration of this call.
            let bytes = unsafe { &mut *raw.as_ptr() };
            getrandom::fill(bytes)
                .map_err(|e| Exception::throw_internal(&ctx, &format!("no randomness: {e}")))
        })?,
    )?;

    // randomUUID() -> a version 4 UUID.
    set(
        "randomUUID",
        Function::new(ctx.clone(), || uuid::Uuid::new_v4().to_string())?,
    )?;

    // keepAlive(delta): a promise given to waitUntil started (+1) or settled (-1).
    let w = weak.clone();
    set(
        "keepAlive",
        Function::new(ctx.clone(), move |delta: i32| {
            if let Some(inner) = w.upgrade() {
                let pending = inner.background.get().saturating_add_signed(delta as isize);
                inner.background.set(pending);
                if pending == 0 {
                    inner.background_settled.notify_waiters();
                }
            }
        })?,
    )?;

    // inboxNext(opId): complete(opId, the next message (JSON text) | null once closed).
    let w = weak.clone();
    set(
        "inboxNext",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, op_id: u32| {
            let Some(inner) = w.upgrade() else {
                return Ok(());
            };
            let Some(mut inbox) = inner.inbox.borrow_mut().take() else {
                return Err(Exception::throw_type(
                    &ctx,
                    "no inbox, or a read of it is already in flight",
                ));
            };
            let task_weak = w.clone();
            tokio::task::spawn_local(async move {
                let message = inbox.recv().await;
                if let Some(inner) = task_weak.upgrade() {
                    *inner.inbox.borrow_mut() = Some(inbox);
                    inner.complete(op_id, message, None);
                }
            });
            Ok(())
        })?,
    )?;

    install_encoding(ctx, &host, &weak)?;
    crate::host_user_workers::install(ctx, &host, &weak)?;
    crate::host_fetch::install(ctx, &host, &weak)?;
    crate::host_urlpattern::install(ctx, &host)?;
    crate::host_compression::install(ctx, &host, &weak)?;
    crate::host_crypto::install(ctx, &host, &weak)?;
    crate::host_encoding::install(ctx, &host, &weak)?;
    install_url(ctx, &host)?;
    install_bodies(ctx, &host, &weak)?;
    install_responses(ctx, &host, &weak)?;

    #[cfg(feature = "panic-hook")]
    ctx.globals().set(
        "__edgefnTestPanic",
        Function::new(ctx.clone(), || -> () {
            panic!("panic requested by a test")
        })?,
    )?;

    Ok(host)
}

// === encoding ===

fn install_encoding<'js>(
    ctx: &Ctx<'js>,
    host: &Object<'js>,
    weak: &Weak<Inner>,
) -> rquickjs::Result<()> {
    // utf8Encode(string) -> Uint8Array
    let w = weak.clone();
    host.set(
        "utf8Encode",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, text: rquickjs::String<'js>| {
                let text = js_string_lossy(&text)?;
                new_bytes(&ctx, &w, text.into_bytes())
            },
        )?,
    )?;

    // utf8EncodeInto(string, u8) -> [read (UTF-16 units), written (bytes)]
    host.set(
        "utf8EncodeInto",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, text: rquickjs::String<'js>, array: TypedArray<'js, u8>| {
                let text = js_string_lossy(&text)?;
                let Some(raw) = array.as_raw() else {
                    return Err(Exception::throw_type(
                        &ctx,
                        "the array's buffer is detached",
                    ));
                };
                // SAFETY: as in randomFill, no JavaScript runs while the slice is alive.
                let dest = unsafe { &mut *raw.as_ptr() };
                let (mut read, mut written) = (0usize, 0usize);
                for ch in text.chars() {
                    let len = ch.len_utf8();
                    if written + len > dest.len() {
                        break;
                    }
                    ch.encode_utf8(&mut dest[written..written + len]);
                    written += len;
                    read += ch.len_utf16();
                }
                Ok(vec![read, written])
            },
        )?,
    )?;

    // utf8Decode(u8, fatal) -> string; no BOM handling here.
    host.set(
        "utf8Decode",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, array: TypedArray<'js, u8>, fatal: Opt<bool>| {
                // SAFETY: the slice is only read before any JavaScript runs again.
                let bytes = unsafe { array.as_slice() };
                match std::str::from_utf8(bytes) {
                    Ok(text) => rquickjs::String::from_str(ctx, text),
                    Err(_) if fatal.0.unwrap_or(false) => Err(Exception::throw_type(
                        &ctx,
                        "The encoded data was not valid for encoding utf-8",
                    )),
                    Err(_) => rquickjs::String::from_str(ctx, &String::from_utf8_lossy(bytes)),
                }
            },
        )?,
    )?;
    Ok(())
}

/// A JavaScript string as UTF-8, lone surrogates replaced by U+FFFD (as TextEncoder requires).
fn js_string_lossy(text: &rquickjs::String<'_>) -> rquickjs::Result<String> {
    text.to_string()
}

// === url ===

/// The components of a URL in the order `urlParse` and `urlSet` return them.
fn url_parts(url: &url::Url) -> Vec<String> {
    use url::quirks;
    vec![
        quirks::href(url).to_owned(),
        quirks::origin(url),
        quirks::protocol(url).to_owned(),
        quirks::username(url).to_owned(),
        quirks::password(url).to_owned(),
        quirks::host(url).to_owned(),
        quirks::hostname(url).to_owned(),
        quirks::port(url).to_owned(),
        quirks::pathname(url).to_owned(),
        quirks::search(url).to_owned(),
        quirks::hash(url).to_owned(),
    ]
}

fn install_url<'js>(ctx: &Ctx<'js>, host: &Object<'js>) -> rquickjs::Result<()> {
    // urlParse(input, base?) -> parts | null  (WHATWG URL §4.4 basic URL parser, via `url`)
    host.set(
        "urlParse",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, input: String, base: Opt<Option<String>>| {
                let parsed = match base.0.flatten() {
                    Some(base) => url::Url::parse(&base)
                        .ok()
                        .and_then(|base| base.join(&input).ok()),
                    None => url::Url::parse(&input).ok(),
                };
                or_null(&ctx, parsed.map(|url| url_parts(&url)))
            },
        )?,
    )?;

    // urlSet(href, name, value) -> parts | null  (WHATWG URL §6.1 setters)
    host.set(
        "urlSet",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, href: String, name: String, value: String| {
                use url::quirks;
                let Ok(mut url) = url::Url::parse(&href) else {
                    return or_null(&ctx, None::<Vec<String>>);
                };
                match name.as_str() {
                    "href" => {
                        if quirks::set_href(&mut url, &value).is_err() {
                            return or_null(&ctx, None::<Vec<String>>);
                        }
                    }
                    "protocol" => {
                        let _ = quirks::set_protocol(&mut url, &value);
                    }
                    "username" => {
                        let _ = quirks::set_username(&mut url, &value);
                    }
                    "password" => {
                        let _ = quirks::set_password(&mut url, &value);
                    }
                    "host" => {
                        let _ = quirks::set_host(&mut url, &value);
                    }
                    "hostname" => {
                        let _ = quirks::set_hostname(&mut url, &value);
                    }
                    "port" => {
                        let _ = quirks::set_port(&mut url, &value);
                    }
                    "pathname" => quirks::set_pathname(&mut url, &value),
                    "search" => quirks::set_search(&mut url, &value),
                    "hash" => quirks::set_hash(&mut url, &value),
                    other => {
                        return Err(Exception::throw_type(
                            &ctx,
                            &format!("unknown URL component {other}"),
                        ));
                    }
                }
                or_null(&ctx, Some(url_parts(&url)))
            },
        )?,
    )?;

    // formParse(string) -> [name, value, ...]  (application/x-www-form-urlencoded parser)
    host.set(
        "formParse",
        Function::new(ctx.clone(), |input: String| {
            form_urlencoded::parse(input.as_bytes())
                .flat_map(|(k, v)| [k.into_owned(), v.into_owned()])
                .collect::<Vec<_>>()
        })?,
    )?;

    // formSerialize([name, value, ...]) -> string
    host.set(
        "formSerialize",
        Function::new(ctx.clone(), |flat: Vec<String>| {
            let mut serializer = form_urlencoded::Serializer::new(String::new());
            for pair in flat.chunks(2) {
                serializer.append_pair(&pair[0], pair.get(1).map_or("", String::as_str));
            }
            serializer.finish()
        })?,
    )?;
    Ok(())
}

// === request bodies ===

fn install_bodies<'js>(
    ctx: &Ctx<'js>,
    host: &Object<'js>,
    weak: &Weak<Inner>,
) -> rquickjs::Result<()> {
    // bodyRead(bodyId, opId): complete(opId, Uint8Array | null at the end, error?)
    let w = weak.clone();
    host.set(
        "bodyRead",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, body_id: u32, op_id: u32| {
                let Some(inner) = w.upgrade() else {
                    return Ok(());
                };
                let mut state = inner.state.borrow_mut();
                let stream = match state.bodies.remove(&body_id) {
                    Some(BodySlot::Idle(stream)) => stream,
                    Some(reading @ BodySlot::Reading(_)) => {
                        state.bodies.insert(body_id, reading);
                        return Err(Exception::throw_type(
                            &ctx,
                            "a read of this body is in flight",
                        ));
                    }
                    None => return Err(Exception::throw_type(&ctx, "the body is gone")),
                };
                let task_weak = w.clone();
                let task = tokio::task::spawn_local(async move {
                    let mut stream = stream;
                    let item = stream.next().await;
                    let Some(inner) = task_weak.upgrade() else {
                        return;
                    };
                    match item {
                        Some(Ok(chunk)) => {
                            inner
                                .state
                                .borrow_mut()
                                .bodies
                                .insert(body_id, BodySlot::Idle(stream));
                            inner.complete_chunk(op_id, Some(chunk));
                        }
                        None => {
                            inner.state.borrow_mut().bodies.remove(&body_id);
                            inner.complete_chunk(op_id, None);
                        }
                        Some(Err(error)) => {
                            inner.state.borrow_mut().bodies.remove(&body_id);
                            inner.complete(op_id, rquickjs::Undefined, Some(error.0));
                        }
                    }
                });
                state
                    .bodies
                    .insert(body_id, BodySlot::Reading(task.abort_handle()));
                Ok(())
            },
        )?,
    )?;

    // bodyCancel(bodyId): drop the body (and any read in flight).
    let w = weak.clone();
    host.set(
        "bodyCancel",
        Function::new(ctx.clone(), move |body_id: u32| {
            if let Some(inner) = w.upgrade() {
                inner.state.borrow_mut().drop_body(body_id);
            }
        })?,
    )?;
    Ok(())
}

// === responses ===

fn install_responses<'js>(
    ctx: &Ctx<'js>,
    host: &Object<'js>,
    weak: &Weak<Inner>,
) -> rquickjs::Result<()> {
    // headerCheck(name, value) -> 0 when `name` is a lowercase header name and `value` a
    // normalized header value; else HEADER_UPPERCASE | HEADER_UNTRIMMED (what the Web layer
    // must still do to them), or HEADER_BAD_NAME / HEADER_BAD_VALUE.
    host.set(
        "headerCheck",
        Function::new(
            ctx.clone(),
            |name: rquickjs::String<'js>, value: rquickjs::String<'js>| {
                // Read in place (no Rust copy: this runs for every header a function sets). A
                // string that is not valid UTF-16 (a lone surrogate, which the engine's UTF-8
                // keeps) has a code point above U+00FF, so it is no ByteString either.
                let (Ok(name), Ok(value)) = (name.to_cstring(), value.to_cstring()) else {
                    return HEADER_BAD_NAME;
                };
                let Ok(name) = std::str::from_utf8(name.as_ref()) else {
                    return HEADER_BAD_NAME;
                };
                let Ok(value) = std::str::from_utf8(value.as_ref()) else {
                    return HEADER_BAD_VALUE;
                };
                header_check(name, value)
            },
        )?,
    )?;

    // respond(requestId, status, statusText, [name, value, ...], body) -> streamId | undefined
    // body: null (none), string (UTF-8), Uint8Array, or true (streamed: returns a stream id).
    let w = weak.clone();
    host.set(
        "respond",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  request_id: u32,
                  status: u16,
                  status_text: String,
                  headers: Vec<String>,
                  body: Value<'js>|
                  -> rquickjs::Result<Option<u32>> {
                let Some(inner) = w.upgrade() else {
                    return Ok(None);
                };
                let head = response_head(status, &status_text, &headers);
                let (status, status_text, headers) = match head {
                    Ok(head) => head,
                    Err(message) => {
                        inner.answer(request_id, Err(HandlerError::InvalidResponse(message)));
                        return Ok(None);
                    }
                };
                let mut stream_id = None;
                let body = if body.is_null() || body.is_undefined() {
                    ResponseBody::Empty
                } else if let Some(text) = body.as_string() {
                    ResponseBody::Full(utf8_bytes(text.clone())?)
                } else if body.as_bool() == Some(true) {
                    let (sender, rx) = mpsc::channel(STREAM_CHANNEL_CHUNKS);
                    let mut state = inner.state.borrow_mut();
                    let id = state.next_id();
                    let request_body = state.request_bodies.remove(&request_id);
                    state.streams.insert(
                        id,
                        StreamSlot {
                            sender,
                            request_body,
                        },
                    );
                    stream_id = Some(id);
                    ResponseBody::Stream(rx)
                } else {
                    ResponseBody::Full(copy_bytes(&ctx, body)?)
                };
                inner.answer(
                    request_id,
                    Ok(OutgoingResponse {
                        status,
                        status_text,
                        headers,
                        body,
                    }),
                );
                Ok(stream_id)
            },
        )?,
    )?;

    // respondError(requestId, kind, message, stack?)
    let w = weak.clone();
    host.set(
        "respondError",
        Function::new(
            ctx.clone(),
            move |request_id: u32, kind: String, message: String, stack: Opt<Option<String>>| {
                let Some(inner) = w.upgrade() else { return };
                let error = match kind.as_str() {
                    "InvalidResponse" => HandlerError::InvalidResponse(message),
                    _ => HandlerError::Uncaught {
                        message,
                        stack: stack.0.flatten(),
                    },
                };
                inner.answer(request_id, Err(error));
            },
        )?,
    )?;

    // streamWrite(streamId, u8) -> 0 taken, 1 full (retry after streamWait), 2 client gone
    let w = weak.clone();
    host.set(
        "streamWrite",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, stream_id: u32, chunk: Value<'js>| -> rquickjs::Result<u8> {
                let Some(inner) = w.upgrade() else {
                    return Ok(2);
                };
                let mut state = inner.state.borrow_mut();
                let reserved = match state.streams.get(&stream_id) {
                    None => return Ok(2),
                    Some(slot) => match slot.sender.try_reserve() {
                        Ok(permit) => {
                            permit.send(Ok(copy_bytes(&ctx, chunk)?));
                            Ok(())
                        }
                        Err(error) => Err(error),
                    },
                };
                match reserved {
                    Ok(()) => Ok(0),
                    Err(mpsc::error::TrySendError::Full(())) => Ok(1),
                    Err(mpsc::error::TrySendError::Closed(())) => {
                        state.end_stream(stream_id);
                        Ok(2)
                    }
                }
            },
        )?,
    )?;

    // streamWait(streamId, opId): complete(opId, true) when there is room, false if gone.
    let w = weak.clone();
    host.set(
        "streamWait",
        Function::new(ctx.clone(), move |stream_id: u32, op_id: u32| {
            let Some(inner) = w.upgrade() else { return };
            let sender = inner
                .state
                .borrow()
                .streams
                .get(&stream_id)
                .map(|slot| slot.sender.clone());
            let task_weak = w.clone();
            tokio::task::spawn_local(async move {
                let room = match sender {
                    Some(sender) => sender.reserve().await.is_ok(),
                    None => false,
                };
                if let Some(inner) = task_weak.upgrade() {
                    inner.complete(op_id, room, None);
                }
            });
        })?,
    )?;

    // streamClose(streamId): the body ends normally.
    let w = weak.clone();
    host.set(
        "streamClose",
        Function::new(ctx.clone(), move |stream_id: u32| {
            if let Some(inner) = w.upgrade() {
                inner.state.borrow_mut().end_stream(stream_id);
            }
        })?,
    )?;

    // streamAbort(streamId, message): the body ends with an error; the client sees it cut short.
    let w = weak.clone();
    host.set(
        "streamAbort",
        Function::new(ctx.clone(), move |stream_id: u32, message: String| {
            let Some(inner) = w.upgrade() else { return };
            let slot = inner.state.borrow_mut().end_stream(stream_id);
            if let Some(slot) = slot {
                tokio::task::spawn_local(async move {
                    let _ = slot.sender.send(Err(BodyError(message))).await;
                });
            }
        })?,
    )?;
    Ok(())
}

/// `headerCheck`'s answers (see `js/08_headers.js`).
const HEADER_UPPERCASE: i32 = 1;
const HEADER_UNTRIMMED: i32 = 2;
const HEADER_BAD_NAME: i32 = -1;
const HEADER_BAD_VALUE: i32 = -2;

/// Fetch's checks of a header (name, value) pair, for the Web layer: the name must be an
/// HTTP token (RFC 9110 tchar), the value once stripped of leading and trailing HTTP
/// whitespace must hold no NUL, CR or LF and nothing above U+00FF (a ByteString).
fn header_check(name: &str, value: &str) -> i32 {
    let is_tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return HEADER_BAD_NAME;
    }
    let trimmed = value.trim_matches([' ', '\t', '\n', '\r']);
    if trimmed
        .chars()
        .any(|c| matches!(c, '\0' | '\r' | '\n') || u32::from(c) > 0xFF)
    {
        return HEADER_BAD_VALUE;
    }
    let mut check = 0;
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        check |= HEADER_UPPERCASE;
    }
    if trimmed.len() != value.len() {
        check |= HEADER_UNTRIMMED;
    }
    check
}

/// Validates the response head a handler produced.
fn response_head(
    status: u16,
    status_text: &str,
    flat: &[String],
) -> Result<(http::StatusCode, Option<String>, http::HeaderMap), String> {
    let status = http::StatusCode::from_u16(status)
        .map_err(|_| format!("invalid response status {status}"))?;
    let status_text = (!status_text.is_empty() && status.canonical_reason() != Some(status_text))
        .then(|| status_text.to_owned());
    Ok((status, status_text, header_map(flat)?))
}

/// Headers from the Web layer's flat `[name, value, ...]` list, validated again on this side
/// (tenant code may have defeated the checks in JavaScript).
pub(crate) fn header_map(flat: &[String]) -> Result<http::HeaderMap, String> {
    let mut headers = http::HeaderMap::with_capacity(flat.len() / 2);
    for pair in flat.chunks(2) {
        let name = http::HeaderName::from_bytes(pair[0].as_bytes())
            .map_err(|_| format!("invalid header name {:?}", pair[0]))?;
        let raw = pair.get(1).map_or("", String::as_str);
        // Isomorphic encode (WHATWG Infra): each code point below 256 is one byte; ASCII, the
        // usual value, is already those bytes.
        let value = if raw.is_ascii() {
            http::HeaderValue::from_str(raw)
        } else {
            let bytes: Vec<u8> = raw
                .chars()
                .map(|c| u8::try_from(u32::from(c)))
                .collect::<Result<_, _>>()
                .map_err(|_| format!("header {name} has a character above U+00FF"))?;
            http::HeaderValue::from_bytes(&bytes)
        }
        .map_err(|_| format!("invalid value for header {name}"))?;
        headers.append(name, value);
    }
    Ok(headers)
}

/// `value` as JavaScript, or `null` (rquickjs turns `None` into `undefined`; the host contract
/// says `null`).
fn or_null<'js, T: rquickjs::IntoJs<'js>>(
    ctx: &Ctx<'js>,
    value: Option<T>,
) -> rquickjs::Result<Value<'js>> {
    match value {
        Some(value) => value.into_js(ctx),
        None => Ok(Value::new_null(ctx.clone())),
    }
}

/// Copies the bytes of a Uint8Array, or any ArrayBuffer view the Web layer hands over.
/// The isolate behind a host function, or a TypeError when it is gone (a host function
/// called while its isolate is being dropped).
pub(crate) fn live_inner(ctx: &Ctx<'_>, weak: &Weak<Inner>) -> rquickjs::Result<Rc<Inner>> {
    weak.upgrade()
        .ok_or_else(|| Exception::throw_type(ctx, "the isolate is gone"))
}

/// The UTF-8 bytes of a string, copied once (not through a Rust `String`); a string with a lone
/// surrogate is an error, as in `rquickjs::String::to_string`.
fn utf8_bytes(text: rquickjs::String<'_>) -> rquickjs::Result<Bytes> {
    let text = text.to_cstring()?;
    let bytes: &[u8] = text.as_ref();
    std::str::from_utf8(bytes)?;
    Ok(Bytes::copy_from_slice(bytes))
}

pub(crate) fn copy_bytes<'js>(ctx: &Ctx<'js>, value: Value<'js>) -> rquickjs::Result<Bytes> {
    let array = TypedArray::<u8>::from_value(value)
        .map_err(|_| Exception::throw_type(ctx, "expected a Uint8Array"))?;
    // SAFETY: the slice is copied out before any JavaScript runs again.
    Ok(Bytes::copy_from_slice(unsafe { array.as_slice() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_check_answers_what_is_left_to_do_or_what_is_invalid() {
        assert_eq!(header_check("content-type", "text/plain"), 0);
        assert_eq!(header_check("x-!#$%&'*+-.^_`|~9", "v"), 0);
        assert_eq!(header_check("Content-Type", "v"), HEADER_UPPERCASE);
        assert_eq!(header_check("a", " \t v \r\n"), HEADER_UNTRIMMED);
        assert_eq!(header_check("A", " v"), HEADER_UPPERCASE | HEADER_UNTRIMMED);
        assert_eq!(header_check("a", ""), 0);
        assert_eq!(header_check("a", "caf\u{e9} \u{ff}"), 0);
        for name in ["", "bad name", "a:b", "caf\u{e9}", "a\r", "(x)"] {
            assert_eq!(header_check(name, "v"), HEADER_BAD_NAME, "{name:?}");
        }
        for value in ["a\nb", "a\rb", "nul\0", "\u{100}", "snow\u{2603}"] {
            assert_eq!(header_check("a", value), HEADER_BAD_VALUE, "{value:?}");
        }
        // A bad name is reported before a bad value.
        assert_eq!(header_check("bad name", "a\nb"), HEADER_BAD_NAME);
    }
}
