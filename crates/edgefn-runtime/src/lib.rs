//! Process-wide plumbing of edgefn, with no knowledge of JavaScript or HTTP: configuration
//! (declared once, layered with figment, validated at start-up).
//!
//! Architecture invariant: nothing here depends on another edgefn crate.

mod config;

pub use config::{
    CacheConfig, Config, ConfigError, ConfigSources, EventsConfig, ExplainedValue, FetchConfig,
    FunctionConfig, FunctionRuntimeKind, LimitsConfig, LimitsOverride, LogConfig, LogFormat,
    Policy, PoolConfig, RuntimeConfig, ServerConfig, WorkersConfig,
};
