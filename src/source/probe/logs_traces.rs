//! Probing Loki (build info, labels, structured metadata, the pattern endpoint), Tempo (version,
//! the trace API, TraceQL, the search API's version) and Jaeger (the query service's API).
//!
//! Capabilities that arrived with a version (Loki 3.0: structured metadata and patterns;
//! Tempo 2.0: TraceQL) are read from the version when it rules them out; what the version
//! cannot settle is asked, or reported `unknown`.

use crate::config::HttpSettings;
use crate::model::SearchMode;
use crate::model::capabilities::{BackendCheck, Check, CheckState, major_minor, names};

use super::{Probe, ProbeOptions, failed, json, not_found};

/// The last hour before `now`, in Loki's nanoseconds.
fn hour_ns(now: f64) -> [(&'static str, String); 2] {
    let end = (now.max(0.0) * 1e9) as i64;
    [
        ("start", (end - 3_600_000_000_000).to_string()),
        ("end", end.to_string()),
    ]
}

pub(super) async fn loki(settings: &HttpSettings, opts: &ProbeOptions) -> BackendCheck {
    let mut p = Probe::new("logs", "loki", "loki_url", settings);
    let answer = p.get("/loki/api/v1/status/buildinfo", &[]).await;
    if !p.first(&answer) {
        p.not_checked(&[
            (names::LABELS, true),
            (names::STRUCTURED_METADATA, false),
            (names::PATTERNS, false),
        ]);
        return p.done();
    }
    if let Ok((200, body)) = &answer {
        p.backend.version = json(body)
            .and_then(|v| v["version"].as_str().map(str::to_string))
            .filter(|v| !v.is_empty());
    }
    let version = p.backend.version.clone();
    let v = version.as_deref().and_then(major_minor);

    let window = hour_ns(opts.now);
    let labels = p.get("/loki/api/v1/labels", &window).await;
    let check = match &labels {
        Ok((200, body)) => match json(body) {
            Some(v) if v["status"] == "success" => {
                let names: Vec<&str> = v["data"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|l| l.as_str()).collect())
                    .unwrap_or_default();
                Check::new(
                    names::LABELS,
                    CheckState::Ok,
                    if names.is_empty() {
                        "answers; no streams in the last hour".to_string()
                    } else {
                        format!("{} labels: {}", names.len(), names.join(", "))
                    },
                )
            }
            _ => failed(names::LABELS, &labels),
        },
        _ => failed(names::LABELS, &labels),
    };
    p.push(check.required(true).fix(
        "the URL must be Loki's HTTP API base (port 3100, or the query frontend); logs of \
         traces are read through it",
    ));

    let before_3 = |what: &str| {
        format!(
            "Loki {} has no {what} (added in 3.0)",
            version.as_deref().unwrap_or("?")
        )
    };
    let sm = match v {
        Some(v) if v < (3, 0) => Check::new(
            names::STRUCTURED_METADATA,
            CheckState::Missing,
            before_3("structured metadata"),
        ),
        Some(_) => Check::new(
            names::STRUCTURED_METADATA,
            CheckState::Unknown,
            "supported from Loki 3.0; on when the schema is v13 and \
             limits_config.allow_structured_metadata is true",
        ),
        None => Check::new(
            names::STRUCTURED_METADATA,
            CheckState::Unknown,
            "no version to tell from",
        ),
    };
    p.push(sm.fix(
        "trace ids are found by stream label or in the line instead (trace_match = \"auto\")",
    ));

    let pattern_fix = "investigate groups log lines into patterns itself; Loki's own needs 3.0+ \
                       with pattern_ingester.enabled";
    let check = match v {
        Some(v) if v < (3, 0) => Check::new(
            names::PATTERNS,
            CheckState::Missing,
            before_3("pattern endpoint"),
        ),
        _ => {
            let mut q = vec![("query", r#"{service_name=~".+"}"#.to_string())];
            q.extend(window.iter().cloned());
            let answer = p.get("/loki/api/v1/patterns", &q).await;
            match &answer {
                Ok((200, _)) => Check::new(names::PATTERNS, CheckState::Ok, "answers"),
                Ok((status, _)) if not_found(*status) => Check::new(
                    names::PATTERNS,
                    CheckState::Missing,
                    format!("not found (HTTP {status})"),
                ),
                _ => failed(names::PATTERNS, &answer),
            }
        }
    };
    p.push(check.fix(pattern_fix));
    p.done()
}

pub(super) async fn tempo(settings: &HttpSettings, opts: &ProbeOptions) -> BackendCheck {
    let mut p = Probe::new("traces", "tempo", "tempo_url", settings);
    let answer = p.get("/api/status/buildinfo", &[]).await;
    let traceql_needed = opts.tempo_search == SearchMode::TraceQl;
    if !p.first(&answer) {
        p.not_checked(&[
            (names::TRACE_API, true),
            (names::TRACEQL, traceql_needed),
            (names::SEARCH_API, false),
        ]);
        return p.done();
    }
    p.backend.version = match &answer {
        Ok((200, body)) => json(body).and_then(|v| v["version"].as_str().map(str::to_string)),
        // Tempo before 2.1 has no /api/status/buildinfo; its text page names the version.
        _ => match p.get("/status/version", &[]).await {
            Ok((200, body)) => version_from_text(&String::from_utf8_lossy(&body.0)),
            _ => None,
        },
    }
    .filter(|v| !v.is_empty());
    let v = p.backend.version.as_deref().and_then(major_minor);

    let echo = p.get("/api/echo", &[]).await;
    let check = match &echo {
        Ok((200, _)) => Check::new(names::TRACE_API, CheckState::Ok, "answers (/api/echo)"),
        _ => failed(names::TRACE_API, &echo),
    };
    p.push(
        check
            .required(true)
            .fix("the URL must be Tempo's HTTP API (port 3200, or the query frontend)"),
    );

    let version = p.backend.version.clone().unwrap_or_default();
    let traceql = match v {
        Some(v) if v >= (2, 0) => Check::new(
            names::TRACEQL,
            CheckState::Ok,
            format!("Tempo {version} (TraceQL from 2.0)"),
        ),
        Some(_) => Check::new(
            names::TRACEQL,
            CheckState::Missing,
            format!("Tempo {version} has no TraceQL (2.0+)"),
        ),
        None => Check::new(
            names::TRACEQL,
            CheckState::Unknown,
            "no version to tell from",
        ),
    };
    p.push(
        traceql
            .required(traceql_needed)
            .fix("set tempo_search = \"tags\" in the context to search by tags"),
    );

    let v2 = p
        .get("/api/v2/search/tag/resource.service.name/values", &[])
        .await;
    let check = match &v2 {
        Ok((200, _)) => Check::new(names::SEARCH_API, CheckState::Ok, "v2 (scoped tags)"),
        _ => {
            let v1 = p.get("/api/search/tags", &[]).await;
            match &v1 {
                Ok((200, _)) => Check::new(names::SEARCH_API, CheckState::Ok, "v1 (tags only)"),
                Ok((status, _)) if not_found(*status) => Check::new(
                    names::SEARCH_API,
                    CheckState::Missing,
                    format!("no search API (HTTP {status})"),
                ),
                _ => failed(names::SEARCH_API, &v1),
            }
        }
    };
    p.push(check.fix(
        "investigate then finds traces only through exemplars, not by searching failing traces",
    ));
    p.done()
}

pub(super) async fn jaeger(settings: &HttpSettings) -> BackendCheck {
    let mut p = Probe::new("traces", "jaeger", "jaeger_url", settings);
    let answer = p.get("/api/services", &[]).await;
    if !p.first(&answer) {
        p.not_checked(&[(names::SERVICES_API, true)]);
        return p.done();
    }
    let check = match &answer {
        Ok((200, body)) => match json(body) {
            Some(v) if v["data"].is_array() || v["data"].is_null() => {
                let n = v["data"].as_array().map_or(0, Vec::len);
                Check::new(names::SERVICES_API, CheckState::Ok, format!("{n} services"))
            }
            _ => failed(names::SERVICES_API, &answer),
        },
        Ok((status, _)) if not_found(*status) => Check::new(
            names::SERVICES_API,
            CheckState::Missing,
            format!("/api/services not found (HTTP {status})"),
        ),
        _ => failed(names::SERVICES_API, &answer),
    };
    p.push(check.required(true).fix(
        "give the Jaeger query service's address (the UI's, port 16686), not the collector's",
    ));
    p.done()
}

/// `tempo, version v2.0.1 (branch: HEAD, …)` → `v2.0.1`.
fn version_from_text(text: &str) -> Option<String> {
    let rest = &text[text.find("version ")? + "version ".len()..];
    let v: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
    (!v.is_empty()).then_some(v)
}

#[cfg(test)]
mod tests {
    #[test]
    fn tempo_version_is_read_from_its_text_page() {
        let recorded = "GET /status/version\ntempo, version v2.0.1 (branch: HEAD, revision: \
                        v2.0.1)\n  build user:       \n";
        assert_eq!(
            super::version_from_text(recorded).as_deref(),
            Some("v2.0.1")
        );
        assert_eq!(super::version_from_text("nothing here"), None);
    }
}
