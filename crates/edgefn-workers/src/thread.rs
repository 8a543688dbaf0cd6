//! One user-worker thread: a current-thread tokio runtime and a `LocalSet` hosting isolates, and
//! the supervisor of each of them.
//!
//! Supervision, per worker:
//! - CPU time: the isolate meters it around every entry into JavaScript and stops itself at the
//!   hard limit (even inside a synchronous loop); after each request the thread compares it with
//!   the soft limit and retires the worker (it finishes its requests, takes no new ones).
//! - Memory: the isolate's allocator refuses to grow past the limit; the isolate then stops.
//! - Wall clock: each request has its own deadline. Past it the isolate is stopped, so every
//!   request it was serving fails the same way, and the next request gets a fresh worker. The
//!   deadline is also handed to the isolate's interrupt handler, so a synchronous loop cannot
//!   outlive it either.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use edgefn_isolate::{
    BootError, FetchClient, HandlerError, IncomingRequest, Isolate, IsolateOptions, LogLevel,
    ModuleCache, OutgoingResponse, Stop, TenantOptions,
};
use futures_util::FutureExt;
use futures_util::future::{LocalBoxFuture, Shared};
use tokio::sync::{mpsc, oneshot};

use crate::error::{TerminationReason, WorkerError};
use crate::events::{EventKind, Events};
use crate::functions::Function;
use crate::instance::Instance;
use crate::main_service::{Bridge, UserWorkerHub};
use crate::observer::PoolObserver;
use crate::scheduler::{Scheduler, WorkerId};
use crate::settings::Runtime;
use crate::warm_up::WarmUpPart;
use edgefn_process::{ProcessOptions, ProcessWorker};

/// Work sent to a thread.
// `Dispatch` is the hot, large variant and `Destroy` the rare one: boxing the request would
// cost an allocation per request to save bytes on a rare message.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Command {
    /// Serve a request with a worker, booting it first if it is new.
    Dispatch {
        worker: WorkerId,
        function: Arc<Function>,
        request: IncomingRequest,
        reply: oneshot::Sender<Result<OutgoingResponse, WorkerError>>,
    },
    /// Boot a worker ahead of requests.
    Boot {
        worker: WorkerId,
        function: Arc<Function>,
    },
    /// Destroy a worker that has nothing left to do.
    Destroy {
        worker: WorkerId,
        reason: TerminationReason,
    },
    /// Dispatch `beforeunload` to every worker and reply once their `waitUntil` work settled.
    Drain { reply: oneshot::Sender<()> },
    /// Start a service isolate (the event worker) that lives as long as the thread.
    StartService {
        name: String,
        root: std::path::PathBuf,
        inbox: mpsc::Receiver<String>,
    },
    /// Run a task on the thread (an HTTP connection served there): the closure makes it on
    /// the thread, so the task need not be `Send`.
    Spawn(LocalTask),
}

/// A task made on the thread that runs it; see [`Command::Spawn`].
pub type LocalTask = Box<dyn FnOnce() -> LocalBoxFuture<'static, ()> + Send>;

thread_local! {
    /// The user-worker thread this OS thread runs, with the `LocalSet` its tasks run in.
    static CURRENT: RefCell<Option<(Rc<WorkerThread>, Rc<tokio::task::LocalSet>)>> =
        const { RefCell::new(None) };
}

/// The user-worker thread of `scheduler` the caller runs on, with its `LocalSet`, if any.
fn current(scheduler: &Scheduler) -> Option<(Rc<WorkerThread>, Rc<tokio::task::LocalSet>)> {
    CURRENT.with(|current| {
        current
            .borrow()
            .as_ref()
            .filter(|(thread, _)| std::ptr::eq(Arc::as_ptr(&thread.scheduler), scheduler))
            .cloned()
    })
}

/// The index of the user-worker thread of `scheduler` the caller runs on, if any.
pub(crate) fn current_index(scheduler: &Scheduler) -> Option<usize> {
    current(scheduler).map(|(thread, _)| thread.index)
}

/// Runs `command` as a task of this OS thread when it is thread `index` of `scheduler`: no
/// channel and no wake-up of another thread. Gives the command back otherwise.
pub(crate) fn run_here(scheduler: &Scheduler, index: usize, command: Command) -> Option<Command> {
    match current(scheduler) {
        Some((thread, tasks)) if thread.index == index => {
            // The `LocalSet`'s own spawn works from any task of the thread (a connection's
            // HTTP/2 stream runs as a task of the runtime, outside the set).
            tasks.spawn_local(thread.handle(command));
            None
        }
        _ => Some(command),
    }
}

type BootFuture = Shared<LocalBoxFuture<'static, Result<Rc<Worker>, BootError>>>;

enum Slot {
    Booting(BootFuture),
    Ready(Rc<Worker>),
}

/// A booted instance (isolate or process) and what its supervisor tracks about it.
struct Worker {
    id: WorkerId,
    function: Arc<Function>,
    instance: Instance,
    /// Deadlines of the requests in flight, with a sequence number to keep them distinct.
    deadlines: RefCell<BTreeSet<(Instant, u64)>>,
    next_request: Cell<u64>,
    /// CPU time already reported to the observer.
    cpu_reported: Cell<std::time::Duration>,
}

pub(crate) struct WorkerThread {
    index: usize,
    scheduler: Arc<Scheduler>,
    isolates: IsolateDefaults,
    events: Events,
    hub: Arc<UserWorkerHub>,
    compute: Arc<rayon::ThreadPool>,
    observer: Option<Arc<dyn PoolObserver>>,
    /// By worker id (a counter), looked up on every request: FxHash.
    slots: RefCell<HashMap<WorkerId, Slot, rustc_hash::FxBuildHasher>>,
    /// Service isolates (the event worker), kept for the thread's lifetime.
    services: RefCell<Vec<Isolate>>,
    /// Isolates with the Web platform loaded and no function yet, for new workers.
    prepared: RefCell<Vec<Isolate>>,
    /// How many `prepared` should hold.
    prepared_target: usize,
    /// A refill of `prepared` is under way.
    refilling: Cell<bool>,
    /// Preparing an isolate failed once; the thread no longer tries.
    prepare_failed: Cell<bool>,
}

impl WorkerThread {
    async fn handle(self: Rc<Self>, command: Command) {
        match command {
            Command::Dispatch {
                worker,
                function,
                request,
                reply,
            } => {
                let result = self.serve(worker, &function, request).await;
                let _ = reply.send(result);
                self.refill_prepared(None);
            }
            Command::Destroy { worker, reason } => self.destroy(worker, reason).await,
            Command::Boot { worker, function } => {
                if self.worker(worker, &function).await.is_err() {
                    self.scheduler.worker_gone(&function.name, worker);
                }
                self.refill_prepared(None);
            }
            Command::StartService { name, root, inbox } => self.start_service(&name, &root, inbox),
            Command::Drain { reply } => {
                let workers: Vec<Rc<Worker>> = self
                    .slots
                    .borrow()
                    .values()
                    .filter_map(|slot| match slot {
                        Slot::Ready(worker) => Some(worker.clone()),
                        Slot::Booting(_) => None,
                    })
                    .collect();
                for worker in &workers {
                    worker.instance.before_unload();
                }
                for worker in &workers {
                    worker.instance.background_settled().await;
                }
                let _ = reply.send(());
            }
            Command::Spawn(task) => {
                tokio::task::spawn_local(task());
            }
        }
    }

    /// Tops `prepared` up to its target in the background, one isolate at a time. Making one
    /// takes over a millisecond of CPU, in steps between which the queued tasks run (see
    /// [`Isolate::prepare`]).
    ///
    /// `warm_up` is done once the target number of isolates were made (new workers may have
    /// taken some meanwhile), or when there is nothing to make.
    fn refill_prepared(self: &Rc<Self>, warm_up: Option<WarmUpPart>) {
        if self.refilling.get()
            || self.prepare_failed.get()
            || self.prepared.borrow().len() >= self.prepared_target
        {
            return;
        }
        self.refilling.set(true);
        tokio::task::spawn_local(self.clone().refill(warm_up));
    }

    /// Makes prepared isolates until `prepared` holds its target, or preparing one fails.
    /// The caller has set `refilling`, which is cleared at the end (also by a panic).
    async fn refill(self: Rc<Self>, mut warm_up: Option<WarmUpPart>) {
        struct Clear<'a>(&'a Cell<bool>);
        impl Drop for Clear<'_> {
            fn drop(&mut self) {
                self.0.set(false);
            }
        }
        let _clear = Clear(&self.refilling);
        let mut made = 0;
        while self.prepared.borrow().len() < self.prepared_target {
            let prepared =
                Isolate::prepare(&self.isolates.user_agent, self.isolates.fetch.clone()).await;
            match prepared {
                Ok(isolate) => {
                    self.prepared.borrow_mut().push(isolate);
                    if let Some(observer) = &self.observer {
                        observer.prepared_isolates(1);
                    }
                    made += 1;
                    if made >= self.prepared_target {
                        warm_up.take();
                    }
                }
                Err(error) => {
                    // Not retried: the same engine fails the same way, and new workers still
                    // boot from scratch (reporting their own errors).
                    tracing::error!(thread = self.index, %error, "an isolate could not be prepared; this thread stops preparing isolates");
                    self.prepare_failed.set(true);
                    break;
                }
            }
        }
    }

    fn start_service(&self, name: &str, root: &std::path::Path, inbox: mpsc::Receiver<String>) {
        let isolate = Isolate::new(IsolateOptions {
            memory_limit_bytes: 0,
            cpu_time_limit: None,
            env: Default::default(),
            user_agent: self.isolates.user_agent.clone(),
            log: console_sink(name, 0, Events::default()),
            inbox: Some(inbox),
            user_workers: None,
            allowed_hosts: None,
            fetch: self.isolates.fetch.clone(),
        })
        .and_then(|isolate| {
            isolate
                .start_service(root, &self.isolates.modules)
                .map(|()| isolate)
        });
        match isolate {
            Ok(isolate) => {
                tracing::info!(service = name, root = %root.display(), "service started");
                self.services.borrow_mut().push(isolate);
            }
            Err(error) => tracing::error!(service = name, %error, "service failed to start"),
        }
    }

    async fn serve(
        &self,
        id: WorkerId,
        function: &Arc<Function>,
        request: IncomingRequest,
    ) -> Result<OutgoingResponse, WorkerError> {
        let worker = match self.worker(id, function).await {
            Ok(worker) => worker,
            Err(error) => {
                self.scheduler.worker_gone(&function.name, id);
                return Err(WorkerError::Boot(error));
            }
        };
        let limits = &function.settings.limits;
        let deadline = Instant::now() + limits.wall_clock;
        let result = match &worker.instance {
            Instance::Isolate(isolate) => {
                let key = worker.add_deadline(isolate, deadline);
                let result = serve_isolate(isolate, request, deadline).await;
                worker.remove_deadline(isolate, key);
                if let Err(error) = &result {
                    self.log_failure(&worker, error);
                }
                result.map_err(WorkerError::from)
            }
            Instance::Process(process) => {
                let result = process.invoke(request, deadline).await;
                if let Err(edgefn_process::InvokeError::Function {
                    error_type,
                    error_message,
                }) = &result
                {
                    let message = format!("{error_type}: {error_message}");
                    tracing::error!(function = %function.name, worker_id = worker.id, %message, event = "uncaught_exception", "function error");
                    self.events.emit(
                        &function.name,
                        worker.id,
                        EventKind::UncaughtException {
                            message,
                            stack: None,
                        },
                    );
                }
                result.map_err(WorkerError::from)
            }
        };
        if let Some(observer) = &self.observer {
            // The isolate's CPU time since the last report, so overlapping requests of one
            // isolate are not counted twice.
            let total = worker.instance.cpu_time();
            let reported = worker.cpu_reported.replace(total);
            observer.cpu_used(&function.name, total.saturating_sub(reported));
        }
        self.supervise(&worker);
        result
    }

    /// After a request: end a stopped worker, retire one past its soft CPU limit, report
    /// memory.
    fn supervise(&self, worker: &Rc<Worker>) {
        let name = &worker.function.name;
        if let Some(reason) = worker.instance.stopped() {
            self.end(worker, reason);
            return;
        }
        let cpu = worker.instance.cpu_time();
        if cpu >= worker.function.settings.limits.cpu_soft {
            tracing::warn!(
                function = %name,
                worker_id = worker.id,
                cpu_time_ms = cpu.as_millis() as u64,
                "worker reached its soft CPU limit and is retired"
            );
            self.scheduler.retire(name, worker.id);
        }
        self.scheduler
            .memory(name, worker.id, worker.instance.memory_used_bytes());
    }

    /// The worker `id`, booted on first use. Concurrent requests during a boot wait for the
    /// same boot.
    async fn worker(
        &self,
        id: WorkerId,
        function: &Arc<Function>,
    ) -> Result<Rc<Worker>, BootError> {
        let booting = match self.slots.borrow().get(&id) {
            Some(Slot::Ready(worker)) => return Ok(worker.clone()),
            Some(Slot::Booting(boot)) => Some(boot.clone()),
            None => None,
        };
        if let Some(boot) = booting {
            return boot.await;
        }
        let user_workers = function.settings.main_service.then(|| {
            Rc::new(Bridge {
                scheduler: self.scheduler.clone(),
                hub: self.hub.clone(),
            }) as Rc<dyn edgefn_isolate::UserWorkers>
        });
        // A prepared isolate is handed only to an ordinary function: a main service's isolate
        // is built with its capability.
        let ordinary_isolate = user_workers.is_none()
            && matches!(
                function.settings.runtime,
                Runtime::Isolate | Runtime::FromFolder
            );
        let prepared = if ordinary_isolate {
            self.prepared.borrow_mut().pop()
        } else {
            None
        };
        if let (Some(_), Some(observer)) = (&prepared, &self.observer) {
            observer.prepared_isolates(-1);
        }
        let boot = boot(
            id,
            function.clone(),
            prepared,
            self.isolates.clone(),
            self.events.clone(),
            user_workers,
            self.compute.clone(),
            self.observer.clone(),
        )
        .boxed_local()
        .shared();
        self.slots
            .borrow_mut()
            .insert(id, Slot::Booting(boot.clone()));
        let result = boot.await;
        let mut slots = self.slots.borrow_mut();
        // The slot may have been destroyed meanwhile; then the worker is dropped here.
        if matches!(slots.get(&id), Some(Slot::Booting(_))) {
            match &result {
                Ok(worker) => {
                    slots.insert(id, Slot::Ready(worker.clone()));
                }
                Err(error) => {
                    slots.remove(&id);
                    self.events.emit(
                        &function.name,
                        id,
                        EventKind::BootFailure {
                            message: error.to_string(),
                        },
                    );
                    tracing::error!(
                        function = %function.name,
                        worker_id = id,
                        %error,
                        event = "boot_failure",
                        "function failed to boot"
                    );
                }
            }
        }
        result
    }

    /// Forgets a worker that stopped itself and tells the scheduler.
    fn end(&self, worker: &Rc<Worker>, reason: TerminationReason) {
        let removed = match self.slots.borrow().get(&worker.id) {
            Some(Slot::Ready(current)) => Rc::ptr_eq(current, worker),
            _ => false,
        };
        if removed {
            self.slots.borrow_mut().remove(&worker.id);
            self.log_shutdown(worker, reason);
            self.scheduler.worker_gone(&worker.function.name, worker.id);
        }
    }

    /// Retires a worker on the scheduler's request: `beforeunload` is dispatched, and
    /// `waitUntil` work may finish (within the wall-clock limit) before the isolate goes.
    async fn destroy(&self, id: WorkerId, reason: TerminationReason) {
        let slot = self.slots.borrow_mut().remove(&id);
        let Some(Slot::Ready(worker)) = slot else {
            return;
        };
        worker.instance.before_unload();
        let grace = worker.function.settings.limits.wall_clock;
        if tokio::time::timeout(grace, worker.instance.background_settled())
            .await
            .is_err()
        {
            tracing::warn!(
                function = %worker.function.name,
                worker_id = worker.id,
                pending = worker.instance.background_work(),
                "waitUntil work still pending at retirement was cut short"
            );
        }
        self.log_shutdown(&worker, reason);
        worker.instance.stop("the worker was retired");
    }
}

/// What every isolate of a thread shares.
#[derive(Clone)]
struct IsolateDefaults {
    /// `navigator.userAgent`.
    user_agent: String,
    /// The clients behind `fetch()`.
    fetch: FetchClient,
    /// Bytecode of the functions' modules.
    modules: ModuleCache,
}

/// A thread before it runs: moved into the OS thread, which builds the runtime.
pub(crate) struct ThreadStart {
    pub(crate) index: usize,
    pub(crate) scheduler: Arc<Scheduler>,
    pub(crate) user_agent: String,
    pub(crate) fetch_roots: Arc<[Vec<u8>]>,
    pub(crate) modules: ModuleCache,
    pub(crate) events: Events,
    pub(crate) hub: Arc<UserWorkerHub>,
    pub(crate) compute: Arc<rayon::ThreadPool>,
    pub(crate) observer: Option<Arc<dyn PoolObserver>>,
    /// Isolates to keep prepared; see [`WorkerThread::refill_prepared`].
    pub(crate) prepared: usize,
    /// Done once the thread has made its first `prepared` isolates.
    pub(crate) warm_up: WarmUpPart,
}

impl ThreadStart {
    /// Serves commands until the inbox closes, then drops every isolate.
    pub(crate) fn run(self, mut inbox: mpsc::UnboundedReceiver<Command>) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread tokio runtime can always be built");
        let thread = Rc::new(WorkerThread {
            index: self.index,
            scheduler: self.scheduler,
            isolates: IsolateDefaults {
                fetch: FetchClient::new(self.fetch_roots, self.user_agent.clone()),
                user_agent: self.user_agent,
                modules: self.modules,
            },
            events: self.events,
            hub: self.hub,
            compute: self.compute,
            observer: self.observer,
            slots: RefCell::new(HashMap::default()),
            services: RefCell::new(Vec::new()),
            prepared: RefCell::new(Vec::new()),
            prepared_target: self.prepared,
            refilling: Cell::new(false),
            prepare_failed: Cell::new(false),
        });
        let local = Rc::new(tokio::task::LocalSet::new());
        CURRENT.with(|current| *current.borrow_mut() = Some((thread.clone(), local.clone())));
        local.block_on(&runtime, async {
            // The first fill is the thread's part of the pool's warm-up.
            thread.refill_prepared(Some(self.warm_up));
            while let Some(command) = inbox.recv().await {
                let thread = thread.clone();
                tokio::task::spawn_local(thread.handle(command));
            }
        });
        CURRENT.with(|current| current.borrow_mut().take());
        let slots: Vec<Slot> = thread.slots.borrow_mut().drain().map(|(_, s)| s).collect();
        for slot in slots {
            if let Slot::Ready(worker) = slot {
                thread.log_shutdown(&worker, TerminationReason::Shutdown);
            }
        }
        thread.services.borrow_mut().clear();
        let prepared = thread.prepared.borrow_mut().drain(..).count();
        if let Some(observer) = &thread.observer {
            observer.prepared_isolates(-(prepared as i64));
        }
        tracing::debug!(thread = thread.index, "worker thread stopped");
    }
}

// === impl Worker ===

impl Worker {
    /// Tracks a request's deadline; the isolate's interrupt handler gets the earliest one.
    fn add_deadline(&self, isolate: &Isolate, deadline: Instant) -> (Instant, u64) {
        let key = (deadline, self.next_request.get());
        self.next_request.set(key.1 + 1);
        let mut deadlines = self.deadlines.borrow_mut();
        deadlines.insert(key);
        isolate.set_deadline(deadlines.first().map(|(at, _)| *at));
        key
    }

    fn remove_deadline(&self, isolate: &Isolate, key: (Instant, u64)) {
        let mut deadlines = self.deadlines.borrow_mut();
        deadlines.remove(&key);
        if deadlines.is_empty() {
            // An emptied B-tree keeps its 280-byte node: an idle worker keeps none.
            *deadlines = BTreeSet::new();
        }
        isolate.set_deadline(deadlines.first().map(|(at, _)| *at));
    }
}

/// One request on an isolate, within its wall-clock deadline: past it the isolate is stopped.
async fn serve_isolate(
    isolate: &Isolate,
    request: IncomingRequest,
    deadline: Instant,
) -> Result<OutgoingResponse, HandlerError> {
    let response = isolate.dispatch(request);
    match tokio::time::timeout_at(deadline.into(), response).await {
        Ok(Ok(result)) => result,
        Ok(Err(_)) => Err(HandlerError::Dropped),
        Err(_) => {
            let detail = "a request ran past the wall-clock limit";
            isolate.stop(Stop::WallClock, detail);
            Err(HandlerError::Terminated {
                stop: Stop::WallClock,
                detail: detail.into(),
            })
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn boot(
    id: WorkerId,
    function: Arc<Function>,
    prepared: Option<Isolate>,
    defaults: IsolateDefaults,
    events: Events,
    user_workers: Option<Rc<dyn edgefn_isolate::UserWorkers>>,
    compute: Arc<rayon::ThreadPool>,
    observer: Option<Arc<dyn PoolObserver>>,
) -> Result<Rc<Worker>, BootError> {
    let started = Instant::now();
    let from_prepared = prepared.is_some();
    // Transpile and compile the function's modules on the compute pool first, so that the
    // worker thread, shared with other tenants, only loads bytecode from the cache. A folder of
    // small JavaScript files needs no hop.
    if matches!(
        function.settings.runtime,
        Runtime::Isolate | Runtime::FromFolder
    ) && edgefn_isolate::modules::worth_compiling_ahead(&function.root)
    {
        let (done, compiled) = oneshot::channel();
        let root = function.root.clone();
        let cache = defaults.modules.clone();
        let memory_limit = function.settings.limits.memory_bytes;
        compute.spawn(move || {
            cache.compile_ahead(&root, memory_limit);
            let _ = done.send(());
        });
        let _ = compiled.await;
    }
    let limits = &function.settings.limits;
    let log = console_sink(&function.name, id, events.clone());
    let instance = match &function.settings.runtime {
        Runtime::Process { command, handler } => Instance::Process(
            ProcessWorker::start(ProcessOptions {
                function: function.name.clone(),
                command: command.clone(),
                handler: handler.clone(),
                task_root: std::fs::canonicalize(&function.root)
                    .unwrap_or_else(|_| function.root.clone()),
                env: function.settings.env.clone(),
                memory_limit_bytes: limits.memory_bytes,
                cpu_time_limit: Some(limits.cpu_hard),
                log,
            })
            .await?,
        ),
        Runtime::Invalid(message) => return Err(BootError::Module(message.clone())),
        Runtime::Isolate | Runtime::FromFolder => {
            let tenant = TenantOptions {
                memory_limit_bytes: limits.memory_bytes,
                cpu_time_limit: Some(limits.cpu_hard),
                env: function.settings.env.clone(),
                log,
                allowed_hosts: function.settings.allowed_hosts.clone(),
            };
            let isolate = match prepared {
                Some(isolate) => {
                    isolate.assign(tenant)?;
                    isolate
                }
                None => Isolate::new(IsolateOptions {
                    memory_limit_bytes: tenant.memory_limit_bytes,
                    cpu_time_limit: tenant.cpu_time_limit,
                    env: tenant.env,
                    user_agent: defaults.user_agent,
                    log: tenant.log,
                    inbox: None,
                    user_workers,
                    allowed_hosts: tenant.allowed_hosts,
                    fetch: defaults.fetch,
                })?,
            };
            isolate.boot(&function.root, &defaults.modules).await?;
            Instance::Isolate(isolate)
        }
    };
    let boot_time_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        function = %function.name,
        worker_id = id,
        boot_time_ms,
        event = "boot",
        "worker booted"
    );
    events.emit(&function.name, id, EventKind::Boot { boot_time_ms });
    if let Some(observer) = &observer {
        observer.worker_booted(&function.name, started.elapsed(), from_prepared);
    }
    Ok(Rc::new(Worker {
        id,
        function,
        instance,
        deadlines: RefCell::new(BTreeSet::new()),
        next_request: Cell::new(0),
        cpu_reported: Cell::new(std::time::Duration::ZERO),
    }))
}

/// Where a worker's `console.*` goes: the log, tagged with function and worker, and the
/// `Log` event.
fn console_sink(function: &str, id: WorkerId, events: Events) -> edgefn_isolate::LogSink {
    let name = function.to_owned();
    Rc::new(move |level: LogLevel, message: &str| {
        match level {
            LogLevel::Debug => {
                tracing::debug!(target: "edgefn::console", function = %name, worker_id = id, "{message}")
            }
            LogLevel::Info => {
                tracing::info!(target: "edgefn::console", function = %name, worker_id = id, "{message}")
            }
            LogLevel::Warn => {
                tracing::warn!(target: "edgefn::console", function = %name, worker_id = id, "{message}")
            }
            LogLevel::Error => {
                tracing::error!(target: "edgefn::console", function = %name, worker_id = id, "{message}")
            }
        }
        if events.enabled() {
            let level = match level {
                LogLevel::Debug => "debug",
                LogLevel::Info => "info",
                LogLevel::Warn => "warn",
                LogLevel::Error => "error",
            };
            let message = message.to_owned();
            events.emit(&name, id, EventKind::Log { level, message });
        }
    })
}

impl WorkerThread {
    fn log_failure(&self, worker: &Worker, error: &HandlerError) {
        let function = &worker.function.name;
        match error {
            HandlerError::Uncaught { message, stack } => {
                tracing::error!(
                    function = %function,
                    worker_id = worker.id,
                    %message,
                    stack = stack.as_deref().unwrap_or(""),
                    event = "uncaught_exception",
                    "uncaught exception in handler"
                );
                self.events.emit(
                    function,
                    worker.id,
                    EventKind::UncaughtException {
                        message: message.clone(),
                        stack: stack.clone(),
                    },
                );
            }
            HandlerError::InvalidResponse(message) => tracing::error!(
                function = %function,
                worker_id = worker.id,
                %message,
                "handler returned an invalid response"
            ),
            HandlerError::Terminated { .. } | HandlerError::Dropped => {}
        }
    }

    fn log_shutdown(&self, worker: &Worker, reason: TerminationReason) {
        let cpu_time_ms = worker.instance.cpu_time().as_secs_f64() * 1000.0;
        let memory_bytes = worker.instance.memory_used_bytes();
        if let Some(observer) = &self.observer {
            observer.worker_ended(&worker.function.name, reason);
        }
        self.events.emit(
            &worker.function.name,
            worker.id,
            EventKind::shutdown(reason, cpu_time_ms, memory_bytes),
        );
        match reason {
            TerminationReason::CpuTime
            | TerminationReason::Memory
            | TerminationReason::WallClock
            | TerminationReason::Panic => tracing::error!(
                function = %worker.function.name,
                worker_id = worker.id,
                reason = reason.as_str(),
                cpu_time_ms,
                memory_bytes,
                event = "shutdown",
                "worker terminated"
            ),
            _ => tracing::info!(
                function = %worker.function.name,
                worker_id = worker.id,
                reason = reason.as_str(),
                cpu_time_ms,
                memory_bytes,
                event = "shutdown",
                "worker ended"
            ),
        }
    }
}
