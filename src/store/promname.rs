//! OpenTelemetry → Prometheus names, per the OpenTelemetry "Prometheus and OpenMetrics
//! Compatibility" specification (section "OTLP Metric points to Prometheus") and the
//! Collector's normalisation (`pkg/translator/prometheus`), which its Prometheus exporters use:
//!
//! - metric names keep `[a-zA-Z0-9]` runs joined by `_` (`http.server.duration` →
//!   `http_server_duration`), a leading digit gets `_`;
//! - the unit is appended in Prometheus words unless the name already ends with it
//!   (`s` → `_seconds`, `By` → `_bytes`, `{packet}` dropped, `By/s` → `_bytes_per_second`);
//! - `_ratio` for gauges with unit `1`, `_total` for monotonic sums, unless already there;
//! - label names: characters outside `[a-zA-Z0-9_]` become `_`, runs of `_` collapse to one
//!   (as the specification says), a leading digit gets `key_`.

/// What kind of Prometheus family a metric becomes; decides the type suffixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FamilyKind {
    Gauge,
    /// A monotonic sum: a counter, named `…_total`.
    Counter,
    /// A non-monotonic sum: stored as a gauge, no `_ratio`, no `_total`.
    UpDownCounter,
    Histogram,
    Summary,
}

impl FamilyKind {
    pub fn prometheus_type(self) -> &'static str {
        match self {
            FamilyKind::Gauge | FamilyKind::UpDownCounter => "gauge",
            FamilyKind::Counter => "counter",
            FamilyKind::Histogram => "histogram",
            FamilyKind::Summary => "summary",
        }
    }
}

/// The Prometheus family name for an OTLP metric of `kind` with `unit`. Histograms and
/// summaries then add `_bucket`, `_sum`, `_count` to this name.
pub fn family_name(name: &str, unit: &str, kind: FamilyKind) -> String {
    let mut tokens: Vec<String> = words(name);
    let (main, per) = unit_words(unit);
    if let Some(main) = main {
        append_unless_suffix(&mut tokens, &main);
    }
    if let Some(per) = per {
        append_unless_suffix(&mut tokens, &format!("per_{per}"));
    }
    if kind == FamilyKind::Gauge && unit.trim() == "1" {
        append_unless_suffix(&mut tokens, "ratio");
    }
    if kind == FamilyKind::Counter {
        append_unless_suffix(&mut tokens, "total");
    }
    let mut out = tokens.join("_");
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// A Prometheus label name for an OTLP attribute key.
pub fn label_name(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for c in key.chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '_' };
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "key_");
    }
    out
}

/// Alphanumeric runs of `s`, lower case kept as is.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// Appends `suffix` (possibly several words joined by `_`) unless the tokens already end with it.
fn append_unless_suffix(tokens: &mut Vec<String>, suffix: &str) {
    let words: Vec<&str> = suffix.split('_').filter(|w| !w.is_empty()).collect();
    if words.is_empty() {
        return;
    }
    let already = tokens.len() >= words.len()
        && tokens[tokens.len() - words.len()..]
            .iter()
            .zip(&words)
            .all(|(a, b)| a == b);
    if !already {
        tokens.extend(words.iter().map(|w| w.to_string()));
    }
}

/// The unit as Prometheus words: (`main`, `per`). `{…}` annotations are dropped; `1` has no
/// word (its `_ratio` is a gauge rule).
fn unit_words(unit: &str) -> (Option<String>, Option<String>) {
    let mut stripped = String::with_capacity(unit.len());
    let mut depth = 0usize;
    for c in unit.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            _ if depth == 0 => stripped.push(c),
            _ => {}
        }
    }
    let (main, per) = match stripped.split_once('/') {
        Some((m, p)) => (m.trim(), Some(p.trim())),
        None => (stripped.trim(), None),
    };
    let clean = |s: &str| {
        let w = words(s).join("_");
        (!w.is_empty()).then_some(w)
    };
    let main = match main {
        "" | "1" => None,
        m => clean(unit_word(m).unwrap_or(m)),
    };
    let per = per.and_then(|p| match p {
        "" => None,
        p => clean(per_unit_word(p).unwrap_or(p)),
    });
    (main, per)
}

/// UCUM units OpenTelemetry uses → Prometheus base-unit words (the Collector's table).
fn unit_word(unit: &str) -> Option<&'static str> {
    Some(match unit {
        "d" => "days",
        "h" => "hours",
        "min" => "minutes",
        "s" => "seconds",
        "ms" => "milliseconds",
        "us" => "microseconds",
        "ns" => "nanoseconds",
        "By" => "bytes",
        "KiBy" => "kibibytes",
        "MiBy" => "mebibytes",
        "GiBy" => "gibibytes",
        "TiBy" => "tibibytes",
        "KBy" => "kilobytes",
        "MBy" => "megabytes",
        "GBy" => "gigabytes",
        "TBy" => "terabytes",
        "m" => "meters",
        "V" => "volts",
        "A" => "amperes",
        "J" => "joules",
        "W" => "watts",
        "g" => "grams",
        "Cel" => "celsius",
        "Hz" => "hertz",
        "%" => "percent",
        _ => return None,
    })
}

fn per_unit_word(unit: &str) -> Option<&'static str> {
    Some(match unit {
        "s" => "second",
        "m" => "minute",
        "h" => "hour",
        "d" => "day",
        "w" => "week",
        "mo" => "month",
        "y" => "year",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_follow_the_compatibility_rules() {
        use FamilyKind::*;
        let cases = [
            // (otel name, unit, kind, prometheus family name)
            (
                "http.server.request.duration",
                "s",
                Histogram,
                "http_server_request_duration_seconds",
            ),
            (
                "system.filesystem.usage",
                "By",
                Gauge,
                "system_filesystem_usage_bytes",
            ),
            (
                "system.network.dropped",
                "{packets}",
                Counter,
                "system_network_dropped_total",
            ),
            (
                "system.network.dropped",
                "packets",
                Gauge,
                "system_network_dropped_packets",
            ),
            (
                "system.memory.utilization",
                "1",
                Gauge,
                "system_memory_utilization_ratio",
            ),
            ("my.counter", "1", Counter, "my_counter_total"),
            ("my.histogram", "1", Histogram, "my_histogram"),
            (
                "process.runtime.duration",
                "ms",
                Histogram,
                "process_runtime_duration_milliseconds",
            ),
            ("net.io", "By/s", Gauge, "net_io_bytes_per_second"),
            ("requests", "{request}/s", Gauge, "requests_per_second"),
            ("http.requests.total", "", Counter, "http_requests_total"),
            ("latency_seconds", "s", Histogram, "latency_seconds"),
            (
                "seconds.before.birthday",
                "s",
                Gauge,
                "seconds_before_birthday_seconds",
            ),
            ("queue.size", "", UpDownCounter, "queue_size"),
            ("queue.ratio", "1", UpDownCounter, "queue_ratio"),
            (
                "(lambda).function.executions(#)",
                "",
                Gauge,
                "lambda_function_executions",
            ),
            ("2xx.responses", "", Counter, "_2xx_responses_total"),
            ("temp", "Cel", Gauge, "temp_celsius"),
            ("disk.io", "%", Gauge, "disk_io_percent"),
            ("speed", "m/s", Gauge, "speed_meters_per_second"),
            ("odd.unit", "foo.bar", Gauge, "odd_unit_foo_bar"),
        ];
        for (name, unit, kind, want) in cases {
            assert_eq!(
                family_name(name, unit, kind),
                want,
                "{name} [{unit}] {kind:?}"
            );
        }
    }

    #[test]
    fn label_names_are_sanitised() {
        for (key, want) in [
            ("http.method", "http_method"),
            ("http.status_code", "http_status_code"),
            ("net..peer--name", "net_peer_name"),
            ("2xx", "key_2xx"),
            ("ümlaut", "_mlaut"),
            ("already_ok", "already_ok"),
            ("le", "le"),
        ] {
            assert_eq!(label_name(key), want, "{key}");
        }
    }
}
