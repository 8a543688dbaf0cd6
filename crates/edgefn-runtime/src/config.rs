//! Every configuration key, declared once with its unit and default.
//!
//! Layers, lowest first: built-in defaults < configuration files (in the order given) <
//! command-line overrides. Unknown keys and wrong types are errors that name the key and the
//! file; nothing falls back silently to a default.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The whole configuration of one edgefn process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Folder whose sub-folders are the functions. Default: `examples/functions`.
    pub functions_dir: PathBuf,
    /// A function folder that receives every request and routes it to user workers with
    /// `EdgeRuntime.userWorkers` (Supabase's main service). Default: none, the built-in router.
    pub main_service: Option<PathBuf>,
    /// The HTTP listener.
    pub server: ServerConfig,
    /// The user-worker pool.
    pub workers: WorkersConfig,
    /// How many isolates each function gets and when they come and go.
    pub pool: PoolConfig,
    /// Resource limits of every function, unless its own section overrides them.
    pub limits: LimitsConfig,
    /// Where worker events go.
    pub events: EventsConfig,
    /// Per-function sections, `[functions.<name>]`.
    pub functions: BTreeMap<String, FunctionConfig>,
}

/// `[events]`: where worker events (Boot, BootFailure, UncaughtException, Log, Shutdown) go.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EventsConfig {
    /// Write every event to stdout as one JSON line. Default: `false`.
    pub stdout: bool,
    /// A function folder run as the event worker, which reads the events with
    /// `for await (const event of new EventManager())`. Default: none.
    pub worker: Option<PathBuf>,
}

/// `[server]`: where the HTTP listener binds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on. Default: `127.0.0.1`.
    pub host: IpAddr,
    /// TCP port to listen on; `0` picks a free port. Default: `9000`.
    pub port: u16,
}

/// `[workers]`: the user-worker thread pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkersConfig {
    /// Number of user-worker threads; `0` means one per available CPU core. Default: `0`.
    pub threads: usize,
    /// Pin each user-worker thread to a CPU core. Default: `true`.
    pub pin_threads: bool,
}

/// `[pool]`: how many isolates each function gets and when they come and go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PoolConfig {
    /// Default policy of every function: `per_worker` (one isolate serves many requests at
    /// once), `per_request` (an isolate serves one request at a time, then the next), or
    /// `oneshot` (a fresh isolate per request). Default: `per_worker`.
    pub policy: Policy,
    /// Default number of isolates a function may have at once. Default: `1`.
    pub max_parallelism: usize,
    /// How long a request may wait for a free isolate before it is answered 503, in ms.
    /// Default: `10000`.
    pub request_wait_timeout_ms: u64,
    /// Most isolates alive in the process at once; past it the least recently used idle
    /// isolate is evicted. Default: `20000`.
    pub max_isolates: usize,
    /// An isolate idle for this long is evicted (scale to zero), in ms; `0` keeps idle
    /// isolates forever. Default: `300000`.
    pub idle_timeout_ms: u64,
    /// Bound on the memory of all warm isolates together, in MiB; past it the least recently
    /// used idle isolates are evicted. Default: `4096`.
    pub max_warm_memory_mb: u64,
}

/// A pool policy; see [`PoolConfig::policy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// One isolate serves many requests, concurrently, until it is retired.
    PerWorker,
    /// An isolate serves one request at a time and is then reused.
    PerRequest,
    /// A fresh isolate per request, destroyed afterwards.
    Oneshot,
}

/// `[limits]`: resource limits of every function's isolates, unless a function overrides them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Heap limit of an isolate, in MiB. Default: `150`.
    pub memory_mb: u64,
    /// CPU time after which an isolate is retired (finishes its requests, takes no new ones),
    /// in ms. Default: `10000`.
    pub cpu_soft_ms: u64,
    /// CPU time after which an isolate is stopped at once, in ms. Default: `20000`.
    pub cpu_hard_ms: u64,
    /// Longest a single request may take, in ms; past it the isolate is stopped and its
    /// requests answered 504. Default: `30000`.
    pub wall_clock_ms: u64,
}

/// `[functions.<name>.limits]`: a function's own limits; unset keys take `[limits]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsOverride {
    /// See [`LimitsConfig::memory_mb`].
    pub memory_mb: Option<u64>,
    /// See [`LimitsConfig::cpu_soft_ms`].
    pub cpu_soft_ms: Option<u64>,
    /// See [`LimitsConfig::cpu_hard_ms`].
    pub cpu_hard_ms: Option<u64>,
    /// See [`LimitsConfig::wall_clock_ms`].
    pub wall_clock_ms: Option<u64>,
}

/// `[functions.<name>]`: settings of one function.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FunctionConfig {
    /// Environment variables the function sees in `Deno.env` and in the `env` argument of
    /// `fetch`. The process environment is never visible to functions. Default: none.
    pub env: BTreeMap<String, String>,
    /// The function's pool policy. Default: `pool.policy`.
    pub policy: Option<Policy>,
    /// The function's isolates at once. Default: `pool.max_parallelism`.
    pub max_parallelism: Option<usize>,
    /// The function's limits. Default: `[limits]`.
    pub limits: LimitsOverride,
}

impl LimitsConfig {
    /// These limits with a function's overrides applied.
    pub fn with(&self, overrides: &LimitsOverride) -> LimitsConfig {
        LimitsConfig {
            memory_mb: overrides.memory_mb.unwrap_or(self.memory_mb),
            cpu_soft_ms: overrides.cpu_soft_ms.unwrap_or(self.cpu_soft_ms),
            cpu_hard_ms: overrides.cpu_hard_ms.unwrap_or(self.cpu_hard_ms),
            wall_clock_ms: overrides.wall_clock_ms.unwrap_or(self.wall_clock_ms),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            functions_dir: PathBuf::from("examples/functions"),
            main_service: None,
            server: ServerConfig::default(),
            workers: WorkersConfig::default(),
            pool: PoolConfig::default(),
            limits: LimitsConfig::default(),
            events: EventsConfig::default(),
            functions: BTreeMap::new(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 9000,
        }
    }
}

impl Default for WorkersConfig {
    fn default() -> Self {
        WorkersConfig {
            threads: 0,
            pin_threads: true,
        }
    }
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            policy: Policy::PerWorker,
            max_parallelism: 1,
            request_wait_timeout_ms: 10_000,
            max_isolates: 20_000,
            idle_timeout_ms: 300_000,
            max_warm_memory_mb: 4096,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            memory_mb: 150,
            cpu_soft_ms: 10_000,
            cpu_hard_ms: 20_000,
            wall_clock_ms: 30_000,
        }
    }
}

/// Where a configuration comes from.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    /// TOML files, lowest precedence first. Each must exist.
    pub files: Vec<PathBuf>,
    /// Values from the command line, as `(dotted.key, value)` pairs; they win over everything.
    pub overrides: Vec<(String, figment::value::Value)>,
}

/// A configuration that cannot be used; the message names the key and where it came from.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A configuration file could not be read.
    #[error("cannot read configuration file {path}: {source}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A value is malformed, of the wrong type, or a key is unknown.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl ConfigSources {
    /// Adds a command-line override of `key`.
    pub fn set(&mut self, key: &str, value: impl Serialize) {
        let value = figment::value::Value::serialize(value).expect("plain values serialise");
        self.overrides.push((key.to_owned(), value));
    }
}

impl Config {
    /// Merges the layers and validates the result.
    pub fn load(sources: &ConfigSources) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        for path in &sources.files {
            check_readable(path)?;
            figment = figment.merge(Toml::file_exact(path));
        }
        for (key, value) in &sources.overrides {
            figment = figment.merge(Serialized::global(key.as_str(), value.clone()));
        }
        let config = figment
            .extract::<Config>()
            .map_err(|error| ConfigError::Invalid(describe(error)))?;
        config.validate(&figment)?;
        Ok(config)
    }

    /// Checks what types alone cannot: values that must be positive, limits that must be
    /// ordered.
    fn validate(&self, figment: &Figment) -> Result<(), ConfigError> {
        let invalid = |key: &str, reason: &str| {
            let source = figment
                .find_metadata(key)
                .map(|meta| match &meta.source {
                    Some(source) => format!(" (from {source})"),
                    None => format!(" (from {})", meta.name),
                })
                .unwrap_or_default();
            Err(ConfigError::Invalid(format!("{key}: {reason}{source}")))
        };
        if self.pool.max_parallelism == 0 {
            return invalid("pool.max_parallelism", "must be at least 1");
        }
        if self.pool.max_isolates == 0 {
            return invalid("pool.max_isolates", "must be at least 1");
        }
        let mut all = vec![("limits".to_owned(), self.limits.clone())];
        for (name, function) in &self.functions {
            if function.max_parallelism == Some(0) {
                return invalid(
                    &format!("functions.{name}.max_parallelism"),
                    "must be at least 1",
                );
            }
            all.push((
                format!("functions.{name}.limits"),
                self.limits.with(&function.limits),
            ));
        }
        for (section, limits) in all {
            for (key, value) in [
                ("memory_mb", limits.memory_mb),
                ("cpu_soft_ms", limits.cpu_soft_ms),
                ("cpu_hard_ms", limits.cpu_hard_ms),
                ("wall_clock_ms", limits.wall_clock_ms),
            ] {
                if value == 0 {
                    return invalid(&format!("{section}.{key}"), "must be greater than 0");
                }
            }
            if limits.cpu_soft_ms > limits.cpu_hard_ms {
                return invalid(
                    &format!("{section}.cpu_soft_ms"),
                    "must not be greater than cpu_hard_ms",
                );
            }
        }
        Ok(())
    }
}

fn check_readable(path: &Path) -> Result<(), ConfigError> {
    std::fs::read(path)
        .map(drop)
        .map_err(|source| ConfigError::Unreadable {
            path: path.to_owned(),
            source,
        })
}

/// One line per problem, each naming the key and its source.
fn describe(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edgefn.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn defaults_without_sources() {
        let config = Config::load(&ConfigSources::default()).unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.server.port, 9000);
        assert_eq!(config.limits.memory_mb, 150);
        assert_eq!(config.pool.policy, Policy::PerWorker);
    }

    #[test]
    fn file_overrides_defaults_and_flags_override_file() {
        let (_dir, path) = file(
            "[server]\nport = 8080\nhost = \"0.0.0.0\"\n\
             [functions.hello.env]\nGREETING = \"hi\"\n",
        );
        let mut sources = ConfigSources {
            files: vec![path],
            ..Default::default()
        };
        let config = Config::load(&sources).unwrap();
        assert_eq!(config.server.port, 8080);
        assert_eq!(config.functions["hello"].env["GREETING"], "hi");
        sources.set("server.port", 7000);
        let config = Config::load(&sources).unwrap();
        assert_eq!(config.server.port, 7000);
        assert_eq!(config.server.host.to_string(), "0.0.0.0");
    }

    #[test]
    fn unknown_key_names_the_key_and_the_file() {
        let (_dir, path) = file("[server]\nprot = 1\n");
        let error = Config::load(&ConfigSources {
            files: vec![path],
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(error.contains("prot"), "{error}");
        assert!(error.contains("edgefn.toml"), "{error}");
    }

    #[test]
    fn wrong_type_names_the_key() {
        let (_dir, path) = file("[server]\nport = \"eighty\"\n");
        let error = Config::load(&ConfigSources {
            files: vec![path],
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(error.contains("server.port"), "{error}");
    }

    #[test]
    fn function_sections_override_pool_and_limits() {
        let (_dir, path) = file(
            "[limits]\ncpu_soft_ms = 400\ncpu_hard_ms = 500\n[functions.slow]\npolicy = \"oneshot\"\n\
             max_parallelism = 3\n[functions.slow.limits]\nwall_clock_ms = 100\n",
        );
        let config = Config::load(&ConfigSources {
            files: vec![path],
            ..Default::default()
        })
        .unwrap();
        let slow = &config.functions["slow"];
        assert_eq!(slow.policy, Some(Policy::Oneshot));
        assert_eq!(slow.max_parallelism, Some(3));
        let limits = config.limits.with(&slow.limits);
        assert_eq!((limits.cpu_hard_ms, limits.wall_clock_ms), (500, 100));
    }

    #[test]
    fn out_of_range_values_name_the_key() {
        for (text, key) in [
            ("[pool]\nmax_parallelism = 0\n", "pool.max_parallelism"),
            (
                "[limits]\ncpu_soft_ms = 30000\n",
                "limits.cpu_soft_ms: must not be greater than cpu_hard_ms (from ",
            ),
            (
                "[functions.f.limits]\nmemory_mb = 0\n",
                "functions.f.limits.memory_mb",
            ),
            ("[pool]\npolicy = \"sometimes\"\n", "pool.policy"),
        ] {
            let (_dir, path) = file(text);
            let error = Config::load(&ConfigSources {
                files: vec![path],
                ..Default::default()
            })
            .unwrap_err()
            .to_string();
            assert!(error.contains(key), "{text:?}: {error}");
        }
    }

    #[test]
    fn missing_file_is_an_error() {
        let error = Config::load(&ConfigSources {
            files: vec![PathBuf::from("/nonexistent/edgefn.toml")],
            ..Default::default()
        })
        .unwrap_err();
        assert!(matches!(error, ConfigError::Unreadable { .. }), "{error}");
    }
}
