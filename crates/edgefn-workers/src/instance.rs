//! What a worker runs: a JavaScript isolate or a child process, behind the few operations the
//! supervisor needs.

use std::time::Duration;

use edgefn_isolate::{Isolate, Stop};
use edgefn_process::{InvokeError, ProcessStop, ProcessWorker};

use crate::error::{TerminationReason, WorkerError};

pub(crate) enum Instance {
    Isolate(Isolate),
    Process(ProcessWorker),
}

impl Instance {
    /// Why the instance ended, once it has.
    pub(crate) fn stopped(&self) -> Option<TerminationReason> {
        match self {
            Instance::Isolate(isolate) => isolate.stopped().map(TerminationReason::from_stop),
            Instance::Process(process) => process.stopped().map(from_process_stop),
        }
    }

    /// Stops the instance (its owner no longer needs it).
    pub(crate) fn stop(&self, detail: &str) {
        match self {
            Instance::Isolate(isolate) => isolate.stop(Stop::Owner, detail),
            Instance::Process(process) => process.stop(),
        }
    }

    pub(crate) fn cpu_time(&self) -> Duration {
        match self {
            Instance::Isolate(isolate) => isolate.cpu_time(),
            Instance::Process(process) => process.cpu_time(),
        }
    }

    pub(crate) fn memory_used_bytes(&self) -> usize {
        match self {
            Instance::Isolate(isolate) => isolate.memory_used_bytes(),
            Instance::Process(process) => process.memory_used_bytes(),
        }
    }

    /// `beforeunload` for an isolate; a process gets nothing before it is stopped.
    pub(crate) fn before_unload(&self) {
        if let Instance::Isolate(isolate) = self {
            isolate.before_unload();
        }
    }

    /// Resolves when the instance's `waitUntil` work has settled (at once for a process).
    pub(crate) async fn background_settled(&self) {
        if let Instance::Isolate(isolate) = self {
            isolate.background_settled().await;
        }
    }

    pub(crate) fn background_work(&self) -> usize {
        match self {
            Instance::Isolate(isolate) => isolate.background_work(),
            Instance::Process(_) => 0,
        }
    }
}

pub(crate) fn from_process_stop(stop: ProcessStop) -> TerminationReason {
    match stop {
        ProcessStop::Exited => TerminationReason::ProcessExited,
        ProcessStop::CpuTime => TerminationReason::CpuTime,
        ProcessStop::Memory => TerminationReason::Memory,
        ProcessStop::WallClock => TerminationReason::WallClock,
        ProcessStop::Owner => TerminationReason::Shutdown,
    }
}

impl From<InvokeError> for WorkerError {
    fn from(error: InvokeError) -> Self {
        match error {
            InvokeError::Function {
                error_type,
                error_message,
            } => WorkerError::FunctionError {
                error_type,
                error_message,
            },
            InvokeError::InvalidResult(message) => WorkerError::InvalidResponse(message),
            InvokeError::RequestTooLarge => WorkerError::PayloadTooLarge,
            InvokeError::Stopped { stop, detail } => WorkerError::Terminated {
                reason: from_process_stop(stop),
                detail,
            },
        }
    }
}
