//! The integration-test harness: a real edgefn server in this process, on an ephemeral port,
//! serving fixture functions written to a temporary folder, spoken to over real HTTP.
//!
//! ```ignore
//! let srv = TestServer::new()
//!     .function("hello", "export default { fetch() { return new Response('hi') } }")
//!     .start()
//!     .await;
//! assert_eq!(srv.get("/hello").await.text().await.unwrap(), "hi");
//! ```

#![allow(dead_code)] // each test binary uses a different part of the harness

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use edgefn_runtime::Config;
use edgefn_server::Server;

/// Builds a server with fixture functions.
pub struct TestServer {
    files: Vec<(PathBuf, String)>,
    executables: Vec<PathBuf>,
    event_worker: Option<String>,
    main_service: Option<String>,
    config: Config,
}

/// A running server; stops when dropped (or explicitly with [`RunningServer::stop`]).
pub struct RunningServer {
    server: Option<Server>,
    addr: SocketAddr,
    client: reqwest::Client,
    dir: tempfile::TempDir,
    config: Config,
}

impl TestServer {
    pub fn new() -> TestServer {
        capture_logs();
        let mut config = Config::default();
        config.server.port = 0;
        config.workers.threads = 2;
        config.workers.pin_threads = false;
        TestServer {
            files: Vec::new(),
            executables: Vec::new(),
            event_worker: None,
            main_service: None,
            config,
        }
    }

    /// A function whose entry is `index.js` with this source.
    pub fn function(self, name: &str, source: &str) -> TestServer {
        self.file(&format!("{name}/index.js"), source)
    }

    /// A function whose entry is `index.ts` with this source.
    pub fn ts_function(self, name: &str, source: &str) -> TestServer {
        self.file(&format!("{name}/index.ts"), source)
    }

    /// Any file under the functions folder, e.g. `"multi/lib/util.ts"`.
    pub fn file(mut self, path: &str, contents: &str) -> TestServer {
        self.files.push((PathBuf::from(path), contents.to_owned()));
        self
    }

    /// An executable file under the functions folder, e.g. a `bootstrap`.
    pub fn executable(mut self, path: &str, contents: &str) -> TestServer {
        self.executables.push(PathBuf::from(path));
        self.file(path, contents)
    }

    /// An environment variable of one function, as `[functions.<name>.env]` would set it.
    pub fn env(mut self, function: &str, key: &str, value: &str) -> TestServer {
        self.config
            .functions
            .entry(function.to_owned())
            .or_default()
            .env
            .insert(key.to_owned(), value.to_owned());
        self
    }

    /// Changes any configuration value, e.g. `.config(|c| c.limits.cpu_hard_ms = 200)`.
    pub fn config(mut self, change: impl FnOnce(&mut Config)) -> TestServer {
        change(&mut self.config);
        self
    }

    /// An event worker with this `index.js` (kept outside the functions folder).
    pub fn event_worker(mut self, source: &str) -> TestServer {
        self.event_worker = Some(source.to_owned());
        self
    }

    /// A main service with this `index.js` (kept outside the functions folder); it sees the
    /// functions folder's path in `Deno.env.get("FUNCTIONS_DIR")`.
    pub fn main_service(mut self, source: &str) -> TestServer {
        self.main_service = Some(source.to_owned());
        self
    }

    /// Number of user-worker threads (default 2).
    pub fn threads(mut self, threads: usize) -> TestServer {
        self.config.workers.threads = threads;
        self
    }

    pub async fn start(mut self) -> RunningServer {
        let dir = tempfile::tempdir().expect("temporary folder");
        let functions = dir.path().join("functions");
        std::fs::create_dir(&functions).unwrap();
        for (path, contents) in &self.files {
            let path = functions.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, contents).unwrap();
        }
        for path in &self.executables {
            use std::os::unix::fs::PermissionsExt;
            let path = functions.join(path);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        if let Some(source) = &self.event_worker {
            let worker = dir.path().join("event-worker");
            std::fs::create_dir(&worker).unwrap();
            std::fs::write(worker.join("index.js"), source).unwrap();
            self.config.events.worker = Some(worker);
        }
        if let Some(source) = &self.main_service {
            let main = dir.path().join("main");
            std::fs::create_dir(&main).unwrap();
            std::fs::write(main.join("index.js"), source).unwrap();
            self.config.main_service = Some(main);
            self.config
                .functions
                .entry("main".into())
                .or_default()
                .env
                .insert("FUNCTIONS_DIR".into(), functions.display().to_string());
        }
        self.config.functions_dir = functions;
        // The module cache's disk tier stays inside the test's folder.
        self.config
            .cache
            .dir
            .get_or_insert_with(|| dir.path().join("cache"));
        let server = Server::bind(&self.config).await.expect("server starts");
        let addr = server.local_addr();
        RunningServer {
            server: Some(server),
            addr,
            client: reqwest::Client::new(),
            dir,
            config: self.config,
        }
    }
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The functions folder, to add or change files while the server runs.
    pub fn functions_dir(&self) -> PathBuf {
        self.dir.path().join("functions")
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// GET and return status and body text.
    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let response = self.get(path).await;
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    /// GET and return status and the body parsed as JSON.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let (status, text) = self.get_text(path).await;
        let json = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("body of {path} is not JSON ({e}): {text}"));
        (status, json)
    }

    /// The folder of the module cache's disk tier.
    pub fn cache_dir(&self) -> PathBuf {
        self.config
            .cache
            .dir
            .clone()
            .expect("set by start")
            .join("bytecode")
    }

    /// Stops the server and starts a new process-like one on the same folders and
    /// configuration (on a new port): nothing but the files on disk carries over.
    pub async fn restart(mut self) -> RunningServer {
        self.shut_down().await;
        let server = Server::bind(&self.config)
            .await
            .expect("server starts again");
        self.addr = server.local_addr();
        self.server = Some(server);
        self
    }

    pub async fn stop(mut self) {
        self.shut_down().await;
    }

    async fn shut_down(&mut self) {
        if let Some(server) = self.server.take() {
            server
                .shutdown(std::time::Duration::from_secs(5), std::future::pending())
                .await;
        }
    }
}

/// The Python of the virtualenv with `awslambdaric` that `scripts/test` installs.
pub fn lambda_python() -> String {
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/lambda-venv");
    let bin = std::fs::canonicalize(venv.join("bin")).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run scripts/test, which installs awslambdaric into it",
            venv.display()
        )
    });
    // Not canonicalised: the venv's python is a symlink, and following it leaves the venv.
    bin.join("python").display().to_string()
}

/// Sends raw bytes on a new connection and returns everything the server answers until it
/// closes the connection.
/// Polls `probe` until its value satisfies `ready` and returns that value; after about ten
/// seconds it returns the last one, for the caller's assertion to report. What is awaited
/// happens elsewhere (on a worker thread, in a log) at no set time.
pub async fn eventually<T, F: std::future::Future<Output = T>>(
    mut probe: impl FnMut() -> F,
    ready: impl Fn(&T) -> bool,
) -> T {
    let mut value = probe().await;
    for _ in 0..1000 {
        if ready(&value) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        value = probe().await;
    }
    value
}

pub async fn raw_http(addr: SocketAddr, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    String::from_utf8_lossy(&response).into_owned()
}

/// Parses the Prometheus text format into `name{labels} -> value`.
pub fn parse_metrics(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// The server's metrics, parsed.
pub async fn metrics(srv: &RunningServer) -> HashMap<String, f64> {
    let (status, text) = srv.get_text("/_edgefn/metrics").await;
    assert_eq!(status, 200);
    parse_metrics(&text)
}

/// One series of `metrics`; `0` when absent (as a counter that never moved is).
pub fn value(metrics: &HashMap<String, f64>, series: &str) -> f64 {
    metrics.get(series).copied().unwrap_or(0.0)
}

/// Every log line of this test binary (JSON, one object per line), captured from the start.
pub fn logs() -> String {
    let buffer = LOGS.get().expect("capture_logs ran").lock().unwrap();
    String::from_utf8_lossy(&buffer).into_owned()
}

/// The captured log lines, parsed, whose `fields.function` is `function`.
pub fn function_logs(function: &str) -> Vec<serde_json::Value> {
    logs()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["fields"]["function"] == function)
        .collect()
}

static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

fn capture_logs() {
    let buffer = LOGS
        .get_or_init(|| Arc::new(Mutex::new(Vec::new())))
        .clone();
    let _ = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || LogWriter(buffer.clone()))
        .try_init();
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
