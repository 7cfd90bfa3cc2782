//! The rendered exposition text.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use idm_ports::telemetry::{LockKind, Telemetry, Verification};

use super::{PoolSnapshot, PrometheusTelemetry};

/// The value of the sample line that starts with `series ` (exact series text).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map(|v| v.trim().parse().unwrap())
}

#[test]
fn a_fresh_registry_shows_every_bounded_series_at_zero() {
    let t = PrometheusTelemetry::without_pool();
    let text = t.render();
    for outcome in ["success", "failure", "dummy"] {
        let series = format!("idm_password_verifications_total{{outcome=\"{outcome}\"}}");
        assert_eq!(sample(&text, &series), Some(0.0), "{text}");
    }
    for kind in ["temporary", "permanent"] {
        let series = format!("idm_lockouts_total{{kind=\"{kind}\"}}");
        assert_eq!(sample(&text, &series), Some(0.0), "{text}");
    }
    assert_eq!(sample(&text, "idm_auth_cache_hits_total"), Some(0.0));
    assert_eq!(sample(&text, "idm_db_pool_connections"), Some(0.0));
    assert!(
        text.contains("# TYPE idm_auth_cache_hits_total counter"),
        "{text}"
    );
    assert!(
        text.contains("# TYPE idm_db_pool_connections gauge"),
        "{text}"
    );
    assert!(text.contains("# HELP idm_lockouts_total "), "{text}");
}

#[test]
fn verifications_cache_hits_and_lockouts_are_counted_by_their_labels() {
    let t = PrometheusTelemetry::without_pool();
    t.password_verification(Verification::Success);
    t.password_verification(Verification::Success);
    t.password_verification(Verification::Failure);
    t.password_verification(Verification::Dummy);
    t.auth_cache_hit();
    t.auth_cache_hit();
    t.auth_cache_hit();
    t.lockout(LockKind::Temporary);
    t.lockout(LockKind::Permanent);
    t.lockout(LockKind::Permanent);
    let text = t.render();
    let v = |o: &str| {
        sample(
            &text,
            &format!("idm_password_verifications_total{{outcome=\"{o}\"}}"),
        )
    };
    assert_eq!(v("success"), Some(2.0));
    assert_eq!(v("failure"), Some(1.0));
    assert_eq!(v("dummy"), Some(1.0));
    assert_eq!(sample(&text, "idm_auth_cache_hits_total"), Some(3.0));
    assert_eq!(
        sample(&text, "idm_lockouts_total{kind=\"temporary\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "idm_lockouts_total{kind=\"permanent\"}"),
        Some(2.0)
    );
}

#[test]
fn http_requests_are_counted_by_route_template_and_status_with_a_latency_histogram() {
    let t = PrometheusTelemetry::without_pool();
    let users = "/nevisidm/api/core/v1/{clientExtId}/users/{userExtId}";
    t.http_request("GET", users, 200, Duration::from_millis(3));
    t.http_request("GET", users, 200, Duration::from_millis(40));
    t.http_request("GET", users, 404, Duration::from_millis(2));
    t.http_request("POST", "<unmatched>", 404, Duration::from_millis(1));
    let text = t.render();
    let series = |m: &str, r: &str, s: &str| {
        format!("idm_http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{s}\"}}")
    };
    assert_eq!(
        sample(&text, &series("GET", users, "200")),
        Some(2.0),
        "{text}"
    );
    assert_eq!(sample(&text, &series("GET", users, "404")), Some(1.0));
    assert_eq!(
        sample(&text, &series("POST", "<unmatched>", "404")),
        Some(1.0)
    );
    assert!(text.contains("# TYPE idm_http_request_duration_seconds histogram"));
    let count =
        format!("idm_http_request_duration_seconds_count{{method=\"GET\",route=\"{users}\"}}");
    assert_eq!(sample(&text, &count), Some(3.0), "{text}");
    let sum = format!("idm_http_request_duration_seconds_sum{{method=\"GET\",route=\"{users}\"}}");
    let sum = sample(&text, &sum).unwrap();
    assert!((sum - 0.045).abs() < 1e-9, "{sum}");
    let le_5ms = format!(
        "idm_http_request_duration_seconds_bucket{{method=\"GET\",route=\"{users}\",le=\"0.005\"}}"
    );
    assert_eq!(sample(&text, &le_5ms), Some(2.0), "{text}");
}

#[test]
fn pool_figures_are_read_from_the_source_at_each_render() {
    let waits = Arc::new(AtomicU64::new(0));
    let source = waits.clone();
    let t = PrometheusTelemetry::new(Box::new(move || PoolSnapshot {
        connections: 4,
        idle: 1,
        max_connections: 10,
        waits: source.load(Ordering::SeqCst),
        timeouts: source.load(Ordering::SeqCst) / 2,
    }));
    let text = t.render();
    assert_eq!(sample(&text, "idm_db_pool_connections"), Some(4.0));
    assert_eq!(sample(&text, "idm_db_pool_idle_connections"), Some(1.0));
    assert_eq!(sample(&text, "idm_db_pool_max_connections"), Some(10.0));
    assert_eq!(sample(&text, "idm_db_pool_waits_total"), Some(0.0));
    assert!(
        text.contains("# TYPE idm_db_pool_waits_total counter"),
        "{text}"
    );

    waits.store(7, Ordering::SeqCst);
    let text = t.render();
    assert_eq!(sample(&text, "idm_db_pool_waits_total"), Some(7.0));
    assert_eq!(sample(&text, "idm_db_pool_timeouts_total"), Some(3.0));
    // Rendering again without change does not count twice.
    let text = t.render();
    assert_eq!(sample(&text, "idm_db_pool_waits_total"), Some(7.0));
    assert_eq!(sample(&text, "idm_db_pool_timeouts_total"), Some(3.0));
}

#[test]
fn two_instances_do_not_share_a_registry() {
    let a = PrometheusTelemetry::without_pool();
    let b = PrometheusTelemetry::without_pool();
    a.auth_cache_hit();
    assert_eq!(sample(&a.render(), "idm_auth_cache_hits_total"), Some(1.0));
    assert_eq!(sample(&b.render(), "idm_auth_cache_hits_total"), Some(0.0));
}

#[test]
fn an_unknown_method_is_counted_as_other_and_adds_no_series_of_its_own() {
    let t = PrometheusTelemetry::without_pool();
    t.http_request("FOO", "<unmatched>", 405, Duration::from_millis(1));
    t.http_request("BREW", "<unmatched>", 405, Duration::from_millis(1));
    let text = t.render();
    let other = "idm_http_requests_total{method=\"OTHER\",route=\"<unmatched>\",status=\"405\"}";
    assert_eq!(sample(&text, other), Some(2.0), "{text}");
    assert!(!text.contains("FOO") && !text.contains("BREW"), "{text}");
}
