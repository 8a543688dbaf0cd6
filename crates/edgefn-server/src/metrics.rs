//! Prometheus metrics of the process, served at `/_edgefn/metrics` in the text format.
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `edgefn_requests_total` | counter | `function`, `status` |
//! | `edgefn_request_duration_seconds` | histogram (time to the response head) | `function` |
//! | `edgefn_cold_starts_total` | counter | `function` |
//! | `edgefn_prepared_starts_total` | counter (cold starts from a prepared isolate) | `function` |
//! | `edgefn_prepared_isolates` | gauge (isolates ready for new workers) | |
//! | `edgefn_boot_duration_seconds` | histogram | `function` |
//! | `edgefn_worker_terminations_total` | counter | `function`, `reason` |
//! | `edgefn_cpu_seconds_total` | counter (CPU time inside JavaScript) | `function` |
//! | `edgefn_dispatches_total` | counter (requests handed to a worker: on the thread serving their connection, or across threads) | `thread_hop` (`false`, `true`) |
//! | `edgefn_workers` | gauge | `function`, `state` (`active`, `idle`) |
//! | `edgefn_memory_bytes` | gauge (heap of the function's workers) | `function` |
//! | `edgefn_module_loads_total` | counter (module files an isolate loaded from bytecode, by tier; files compiled, also ahead of a boot) | `source` (`memory`, `disk`, `compiled`) |
//! | `edgefn_module_cache_rejected_total` | counter (damaged disk entries, deleted) | |
//! | `edgefn_module_cache_bytes` | gauge (bytecode held) | `tier` (`memory`, `disk`) |

use std::sync::Mutex;
use std::time::Duration;

use edgefn_isolate::ModuleCache;
use edgefn_workers::{FunctionSnapshot, PoolObserver, TerminationReason};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FunctionLabel {
    function: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    function: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    function: String,
    reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    function: String,
    state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabel {
    source: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HopLabel {
    thread_hop: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TierLabel {
    tier: &'static str,
}

/// The module cache's counts, read at each scrape.
#[derive(Debug)]
struct ModuleCacheCollector(ModuleCache);

impl Collector for ModuleCacheCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let stats = self.0.stats();
        let mut loads = encoder.encode_descriptor(
            "module_loads",
            "Module files loaded into isolates, by where their bytecode came from",
            None,
            MetricType::Counter,
        )?;
        for (source, count) in [
            ("memory", stats.memory_hits),
            ("disk", stats.disk_hits),
            ("compiled", stats.compiled),
        ] {
            ConstCounter::new(count).encode(loads.encode_family(&SourceLabel { source })?)?;
        }
        let rejected = ConstCounter::new(stats.rejected);
        rejected.encode(encoder.encode_descriptor(
            "module_cache_rejected",
            "Damaged module cache entries found on disk (deleted, the module compiled again)",
            None,
            rejected.metric_type(),
        )?)?;
        let mut bytes = encoder.encode_descriptor(
            "module_cache_bytes",
            "Bytecode held by the module cache, by tier",
            None,
            MetricType::Gauge,
        )?;
        for (tier, held) in [("memory", stats.memory_bytes), ("disk", stats.disk_bytes)] {
            ConstGauge::new(i64::try_from(held).unwrap_or(i64::MAX))
                .encode(bytes.encode_family(&TierLabel { tier })?)?;
        }
        Ok(())
    }
}

type Histograms = Family<FunctionLabel, Histogram, fn() -> Histogram>;

/// Latency buckets: 100 µs to about 26 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 19))
}

/// All metrics of the process.
pub(crate) struct Metrics {
    registry: Registry,
    requests: Family<StatusLabels, Counter>,
    request_duration: Histograms,
    cold_starts: Family<FunctionLabel, Counter>,
    prepared_starts: Family<FunctionLabel, Counter>,
    prepared: Gauge,
    boot_duration: Histograms,
    terminations: Family<ReasonLabels, Counter>,
    cpu_seconds: Family<FunctionLabel, Counter<f64>>,
    workers: Family<StateLabels, Gauge>,
    memory: Family<FunctionLabel, Gauge>,
    /// `edgefn_dispatches_total` without and with a thread hop.
    dispatches: [Counter; 2],
    /// Serialises scrapes (the gauges are refreshed from a snapshot first).
    scrape: Mutex<()>,
}

impl Metrics {
    pub(crate) fn new(module_cache: ModuleCache) -> Metrics {
        let mut registry = Registry::with_prefix("edgefn");
        registry.register_collector(Box::new(ModuleCacheCollector(module_cache)));
        let requests = Family::<StatusLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests answered, by function and status",
            requests.clone(),
        );
        let request_duration =
            Histograms::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "request_duration_seconds",
            "Time from a request's arrival to its response head",
            request_duration.clone(),
        );
        let cold_starts = Family::<FunctionLabel, Counter>::default();
        registry.register("cold_starts", "Workers booted", cold_starts.clone());
        let prepared_starts = Family::<FunctionLabel, Counter>::default();
        registry.register(
            "prepared_starts",
            "Workers booted from a prepared isolate",
            prepared_starts.clone(),
        );
        let prepared = Gauge::default();
        registry.register(
            "prepared_isolates",
            "Isolates with the Web platform loaded, ready for new workers",
            prepared.clone(),
        );
        let boot_duration =
            Histograms::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "boot_duration_seconds",
            "Time to boot a worker",
            boot_duration.clone(),
        );
        let terminations = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "worker_terminations",
            "Workers ended, by reason",
            terminations.clone(),
        );
        let cpu_seconds = Family::<FunctionLabel, Counter<f64>>::default();
        registry.register(
            "cpu_seconds",
            "CPU time spent inside JavaScript",
            cpu_seconds.clone(),
        );
        let workers = Family::<StateLabels, Gauge>::default();
        registry.register("workers", "Workers alive, by state", workers.clone());
        let memory = Family::<FunctionLabel, Gauge>::default();
        registry.register(
            "memory_bytes",
            "Heap bytes held by the function's workers",
            memory.clone(),
        );
        let dispatch_family = Family::<HopLabel, Counter>::default();
        registry.register(
            "dispatches",
            "Requests handed to a worker, on the thread serving their connection or across threads",
            dispatch_family.clone(),
        );
        let dispatches = ["false", "true"].map(|thread_hop| {
            dispatch_family
                .get_or_create(&HopLabel { thread_hop })
                .clone()
        });
        Metrics {
            registry,
            dispatches,
            requests,
            request_duration,
            cold_starts,
            prepared_starts,
            prepared,
            boot_duration,
            terminations,
            cpu_seconds,
            workers,
            memory,
            scrape: Mutex::new(()),
        }
    }

    /// Counts an answered request.
    pub(crate) fn request(&self, function: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&StatusLabels {
                function: function.to_owned(),
                status,
            })
            .inc();
        self.request_duration
            .get_or_create(&FunctionLabel {
                function: function.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// The Prometheus text exposition, with the worker gauges taken from `snapshot`.
    pub(crate) fn render(&self, snapshot: &[FunctionSnapshot]) -> String {
        let _scrape = self.scrape.lock().unwrap_or_else(|p| p.into_inner());
        self.workers.clear();
        self.memory.clear();
        for function in snapshot {
            for (state, count) in [("active", function.active), ("idle", function.idle)] {
                self.workers
                    .get_or_create(&StateLabels {
                        function: function.function.clone(),
                        state,
                    })
                    .set(i64::try_from(count).unwrap_or(i64::MAX));
            }
            self.memory
                .get_or_create(&FunctionLabel {
                    function: function.function.clone(),
                })
                .set(i64::try_from(function.memory_bytes).unwrap_or(i64::MAX));
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

impl PoolObserver for Metrics {
    fn worker_booted(&self, function: &str, boot_time: Duration, prepared: bool) {
        let label = FunctionLabel {
            function: function.to_owned(),
        };
        self.cold_starts.get_or_create(&label).inc();
        if prepared {
            self.prepared_starts.get_or_create(&label).inc();
        }
        self.boot_duration
            .get_or_create(&label)
            .observe(boot_time.as_secs_f64());
    }

    fn prepared_isolates(&self, change: i64) {
        self.prepared.inc_by(change);
    }

    fn worker_ended(&self, function: &str, reason: TerminationReason) {
        self.terminations
            .get_or_create(&ReasonLabels {
                function: function.to_owned(),
                reason: reason.as_str(),
            })
            .inc();
    }

    fn dispatched(&self, thread_hop: bool) {
        self.dispatches[usize::from(thread_hop)].inc();
    }

    fn cpu_used(&self, function: &str, cpu: Duration) {
        self.cpu_seconds
            .get_or_create(&FunctionLabel {
                function: function.to_owned(),
            })
            .inc_by(cpu.as_secs_f64());
    }
}
