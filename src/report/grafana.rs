//! Grafana Explore links for the evidence of a report: the symptom, a candidate, a trace, a log
//! query. Pure: a base URL and datasource uids in, URLs out.
//!
//! The format is Explore's since Grafana 10.0 (still current in 11 and 12):
//! `{grafana_url}/explore?schemaVersion=1&orgId=1&panes={"obs":{…}}` where the pane is
//! `{"datasource": UID, "queries": [QUERY], "range": {"from": MS, "to": MS}}`, the range in
//! unix milliseconds as strings, the whole JSON percent-encoded. A query is Prometheus'
//! `{"refId":"A","expr":…,"range":true}`, Loki's `{"refId":"A","expr":…,"queryType":"range"}`,
//! Tempo's `{"refId":"A","queryType":"traceql","query":TRACE_ID}` or Jaeger's
//! `{"refId":"A","query":TRACE_ID}`, each with `"datasource":{"type":…,"uid":…}`. Without a
//! uid the pane names no datasource and Grafana opens its default one.

use serde_json::{Value, json};

/// Where Grafana is and which of its datasources hold obs's backends.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Grafana {
    /// Base URL, no trailing slash.
    pub url: String,
    pub prometheus_uid: Option<String>,
    pub traces_uid: Option<String>,
    pub loki_uid: Option<String>,
}

/// One datasource type of Explore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Prometheus,
    Loki,
    Tempo,
    Jaeger,
}

impl Kind {
    fn type_name(self) -> &'static str {
        match self {
            Kind::Prometheus => "prometheus",
            Kind::Loki => "loki",
            Kind::Tempo => "tempo",
            Kind::Jaeger => "jaeger",
        }
    }
}

impl Grafana {
    fn uid(&self, kind: Kind) -> Option<&str> {
        match kind {
            Kind::Prometheus => self.prometheus_uid.as_deref(),
            Kind::Loki => self.loki_uid.as_deref(),
            Kind::Tempo | Kind::Jaeger => self.traces_uid.as_deref(),
        }
    }

    /// An Explore link running `query` (PromQL, LogQL, or a trace id) over `from..to` (unix
    /// seconds).
    pub fn explore(&self, kind: Kind, query: &str, from: f64, to: f64) -> String {
        let uid = self.uid(kind);
        let mut datasource = json!({ "type": kind.type_name() });
        if let Some(uid) = uid {
            datasource["uid"] = Value::String(uid.to_string());
        }
        let mut q = json!({ "refId": "A", "datasource": datasource });
        match kind {
            Kind::Prometheus => {
                q["expr"] = query.into();
                q["range"] = true.into();
            }
            Kind::Loki => {
                q["expr"] = query.into();
                q["queryType"] = "range".into();
            }
            Kind::Tempo => {
                q["queryType"] = "traceql".into();
                q["query"] = query.into();
            }
            Kind::Jaeger => q["query"] = query.into(),
        }
        let mut pane = json!({
            "queries": [q],
            "range": {
                "from": ms(from),
                "to": ms(to),
            },
        });
        if let Some(uid) = uid {
            pane["datasource"] = Value::String(uid.to_string());
        }
        let panes = json!({ "obs": pane }).to_string();
        format!(
            "{}/explore?schemaVersion=1&orgId=1&panes={}",
            self.url.trim_end_matches('/'),
            encode(&panes)
        )
    }
}

fn ms(unix: f64) -> String {
    format!("{}", (unix * 1000.0).round() as i64)
}

/// Percent-encoding of a query-string value: everything but RFC 3986's unreserved characters.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grafana(uids: bool) -> Grafana {
        Grafana {
            url: "https://grafana.example.com/".into(),
            prometheus_uid: uids.then(|| "prom-1".into()),
            traces_uid: uids.then(|| "tempo-1".into()),
            loki_uid: None,
        }
    }

    /// Parses a link the way a browser would and returns its pane.
    fn pane(link: &str) -> Value {
        let url = reqwest::Url::parse(link).expect("a well-formed URL");
        assert_eq!(url.host_str(), Some("grafana.example.com"));
        assert_eq!(url.path(), "/explore");
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        assert!(
            pairs.contains(&("schemaVersion".into(), "1".into())),
            "{pairs:?}"
        );
        let panes = &pairs.iter().find(|(k, _)| k == "panes").expect("panes").1;
        let panes: Value = serde_json::from_str(panes).expect("panes is JSON");
        panes["obs"].clone()
    }

    #[test]
    fn prometheus_link_carries_the_query_the_range_and_the_datasource() {
        let q = r#"sum(rate(http_requests_total{code=~"5.."}[1m])) / sum(rate(http_requests_total[1m])) > 0.01 & x"#;
        let link = grafana(true).explore(Kind::Prometheus, q, 1_700_000_000.0, 1_700_000_900.5);
        assert!(
            !link.contains(' ') && !link.contains('{') && !link.contains('"'),
            "{link}"
        );
        let pane = pane(&link);
        assert_eq!(pane["datasource"], "prom-1");
        assert_eq!(pane["queries"][0]["expr"], q);
        assert_eq!(pane["queries"][0]["datasource"]["type"], "prometheus");
        assert_eq!(pane["queries"][0]["datasource"]["uid"], "prom-1");
        assert_eq!(pane["range"]["from"], "1700000000000");
        assert_eq!(pane["range"]["to"], "1700000900500");
    }

    #[test]
    fn tempo_loki_and_jaeger_links_use_each_datasources_query_fields() {
        let g = grafana(true);
        let t = pane(&g.explore(Kind::Tempo, "aa36", 10.0, 20.0));
        assert_eq!(t["queries"][0]["queryType"], "traceql");
        assert_eq!(t["queries"][0]["query"], "aa36");
        assert_eq!(t["datasource"], "tempo-1");
        let j = pane(&g.explore(Kind::Jaeger, "aa36", 10.0, 20.0));
        assert_eq!(j["queries"][0]["query"], "aa36");
        assert_eq!(j["queries"][0]["datasource"]["type"], "jaeger");
        // No Loki uid: the pane names no datasource, the query says its type.
        let l = pane(&g.explore(
            Kind::Loki,
            r#"{service_name="checkout"} |= "a|b""#,
            10.0,
            20.0,
        ));
        assert!(l.get("datasource").is_none(), "{l}");
        assert_eq!(
            l["queries"][0]["expr"],
            r#"{service_name="checkout"} |= "a|b""#
        );
        assert_eq!(l["queries"][0]["queryType"], "range");
        assert_eq!(l["queries"][0]["datasource"]["type"], "loki");
    }
}
