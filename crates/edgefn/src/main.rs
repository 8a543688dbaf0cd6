//! The `edgefn` command: parse the command line, load the configuration, run the server.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use edgefn_runtime::{Config, ConfigSources, LogFormat};
use edgefn_server::{Server, ServerError, ServerRuntimes};

/// The process's heap is mimalloc, which the engine's blocks come from too (see
/// `crates/edgefn-isolate/src/meter.rs`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The process uses no transparent huge pages: its memory becomes resident a 4 KiB page at a
/// time (a tenant's share stays its own size), and a first touch never waits for 2 MiB to be
/// zeroed (a cold start). mimalloc's options apply to the memory it reserves after they are set,
/// and the standard library allocates (so mimalloc reserves its first 1 GiB arena) before
/// `main`: a function in `.init_array`, run with the program's other constructors, comes before.
#[cfg(target_os = "linux")]
#[used]
// SAFETY: an `.init_array` entry is called once, on the main thread, before `main`, with
// `(argc, argv, envp)`, which the C ABI lets a function without parameters ignore. This one
// neither allocates (a `Once`, atomics and a futex; a system call) nor unwinds (it panics on
// nothing it calls, and a panic across `extern "C"` aborts).
#[unsafe(link_section = ".init_array")]
static CONFIGURE_HEAP: extern "C" fn() = {
    extern "C" fn configure_heap() {
        // SAFETY: PR_SET_THP_DISABLE takes an integer flag and touches no memory of ours.
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
        edgefn_isolate::configure_heap();
    }
    configure_heap
};

/// Exit code for a configuration or start-up problem the user must fix.
const EXIT_USAGE: u8 = 2;

/// Exit code when the shutdown deadline passed (or a second signal came) with work still
/// running, which was cut short.
const EXIT_FORCED: u8 = 3;

/// The system-wide configuration file, read when it exists.
const SYSTEM_CONFIG: &str = "/etc/edgefn/edgefn.toml";

/// A multi-tenant JavaScript/TypeScript function runtime: every sub-folder of the functions
/// folder is served as a function, each in its own QuickJS isolate.
#[derive(Debug, Parser)]
#[command(name = "edgefn", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the functions of a folder over HTTP.
    Start(StartArgs),
    /// Print the effective configuration and where each value came from.
    Config(StartArgs),
}

#[derive(Debug, clap::Args)]
struct StartArgs {
    /// Folder whose sub-folders are the functions [default: examples/functions]
    #[arg(long, value_name = "DIR")]
    functions: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1]
    #[arg(long)]
    host: Option<std::net::IpAddr>,
    /// Port to listen on; 0 picks a free one [default: 9000]
    #[arg(long)]
    port: Option<u16>,
    /// Configuration file (TOML); `./edgefn.toml` is read when present
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// A function folder run as the event worker: it receives every worker event through
    /// `for await (const event of new EventManager())`
    #[arg(long, value_name = "DIR")]
    event_worker: Option<PathBuf>,
    /// A function folder that receives every request and routes it to user workers with
    /// `EdgeRuntime.userWorkers.create(...)` (Supabase's main service)
    #[arg(long, value_name = "DIR")]
    main_service: Option<PathBuf>,
    /// Log lines as readable `text` or `json` objects [default: text]
    #[arg(long, value_name = "FORMAT")]
    log_format: Option<String>,
    /// Replace a function's workers when a file under its folder changes (development)
    #[arg(long)]
    watch: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Config(args) => match explain(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => usage_error(&error),
        },
        Command::Start(args) => {
            let config = match load_config(&args) {
                Ok(config) => config,
                Err(error) => return usage_error(&error),
            };
            init_logging(config.log.format);
            match start(config) {
                Ok(Outcome::Drained) => ExitCode::SUCCESS,
                Ok(Outcome::Forced) => ExitCode::from(EXIT_FORCED),
                Err(error) => {
                    let error = with_key_source(error, &args);
                    tracing::error!("{error:#}");
                    usage_error(&error)
                }
            }
        }
    }
}

/// A start-up error about a configured value that only the server could check (a cache
/// directory open to others) names where the value came from, as configuration errors do.
fn with_key_source(error: anyhow::Error, args: &StartArgs) -> anyhow::Error {
    let key = match error.downcast_ref::<ServerError>() {
        Some(ServerError::CacheDir(_)) => "cache.dir",
        _ => return error,
    };
    let source = sources(args)
        .ok()
        .and_then(|sources| Config::explain(&sources).ok())
        .and_then(|values| values.into_iter().find(|value| value.key == key))
        .map(|value| value.source);
    match source {
        Some(source) => anyhow::anyhow!("{error:#} (from {source})"),
        None => error,
    }
}

fn usage_error(error: &anyhow::Error) -> ExitCode {
    eprintln!("edgefn: {error:#}");
    ExitCode::from(EXIT_USAGE)
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("EDGEFN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .init(),
    }
}

/// How the server stopped.
enum Outcome {
    /// Every in-flight request and `waitUntil` work finished.
    Drained,
    /// The deadline (or a second signal) cut work short.
    Forced,
}

fn start(config: Config) -> anyhow::Result<Outcome> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let sized = |n: usize| if n == 0 { cores } else { n };
    // The main runtime only speaks HTTP and routes; JavaScript runs on the user-worker threads
    // (one per core by default), so half as many main threads keep the cores busy without
    // the two pools waking each other across more threads than there are cores.
    let main_threads = match config.runtime.main_threads {
        0 => (cores / 2).max(1),
        n => n,
    };
    let main = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(main_threads)
        .thread_name("edgefn-main")
        .enable_all()
        .build()
        .context("cannot start the main runtime")?;
    let background = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.runtime.background_threads.max(1))
        .thread_name("edgefn-bg")
        .enable_all()
        .build()
        .context("cannot start the background runtime")?;
    let runtimes = ServerRuntimes {
        background: background.handle().clone(),
        compute_threads: sized(config.runtime.compute_threads),
    };
    let outcome = main.block_on(async {
        let mut signals = StopSignals::new();
        let server = Server::bind_with(&config, runtimes).await?;
        tracing::info!(
            address = %server.local_addr(),
            functions = %config.functions_dir.display(),
            "edgefn listening on http://{}",
            server.local_addr()
        );
        if let Some(admin) = server.admin_addr() {
            tracing::info!(address = %admin, "admin endpoints on http://{admin}/_edgefn/");
        }
        signals.recv().await;
        let deadline = Duration::from_secs(config.server.graceful_exit_timeout_s);
        tracing::info!(
            deadline_s = deadline.as_secs(),
            "stopping: no new connections; in-flight work may finish"
        );
        // A second signal forces the stop at once.
        let drained = server.shutdown(deadline, signals.recv()).await;
        anyhow::Ok(if drained {
            tracing::info!("stopped: all in-flight work finished");
            Outcome::Drained
        } else {
            tracing::warn!("stopped: in-flight work was cut short");
            Outcome::Forced
        })
    })?;
    background.shutdown_timeout(Duration::from_secs(1));
    Ok(outcome)
}

fn sources(args: &StartArgs) -> anyhow::Result<ConfigSources> {
    let mut sources = ConfigSources::default();
    if Path::new(SYSTEM_CONFIG).is_file() {
        sources.files.push(SYSTEM_CONFIG.into());
    }
    match &args.config {
        Some(file) => sources.files.push(file.clone()),
        None if Path::new("edgefn.toml").is_file() => sources.files.push("edgefn.toml".into()),
        None => {}
    }
    sources.env = std::env::vars().collect();
    if let Some(dir) = &args.functions {
        sources.set("functions_dir", dir);
    }
    if let Some(host) = args.host {
        sources.set("server.host", host.to_string());
    }
    if let Some(port) = args.port {
        sources.set("server.port", port);
    }
    if let Some(dir) = &args.event_worker {
        sources.set("events.worker", dir);
    }
    if let Some(dir) = &args.main_service {
        sources.set("main_service", dir);
    }
    if let Some(format) = &args.log_format {
        sources.set("log.format", format);
    }
    if args.watch {
        sources.set("watch", true);
    }
    Ok(sources)
}

fn load_config(args: &StartArgs) -> anyhow::Result<Config> {
    let mut config = Config::load(&sources(args)?)?;
    // The bundled examples are the default; outside the source tree, fall back to the copy the
    // binary was built from.
    if args.functions.is_none() && !config.functions_dir.exists() {
        let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/functions");
        if config.functions_dir == Config::default().functions_dir && bundled.is_dir() {
            config.functions_dir = bundled;
        }
    }
    Ok(config)
}

fn explain(args: &StartArgs) -> anyhow::Result<()> {
    let explained = Config::explain(&sources(args)?)?;
    let width = explained
        .iter()
        .map(|v| v.key.len() + v.value.len() + 3)
        .max()
        .unwrap_or(0);
    for value in explained {
        let line = format!("{} = {}", value.key, value.value);
        println!("{line:width$}  # {}", value.source);
    }
    Ok(())
}

/// SIGTERM and SIGINT, listened for from start-up on: a signal that arrives between two waits
/// (say, the second one during the "stopping" log line) is kept for the next wait, not lost.
struct StopSignals {
    terminate: Option<tokio::signal::unix::Signal>,
    interrupt: Option<tokio::signal::unix::Signal>,
}

impl StopSignals {
    fn new() -> Self {
        use tokio::signal::unix::{SignalKind, signal};
        StopSignals {
            terminate: signal(SignalKind::terminate()).ok(),
            interrupt: signal(SignalKind::interrupt()).ok(),
        }
    }

    /// Resolves on the next SIGTERM or SIGINT.
    async fn recv(&mut self) {
        async fn one(s: &mut Option<tokio::signal::unix::Signal>) {
            match s {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        tokio::select! {
            () = one(&mut self.terminate) => {}
            () = one(&mut self.interrupt) => {}
        }
    }
}
