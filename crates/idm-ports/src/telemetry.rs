//! The driven port for operational metrics (SPEC §9 `/metrics`): what the use cases and the
//! HTTP layer report. No label may carry a user or client ID.

use std::time::Duration;

/// The outcome of one password verification (an argon2 hash check).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The password matched.
    Success,
    /// The password did not match.
    Failure,
    /// A dummy verification for an unknown login ID or unusable credential.
    Dummy,
}

/// Which lock a failed login imposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    /// `tmp-locked` for the policy's duration.
    Temporary,
    /// `fail-locked` until an admin unlocks it.
    Permanent,
}

/// Receives operational events; the adapter aggregates them for `/metrics`.
#[cfg_attr(feature = "mock", mockall::automock)]
pub trait Telemetry: Send + Sync {
    /// One password verification was computed.
    fn password_verification(&self, outcome: Verification);
    /// A caller authentication was answered from the login cache (no hash computed).
    fn auth_cache_hit(&self);
    /// A failed login locked a credential.
    fn lockout(&self, kind: LockKind);
    /// One HTTP request finished; `route` is the route template, never the raw path.
    fn http_request(&self, method: &str, route: &str, status: u16, latency: Duration);
    /// Everything collected, in the Prometheus text exposition format.
    fn render(&self) -> String;
}

/// A telemetry sink that drops everything; for tools and tests that do not serve `/metrics`.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTelemetry;

impl Telemetry for NoTelemetry {
    fn password_verification(&self, _: Verification) {}
    fn auth_cache_hit(&self) {}
    fn lockout(&self, _: LockKind) {}
    fn http_request(&self, _: &str, _: &str, _: u16, _: Duration) {}
    fn render(&self) -> String {
        String::new()
    }
}
