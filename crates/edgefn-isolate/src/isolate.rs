//! One isolate: a QuickJS runtime with one context, the Web platform loaded into it, one
//! function's module graph, and the host state behind its asynchronous operations.
//!
//! An isolate is `!Send`: it lives on the thread that created it, inside a tokio `LocalSet`,
//! where its timers and body reads run as local tasks. Every entry into JavaScript goes through
//! [`Inner::enter`], which meters CPU time, contains Rust panics, runs the microtask queue to
//! exhaustion, and stops the isolate when a limit was crossed (see `meter.rs`).

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::rc::{Rc, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rquickjs::context::intrinsic;
use rquickjs::function::Opt;
use rquickjs::promise::PromiseState;
use rquickjs::{
    CatchResultExt, CaughtError, Context, Ctx, Function, IntoJs, Object, Persistent, Runtime, Value,
};
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;

use crate::host_fetch::FetchClient;
use crate::meter::{CountingAllocator, Meter, Stop};
use crate::module_cache::{DeclareError, ModuleCache};
use crate::types::{BodyError, BodyStream, BootError, ClientGone, HandlerError, IncomingRequest};
use crate::types::{OutgoingResponse, ResponseBody};
use crate::user_workers::UserWorkers;
use crate::{bootstrap, host, modules, panic_guard};

/// Severity of a line a function logs through `console`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    /// `console.debug`, `console.trace`.
    Debug,
    /// `console.log`, `console.info` and the other informational methods.
    Info,
    /// `console.warn`.
    Warn,
    /// `console.error`, failed `console.assert`, uncaught errors.
    Error,
}

/// Receives every line an isolate logs; the owner tags it with whatever identifies the isolate.
pub type LogSink = Rc<dyn Fn(LogLevel, &str)>;

/// How to build an isolate.
pub struct IsolateOptions {
    /// The heap limit of the runtime in bytes; `0` means no limit.
    pub memory_limit_bytes: usize,
    /// CPU time the isolate may use in total before it is stopped, even inside a synchronous
    /// loop; `None` means no limit.
    pub cpu_time_limit: Option<Duration>,
    /// The function's environment variables (`Deno.env`, the `env` argument of `fetch`).
    pub env: BTreeMap<String, String>,
    /// `navigator.userAgent`.
    pub user_agent: String,
    /// Where `console.*` and uncaught errors go.
    pub log: LogSink,
    /// Messages (JSON text) for a service isolate: when given, `new EventManager()` is an
    /// async iterable of the parsed messages.
    pub inbox: Option<mpsc::Receiver<String>>,
    /// For a main service: the capability behind `EdgeRuntime.userWorkers`.
    pub user_workers: Option<Rc<dyn UserWorkers>>,
    /// Hosts `fetch()` may reach (`*.example.com` for subdomains); `None` allows all.
    pub allowed_hosts: Option<Vec<String>>,
    /// The clients `fetch()` goes through, shared by the isolates of a thread.
    pub fetch: FetchClient,
}

/// What makes a prepared isolate (see [`Isolate::prepare`]) a function's own.
pub struct TenantOptions {
    /// The heap limit of the runtime in bytes; `0` means no limit.
    pub memory_limit_bytes: usize,
    /// CPU time the isolate may use in total before it is stopped; `None` means no limit.
    pub cpu_time_limit: Option<Duration>,
    /// The function's environment variables (`Deno.env`, the `env` argument of `fetch`).
    pub env: BTreeMap<String, String>,
    /// Where `console.*` and uncaught errors go.
    pub log: LogSink,
    /// Hosts `fetch()` may reach (`*.example.com` for subdomains); `None` allows all.
    pub allowed_hosts: Option<Vec<String>>,
}

/// Result of a dispatched request, delivered when the handler answers.
pub type ResponseReceiver = oneshot::Receiver<Result<OutgoingResponse, HandlerError>>;
type ResponseSender = oneshot::Sender<Result<OutgoingResponse, HandlerError>>;

/// The engine's built-ins in every context: what `JS_NewContext` adds, without QuickJS's own
/// `atob`, `btoa`, `DOMException` and `performance`, which the Web layer replaces with its own
/// (about 2 KiB less heap per isolate), and without Date (5 KB) and the typed arrays (17.6 KB),
/// which the layer adds on first use (`addDate` and `addTypedArrays` in host.rs).
type Intrinsics = (
    intrinsic::Eval,
    intrinsic::RegExp,
    intrinsic::Json,
    intrinsic::Proxy,
    intrinsic::MapSet,
    intrinsic::Promise,
    intrinsic::WeakRef,
);

/// A JavaScript isolate serving one function. Cheap to clone (a reference count).
#[derive(Clone)]
pub struct Isolate {
    inner: Rc<Inner>,
}

/// The state shared by the isolate handle, its host functions and its local tasks.
///
/// Field order matters: persistent JS values must be dropped before the context and the
/// runtime that own them.
pub(crate) struct Inner {
    hooks: RefCell<Option<Hooks>>,
    /// Answers produced during the current entry into JavaScript, delivered when it ends
    /// (so that a stop during the entry can still turn them into `Terminated`).
    outbox: RefCell<Vec<(ResponseSender, Result<OutgoingResponse, HandlerError>)>>,
    rejections: RefCell<Vec<(Persistent<Value<'static>>, Persistent<Value<'static>>)>>,
    /// Rejected promises that got a handler after their rejection left `rejections` (for
    /// HTML's `rejectionhandled`; the Web layer knows which of them it reported).
    handled_later: RefCell<Vec<Persistent<Value<'static>>>>,
    /// The requests whose client may still go away, by request id.
    watched: RefCell<IdMap<Watched>>,
    context: Context,
    runtime: Runtime,
    pub(crate) state: RefCell<HostState>,
    pub(crate) log: RefCell<LogSink>,
    /// When the isolate was given to its function: `performance.now()` counts from here.
    pub(crate) time_origin: Cell<Instant>,
    /// The same instant in milliseconds since the Unix epoch (`performance.timeOrigin`).
    pub(crate) time_origin_unix_ms: Cell<f64>,
    meter: Rc<Meter>,
    stopped: Cell<Option<Stop>>,
    /// Whether the engine added the typed arrays to the context (see `addTypedArrays` in
    /// host.rs), and whether the layer has them too (see [`Inner::typed_arrays`]).
    pub(crate) typed_arrays_added: Cell<bool>,
    typed_arrays_ready: Cell<bool>,
    /// Promises given to `waitUntil` that have not settled yet.
    pub(crate) background: Cell<usize>,
    pub(crate) background_settled: tokio::sync::Notify,
    /// The service inbox; taken out while a read is in flight.
    pub(crate) inbox: RefCell<Option<mpsc::Receiver<String>>>,
    pub(crate) user_workers: Option<Rc<dyn UserWorkers>>,
    pub(crate) allowed_hosts: RefCell<Option<Vec<String>>>,
    pub(crate) fetch: FetchClient,
    /// The chunks of the Web layer loaded into this isolate, in load order.
    pub(crate) layer_chunks: RefCell<Vec<String>>,
}

/// A request whose client is watched (see [`Inner::watch_client`]).
struct Watched {
    /// The request's internal record in the Web layer, once `dispatch` returned it.
    record: Option<Persistent<Value<'static>>>,
    /// The client's end, until `dispatch` returns with the request still unanswered.
    client: Option<ClientGone>,
    /// Then the task waiting for it.
    task: Option<AbortHandle>,
}

/// The functions of the Web platform layer the host calls (see `js/99_internal.js`).
struct Hooks {
    prewarm: Persistent<Function<'static>>,
    resolve_handler: Persistent<Function<'static>>,
    dispatch: Persistent<Function<'static>>,
    complete: Persistent<Function<'static>>,
    fire_timer: Persistent<Function<'static>>,
    unhandled_rejection: Persistent<Function<'static>>,
    rejection_handled: Persistent<Function<'static>>,
    before_unload: Persistent<Function<'static>>,
    client_gone: Persistent<Function<'static>>,
    typed_arrays: Persistent<Function<'static>>,
    /// The `config` object the layer was initialised with; `env` is read from it lazily.
    config: Persistent<Object<'static>>,
}

/// A map keyed by the ids this host hands out (never by a value from outside), so with a plain
/// hasher, which also keeps each map 16 bytes smaller than with `RandomState`: an isolate's
/// `Inner` has nine. Its `remove` frees the table once the map is empty, so that a warm tenant
/// holds none between requests (0.35 KiB of each idle tenant); the rest is the `HashMap`'s.
pub(crate) struct IdMap<V>(HashMap<u32, V, rustc_hash::FxBuildHasher>);

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        IdMap(HashMap::default())
    }
}

impl<V> IdMap<V> {
    pub(crate) fn remove(&mut self, id: &u32) -> Option<V> {
        let value = self.0.remove(id);
        if self.0.is_empty() {
            self.0.shrink_to_fit();
        }
        value
    }
}

impl<V> std::ops::Deref for IdMap<V> {
    type Target = HashMap<u32, V, rustc_hash::FxBuildHasher>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<V> std::ops::DerefMut for IdMap<V> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

/// Host-side resources JavaScript refers to by number.
#[derive(Default)]
pub(crate) struct HostState {
    next_id: u32,
    pub(crate) requests: IdMap<ResponseSender>,
    pub(crate) bodies: IdMap<BodySlot>,
    /// The body of each request still waiting for its response.
    pub(crate) request_bodies: IdMap<u32>,
    pub(crate) streams: IdMap<StreamSlot>,
    pub(crate) timers: IdMap<AbortHandle>,
    /// Outgoing fetches whose response head has not arrived.
    pub(crate) fetches: IdMap<AbortHandle>,
    /// Compression streams' codecs.
    pub(crate) codecs: IdMap<crate::host_compression::Codec>,
    /// Text decoders in the middle of a streaming decode.
    pub(crate) decoders: IdMap<encoding_rs::Decoder>,
}

/// A body JavaScript streams to the host: a response body, with the request body it keeps
/// alive until it ends (a handler may echo the request body into the response), or the upload
/// of a `fetch()`.
pub(crate) struct StreamSlot {
    pub(crate) sender: mpsc::Sender<Result<Bytes, BodyError>>,
    pub(crate) request_body: Option<u32>,
}

/// A request body, idle or with a read in flight.
pub(crate) enum BodySlot {
    Idle(BodyStream),
    Reading(AbortHandle),
}

impl HostState {
    pub(crate) fn next_id(&mut self) -> u32 {
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.next_id
    }

    /// Drops a request body, cancelling a read in flight.
    pub(crate) fn drop_body(&mut self, body_id: u32) {
        if let Some(BodySlot::Reading(task)) = self.bodies.remove(&body_id) {
            task.abort();
        }
    }

    /// Cancels every timer and body read and fails every waiting request with `error()`.
    fn clear(&mut self, error: impl Fn() -> HandlerError) {
        for (_, timer) in self.timers.drain().chain(self.fetches.drain()) {
            timer.abort();
        }
        for (_, body) in self.bodies.drain() {
            if let BodySlot::Reading(task) = body {
                task.abort();
            }
        }
        for (_, sender) in self.requests.drain() {
            let _ = sender.send(Err(error()));
        }
        self.request_bodies.clear();
        self.streams.clear();
        self.codecs.clear();
        self.decoders.clear();
    }

    /// Ends a streamed response body and drops the request body it kept alive.
    pub(crate) fn end_stream(&mut self, stream_id: u32) -> Option<StreamSlot> {
        let slot = self.streams.remove(&stream_id)?;
        if let Some(body) = slot.request_body {
            self.drop_body(body);
        }
        Some(slot)
    }
}

/// Lets the tasks already queued on this thread run, then yields the core to the OS scheduler
/// once (the server thread just woken to write a response may be waiting for it).
async fn pause() {
    tokio::task::yield_now().await;
    std::thread::yield_now();
}

// === impl Isolate ===

impl Isolate {
    /// Creates a runtime and a context and loads the Web platform layer into it.
    ///
    /// Must be called inside a tokio `LocalSet`.
    pub fn new(options: IsolateOptions) -> Result<Isolate, BootError> {
        let isolate = Isolate::create(
            &options.user_agent,
            options.fetch,
            options.inbox,
            options.user_workers,
        )?;
        isolate.assign(TenantOptions {
            memory_limit_bytes: options.memory_limit_bytes,
            cpu_time_limit: options.cpu_time_limit,
            env: options.env,
            log: options.log,
            allowed_hosts: options.allowed_hosts,
        })?;
        Ok(isolate)
    }

    /// Creates an isolate with the Web platform layer loaded, and the classes every request
    /// uses created, but no function yet: no limits, no environment, and a log that goes
    /// nowhere. [`Isolate::assign`] makes it a
    /// function's own. A worker thread keeps a few of these ready, so that a new function
    /// does not wait for the layer to load.
    ///
    /// It takes over a millisecond of CPU, in four steps of at most about 0.6 ms: before each,
    /// the thread runs the tasks already queued on it and yields its core to the OS scheduler
    /// once, so that a request waiting on the same thread waits for one step, not for all.
    ///
    /// Must be called inside a tokio `LocalSet`.
    pub async fn prepare(user_agent: &str, fetch: FetchClient) -> Result<Isolate, BootError> {
        pause().await;
        let building = Building::start(fetch, None, None)?;
        pause().await;
        let layer = building.load_layer()?;
        pause().await;
        let isolate = building.finish(layer, user_agent)?;
        pause().await;
        let inner = &isolate.inner;
        inner
            .enter(|ctx| -> rquickjs::Result<()> {
                let prewarm = inner.hook(|h| &h.prewarm).restore(&ctx)?;
                prewarm.call(())
            })
            .map_err(|stopped| BootError::Engine(stopped.to_string()))?
            .map_err(|e| BootError::Engine(e.to_string()))?;
        inner.count_gc_from_now();
        Ok(isolate)
    }

    /// Gives the isolate to a function: its limits, environment and log. The CPU time spent so
    /// far (loading the layer) is not the function's, and `performance.now()` starts at zero.
    /// Call it once, before [`Isolate::boot`].
    pub fn assign(&self, tenant: TenantOptions) -> Result<(), BootError> {
        let inner = &self.inner;
        inner
            .meter
            .assign(tenant.cpu_time_limit, tenant.memory_limit_bytes);
        *inner.log.borrow_mut() = tenant.log;
        *inner.allowed_hosts.borrow_mut() = tenant.allowed_hosts;
        inner.time_origin.set(Instant::now());
        inner.time_origin_unix_ms.set(unix_ms_now());
        inner
            .context
            .with(|ctx| -> rquickjs::Result<()> {
                let env = Object::new(ctx.clone())?;
                for (key, value) in &tenant.env {
                    env.set(key.as_str(), value.as_str())?;
                }
                let config = inner.hook(|h| &h.config).restore(&ctx)?;
                config.set("env", env)
            })
            .map_err(|e| BootError::Engine(e.to_string()))
    }

    fn create(
        user_agent: &str,
        fetch: FetchClient,
        inbox: Option<mpsc::Receiver<String>>,
        user_workers: Option<Rc<dyn UserWorkers>>,
    ) -> Result<Isolate, BootError> {
        let building = Building::start(fetch, inbox, user_workers)?;
        let layer = building.load_layer()?;
        let isolate = building.finish(layer, user_agent)?;
        isolate.inner.count_gc_from_now();
        Ok(isolate)
    }
}

/// An isolate being made, in three steps (a prepared one pauses between them).
struct Building {
    inner: Rc<Inner>,
    has_inbox: bool,
}

/// The layer's `init` and the host object, between [`Building::load_layer`] and
/// [`Building::finish`].
type Layer = (Persistent<Function<'static>>, Persistent<Object<'static>>);

impl Building {
    /// Step 1: the runtime, the context and the isolate's state.
    fn start(
        fetch: FetchClient,
        inbox: Option<mpsc::Receiver<String>>,
        user_workers: Option<Rc<dyn UserWorkers>>,
    ) -> Result<Building, BootError> {
        let engine = |e: rquickjs::Error| BootError::Engine(e.to_string());
        let meter = Rc::new(Meter::default());
        let runtime =
            Runtime::new_with_alloc(CountingAllocator::new(meter.clone())).map_err(engine)?;
        runtime.set_max_stack_size(STACK_LIMIT_BYTES);
        // No collection while the isolate is built: building leaves next to no garbage (what
        // it drops, the layer's `init` included, is freed by its reference count), yet the
        // heap crosses the engine's default threshold, and each collection walks all of it
        // (7% of a prepare). `count_gc_from_now` sets the threshold once it is built.
        runtime.set_gc_threshold(usize::MAX);
        runtime.set_interrupt_handler(Some(Meter::interrupt_handler(&meter)));
        let context = Context::custom::<Intrinsics>(&runtime).map_err(engine)?;
        panic_guard::install();
        let silent: LogSink = Rc::new(|_, _| {});
        let inner = Rc::new(Inner {
            hooks: RefCell::new(None),
            outbox: RefCell::new(Vec::new()),
            rejections: RefCell::new(Vec::new()),
            handled_later: RefCell::new(Vec::new()),
            watched: RefCell::default(),
            context,
            runtime,
            state: RefCell::new(HostState::default()),
            log: RefCell::new(silent),
            time_origin: Cell::new(Instant::now()),
            time_origin_unix_ms: Cell::new(unix_ms_now()),
            meter,
            stopped: Cell::new(None),
            typed_arrays_added: Cell::new(false),
            typed_arrays_ready: Cell::new(false),
            background: Cell::new(0),
            background_settled: tokio::sync::Notify::new(),
            inbox: RefCell::new(None),
            user_workers,
            allowed_hosts: RefCell::new(None),
            fetch,
            layer_chunks: RefCell::default(),
        });
        let has_inbox = inbox.is_some();
        *inner.inbox.borrow_mut() = inbox;
        inner.install_rejection_tracker(Rc::downgrade(&inner));
        Ok(Building { inner, has_inbox })
    }

    /// Step 2: loads the layer's bytecode and the host object; returns the layer's `init` and
    /// the host object.
    fn load_layer(&self) -> Result<Layer, BootError> {
        let bytecode = bootstrap::bytecode().map_err(BootError::Engine)?;
        let weak = Rc::downgrade(&self.inner);
        self.inner.context.with(|ctx| -> Result<Layer, BootError> {
            let caught = |e: CaughtError<'_>| BootError::Engine(e.to_string());
            // SAFETY: `bootstrap::bytecode` returns what `bootstrap::compile_script` wrote in
            // this process.
            let init: Function = unsafe { bootstrap::load_script(&ctx, bytecode) }
                .catch(&ctx)
                .map_err(caught)?;
            let host = host::install(&ctx, weak).catch(&ctx).map_err(caught)?;
            Ok((Persistent::save(&ctx, init), Persistent::save(&ctx, host)))
        })
    }

    /// Step 3: runs the layer's `init` and keeps the hooks it returns.
    fn finish(self, (init, host): Layer, user_agent: &str) -> Result<Isolate, BootError> {
        let engine = |e: rquickjs::Error| BootError::Engine(e.to_string());
        let Building { inner, has_inbox } = self;
        let hooks = inner.context.with(|ctx| -> Result<Hooks, BootError> {
            let caught = |e: CaughtError<'_>| BootError::Engine(e.to_string());
            let init = init.restore(&ctx).map_err(engine)?;
            let host = host.restore(&ctx).map_err(engine)?;
            let config = Object::new(ctx.clone()).map_err(engine)?;
            config.set("userAgent", user_agent).map_err(engine)?;
            config.set("inbox", has_inbox).map_err(engine)?;
            config
                .set("userWorkers", inner.user_workers.is_some())
                .map_err(engine)?;
            let internal: Object = init
                .call((host, config.clone()))
                .catch(&ctx)
                .map_err(caught)?;
            let hook = |name: &str| -> Result<Persistent<Function<'static>>, BootError> {
                let f: Function = internal.get(name).catch(&ctx).map_err(caught)?;
                Ok(Persistent::save(&ctx, f))
            };
            Ok(Hooks {
                prewarm: hook("prewarm")?,
                resolve_handler: hook("resolveHandler")?,
                dispatch: hook("dispatch")?,
                complete: hook("complete")?,
                fire_timer: hook("fireTimer")?,
                unhandled_rejection: hook("unhandledRejection")?,
                rejection_handled: hook("rejectionHandled")?,
                before_unload: hook("beforeUnload")?,
                client_gone: hook("clientGone")?,
                typed_arrays: hook("typedArrays")?,
                config: Persistent::save(&ctx, config),
            })
        })?;
        *inner.hooks.borrow_mut() = Some(hooks);
        inner.drain_jobs();
        Ok(Isolate { inner })
    }
}

impl Isolate {
    /// Loads the function in `root` (its `index.ts`, `index.js` or `index.mjs` and what that
    /// imports), waits for top-level await, and finds the request handler.
    /// Modules come from `cache` when it holds their bytecode, and go into it once compiled.
    pub async fn boot(&self, root: &Path, cache: &ModuleCache) -> Result<(), BootError> {
        let inner = &self.inner;
        let (namespace, evaluated) = self.evaluate(root, cache)?;
        evaluated
            .await
            .map_err(|_| BootError::Engine("the isolate was dropped while booting".into()))??;
        let problem = inner
            .enter(|ctx| -> rquickjs::Result<Option<String>> {
                let resolve = inner.hook(|h| &h.resolve_handler).restore(&ctx)?;
                resolve.call((namespace.restore(&ctx)?,))
            })
            .map_err(|stopped| BootError::Engine(stopped.to_string()))?
            .map_err(|e| BootError::Engine(e.to_string()))?;
        match problem {
            None => Ok(()),
            Some(message) => Err(BootError::NoHandler(message)),
        }
    }

    /// Loads a service (a function that answers no requests, such as the event worker): its
    /// top-level code may run forever, so this returns once the module started evaluating. A
    /// later failure of the evaluation is logged.
    pub fn start_service(&self, root: &Path, cache: &ModuleCache) -> Result<(), BootError> {
        let (_, evaluated) = self.evaluate(root, cache)?;
        let log = self.inner.log.borrow().clone();
        tokio::task::spawn_local(async move {
            if let Ok(Err(error)) = evaluated.await {
                log(LogLevel::Error, &format!("the service stopped: {error}"));
            }
        });
        Ok(())
    }

    /// Declares and starts evaluating the entry module of `root`; the receiver resolves when
    /// its evaluation (top-level await included) settles.
    fn evaluate(&self, root: &Path, cache: &ModuleCache) -> Result<Evaluation, BootError> {
        let inner = &self.inner;
        let root = std::fs::canonicalize(root)
            .map_err(|e| BootError::Module(format!("cannot open {}: {e}", root.display())))?;
        let entry = modules::find_entry(&root).ok_or_else(|| {
            BootError::MissingEntry(
                modules::ENTRY_FILES
                    .iter()
                    .map(|name| root.join(name).display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        })?;
        inner.runtime.set_loader(
            modules::FolderResolver::new(root.clone()),
            modules::FolderLoader {
                cache: cache.clone(),
                ahead: false,
            },
        );
        let (done_tx, done_rx) = oneshot::channel::<Result<(), BootError>>();
        let namespace = inner
            .enter(|ctx| -> Result<Persistent<Object<'static>>, BootError> {
                let declared = match cache.declare(&ctx, &entry, false) {
                    Ok(declared) => declared,
                    Err(DeclareError::Source(message)) => return Err(BootError::Module(message)),
                    Err(DeclareError::Engine(error)) => {
                        let caught = Err::<(), _>(error).catch(&ctx).unwrap_err();
                        return Err(BootError::Module(describe_caught(caught).0));
                    }
                };
                let (module, promise) = declared
                    .eval()
                    .catch(&ctx)
                    .map_err(|e| module_error(describe_caught(e)))?;
                let namespace = module
                    .namespace()
                    .map_err(|e| BootError::Engine(e.to_string()))?;
                settle_into(&ctx, &promise, done_tx)
                    .map_err(|e| BootError::Engine(e.to_string()))?;
                Ok(Persistent::save(&ctx, namespace))
            })
            .map_err(|stopped| BootError::Engine(stopped.to_string()))??;
        Ok((namespace, done_rx))
    }

    /// Hands a request to the function's handler. The response (or the reason there is none)
    /// arrives on the returned receiver.
    pub fn dispatch(&self, request: IncomingRequest) -> ResponseReceiver {
        let (tx, rx) = oneshot::channel();
        let inner = &self.inner;
        if let Some(stop) = inner.stopped.get() {
            let _ = tx.send(Err(HandlerError::Terminated {
                stop,
                detail: "the isolate was stopped".into(),
            }));
            return rx;
        }
        let (request_id, body_id) = {
            let mut state = inner.state.borrow_mut();
            let request_id = state.next_id();
            state.requests.insert(request_id, tx);
            let body_id = match request.body {
                Some(body) => {
                    let id = state.next_id();
                    state.bodies.insert(id, BodySlot::Idle(body));
                    state.request_bodies.insert(request_id, id);
                    i64::from(id)
                }
                None => -1,
            };
            (request_id, body_id)
        };
        let headers = flatten_headers(&request.headers);
        let (remote_host, remote_port) = request
            .remote_addr
            .map(|addr| (remote_host_text(addr.ip()), addr.port()))
            .unwrap_or_default();
        // Kept from before the handler runs, which may answer at once (see `answer`); watched
        // only if it did not.
        if let Some(client) = request.client {
            let watched = Watched {
                record: None,
                client: Some(client),
                task: None,
            };
            inner.watched.borrow_mut().insert(request_id, watched);
        }
        let entered = inner.enter(|ctx| -> rquickjs::Result<()> {
            let dispatch = inner.hook(|h| &h.dispatch).restore(&ctx)?;
            let record: Value = dispatch.call((
                request_id,
                request.method.as_str(),
                request.url.as_str(),
                headers,
                body_id,
                remote_host,
                remote_port,
            ))?;
            if let Some(watched) = inner.watched.borrow_mut().get_mut(&request_id) {
                watched.record = Some(Persistent::save(&ctx, record));
            }
            Ok(())
        });
        inner.watch_client(request_id);
        // `dispatch` never throws by contract; if it did, the request must still be answered.
        if let Ok(Err(error)) = entered {
            inner.answer(
                request_id,
                Err(HandlerError::Uncaught {
                    message: error.to_string(),
                    stack: None,
                }),
            );
            inner.flush_outbox();
        }
        rx
    }

    /// Why the isolate was stopped, once it has been; it must then be discarded.
    pub fn stopped(&self) -> Option<Stop> {
        self.inner.stopped.get()
    }

    /// Stops the isolate: every request it is serving fails with [`HandlerError::Terminated`]
    /// and it accepts no new ones.
    pub fn stop(&self, stop: Stop, detail: &str) {
        self.inner.stop(stop, detail);
    }

    /// The chunks of the Web layer (`events`, `extension`, `url`, ...) whose code was loaded
    /// into this isolate so far, in load order: each is loaded on the first use of one of its
    /// names.
    pub fn layer_chunks(&self) -> Vec<String> {
        self.inner.layer_chunks.borrow().clone()
    }

    /// Bytes the runtime's allocator currently holds for this isolate (a counter, cheap).
    pub fn memory_used_bytes(&self) -> usize {
        self.inner.meter.memory_used.get()
    }

    /// What the engine's heap holds, by kind (QuickJS's own accounting; walks the heap, so
    /// meant for measurements, not for every request).
    pub fn heap_report(&self) -> String {
        let u = self.inner.runtime.memory_usage();
        let kib = |bytes: i64| bytes as f64 / 1024.0;
        format!(
            "heap {:.0} KiB in {} blocks: atoms {} ({:.0} KiB), strings {} ({:.0} KiB), \
             objects {} ({:.0} KiB), properties {} ({:.0} KiB), shapes {} ({:.0} KiB), \
             functions {} ({:.0} KiB, bytecode {:.0} KiB, line tables {:.0} KiB), \
             C functions {}, arrays {}",
            kib(u.malloc_size),
            u.malloc_count,
            u.atom_count,
            kib(u.atom_size),
            u.str_count,
            kib(u.str_size),
            u.obj_count,
            kib(u.obj_size),
            u.prop_count,
            kib(u.prop_size),
            u.shape_count,
            kib(u.shape_size),
            u.js_func_count,
            kib(u.js_func_size),
            kib(u.js_func_code_size),
            kib(u.js_func_pc2line_size),
            u.c_func_count,
            u.array_count,
        )
    }

    /// CPU time spent inside JavaScript so far.
    pub fn cpu_time(&self) -> Duration {
        self.inner.meter.cpu_used()
    }

    /// JavaScript still running at `deadline` is interrupted and the isolate stopped with
    /// [`Stop::WallClock`]; `None` removes the deadline.
    pub fn set_deadline(&self, deadline: Option<Instant>) {
        self.inner.meter.set_deadline(deadline);
    }

    /// Dispatches `beforeunload` on the global object, before a planned retirement.
    pub fn before_unload(&self) {
        let inner = &self.inner;
        let _ = inner.enter(|ctx| -> rquickjs::Result<()> {
            let hook = inner.hook(|h| &h.before_unload).restore(&ctx)?;
            hook.call(())
        });
    }

    /// Number of promises given to `waitUntil` that have not settled yet.
    pub fn background_work(&self) -> usize {
        self.inner.background.get()
    }

    /// Resolves once every promise given to `waitUntil` has settled (at once if none is
    /// pending, or when the isolate stops).
    pub async fn background_settled(&self) {
        loop {
            let settled = self.inner.background_settled.notified();
            if self.inner.background.get() == 0 || self.inner.stopped.get().is_some() {
                return;
            }
            settled.await;
        }
    }

    /// Number of requests dispatched and not yet answered.
    pub fn pending_requests(&self) -> usize {
        self.inner.state.borrow().requests.len()
    }
}

/// An entry module whose evaluation has started: its namespace, and a receiver that resolves
/// when the evaluation (top-level await included) settles.
type Evaluation = (
    Persistent<Object<'static>>,
    oneshot::Receiver<Result<(), BootError>>,
);

/// The wall clock in milliseconds since the Unix epoch.
fn unix_ms_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// Maximum native stack the engine may use, in bytes. Worker threads must have more.
pub const STACK_LIMIT_BYTES: usize = 1024 * 1024;

// === impl Inner ===

/// The isolate was stopped during (or before) an entry into JavaScript.
#[derive(Debug, thiserror::Error)]
#[error("the isolate was stopped ({0:?}): {1}")]
pub(crate) struct Stopped(Stop, String);

impl Inner {
    /// Counts the heap's next garbage collection from what it holds now, once the isolate is
    /// built (which leaves next to no garbage, and collects none: see `Building::start`). A
    /// threshold set before the build would otherwise often be crossed by the function's first
    /// request, which would then pay for a collection of the whole heap.
    fn count_gc_from_now(&self) {
        let held = self.meter.memory_used.get();
        self.runtime.set_gc_threshold(held + held / 2);
    }

    /// Runs `f` inside the context, then the microtask queue, metering CPU time.
    ///
    /// A panic is noticed even when rquickjs turned it into a JavaScript exception that the
    /// JavaScript side caught: the panic guard records every panic raised on this thread while
    /// it is inside an isolate. After a panic, or when a limit was crossed, the isolate is
    /// stopped, and every request it was serving, including one answered during this entry,
    /// fails with [`HandlerError::Terminated`].
    pub(crate) fn enter<R>(&self, f: impl for<'js> FnOnce(Ctx<'js>) -> R) -> Result<R, Stopped> {
        if let Some(stop) = self.stopped.get() {
            return Err(Stopped(stop, "the isolate was stopped".into()));
        }
        self.meter.begin_entry();
        let result = {
            let _inside = panic_guard::Inside::enter();
            std::panic::catch_unwind(AssertUnwindSafe(|| {
                let value = self.context.with(f);
                self.drain_jobs();
                value
            }))
        };
        self.meter.end_entry();
        let panicked = panic_guard::take().or_else(|| {
            result
                .as_ref()
                .err()
                .map(|payload| panic_message(payload.as_ref()))
        });
        let stop = match panicked {
            Some(message) => Some((Stop::Panic, message)),
            None => self
                .meter
                .check()
                .map(|stop| (stop, stop_detail(stop).to_owned())),
        };
        if let Some((stop, detail)) = stop {
            self.stop(stop, &detail);
            return Err(Stopped(stop, detail));
        }
        self.flush_outbox();
        result.map_err(|_| Stopped(Stop::Panic, "unreachable: panics are handled above".into()))
    }

    /// Delivers the answers produced during the last entry.
    fn flush_outbox(&self) {
        let answers = std::mem::take(&mut *self.outbox.borrow_mut());
        for (sender, result) in answers {
            let _ = sender.send(result);
        }
    }

    /// Adds the typed arrays to the context if it has none yet (it starts without them), through
    /// the layer, which keeps what the tenant put in their globals: the host calls it before it
    /// makes a `Uint8Array`.
    pub(crate) fn typed_arrays(&self, ctx: &Ctx<'_>) -> rquickjs::Result<()> {
        if !self.typed_arrays_ready.get() {
            let add = self
                .hooks
                .borrow()
                .as_ref()
                .map(|hooks| hooks.typed_arrays.clone())
                .ok_or_else(|| {
                    rquickjs::Exception::throw_internal(
                        ctx,
                        "bytes were made before the layer was loaded",
                    )
                })?;
            add.restore(ctx)?.call::<_, Value>(())?;
            self.typed_arrays_ready.set(true);
        }
        Ok(())
    }

    fn hook<T: Clone>(&self, pick: impl Fn(&Hooks) -> &T) -> T {
        pick(
            self.hooks
                .borrow()
                .as_ref()
                .expect("hooks are installed at creation"),
        )
        .clone()
    }

    /// Runs pending jobs (promise reactions) until none is left, then reports rejections that
    /// are still unhandled.
    fn drain_jobs(&self) {
        loop {
            match self.runtime.execute_pending_job() {
                Ok(true) => continue,
                Ok(false) => break,
                Err(job) => {
                    let message = job.0.with(|ctx| {
                        describe_caught(CaughtError::from_error(&ctx, rquickjs::Error::Exception)).0
                    });
                    (self.log.borrow())(LogLevel::Error, &format!("Uncaught {message}"));
                }
            }
        }
        self.report_unhandled_rejections();
    }

    fn install_rejection_tracker(&self, weak: Weak<Inner>) {
        self.runtime
            .set_host_promise_rejection_tracker(Some(Box::new(
                move |ctx, promise, reason, handled| {
                    let Some(inner) = weak.upgrade() else { return };
                    let mut rejections = inner.rejections.borrow_mut();
                    if handled {
                        let before = rejections.len();
                        rejections.retain(|(p, _)| {
                            p.clone()
                                .restore(&ctx)
                                .map(|p| p != promise)
                                .unwrap_or(false)
                        });
                        if rejections.len() == before {
                            inner
                                .handled_later
                                .borrow_mut()
                                .push(Persistent::save(&ctx, promise));
                        }
                    } else {
                        rejections.push((
                            Persistent::save(&ctx, promise),
                            Persistent::save(&ctx, reason),
                        ));
                    }
                },
            )));
    }

    /// Hands the Web layer, once the microtask queue is empty, every rejection that is still
    /// unhandled (it fires `unhandledrejection` and logs) and every reported one that got a
    /// handler since (it fires `rejectionhandled`): HTML §8.1.4.8 "notify about rejected
    /// promises" and the "handle" operation of HostPromiseRejectionTracker.
    fn report_unhandled_rejections(&self) {
        loop {
            let pending = std::mem::take(&mut *self.rejections.borrow_mut());
            let handled = std::mem::take(&mut *self.handled_later.borrow_mut());
            if pending.is_empty() && handled.is_empty() {
                return;
            }
            let report = self.hook(|h| &h.unhandled_rejection);
            let handled_hook = self.hook(|h| &h.rejection_handled);
            self.context.with(|ctx| {
                let (Ok(report), Ok(handled_hook)) =
                    (report.restore(&ctx), handled_hook.restore(&ctx))
                else {
                    return;
                };
                for promise in handled {
                    if let Ok(promise) = promise.restore(&ctx) {
                        let _ = handled_hook.call::<_, ()>((promise, true));
                    }
                }
                for (promise, reason) in pending {
                    let (Ok(promise), Ok(reason)) = (promise.restore(&ctx), reason.restore(&ctx))
                    else {
                        continue;
                    };
                    // Skip a promise an earlier report in this batch gave a handler.
                    if self.take_handled_later(&promise) {
                        continue;
                    }
                    let _ = report.call::<_, ()>((reason, promise.clone()));
                    // A handler added by an `unhandledrejection` listener: the promise is
                    // handled, not outstanding, so no `rejectionhandled` follows.
                    if self.take_handled_later(&promise) {
                        let _ = handled_hook.call::<_, ()>((promise, false));
                    }
                }
            });
            // Reporting may itself have queued jobs (it never should, but stay correct).
            while let Ok(true) = self.runtime.execute_pending_job() {}
        }
    }

    /// Removes `promise` from `handled_later`; whether it was there.
    fn take_handled_later(&self, promise: &Value<'_>) -> bool {
        let mut handled = self.handled_later.borrow_mut();
        let before = handled.len();
        handled.retain(|p| {
            p.clone()
                .restore(promise.ctx())
                .map(|p| p != *promise)
                .unwrap_or(false)
        });
        handled.len() != before
    }

    /// Aborts the signal of request `request_id` if its client goes away before the response
    /// is complete, unless the request was answered already or has no client to watch.
    fn watch_client(self: &Rc<Self>, request_id: u32) {
        let Some(client) = self
            .watched
            .borrow_mut()
            .get_mut(&request_id)
            .and_then(|watched| watched.client.take())
        else {
            return;
        };
        let weak = Rc::downgrade(self);
        let watch = tokio::task::spawn_local(async move {
            let gone = client.await.is_err();
            let Some(inner) = weak.upgrade() else {
                return;
            };
            let Some(Watched {
                record: Some(record),
                ..
            }) = inner.watched.borrow_mut().remove(&request_id)
            else {
                return;
            };
            if gone {
                let _ = inner.enter(|ctx| -> rquickjs::Result<()> {
                    let client_gone = inner.hook(|h| &h.client_gone).restore(&ctx)?;
                    client_gone.call((record.restore(&ctx)?,))
                });
            }
        });
        if let Some(watched) = self.watched.borrow_mut().get_mut(&request_id) {
            watched.task = Some(watch.abort_handle());
        }
    }

    /// Answers a dispatched request, if it is still waiting. Unless a streamed response took
    /// over the request body (see `respond`), the request body is dropped here.
    pub(crate) fn answer(&self, request_id: u32, result: Result<OutgoingResponse, HandlerError>) {
        // A response whose body is known in full (or a failure, which the server answers at
        // once) is complete once it leaves the isolate: stop watching its client now, on this
        // thread. Otherwise the server's "complete" signal would wake this thread only to end
        // the watch. A client that left just before, whose departure the watch has not run for
        // yet, is then not reported; nothing was left to abort but `waitUntil` work.
        let complete =
            !matches!(&result, Ok(response) if matches!(response.body, ResponseBody::Stream(_)));
        let watched = complete
            .then(|| self.watched.borrow_mut().remove(&request_id))
            .flatten();
        // A client not watched yet (an answer inside `dispatch`) is simply dropped.
        if let Some(task) = watched.and_then(|watched| watched.task) {
            task.abort();
        }
        let sender = {
            let mut state = self.state.borrow_mut();
            if let Some(body) = state.request_bodies.remove(&request_id) {
                state.drop_body(body);
            }
            state.requests.remove(&request_id)
        };
        if let Some(sender) = sender {
            self.outbox.borrow_mut().push((sender, result));
        }
    }

    /// Completes host operation `op_id` in JavaScript with a value or an error message.
    pub(crate) fn complete<V>(&self, op_id: u32, value: V, error: Option<String>)
    where
        V: for<'js> IntoJs<'js>,
    {
        let _ = self.enter(|ctx| -> rquickjs::Result<()> {
            let complete = self.hook(|h| &h.complete).restore(&ctx)?;
            complete.call((op_id, value, error))
        });
    }

    /// Like [`Inner::complete`] for a chunk of a request body, turned into a `Uint8Array`.
    pub(crate) fn complete_chunk(&self, op_id: u32, chunk: Option<Bytes>) {
        let _ = self.enter(|ctx| -> rquickjs::Result<()> {
            let complete = self.hook(|h| &h.complete).restore(&ctx)?;
            let value = match chunk {
                Some(bytes) => {
                    if let Err(error) = self.typed_arrays(&ctx) {
                        // The read fails with why (say, the tenant froze the global object).
                        let message = match CaughtError::from_error(&ctx, error) {
                            CaughtError::Exception(exception) => exception.message(),
                            other => Some(other.to_string()),
                        };
                        let message =
                            message.unwrap_or_else(|| "the body could not be read".into());
                        return complete.call((op_id, Value::new_undefined(ctx.clone()), message));
                    }
                    rquickjs::TypedArray::<u8>::new(ctx.clone(), bytes.to_vec())?.into_value()
                }
                None => Value::new_null(ctx.clone()),
            };
            complete.call((op_id, value, Opt::<String>(None)))
        });
    }

    pub(crate) fn fire_timer(&self, id: u32) {
        let _ = self.enter(|ctx| -> rquickjs::Result<()> {
            let fire = self.hook(|h| &h.fire_timer).restore(&ctx)?;
            fire.call((id,))
        });
    }

    /// Marks the isolate unusable and fails everything that waits on it, including answers
    /// produced during the current entry.
    pub(crate) fn stop(&self, stop: Stop, detail: &str) {
        if self.stopped.get().is_some() {
            return;
        }
        self.stopped.set(Some(stop));
        self.background_settled.notify_waiters();
        let error = || HandlerError::Terminated {
            stop,
            detail: detail.to_owned(),
        };
        for (sender, _) in self.outbox.borrow_mut().drain(..) {
            let _ = sender.send(Err(error()));
        }
        self.state.borrow_mut().clear(error);
    }
}

/// What a stop means, for logs and response bodies.
fn stop_detail(stop: Stop) -> &'static str {
    match stop {
        Stop::CpuTime => "the CPU time limit was reached",
        Stop::Memory => "the memory limit was reached",
        Stop::WallClock => "the wall-clock limit was reached",
        Stop::Panic => "a Rust panic happened inside the isolate",
        Stop::Owner => "the isolate was stopped by its owner",
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        for (sender, result) in self.outbox.get_mut().drain(..) {
            let _ = sender.send(result);
        }
        self.state.get_mut().clear(|| HandlerError::Dropped);
    }
}

// === helpers ===

/// Resolves `done` when `promise` settles: `Ok` when it fulfils, a boot error when it rejects.
fn settle_into<'js>(
    ctx: &Ctx<'js>,
    promise: &rquickjs::Promise<'js>,
    done: oneshot::Sender<Result<(), BootError>>,
) -> rquickjs::Result<()> {
    match promise.state() {
        PromiseState::Resolved => {
            let _ = done.send(Ok(()));
        }
        PromiseState::Rejected => {
            let reason: Value = promise
                .result::<Value>()
                .and_then(Result::err)
                .map_or_else(|| Value::new_undefined(ctx.clone()), |_| ctx.catch());
            let _ = done.send(Err(module_error(describe_value(ctx, reason))));
        }
        PromiseState::Pending => {
            let done = Rc::new(RefCell::new(Some(done)));
            let on_error = done.clone();
            let fulfilled = Function::new(ctx.clone(), move || {
                if let Some(done) = done.borrow_mut().take() {
                    let _ = done.send(Ok(()));
                }
            })?;
            let rejected = Function::new(ctx.clone(), move |ctx: Ctx<'js>, reason: Value<'js>| {
                if let Some(done) = on_error.borrow_mut().take() {
                    let _ = done.send(Err(module_error(describe_value(&ctx, reason))));
                }
            })?;
            let then: Function = promise.get("then")?;
            then.call::<_, Value>((
                rquickjs::function::This(promise.clone()),
                fulfilled,
                rejected,
            ))?;
        }
    }
    Ok(())
}

fn module_error((message, stack): (String, Option<String>)) -> BootError {
    BootError::Evaluation { message, stack }
}

/// `Name: message` and the stack of a caught error.
pub(crate) fn describe_caught(error: CaughtError<'_>) -> (String, Option<String>) {
    match error {
        CaughtError::Exception(exception) => {
            let name: Option<String> = exception.get("name").ok();
            let message = exception.message().unwrap_or_default();
            let title = match name {
                Some(name) if !name.is_empty() => format!("{name}: {message}"),
                _ => message,
            };
            let stack = exception.stack().filter(|s| !s.trim().is_empty());
            // Syntax errors carry their file and line only in the stack.
            match stack {
                Some(stack) => (format!("{title}\n{}", stack.trim_end()), Some(stack)),
                None => (title, None),
            }
        }
        CaughtError::Value(value) => {
            let ctx = value.ctx().clone();
            describe_value(&ctx, value)
        }
        CaughtError::Error(error) => (error.to_string(), None),
    }
}

/// `Name: message` and the stack of any thrown value.
pub(crate) fn describe_value<'js>(ctx: &Ctx<'js>, value: Value<'js>) -> (String, Option<String>) {
    if let Some(object) = value.as_object()
        && let Some(exception) = rquickjs::Exception::from_object(object.clone())
    {
        return describe_caught(CaughtError::Exception(exception));
    }
    let text = rquickjs::Coerced::<String>::from_js(ctx, value)
        .map(|c| c.0)
        .unwrap_or_else(|_| "<unprintable value>".to_owned());
    (text, None)
}

use rquickjs::FromJs as _;

/// Headers as the flat `[name, value, ...]` list the Web layer takes; values are decoded
/// isomorphically (each byte one code point), as WHATWG Fetch treats header values.
pub(crate) fn flatten_headers(headers: &http::HeaderMap) -> Vec<String> {
    let mut flat = Vec::with_capacity(headers.len() * 2);
    for (name, value) in headers {
        flat.push(name.as_str().to_owned());
        flat.push(value.as_bytes().iter().map(|&b| char::from(b)).collect());
    }
    flat
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}

thread_local! {
    /// The last client address formatted on this thread, with its text: a client sends one
    /// request after another on a keep-alive connection, and `IpAddr`'s `Display` costs about
    /// 1.3k instructions (callgrind) where a copy of the text costs a tenth of that.
    static REMOTE_HOST: RefCell<Option<(std::net::IpAddr, String)>> = const { RefCell::new(None) };
}

/// The text of a client's address (`127.0.0.1`), formatted once for requests in a row from it.
fn remote_host_text(ip: std::net::IpAddr) -> String {
    REMOTE_HOST.with_borrow_mut(|last| match last {
        Some((cached, text)) if *cached == ip => text.clone(),
        _ => last.insert((ip, ip.to_string())).1.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the engine knows Date in the isolate's context.
    fn has_date(isolate: &Isolate) -> bool {
        isolate
            .inner
            .enter(|ctx| host::date_prototype(&ctx).expect("a Date").is_some())
            .expect("the isolate runs")
    }

    /// A prepared isolate (the Web layer loaded, no function).
    async fn prepared_isolate() -> Isolate {
        let fetch = FetchClient::new(Vec::new().into(), "edgefn".into());
        Isolate::prepare("edgefn", fetch).await.expect("an isolate")
    }

    /// Whether the engine has an ArrayBuffer prototype in the isolate's context (one made
    /// without is an object with none).
    fn has_typed_arrays(isolate: &Isolate) -> bool {
        isolate
            .inner
            .enter(|ctx| {
                let buffer = rquickjs::ArrayBuffer::new(ctx, Vec::<u8>::new()).expect("a buffer");
                buffer.as_object().get_prototype().is_some()
            })
            .expect("the isolate runs")
    }

    /// A prepared isolate's context has no typed arrays; the host adds them (through the
    /// layer) before it hands out bytes, and so does the first use of their globals.
    #[tokio::test]
    async fn a_context_has_no_typed_arrays_until_their_first_use() {
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                let isolate = prepared_isolate().await;
                assert!(!has_typed_arrays(&isolate));
                isolate
                    .inner
                    .enter(|ctx| isolate.inner.typed_arrays(&ctx))
                    .expect("the isolate runs")
                    .expect("the typed arrays are added");
                assert!(has_typed_arrays(&isolate));
                let kind: String = isolate
                    .inner
                    .enter(|ctx| {
                        ctx.eval::<String, _>("Object.prototype.toString.call(new Int8Array(1))")
                    })
                    .expect("the isolate runs")
                    .expect("an Int8Array");
                assert_eq!(kind, "[object Int8Array]");
            })
            .await;
    }

    /// A prepared isolate's context has no Date built-in; the global `Date` adds it.
    #[tokio::test]
    async fn a_context_has_no_date_until_its_first_use() {
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                let isolate = prepared_isolate().await;
                assert!(!has_date(&isolate));
                let now: f64 = isolate
                    .inner
                    .enter(|ctx| ctx.eval::<f64, _>("Date.now()"))
                    .expect("the isolate runs")
                    .expect("Date.now() answers");
                assert!(now > 0.0);
                assert!(has_date(&isolate));
            })
            .await;
    }
}
