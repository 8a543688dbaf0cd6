//! The user-worker pool: pinned threads hosting isolates, and the front door requests come in by.

use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use edgefn_isolate::{IncomingRequest, OutgoingResponse};
use tokio::sync::{mpsc, oneshot};

use crate::error::{TerminationReason, WorkerError};
use crate::events::{ChannelSink, EventSink, Events, StdoutSink};
use crate::functions::Function;
use crate::main_service::UserWorkerHub;
use crate::observer::{FunctionSnapshot, PoolObserver};
use crate::scheduler::{Lease, Scheduler, SchedulerConfig};
use crate::settings::FunctionSettings;
use crate::thread::{Command, LocalTask, ThreadStart};
use crate::warm_up::{WarmedUp, warm_up};

/// Native stack of a user-worker thread, in bytes: the engine's own limit plus room for the
/// host code around it.
const THREAD_STACK_BYTES: usize = 8 * 1024 * 1024;

/// How the pool is built.
#[derive(Clone)]
pub struct PoolConfig {
    /// Number of user-worker threads.
    pub threads: usize,
    /// Pin each thread to one CPU core (round-robin over the available cores).
    pub pin_threads: bool,
    /// `navigator.userAgent` inside every isolate.
    pub user_agent: String,
    /// Longest a request waits for a free worker before it is refused.
    pub request_wait_timeout: Duration,
    /// Most isolates alive in the process at once.
    pub max_isolates: usize,
    /// Idle workers are destroyed after this long; `None` keeps them.
    pub idle_timeout: Option<Duration>,
    /// Bound on the memory of all warm isolates together, in bytes.
    pub max_warm_memory_bytes: usize,
    /// Write every worker event to stdout as a JSON line.
    pub events_to_stdout: bool,
    /// A function folder run as the event worker: it receives every worker event through
    /// `new EventManager()`.
    pub event_worker: Option<PathBuf>,
    /// Settings of user workers the main service creates, before its own options apply.
    pub user_worker_defaults: FunctionSettings,
    /// The runtime that runs background chores (the idle sweeper); the current one if `None`.
    pub background: Option<tokio::runtime::Handle>,
    /// Threads of the compute pool, `edgefn-cpu-<i>`, which compiles a function's TypeScript
    /// and large modules before its isolate boots.
    pub compute_threads: usize,
    /// Receives measurements for metrics.
    pub observer: Option<Arc<dyn PoolObserver>>,
    /// Root certificates (DER) `fetch()` trusts besides the web PKI roots.
    pub fetch_roots: Arc<[Vec<u8>]>,
    /// Isolates each thread keeps ready with the Web platform loaded, for new workers.
    pub prepared_isolates: usize,
    /// Bytecode of the functions' modules, shared by every thread.
    pub module_cache: edgefn_isolate::ModuleCache,
}

/// Events kept for the event worker while it is busy; past this, events are dropped.
const EVENT_WORKER_BACKLOG: usize = 4096;

/// Name the event worker's own log lines carry.
pub const EVENT_WORKER_NAME: &str = "event-worker";

/// A response, and the lease that keeps its worker counted as busy until the response body is
/// finished. Drop the lease when the body is done (or abandoned).
#[derive(Debug)]
pub struct Served {
    /// The function's response.
    pub response: OutgoingResponse,
    /// Frees the worker when dropped.
    pub lease: Lease,
}

/// The pool of user-worker threads.
pub struct WorkerPool {
    scheduler: Arc<Scheduler>,
    handles: Vec<JoinHandle<()>>,
    /// See [`WorkerPool::warmed_up`].
    warmed_up: WarmedUp,
}

impl WorkerPool {
    /// Starts `config.threads` threads named `edgefn-worker-<i>`. Must be called inside a tokio
    /// runtime, which runs the idle sweeper.
    pub fn start(config: PoolConfig) -> std::io::Result<WorkerPool> {
        let threads = config.threads.max(1);
        let cores = if config.pin_threads {
            core_affinity::get_core_ids().unwrap_or_default()
        } else {
            Vec::new()
        };
        let mut senders = Vec::with_capacity(threads);
        let mut inboxes = Vec::with_capacity(threads);
        for _ in 0..threads {
            let (tx, rx) = mpsc::unbounded_channel();
            senders.push(tx);
            inboxes.push(rx);
        }
        let scheduler = Scheduler::new(
            SchedulerConfig {
                threads,
                max_isolates: config.max_isolates.max(1),
                request_wait_timeout: config.request_wait_timeout,
                idle_timeout: config.idle_timeout,
                max_warm_memory_bytes: config.max_warm_memory_bytes,
            },
            senders,
            config.observer.clone(),
        );
        let mut sinks: Vec<Arc<dyn EventSink>> = Vec::new();
        if config.events_to_stdout {
            sinks.push(Arc::new(StdoutSink));
        }
        let mut event_inbox = None;
        if config.event_worker.is_some() {
            let (tx, rx) = mpsc::channel(EVENT_WORKER_BACKLOG);
            sinks.push(Arc::new(ChannelSink::new(tx, EVENT_WORKER_NAME)));
            event_inbox = Some(rx);
        }
        let events = Events::new(sinks);
        let hub = UserWorkerHub::new(config.user_worker_defaults.clone());
        let compute = Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(config.compute_threads.max(1))
                .thread_name(|i| format!("edgefn-cpu-{i}"))
                .build()
                .map_err(std::io::Error::other)?,
        );
        let (mut warm_up, warmed_up) = warm_up(threads + 1);
        let layer_warm_up = warm_up.pop();
        std::thread::Builder::new()
            .name("edgefn-layer".into())
            .spawn(move || {
                let _done_when_dropped = layer_warm_up;
                if let Err(error) = edgefn_isolate::compile_layer() {
                    tracing::error!(%error, "the Web layer does not compile");
                }
            })?;
        let mut handles = Vec::with_capacity(threads);
        for ((index, inbox), warm_up) in inboxes.into_iter().enumerate().zip(warm_up) {
            let core = (!cores.is_empty()).then(|| cores[index % cores.len()]);
            let thread = ThreadStart {
                index,
                scheduler: scheduler.clone(),
                user_agent: config.user_agent.clone(),
                fetch_roots: config.fetch_roots.clone(),
                events: events.clone(),
                hub: hub.clone(),
                compute: compute.clone(),
                observer: config.observer.clone(),
                prepared: config.prepared_isolates,
                warm_up,
                modules: config.module_cache.clone(),
            };
            let handle = std::thread::Builder::new()
                .name(format!("edgefn-worker-{index}"))
                .stack_size(THREAD_STACK_BYTES)
                .spawn(move || {
                    if let Some(core) = core {
                        core_affinity::set_for_current(core);
                    }
                    thread.run(inbox);
                })?;
            handles.push(handle);
        }
        Scheduler::spawn_idle_sweeper(&scheduler, config.background.as_ref());
        if let (Some(root), Some(inbox)) = (config.event_worker, event_inbox) {
            scheduler.send(
                0,
                Command::StartService {
                    name: EVENT_WORKER_NAME.to_owned(),
                    root,
                    inbox,
                },
            );
        }
        Ok(WorkerPool {
            scheduler,
            handles,
            warmed_up,
        })
    }

    /// Resolves once the pool is warm: the whole Web layer is compiled, and every thread has
    /// made its first `prepared_isolates` (new workers may have taken some meanwhile). A part
    /// that fails (logged) or panics counts as done: readiness does not wait for ever. Until
    /// then a new function's first request may wait for a chunk of the layer to compile, or
    /// boot from scratch.
    pub fn warmed_up(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        self.warmed_up.clone().wait()
    }

    /// Number of threads in the pool.
    pub fn threads(&self) -> usize {
        self.handles.len()
    }

    /// Runs `task` on thread `thread` (modulo the number of threads), as a task of that thread;
    /// `false` when the pool is shutting down. A request dispatched from there prefers a
    /// worker on the same thread, and then needs no thread hop.
    pub fn spawn_on(&self, thread: usize, task: LocalTask) -> bool {
        self.scheduler
            .send(thread % self.threads().max(1), Command::Spawn(task))
    }

    /// The workers of every function right now.
    pub fn snapshot(&self) -> Vec<FunctionSnapshot> {
        self.scheduler.snapshot()
    }

    /// Boots up to `function.settings.prestart` workers now, before any request.
    pub fn prestart(&self, function: &Arc<Function>) {
        for (worker, thread) in self
            .scheduler
            .reserve_idle(function, function.settings.prestart)
        {
            self.scheduler.send(
                thread,
                Command::Boot {
                    worker,
                    function: function.clone(),
                },
            );
        }
    }

    /// Retires every worker of `function` (they finish their requests); the next request
    /// boots fresh code.
    pub fn invalidate(&self, function: &str) {
        self.scheduler.retire_all(function);
    }

    /// Number of workers `function` has right now (booting, serving or idle).
    pub fn workers_of(&self, function: &str) -> usize {
        self.scheduler.workers_of(function)
    }

    /// Dispatches `beforeunload` to every worker and resolves once the `waitUntil` work of all
    /// of them has settled (the drain phase of a graceful shutdown).
    pub async fn drain(&self) {
        let mut replies = Vec::new();
        for thread in 0..self.threads() {
            let (reply, done) = oneshot::channel();
            if self.scheduler.send(thread, Command::Drain { reply }) {
                replies.push(done);
            }
        }
        for done in replies {
            let _ = done.await;
        }
    }

    /// Serves `request` with `function`: picks or creates a worker according to the function's
    /// policy (waiting, bounded, when none is free), then hands the request to its thread.
    pub async fn dispatch(
        &self,
        function: &Arc<Function>,
        request: IncomingRequest,
    ) -> Result<Served, WorkerError> {
        dispatch(&self.scheduler, function, request, true).await
    }
}

/// See [`WorkerPool::dispatch`]. With `prefer_here`, the scheduler prefers the pool thread the
/// caller runs on (the one serving the request's connection).
pub(crate) async fn dispatch(
    scheduler: &Arc<Scheduler>,
    function: &Arc<Function>,
    request: IncomingRequest,
    prefer_here: bool,
) -> Result<Served, WorkerError> {
    let here = crate::thread::current_index(scheduler);
    let lease = scheduler
        .acquire(function, here.filter(|_| prefer_here))
        .await?;
    if let Some(observer) = &scheduler.observer {
        observer.dispatched(here != Some(lease.thread));
    }
    let (reply, response) = oneshot::channel();
    let gone = || WorkerError::Terminated {
        reason: TerminationReason::Shutdown,
        detail: "the worker thread is not running".into(),
    };
    let sent = scheduler.send(
        lease.thread,
        Command::Dispatch {
            worker: lease.worker,
            function: function.clone(),
            request,
            reply,
        },
    );
    if !sent {
        return Err(gone());
    }
    let response = response.await.map_err(|_| gone())??;
    Ok(Served { response, lease })
}

impl Drop for WorkerPool {
    /// Closes every thread's inbox and waits for the threads to drop their isolates.
    fn drop(&mut self) {
        self.scheduler.close();
        let here = std::thread::current().id();
        for handle in self.handles.drain(..) {
            // A connection served on a worker thread may hold the last reference to the pool;
            // that thread ends by itself once its inbox is closed.
            if handle.thread().id() != here {
                let _ = handle.join();
            }
        }
    }
}
