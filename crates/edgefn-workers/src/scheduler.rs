//! Which worker serves a request: the pool policies, `max_parallelism`, the bounded wait for a
//! free worker, the process-wide cap on isolates, idle eviction and the bound on warm memory.
//!
//! The scheduler only keeps books (which workers exist, on which thread, how many requests each
//! is serving); the isolates themselves live on the user-worker threads. One mutex guards the
//! books; every critical section is a few map operations.
//!
//! How a request is placed:
//! - `per_worker`: the function's least busy worker takes it; a worker that is serving nothing
//!   is preferred, and while every worker is busy and `max_parallelism` allows, a new worker is
//!   created instead, so a hot function spreads over threads.
//! - `per_request`: an idle worker takes it; otherwise a new one is created within
//!   `max_parallelism`; otherwise the request waits for a worker to become free.
//! - `oneshot`: a new worker is created for it within `max_parallelism` (otherwise it waits),
//!   and destroyed once the response is finished.
//!
//! A new worker goes to the thread that hosts none of the function's workers and serves the
//! fewest requests, so one function cannot pile up on a thread while another is free, and a
//! busy function occupies at most `max_parallelism` threads.
//!
//! A request whose connection is served on a user-worker thread (`workers.serve_connections`)
//! prefers that thread: between workers as busy, the one on it; a new worker goes there unless
//! it already hosts one of the function's live workers; and once `max_parallelism` is reached
//! under `per_worker`, an isolate on that thread takes it even when busy. It then runs without a
//! thread hop (see [`crate::thread::run_here`]), and a function called concurrently from several
//! threads gets a worker on each, within `max_parallelism`. Requests from the main service to
//! its user workers are placed by load alone. A request waits at most
//! `request_wait_timeout`; then it is refused with 503.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, mpsc};

use crate::error::{TerminationReason, WorkerError};
use crate::functions::Function;
use crate::observer::PoolObserver;
use crate::settings::{Policy, Runtime};
use crate::thread::Command;

/// Process-unique id of a worker.
pub(crate) type WorkerId = u64;

/// Limits of the whole pool.
#[derive(Debug, Clone)]
pub(crate) struct SchedulerConfig {
    pub(crate) threads: usize,
    pub(crate) max_isolates: usize,
    pub(crate) request_wait_timeout: Duration,
    pub(crate) idle_timeout: Option<Duration>,
    pub(crate) max_warm_memory_bytes: usize,
}

pub(crate) struct Scheduler {
    config: SchedulerConfig,
    books: Mutex<Books>,
    /// Woken whenever a worker goes away anywhere: room under the process cap.
    capacity: Notify,
    threads: Mutex<Vec<mpsc::UnboundedSender<Command>>>,
    pub(crate) observer: Option<Arc<dyn PoolObserver>>,
}

#[derive(Default)]
struct Books {
    /// By function name: looked up twice a request, so with a hasher cheaper than SipHash
    /// (the names come from configuration, not from clients).
    functions: HashMap<String, FunctionWorkers, rustc_hash::FxBuildHasher>,
    next_id: WorkerId,
    total: usize,
    warm_memory: usize,
    /// Workers per thread, and requests in flight per thread.
    thread_workers: Vec<usize>,
    thread_inflight: Vec<usize>,
}

impl Books {
    /// The bookkeeping of worker `id` of `function`, if it still exists.
    fn worker_mut(&mut self, function: &str, id: WorkerId) -> Option<&mut Entry> {
        self.functions
            .get_mut(function)
            .and_then(|f| f.workers.iter_mut().find(|w| w.id == id))
    }
}

#[derive(Default)]
struct FunctionWorkers {
    workers: Vec<Entry>,
    /// Woken whenever one of this function's workers becomes free or goes away.
    freed: Arc<Notify>,
}

struct Entry {
    id: WorkerId,
    thread: usize,
    inflight: usize,
    retired: bool,
    last_used: Instant,
    memory: usize,
}

/// The right to send one request to one worker. Dropping it (when the response is finished)
/// frees the worker; for `oneshot`, and for a retired worker with nothing left to do, the
/// worker is destroyed then.
pub struct Lease {
    scheduler: Arc<Scheduler>,
    function: String,
    pub(crate) worker: WorkerId,
    pub(crate) thread: usize,
    oneshot: bool,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("function", &self.function)
            .field("worker", &self.worker)
            .finish()
    }
}

enum Choice {
    Use { id: WorkerId, thread: usize },
    Wait(Arc<Notify>),
}

// === impl Scheduler ===

impl Scheduler {
    pub(crate) fn new(
        config: SchedulerConfig,
        threads: Vec<mpsc::UnboundedSender<Command>>,
        observer: Option<Arc<dyn PoolObserver>>,
    ) -> Arc<Scheduler> {
        let books = Books {
            thread_workers: vec![0; threads.len()],
            thread_inflight: vec![0; threads.len()],
            ..Books::default()
        };
        Arc::new(Scheduler {
            config,
            books: Mutex::new(books),
            capacity: Notify::new(),
            threads: Mutex::new(threads),
            observer,
        })
    }

    fn books(&self) -> MutexGuard<'_, Books> {
        self.books
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sends a command to a thread; `false` when the pool is shutting down. On that thread
    /// itself, a request or a connection runs as a task of it directly. The other commands
    /// keep their order in the channel (a `Destroy` must not overtake its worker's `Boot`).
    pub(crate) fn send(&self, thread: usize, command: Command) -> bool {
        let command = match command {
            Command::Dispatch { .. } | Command::Spawn(_) => {
                match crate::thread::run_here(self, thread, command) {
                    None => return true,
                    Some(command) => command,
                }
            }
            command => command,
        };
        let threads = self.threads.lock().unwrap_or_else(|p| p.into_inner());
        threads
            .get(thread)
            .is_some_and(|sender| sender.send(command).is_ok())
    }

    /// Closes every thread's inbox; the threads end once their inbox is empty.
    pub(crate) fn close(&self) {
        self.threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// A lease on a worker for one request of `function`, waiting (bounded) when none is free.
    /// `here`: the thread serving the request's connection, if it is one of the pool's.
    pub(crate) async fn acquire(
        self: &Arc<Self>,
        function: &Function,
        here: Option<usize>,
    ) -> Result<Lease, WorkerError> {
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + self.config.request_wait_timeout;
        loop {
            let notify;
            let mut notified;
            let mut capacity = std::pin::pin!(self.capacity.notified());
            {
                let mut books = self.books();
                match self.choose(&mut books, function, here) {
                    Choice::Use { id, thread } => {
                        return Ok(Lease {
                            scheduler: self.clone(),
                            function: function.name.clone(),
                            worker: id,
                            thread,
                            oneshot: function.settings.policy == Policy::Oneshot,
                        });
                    }
                    Choice::Wait(wait_on) => notify = wait_on,
                }
                // Register before unlocking, so that a release in between is not missed.
                notified = Box::pin(notify.notified());
                notified.as_mut().enable();
                capacity.as_mut().enable();
            }
            tokio::select! {
                () = notified => {}
                () = capacity => {}
                () = tokio::time::sleep_until(deadline) => {
                    return Err(WorkerError::NoWorkerAvailable {
                        waited_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                    });
                }
            }
        }
    }

    /// `here`: the thread serving the request's connection, which it prefers.
    fn choose(&self, books: &mut Books, function: &Function, here: Option<usize>) -> Choice {
        let settings = &function.settings;
        let workers = books.functions.entry(function.name.clone()).or_default();
        let live = workers.workers.iter().filter(|w| !w.retired).count();
        let room = live < self.max_parallelism(function);
        // Between workers as busy, one on the caller's own thread saves the thread hop.
        let least_busy = workers
            .workers
            .iter()
            .filter(|w| !w.retired)
            .min_by_key(|w| {
                (
                    w.inflight,
                    Some(w.thread) != here,
                    std::cmp::Reverse(w.last_used),
                )
            })
            .map(|w| (w.id, w.inflight));
        // When no worker can be added under `per_worker`, an isolate on the caller's own
        // thread takes the request even when busy: its requests share that thread anyway, and a
        // hop would cost more. (Not a process, which serves one invocation at a time.)
        let local = here
            .filter(|_| {
                !room
                    && settings.policy == Policy::PerWorker
                    && matches!(settings.runtime, Runtime::Isolate)
            })
            .and_then(|here| {
                workers
                    .workers
                    .iter()
                    .find(|w| !w.retired && w.thread == here)
                    .map(|w| w.id)
            });
        if let Some(id) = local {
            return self.take(books, &function.name, id);
        }
        let reuse = match (settings.policy, least_busy) {
            (Policy::Oneshot, _) | (_, None) => None,
            (_, Some((id, 0))) => Some(id),
            (Policy::PerWorker, Some((id, _))) if !room => Some(id),
            _ => None,
        };
        if let Some(id) = reuse {
            return self.take(books, &function.name, id);
        }
        if !room {
            return Choice::Wait(workers.freed.clone());
        }
        if books.total >= self.config.max_isolates && !self.evict_one(books, &function.name) {
            return Choice::Wait(workers_notify(books, &function.name));
        }
        self.create(books, &function.name, here)
    }

    fn take(&self, books: &mut Books, function: &str, id: WorkerId) -> Choice {
        let entry = books
            .worker_mut(function, id)
            .expect("chosen worker exists");
        entry.inflight += 1;
        let thread = entry.thread;
        books.thread_inflight[thread] += 1;
        Choice::Use { id, thread }
    }

    /// Books `count` idle workers of `function` (within its parallelism) to boot ahead of
    /// requests; returns their ids and threads.
    pub(crate) fn reserve_idle(&self, function: &Function, count: usize) -> Vec<(WorkerId, usize)> {
        let mut books = self.books();
        let existing = books
            .functions
            .get(&function.name)
            .map_or(0, |f| f.workers.len());
        let count = count.min(self.max_parallelism(function).saturating_sub(existing));
        let mut reserved = Vec::new();
        for _ in 0..count {
            if books.total >= self.config.max_isolates {
                break;
            }
            if let Choice::Use { id, thread } = self.create(&mut books, &function.name, None) {
                // Created idle: nothing is in flight on it yet.
                books.thread_inflight[thread] -= 1;
                if let Some(entry) = books.worker_mut(&function.name, id) {
                    entry.inflight = 0;
                }
                reserved.push((id, thread));
            }
        }
        reserved
    }

    /// The function's `max_parallelism`, where `0` means one per thread.
    fn max_parallelism(&self, function: &Function) -> usize {
        match function.settings.max_parallelism {
            0 => self.config.threads,
            n => n,
        }
    }

    /// A new worker on the thread that hosts none of the function's live workers: `here` if it
    /// qualifies, otherwise the one with the fewest requests in flight.
    fn create(&self, books: &mut Books, function: &str, here: Option<usize>) -> Choice {
        books.next_id += 1;
        let id = books.next_id;
        let hosting: Vec<usize> = books
            .functions
            .get(function)
            .map(|f| {
                f.workers
                    .iter()
                    .filter(|w| !w.retired)
                    .map(|w| w.thread)
                    .collect()
            })
            .unwrap_or_default();
        let thread = (0..self.config.threads)
            .min_by_key(|&t| {
                (
                    hosting.contains(&t),
                    Some(t) != here,
                    books.thread_inflight[t],
                    books.thread_workers[t],
                )
            })
            .unwrap_or(0);
        books.total += 1;
        books.thread_workers[thread] += 1;
        books.thread_inflight[thread] += 1;
        books
            .functions
            .entry(function.to_owned())
            .or_default()
            .workers
            .push(Entry {
                id,
                thread,
                inflight: 1,
                retired: false,
                last_used: Instant::now(),
                memory: 0,
            });
        Choice::Use { id, thread }
    }

    /// Evicts the least recently used idle worker of another function; `false` if none.
    fn evict_one(&self, books: &mut Books, except: &str) -> bool {
        let victim = books
            .functions
            .iter()
            .filter(|(name, _)| name.as_str() != except)
            .flat_map(|(name, f)| f.workers.iter().map(move |w| (name, w)))
            .filter(|(_, w)| w.inflight == 0)
            .min_by_key(|(_, w)| w.last_used)
            .map(|(name, w)| (name.clone(), w.id));
        match victim {
            Some((name, id)) => {
                self.remove(books, &name, id, Some(TerminationReason::Evicted));
                true
            }
            None => false,
        }
    }

    /// Forgets a worker; with a reason, also tells its thread to destroy it.
    fn remove(
        &self,
        books: &mut Books,
        function: &str,
        id: WorkerId,
        destroy: Option<TerminationReason>,
    ) {
        let Some(workers) = books.functions.get_mut(function) else {
            return;
        };
        let Some(index) = workers.workers.iter().position(|w| w.id == id) else {
            return;
        };
        let entry = workers.workers.swap_remove(index);
        workers.freed.notify_waiters();
        books.total -= 1;
        books.warm_memory = books.warm_memory.saturating_sub(entry.memory);
        books.thread_workers[entry.thread] -= 1;
        if let Some(reason) = destroy {
            self.send(entry.thread, Command::Destroy { worker: id, reason });
        }
        self.capacity.notify_waiters();
    }

    fn release(&self, lease: &Lease) {
        let mut books = self.books();
        books.thread_inflight[lease.thread] -= 1;
        let Some(workers) = books.functions.get_mut(&lease.function) else {
            return;
        };
        let Some(entry) = workers.workers.iter_mut().find(|w| w.id == lease.worker) else {
            return;
        };
        entry.inflight -= 1;
        entry.last_used = Instant::now();
        let done = entry.inflight == 0;
        let retired = entry.retired;
        workers.freed.notify_waiters();
        if done && lease.oneshot {
            self.remove(
                &mut books,
                &lease.function,
                lease.worker,
                Some(TerminationReason::Oneshot),
            );
        } else if done && retired {
            self.remove(
                &mut books,
                &lease.function,
                lease.worker,
                Some(TerminationReason::Retired),
            );
        }
    }

    // --- reports from the threads ---

    /// The worker ended on its thread (a limit, a panic, a failed boot).
    pub(crate) fn worker_gone(&self, function: &str, id: WorkerId) {
        let mut books = self.books();
        self.remove(&mut books, function, id, None);
    }

    /// The worker reached its soft CPU limit: no new requests; destroyed once it is idle.
    pub(crate) fn retire(&self, function: &str, id: WorkerId) {
        let mut books = self.books();
        let Some(entry) = books.worker_mut(function, id) else {
            return;
        };
        entry.retired = true;
        if entry.inflight == 0 {
            self.remove(&mut books, function, id, Some(TerminationReason::Retired));
        }
    }

    /// The worker's current memory; evicts idle workers, least recently used first, while the
    /// warm memory of the process is over its bound.
    pub(crate) fn memory(&self, function: &str, id: WorkerId, bytes: usize) {
        let mut books = self.books();
        let Some(entry) = books.worker_mut(function, id) else {
            return;
        };
        let before = std::mem::replace(&mut entry.memory, bytes);
        books.warm_memory = books.warm_memory.saturating_sub(before) + bytes;
        while books.warm_memory > self.config.max_warm_memory_bytes {
            if !self.evict_one(&mut books, "") {
                break;
            }
        }
    }

    /// Destroys workers idle for longer than the idle timeout.
    fn sweep_idle(&self) {
        let Some(timeout) = self.config.idle_timeout else {
            return;
        };
        let mut books = self.books();
        let now = Instant::now();
        let idle: Vec<(String, WorkerId)> = books
            .functions
            .iter()
            .flat_map(|(name, f)| f.workers.iter().map(move |w| (name, w)))
            .filter(|(_, w)| w.inflight == 0 && now.duration_since(w.last_used) >= timeout)
            .map(|(name, w)| (name.clone(), w.id))
            .collect();
        for (name, id) in idle {
            self.remove(&mut books, &name, id, Some(TerminationReason::Idle));
        }
    }

    /// Sweeps idle workers periodically for as long as the scheduler lives.
    pub(crate) fn spawn_idle_sweeper(
        scheduler: &Arc<Scheduler>,
        runtime: Option<&tokio::runtime::Handle>,
    ) {
        let Some(timeout) = scheduler.config.idle_timeout else {
            return;
        };
        let period = (timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
        let weak: Weak<Scheduler> = Arc::downgrade(scheduler);
        let sweeper = async move {
            let mut interval = tokio::time::interval(period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                interval.tick().await;
                let Some(scheduler) = weak.upgrade() else {
                    return;
                };
                scheduler.sweep_idle();
            }
        };
        match runtime {
            Some(runtime) => drop(runtime.spawn(sweeper)),
            None => drop(tokio::spawn(sweeper)),
        }
    }

    /// Marks every worker of `function` retired: each is destroyed once idle, and new requests
    /// get fresh workers (used when its code changed).
    pub(crate) fn retire_all(&self, function: &str) {
        let books = self.books();
        let ids: Vec<WorkerId> = books
            .functions
            .get(function)
            .map(|f| f.workers.iter().map(|w| w.id).collect())
            .unwrap_or_default();
        drop(books);
        for id in ids {
            self.retire(function, id);
        }
    }

    /// The workers of every function right now.
    pub(crate) fn snapshot(&self) -> Vec<crate::observer::FunctionSnapshot> {
        self.books()
            .functions
            .iter()
            .filter(|(_, f)| !f.workers.is_empty())
            .map(|(name, f)| crate::observer::FunctionSnapshot {
                function: name.clone(),
                active: f.workers.iter().filter(|w| w.inflight > 0).count(),
                idle: f.workers.iter().filter(|w| w.inflight == 0).count(),
                memory_bytes: f.workers.iter().map(|w| w.memory).sum(),
            })
            .collect()
    }

    /// Workers alive for a function, for tests and metrics.
    pub(crate) fn workers_of(&self, function: &str) -> usize {
        self.books()
            .functions
            .get(function)
            .map_or(0, |f| f.workers.len())
    }
}

fn workers_notify(books: &mut Books, function: &str) -> Arc<Notify> {
    books
        .functions
        .entry(function.to_owned())
        .or_default()
        .freed
        .clone()
}

// === impl Lease ===

impl Drop for Lease {
    fn drop(&mut self) {
        self.scheduler.release(self);
    }
}
