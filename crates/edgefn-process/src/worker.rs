//! One supervised process: started with Lambda's environment and resource limits, fed one
//! invocation at a time through its Runtime API, and watched until it exits.
//!
//! Limits: the wall clock of each invocation (past it the process is killed), memory through a
//! cgroup v2 `memory.max` where the machine allows it (see `cgroup.rs`) and `RLIMIT_AS`
//! otherwise, and CPU time through `RLIMIT_CPU` (the rlimits are set with util-linux's
//! `prlimit`, which then executes the command, so no `unsafe` pre-exec hook is needed). CPU
//! time and resident memory are read from `/proc/<pid>`.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use edgefn_isolate::{
    BodyError, BootError, IncomingRequest, LogLevel, LogSink, OutgoingResponse, ResponseBody,
};
use http_body_util::BodyExt as _;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{mpsc, oneshot};

use crate::api::{self, Invocation, Outcome, Shared};
use crate::apigw;
use crate::cgroup::{CGROUP_ROOT, MemoryCgroup};

/// Ticks per second of the CPU times in `/proc/<pid>/stat` (`USER_HZ`, fixed by the kernel ABI).
const USER_HZ: u64 = 100;
/// Bytes per page in `/proc/<pid>/statm`.
const PAGE_BYTES: usize = 4096;
/// Log lines kept to explain a process that exits during init.
const STDERR_TAIL: usize = 20;
/// `PATH` a process gets unless configured otherwise (Lambda's).
const DEFAULT_PATH: &str = "/usr/local/bin:/usr/bin/:/bin:/opt/bin";

/// How to run one process worker.
pub struct ProcessOptions {
    /// The function's name.
    pub function: String,
    /// The program and its arguments; a relative program is taken from the task root.
    pub command: Vec<String>,
    /// `_HANDLER`.
    pub handler: String,
    /// The function's folder (`LAMBDA_TASK_ROOT` and the working directory).
    pub task_root: PathBuf,
    /// The function's configured environment variables.
    pub env: BTreeMap<String, String>,
    /// Memory limit in bytes; `0` means none.
    pub memory_limit_bytes: usize,
    /// CPU time after which the process is killed; `None` means no limit.
    pub cpu_time_limit: Option<Duration>,
    /// Where each line of the process's stdout and stderr goes.
    pub log: LogSink,
}

/// Why a process is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessStop {
    /// The process exited or crashed on its own.
    Exited,
    /// It used its CPU time limit.
    CpuTime,
    /// It ran out of memory under its limit.
    Memory,
    /// An invocation ran past its deadline; the process was killed.
    WallClock,
    /// Its owner stopped it.
    Owner,
}

/// Why an invocation has no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    /// The function reported an error (`/invocation/{id}/error`).
    #[error("{error_type}: {error_message}")]
    Function {
        /// Its `errorType`.
        error_type: String,
        /// Its `errorMessage`.
        error_message: String,
    },
    /// The function's result is not a valid response.
    #[error("{0}")]
    InvalidResult(String),
    /// The request body is over Lambda's 6 MB payload limit.
    #[error("the request is over the 6 MB payload limit")]
    RequestTooLarge,
    /// The process is gone.
    #[error("the process stopped ({stop:?}): {detail}")]
    Stopped {
        /// Why.
        stop: ProcessStop,
        /// What happened.
        detail: String,
    },
}

/// A running process worker.
pub struct ProcessWorker {
    shared: Rc<Shared>,
    state: Rc<ProcessState>,
    function: String,
}

/// What the exit watcher and the worker share.
struct ProcessState {
    pid: u32,
    stopped: Cell<Option<ProcessStop>>,
    exit_detail: RefCell<String>,
    kill: RefCell<Option<oneshot::Sender<ProcessStop>>>,
    cpu_time_limit: Option<Duration>,
    stderr_tail: RefCell<VecDeque<String>>,
    api_task: RefCell<Option<tokio::task::JoinHandle<()>>>,
    /// The memory cgroup, where cgroup v2 is available.
    cgroup: Option<MemoryCgroup>,
}

impl ProcessWorker {
    /// Starts the process and waits until it asks for its first invocation. An init error it
    /// reports, or an exit before that, is a boot error with the end of its output.
    pub async fn start(options: ProcessOptions) -> Result<ProcessWorker, BootError> {
        let boot = |message: String| BootError::Module(message);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| boot(format!("cannot open the Runtime API: {e}")))?;
        let api_addr = listener
            .local_addr()
            .map_err(|e| boot(format!("cannot open the Runtime API: {e}")))?;
        let (ready_tx, ready) = oneshot::channel();
        let shared = Shared::new(&options.function, ready_tx);
        let api_task = tokio::task::spawn_local(serve_api(listener, shared.clone()));

        let cgroup = (options.memory_limit_bytes > 0)
            .then(|| {
                let name = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4());
                MemoryCgroup::create(Path::new(CGROUP_ROOT), &name, options.memory_limit_bytes)
            })
            .flatten();
        let mut command = command(&options, &api_addr.to_string(), cgroup.is_none())?;
        let mut child = command
            .spawn()
            .map_err(|e| boot(format!("cannot start {:?}: {e}", options.command[0])))?;
        let pid = child.id().unwrap_or(0);
        if let Some(cgroup) = &cgroup
            && let Err(error) = cgroup.add(pid)
        {
            tracing::warn!(%error, "cannot move the process into its memory cgroup");
        }
        let (kill_tx, kill_rx) = oneshot::channel();
        let state = Rc::new(ProcessState {
            pid,
            stopped: Cell::new(None),
            exit_detail: RefCell::new(String::new()),
            kill: RefCell::new(Some(kill_tx)),
            cpu_time_limit: options.cpu_time_limit,
            stderr_tail: RefCell::new(VecDeque::new()),
            api_task: RefCell::new(Some(api_task)),
            cgroup,
        });
        if let Some(stdout) = child.stdout.take() {
            forward_lines(stdout, LogLevel::Info, options.log.clone(), state.clone());
        }
        if let Some(stderr) = child.stderr.take() {
            forward_lines(stderr, LogLevel::Error, options.log.clone(), state.clone());
        }
        tokio::task::spawn_local(watch_exit(child, kill_rx, state.clone(), shared.clone()));

        match ready.await {
            Ok(Ok(())) => Ok(ProcessWorker {
                shared,
                state,
                function: options.function,
            }),
            Ok(Err(init_error)) => {
                state.kill(ProcessStop::Owner);
                Err(boot(format!("init error: {init_error}")))
            }
            Err(_) => {
                let tail: Vec<String> = state.stderr_tail.borrow().iter().cloned().collect();
                Err(boot(format!(
                    "the process exited before asking for an invocation ({}){}",
                    state.exit_detail.borrow(),
                    if tail.is_empty() {
                        String::new()
                    } else {
                        format!("; its last output:\n{}", tail.join("\n"))
                    }
                )))
            }
        }
    }

    /// Sends one request to the process as an API Gateway event and maps its result back.
    pub async fn invoke(
        &self,
        request: IncomingRequest,
        deadline: Instant,
    ) -> Result<OutgoingResponse, InvokeError> {
        if let Some(stop) = self.state.stopped.get() {
            return Err(self.stopped_error(stop));
        }
        let body = match request.body {
            None => Bytes::new(),
            Some(stream) => {
                let collected = http_body_util::Limited::new(
                    http_body_util::StreamBody::new(futures_util::StreamExt::map(stream, |r| {
                        r.map(http_body::Frame::data)
                    })),
                    api::MAX_PAYLOAD_BYTES,
                )
                .collect()
                .await
                .map_err(|_| InvokeError::RequestTooLarge)?;
                collected.to_bytes()
            }
        };
        let id = uuid::Uuid::new_v4().to_string();
        let facts = apigw::RequestFacts {
            function: &self.function,
            method: request.method.as_str(),
            url: &request.url,
            headers: &request.headers,
            source_ip: request
                .remote_addr
                .map(|a| a.ip().to_string())
                .unwrap_or_default(),
            request_id: &id,
        };
        let event = apigw::event(&facts, &body);
        let remaining = deadline.saturating_duration_since(Instant::now());
        let deadline_ms = SystemTime::now()
            .checked_add(remaining)
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis() as u64);
        let (reply, outcome) = oneshot::channel();
        self.shared.submit(Invocation {
            id,
            deadline_ms,
            event: Bytes::from(event.to_string()),
            reply,
        });
        let outcome = match tokio::time::timeout_at(deadline.into(), outcome).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(_)) => {
                let stop = self.wait_stopped().await;
                return Err(self.stopped_error(stop));
            }
            Err(_) => {
                self.state.kill(ProcessStop::WallClock);
                return Err(self.stopped_error(ProcessStop::WallClock));
            }
        };
        match outcome {
            Outcome::Payload(payload) => {
                apigw::response(&payload).map_err(|e| InvokeError::InvalidResult(e.0))
            }
            Outcome::Stream {
                content_type,
                chunks,
            } => streamed_response(content_type, chunks).await,
            Outcome::TooLarge => Err(InvokeError::Function {
                error_type: "Function.ResponseSizeTooLarge".into(),
                error_message: format!(
                    "the response payload is over {} bytes",
                    api::MAX_PAYLOAD_BYTES
                ),
            }),
            Outcome::FunctionError {
                error_type,
                error_message,
            } => {
                // A runtime out of memory under RLIMIT_AS reports it as an error; the process
                // cannot be trusted afterwards.
                if matches!(error_type.as_str(), "MemoryError" | "Runtime.OutOfMemory") {
                    self.state.kill(ProcessStop::Memory);
                    return Err(self.stopped_error(ProcessStop::Memory));
                }
                Err(InvokeError::Function {
                    error_type,
                    error_message,
                })
            }
        }
    }

    /// Why the process is gone, once it is.
    pub fn stopped(&self) -> Option<ProcessStop> {
        self.state.stopped.get()
    }

    /// Kills the process.
    pub fn stop(&self) {
        self.state.kill(ProcessStop::Owner);
    }

    /// CPU time the process used (user and system).
    pub fn cpu_time(&self) -> Duration {
        cpu_time(self.state.pid)
    }

    /// Resident memory of the process.
    pub fn memory_used_bytes(&self) -> usize {
        std::fs::read_to_string(format!("/proc/{}/statm", self.state.pid))
            .ok()
            .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<usize>().ok())
            .map_or(0, |pages| pages * PAGE_BYTES)
    }

    async fn wait_stopped(&self) -> ProcessStop {
        for _ in 0..200 {
            if let Some(stop) = self.state.stopped.get() {
                return stop;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.state.stopped.get().unwrap_or(ProcessStop::Exited)
    }

    fn stopped_error(&self, stop: ProcessStop) -> InvokeError {
        let detail = match stop {
            ProcessStop::WallClock => "the invocation ran past the wall-clock limit".to_owned(),
            ProcessStop::CpuTime => "the process used its CPU time limit".to_owned(),
            ProcessStop::Memory => "the process ran out of memory under its limit".to_owned(),
            ProcessStop::Owner => "the process was stopped".to_owned(),
            ProcessStop::Exited => {
                format!("the process exited ({})", self.state.exit_detail.borrow())
            }
        };
        InvokeError::Stopped { stop, detail }
    }
}

impl Drop for ProcessWorker {
    fn drop(&mut self) {
        self.state.kill(ProcessStop::Owner);
    }
}

impl ProcessState {
    fn kill(&self, stop: ProcessStop) {
        if self.stopped.get().is_none() {
            self.stopped.set(Some(stop));
        }
        if let Some(kill) = self.kill.borrow_mut().take() {
            let _ = kill.send(stop);
        }
    }
}

/// The command: Lambda's environment and nothing else, limits through `prlimit`.
fn command(
    options: &ProcessOptions,
    api: &str,
    limit_address_space: bool,
) -> Result<tokio::process::Command, BootError> {
    let (program, args) = options
        .command
        .split_first()
        .ok_or_else(|| BootError::Module("the process command is empty".into()))?;
    let program = if program.starts_with("./") || program.starts_with("../") {
        options.task_root.join(program).display().to_string()
    } else {
        program.clone()
    };
    let mut limits = Vec::new();
    if options.memory_limit_bytes > 0 && limit_address_space {
        limits.push(format!("--as={}", options.memory_limit_bytes));
    }
    if let Some(cpu) = options.cpu_time_limit {
        let soft = cpu.as_secs().max(1);
        limits.push(format!("--cpu={soft}:{}", soft + 1));
    }
    let mut command = if limits.is_empty() {
        tokio::process::Command::new(&program)
    } else {
        let mut prlimit = tokio::process::Command::new("prlimit");
        prlimit.args(&limits).arg("--").arg(&program);
        prlimit
    };
    command.args(args);
    let memory_mb = (options.memory_limit_bytes / (1024 * 1024)).max(1);
    command
        .env_clear()
        .env("PATH", DEFAULT_PATH)
        .env("LANG", "en_US.UTF-8")
        .env("TZ", ":UTC")
        .envs(&options.env)
        .env("AWS_LAMBDA_FUNCTION_NAME", &options.function)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", memory_mb.to_string())
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_RUNTIME_API", api)
        .env("_HANDLER", &options.handler)
        .env("LAMBDA_TASK_ROOT", &options.task_root)
        .current_dir(&options.task_root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    Ok(command)
}

async fn serve_api(listener: tokio::net::TcpListener, shared: Rc<Shared>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = shared.clone();
        tokio::task::spawn_local(async move {
            let service =
                hyper::service::service_fn(move |request| api::handle(shared.clone(), request));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

fn forward_lines(
    stream: impl tokio::io::AsyncRead + Unpin + 'static,
    level: LogLevel,
    log: LogSink,
    state: Rc<ProcessState>,
) {
    tokio::task::spawn_local(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            log(level, &line);
            let mut tail = state.stderr_tail.borrow_mut();
            tail.push_back(line);
            if tail.len() > STDERR_TAIL {
                tail.pop_front();
            }
        }
    });
}

/// Waits for the process to exit (or kills it on request), then records why and fails what
/// waited on it.
async fn watch_exit(
    mut child: tokio::process::Child,
    kill: oneshot::Receiver<ProcessStop>,
    state: Rc<ProcessState>,
    shared: Rc<Shared>,
) {
    let status = tokio::select! {
        status = child.wait() => status,
        _ = kill => {
            let _ = child.start_kill();
            child.wait().await
        }
    };
    let cpu_limit_hit = state
        .cpu_time_limit
        .is_some_and(|limit| cpu_time(state.pid) >= limit);
    let oom_killed = state.cgroup.as_ref().is_some_and(MemoryCgroup::oom_killed);
    let (stop, detail) = match &status {
        Ok(status) if oom_killed => (ProcessStop::Memory, format!("{status}")),
        Ok(status) => match status.signal() {
            Some(SIGXCPU) => (ProcessStop::CpuTime, format!("{status}")),
            Some(SIGKILL) if cpu_limit_hit => (ProcessStop::CpuTime, format!("{status}")),
            _ => (ProcessStop::Exited, format!("{status}")),
        },
        Err(error) => (ProcessStop::Exited, error.to_string()),
    };
    if state.stopped.get().is_none() {
        state.stopped.set(Some(stop));
    }
    *state.exit_detail.borrow_mut() = detail;
    state.kill.borrow_mut().take();
    if let Some(api) = state.api_task.borrow_mut().take() {
        api.abort();
    }
    // Drop every reply channel: waiters see the process is gone.
    shared.abandon();
}

const SIGXCPU: i32 = 24;
const SIGKILL: i32 = 9;

fn cpu_time(pid: u32) -> Duration {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Duration::ZERO;
    };
    // Fields after the command name (which may contain spaces) are space-separated; utime and
    // stime are fields 14 and 15 of the whole line.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let total = ticks(11) + ticks(12);
    Duration::from_millis(total * 1000 / USER_HZ)
}

/// A streamed result: with the HTTP-integration content type, a JSON prelude (status,
/// headers, cookies) and eight NUL bytes come first; otherwise the whole stream is the body.
async fn streamed_response(
    content_type: Option<String>,
    mut chunks: mpsc::Receiver<Result<Bytes, String>>,
) -> Result<OutgoingResponse, InvokeError> {
    let mut status = http::StatusCode::OK;
    let mut headers = http::HeaderMap::new();
    let mut first = Vec::new();
    if api::is_http_integration(content_type.as_deref()) {
        let mut buffered = Vec::new();
        let split = loop {
            if let Some(at) = buffered.windows(8).position(|w| w == [0u8; 8]) {
                break at;
            }
            match chunks.recv().await {
                Some(Ok(chunk)) => buffered.extend_from_slice(&chunk),
                _ => {
                    return Err(InvokeError::InvalidResult(
                        "the streamed response ended inside its prelude".into(),
                    ));
                }
            }
        };
        let mut prelude = buffered[..split].to_vec();
        if !prelude
            .windows(b"statusCode".len())
            .any(|w| w == b"statusCode")
        {
            prelude = br#"{"statusCode":200}"#.to_vec();
        }
        let mapped = apigw::response(&prelude).map_err(|e| InvokeError::InvalidResult(e.0))?;
        status = mapped.status;
        headers = mapped.headers;
        first = buffered[split + 8..].to_vec();
    } else if let Some(value) = content_type.and_then(|t| http::HeaderValue::from_str(&t).ok()) {
        headers.insert(http::header::CONTENT_TYPE, value);
    }
    let (sender, receiver) = mpsc::channel(16);
    tokio::task::spawn_local(async move {
        if !first.is_empty() && sender.send(Ok(Bytes::from(first))).await.is_err() {
            return;
        }
        while let Some(chunk) = chunks.recv().await {
            if sender.send(chunk.map_err(BodyError)).await.is_err() {
                return;
            }
        }
    });
    Ok(OutgoingResponse {
        status,
        status_text: None,
        headers,
        body: ResponseBody::Stream(receiver),
    })
}
