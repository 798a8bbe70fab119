//! `obs config` as text: the resolved configuration as TOML, secrets masked, each value followed
//! by where it came from. The JSON form is `Config`'s own serialisation.

use crate::model::SearchMode;
use crate::timespec::format_duration;

use super::{Auth, Config, TraceBackend};

/// A TOML string literal.
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// A TOML key, bare when possible.
fn toml_key(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        s.to_owned()
    } else {
        toml_str(s)
    }
}

/// Renders the resolved configuration as TOML-like text for `obs config`:
/// one `key = value` line per setting with a `# <source>` comment (`flag
/// --timeout`, `env OBS_TIMEOUT`, `file PATH`, `default`), unset settings as
/// comments, secrets masked.
pub fn render_toml(config: &Config) -> String {
    let mut lines: Vec<(String, Option<String>)> = Vec::new();
    let src = |key: &str| config.source(key).map(ToString::to_string);
    let set =
        |lines: &mut Vec<(String, Option<String>)>, key: &str, value: Option<String>| match value {
            Some(v) => lines.push((format!("{key} = {v}"), src(key))),
            None => lines.push((format!("# {key}: not set"), None)),
        };
    let http = &config.prometheus;
    let opt = |v: &Option<String>| v.as_deref().map(toml_str);

    set(&mut lines, "context", Some(toml_str(&config.context)));
    set(&mut lines, "prometheus_url", Some(toml_str(&http.url)));
    set(&mut lines, "tenant", opt(&http.tenant));
    match &http.auth {
        Some(Auth::Basic { username, password }) => {
            set(&mut lines, "username", Some(toml_str(username)));
            set(
                &mut lines,
                "password",
                Some(toml_str(&password.to_string())),
            );
        }
        Some(Auth::Bearer { token }) => {
            set(
                &mut lines,
                "bearer_token",
                Some(toml_str(&token.to_string())),
            );
        }
        None => lines.push((
            "# auth: none (set username and password, or bearer_token)".to_owned(),
            None,
        )),
    }
    set(
        &mut lines,
        "ca_file",
        http.ca_file
            .as_ref()
            .map(|p| toml_str(&p.display().to_string())),
    );
    set(
        &mut lines,
        "timeout",
        Some(toml_str(&format_duration(http.timeout))),
    );
    for (key, backend) in [
        ("tempo_url", &config.tempo),
        ("jaeger_url", &config.jaeger),
        ("loki_url", &config.loki),
    ] {
        set(&mut lines, key, backend.as_ref().map(|b| toml_str(&b.url)));
    }
    if let Some(g) = &config.grafana {
        set(&mut lines, "grafana_url", Some(toml_str(&g.url)));
        for (key, uid) in [
            ("grafana_prometheus_uid", &g.prometheus_uid),
            ("grafana_traces_uid", &g.traces_uid),
            ("grafana_loki_uid", &g.loki_uid),
        ] {
            if let Some(uid) = uid {
                set(&mut lines, key, Some(toml_str(uid)));
            }
        }
    }
    if config.tempo.is_some() && config.jaeger.is_some() {
        let used = match config.traces().map(|(kind, _)| kind) {
            Some(TraceBackend::Jaeger) => "jaeger",
            _ => "tempo",
        };
        lines.push((format!("# traces are read from {used}"), None));
    }
    lines.push((
        format!("trace_match = {}", toml_str(config.trace_match.as_str())),
        Some(src("trace_match").unwrap_or_else(|| "default".into())),
    ));
    lines.push((
        format!(
            "tempo_search = {}",
            toml_str(match config.tempo_search {
                SearchMode::TraceQl => "traceql",
                SearchMode::Tags => "tags",
            })
        ),
        Some(src("tempo_search").unwrap_or_else(|| "default".into())),
    ));
    set(&mut lines, "log_selector", opt(&config.log_selector));
    if config.log_service_label.is_some() {
        set(
            &mut lines,
            "log_service_label",
            opt(&config.log_service_label),
        );
    } else {
        lines.push((
            "# log_service_label: not set, detected from Loki's label names".to_owned(),
            None,
        ));
    }
    set(&mut lines, "error_query", opt(&config.error_query));
    set(&mut lines, "latency_query", opt(&config.latency_query));
    if config.service_label.is_some() {
        set(&mut lines, "service_label", opt(&config.service_label));
    } else {
        let tried: Vec<String> = config.service_labels().into_iter().map(toml_str).collect();
        lines.push((
            format!("# service_label: not set, trying {}", tried.join(", ")),
            None,
        ));
    }
    if config.candidates.is_empty() {
        lines.push(("candidates = []".to_owned(), None));
    } else {
        lines.push(("candidates = [".to_owned(), None));
        for (i, q) in config.candidates.iter().enumerate() {
            lines.push((
                format!("    {},", toml_str(q)),
                src(&format!("candidates[{i}]")),
            ));
        }
        lines.push(("]".to_owned(), None));
    }
    set(&mut lines, "candidate_match", opt(&config.candidate_match));
    set(
        &mut lines,
        "max_candidates",
        Some(config.max_candidates.to_string()),
    );
    set(
        &mut lines,
        "concurrency",
        Some(config.concurrency.to_string()),
    );
    set(
        &mut lines,
        "scrape_interval",
        Some(toml_str(&format_duration(config.scrape_interval))),
    );
    if !http.headers.is_empty() {
        lines.push((String::new(), None));
        lines.push(("[headers]".to_owned(), None));
        for (name, value) in &http.headers {
            lines.push((
                format!("{} = {}", toml_key(name), toml_str(&value.to_string())),
                src(&format!("headers.{name}")),
            ));
        }
    }

    // Per-backend settings that differ from the shared ones, as the file's sub-tables.
    for (name, backend) in [
        ("prometheus", Some(&config.prometheus)),
        ("tempo", config.tempo.as_ref()),
        ("jaeger", config.jaeger.as_ref()),
        ("loki", config.loki.as_ref()),
    ] {
        let Some(b) = backend else { continue };
        let prefix = format!("{name}.");
        let own: Vec<&String> = config
            .sources
            .keys()
            .filter(|k| k.starts_with(&prefix))
            .collect();
        if own.is_empty() {
            continue;
        }
        lines.push((String::new(), None));
        lines.push((format!("[{name}]"), None));
        let has = |k: &str| own.iter().any(|o| o.as_str() == format!("{prefix}{k}"));
        let mut own_line = |k: &str, v: String| {
            if has(k) {
                lines.push((format!("{k} = {v}"), src(&format!("{prefix}{k}"))));
            }
        };
        if let Some(t) = &b.tenant {
            own_line("tenant", toml_str(t));
        }
        match &b.auth {
            Some(Auth::Basic { username, password }) => {
                own_line("username", toml_str(username));
                own_line("password", toml_str(&password.to_string()));
            }
            Some(Auth::Bearer { token }) => own_line("bearer_token", toml_str(&token.to_string())),
            None => {}
        }
        if let Some(ca) = &b.ca_file {
            own_line("ca_file", toml_str(&ca.display().to_string()));
        }
        own_line("timeout", toml_str(&format_duration(b.timeout)));
        for (header, value) in &b.headers {
            let key = format!("{prefix}headers.{header}");
            if config.sources.contains_key(&key) {
                lines.push((
                    format!(
                        "headers.{} = {}",
                        toml_key(header),
                        toml_str(&value.to_string())
                    ),
                    src(&key),
                ));
            }
        }
    }

    let width = lines
        .iter()
        .filter(|(_, c)| c.is_some())
        .map(|(l, _)| l.chars().count())
        .filter(|&w| w <= 48)
        .max()
        .unwrap_or(0);
    let mut out = match &config.config_file {
        Some(path) => format!(
            "# obs configuration, context {:?}, file {} (secrets masked)\n",
            config.context,
            path.display()
        ),
        None => format!(
            "# obs configuration, context {:?}, no config file (secrets masked)\n",
            config.context
        ),
    };
    for (line, comment) in lines {
        match comment {
            Some(c) => out.push_str(&format!("{line:<width$}  # {c}\n")),
            None => {
                out.push_str(&line);
                out.push('\n');
            }
        }
    }
    out
}
