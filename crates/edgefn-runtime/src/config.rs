//! Every configuration key, declared once with its unit and default.
//!
//! Layers, lowest first: built-in defaults < configuration files (in the order given) <
//! command-line overrides. Unknown keys and wrong types are errors that name the key and the
//! file; nothing falls back silently to a default.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The whole configuration of one edgefn process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Folder whose sub-folders are the functions. Default: `examples/functions`.
    pub functions_dir: PathBuf,
    /// The HTTP listener.
    pub server: ServerConfig,
    /// The user-worker pool.
    pub workers: WorkersConfig,
    /// Resource limits of every function, unless its own section overrides them.
    pub limits: LimitsConfig,
    /// Per-function sections, `[functions.<name>]`.
    pub functions: BTreeMap<String, FunctionConfig>,
}

/// `[server]`: where the HTTP listener binds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on. Default: `127.0.0.1`.
    pub host: IpAddr,
    /// TCP port to listen on; `0` picks a free port. Default: `9000`.
    pub port: u16,
}

/// `[workers]`: the user-worker thread pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkersConfig {
    /// Number of user-worker threads; `0` means one per available CPU core. Default: `0`.
    pub threads: usize,
    /// Pin each user-worker thread to a CPU core. Default: `true`.
    pub pin_threads: bool,
}

/// `[limits]`: resource limits of one function's isolate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Heap limit of an isolate, in MiB. Default: `150`.
    pub memory_mb: u64,
}

/// `[functions.<name>]`: settings of one function.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FunctionConfig {
    /// Environment variables the function sees in `Deno.env` and in the `env` argument of
    /// `fetch`. The process environment is never visible to functions. Default: none.
    pub env: BTreeMap<String, String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            functions_dir: PathBuf::from("examples/functions"),
            server: ServerConfig::default(),
            workers: WorkersConfig::default(),
            limits: LimitsConfig::default(),
            functions: BTreeMap::new(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 9000,
        }
    }
}

impl Default for WorkersConfig {
    fn default() -> Self {
        WorkersConfig {
            threads: 0,
            pin_threads: true,
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig { memory_mb: 150 }
    }
}

/// Where a configuration comes from.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    /// TOML files, lowest precedence first. Each must exist.
    pub files: Vec<PathBuf>,
    /// Values from the command line, as `(dotted.key, value)` pairs; they win over everything.
    pub overrides: Vec<(String, figment::value::Value)>,
}

/// A configuration that cannot be used; the message names the key and where it came from.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A configuration file could not be read.
    #[error("cannot read configuration file {path}: {source}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A value is malformed, of the wrong type, or a key is unknown.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl ConfigSources {
    /// Adds a command-line override of `key`.
    pub fn set(&mut self, key: &str, value: impl Serialize) {
        let value = figment::value::Value::serialize(value).expect("plain values serialise");
        self.overrides.push((key.to_owned(), value));
    }
}

impl Config {
    /// Merges the layers and validates the result.
    pub fn load(sources: &ConfigSources) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        for path in &sources.files {
            check_readable(path)?;
            figment = figment.merge(Toml::file_exact(path));
        }
        for (key, value) in &sources.overrides {
            figment = figment.merge(Serialized::global(key.as_str(), value.clone()));
        }
        figment
            .extract::<Config>()
            .map_err(|error| ConfigError::Invalid(describe(error)))
    }

    /// The heap limit of an isolate in bytes.
    pub fn memory_limit_bytes(&self) -> usize {
        usize::try_from(self.limits.memory_mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX)
    }
}

fn check_readable(path: &Path) -> Result<(), ConfigError> {
    std::fs::read(path)
        .map(drop)
        .map_err(|source| ConfigError::Unreadable {
            path: path.to_owned(),
            source,
        })
}

/// One line per problem, each naming the key and its source.
fn describe(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
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
        assert_eq!(config.memory_limit_bytes(), 150 * 1024 * 1024);
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
    fn missing_file_is_an_error() {
        let error = Config::load(&ConfigSources {
            files: vec![PathBuf::from("/nonexistent/edgefn.toml")],
            ..Default::default()
        })
        .unwrap_err();
        assert!(matches!(error, ConfigError::Unreadable { .. }), "{error}");
    }
}
