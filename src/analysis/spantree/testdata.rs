//! Hand-built spans and the recorded Tempo incident trace, for the tests of this module and of
//! `report::waterfall`.

use crate::model::trace::{Attributes, SpanEvent};
use crate::model::{Span, SpanKind, StatusCode, Trace};

pub(crate) const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";

/// A span with id `id`, parent `parent` (`""` for none), from `start` to `end` nanoseconds.
pub(crate) fn span(id: &str, parent: &str, start: i64, end: i64) -> Span {
    Span {
        trace_id: TRACE_ID.into(),
        span_id: id.into(),
        parent_span_id: (!parent.is_empty()).then(|| parent.to_string()),
        name: format!("op-{id}"),
        service: "svc".into(),
        kind: SpanKind::Internal,
        start_unix_nano: start,
        end_unix_nano: end,
        status: StatusCode::Unset,
        status_message: String::new(),
        attributes: Attributes::new(),
        resource: Attributes::new(),
        scope: None,
        events: Vec::new(),
        links: Vec::new(),
    }
}

pub(crate) fn trace(spans: Vec<Span>) -> Trace {
    Trace {
        trace_id: TRACE_ID.into(),
        spans,
    }
}

fn b64_to_hex(s: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut nbits = 0;
    let mut out = String::new();
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
        bits = (bits << 6) | v;
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push_str(&format!("{:02x}", (bits >> nbits) & 0xff));
        }
    }
    out
}

fn attrs(list: Option<&serde_json::Value>) -> Attributes {
    let mut out = Attributes::new();
    for a in list.and_then(|l| l.as_array()).into_iter().flatten() {
        let key = a["key"].as_str().unwrap().to_string();
        let v = &a["value"];
        let value = if let Some(s) = v.get("stringValue") {
            s.clone()
        } else if let Some(i) = v.get("intValue") {
            serde_json::Value::from(i.as_str().unwrap().parse::<i64>().unwrap())
        } else if let Some(b) = v.get("boolValue") {
            b.clone()
        } else if let Some(d) = v.get("doubleValue") {
            d.clone()
        } else {
            v.clone()
        };
        out.insert(key, value);
    }
    out
}

/// `trace aa3683ad…`: a checkout 500 during the recorded incident (20 spans, `PoolTimeout`),
/// converted from Tempo's JSON with a minimal local reader (the real client lives in
/// `source::tempo`).
pub(crate) fn tempo_incident_trace() -> Trace {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/real/tempo/trace_by_id_incident_error.json"
    );
    let body = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let mut spans = Vec::new();
    for batch in doc["batches"].as_array().unwrap() {
        let resource = attrs(batch["resource"].get("attributes"));
        let service = resource["service.name"].as_str().unwrap().to_string();
        for scope in batch["scopeSpans"].as_array().unwrap() {
            for s in scope["spans"].as_array().unwrap() {
                let num = |k: &str| s[k].as_str().unwrap().parse::<i64>().unwrap();
                let kind = match s["kind"].as_str().unwrap_or("") {
                    "SPAN_KIND_SERVER" => SpanKind::Server,
                    "SPAN_KIND_CLIENT" => SpanKind::Client,
                    "SPAN_KIND_INTERNAL" => SpanKind::Internal,
                    _ => SpanKind::Unspecified,
                };
                let status = match s["status"]["code"].as_str().unwrap_or("") {
                    "STATUS_CODE_ERROR" => StatusCode::Error,
                    "STATUS_CODE_OK" => StatusCode::Ok,
                    _ => StatusCode::Unset,
                };
                let events = s["events"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| SpanEvent {
                        time_unix_nano: e["timeUnixNano"].as_str().unwrap().parse().unwrap(),
                        name: e["name"].as_str().unwrap().to_string(),
                        attributes: attrs(e.get("attributes")),
                    })
                    .collect();
                spans.push(Span {
                    trace_id: b64_to_hex(s["traceId"].as_str().unwrap()),
                    span_id: b64_to_hex(s["spanId"].as_str().unwrap()),
                    parent_span_id: s["parentSpanId"].as_str().map(b64_to_hex),
                    name: s["name"].as_str().unwrap().to_string(),
                    service: service.clone(),
                    kind,
                    start_unix_nano: num("startTimeUnixNano"),
                    end_unix_nano: num("endTimeUnixNano"),
                    status,
                    status_message: s["status"]["message"].as_str().unwrap_or("").to_string(),
                    attributes: attrs(s.get("attributes")),
                    resource: resource.clone(),
                    scope: scope["scope"]["name"].as_str().map(str::to_string),
                    events,
                    links: Vec::new(),
                });
            }
        }
    }
    Trace {
        trace_id: "aa3683ad52e9b569c004436d55771b03".into(),
        spans,
    }
}
