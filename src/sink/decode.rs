//! Turning OTLP request bodies into checked export requests: protobuf or OTLP/JSON, gzip with a
//! cap on the inflated size, and the id-length checks the store relies on.
//!
//! Pure functions over byte slices: no I/O, no async, no knowledge of HTTP or gRPC beyond the
//! media-type names. Both receivers and the fuzz targets go through [`decode`], so every byte a
//! client can send reaches the same code.
//!
//! OTLP/JSON is the proto3 JSON mapping with the deviations listed in the OTLP specification
//! (<https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding>): hex ids
//! (case-insensitive), integer enums, lowerCamelCase keys, unknown fields ignored, 64-bit
//! integers as strings or numbers. `opentelemetry-proto`'s `with-serde` derives do all of that,
//! with one trap in metrics, handled in [`json_fix`]: its `serde(flatten)` oneofs (a metric's
//! data, a point's or exemplar's value) turn any error inside them into "unset", so a summary
//! with a mistyped field would silently arrive without data. `tests` below pins the behaviour on
//! the upstream examples in `fixtures/otlp-json/` and on the edge cases. Traces and logs are
//! read first by [`json_fast`], which builds the same types without the derives' buffering of
//! every attribute value, and fall back to the derives for anything it refuses.

use std::fmt;
use std::io::Read as _;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{Exemplar, metric::Data};
use prost::Message as _;

use crate::store::Payload;

pub mod bound;
mod json_fast;
mod json_fix;
use json_fix::has_unset_oneof;

/// The three OTLP signals the sink receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Signal {
    Traces,
    Logs,
    Metrics,
}

impl Signal {
    pub const ALL: [Signal; 3] = [Signal::Traces, Signal::Logs, Signal::Metrics];

    /// Lowercase name, as in the OTLP/HTTP path (`/v1/<name>`) and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Logs => "logs",
            Signal::Metrics => "metrics",
        }
    }

    /// The protobuf message a request body of this signal holds.
    pub fn request_message(self) -> &'static str {
        match self {
            Signal::Traces => "ExportTraceServiceRequest",
            Signal::Logs => "ExportLogsServiceRequest",
            Signal::Metrics => "ExportMetricsServiceRequest",
        }
    }

    /// What one item of this signal is called in a partial-success response.
    pub fn item_name(self) -> &'static str {
        match self {
            Signal::Traces => "spans",
            Signal::Logs => "log records",
            Signal::Metrics => "data points",
        }
    }

    pub(crate) fn index(self) -> usize {
        match self {
            Signal::Traces => 0,
            Signal::Logs => 1,
            Signal::Metrics => 2,
        }
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a request body is encoded (and so how its response is encoded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

/// The content types the HTTP receiver accepts, for error messages.
pub const ACCEPTED_CONTENT_TYPES: &str = "application/x-protobuf or application/json";

impl Encoding {
    /// The encoding a `Content-Type` names: `application/x-protobuf` (also
    /// `application/protobuf`) or `application/json`, parameters such as `charset` ignored,
    /// case-insensitive. `None` for anything else.
    pub fn from_content_type(value: &str) -> Option<Encoding> {
        let media = value.split(';').next().unwrap_or_default().trim();
        if media.eq_ignore_ascii_case("application/x-protobuf")
            || media.eq_ignore_ascii_case("application/protobuf")
        {
            Some(Encoding::Protobuf)
        } else if media.eq_ignore_ascii_case("application/json") {
            Some(Encoding::Json)
        } else {
            None
        }
    }

    /// The `Content-Type` of a response in this encoding.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Encoding::Protobuf => "protobuf",
            Encoding::Json => "OTLP/JSON",
        }
    }
}

/// A request body that is not a valid OTLP export request. Permanent: the client must not
/// retry it (HTTP 400, gRPC `INVALID_ARGUMENT`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("the body is not a protobuf {message}: {reason}")]
    Protobuf {
        message: &'static str,
        reason: String,
    },
    #[error("the body is not an OTLP/JSON {message}: {reason}")]
    Json {
        message: &'static str,
        reason: String,
    },
    #[error(
        "the body is empty, which is not JSON; send {{}} for an empty {message}, \
         or use Content-Type: application/x-protobuf"
    )]
    EmptyJson { message: &'static str },
    /// An id of the wrong length; `field` is the JSON path of the offending field.
    #[error("{field} is {actual} bytes long; {what} must be {expected} bytes ({hex} hex characters){optional}",
        hex = .expected * 2,
        optional = if *.may_be_empty { " or empty" } else { "" })]
    IdLength {
        field: String,
        what: &'static str,
        actual: usize,
        expected: usize,
        may_be_empty: bool,
    },
}

impl DecodeError {
    /// The offending field, as a path into the request in lowerCamelCase, when known.
    pub fn field(&self) -> Option<&str> {
        match self {
            DecodeError::IdLength { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// A gzip body that cannot be inflated within the size limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InflateError {
    #[error("the gzip body inflates to more than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the body is not valid gzip ({reason}); send it uncompressed or fix the encoder")]
    Corrupt { reason: String },
}

/// Inflates a gzip body (one or more members) into at most `limit` bytes. Reads only up to one
/// byte past the limit, so a gzip bomb costs `limit` bytes of memory and the time to inflate
/// them, never its full size.
pub fn gunzip_capped(compressed: &[u8], limit: usize) -> Result<Vec<u8>, InflateError> {
    let decoder = flate2::read::MultiGzDecoder::new(compressed);
    // Typical OTLP payloads compress 5-10x; start near that and let Vec grow up to the cap.
    let mut out = Vec::with_capacity(compressed.len().saturating_mul(8).min(limit));
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    decoder
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| InflateError::Corrupt {
            reason: e.to_string(),
        })?;
    if out.len() > limit {
        return Err(InflateError::TooLarge { limit });
    }
    Ok(out)
}

/// Decodes and checks one export request of `signal` from `body`.
pub fn decode(signal: Signal, encoding: Encoding, body: &[u8]) -> Result<Payload, DecodeError> {
    Ok(match signal {
        Signal::Traces => Payload::Traces(decode_traces(encoding, body)?),
        Signal::Logs => Payload::Logs(decode_logs(encoding, body)?),
        Signal::Metrics => Payload::Metrics(decode_metrics(encoding, body)?),
    })
}

pub fn decode_traces(
    encoding: Encoding,
    body: &[u8],
) -> Result<ExportTraceServiceRequest, DecodeError> {
    let request = parse_fast(encoding, body, Signal::Traces, json_fast::traces)?;
    check_traces(&request)?;
    Ok(request)
}

pub fn decode_logs(
    encoding: Encoding,
    body: &[u8],
) -> Result<ExportLogsServiceRequest, DecodeError> {
    let request = parse_fast(encoding, body, Signal::Logs, json_fast::logs)?;
    check_logs(&request)?;
    Ok(request)
}

pub fn decode_metrics(
    encoding: Encoding,
    body: &[u8],
) -> Result<ExportMetricsServiceRequest, DecodeError> {
    let mut request: ExportMetricsServiceRequest = parse(encoding, body, Signal::Metrics)?;
    if encoding == Encoding::Json && has_unset_oneof(&request) {
        json_fix::repair_or_explain(&mut request, body)?;
    }
    check_metrics(&request)?;
    Ok(request)
}

/// [`parse`], with a JSON body read first by `fast` (one of [`json_fast`]'s readers), which
/// hands anything it does not take to the derives.
fn parse_fast<T>(
    encoding: Encoding,
    body: &[u8],
    signal: Signal,
    fast: fn(&[u8]) -> Option<T>,
) -> Result<T, DecodeError>
where
    T: prost::Message + Default + serde::de::DeserializeOwned,
{
    if encoding == Encoding::Json
        && let Some(request) = fast(body)
    {
        return Ok(request);
    }
    parse(encoding, body, signal)
}

fn parse<T>(encoding: Encoding, body: &[u8], signal: Signal) -> Result<T, DecodeError>
where
    T: prost::Message + Default + serde::de::DeserializeOwned,
{
    let message = signal.request_message();
    match encoding {
        // An empty protobuf body is a valid, empty message: OTLP says to answer it with success.
        Encoding::Protobuf => T::decode(body).map_err(|e| DecodeError::Protobuf {
            message,
            reason: e.to_string(),
        }),
        Encoding::Json => {
            if body.iter().all(u8::is_ascii_whitespace) {
                return Err(DecodeError::EmptyJson { message });
            }
            serde_json::from_slice(body).or_else(|e| {
                // proto3 JSON also allows `null` for any field and 32-bit integers as strings,
                // which the serde types refuse: normalise those and try once more. The first
                // error is the one reported if that does not help either.
                json_fix::proto3_normalized(body)
                    .and_then(|value| serde_json::from_value(value).ok())
                    .ok_or(DecodeError::Json {
                        message,
                        reason: e.to_string(),
                    })
            })
        }
    }
}

const TRACE_ID: usize = 16;
const SPAN_ID: usize = 8;

fn check_id(
    id: &[u8],
    expected: usize,
    may_be_empty: bool,
    what: &'static str,
    field: impl FnOnce() -> String,
) -> Result<(), DecodeError> {
    if id.len() == expected || (may_be_empty && id.is_empty()) {
        return Ok(());
    }
    Err(DecodeError::IdLength {
        field: field(),
        what,
        actual: id.len(),
        expected,
        may_be_empty,
    })
}

/// Span ids: trace id 16 bytes, span id 8, parent empty (a root) or 8; links likewise.
fn check_traces(request: &ExportTraceServiceRequest) -> Result<(), DecodeError> {
    for (r, rs) in request.resource_spans.iter().enumerate() {
        for (s, ss) in rs.scope_spans.iter().enumerate() {
            for (i, span) in ss.spans.iter().enumerate() {
                let at = |f: &str| format!("resourceSpans[{r}].scopeSpans[{s}].spans[{i}].{f}");
                check_id(&span.trace_id, TRACE_ID, false, "a trace id", || {
                    at("traceId")
                })?;
                check_id(&span.span_id, SPAN_ID, false, "a span id", || at("spanId"))?;
                check_id(
                    &span.parent_span_id,
                    SPAN_ID,
                    true,
                    "a parent span id",
                    || at("parentSpanId"),
                )?;
                for (l, link) in span.links.iter().enumerate() {
                    check_id(&link.trace_id, TRACE_ID, false, "a trace id", || {
                        at(&format!("links[{l}].traceId"))
                    })?;
                    check_id(&link.span_id, SPAN_ID, false, "a span id", || {
                        at(&format!("links[{l}].spanId"))
                    })?;
                }
            }
        }
    }
    Ok(())
}

/// Log records may carry no trace context; when they do, it must have the right lengths.
fn check_logs(request: &ExportLogsServiceRequest) -> Result<(), DecodeError> {
    for (r, rl) in request.resource_logs.iter().enumerate() {
        for (s, sl) in rl.scope_logs.iter().enumerate() {
            for (i, record) in sl.log_records.iter().enumerate() {
                let at = |f: &str| format!("resourceLogs[{r}].scopeLogs[{s}].logRecords[{i}].{f}");
                check_id(&record.trace_id, TRACE_ID, true, "a trace id", || {
                    at("traceId")
                })?;
                check_id(&record.span_id, SPAN_ID, true, "a span id", || at("spanId"))?;
            }
        }
    }
    Ok(())
}

/// Exemplars may carry no trace context; when they do, it must have the right lengths.
fn check_metrics(request: &ExportMetricsServiceRequest) -> Result<(), DecodeError> {
    for (r, rm) in request.resource_metrics.iter().enumerate() {
        for (s, sm) in rm.scope_metrics.iter().enumerate() {
            for (m, metric) in sm.metrics.iter().enumerate() {
                let (kind, exemplars): (&str, Vec<&[Exemplar]>) = match &metric.data {
                    None => continue,
                    Some(Data::Gauge(g)) => (
                        "gauge",
                        g.data_points.iter().map(|p| &p.exemplars[..]).collect(),
                    ),
                    Some(Data::Sum(g)) => (
                        "sum",
                        g.data_points.iter().map(|p| &p.exemplars[..]).collect(),
                    ),
                    Some(Data::Histogram(h)) => (
                        "histogram",
                        h.data_points.iter().map(|p| &p.exemplars[..]).collect(),
                    ),
                    Some(Data::ExponentialHistogram(h)) => (
                        "exponentialHistogram",
                        h.data_points.iter().map(|p| &p.exemplars[..]).collect(),
                    ),
                    Some(Data::Summary(_)) => continue,
                };
                for (p, point) in exemplars.iter().enumerate() {
                    for (e, exemplar) in point.iter().enumerate() {
                        let at = |f: &str| {
                            format!(
                                "resourceMetrics[{r}].scopeMetrics[{s}].metrics[{m}].{kind}\
                                 .dataPoints[{p}].exemplars[{e}].{f}"
                            )
                        };
                        check_id(&exemplar.trace_id, TRACE_ID, true, "a trace id", || {
                            at("traceId")
                        })?;
                        check_id(&exemplar.span_id, SPAN_ID, true, "a span id", || {
                            at("spanId")
                        })?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Encodes a request as protobuf; for tests, benchmarks and fuzz seeds.
pub fn encode_protobuf(payload: &Payload) -> Vec<u8> {
    match payload {
        Payload::Traces(r) => r.encode_to_vec(),
        Payload::Logs(r) => r.encode_to_vec(),
        Payload::Metrics(r) => r.encode_to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use opentelemetry_proto::tonic::metrics::v1::{exemplar, number_data_point};
    use opentelemetry_proto::tonic::trace::v1::span::SpanKind;

    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/otlp-json")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    const TRACE_ID: [u8; 16] = [
        0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f, 0xc6,
        0x0c,
    ];

    #[test]
    fn the_upstream_trace_example_decodes_with_upper_case_ids_and_numeric_int64s() {
        let r = decode_traces(Encoding::Json, &fixture("trace.json")).unwrap();
        let rs = &r.resource_spans[0];
        let span = &rs.scope_spans[0].spans[0];
        assert_eq!(span.trace_id, TRACE_ID);
        assert_eq!(
            span.span_id,
            [0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74]
        );
        assert_eq!(
            span.parent_span_id,
            [0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x73]
        );
        assert_eq!(span.kind(), SpanKind::Server);
        assert_eq!(span.start_time_unix_nano, 1_544_712_660_000_000_000);
        assert_eq!(span.end_time_unix_nano, 1_544_712_661_000_000_000);
        assert_eq!(span.attributes[0].key, "my.span.attr");
        let scope = rs.scope_spans[0].scope.as_ref().unwrap();
        assert_eq!(
            (scope.name.as_str(), scope.version.as_str()),
            ("my.library", "1.0.0")
        );
    }

    #[test]
    fn the_upstream_logs_and_metrics_examples_decode() {
        let logs = decode_logs(Encoding::Json, &fixture("logs.json")).unwrap();
        let record = &logs.resource_logs[0].scope_logs[0].log_records[0];
        assert_eq!(record.trace_id, TRACE_ID);
        assert_eq!(record.severity_text, "Information");
        assert_eq!(record.time_unix_nano, 1_544_712_660_300_000_000);

        let metrics = decode_metrics(Encoding::Json, &fixture("metrics.json")).unwrap();
        let names: Vec<_> = metrics.resource_metrics[0].scope_metrics[0]
            .metrics
            .iter()
            .map(|m| (m.name.as_str(), m.data.is_some()))
            .collect();
        assert_eq!(
            names,
            [
                ("my.counter", true),
                ("my.gauge", true),
                ("my.histogram", true)
            ]
        );
        // The example's histogram has 3 bucket counts for 1 bound: decoding keeps it as sent;
        // whether to store it is the store's call (it answers with partial success).
        let Some(Data::Histogram(h)) =
            &metrics.resource_metrics[0].scope_metrics[0].metrics[2].data
        else {
            panic!("not a histogram")
        };
        assert_eq!(h.data_points[0].bucket_counts.len(), 3);
    }

    #[test]
    fn json_ids_are_case_insensitive_and_int64s_may_be_strings_or_numbers() {
        let body = |id: &str, start: &str| {
            format!(
                r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"{id}","spanId":"eee19b7ec3c1b174","startTimeUnixNano":{start},"kind":3,"futureField":{{"x":[1]}}}}]}}]}}]}}"#
            )
        };
        let upper = decode_traces(
            Encoding::Json,
            body("5B8EFFF798038103D269B633813FC60C", "\"7\"").as_bytes(),
        )
        .unwrap();
        let lower = decode_traces(
            Encoding::Json,
            body("5b8efff798038103d269b633813fc60c", "7").as_bytes(),
        )
        .unwrap();
        assert_eq!(upper, lower);
        let span = &lower.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(
            (span.trace_id.as_slice(), span.start_time_unix_nano),
            (&TRACE_ID[..], 7)
        );
        assert_eq!(span.kind(), SpanKind::Client);
    }

    #[test]
    fn nulls_and_32_bit_integers_as_strings_are_accepted_as_proto3_json_allows() {
        let body = br#"{"resourceSpans":[{"resource":null,"scopeSpans":[{"scope":null,"spans":[
            {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
             "parentSpanId":null,"name":"GET /","kind":"2","flags":"769",
             "droppedAttributesCount":"3","attributes":null,"events":null,
             "links":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175",
                       "attributes":[{"key":"kind","value":{"stringValue":"7"}}]}],
             "status":{"code":"2","message":null}}]}]}]}"#;
        let request = decode_traces(Encoding::Json, body).unwrap();
        let span = &request.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(span.kind(), SpanKind::Server);
        assert_eq!(span.flags, 769);
        assert_eq!(span.dropped_attributes_count, 3);
        assert!(span.parent_span_id.is_empty() && span.events.is_empty());
        assert_eq!(span.status.as_ref().unwrap().code, 2);
        // An attribute's value is data, not a field: a string stays a string.
        let link_attr = &span.links[0].attributes[0];
        assert_eq!(
            link_attr.value.as_ref().unwrap().value,
            Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue("7".into()))
        );
        let logs = br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[
            {"timeUnixNano":"1","severityNumber":"17","body":{"stringValue":"x"},"attributes":null}]}]}]}"#;
        let request = decode_logs(Encoding::Json, logs).unwrap();
        assert_eq!(
            request.resource_logs[0].scope_logs[0].log_records[0].severity_number,
            17
        );
        // Not numbers, still refused, with serde's own message about the first problem.
        let err = decode_traces(
            Encoding::Json,
            br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"two"}]}]}]}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("two"), "{err}");
    }

    #[test]
    fn enum_names_are_refused_as_otlp_json_requires_integers() {
        let body =
            br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"kind":"SPAN_KIND_SERVER"}]}]}]}"#;
        let err = decode_traces(Encoding::Json, body).unwrap_err();
        assert!(err.to_string().contains("SPAN_KIND_SERVER"), "{err}");
    }

    #[test]
    fn nan_and_infinity_point_values_are_repaired_not_dropped() {
        let body = br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[
            {"asDouble":"NaN"},{"asDouble":"-Infinity"},{"asDouble":"2.5"},{"asInt":"9"},{"asInt":4},{},
            {"asDouble":1,"exemplars":[{"asDouble":"Infinity","traceId":"5b8efff798038103d269b633813fc60c"}]}]}}]}]}]}"#;
        let r = decode_metrics(Encoding::Json, body).unwrap();
        let Some(Data::Gauge(g)) = &r.resource_metrics[0].scope_metrics[0].metrics[0].data else {
            panic!("not a gauge")
        };
        use number_data_point::Value::{AsDouble, AsInt};
        let values: Vec<_> = g.data_points.iter().map(|p| p.value).collect();
        assert!(matches!(values[0], Some(AsDouble(d)) if d.is_nan()));
        assert_eq!(
            values[1..],
            [
                Some(AsDouble(f64::NEG_INFINITY)),
                Some(AsDouble(2.5)),
                Some(AsInt(9)),
                Some(AsInt(4)),
                None,
                Some(AsDouble(1.0)),
            ]
        );
        assert_eq!(
            g.data_points[6].exemplars[0].value,
            Some(exemplar::Value::AsDouble(f64::INFINITY))
        );
    }

    #[test]
    fn a_mistyped_field_inside_metric_data_is_an_error_naming_it_not_a_silent_drop() {
        // Regression: opentelemetry-proto's flattened `Metric.data` turns this into "no data".
        let body = br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"ok","gauge":{"dataPoints":[{"asInt":1}]}},
            {"name":"s","summary":{"dataPoints":[{"count":"3","sum":"lots"}]}}]}]}]}"#;
        let err = decode_metrics(Encoding::Json, body).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("resourceMetrics[0].scopeMetrics[0].metrics[1].summary"),
            "{text}"
        );
        assert!(text.contains("lots"), "{text}");

        let body = br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"g","gauge":{"dataPoints":[{"asDouble":true}]}}]}]}]}"#;
        let err = decode_metrics(Encoding::Json, body)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("metrics[0].gauge.dataPoints[0].asDouble"),
            "{err}"
        );
    }

    #[test]
    fn ids_of_the_wrong_length_are_refused_with_the_field_path() {
        let body = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[
            {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"},
            {"traceId":"5b8efff798038103d269b633813fc6","spanId":"eee19b7ec3c1b174"}]}]}]}"#;
        let err = decode_traces(Encoding::Json, body).unwrap_err();
        assert_eq!(
            err.field(),
            Some("resourceSpans[0].scopeSpans[0].spans[1].traceId")
        );
        assert!(
            err.to_string()
                .contains("is 15 bytes long; a trace id must be 16 bytes (32 hex characters)"),
            "{err}"
        );

        let mut request = decode_traces(Encoding::Json, &fixture("trace.json")).unwrap();
        request.resource_spans[0].scope_spans[0].spans[0].parent_span_id = vec![1; 4];
        let err = decode_traces(Encoding::Protobuf, &request.encode_to_vec()).unwrap_err();
        assert_eq!(
            err.field(),
            Some("resourceSpans[0].scopeSpans[0].spans[0].parentSpanId")
        );

        let logs = br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"","spanId":""},{"spanId":"ab"}]}]}]}"#;
        let err = decode_logs(Encoding::Json, logs).unwrap_err();
        assert_eq!(
            err.field(),
            Some("resourceLogs[0].scopeLogs[0].logRecords[1].spanId")
        );

        let metrics = br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"h","histogram":{"dataPoints":[{"exemplars":[{"asInt":1,"traceId":"00"}]}]}}]}]}]}"#;
        let err = decode_metrics(Encoding::Json, metrics).unwrap_err();
        assert_eq!(
            err.field(),
            Some(
                "resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0].exemplars[0].traceId"
            )
        );
    }

    #[test]
    fn bad_bodies_are_errors_that_name_the_message() {
        let err = decode_traces(Encoding::Json, b"  ").unwrap_err();
        assert!(err.to_string().contains("send {}"), "{err}");
        let err = decode_logs(Encoding::Json, b"{\"resourceLogs\": 3}").unwrap_err();
        assert!(
            err.to_string()
                .contains("not an OTLP/JSON ExportLogsServiceRequest"),
            "{err}"
        );
        let full = decode_traces(Encoding::Json, &fixture("trace.json"))
            .unwrap()
            .encode_to_vec();
        let err = decode_traces(Encoding::Protobuf, &full[..full.len() - 3]).unwrap_err();
        assert!(
            err.to_string()
                .contains("not a protobuf ExportTraceServiceRequest"),
            "{err}"
        );
        // An empty protobuf body is a valid empty request.
        assert_eq!(
            decode_traces(Encoding::Protobuf, b"").unwrap(),
            ExportTraceServiceRequest::default()
        );
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn gunzip_stops_at_the_cap_and_reads_concatenated_members() {
        let zeros = vec![0u8; 4 << 20];
        let bomb = gzip(&zeros);
        assert!(bomb.len() < 10_000);
        assert_eq!(
            gunzip_capped(&bomb, 1 << 20),
            Err(InflateError::TooLarge { limit: 1 << 20 })
        );
        assert_eq!(gunzip_capped(&bomb, 4 << 20).unwrap().len(), 4 << 20);
        let mut two = gzip(b"hello ");
        two.extend(gzip(b"world"));
        assert_eq!(gunzip_capped(&two, 100).unwrap(), b"hello world");
        assert!(matches!(
            gunzip_capped(b"not gzip", 100),
            Err(InflateError::Corrupt { .. })
        ));
        assert!(matches!(
            gunzip_capped(&bomb[..bomb.len() / 2], 8 << 20),
            Err(InflateError::Corrupt { .. })
        ));
    }

    #[test]
    fn content_types_are_matched_on_the_media_type_only() {
        assert_eq!(
            Encoding::from_content_type("application/x-protobuf"),
            Some(Encoding::Protobuf)
        );
        assert_eq!(
            Encoding::from_content_type("Application/JSON; charset=utf-8"),
            Some(Encoding::Json)
        );
        assert_eq!(
            Encoding::from_content_type("application/protobuf"),
            Some(Encoding::Protobuf)
        );
        assert_eq!(Encoding::from_content_type("text/plain"), None);
        assert_eq!(Encoding::from_content_type(""), None);
    }
}
