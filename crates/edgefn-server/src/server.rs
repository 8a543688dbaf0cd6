//! Binding the listeners, accepting connections, and the three-phase graceful shutdown.
//!
//! Cancellation tree: `ingress` (stop accepting; each connection finishes what it is serving)
//! → `stop` (what still runs after the deadline is answered 503 `ShuttingDown`) → `kill` (the
//! connections that remain are dropped).

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use edgefn_isolate::{ModuleCache, ModuleCacheOptions};
use edgefn_runtime::{CacheConfig, Config};
use edgefn_workers::{Function, FunctionSettings, Functions, PoolConfig, WorkerPool};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::metrics::Metrics;
use crate::service::{App, Role};

/// The main service's name in logs, events and `[functions.main]` settings.
const MAIN_SERVICE_NAME: &str = "main";

/// Pause after a failed `accept` (for example when out of file descriptors), so that the loop
/// does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// After the deadline, how long the 503 answers get to reach their clients before the remaining
/// connections are dropped.
const FAREWELL: Duration = Duration::from_millis(500);

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
    /// A `fetch.ca_files` entry cannot be read or holds no certificate.
    #[error("fetch.ca_files: {0}")]
    FetchRoots(String),
    /// The main service folder is missing or has no entry module.
    #[error("main service {path}: {reason}")]
    MainService {
        /// The folder.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// A listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The configured `cache.dir` cannot be used.
    #[error("cache.dir: {0}")]
    CacheDir(String),
    /// The user-worker threads could not be started.
    #[error("cannot start the worker threads: {0}")]
    Workers(std::io::Error),
}

/// The thread pools the server uses besides the current (main) runtime and its own user-worker
/// threads.
#[derive(Debug, Clone)]
pub struct ServerRuntimes {
    /// Runs background chores (idle sweeping, file watching).
    pub background: tokio::runtime::Handle,
    /// Threads of the compute pool (modules compiled ahead of boots).
    pub compute_threads: usize,
}

/// A running server.
pub struct Server {
    local_addr: SocketAddr,
    admin_addr: Option<SocketAddr>,
    ingress: CancellationToken,
    kill: CancellationToken,
    main_accept: JoinHandle<()>,
    admin_accept: Option<JoinHandle<()>>,
    app: Arc<App>,
}

impl Server {
    /// [`Server::bind_with`] using the current runtime for background chores.
    pub async fn bind(config: &Config) -> Result<Server, ServerError> {
        let runtimes = ServerRuntimes {
            background: tokio::runtime::Handle::current(),
            compute_threads: 1,
        };
        Server::bind_with(config, runtimes).await
    }

    /// Starts the worker pool and listens; connections are served on the current runtime.
    pub async fn bind_with(
        config: &Config,
        runtimes: ServerRuntimes,
    ) -> Result<Server, ServerError> {
        let dir = &config.functions_dir;
        std::fs::read_dir(dir).map_err(|error| ServerError::FunctionsDir {
            path: dir.clone(),
            reason: error.to_string(),
        })?;
        let no_entry = || "no index.ts, index.js or index.mjs in it".to_owned();
        if let Some(worker) = &config.events.worker
            && edgefn_isolate::modules::find_entry(worker).is_none()
        {
            return Err(ServerError::EventWorker {
                path: worker.clone(),
                reason: no_entry(),
            });
        }
        let main_service = match &config.main_service {
            None => None,
            Some(root) => {
                if edgefn_isolate::modules::find_entry(root).is_none() {
                    return Err(ServerError::MainService {
                        path: root.clone(),
                        reason: no_entry(),
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

        let main_listener = bind(config.server.host, config.server.port).await?;
        let local_addr = main_listener
            .local_addr()
            .map_err(|source| ServerError::Bind {
                addr: local_addr_hint(config),
                source,
            })?;
        let admin_listener = match config.server.admin_port {
            Some(port) => Some(bind(config.server.host, port).await?),
            None => None,
        };
        let admin_addr = admin_listener.as_ref().and_then(|l| l.local_addr().ok());

        let module_cache = module_cache(&config.cache)?;
        let metrics = Arc::new(Metrics::new(module_cache.clone()));
        let pool = WorkerPool::start(pool_config(config, &runtimes, &metrics, module_cache)?)
            .map_err(ServerError::Workers)?;
        let settings_source = config.clone();
        let functions = Functions::new(dir.clone(), move |name| {
            FunctionSettings::from_config(&settings_source, name)
        });
        for (name, function) in &config.functions {
            if function.prestart > 0
                && let Ok(Some(function)) = functions.lookup(name)
            {
                pool.prestart(&function);
            }
        }
        let stop = CancellationToken::new();
        let app = Arc::new(App::new(
            functions,
            main_service,
            pool,
            local_addr,
            metrics,
            stop,
        ));
        if config.watch {
            crate::watch::spawn(dir.clone(), app.clone(), &runtimes.background);
        }
        let warmed_up = app.pool.warmed_up();
        let warming = Arc::downgrade(&app);
        tokio::spawn(async move {
            warmed_up.await;
            if let Some(app) = warming.upgrade() {
                app.warm.store(true, Ordering::SeqCst);
                tracing::info!(
                    "warmed up: the Web layer is compiled and the isolates prepared; /_edgefn/ready answers 200"
                );
            }
        });

        let ingress = CancellationToken::new();
        let kill = CancellationToken::new();
        let main_role = if admin_listener.is_some() {
            Role::Functions
        } else {
            Role::Everything
        };
        let main_accept = tokio::spawn(accept_loop(
            main_listener,
            app.clone(),
            ingress.clone(),
            kill.clone(),
            main_role,
            config.workers.serve_connections,
        ));
        // The admin listener stays open until the end, so readiness can answer 503 while
        // the main listener is closed and work drains.
        let admin_accept = admin_listener.map(|listener| {
            tokio::spawn(accept_loop(
                listener,
                app.clone(),
                kill.clone(),
                kill.clone(),
                Role::Admin,
                false,
            ))
        });
        Ok(Server {
            local_addr,
            admin_addr,
            ingress,
            kill,
            main_accept,
            admin_accept,
            app,
        })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The address of the separate admin listener, when there is one.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_addr
    }

    /// Graceful shutdown in three phases. 1: stop accepting and answer readiness with 503.
    /// 2: let in-flight requests and `waitUntil` work finish, until `deadline` passes or `force`
    /// resolves. 3: answer what remains with 503 `ShuttingDown`, drop the remaining connections,
    /// end every worker (reason `shutdown`). Returns `true` when everything finished in phase 2.
    pub async fn shutdown(self, deadline: Duration, force: impl Future<Output = ()>) -> bool {
        self.app.ready.store(false, Ordering::SeqCst);
        self.ingress.cancel();
        let mut main_accept = self.main_accept;
        let mut accept_closed = false;
        let app = self.app.clone();
        let finished = {
            let drained = async {
                let _ = (&mut main_accept).await;
                accept_closed = true;
                app.pool.drain().await;
            };
            tokio::select! {
                () = drained => true,
                () = tokio::time::sleep(deadline) => false,
                () = force => false,
            }
        };
        if !finished {
            self.app.stop.cancel();
            if !accept_closed
                && tokio::time::timeout(FAREWELL, &mut main_accept)
                    .await
                    .is_ok()
            {
                accept_closed = true;
            }
        }
        self.kill.cancel();
        if !accept_closed {
            let _ = main_accept.await;
        }
        if let Some(admin) = self.admin_accept {
            let _ = admin.await;
        }
        // Joining the worker threads blocks; keep it off the async threads.
        let app = self.app;
        let _ = tokio::task::spawn_blocking(move || drop(app)).await;
        finished
    }
}

fn local_addr_hint(config: &Config) -> SocketAddr {
    SocketAddr::new(config.server.host, config.server.port)
}

async fn bind(host: std::net::IpAddr, port: u16) -> Result<TcpListener, ServerError> {
    let addr = SocketAddr::new(host, port);
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })
}

/// The bytecode cache of `[cache]`. A directory that was configured must be usable; the default
/// one (under the user's cache directory) only costs the disk tier when it is not.
fn module_cache(config: &CacheConfig) -> Result<ModuleCache, ServerError> {
    let mib = |n: u64| n.saturating_mul(1024 * 1024);
    let mut options = ModuleCacheOptions {
        memory_bytes: mib(config.memory_mb),
        dir: None,
        disk_bytes: mib(config.disk_mb),
    };
    match config.effective_dir().filter(|_| config.disk_mb > 0) {
        Some((dir, configured)) => {
            options.dir = Some(dir);
            match ModuleCache::new(&options) {
                Err(reason) if !configured => {
                    tracing::warn!("the module cache stays in memory: {reason}");
                    options.dir = None;
                }
                made => return made.map_err(ServerError::CacheDir),
            }
        }
        None if config.disk_mb > 0 => tracing::warn!(
            "the module cache stays in memory: neither cache.dir nor $XDG_CACHE_HOME or $HOME \
             names a directory"
        ),
        None => {}
    }
    ModuleCache::new(&options).map_err(ServerError::CacheDir)
}

fn pool_config(
    config: &Config,
    runtimes: &ServerRuntimes,
    metrics: &Arc<Metrics>,
    module_cache: ModuleCache,
) -> Result<PoolConfig, ServerError> {
    let threads = match config.workers.threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    let millis = Duration::from_millis;
    let fetch_roots = config
        .fetch
        .root_certificates()
        .map_err(ServerError::FetchRoots)?;
    Ok(PoolConfig {
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
        background: Some(runtimes.background.clone()),
        compute_threads: runtimes.compute_threads,
        observer: Some(metrics.clone()),
        fetch_roots: fetch_roots.into(),
        prepared_isolates: config.pool.prepared_isolates,
        module_cache,
    })
}

/// Accepts connections until `ingress` is cancelled, then lets each connection finish the
/// requests it is serving (hyper's graceful shutdown) and returns once all are closed; `kill`
/// drops the ones that remain. `role` says what the listener serves.
///
/// With `on_workers`, each connection is served on a user-worker thread (round-robin), where a
/// request finds a worker of its function without a thread hop; otherwise on this runtime.
async fn accept_loop(
    listener: TcpListener,
    app: Arc<App>,
    ingress: CancellationToken,
    kill: CancellationToken,
    role: Role,
    on_workers: bool,
) {
    let connections = TaskTracker::new();
    let mut next_thread = 0usize;
    loop {
        let (stream, remote_addr) = tokio::select! {
            () = ingress.cancelled() => break,
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
        let connection = Connection {
            app: app.clone(),
            remote_addr,
            role,
            ingress: ingress.clone(),
            kill: kill.clone(),
            tasks: connections.clone(),
        };
        if !on_workers {
            connections.spawn(connection.serve(stream));
            continue;
        }
        // The stream leaves this runtime's reactor and joins the worker thread's.
        let stream = match stream.into_std() {
            Ok(stream) => stream,
            Err(error) => {
                tracing::debug!(%remote_addr, %error, "cannot move the connection to a worker thread");
                continue;
            }
        };
        let tracked = connections.token();
        let thread = next_thread;
        next_thread = next_thread.wrapping_add(1);
        let pool_open = app.pool.spawn_on(
            thread,
            Box::new(move || {
                Box::pin(async move {
                    match tokio::net::TcpStream::from_std(stream) {
                        Ok(stream) => connection.serve(stream).await,
                        Err(error) => tracing::debug!(%remote_addr, %error, "connection lost"),
                    }
                    // The tracker learns the connection is over once its `App` is released (its
                    // HTTP/2 streams are tracked tasks of their own).
                    drop(tracked);
                })
            }),
        );
        if !pool_open {
            break;
        }
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

/// One accepted connection and what serving it needs.
struct Connection {
    app: Arc<App>,
    remote_addr: SocketAddr,
    role: Role,
    ingress: CancellationToken,
    kill: CancellationToken,
    /// The listener's connections; hyper's own tasks (HTTP/2 streams) join them.
    tasks: TaskTracker,
}

/// Runs hyper's background tasks (an HTTP/2 connection's streams) as tracked tasks, so that the
/// listener's shutdown waits for them too.
#[derive(Clone)]
struct TrackedExecutor(TaskTracker);

impl<F> hyper::rt::Executor<F> for TrackedExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        self.0.spawn(future);
    }
}

impl Connection {
    /// Serves HTTP/1.1 or HTTP/2 until the client closes; once `ingress` is cancelled, finishes
    /// the requests in progress and closes (hyper's graceful shutdown); `kill` drops it.
    async fn serve(self, stream: tokio::net::TcpStream) {
        let Connection {
            app,
            remote_addr,
            role,
            ingress,
            kill,
            tasks,
        } = self;
        let service = service_fn(move |request| app.clone().handle(request, remote_addr, role));
        let builder = auto::Builder::new(TrackedExecutor(tasks));
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let mut connection = std::pin::pin!(connection);
        let result = tokio::select! {
            // What the client already sent is read before a shutdown can close the connection.
            biased;
            result = connection.as_mut() => result,
            () = ingress.cancelled() => {
                connection.as_mut().graceful_shutdown();
                tokio::select! {
                    result = connection => result,
                    () = kill.cancelled() => Ok(()),
                }
            }
            () = kill.cancelled() => Ok(()),
        };
        if let Err(error) = result {
            tracing::debug!(%remote_addr, %error, "connection ended with an error");
        }
    }
}
