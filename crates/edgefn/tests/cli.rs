//! The `edgefn` binary as a user runs it: help, version, start-up errors, and serving the
//! bundled examples.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_edgefn");

#[test]
fn help_lists_the_start_command_and_its_flags() {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("start"), "{text}");
    let output = Command::new(BIN)
        .args(["start", "--help"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    for flag in ["--functions", "--host", "--port", "--config"] {
        assert!(text.contains(flag), "{flag} missing from {text}");
    }
}

#[test]
fn version_prints_the_package_version() {
    let output = Command::new(BIN).arg("--version").output().unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("edgefn {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn missing_functions_folder_is_a_clear_start_up_error() {
    let output = Command::new(BIN)
        .args([
            "start",
            "--port",
            "0",
            "--functions",
            "/nonexistent/functions",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("functions folder /nonexistent/functions"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn unreadable_functions_folder_is_a_clear_start_up_error() {
    let file = std::env::temp_dir().join(format!("edgefn-not-a-dir-{}", std::process::id()));
    std::fs::write(&file, "").unwrap();
    let output = Command::new(BIN)
        .args(["start", "--port", "0", "--functions"])
        .arg(&file)
        .output()
        .unwrap();
    std::fs::remove_file(&file).unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("functions folder"), "{stderr}");
}

#[test]
fn invalid_config_names_the_key_and_the_file() {
    let path = std::env::temp_dir().join(format!("edgefn-bad-{}.toml", std::process::id()));
    std::fs::write(&path, "[server]\nport = \"high\"\n").unwrap();
    let output = Command::new(BIN)
        .args(["start", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("server.port"), "{stderr}");
    assert!(
        stderr.contains(path.file_name().unwrap().to_str().unwrap()),
        "{stderr}"
    );
}

/// A running `edgefn start` on the bundled examples, killed when dropped.
struct Running {
    child: Child,
    addr: String,
    /// Every line the process writes to stdout after the one announcing the address.
    stdout: std::sync::mpsc::Receiver<String>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary on a free port and reads the address it logs.
fn start_examples(extra_args: &[&str]) -> Running {
    let mut child = Command::new(BIN)
        .args(["start", "--port", "0"])
        .args(extra_args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("edgefn exited before listening")
            .unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    // Keep draining stdout so the child never blocks on a full pipe.
    let (tx, stdout) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    Running {
        child,
        addr,
        stdout,
    }
}

#[tokio::test]
async fn start_serves_the_bundled_examples_on_both_routes() {
    let running = start_examples(&[]);
    for path in ["/hello", "/functions/v1/hello"] {
        let response = reqwest::get(format!("http://{}{path}", running.addr))
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let text = response.text().await.unwrap();
        assert!(text.contains("Hello"), "{path}: {text}");
    }
    let echo = reqwest::Client::new()
        .post(format!("http://{}/echo", running.addr))
        .json(&serde_json::json!({"name": "edgefn"}))
        .send()
        .await
        .unwrap();
    assert_eq!(echo.status(), 200);
    let body: serde_json::Value = echo.json().await.unwrap();
    assert_eq!(body["received"]["name"], "edgefn");
    for path in ["/stream", "/multi"] {
        let response = reqwest::get(format!("http://{}{path}", running.addr))
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn events_go_to_stdout_as_json_lines_when_configured() {
    let config = std::env::temp_dir().join(format!("edgefn-events-{}.toml", std::process::id()));
    std::fs::write(&config, "[events]\nstdout = true\n").unwrap();
    let running = start_examples(&["--config", config.to_str().unwrap()]);
    let response = reqwest::get(format!("http://{}/hello", running.addr))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    std::fs::remove_file(&config).unwrap();
    let boot = running
        .stdout
        .iter()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(&line).ok())
        .find(|event| event["event_type"] == "Boot")
        .expect("a Boot event on stdout");
    assert_eq!(boot["function"], "hello");
    assert!(boot["event"]["boot_time_ms"].is_number(), "{boot}");
    assert!(boot["worker_id"].is_number(), "{boot}");
}
