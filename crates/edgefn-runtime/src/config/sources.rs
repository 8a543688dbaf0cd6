//! Where configuration values come from, and how the layers are merged.
//!
//! Layers, lowest first: built-in defaults < configuration files (`/etc/edgefn/edgefn.toml`,
//! then `./edgefn.toml` or `--config FILE`) < `EDGEFN_*` environment variables (nested keys
//! joined with `__`, e.g. `EDGEFN_LIMITS__MEMORY_MB`) < command-line flags. The environment is
//! an injected list of variables, never read here, so tests do not touch the process
//! environment.

use std::path::{Path, PathBuf};

use figment::providers::{Format, Serialized, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::Serialize;

use super::Config;

/// Prefix of the environment variables that set configuration keys.
pub const ENV_PREFIX: &str = "EDGEFN_";

/// Separator of nested keys in an environment variable name.
pub const ENV_SEPARATOR: &str = "__";

/// Environment variables with the prefix that are not configuration keys.
const ENV_NOT_CONFIG: [&str; 1] = ["EDGEFN_LOG"];

/// Where a configuration comes from.
#[derive(Debug, Clone, Default)]
pub struct ConfigSources {
    /// TOML files, lowest precedence first. Each must exist.
    pub files: Vec<PathBuf>,
    /// Environment variables as `(name, value)`; those starting with `EDGEFN_` set keys.
    pub env: Vec<(String, String)>,
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

/// One effective value and the layer it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplainedValue {
    /// The dotted key, e.g. `server.port`.
    pub key: String,
    /// The value, as TOML would write it.
    pub value: String,
    /// Where it came from: `default`, a file, an environment variable, or the command line.
    pub source: String,
}

impl ConfigSources {
    fn figment(&self) -> Result<Figment, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        for path in &self.files {
            check_readable(path)?;
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment.merge(EnvVars {
            vars: self.env.clone(),
        });
        for (key, value) in &self.overrides {
            figment = figment.merge(CommandLine {
                key: key.clone(),
                value: value.clone(),
            });
        }
        Ok(figment)
    }
}

impl Config {
    /// Merges the layers and validates the result.
    pub fn load(sources: &ConfigSources) -> Result<Config, ConfigError> {
        let figment = sources.figment()?;
        let config = figment
            .extract::<Config>()
            .map_err(|error| ConfigError::Invalid(describe(error)))?;
        config.validate(&figment)?;
        Ok(config)
    }

    /// The effective configuration, one leaf value per line, each with where it came from
    /// (for `edgefn config`).
    pub fn explain(sources: &ConfigSources) -> Result<Vec<ExplainedValue>, ConfigError> {
        let figment = sources.figment()?;
        let config = Config::load(sources)?;
        let tree = Value::serialize(&config).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        let mut leaves = Vec::new();
        flatten("", &tree, &mut leaves);
        Ok(leaves
            .into_iter()
            .map(|(key, value)| {
                let source = figment
                    .find_metadata(&key)
                    .map_or_else(|| "default".to_owned(), |meta| describe_source(meta, &key));
                ExplainedValue { key, value, source }
            })
            .collect())
    }
}

pub(crate) fn describe_source(meta: &Metadata, key: &str) -> String {
    match &meta.source {
        Some(figment::Source::File(path)) => format!("file {}", path.display()),
        _ if meta.name == ENV_METADATA => {
            let keys: Vec<&str> = key.split('.').collect();
            format!(
                "environment variable {}",
                meta.interpolate(&Profile::Default, &keys)
            )
        }
        _ if meta.name == CLI_METADATA => "command line".to_owned(),
        _ => "default".to_owned(),
    }
}

pub(crate) fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Dict(_, dict) if !dict.is_empty() => {
            for (key, child) in dict {
                let key = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&key, child, out);
            }
        }
        other => out.push((prefix.to_owned(), toml_text(other))),
    }
}

/// A plain value the way TOML writes it.
fn toml_text(value: &Value) -> String {
    match value {
        Value::String(_, s) => format!("{s:?}"),
        Value::Char(_, c) => format!("{:?}", c.to_string()),
        Value::Bool(_, b) => b.to_string(),
        Value::Num(_, n) => n
            .to_u128()
            .map(|n| n.to_string())
            .or_else(|| n.to_i128().map(|n| n.to_string()))
            .or_else(|| n.to_f64().map(|n| n.to_string()))
            .unwrap_or_default(),
        Value::Array(_, items) => {
            let items: Vec<String> = items.iter().map(toml_text).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Dict(_, dict) if dict.is_empty() => "{}".to_owned(),
        Value::Dict(..) => "{...}".to_owned(),
        Value::Empty(..) => "(none)".to_owned(),
    }
}

const ENV_METADATA: &str = "environment variable";
const CLI_METADATA: &str = "command line";

/// `EDGEFN_*` variables as a figment provider.
struct EnvVars {
    vars: Vec<(String, String)>,
}

impl Provider for EnvVars {
    fn metadata(&self) -> Metadata {
        Metadata::named(ENV_METADATA).interpolater(|_: &Profile, keys: &[&str]| {
            let keys: Vec<String> = keys.iter().map(|k| k.to_ascii_uppercase()).collect();
            format!("{ENV_PREFIX}{}", keys.join(ENV_SEPARATOR))
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut dict = Dict::new();
        for (name, value) in &self.vars {
            let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if ENV_NOT_CONFIG.contains(&name.as_str()) || rest.is_empty() {
                continue;
            }
            let key = rest
                .split(ENV_SEPARATOR)
                .map(str::to_ascii_lowercase)
                .collect::<Vec<_>>()
                .join(".");
            let parsed: Value = value
                .parse()
                .expect("parsing an environment value is infallible");
            let nested = figment::util::nest(&key, parsed)
                .into_dict()
                .expect("a non-empty key nests into a dictionary");
            dict = dict.merge(nested);
        }
        Ok(Profile::Default.collect(dict))
    }
}

/// One command-line flag as a figment provider.
struct CommandLine {
    key: String,
    value: Value,
}

impl Provider for CommandLine {
    fn metadata(&self) -> Metadata {
        Metadata::named(CLI_METADATA)
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let nested = figment::util::nest(&self.key, self.value.clone())
            .into_dict()
            .expect("a non-empty key nests into a dictionary");
        Ok(Profile::Default.collect(nested))
    }
}

trait MergeDict {
    fn merge(self, other: Dict) -> Dict;
}

impl MergeDict for Dict {
    fn merge(mut self, other: Dict) -> Dict {
        for (key, value) in other {
            match (self.remove(&key), value) {
                (Some(Value::Dict(tag, mine)), Value::Dict(_, theirs)) => {
                    self.insert(key, Value::Dict(tag, mine.merge(theirs)));
                }
                (_, value) => {
                    self.insert(key, value);
                }
            }
        }
        self
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
