//! Binding the listener, accepting connections, and stopping.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use edgefn_runtime::Config;
use edgefn_workers::{Function, FunctionSettings, Functions, PoolConfig, WorkerPool};

/// The main service's name in logs, events and `[functions.main]` settings.
const MAIN_SERVICE_NAME: &str = "main";
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::service::App;

/// How long open connections get to finish their requests once the server stops.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Pause after a failed `accept` (for example when out of file descriptors), so that the loop
/// does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The functions folder is missing or unreadable.
    #[error("functions folder {path}: {reason}")]
    FunctionsDir {
        /// The folder.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// The event worker folder is missing or has no entry module.
    #[error("event worker {path}: {reason}")]
    EventWorker {
        /// The folder.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// The main service folder is missing or has no entry module.
    #[error("main service {path}: {reason}")]
    MainService {
        /// The folder.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// The listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The user-worker threads could not be started.
    #[error("cannot start the worker threads: {0}")]
    Workers(std::io::Error),
}

/// A running server.
pub struct Server {
    local_addr: SocketAddr,
    stop: CancellationToken,
    accept: JoinHandle<()>,
    app: Arc<App>,
}

impl Server {
    /// Starts the worker pool and listens; connections are served on the current tokio runtime.
    pub async fn bind(config: &Config) -> Result<Server, ServerError> {
        let dir = &config.functions_dir;
        std::fs::read_dir(dir).map_err(|error| ServerError::FunctionsDir {
            path: dir.clone(),
            reason: error.to_string(),
        })?;
        if let Some(worker) = &config.events.worker
            && edgefn_isolate::modules::find_entry(worker).is_none()
        {
            return Err(ServerError::EventWorker {
                path: worker.clone(),
                reason: "no index.ts, index.js or index.mjs in it".into(),
            });
        }
        let threads = match config.workers.threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        let millis = Duration::from_millis;
        let pool = WorkerPool::start(PoolConfig {
            threads,
            pin_threads: config.workers.pin_threads,
            user_agent: concat!("edgefn/", env!("CARGO_PKG_VERSION")).to_owned(),
            request_wait_timeout: millis(config.pool.request_wait_timeout_ms),
            max_isolates: config.pool.max_isolates,
            idle_timeout: (config.pool.idle_timeout_ms > 0)
                .then(|| millis(config.pool.idle_timeout_ms)),
            max_warm_memory_bytes: usize::try_from(
                config.pool.max_warm_memory_mb.saturating_mul(1024 * 1024),
            )
            .unwrap_or(usize::MAX),
            events_to_stdout: config.events.stdout,
            event_worker: config.events.worker.clone(),
            user_worker_defaults: FunctionSettings::from_config(config, ""),
        })
        .map_err(ServerError::Workers)?;
        let settings_source = config.clone();
        let functions = Functions::new(dir.clone(), move |name| {
            FunctionSettings::from_config(&settings_source, name)
        });
        let main_service = match &config.main_service {
            None => None,
            Some(root) => {
                if edgefn_isolate::modules::find_entry(root).is_none() {
                    return Err(ServerError::MainService {
                        path: root.clone(),
                        reason: "no index.ts, index.js or index.mjs in it".into(),
                    });
                }
                let mut settings = FunctionSettings::from_config(config, MAIN_SERVICE_NAME);
                settings.main_service = true;
                Some(Arc::new(Function {
                    name: MAIN_SERVICE_NAME.to_owned(),
                    root: root.clone(),
                    settings,
                }))
            }
        };

        let addr = SocketAddr::new(config.server.host, config.server.port);
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| ServerError::Bind { addr, source })?;
        let app = Arc::new(App {
            functions,
            main_service,
            pool,
            local_addr,
        });
        let stop = CancellationToken::new();
        let accept = tokio::spawn(accept_loop(listener, app.clone(), stop.clone()));
        Ok(Server {
            local_addr,
            stop,
            accept,
            app,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting, lets open connections finish (bounded), then stops the worker threads.
    pub async fn shutdown(self) {
        self.stop.cancel();
        let _ = self.accept.await;
        // Joining the worker threads blocks; keep it off the async threads.
        let app = self.app;
        let _ = tokio::task::spawn_blocking(move || drop(app)).await;
    }
}

async fn accept_loop(listener: TcpListener, app: Arc<App>, stop: CancellationToken) {
    let builder = auto::Builder::new(TokioExecutor::new());
    let graceful = GracefulShutdown::new();
    loop {
        let (stream, remote_addr) = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = service_fn(move |request| app.clone().handle(request, remote_addr));
        let connection = builder
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%remote_addr, %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the drain timeout were closed");
    }
}
