//! Probing a Prometheus-compatible backend: build info (version), the query API, exemplars
//! (the API, and whether exemplar storage is on), metadata, the active targets' scrape
//! intervals and native histograms (from `/api/v1/status/flags`).
//!
//! API reference: <https://prometheus.io/docs/prometheus/latest/querying/api/>. Mimir, Thanos
//! and VictoriaMetrics lack some of these endpoints; a missing one is a row, not a failure.

use std::time::Duration;

use serde_json::Value;

use crate::config::HttpSettings;
use crate::model::Support;
use crate::model::capabilities::{BackendCheck, Check, CheckState, major_minor, names};
use crate::source::http::HttpClient;
use crate::timespec::{format_duration, parse_duration};

use super::{Probe, ProbeOptions, failed, json, not_found};

/// Every check of a Prometheus-compatible backend.
pub(super) async fn probe(settings: &HttpSettings, opts: &ProbeOptions) -> BackendCheck {
    let mut p = Probe::new("metrics", "prometheus", "prometheus_url", settings);
    let answer = p.get("/api/v1/status/buildinfo", &[]).await;
    let exemplars_needed = opts.traces_configured;
    if !p.first(&answer) {
        p.not_checked(&[
            (names::QUERY_API, true),
            (names::EXEMPLARS, exemplars_needed),
            (names::EXEMPLAR_STORAGE, exemplars_needed),
            (names::METADATA, false),
            (names::TARGETS, false),
            (names::NATIVE_HISTOGRAMS, false),
        ]);
        return p.done();
    }
    if let Ok((200, body)) = &answer {
        p.backend.version = json(body)
            .and_then(|v| v["data"]["version"].as_str().map(str::to_string))
            .filter(|v| !v.is_empty());
    }

    let query = p
        .get("/api/v1/query", &[("query", "vector(1)".to_string())])
        .await;
    let check = match &query {
        Ok((200, body)) if success(body) => {
            Check::new(names::QUERY_API, CheckState::Ok, "answers PromQL")
        }
        _ => failed(names::QUERY_API, &query),
    };
    p.push(check.required(true).fix(
        "the URL must be the Prometheus HTTP API's base (for Mimir it ends in /prometheus, for \
         Thanos it is the querier's)",
    ));

    let window = exemplar_window(opts.now);
    let ex = p.get("/api/v1/query_exemplars", &window).await;
    let without = "investigate skips exemplars, so it cannot follow failing requests to traces";
    let check = match &ex {
        Ok((200, body)) if success(body) => Check::new(names::EXEMPLARS, CheckState::Ok, "answers"),
        Ok((status, _)) if not_found(*status) => Check::new(
            names::EXEMPLARS,
            CheckState::Missing,
            format!("not found (HTTP {status})"),
        ),
        _ => failed(names::EXEMPLARS, &ex),
    };
    p.push(check.required(exemplars_needed).fix(format!(
        "{without}; use a backend with /api/v1/query_exemplars (Prometheus 2.26+, Mimir, Thanos)"
    )));

    let flags = match p.get("/api/v1/status/flags", &[]).await {
        Ok((200, body)) => json(&body).map(|v| v["data"].clone()),
        _ => None,
    };
    let features = flags
        .as_ref()
        .and_then(|f| f["enable-feature"].as_str())
        .unwrap_or("")
        .to_string();
    let has_feature = |name: &str| features.split(',').any(|f| f.trim() == name);
    let storage = match &flags {
        Some(_) if has_feature("exemplar-storage") => Check::new(
            names::EXEMPLAR_STORAGE,
            CheckState::Ok,
            "on (--enable-feature=exemplar-storage)",
        ),
        Some(_) => Check::new(
            names::EXEMPLAR_STORAGE,
            CheckState::Missing,
            "off: --enable-feature=exemplar-storage is not set",
        ),
        None => Check::new(
            names::EXEMPLAR_STORAGE,
            CheckState::Unknown,
            "/api/v1/status/flags is not readable here",
        ),
    };
    p.push(storage.required(exemplars_needed).fix(format!(
        "{without}; start Prometheus with --enable-feature=exemplar-storage and scrape \
         OpenMetrics"
    )));

    let meta = p
        .get("/api/v1/metadata", &[("limit", "1".to_string())])
        .await;
    let check = match &meta {
        Ok((200, body)) if success(body) => Check::new(names::METADATA, CheckState::Ok, "answers"),
        Ok((status, _)) if not_found(*status) => Check::new(
            names::METADATA,
            CheckState::Missing,
            format!("not found (HTTP {status})"),
        ),
        _ => failed(names::METADATA, &meta),
    };
    p.push(check.fix("candidates are typed from their names instead of their metadata"));

    let targets = p
        .get("/api/v1/targets", &[("state", "active".to_string())])
        .await;
    let check = match &targets {
        Ok((200, body)) if success(body) => scrape_intervals(body_json(body), opts),
        Ok((status, _)) if not_found(*status) => Check::new(
            names::TARGETS,
            CheckState::Missing,
            format!("not found (HTTP {status})"),
        ),
        _ => failed(names::TARGETS, &targets),
    };
    p.push(check.fix(
        "set scrape_interval in the context to the backend's scrape interval (the smallest \
         step and the basis of rate windows)",
    ));

    let version = p.backend.version.as_deref().and_then(major_minor);
    let native = match &flags {
        Some(_) if has_feature("native-histograms") => Check::new(
            names::NATIVE_HISTOGRAMS,
            CheckState::Ok,
            "on (--enable-feature=native-histograms)",
        ),
        // From 3.8 native histograms are a scrape setting, not a feature flag.
        Some(_) if version.is_some_and(|v| v >= (3, 8)) => Check::new(
            names::NATIVE_HISTOGRAMS,
            CheckState::Unknown,
            "set per scrape config (scrape_native_histograms)",
        ),
        Some(_) => Check::new(
            names::NATIVE_HISTOGRAMS,
            CheckState::Missing,
            "off: --enable-feature=native-histograms is not set",
        ),
        None => Check::new(
            names::NATIVE_HISTOGRAMS,
            CheckState::Unknown,
            "/api/v1/status/flags is not readable here",
        ),
    };
    p.push(native.fix(
        "investigate reads classic histograms (_bucket{le}); native ones only matter if your \
         applications send them",
    ));
    p.done()
}

/// Whether exemplars can be read, for investigate: two requests (the exemplars API and the
/// flags). `Unknown` when the backend does not say, or does not answer within `limit`.
pub async fn exemplar_support(http: &HttpClient, now: f64, limit: Duration) -> (Support, String) {
    let probe = async {
        let ex = http
            .get("/api/v1/query_exemplars", &exemplar_window(now))
            .await;
        match ex {
            Ok((status, _)) if not_found(status) => {
                return (
                    Support::No,
                    format!(
                        "{} has no exemplars API (HTTP {status} from /api/v1/query_exemplars)",
                        http.base_url()
                    ),
                );
            }
            Ok((200, _)) => {}
            _ => return (Support::Unknown, String::new()),
        }
        let Ok((200, body)) = http.get("/api/v1/status/flags", &[]).await else {
            return (Support::Unknown, String::new());
        };
        let features = json(&body)
            .and_then(|v| v["data"]["enable-feature"].as_str().map(str::to_string))
            .unwrap_or_default();
        if features.split(',').any(|f| f.trim() == "exemplar-storage") {
            (Support::Yes, String::new())
        } else {
            (
                Support::No,
                format!(
                    "{} stores no exemplars (--enable-feature=exemplar-storage is not set)",
                    http.base_url()
                ),
            )
        }
    };
    tokio::time::timeout(limit, probe)
        .await
        .unwrap_or((Support::Unknown, String::new()))
}

fn exemplar_window(now: f64) -> [(&'static str, String); 3] {
    [
        ("query", "up".to_string()),
        ("start", format!("{}", (now - 600.0).floor())),
        ("end", format!("{}", now.floor())),
    ]
}

fn success(body: &crate::source::http::bytes_body::Body) -> bool {
    json(body).is_some_and(|v| v["status"] == "success")
}

fn body_json(body: &crate::source::http::bytes_body::Body) -> Value {
    json(body).unwrap_or(Value::Null)
}

/// The active targets' scrape intervals, and whether investigate's matches the smallest.
fn scrape_intervals(v: Value, opts: &ProbeOptions) -> Check {
    let targets = v["data"]["activeTargets"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mut intervals: Vec<Duration> = targets
        .iter()
        .filter_map(|t| t["scrapeInterval"].as_str())
        .filter_map(|s| parse_duration(s).ok())
        .collect();
    intervals.sort();
    let Some(&min) = intervals.first() else {
        return Check::new(
            names::TARGETS,
            CheckState::Unknown,
            format!(
                "{} active targets, none with a scrape interval",
                targets.len()
            ),
        );
    };
    let max = intervals.last().copied().unwrap_or(min);
    let range = if min == max {
        format_duration(min)
    } else {
        format!("{}–{}", format_duration(min), format_duration(max))
    };
    let used = format!(
        "{} ({})",
        format_duration(opts.scrape_interval),
        if opts.scrape_interval_set {
            "set"
        } else {
            "default"
        }
    );
    let advice = if opts.scrape_interval == min {
        format!("investigate uses {used}")
    } else {
        format!(
            "investigate uses {used}: set scrape_interval = \"{}\"",
            format_duration(min)
        )
    };
    Check::new(
        names::TARGETS,
        CheckState::Ok,
        format!("{range} ({} active targets); {advice}", targets.len()),
    )
}
