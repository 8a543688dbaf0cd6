//! The process's own life, through the real binary: graceful shutdown on SIGTERM (drained and
//! forced), configuration errors and their exit code, `edgefn config`, named threads, JSON logs.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt as _;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_edgefn");

/// Longest any single step waits for the process before the test gives up (a guard against a
/// hung test, not a timing assertion).
const GUARD: Duration = Duration::from_secs(60);

struct Process {
    child: Child,
    addr: String,
    /// The line announcing the address.
    listening: String,
    /// The lines written before it.
    before_listening: Vec<String>,
    stdout: Receiver<String>,
    _dir: tempfile::TempDir,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Process {
    /// Starts `edgefn start` on `functions` (name, index.js source) with `config` as its TOML.
    fn start(functions: &[(&str, &str)], config: &str, args: &[&str]) -> Process {
        let dir = tempfile::tempdir().unwrap();
        // The module cache's default directory, kept inside the test's folder.
        let cache = dir.path().join("cache");
        Process::start_in(dir, functions, config, args, &cache)
    }

    /// As [`Process::start`], in `dir`, with `$XDG_CACHE_HOME` set to `cache_home`.
    fn start_in(
        dir: tempfile::TempDir,
        functions: &[(&str, &str)],
        config: &str,
        args: &[&str],
        cache_home: &std::path::Path,
    ) -> Process {
        for (name, source) in functions {
            std::fs::create_dir_all(dir.path().join(name)).unwrap();
            std::fs::write(dir.path().join(name).join("index.js"), source).unwrap();
        }
        let config_path = dir.path().join("edgefn.toml");
        std::fs::write(&config_path, config).unwrap();
        let mut child = Command::new(BIN)
            .args(["start", "--port", "0", "--functions"])
            .arg(dir.path())
            .arg("--config")
            .arg(&config_path)
            .args(args)
            .env("XDG_CACHE_HOME", cache_home)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (tx, stdout) = std::sync::mpsc::channel();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut process = Process {
            child,
            addr: String::new(),
            listening: String::new(),
            before_listening: Vec::new(),
            stdout,
            _dir: dir,
        };
        let line = loop {
            let line = process.wait_for_line(|_| true);
            if line.contains("listening on http://") {
                break line;
            }
            process.before_listening.push(line);
        };
        process.addr = line
            .split("listening on http://")
            .nth(1)
            .unwrap()
            .split(|c: char| c.is_whitespace() || c == '"')
            .next()
            .unwrap()
            .to_owned();
        process.listening = line;
        process
    }

    fn wait_for_line(&self, wanted: impl Fn(&str) -> bool) -> String {
        loop {
            match self.stdout.recv_timeout(GUARD) {
                Ok(line) if wanted(&line) => return line,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => panic!("no such line within the guard"),
                Err(RecvTimeoutError::Disconnected) => panic!("edgefn exited first"),
            }
        }
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn exit_code(&mut self) -> Option<i32> {
        let deadline = std::time::Instant::now() + GUARD;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("edgefn did not exit within the guard");
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

/// Streams "started;" at once and "done" after 300 ms, so a request is visibly in flight.
const SLOW: &str = r#"
const enc = new TextEncoder();
Deno.serve(() => new Response(new ReadableStream({
  start(c) { c.enqueue(enc.encode('started;')); },
  async pull(c) {
    await new Promise((r) => setTimeout(r, 300));
    c.enqueue(enc.encode('done'));
    c.close();
  },
})));
"#;

/// Connections served on the user-worker threads instead of the main runtime.
const ON_WORKERS: &str = "[workers]\nserve_connections = true\n";

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish_refuses_new_ones_and_exits_0() {
    in_flight_requests_finish_and_exit_0("").await;
}

#[tokio::test]
async fn in_flight_requests_finish_with_connections_on_the_worker_threads() {
    in_flight_requests_finish_and_exit_0(ON_WORKERS).await;
}

async fn in_flight_requests_finish_and_exit_0(config: &str) {
    let mut process = Process::start(&[("slow", SLOW)], config, &[]);
    let client = reqwest::Client::new();
    let mut responses = Vec::new();
    for _ in 0..6 {
        let mut response = client.get(process.url("/slow")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.chunk().await.unwrap().unwrap(), &b"started;"[..]);
        responses.push(response);
    }
    process.signal("TERM");
    // New connections are refused once the listener is closed.
    let mut refused = false;
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(&process.addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(refused, "new connections were still accepted");
    // Every request in flight completes.
    for response in responses {
        let mut body = b"started;".to_vec();
        let mut response = response;
        while let Some(chunk) = response.chunk().await.unwrap() {
            body.extend_from_slice(&chunk);
        }
        assert_eq!(body, b"started;done");
    }
    assert_eq!(process.exit_code(), Some(0));
}

const HANGING: &str = r#"
Deno.serve(async () => {
  console.log('hanging now');
  await new Promise(() => {});
});
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_outliving_the_deadline_gets_503_and_the_exit_code_says_forced() {
    work_outliving_the_deadline_gets_503("").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_outliving_the_deadline_gets_503_with_connections_on_the_worker_threads() {
    work_outliving_the_deadline_gets_503(ON_WORKERS).await;
}

async fn work_outliving_the_deadline_gets_503(config: &str) {
    let mut process = Process::start(
        &[("hang", HANGING)],
        &format!("[server]\ngraceful_exit_timeout_s = 1\n{config}"),
        &[],
    );
    let request = tokio::spawn(reqwest::get(process.url("/hang")));
    process.wait_for_line(|l| l.contains("hanging now"));
    process.signal("TERM");
    let response = request.await.unwrap().unwrap();
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "ShuttingDown");
    assert_eq!(process.exit_code(), Some(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_forces_the_stop() {
    let mut process = Process::start(
        &[("hang", HANGING)],
        "[server]\ngraceful_exit_timeout_s = 3600\n",
        &[],
    );
    let request = tokio::spawn(reqwest::get(process.url("/hang")));
    process.wait_for_line(|l| l.contains("hanging now"));
    process.signal("TERM");
    process.wait_for_line(|l| l.contains("stopping"));
    process.signal("INT");
    assert_eq!(request.await.unwrap().unwrap().status(), 503);
    assert_eq!(process.exit_code(), Some(3));
}

#[test]
fn threads_are_named_after_their_pools() {
    let process = Process::start(&[("f", "Deno.serve(() => new Response('x'));")], "", &[]);
    let task_dir = format!("/proc/{}/task", process.child.id());
    let expected = [
        "edgefn-main",
        "edgefn-bg",
        "edgefn-worker-0",
        "edgefn-cpu-0",
        "edgefn-cache",
    ];
    // A thread names itself when it first runs, which on a busy machine can be a moment after
    // it was created: look until every pool shows up.
    let deadline = std::time::Instant::now() + GUARD;
    loop {
        let names: Vec<String> = std::fs::read_dir(&task_dir)
            .unwrap()
            .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path().join("comm")).ok())
            .map(|name| name.trim().to_owned())
            .collect();
        if expected.iter().all(|e| names.iter().any(|n| n == e)) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{expected:?} not all in {names:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The process's heap (mimalloc) is configured before its first arena is reserved: no memory
/// of the process is advised for transparent huge pages (`hg` in a mapping's `VmFlags`), which
/// would make it resident 2 MiB at a time, and the process has them turned off (see
/// `crates/edgefn/src/main.rs`).
#[tokio::test]
async fn no_memory_is_advised_for_huge_pages() {
    let process = Process::start(&[("f", "Deno.serve(() => new Response('x'));")], "", &[]);
    let response = reqwest::get(process.url("/f")).await.unwrap();
    assert_eq!(response.text().await.unwrap(), "x");
    let smaps = std::fs::read_to_string(format!("/proc/{}/smaps", process.child.id())).unwrap();
    let mut mapping = "";
    let mut flags_seen = 0;
    for line in smaps.lines() {
        if let Some(flags) = line.strip_prefix("VmFlags:") {
            flags_seen += 1;
            let flags: Vec<&str> = flags.split_whitespace().collect();
            assert!(!flags.contains(&"hg"), "advised for huge pages: {mapping}");
        } else if line
            .split_whitespace()
            .next()
            .is_some_and(|f| f.contains('-'))
        {
            mapping = line;
        }
    }
    assert!(flags_seen > 0, "no VmFlags in {smaps}");
    // And none are used at all (the field is there when the kernel has them).
    let status = std::fs::read_to_string(format!("/proc/{}/status", process.child.id())).unwrap();
    if let Some(line) = status.lines().find(|l| l.starts_with("THP_enabled:")) {
        assert_eq!(line.split_whitespace().nth(1), Some("0"), "{line}");
    }
}

#[test]
fn log_format_json_writes_one_object_per_line() {
    for (config, args) in [
        ("", &["--log-format", "json"][..]),
        ("[log]\nformat = \"json\"\n", &[][..]),
    ] {
        let process = Process::start(&[], config, args);
        let line: serde_json::Value = serde_json::from_str(&process.listening)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", process.listening));
        assert_eq!(line["fields"]["address"], process.addr.as_str());
        assert_eq!(line["level"], "INFO");
    }
}

fn run(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let output = Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn bad_configuration_exits_2_naming_the_key_and_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    let path = file.to_str().unwrap();
    // Bytecode read from the cache directory runs unchecked: one open to others is refused.
    let open_cache = dir.path().join("open-cache");
    std::fs::create_dir(&open_cache).unwrap();
    std::fs::set_permissions(&open_cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    let open_cache_toml = format!("[cache]\ndir = {:?}\n", open_cache.display().to_string());
    for (toml, env, expected) in [
        ("[server]\nprot = 1\n", vec![], vec!["prot", "bad.toml"]),
        (
            "[limits]\ncpu_soft_ms = 50000\n",
            vec![],
            vec!["limits.cpu_soft_ms", "bad.toml", "cpu_hard_ms"],
        ),
        (
            "",
            vec![("EDGEFN_POOL__MAX_PARALLELISM", "many")],
            vec!["EDGEFN_POOL__MAX_PARALLELISM"],
        ),
        (
            "",
            vec![("EDGEFN_POOL__MAX_ISOLATES", "0")],
            vec!["pool.max_isolates", "EDGEFN_POOL__MAX_ISOLATES"],
        ),
        (
            "[fetch]\nca_files = [\"/nonexistent/ca.pem\"]\n",
            vec![],
            vec!["fetch.ca_files", "/nonexistent/ca.pem", "bad.toml"],
        ),
        (
            open_cache_toml.as_str(),
            vec![],
            vec!["cache.dir", "writable by group or others", "bad.toml"],
        ),
    ] {
        std::fs::write(&file, toml).unwrap();
        let (code, _, stderr) = run(&["start", "--port", "0", "--config", path], &env);
        assert_eq!(code, Some(2), "{toml:?} {env:?}: {stderr}");
        for needle in expected {
            assert!(stderr.contains(needle), "{needle:?} missing from {stderr}");
        }
    }
    let (code, _, stderr) = run(&["start", "--config", "/nonexistent/edgefn.toml"], &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("/nonexistent/edgefn.toml"), "{stderr}");
}

#[test]
fn edgefn_config_prints_every_value_with_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("edgefn.toml");
    std::fs::write(&file, "[limits]\nmemory_mb = 64\n").unwrap();
    let (code, stdout, stderr) = run(
        &[
            "config",
            "--config",
            file.to_str().unwrap(),
            "--host",
            "0.0.0.0",
        ],
        &[("EDGEFN_SERVER__PORT", "1234")],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let line = |key: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("{key} missing from {stdout}"))
            .to_owned()
    };
    assert!(line("server.port").contains("1234"));
    assert!(line("server.port").ends_with("# environment variable EDGEFN_SERVER__PORT"));
    assert!(line("limits.memory_mb").ends_with(&format!("# file {}", file.display())));
    assert!(line("server.host").ends_with("# command line"));
    assert!(line("pool.policy").ends_with("# default"));
}

#[tokio::test]
async fn an_unusable_default_cache_directory_leaves_the_cache_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    // Another user could replace anything below a folder open to all, without the sticky bit.
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let large = format!(
        "export default {{ fetch: () => new Response('ok') }};\n// {}\n",
        "padding ".repeat(256)
    );
    let process = Process::start_in(dir, &[("f", &large)], "", &[], &open);
    assert!(
        process
            .before_listening
            .iter()
            .any(|line| line.contains("the module cache stays in memory")
                && line.contains("may be changed by another user")),
        "{:?}",
        process.before_listening
    );
    let response = reqwest::get(process.url("/f")).await.unwrap();
    assert_eq!(response.status(), 200);
    let metrics = reqwest::get(process.url("/_edgefn/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("edgefn_module_loads_total{source=\"compiled\"} 1"),
        "{metrics}"
    );
    let written = walk_files(&open);
    assert!(written.is_empty(), "nothing is written there: {written:?}");
}

fn walk_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk_files(&path));
        } else {
            files.push(path);
        }
    }
    files
}
