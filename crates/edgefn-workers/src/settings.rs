//! What a function is allowed: its pool policy, parallelism and resource limits.

use std::collections::BTreeMap;
use std::time::Duration;

use std::path::Path;

use edgefn_runtime::FunctionRuntimeKind;
pub use edgefn_runtime::Policy;

/// Resource limits of one function's isolates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Heap limit of each isolate, in bytes.
    pub memory_bytes: usize,
    /// CPU time after which an isolate is retired (it finishes its requests, takes no new ones).
    pub cpu_soft: Duration,
    /// CPU time after which an isolate is stopped at once.
    pub cpu_hard: Duration,
    /// Longest a single request may take; past it the isolate is stopped.
    pub wall_clock: Duration,
}

impl Limits {
    /// The limits of a `[limits]` configuration section.
    pub fn from_config(config: &edgefn_runtime::LimitsConfig) -> Limits {
        Limits {
            memory_bytes: usize::try_from(config.memory_mb.saturating_mul(1024 * 1024))
                .unwrap_or(usize::MAX),
            cpu_soft: Duration::from_millis(config.cpu_soft_ms),
            cpu_hard: Duration::from_millis(config.cpu_hard_ms),
            wall_clock: Duration::from_millis(config.wall_clock_ms),
        }
    }
}

/// Everything configured for one function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSettings {
    /// Environment variables of the function; the process environment is never visible to it.
    pub env: BTreeMap<String, String>,
    /// How its isolates are created and reused.
    pub policy: Policy,
    /// Most isolates of this function at once; `0` means one per user-worker thread.
    pub max_parallelism: usize,
    /// Resource limits of each of its isolates.
    pub limits: Limits,
    /// The function is the main service: its isolates get `EdgeRuntime.userWorkers`.
    pub main_service: bool,
    /// How the function runs.
    pub runtime: Runtime,
    /// Workers to boot at start-up.
    pub prestart: usize,
    /// Hosts `fetch()` may reach; `None` allows all.
    pub allowed_hosts: Option<Vec<String>>,
}

/// How a function runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Runtime {
    /// JavaScript/TypeScript in QuickJS isolates.
    Isolate,
    /// A child process per worker, speaking the Lambda Runtime API.
    Process {
        /// The program and its arguments.
        command: Vec<String>,
        /// `_HANDLER`.
        handler: String,
    },
    /// Decided by the function's folder (`function.toml`, an executable `bootstrap`).
    FromFolder,
    /// The folder's declaration is broken; booting fails with this message.
    Invalid(String),
}

/// `function.toml` in a function's folder.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    runtime: Option<FunctionRuntimeKind>,
    command: Option<Vec<String>>,
    handler: Option<String>,
}

impl Runtime {
    /// The runtime of configuration values (`runtime`, `command`, `handler`).
    fn from_parts(
        kind: Option<FunctionRuntimeKind>,
        command: Option<Vec<String>>,
        handler: Option<String>,
        source: &str,
    ) -> Runtime {
        match (kind, command) {
            (Some(FunctionRuntimeKind::Isolate), _) => Runtime::Isolate,
            (Some(FunctionRuntimeKind::Process) | None, Some(command)) if !command.is_empty() => {
                let handler =
                    handler.unwrap_or_else(|| command.last().cloned().unwrap_or_default());
                Runtime::Process { command, handler }
            }
            (Some(FunctionRuntimeKind::Process), _) => Runtime::Invalid(format!(
                "{source}: runtime = \"process\" needs a non-empty command"
            )),
            (None, _) => Runtime::FromFolder,
        }
    }

    /// Settles [`Runtime::FromFolder`] by looking at the function's folder.
    pub fn resolve(self, root: &Path) -> Runtime {
        if self != Runtime::FromFolder {
            return self;
        }
        let manifest = root.join("function.toml");
        if manifest.is_file() {
            use figment::providers::{Format, Toml};
            return match figment::Figment::from(Toml::file_exact(&manifest)).extract::<Manifest>() {
                Ok(m) => {
                    match Runtime::from_parts(m.runtime, m.command, m.handler, "function.toml") {
                        Runtime::FromFolder => Runtime::Isolate,
                        runtime => runtime,
                    }
                }
                Err(error) => Runtime::Invalid(format!("{}: {error}", manifest.display())),
            };
        }
        let bootstrap = root.join("bootstrap");
        let executable = std::fs::metadata(&bootstrap).is_ok_and(|m| {
            m.is_file() && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0
        });
        if executable {
            return Runtime::Process {
                command: vec![bootstrap.display().to_string()],
                handler: String::new(),
            };
        }
        Runtime::Isolate
    }
}

impl FunctionSettings {
    /// The settings of function `name` in a configuration: its own section over the defaults.
    pub fn from_config(config: &edgefn_runtime::Config, name: &str) -> FunctionSettings {
        let own = config.functions.get(name);
        let limits = match own {
            Some(own) => config.limits.with(&own.limits),
            None => config.limits.clone(),
        };
        let runtime = match own {
            Some(f) => Runtime::from_parts(
                f.runtime,
                f.command.clone(),
                f.handler.clone(),
                &format!("functions.{name}"),
            ),
            None => Runtime::FromFolder,
        };
        FunctionSettings {
            runtime,
            prestart: own.map_or(0, |f| f.prestart),
            allowed_hosts: own.and_then(|f| f.allowed_hosts.clone()),
            env: own.map(|f| f.env.clone()).unwrap_or_default(),
            policy: own.and_then(|f| f.policy).unwrap_or(config.pool.policy),
            max_parallelism: own
                .and_then(|f| f.max_parallelism)
                .unwrap_or(config.pool.max_parallelism),
            limits: Limits::from_config(&limits),
            main_service: false,
        }
    }
}
