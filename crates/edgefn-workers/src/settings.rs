//! What a function is allowed: its pool policy, parallelism and resource limits.

use std::collections::BTreeMap;
use std::time::Duration;

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
    /// Most isolates of this function at once.
    pub max_parallelism: usize,
    /// Resource limits of each of its isolates.
    pub limits: Limits,
    /// The function is the main service: its isolates get `EdgeRuntime.userWorkers`.
    pub main_service: bool,
}

impl FunctionSettings {
    /// The settings of function `name` in a configuration: its own section over the defaults.
    pub fn from_config(config: &edgefn_runtime::Config, name: &str) -> FunctionSettings {
        let own = config.functions.get(name);
        let limits = match own {
            Some(own) => config.limits.with(&own.limits),
            None => config.limits.clone(),
        };
        FunctionSettings {
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
