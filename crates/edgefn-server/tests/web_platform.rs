//! The Web platform inside an isolate, tested from JavaScript: every `tests/js/*.test.js` file is
//! served as a function (with `_harness.js` beside it) and must report no failed test.

mod support;

use std::path::Path;

use support::TestServer;

#[tokio::test]
async fn every_js_test_file_passes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js");
    let harness = std::fs::read_to_string(dir.join("_harness.js")).unwrap();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".test.js"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no JS test files in {}", dir.display());

    let mut builder = TestServer::new();
    let mut names = Vec::new();
    for file in &files {
        let name = file
            .file_name()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".test.js")
            .replace('_', "-");
        let source = std::fs::read_to_string(file).unwrap();
        builder = builder
            .file(&format!("{name}/index.js"), &source)
            .file(&format!("{name}/_harness.js"), &harness);
        names.push(name);
    }
    let srv = builder.start().await;

    let mut report = Vec::new();
    let mut total = 0;
    for name in &names {
        let (status, body) = srv.get_json(&format!("/{name}/run?x=1")).await;
        assert_eq!(status, 200, "{name}: {body}");
        total += body["passed"].as_u64().unwrap();
        for failure in body["failures"].as_array().unwrap() {
            report.push(format!(
                "{name} › {}: {}",
                failure["name"].as_str().unwrap(),
                failure["error"].as_str().unwrap()
            ));
        }
    }
    assert!(
        report.is_empty(),
        "{} JS tests failed:\n\n{}",
        report.len(),
        report.join("\n\n")
    );
    assert!(total > 0);
}
