//! One user-worker thread: a current-thread tokio runtime and a `LocalSet` hosting the isolates
//! of the functions placed on it, one isolate per function (the `per_worker` policy).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use edgefn_isolate::{
    BootError, HandlerError, IncomingRequest, Isolate, IsolateOptions, LogLevel, OutgoingResponse,
};
use futures_util::FutureExt;
use futures_util::future::{LocalBoxFuture, Shared};
use tokio::sync::{mpsc, oneshot};

use crate::error::{TerminationReason, WorkerError};
use crate::functions::Function;
use crate::pool::PoolConfig;

/// Work sent to a thread.
pub(crate) enum Command {
    /// Serve a request with a function, booting its isolate if needed.
    Dispatch {
        function: Arc<Function>,
        request: IncomingRequest,
        reply: oneshot::Sender<Result<OutgoingResponse, WorkerError>>,
    },
}

/// Process-wide counter for worker ids, so that log lines of different workers never mix.
static NEXT_WORKER_ID: AtomicU64 = AtomicU64::new(1);

type BootFuture = Shared<LocalBoxFuture<'static, Result<Worker, BootError>>>;

/// A booted isolate and the id it is known by in logs.
#[derive(Clone)]
struct Worker {
    id: u64,
    isolate: Isolate,
}

enum Slot {
    Booting(BootFuture),
    Ready(Worker),
}

pub(crate) struct WorkerThread {
    index: usize,
    config: PoolConfig,
    slots: RefCell<HashMap<String, Slot>>,
}

impl WorkerThread {
    pub(crate) fn new(index: usize, config: PoolConfig) -> Rc<WorkerThread> {
        Rc::new(WorkerThread {
            index,
            config,
            slots: RefCell::new(HashMap::new()),
        })
    }

    /// Serves commands until the inbox closes, then drops every isolate.
    pub(crate) fn run(self: Rc<Self>, mut inbox: mpsc::UnboundedReceiver<Command>) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread tokio runtime can always be built");
        let local = tokio::task::LocalSet::new();
        local.block_on(&runtime, async {
            while let Some(command) = inbox.recv().await {
                let thread = self.clone();
                tokio::task::spawn_local(async move { thread.handle(command).await });
            }
        });
        let workers = self.slots.borrow_mut().drain().count();
        tracing::debug!(thread = self.index, workers, "worker thread stopped");
    }

    async fn handle(self: Rc<Self>, command: Command) {
        let Command::Dispatch {
            function,
            request,
            reply,
        } = command;
        let worker = match self.worker_for(&function).await {
            Ok(worker) => worker,
            Err(error) => {
                let _ = reply.send(Err(WorkerError::Boot(error)));
                return;
            }
        };
        let result = worker
            .isolate
            .dispatch(request)
            .await
            .unwrap_or(Err(HandlerError::Dropped));
        if let Err(error) = &result {
            self.report(&function, &worker, error);
        }
        let _ = reply.send(result.map_err(WorkerError::from));
    }

    /// The function's worker on this thread, booted on first use. Concurrent requests during
    /// a boot wait for the same boot; a failed boot is not remembered, so the next request
    /// tries again (the code may have been fixed).
    async fn worker_for(&self, function: &Arc<Function>) -> Result<Worker, BootError> {
        let existing = match self.slots.borrow().get(&function.name) {
            Some(Slot::Ready(worker)) if !worker.isolate.is_poisoned() => {
                return Ok(worker.clone());
            }
            Some(Slot::Booting(boot)) => Some(boot.clone()),
            _ => None,
        };
        if let Some(boot) = existing {
            return boot.await;
        }
        let boot = boot(function.clone(), self.config.clone())
            .boxed_local()
            .shared();
        self.slots
            .borrow_mut()
            .insert(function.name.clone(), Slot::Booting(boot.clone()));
        let result = boot.await;
        let mut slots = self.slots.borrow_mut();
        match &result {
            Ok(worker) => {
                slots.insert(function.name.clone(), Slot::Ready(worker.clone()));
            }
            Err(error) => {
                slots.remove(&function.name);
                tracing::error!(function = %function.name, %error, "function failed to boot");
            }
        }
        result
    }

    /// Logs a failed request and discards the worker if it can no longer be trusted.
    fn report(&self, function: &Function, worker: &Worker, error: &HandlerError) {
        match error {
            HandlerError::Uncaught { message, .. } => {
                tracing::error!(function = %function.name, worker_id = worker.id, %message, "uncaught exception in handler");
            }
            HandlerError::InvalidResponse(message) => {
                tracing::error!(function = %function.name, worker_id = worker.id, %message, "handler returned an invalid response");
            }
            HandlerError::Panicked(_) | HandlerError::Dropped => {}
        }
        if worker.isolate.is_poisoned() {
            let mut slots = self.slots.borrow_mut();
            if matches!(slots.get(&function.name), Some(Slot::Ready(w)) if w.id == worker.id) {
                slots.remove(&function.name);
            }
            tracing::error!(
                function = %function.name,
                worker_id = worker.id,
                reason = TerminationReason::Panic.as_str(),
                %error,
                "worker discarded"
            );
        }
    }
}

async fn boot(function: Arc<Function>, config: PoolConfig) -> Result<Worker, BootError> {
    let started = Instant::now();
    let id = NEXT_WORKER_ID.fetch_add(1, Ordering::Relaxed);
    let name = function.name.clone();
    let log = Rc::new(move |level: LogLevel, message: &str| match level {
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
    });
    let isolate = Isolate::new(IsolateOptions {
        memory_limit_bytes: config.memory_limit_bytes,
        env: function.settings.env.clone(),
        user_agent: config.user_agent.clone(),
        log,
    })?;
    isolate.boot(&function.root).await?;
    tracing::info!(
        function = %function.name,
        worker_id = id,
        boot_ms = started.elapsed().as_secs_f64() * 1000.0,
        "worker booted"
    );
    Ok(Worker { id, isolate })
}
