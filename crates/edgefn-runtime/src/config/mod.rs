//! Every configuration key, declared once with its unit and default.
//!
//! Layers, lowest first: built-in defaults < configuration files (in the order given) <
//! command-line overrides. Unknown keys and wrong types are errors that name the key and the
//! file; nothing falls back silently to a default.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use figment::Figment;
use serde::{Deserialize, Serialize};

mod sources;

pub use sources::{ConfigError, ConfigSources, ExplainedValue};

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
    /// Thread pools of the process.
    pub runtime: RuntimeConfig,
    /// Log output.
    pub log: LogConfig,
    /// Replace a function's workers when a file under its folder changes (development).
    /// Default: `false`.
    pub watch: bool,
    /// The user-worker pool.
    pub workers: WorkersConfig,
    /// How many isolates each function gets and when they come and go.
    pub pool: PoolConfig,
    /// Resource limits of every function, unless its own section overrides them.
    pub limits: LimitsConfig,
    /// Where worker events go.
    pub events: EventsConfig,
    /// Outgoing `fetch()`.
    pub fetch: FetchConfig,
    /// The bytecode cache of the functions' modules.
    pub cache: CacheConfig,
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

/// `[fetch]`: how functions' outgoing `fetch()` connects.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FetchConfig {
    /// PEM files of root certificates that `fetch()` trusts besides the bundled web PKI roots
    /// (an internal CA, a test CA). Default: none.
    pub ca_files: Vec<PathBuf>,
}

impl FetchConfig {
    /// The certificates of every `ca_files` entry, DER-encoded; an error names the file that
    /// cannot be read or holds no certificate.
    pub fn root_certificates(&self) -> Result<Vec<Vec<u8>>, String> {
        use rustls_pki_types::CertificateDer;
        use rustls_pki_types::pem::PemObject;
        let mut roots = Vec::new();
        for path in &self.ca_files {
            let shown = path.display();
            let found = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("cannot read {shown}: {e}"))?
                .map(|cert| cert.map(|cert| cert.to_vec()))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{shown} is not valid PEM: {e}"))?;
            if found.is_empty() {
                return Err(format!("{shown} holds no PEM certificate"));
            }
            // What rustls will require of a root: a certificate it can take a trust anchor from.
            for der in &found {
                webpki::anchor_from_trusted_cert(&CertificateDer::from(der.as_slice()))
                    .map_err(|e| format!("{shown} holds a certificate rustls cannot use: {e}"))?;
            }
            roots.extend(found);
        }
        Ok(roots)
    }
}

/// `[cache]`: the bytecode cache of the functions' modules. A module file is compiled once; the
/// isolates that load it later read its bytecode, from memory or, after a restart, from disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// The cache directory (its `bytecode` folder holds the entries). It must belong to the
    /// process's user and be closed to group and others, since bytecode read from it runs
    /// unchecked. Default: none, which means `$XDG_CACHE_HOME/edgefn`, else
    /// `$HOME/.cache/edgefn` (and no disk tier if that cannot be used).
    pub dir: Option<PathBuf>,
    /// Bytecode kept in memory, in MiB; `0` turns the memory tier off. Default: `64`.
    pub memory_mb: u64,
    /// Bytecode kept on disk, in MiB; the oldest entries go first. `0` turns the disk tier off.
    /// Default: `512`.
    pub disk_mb: u64,
}

impl CacheConfig {
    /// The directory to use: `dir`, or the user's cache directory (see [`CacheConfig::dir`]);
    /// the flag says whether it was configured.
    pub fn effective_dir(&self) -> Option<(PathBuf, bool)> {
        if let Some(dir) = &self.dir {
            return Some((dir.clone(), true));
        }
        // As the XDG base directory specification says, a relative path is ignored.
        let absolute = |name| {
            std::env::var_os(name)
                .map(PathBuf::from)
                .filter(|path| path.is_absolute())
        };
        absolute("XDG_CACHE_HOME")
            .or_else(|| absolute("HOME").map(|home| home.join(".cache")))
            .map(|base| (base.join("edgefn"), false))
    }
}

/// `[server]`: where the HTTP listener binds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on. Default: `127.0.0.1`.
    pub host: IpAddr,
    /// TCP port to listen on; `0` picks a free port. Default: `9000`.
    pub port: u16,
    /// Serve `/_edgefn/health`, `/_edgefn/ready` and `/_edgefn/metrics` on this port of the
    /// same host instead of the main one. Default: none (the main port).
    pub admin_port: Option<u16>,
    /// On SIGTERM or SIGINT, how long in-flight requests and `waitUntil` work may take to
    /// finish before they are cut short, in seconds. Default: `15`.
    pub graceful_exit_timeout_s: u64,
}

/// `[runtime]`: the thread pools besides the user-worker pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeConfig {
    /// Threads of the main async runtime (accept loop, HTTP, routing), named `edgefn-main`;
    /// `0` means one per two CPU cores (at least one). Default: `0`.
    pub main_threads: usize,
    /// Threads of the background runtime (idle sweeping, file watching), named
    /// `edgefn-bg`. Default: `1`.
    pub background_threads: usize,
    /// Threads of the compute pool (modules compiled ahead of boots), named
    /// `edgefn-cpu-<i>`; `0` means one per CPU core. Default: `0`.
    pub compute_threads: usize,
}

/// `[log]`: how the process logs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `text` (readable) or `json` (one object per line). Default: `text`.
    pub format: LogFormat,
}

/// See [`LogConfig::format`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `[workers]`: the user-worker thread pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkersConfig {
    /// Number of user-worker threads; `0` means one per available CPU core. Default: `0`.
    pub threads: usize,
    /// Pin each user-worker thread to a CPU core. Default: `true`.
    pub pin_threads: bool,
    /// Serve each HTTP connection of the main listener on a user-worker thread (round-robin),
    /// so that a request whose function has a worker there runs without a thread hop. Faster,
    /// but a request then also waits while its connection's thread runs another function's
    /// JavaScript; `false` reads requests on the main runtime. Default: `false`.
    pub serve_connections: bool,
}

/// `[pool]`: how many isolates each function gets and when they come and go.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PoolConfig {
    /// Default policy of every function: `per_worker` (one isolate serves many requests at
    /// once), `per_request` (an isolate serves one request at a time, then the next), or
    /// `oneshot` (a fresh isolate per request). Default: `per_worker`.
    pub policy: Policy,
    /// Default number of isolates a function may have at once; `0` means one per user-worker
    /// thread. Default: `1`.
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
    /// Isolates each user-worker thread keeps ready with the Web platform loaded, so that a
    /// new worker only loads its function; the thread makes a replacement after each one it
    /// hands out, once the work already queued on it has run. They do not count towards
    /// `max_isolates` or `max_warm_memory_mb`. `0` turns it off. Default: `2`.
    pub prepared_isolates: usize,
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
    /// The function's isolates at once (`0`: one per user-worker thread). Default:
    /// `pool.max_parallelism`.
    pub max_parallelism: Option<usize>,
    /// The function's limits. Default: `[limits]`.
    pub limits: LimitsOverride,
    /// `isolate` (JavaScript/TypeScript) or `process` (a program speaking the Lambda Runtime
    /// API). Default: from the folder (`function.toml`, an executable `bootstrap`), else
    /// `isolate`.
    pub runtime: Option<FunctionRuntimeKind>,
    /// For `process`: the program and its arguments, e.g.
    /// `["python3", "-m", "awslambdaric", "app.handler"]`. Default: from the folder.
    pub command: Option<Vec<String>>,
    /// For `process`: `_HANDLER`. Default: the command's last argument.
    pub handler: Option<String>,
    /// Workers booted at start-up, before any request (at most `max_parallelism`).
    /// Default: `0`.
    pub prestart: usize,
    /// Hosts the function may `fetch()` from (`*.example.com` for subdomains); unset allows
    /// every host. Default: all.
    pub allowed_hosts: Option<Vec<String>>,
}

/// How a function runs; see [`FunctionConfig::runtime`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FunctionRuntimeKind {
    /// A QuickJS isolate.
    Isolate,
    /// A child process pulling invocations from the Runtime API.
    Process,
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
            runtime: RuntimeConfig::default(),
            log: LogConfig::default(),
            watch: false,
            workers: WorkersConfig::default(),
            pool: PoolConfig::default(),
            limits: LimitsConfig::default(),
            events: EventsConfig::default(),
            fetch: FetchConfig::default(),
            cache: CacheConfig::default(),
            functions: BTreeMap::new(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 9000,
            admin_port: None,
            graceful_exit_timeout_s: 15,
        }
    }
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            main_threads: 0,
            background_threads: 1,
            compute_threads: 0,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
        }
    }
}

impl Default for WorkersConfig {
    fn default() -> Self {
        WorkersConfig {
            threads: 0,
            pin_threads: true,
            serve_connections: false,
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
            prepared_isolates: 2,
        }
    }
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            dir: None,
            memory_mb: 64,
            disk_mb: 512,
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

/// Most isolates a thread may keep prepared: each holds the Web platform (about 0.7 MB).
const MAX_PREPARED_ISOLATES: usize = 64;

impl Config {
    /// Checks what types alone cannot: values that must be positive, limits that must be
    /// ordered.
    pub(crate) fn validate(&self, figment: &Figment) -> Result<(), ConfigError> {
        let invalid = |key: &str, reason: &str| {
            let source = figment
                .find_metadata(key)
                .map(|meta| format!(" (from {})", sources::describe_source(meta, key)))
                .unwrap_or_default();
            Err(ConfigError::Invalid(format!("{key}: {reason}{source}")))
        };
        if self.pool.max_isolates == 0 {
            return invalid("pool.max_isolates", "must be at least 1");
        }
        if self.pool.prepared_isolates > MAX_PREPARED_ISOLATES {
            return invalid(
                "pool.prepared_isolates",
                &format!("must be at most {MAX_PREPARED_ISOLATES}"),
            );
        }
        if self.runtime.background_threads == 0 {
            return invalid("runtime.background_threads", "must be at least 1");
        }
        if self
            .server
            .admin_port
            .is_some_and(|p| p != 0 && p == self.server.port)
        {
            return invalid("server.admin_port", "must differ from server.port");
        }
        if let Err(reason) = self.fetch.root_certificates() {
            return invalid("fetch.ca_files", &reason);
        }
        let mut all = vec![("limits".to_owned(), self.limits.clone())];
        for (name, function) in &self.functions {
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

#[cfg(test)]
mod tests;
