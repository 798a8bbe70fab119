//! The evidence pack: what the model is shown of a report, as short lines that each carry an
//! id (`S1` the symptom, `M3` a ranked metric, `T1` a trace, `L2` a log line…) so that its
//! answer can cite them and obs can check every citation.
//!
//! The pack is built from the report's JSON form (`-o json`), the contract every renderer
//! shares, so `obs explain REPORT.json` works on any saved report, and a section a report
//! lacks is simply absent. Adding a section is one function of a few lines in [`build`]: pick
//! the id letter, a priority, and the line. Items are then fitted into the input budget by
//! priority; those that do not fit are dropped and listed.
//!
//! Pure: no I/O, no redaction (the caller redacts each item before it is counted).

use std::collections::HashMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

/// Lower is kept first.
pub type Priority = u8;

/// One piece of evidence.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    pub section: &'static str,
    pub priority: Priority,
    pub text: String,
}

/// An item left out of the request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dropped {
    pub id: String,
    pub section: String,
    pub tokens: usize,
}

/// Correlations considered at all: the significant ones and the top of the rest.
const MAX_CORRELATIONS: usize = 40;
const MAX_LOG_GROUPS: usize = 30;
const MAX_BODY_CHARS: usize = 400;
const MAX_GENERIC_CHARS: usize = 600;

/// Every item a report yields, in report order, ids assigned. A section missing from the
/// report (an older or newer schema, a failed source) yields nothing.
pub fn build(report: &Value) -> Vec<Item> {
    let mut out = Vec::new();
    let trace_ids = symptom(report, &mut out);
    sources(report, &mut out);
    generic_section(report, "findings", "F", "finding", 1, 3, &mut out);
    generic_section(report, "services", "V", "service", 1, 3, &mut out);
    correlations(report, &mut out);
    let trace_ids = traces(report, &mut out).unwrap_or(trace_ids);
    logs(report, &trace_ids, &mut out);
    generic_section(report, "log_patterns", "P", "log pattern", 3, 5, &mut out);
    generic_section(report, "timeline", "E", "event", 3, 5, &mut out);
    warnings(report, &mut out);
    out
}

/// The trace and span ids in a report (under any `trace_id`, `trace_ids`, `span_id` key, in
/// any section): evidence, never redacted.
pub fn ids_to_keep(report: &Value) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    if matches!(
                        k.as_str(),
                        "trace_id" | "trace_ids" | "span_id" | "parent_span_id"
                    ) {
                        match v {
                            Value::String(s) => out.push(s.clone()),
                            Value::Array(items) => out
                                .extend(items.iter().filter_map(Value::as_str).map(str::to_string)),
                            _ => {}
                        }
                    } else {
                        walk(v, out);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut ids = Vec::new();
    walk(report, &mut ids);
    ids
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn f(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64)
}

fn arr<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    v.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// A number as a person writes it: 4 significant digits, no trailing zeros.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".to_string();
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let a = x.abs();
    if !(1e-4..1e7).contains(&a) {
        let t = format!("{x:.2e}");
        return match t.split_once('e') {
            Some((m, e)) if m.contains('.') => {
                format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.'))
            }
            _ => t,
        };
    }
    let decimals = (3 - a.log10().floor() as i32).clamp(0, 8) as usize;
    let t = format!("{x:.decimals$}");
    if t.contains('.') {
        t.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        t
    }
}

fn labels(v: Option<&Value>) -> String {
    let Some(map) = v.and_then(Value::as_object) else {
        return String::new();
    };
    let parts: Vec<String> = map
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}=\"{v}\"")))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut t: String = text.chars().take(max).collect();
    t.push('…');
    t
}

fn symptom(report: &Value, out: &mut Vec<Item>) -> HashMap<String, String> {
    let mut text = String::new();
    if let Some(sym) = report.get("symptom") {
        let _ = write!(text, "symptom: {}", s(sym, "query").unwrap_or("(no query)"));
        if let Some(svc) = s(sym, "service") {
            let _ = write!(text, " (service {svc})");
        }
        let _ = write!(text, "; verdict {}", s(sym, "verdict").unwrap_or("unknown"));
        if let Some(summary) = s(sym, "summary") {
            let _ = write!(text, "; {summary}");
        }
        for (key, label) in [
            ("baseline", "baseline"),
            ("threshold", "threshold"),
            ("peak", "peak"),
        ] {
            if let Some(x) = f(sym, key) {
                let _ = write!(text, "; {label} {}", num(x));
            }
        }
        for (key, label) in [
            ("onset", "onset"),
            ("peak_at", "peak at"),
            ("end", "back under threshold"),
        ] {
            if let Some(t) = s(sym, key) {
                let _ = write!(text, "; {label} {t}");
            }
        }
    } else {
        text.push_str("symptom: not in this report");
    }
    if let Some(w) = report.get("window") {
        let _ = write!(
            text,
            "\nwindow {} to {} (baseline from {}, step {}s)",
            s(w, "since").unwrap_or("?"),
            s(w, "until").unwrap_or("?"),
            s(w, "baseline_since").unwrap_or("?"),
            f(w, "step_seconds").map_or("?".to_string(), num)
        );
    }
    out.push(Item {
        id: "S1".to_string(),
        section: "symptom",
        priority: 0,
        text,
    });
    HashMap::new()
}

fn sources(report: &Value, out: &mut Vec<Item>) {
    let failed = arr(report, "sources").filter(|src| s(src, "status") == Some("error"));
    for (i, src) in failed.enumerate() {
        out.push(Item {
            id: format!("X{}", i + 1),
            section: "sources",
            priority: 1,
            text: format!(
                "source {} ({}) failed, its evidence is missing: {}",
                s(src, "signal").unwrap_or("?"),
                s(src, "kind").unwrap_or("?"),
                clip(s(src, "error").unwrap_or("unknown error"), MAX_BODY_CHARS)
            ),
        });
    }
}

fn correlations(report: &Value, out: &mut Vec<Item>) {
    let all: Vec<&Value> = arr(report, "correlations").collect();
    let mut taken = 0;
    for c in &all {
        let significant = c
            .get("significant")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if taken >= MAX_CORRELATIONS || (!significant && taken >= 10) {
            continue;
        }
        taken += 1;
        let rank = c
            .get("rank")
            .and_then(Value::as_u64)
            .unwrap_or(taken as u64);
        let mut text = format!(
            "metric rank {rank}: {}{}",
            s(c, "metric").or_else(|| s(c, "query")).unwrap_or("?"),
            labels(c.get("labels"))
        );
        if let Some(r) = f(c, "r") {
            let _ = write!(text, " r={}{}", if r >= 0.0 { "+" } else { "" }, num(r));
        }
        if let Some(q) = f(c, "q_value") {
            let _ = write!(text, " q={}", num(q));
        }
        match f(c, "lag_seconds") {
            Some(l) if l > 0.0 => {
                let _ = write!(text, ", moved {}s before the symptom", num(l));
            }
            Some(l) if l < 0.0 => {
                let _ = write!(text, ", moved {}s after the symptom", num(-l));
            }
            Some(_) => text.push_str(", moved with the symptom"),
            None => {}
        }
        text.push_str(if significant {
            ", significant"
        } else {
            ", not significant"
        });
        let priority = match (taken, significant) {
            (1..=5, _) => 2,
            (_, true) => 4,
            _ => 6,
        };
        out.push(Item {
            id: format!("M{taken}"),
            section: "correlations",
            priority,
            text,
        });
    }
}

/// One item per trace; returns trace id → item id, for the log lines to refer to.
fn traces(report: &Value, out: &mut Vec<Item>) -> Option<HashMap<String, String>> {
    let mut ids = HashMap::new();
    for (i, t) in arr(report, "traces").enumerate() {
        let id = format!("T{}", i + 1);
        let trace_id = s(t, "trace_id").unwrap_or("?");
        ids.insert(trace_id.to_string(), id.clone());
        let mut text = format!(
            "{} trace {trace_id}: {} ms, {} spans",
            s(t, "kind").unwrap_or("followed"),
            f(t, "duration_ms").map_or("?".to_string(), num),
            t.get("span_count").and_then(Value::as_u64).unwrap_or(0),
        );
        if let Some(root) = t.get("root") {
            let _ = write!(
                text,
                ", root {} \"{}\"",
                s(root, "service").unwrap_or("?"),
                s(root, "name").unwrap_or("?")
            );
        }
        if let Some(origin) = s(t, "origin") {
            let _ = write!(text, " (found by {origin})");
        }
        let errors: Vec<&Value> = arr(t, "error_spans").take(5).collect();
        if !errors.is_empty() {
            let total = t.get("error_span_count").and_then(Value::as_u64);
            let _ = write!(
                text,
                "\n  error spans{}:",
                total.map_or(String::new(), |n| format!(" ({n})"))
            );
            for e in errors {
                let _ = write!(
                    text,
                    "\n  - {} \"{}\"",
                    s(e, "service").unwrap_or("?"),
                    s(e, "name").unwrap_or("?")
                );
                if let Some(m) = s(e, "status_message") {
                    let _ = write!(text, " status \"{}\"", clip(m, MAX_BODY_CHARS));
                }
                if let Some(x) = e.get("exception").filter(|x| !x.is_null()) {
                    let _ = write!(
                        text,
                        " exception {}: \"{}\"",
                        s(x, "type").unwrap_or("?"),
                        clip(s(x, "message").unwrap_or(""), MAX_BODY_CHARS)
                    );
                }
            }
        }
        let path: Vec<String> = arr(t, "critical_path")
            .take(5)
            .map(|c| {
                format!(
                    "{} \"{}\" {} ms on path ({} ms self)",
                    s(c, "service").unwrap_or("?"),
                    s(c, "name").unwrap_or("?"),
                    f(c, "critical_path_ms").map_or("?".to_string(), num),
                    f(c, "self_time_ms").map_or("?".to_string(), num),
                )
            })
            .collect();
        if !path.is_empty() {
            let _ = write!(text, "\n  critical path: {}", path.join("; "));
        }
        out.push(Item {
            id,
            section: "traces",
            priority: if i == 0 { 2 } else { 4 },
            text,
        });
    }
    report.get("traces").map(|_| ids)
}

fn is_error(sev: Option<&str>) -> bool {
    sev.is_some_and(|s| {
        let s = s.to_ascii_lowercase();
        ["err", "fatal", "crit", "panic", "emerg", "alert"]
            .iter()
            .any(|w| s.starts_with(w))
    })
}

/// Log lines deduplicated by service, severity and body with digits folded, counted, errors
/// first.
fn logs(report: &Value, trace_ids: &HashMap<String, String>, out: &mut Vec<Item>) {
    struct Group<'a> {
        service: &'a str,
        severity: &'a str,
        body: &'a str,
        count: usize,
        traces: Vec<String>,
        first: &'a str,
    }
    let mut groups: Vec<Group> = Vec::new();
    let mut index: HashMap<(String, String, String), usize> = HashMap::new();
    for l in arr(report, "logs") {
        let body = s(l, "body").unwrap_or("");
        let service = s(l, "service").unwrap_or("?");
        let severity = s(l, "severity").unwrap_or("unknown");
        let folded: String = body
            .chars()
            .map(|c| if c.is_ascii_digit() { '0' } else { c })
            .collect();
        let key = (service.to_string(), severity.to_string(), folded);
        let g = match index.get(&key) {
            Some(&i) => &mut groups[i],
            None => {
                index.insert(key, groups.len());
                groups.push(Group {
                    service,
                    severity,
                    body,
                    count: 0,
                    traces: Vec::new(),
                    first: s(l, "timestamp").unwrap_or("?"),
                });
                let last = groups.len() - 1;
                &mut groups[last]
            }
        };
        g.count += 1;
        if let Some(t) = s(l, "trace_id") {
            let t = trace_ids.get(t).cloned().unwrap_or_else(|| t.to_string());
            if !g.traces.contains(&t) && g.traces.len() < 5 {
                g.traces.push(t);
            }
        }
    }
    // Errors first, then the most repeated; stable among equals.
    groups.sort_by_key(|g| (!is_error(Some(g.severity)), std::cmp::Reverse(g.count)));
    for (i, g) in groups.iter().take(MAX_LOG_GROUPS).enumerate() {
        let error = is_error(Some(g.severity));
        let mut text = format!(
            "log ×{} {} {} (first {}): \"{}\"",
            g.count,
            g.severity,
            g.service,
            g.first,
            clip(g.body, MAX_BODY_CHARS)
        );
        if !g.traces.is_empty() {
            let _ = write!(text, " in {}", g.traces.join(", "));
        }
        out.push(Item {
            id: format!("L{}", i + 1),
            section: "logs",
            priority: match (error, i) {
                (true, 0..=4) => 3,
                (true, _) => 5,
                _ => 6,
            },
            text,
        });
    }
}

fn warnings(report: &Value, out: &mut Vec<Item>) {
    for (i, w) in arr(report, "warnings")
        .filter_map(Value::as_str)
        .take(10)
        .enumerate()
    {
        out.push(Item {
            id: format!("W{}", i + 1),
            section: "warnings",
            priority: 7,
            text: format!("warning: {}", clip(w, MAX_BODY_CHARS)),
        });
    }
}

/// A section whose entries are shown as their scalar fields, `key=value`: for sections whose
/// exact shape the pack need not know (findings, services, log patterns, timeline). The first
/// `head` entries get `priority`, the rest `rest`.
fn generic_section(
    report: &Value,
    key: &str,
    letter: &str,
    noun: &str,
    priority: Priority,
    rest: Priority,
    out: &mut Vec<Item>,
) {
    const HEAD: usize = 5;
    for (i, entry) in arr(report, key).take(MAX_LOG_GROUPS).enumerate() {
        let text = match entry {
            Value::Object(map) => {
                let parts: Vec<String> = map
                    .iter()
                    .filter_map(|(k, v)| scalar(v).map(|v| format!("{k}={v}")))
                    .collect();
                parts.join(" ")
            }
            other => scalar(other).unwrap_or_default(),
        };
        out.push(Item {
            id: format!("{letter}{}", i + 1),
            section: match key {
                "findings" => "findings",
                "services" => "services",
                "log_patterns" => "log_patterns",
                _ => "timeline",
            },
            priority: if i < HEAD { priority } else { rest },
            text: format!("{noun}: {}", clip(&text, MAX_GENERIC_CHARS)),
        });
    }
}

/// A scalar, or a short list of scalars, as text; `None` for nested objects and long lists
/// of numbers (sparkline values), which cost tokens and say little to a model.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(format!("\"{s}\"")),
        Value::Number(n) => n.as_f64().map(num),
        Value::Bool(b) => Some(b.to_string()),
        Value::Array(items) if !items.is_empty() && items.len() <= 8 => {
            let parts: Vec<String> = items.iter().filter_map(scalar).collect();
            (!parts.is_empty()).then(|| format!("[{}]", parts.join(",")))
        }
        _ => None,
    }
}

/// Chooses what fits: items by priority (then report order) while their token counts fit
/// in `budget`; the rest are returned as dropped. `tokens[i]` is the count of `items[i]`.
/// The kept items stay in report order.
pub fn fit(items: Vec<Item>, tokens: &[usize], budget: usize) -> (Vec<Item>, Vec<Dropped>) {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| items[i].priority);
    let mut keep = vec![false; items.len()];
    let mut used = 0;
    for &i in &order {
        // The symptom always goes: without it there is nothing to explain.
        if items[i].priority == 0 || used + tokens[i] <= budget {
            used += tokens[i];
            keep[i] = true;
        }
    }
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        if keep[i] {
            kept.push(item);
        } else {
            dropped.push(Dropped {
                id: item.id,
                section: item.section.to_string(),
                tokens: tokens[i],
            });
        }
    }
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report() -> Value {
        json!({
            "schema_version": 1,
            "window": {"since": "2026-11-21T04:01:30Z", "until": "2026-11-21T06:01:30Z",
                       "baseline_since": "2026-11-21T02:01:30Z", "step_seconds": 30.0},
            "symptom": {"query": "sum(rate(errors[1m]))", "verdict": "spike", "baseline": 0.0042,
                        "peak": 0.0478, "onset": "2026-11-21T05:16:30Z", "summary": "a spike"},
            "correlations": [
                {"rank": 1, "metric": "db_connections_in_use", "labels": {"pool": "orders"},
                 "r": 0.66, "q_value": 7e-59, "lag_seconds": 120.0, "significant": true, "values": [1, 2]},
                {"rank": 2, "metric": "retry_queue_depth", "labels": {}, "r": 0.56,
                 "q_value": 1e-38, "lag_seconds": -90.0, "significant": true}
            ],
            "traces": [{"trace_id": "aa01", "duration_ms": 8012.5, "span_count": 23, "kind": "error",
                        "root": {"service": "frontend", "name": "GET /checkout"},
                        "error_spans": [{"span_id": "b1", "service": "checkout", "name": "db.acquire",
                                          "status_message": "pool timed out",
                                          "exception": {"type": "PoolTimeout", "message": "waited 8s"}}],
                        "critical_path": [{"span_id": "b1", "service": "checkout", "name": "db.acquire",
                                           "self_time_ms": 8000.0, "critical_path_ms": 8000.0}]}],
            "logs": [
                {"trace_id": "aa01", "severity": "ERROR", "service": "checkout", "body": "timeout after 8001 ms", "timestamp": "t1"},
                {"trace_id": "aa01", "severity": "ERROR", "service": "checkout", "body": "timeout after 8002 ms", "timestamp": "t2"},
                {"trace_id": "aa01", "severity": "INFO", "service": "checkout", "body": "order received", "timestamp": "t0"}
            ],
            "sources": [{"signal": "logs", "kind": "loki", "status": "error", "error": "connection refused"}],
            "warnings": ["no exemplars"]
        })
    }

    #[test]
    fn every_section_gets_ids_and_the_numbers() {
        let items = build(&report());
        let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["S1", "X1", "M1", "M2", "T1", "L1", "L2", "W1"]);
        let text = |id: &str| items.iter().find(|i| i.id == id).unwrap().text.clone();
        assert!(text("S1").contains("peak 0.0478"), "{}", text("S1"));
        assert!(text("M1").contains("moved 120s before"), "{}", text("M1"));
        assert!(text("M2").contains("after the symptom"));
        assert!(
            text("T1").contains("PoolTimeout: \"waited 8s\""),
            "{}",
            text("T1")
        );
        // The two timeouts differ only in digits: one line, counted twice, pointing at T1.
        assert!(
            text("L1").starts_with("log ×2 ERROR checkout"),
            "{}",
            text("L1")
        );
        assert!(text("L1").ends_with("in T1"), "{}", text("L1"));
        assert!(text("L2").contains("order received"));
    }

    #[test]
    fn missing_sections_are_absent_and_new_ones_are_picked_up() {
        let minimal = json!({"schema_version": 1, "symptom": {"query": "q", "verdict": "no_spike"},
                             "findings": [{"title": "pool saturated", "evidence": ["M1", "T1"], "score": 0.9}]});
        let items = build(&minimal);
        let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["S1", "F1"]);
        assert!(
            items[1].text.contains("title=\"pool saturated\""),
            "{}",
            items[1].text
        );
        assert!(items[1].text.contains("[\"M1\",\"T1\"]"));
    }

    #[test]
    fn fit_drops_by_priority_and_keeps_the_symptom() {
        let items = build(&report());
        let tokens = vec![50; items.len()];
        let (kept, dropped) = fit(items, &tokens, 200);
        let kept: Vec<&str> = kept.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(kept, ["S1", "X1", "M1", "M2"]);
        let dropped: Vec<&str> = dropped.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(dropped, ["T1", "L1", "L2", "W1"]);
        let items = build(&report());
        let (kept, _) = fit(items, &[500, 1, 1, 1, 1, 1, 1, 1], 10);
        assert_eq!(kept[0].id, "S1");
    }

    #[test]
    fn ids_in_any_section_are_kept() {
        let r = json!({"traces": [{"trace_id": "aa01", "error_spans": [{"span_id": "b1"}]}],
                       "log_patterns": [{"trace_ids": ["cc03"]}]});
        let mut ids = ids_to_keep(&r);
        ids.sort();
        assert_eq!(ids, ["aa01", "b1", "cc03"]);
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(num(0.0478), "0.0478");
        assert_eq!(num(8012.4), "8012");
        assert_eq!(num(120.0), "120");
        assert_eq!(num(7e-59), "7e-59");
        assert_eq!(num(1.25e-9), "1.25e-9");
    }
}
