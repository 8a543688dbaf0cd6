//! The `edgefn` command: parse the command line, load the configuration, run the server.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use edgefn_runtime::{Config, ConfigSources};
use edgefn_server::Server;

/// Exit code for a configuration or start-up problem the user must fix.
const EXIT_USAGE: u8 = 2;

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
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("EDGEFN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Start(args) => match start(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                tracing::error!("{error:#}");
                eprintln!("edgefn: {error:#}");
                ExitCode::from(EXIT_USAGE)
            }
        },
    }
}

fn start(args: StartArgs) -> anyhow::Result<()> {
    let config = load_config(&args)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("edgefn-main")
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let server = Server::bind(&config).await?;
        tracing::info!(
            address = %server.local_addr(),
            functions = %config.functions_dir.display(),
            "edgefn listening on http://{}",
            server.local_addr()
        );
        wait_for_stop_signal().await;
        tracing::info!("stopping");
        server.shutdown().await;
        anyhow::Ok(())
    })
}

fn load_config(args: &StartArgs) -> anyhow::Result<Config> {
    let mut sources = ConfigSources::default();
    match &args.config {
        Some(file) => sources.files.push(file.clone()),
        None if Path::new("edgefn.toml").is_file() => sources.files.push("edgefn.toml".into()),
        None => {}
    }
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
    let mut config = Config::load(&sources)?;
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

async fn wait_for_stop_signal() {
    let mut terminate =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        Some(()) = async {
            match terminate.as_mut() {
                Some(signal) => signal.recv().await,
                None => std::future::pending().await,
            }
        } => {}
    }
}
