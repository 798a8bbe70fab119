//! An upper bound on the memory a request body decodes to, computed before decoding it.
//!
//! A protobuf message costs at least two bytes on the wire (a tag and a zero length) but a
//! whole struct once decoded: a body of empty spans decodes to ~100× its size. The bound walks
//! the protobuf wire format with the OTLP schema — which fields hold which messages — and adds,
//! for every message it finds, the size of the struct prost decodes it into (twice: a `Vec`
//! grows to at most double its length), plus the bytes of strings and byte fields, plus 8
//! bytes for every scalar (a packed integer takes 1 byte on the wire and 8 in memory). It
//! allocates nothing and reads each byte once. Malformed input stops the walk: prost stops at
//! the same place, having decoded no more than was counted.
//!
//! OTLP/JSON needs a `{` for every message, so `{` count × the largest struct bounds its
//! messages; strings and numbers cost at most a few times their text.

use std::mem::size_of;

use opentelemetry_proto::tonic::common::v1 as common;
use opentelemetry_proto::tonic::logs::v1 as logs;
use opentelemetry_proto::tonic::metrics::v1 as metrics;
use opentelemetry_proto::tonic::resource::v1 as resource;
use opentelemetry_proto::tonic::trace::v1 as trace;

use super::Signal;

/// prost's recursion limit: deeper messages fail to decode.
const MAX_DEPTH: u32 = 100;

/// The OTLP messages that hold other messages, and the leaves they hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum M {
    TraceRequest,
    ResourceSpans,
    ScopeSpans,
    Span,
    Event,
    Link,
    Status,
    LogsRequest,
    ResourceLogs,
    ScopeLogs,
    LogRecord,
    MetricsRequest,
    ResourceMetrics,
    ScopeMetrics,
    Metric,
    /// Gauge, Sum, Histogram, ExponentialHistogram and Summary: `data_points` at field 1.
    Data(Points),
    NumberPoint,
    HistogramPoint,
    ExpHistogramPoint,
    Buckets,
    SummaryPoint,
    Quantile,
    Exemplar,
    Resource,
    Scope,
    EntityRef,
    KeyValue,
    AnyValue,
    ArrayValue,
    KeyValueList,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Points {
    Number,
    Histogram,
    Exponential,
    Summary,
}

impl M {
    /// The size of the struct this message decodes into.
    fn size(self) -> usize {
        match self {
            M::TraceRequest | M::LogsRequest | M::MetricsRequest => 24,
            M::ResourceSpans => size_of::<trace::ResourceSpans>(),
            M::ScopeSpans => size_of::<trace::ScopeSpans>(),
            M::Span => size_of::<trace::Span>(),
            M::Event => size_of::<trace::span::Event>(),
            M::Link => size_of::<trace::span::Link>(),
            M::Status => size_of::<trace::Status>(),
            M::ResourceLogs => size_of::<logs::ResourceLogs>(),
            M::ScopeLogs => size_of::<logs::ScopeLogs>(),
            M::LogRecord => size_of::<logs::LogRecord>(),
            M::ResourceMetrics => size_of::<metrics::ResourceMetrics>(),
            M::ScopeMetrics => size_of::<metrics::ScopeMetrics>(),
            M::Metric => size_of::<metrics::Metric>(),
            M::Data(_) => size_of::<metrics::Histogram>(),
            M::NumberPoint => size_of::<metrics::NumberDataPoint>(),
            M::HistogramPoint => size_of::<metrics::HistogramDataPoint>(),
            M::ExpHistogramPoint => size_of::<metrics::ExponentialHistogramDataPoint>(),
            M::Buckets => size_of::<metrics::exponential_histogram_data_point::Buckets>(),
            M::SummaryPoint => size_of::<metrics::SummaryDataPoint>(),
            M::Quantile => size_of::<metrics::summary_data_point::ValueAtQuantile>(),
            M::Exemplar => size_of::<metrics::Exemplar>(),
            M::Resource => size_of::<resource::Resource>(),
            M::Scope => size_of::<common::InstrumentationScope>(),
            M::EntityRef => size_of::<common::EntityRef>(),
            M::KeyValue => size_of::<common::KeyValue>(),
            M::AnyValue => size_of::<common::AnyValue>(),
            M::ArrayValue => size_of::<common::ArrayValue>(),
            M::KeyValueList => size_of::<common::KeyValueList>(),
        }
    }

    /// The message held by field `field`, if it holds one.
    fn child(self, field: u64) -> Option<M> {
        Some(match (self, field) {
            (M::TraceRequest, 1) => M::ResourceSpans,
            (M::ResourceSpans, 1) | (M::ResourceLogs, 1) | (M::ResourceMetrics, 1) => M::Resource,
            (M::ResourceSpans, 2) => M::ScopeSpans,
            (M::ScopeSpans, 1) | (M::ScopeLogs, 1) | (M::ScopeMetrics, 1) => M::Scope,
            (M::ScopeSpans, 2) => M::Span,
            (M::Span, 11) => M::Event,
            (M::Span, 13) => M::Link,
            (M::Span, 15) => M::Status,
            (M::Span, 9) | (M::Event, 3) | (M::Link, 4) => M::KeyValue,
            (M::LogsRequest, 1) => M::ResourceLogs,
            (M::ResourceLogs, 2) => M::ScopeLogs,
            (M::ScopeLogs, 2) => M::LogRecord,
            (M::LogRecord, 5) => M::AnyValue,
            (M::LogRecord, 6) => M::KeyValue,
            (M::MetricsRequest, 1) => M::ResourceMetrics,
            (M::ResourceMetrics, 2) => M::ScopeMetrics,
            (M::ScopeMetrics, 2) => M::Metric,
            (M::Metric, 5) | (M::Metric, 7) => M::Data(Points::Number),
            (M::Metric, 9) => M::Data(Points::Histogram),
            (M::Metric, 10) => M::Data(Points::Exponential),
            (M::Metric, 11) => M::Data(Points::Summary),
            (M::Metric, 12) => M::KeyValue,
            (M::Data(Points::Number), 1) => M::NumberPoint,
            (M::Data(Points::Histogram), 1) => M::HistogramPoint,
            (M::Data(Points::Exponential), 1) => M::ExpHistogramPoint,
            (M::Data(Points::Summary), 1) => M::SummaryPoint,
            (M::NumberPoint, 7) | (M::HistogramPoint, 9) | (M::ExpHistogramPoint, 1) => M::KeyValue,
            (M::SummaryPoint, 7) | (M::Exemplar, 7) => M::KeyValue,
            (M::NumberPoint, 5) | (M::HistogramPoint, 8) | (M::ExpHistogramPoint, 11) => {
                M::Exemplar
            }
            (M::ExpHistogramPoint, 8) | (M::ExpHistogramPoint, 9) => M::Buckets,
            (M::SummaryPoint, 6) => M::Quantile,
            (M::Resource, 1) | (M::Scope, 3) => M::KeyValue,
            (M::Resource, 3) => M::EntityRef,
            (M::KeyValue, 2) | (M::ArrayValue, 1) => M::AnyValue,
            (M::AnyValue, 5) => M::ArrayValue,
            (M::AnyValue, 6) => M::KeyValueList,
            (M::KeyValueList, 1) => M::KeyValue,
            _ => return None,
        })
    }

    /// Bytes in memory per byte on the wire of a length-delimited field that is not a
    /// message: packed varints take one byte each and decode to eight.
    fn packed_factor(self, field: u64) -> u64 {
        match (self, field) {
            (M::Buckets, 2) => 8,
            _ => 1,
        }
    }
}

/// At most how many bytes of memory `body` decodes to as a protobuf request of `signal`.
pub fn protobuf(signal: Signal, body: &[u8]) -> u64 {
    let root = match signal {
        Signal::Traces => M::TraceRequest,
        Signal::Logs => M::LogsRequest,
        Signal::Metrics => M::MetricsRequest,
    };
    (root.size() as u64).saturating_add(walk(body, root, 0))
}

/// The largest struct of any OTLP message.
fn largest_message() -> u64 {
    [
        M::ResourceSpans,
        M::Span,
        M::LogRecord,
        M::Metric,
        M::HistogramPoint,
        M::ExpHistogramPoint,
        M::SummaryPoint,
        M::NumberPoint,
        M::Exemplar,
        M::KeyValue,
        M::AnyValue,
    ]
    .iter()
    .map(|m| m.size() as u64)
    .max()
    .unwrap_or(256)
}

/// At most how many bytes of memory `body` decodes to as OTLP/JSON (also when it is parsed a
/// second time as a JSON value to repair proto3 allowances).
pub fn json(body: &[u8]) -> u64 {
    let objects = body.iter().filter(|&&b| b == b'{' || b == b'[').count() as u64;
    objects
        .saturating_mul(2 * largest_message())
        .saturating_add((body.len() as u64).saturating_mul(8))
}

/// A varint at `pos`, moving `pos` past it. Keys and lengths are mostly one byte: that case
/// is a compare and a load.
#[inline(always)]
fn varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let &first = buf.get(*pos)?;
    if first < 0x80 {
        *pos += 1;
        return Some(u64::from(first));
    }
    varint_long(buf, pos)
}

#[inline(never)]
fn varint_long(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for i in 0..10 {
        let &byte = buf.get(*pos + i)?;
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            *pos += i + 1;
            return Some(value);
        }
    }
    None
}

/// Moves `pos` past a varint whose value is not needed.
#[inline(always)]
fn skip_varint(buf: &[u8], pos: &mut usize) -> Option<()> {
    let rest = buf.get(*pos..)?;
    let n = rest.iter().take(10).position(|&b| b < 0x80)?;
    *pos += n + 1;
    Some(())
}

/// The bound for the fields of one message of type `m` (its own struct is counted by the
/// caller).
fn walk(buf: &[u8], m: M, depth: u32) -> u64 {
    let mut total = 0u64;
    let mut pos = 0;
    while pos < buf.len() {
        let Some(key) = varint(buf, &mut pos) else {
            break;
        };
        let (field, wire) = (key >> 3, key & 7);
        match wire {
            0 => {
                if skip_varint(buf, &mut pos).is_none() {
                    break;
                }
                total = total.saturating_add(8);
            }
            1 => {
                pos = pos.saturating_add(8);
                total = total.saturating_add(8);
            }
            5 => {
                pos = pos.saturating_add(4);
                total = total.saturating_add(8);
            }
            2 => {
                let Some(len) = varint(buf, &mut pos).and_then(|l| usize::try_from(l).ok()) else {
                    break;
                };
                let Some(field_bytes) = pos.checked_add(len).and_then(|end| buf.get(pos..end))
                else {
                    break;
                };
                pos += len;
                total = total.saturating_add(match m.child(field) {
                    Some(child) if depth < MAX_DEPTH => (2 * child.size() as u64)
                        .saturating_add(walk(field_bytes, child, depth + 1)),
                    _ => (len as u64).saturating_mul(m.packed_factor(field)),
                });
            }
            // Groups (3, 4) and unknown wire types: prost refuses them.
            _ => break,
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;

    #[test]
    fn empty_messages_are_counted_at_their_decoded_size() {
        // 1,000 empty resource spans: 2 bytes each on the wire.
        let body: Vec<u8> = std::iter::repeat_n([0x0a, 0x00], 1000).flatten().collect();
        let bound = protobuf(Signal::Traces, &body);
        assert!(bound >= 1000 * size_of::<trace::ResourceSpans>() as u64);
        // The bound holds: what prost decodes is no larger.
        let decoded =
            opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest::decode(
                &body[..],
            )
            .unwrap();
        assert_eq!(decoded.resource_spans.len(), 1000);
    }

    #[test]
    fn nesting_is_followed_through_the_schema() {
        // A span with one attribute holding an array of two strings.
        let value = common::AnyValue {
            value: Some(common::any_value::Value::ArrayValue(common::ArrayValue {
                values: vec![
                    common::AnyValue {
                        value: Some(common::any_value::Value::StringValue("a".into())),
                    },
                    common::AnyValue {
                        value: Some(common::any_value::Value::StringValue("b".into())),
                    },
                ],
            })),
        };
        let request = opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest {
            resource_spans: vec![trace::ResourceSpans {
                scope_spans: vec![trace::ScopeSpans {
                    spans: vec![trace::Span {
                        attributes: vec![common::KeyValue {
                            key: "k".into(),
                            value: Some(value),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let bound = protobuf(Signal::Traces, &request.encode_to_vec());
        let structs = [
            M::ResourceSpans,
            M::ScopeSpans,
            M::Span,
            M::KeyValue,
            M::AnyValue,
            M::ArrayValue,
            M::AnyValue,
            M::AnyValue,
        ]
        .iter()
        .map(|m| 2 * m.size() as u64)
        .sum::<u64>();
        assert!(bound >= structs, "{bound} < {structs}");
        assert!(bound < structs + 200, "{bound}");
    }

    #[test]
    fn realistic_spans_are_bound_to_a_few_times_their_size() {
        // Spans as SDKs send them: ids, a name, times, ten attributes.
        let kv = |k: &str, v: &str| common::KeyValue {
            key: k.into(),
            value: Some(common::AnyValue {
                value: Some(common::any_value::Value::StringValue(v.into())),
            }),
            ..Default::default()
        };
        let span = trace::Span {
            trace_id: vec![7; 16],
            span_id: vec![8; 8],
            parent_span_id: vec![9; 8],
            name: "SELECT orders".into(),
            kind: 3,
            start_time_unix_nano: 1_767_225_600_000_000_000,
            end_time_unix_nano: 1_767_225_600_250_000_000,
            attributes: (0..10)
                .map(|i| kv(&format!("attribute.{i}"), "a value of some length"))
                .collect(),
            ..Default::default()
        };
        let request = opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest {
            resource_spans: vec![trace::ResourceSpans {
                scope_spans: vec![trace::ScopeSpans {
                    spans: vec![span; 512],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
        let body = request.encode_to_vec();
        let ratio = protobuf(Signal::Traces, &body) as f64 / body.len() as f64;
        // An 8 MiB request of such spans fits the default decode budget (32 × 8 MiB) 1.5
        // times over at least.
        println!("realistic spans: bound {ratio:.1}× the body");
        assert!(ratio < 20.0, "{ratio}");
        let empty: Vec<u8> = std::iter::repeat_n([0x12, 0x00], 1000).flatten().collect();
        let scope = [&[0x0a, 0xd3, 0x0f, 0x12, 0xd0, 0x0f][..], &empty[..]].concat();
        let attack = protobuf(Signal::Traces, &scope) as f64 / scope.len() as f64;
        println!("empty spans: bound {attack:.1}× the body");
        assert!(attack > 50.0, "{attack}");
    }

    #[test]
    fn malformed_input_ends_the_walk_without_panicking() {
        for body in [&[0x0a, 0xff][..], &[0x0a, 0x05, 0x01], &[0xff; 11], &[0x0b]] {
            let _ = protobuf(Signal::Metrics, body);
        }
    }
}
