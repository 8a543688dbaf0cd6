//! Tests of configuration layering and validation.

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
        ("[pool]\nmax_isolates = 0\n", "pool.max_isolates"),
        (
            "[pool]\nprepared_isolates = 65\n",
            "pool.prepared_isolates: must be at most 64",
        ),
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
fn fetch_ca_files_must_hold_pem_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let ca = rcgen::CertificateParams::new(Vec::<String>::new())
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let good = dir.path().join("ca.pem");
    std::fs::write(&good, ca.pem()).unwrap();
    let not_a_certificate = dir.path().join("not-a-certificate.pem");
    std::fs::write(
        &not_a_certificate,
        "-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "no certificate here\n").unwrap();
    let broken = dir.path().join("broken.pem");
    std::fs::write(
        &broken,
        "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let missing = dir.path().join("missing.pem");
    let load = |path: &std::path::Path| {
        let (_dir, config) = file(&format!("[fetch]\nca_files = [{:?}]\n", path));
        Config::load(&ConfigSources {
            files: vec![config],
            ..Default::default()
        })
    };
    let config = load(&good).unwrap();
    assert_eq!(
        config.fetch.root_certificates().unwrap(),
        vec![ca.der().to_vec()]
    );
    for (path, reason) in [
        (&not_a_certificate, "holds a certificate rustls cannot use"),
        (&empty, "holds no PEM certificate"),
        (&broken, "is not valid PEM"),
        (&missing, "cannot read"),
    ] {
        let error = load(path).unwrap_err().to_string();
        assert!(error.contains("fetch.ca_files: "), "{error}");
        assert!(error.contains(&path.display().to_string()), "{error}");
        assert!(error.contains(reason), "{error}");
        assert!(error.contains("edgefn.toml"), "names the file: {error}");
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

fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn each_layer_overrides_the_one_below() {
    let (_dir, path) = file("[server]\nport = 8080\n[limits]\nmemory_mb = 64\ncpu_soft_ms = 100\n");
    let mut sources = ConfigSources {
        files: vec![path.clone()],
        env: env(&[
            ("EDGEFN_LIMITS__MEMORY_MB", "32"),
            ("EDGEFN_SERVER__PORT", "7000"),
            ("EDGEFN_LOG", "debug"),
            ("PATH", "/usr/bin"),
        ]),
        ..Default::default()
    };
    sources.set("server.port", 6000);
    let config = Config::load(&sources).unwrap();
    assert_eq!(config.server.port, 6000, "flag over environment");
    assert_eq!(config.limits.memory_mb, 32, "environment over file");
    assert_eq!(config.limits.cpu_soft_ms, 100, "file over default");
    assert_eq!(config.limits.cpu_hard_ms, 20_000, "default");
}

#[test]
fn environment_values_are_typed_and_nested() {
    let sources = ConfigSources {
        env: env(&[
            ("EDGEFN_POOL__POLICY", "oneshot"),
            ("EDGEFN_WORKERS__PIN_THREADS", "false"),
            ("EDGEFN_FUNCTIONS__HELLO__MAX_PARALLELISM", "3"),
        ]),
        ..Default::default()
    };
    let config = Config::load(&sources).unwrap();
    assert_eq!(config.pool.policy, Policy::Oneshot);
    assert!(!config.workers.pin_threads);
    assert_eq!(config.functions["hello"].max_parallelism, Some(3));
}

#[test]
fn bad_environment_value_names_the_variable() {
    let sources = ConfigSources {
        env: env(&[("EDGEFN_SERVER__PORT", "lots")]),
        ..Default::default()
    };
    let error = Config::load(&sources).unwrap_err().to_string();
    assert!(error.contains("EDGEFN_SERVER__PORT"), "{error}");
    let sources = ConfigSources {
        env: env(&[("EDGEFN_SERVER__PROT", "1")]),
        ..Default::default()
    };
    let error = Config::load(&sources).unwrap_err().to_string();
    assert!(error.contains("prot"), "{error}");
}

#[test]
fn explain_names_the_source_of_every_value() {
    let (_dir, path) = file("[server]\nport = 8080\n");
    let mut sources = ConfigSources {
        files: vec![path.clone()],
        env: env(&[("EDGEFN_LIMITS__MEMORY_MB", "32")]),
        ..Default::default()
    };
    sources.set("server.host", "0.0.0.0");
    let explained = Config::explain(&sources).unwrap();
    let find = |key: &str| explained.iter().find(|v| v.key == key).unwrap().clone();
    assert_eq!(find("server.port").value, "8080");
    assert_eq!(
        find("server.port").source,
        format!("file {}", path.display())
    );
    assert_eq!(
        find("limits.memory_mb").source,
        "environment variable EDGEFN_LIMITS__MEMORY_MB"
    );
    assert_eq!(find("server.host").source, "command line");
    assert_eq!(find("server.host").value, "\"0.0.0.0\"");
    assert_eq!(find("pool.policy").source, "default");
    assert_eq!(find("pool.policy").value, "\"per_worker\"");
}

/// The configuration table of the README: key → documented default.
fn documented_keys() -> std::collections::BTreeMap<String, String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md at the workspace root");
    let start = readme
        .find("<!-- config-table")
        .expect("the README marks its config table");
    let end = readme
        .find("<!-- /config-table -->")
        .expect("the config table ends");
    readme[start..end]
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            (cells[1].trim_matches('`').to_owned(), cells[3].to_owned())
        })
        .collect()
}

fn normalize(text: &str) -> String {
    let text = text.trim_matches('`').trim_matches('"');
    if text == "(none)" {
        "none".to_owned()
    } else {
        text.to_owned()
    }
}

#[test]
fn readme_documents_every_key_with_its_default() {
    let documented = documented_keys();
    let defaults = figment::value::Value::serialize(Config::default()).unwrap();
    let mut leaves = Vec::new();
    sources::flatten("", &defaults, &mut leaves);
    for (key, value) in &leaves {
        if key == "functions" {
            continue; // per-function sections are checked below
        }
        let doc = documented
            .get(key)
            .unwrap_or_else(|| panic!("{key} is not documented in the README's config table"));
        assert_eq!(
            normalize(doc),
            normalize(value),
            "documented default of {key}"
        );
    }
    let function_defaults = figment::value::Value::serialize(FunctionConfig::default()).unwrap();
    let mut function_keys = Vec::new();
    sources::flatten("", &function_defaults, &mut function_keys);
    let function_keys: Vec<String> = function_keys.into_iter().map(|(k, _)| k).collect();
    for key in documented.keys() {
        match key.strip_prefix("functions.<name>.") {
            Some(rest) => assert!(
                function_keys.iter().any(|k| k == rest),
                "the README documents {key}, which does not exist"
            ),
            None => assert!(
                leaves.iter().any(|(k, _)| k == key),
                "the README documents {key}, which does not exist"
            ),
        }
    }
    for key in &function_keys {
        assert!(
            documented.contains_key(&format!("functions.<name>.{key}")),
            "functions.<name>.{key} is not documented"
        );
    }
}
