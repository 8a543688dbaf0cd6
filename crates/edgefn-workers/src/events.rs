//! Events of every worker, and the sinks they go to.
//!
//! Each event names the function, the worker and the time, and carries one of a closed set of
//! payloads. Sinks: JSON lines on stdout ([`StdoutSink`]) and the event worker, a JS function
//! that reads them with `for await (const event of new EventManager())` ([`ChannelSink`]).
//! Emitting never blocks a worker: a sink that cannot keep up drops events and says so.
//!
//! The JSON shape, one object per event:
//! `{"event_type":"Boot","timestamp":"2026-01-01T00:00:00.000Z","function":"hello",
//!   "worker_id":3,"event":{"boot_time_ms":1.2}}`

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use serde::Serialize;
use tokio::sync::mpsc;

use crate::error::TerminationReason;

/// What happened to a worker.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event_type", content = "event")]
pub enum EventKind {
    /// The worker booted.
    Boot {
        /// Time from creating the isolate to the handler being ready, in ms.
        boot_time_ms: f64,
    },
    /// The function's code failed to load.
    BootFailure {
        /// Why, naming the file and line where there is one.
        message: String,
    },
    /// A handler threw or its promise rejected.
    UncaughtException {
        /// `Name: message` of the thrown value.
        message: String,
        /// The JavaScript stack, when there is one.
        stack: Option<String>,
    },
    /// A line the function logged through `console`.
    Log {
        /// `debug`, `info`, `warn` or `error`.
        level: &'static str,
        /// The formatted line.
        message: String,
    },
    /// The worker ended.
    Shutdown {
        /// One of the stable names of [`TerminationReason`].
        reason: &'static str,
        /// CPU time the worker spent inside JavaScript, in ms.
        cpu_time_ms: f64,
        /// Heap bytes the worker held when it ended.
        memory_bytes: usize,
    },
}

/// One event of one worker.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkerEvent {
    /// RFC 3339 time of the event, in UTC with milliseconds.
    pub timestamp: String,
    /// The function's name.
    pub function: String,
    /// The worker's process-unique id.
    pub worker_id: u64,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

impl WorkerEvent {
    /// An event happening now.
    pub fn now(function: &str, worker_id: u64, kind: EventKind) -> WorkerEvent {
        WorkerEvent {
            timestamp: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            function: function.to_owned(),
            worker_id,
            kind,
        }
    }

    /// The event as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("events always serialise")
    }
}

impl EventKind {
    /// The `Shutdown` event for a worker that ended for `reason`.
    pub fn shutdown(reason: TerminationReason, cpu_time_ms: f64, memory_bytes: usize) -> Self {
        EventKind::Shutdown {
            reason: reason.as_str(),
            cpu_time_ms,
            memory_bytes,
        }
    }
}

/// Where events go.
pub trait EventSink: Send + Sync {
    /// Takes one event; must not block.
    fn emit(&self, event: &WorkerEvent);
}

/// All the sinks of a process; cheap to clone.
#[derive(Clone, Default)]
pub struct Events {
    sinks: Arc<Vec<Arc<dyn EventSink>>>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("sinks", &self.sinks.len())
            .finish()
    }
}

impl Events {
    /// Events going to `sinks`.
    pub fn new(sinks: Vec<Arc<dyn EventSink>>) -> Events {
        Events {
            sinks: Arc::new(sinks),
        }
    }

    /// `true` when at least one sink listens (so callers can skip building events).
    pub fn enabled(&self) -> bool {
        !self.sinks.is_empty()
    }

    /// Sends an event to every sink.
    pub fn emit(&self, function: &str, worker_id: u64, kind: EventKind) {
        if self.sinks.is_empty() {
            return;
        }
        let event = WorkerEvent::now(function, worker_id, kind);
        for sink in self.sinks.iter() {
            sink.emit(&event);
        }
    }
}

/// JSON lines on stdout.
#[derive(Debug, Default)]
pub struct StdoutSink;

impl EventSink for StdoutSink {
    fn emit(&self, event: &WorkerEvent) {
        let mut line = event.to_json();
        line.push('\n');
        // A closed stdout is not a reason to disturb a worker.
        let _ = std::io::stdout().lock().write_all(line.as_bytes());
    }
}

/// Events as JSON text into a bounded channel (read by the event worker). When the reader
/// falls behind, events are dropped and a warning is logged once.
pub struct ChannelSink {
    sender: mpsc::Sender<String>,
    /// Events of this function are not sent (the event worker's own, to avoid a feedback loop).
    skip_function: String,
    warned: AtomicBool,
}

impl ChannelSink {
    /// A sink into `sender`, leaving out the events of `skip_function`.
    pub fn new(sender: mpsc::Sender<String>, skip_function: &str) -> ChannelSink {
        ChannelSink {
            sender,
            skip_function: skip_function.to_owned(),
            warned: AtomicBool::new(false),
        }
    }
}

impl EventSink for ChannelSink {
    fn emit(&self, event: &WorkerEvent) {
        if event.function == self.skip_function {
            return;
        }
        if self.sender.try_send(event.to_json()).is_err()
            && !self.warned.swap(true, Ordering::Relaxed)
        {
            tracing::warn!("the event worker is not keeping up; events are being dropped");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialise_with_type_payload_and_metadata() {
        let event = WorkerEvent {
            timestamp: "2026-01-01T00:00:00.000Z".into(),
            function: "hello".into(),
            worker_id: 3,
            kind: EventKind::shutdown(TerminationReason::CpuTime, 12.5, 1024),
        };
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&event.to_json()).unwrap(),
            serde_json::json!({
                "timestamp": "2026-01-01T00:00:00.000Z",
                "function": "hello",
                "worker_id": 3,
                "event_type": "Shutdown",
                "event": {"reason": "cpu", "cpu_time_ms": 12.5, "memory_bytes": 1024},
            })
        );
    }

    #[test]
    fn channel_sink_skips_its_own_function_and_drops_when_full() {
        let (tx, mut rx) = mpsc::channel(1);
        let sink = ChannelSink::new(tx, "events");
        let log = |function: &str| {
            WorkerEvent::now(
                function,
                1,
                EventKind::Log {
                    level: "info",
                    message: "x".into(),
                },
            )
        };
        sink.emit(&log("events"));
        sink.emit(&log("a"));
        sink.emit(&log("b"));
        let first: serde_json::Value = serde_json::from_str(&rx.try_recv().unwrap()).unwrap();
        assert_eq!(first["function"], "a");
        assert!(rx.try_recv().is_err());
    }
}
