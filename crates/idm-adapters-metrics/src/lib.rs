//! The Prometheus adapter of the telemetry port (SPEC §9 `GET /metrics`).
//!
//! [`PrometheusTelemetry`] keeps its own [`prometheus::Registry`] (never the global one, so
//! tests and several instances do not interfere) and renders it in the text exposition
//! format. Labels carry only bounded values: HTTP method, route template, status, outcome and
//! lock kind — never a user or client ID.
//!
//! The database pool is not pushed into the adapter: a [`PoolSnapshot`] source given at
//! construction is read at every render.

#![warn(missing_docs)]

use std::sync::Mutex;
use std::time::Duration;

use idm_ports::telemetry::{LockKind, Telemetry, Verification};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// The media type of the rendered text (Prometheus text exposition format 0.0.4).
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The database pool's figures at one instant; the cumulative counts only grow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolSnapshot {
    /// Connections currently open (idle or in use).
    pub connections: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The most connections the pool opens.
    pub max_connections: u32,
    /// Checkouts so far that found no idle connection and had to wait.
    pub waits: u64,
    /// Checkouts so far that gave up after the pool timeout.
    pub timeouts: u64,
}

/// Where the pool figures come from; called once per render.
pub type PoolSource = Box<dyn Fn() -> PoolSnapshot + Send + Sync>;

/// A method label from a fixed set (SPEC §10.4): any other method is `OTHER`, so a client
/// cannot create metric series at will.
fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    }
}

/// The metric families, registered in one private registry.
struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    verifications: IntCounterVec,
    cache_hits: IntCounter,
    lockouts: IntCounterVec,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    pool_max: IntGauge,
    pool_waits: IntCounter,
    pool_timeouts: IntCounter,
}

fn register<C: prometheus::core::Collector + Clone + 'static>(registry: &Registry, c: C) -> C {
    registry
        .register(Box::new(c.clone()))
        .expect("metric registered twice");
    c
}

impl Metrics {
    fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "idm_http_requests_total",
                "HTTP requests by method, route template and status.",
            ),
            &["method", "route", "status"],
        )
        .expect("valid metric");
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "idm_http_request_duration_seconds",
                "HTTP request latency by method and route template.",
            ),
            &["method", "route"],
        )
        .expect("valid metric");
        let verifications = IntCounterVec::new(
            Opts::new(
                "idm_password_verifications_total",
                "Password hash verifications by outcome (dummy: unknown login or unusable credential).",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        let cache_hits = IntCounter::new(
            "idm_auth_cache_hits_total",
            "Caller authentications answered from the login cache without a hash.",
        )
        .expect("valid metric");
        let lockouts = IntCounterVec::new(
            Opts::new(
                "idm_lockouts_total",
                "Credentials locked by failed logins, by lock kind.",
            ),
            &["kind"],
        )
        .expect("valid metric");
        let gauge = |name: &str, help: &str| IntGauge::new(name, help).expect("valid metric");
        let pool_connections = gauge(
            "idm_db_pool_connections",
            "Open database connections (idle or in use).",
        );
        let pool_idle = gauge(
            "idm_db_pool_idle_connections",
            "Open database connections not in use.",
        );
        let pool_max = gauge(
            "idm_db_pool_max_connections",
            "The most database connections the pool opens.",
        );
        let pool_waits = IntCounter::new(
            "idm_db_pool_waits_total",
            "Database connection checkouts that had to wait for a free connection.",
        )
        .expect("valid metric");
        let pool_timeouts = IntCounter::new(
            "idm_db_pool_timeouts_total",
            "Database connection checkouts that gave up after the pool timeout.",
        )
        .expect("valid metric");
        // Pre-create the bounded label values so every series shows from the start.
        for outcome in ["success", "failure", "dummy"] {
            verifications.with_label_values(&[outcome]);
        }
        for kind in ["temporary", "permanent"] {
            lockouts.with_label_values(&[kind]);
        }
        Metrics {
            requests: register(&registry, requests),
            latency: register(&registry, latency),
            verifications: register(&registry, verifications),
            cache_hits: register(&registry, cache_hits),
            lockouts: register(&registry, lockouts),
            pool_connections: register(&registry, pool_connections),
            pool_idle: register(&registry, pool_idle),
            pool_max: register(&registry, pool_max),
            pool_waits: register(&registry, pool_waits),
            pool_timeouts: register(&registry, pool_timeouts),
            registry,
        }
    }
}

/// [`Telemetry`] over a private Prometheus registry.
pub struct PrometheusTelemetry {
    metrics: Metrics,
    pool: PoolSource,
    /// Serialises renders so the pool counters advance by exact deltas.
    render_lock: Mutex<()>,
}

impl std::fmt::Debug for PrometheusTelemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusTelemetry")
            .finish_non_exhaustive()
    }
}

impl PrometheusTelemetry {
    /// A fresh registry whose pool figures are read from `pool` at each render.
    pub fn new(pool: PoolSource) -> Self {
        PrometheusTelemetry {
            metrics: Metrics::new(),
            pool,
            render_lock: Mutex::new(()),
        }
    }

    /// Without a database pool (its gauges stay 0).
    pub fn without_pool() -> Self {
        Self::new(Box::new(PoolSnapshot::default))
    }

    fn refresh_pool(&self) {
        let snap = (self.pool)();
        let m = &self.metrics;
        m.pool_connections.set(i64::from(snap.connections));
        m.pool_idle.set(i64::from(snap.idle));
        m.pool_max.set(i64::from(snap.max_connections));
        // The source's counts are cumulative; advance ours to them.
        for (counter, total) in [
            (&m.pool_waits, snap.waits),
            (&m.pool_timeouts, snap.timeouts),
        ] {
            let delta = total.saturating_sub(counter.get());
            if delta > 0 {
                counter.inc_by(delta);
            }
        }
    }
}

impl Telemetry for PrometheusTelemetry {
    fn password_verification(&self, outcome: Verification) {
        let label = match outcome {
            Verification::Success => "success",
            Verification::Failure => "failure",
            Verification::Dummy => "dummy",
        };
        self.metrics.verifications.with_label_values(&[label]).inc();
    }

    fn auth_cache_hit(&self) {
        self.metrics.cache_hits.inc();
    }

    fn lockout(&self, kind: LockKind) {
        let label = match kind {
            LockKind::Temporary => "temporary",
            LockKind::Permanent => "permanent",
        };
        self.metrics.lockouts.with_label_values(&[label]).inc();
    }

    fn http_request(&self, method: &str, route: &str, status: u16, latency: Duration) {
        let method = method_label(method);
        let status = status.to_string();
        self.metrics
            .requests
            .with_label_values(&[method, route, status.as_str()])
            .inc();
        self.metrics
            .latency
            .with_label_values(&[method, route])
            .observe(latency.as_secs_f64());
    }

    fn render(&self) -> String {
        let _guard = self
            .render_lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.refresh_pool();
        let families = self.metrics.registry.gather();
        let mut buf = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&families, &mut buf) {
            return format!("# metrics encoding failed: {e}\n");
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
