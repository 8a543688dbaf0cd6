//! The user-worker pool: pinned threads, each hosting the isolates of the functions placed on it.

use std::sync::Arc;
use std::thread::JoinHandle;

use edgefn_isolate::{IncomingRequest, OutgoingResponse};
use tokio::sync::{mpsc, oneshot};

use crate::error::{TerminationReason, WorkerError};
use crate::functions::Function;
use crate::thread::{Command, WorkerThread};

/// Native stack of a user-worker thread, in bytes: the engine's own limit plus room for the
/// host code around it.
const THREAD_STACK_BYTES: usize = 8 * 1024 * 1024;

/// How the pool and the isolates in it are built.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Number of user-worker threads.
    pub threads: usize,
    /// Pin each thread to one CPU core (round-robin over the available cores).
    pub pin_threads: bool,
    /// Heap limit of each isolate in bytes; `0` means no limit.
    pub memory_limit_bytes: usize,
    /// `navigator.userAgent` inside every isolate.
    pub user_agent: String,
}

/// The pool of user-worker threads.
pub struct WorkerPool {
    senders: Vec<mpsc::UnboundedSender<Command>>,
    handles: Vec<JoinHandle<()>>,
}

impl WorkerPool {
    /// Starts `config.threads` threads named `edgefn-worker-<i>`.
    pub fn start(config: PoolConfig) -> std::io::Result<WorkerPool> {
        let threads = config.threads.max(1);
        let cores = if config.pin_threads {
            core_affinity::get_core_ids().unwrap_or_default()
        } else {
            Vec::new()
        };
        let mut senders = Vec::with_capacity(threads);
        let mut handles = Vec::with_capacity(threads);
        for index in 0..threads {
            let (tx, rx) = mpsc::unbounded_channel();
            let core = (!cores.is_empty()).then(|| cores[index % cores.len()]);
            let config = config.clone();
            let handle = std::thread::Builder::new()
                .name(format!("edgefn-worker-{index}"))
                .stack_size(THREAD_STACK_BYTES)
                .spawn(move || {
                    if let Some(core) = core {
                        core_affinity::set_for_current(core);
                    }
                    WorkerThread::new(index, config).run(rx);
                })?;
            senders.push(tx);
            handles.push(handle);
        }
        Ok(WorkerPool { senders, handles })
    }

    /// Number of threads in the pool.
    pub fn threads(&self) -> usize {
        self.senders.len()
    }

    /// Serves `request` with `function`, booting its isolate first if needed.
    pub async fn dispatch(
        &self,
        function: &Arc<Function>,
        request: IncomingRequest,
    ) -> Result<OutgoingResponse, WorkerError> {
        let (reply, response) = oneshot::channel();
        let sender = &self.senders[function.thread % self.senders.len()];
        let gone = || WorkerError::Terminated {
            reason: TerminationReason::Shutdown,
            detail: "the worker thread is not running".into(),
        };
        sender
            .send(Command::Dispatch {
                function: function.clone(),
                request,
                reply,
            })
            .map_err(|_| gone())?;
        response.await.map_err(|_| gone())?
    }
}

impl Drop for WorkerPool {
    /// Closes every thread's inbox and waits for the threads to drop their isolates.
    fn drop(&mut self) {
        self.senders.clear();
        for handle in self.handles.drain(..) {
            let _ = handle.join();
        }
    }
}
