//! OTLP/JSON traces and logs decoded in one pass.
//!
//! `opentelemetry-proto`'s serde derives read `AnyValue` through a `#[serde(flatten)]` field:
//! serde first collects every attribute value's object into an intermediate map of owned keys
//! and values, then reads the value out of that map. Attribute values are most of a span or a
//! log record, so that buffering is most of the time spent decoding them. The definitions here
//! mirror the derives field for field (the same names, the same defaults, the same required
//! fields, integers as numbers or strings, ids as hex, bytes as base64) and read `AnyValue`
//! straight from the JSON. They build the same `opentelemetry-proto` types; every field of
//! each type is named, so a new field in a new version of the types fails to compile here.
//!
//! They are a fast path, not a second definition of what is valid: a body they refuse is
//! decoded again by the derives, whose errors (and proto3 JSON repairs) are what a client sees.
//! `tests` checks that both agree on the OTLP examples and on every field.

use std::fmt;

use base64::Engine as _;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};

/// `body` as a traces request, or `None` when the derives must decide.
pub(super) fn traces(body: &[u8]) -> Option<ExportTraceServiceRequest> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let request = ExportTraceServiceRequestDef::deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(request)
}

/// `body` as a logs request, or `None` when the derives must decide.
pub(super) fn logs(body: &[u8]) -> Option<ExportLogsServiceRequest> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let request = ExportLogsServiceRequestDef::deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(request)
}

/// Newtypes that deserialize a foreign type through its mirror, so that `Vec`s and `Option`s of
/// them can be read with serde's own impls.
macro_rules! through {
    ($($wrapper:ident($def:literal => $ty:ty);)*) => {$(
        #[derive(Deserialize)]
        #[serde(transparent)]
        struct $wrapper(#[serde(with = $def)] $ty);
    )*};
}

through! {
    KeyValueW("KeyValueDef" => KeyValue);
    ResourceW("ResourceDef" => Resource);
    ScopeW("InstrumentationScopeDef" => InstrumentationScope);
    ResourceSpansW("ResourceSpansDef" => ResourceSpans);
    ScopeSpansW("ScopeSpansDef" => ScopeSpans);
    SpanW("SpanDef" => Span);
    EventW("EventDef" => span::Event);
    LinkW("LinkDef" => span::Link);
    ResourceLogsW("ResourceLogsDef" => ResourceLogs);
    ScopeLogsW("ScopeLogsDef" => ScopeLogs);
    LogRecordW("LogRecordDef" => LogRecord);
}

/// `deserialize_with` functions for `Vec<T>` (collected in place: the wrapper has the type's
/// layout, so nothing is copied) and `Option<T>` fields, through a wrapper.
macro_rules! vec_through {
    ($($name:ident: $wrapper:ident => $ty:ty;)*) => {$(
        fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<$ty>, D::Error> {
            Ok(Vec::<$wrapper>::deserialize(d)?.into_iter().map(|w| w.0).collect())
        }
    )*};
}

macro_rules! option_through {
    ($($name:ident: $wrapper:ident => $ty:ty;)*) => {$(
        fn $name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<$ty>, D::Error> {
            Ok(Option::<$wrapper>::deserialize(d)?.map(|w| w.0))
        }
    )*};
}

vec_through! {
    key_values: KeyValueW => KeyValue;
    any_values: AnyValueW => AnyValue;
    resource_spans: ResourceSpansW => ResourceSpans;
    scope_spans: ScopeSpansW => ScopeSpans;
    spans: SpanW => Span;
    events: EventW => span::Event;
    links: LinkW => span::Link;
    resource_logs: ResourceLogsW => ResourceLogs;
    scope_logs: ScopeLogsW => ScopeLogs;
    log_records: LogRecordW => LogRecord;
}

option_through! {
    any_value_opt: AnyValueW => AnyValue;
    resource_opt: ResourceW => Resource;
    scope_opt: ScopeW => InstrumentationScope;
}

#[derive(Deserialize, Default)]
#[serde(
    remote = "ExportTraceServiceRequest",
    rename_all = "camelCase",
    default
)]
struct ExportTraceServiceRequestDef {
    #[serde(deserialize_with = "resource_spans")]
    resource_spans: Vec<ResourceSpans>,
}

#[derive(Deserialize, Default)]
#[serde(remote = "ResourceSpans", rename_all = "camelCase", default)]
struct ResourceSpansDef {
    #[serde(deserialize_with = "resource_opt")]
    resource: Option<Resource>,
    #[serde(deserialize_with = "scope_spans")]
    scope_spans: Vec<ScopeSpans>,
    schema_url: String,
}

#[derive(Deserialize, Default)]
#[serde(remote = "ScopeSpans", rename_all = "camelCase", default)]
struct ScopeSpansDef {
    #[serde(deserialize_with = "scope_opt")]
    scope: Option<InstrumentationScope>,
    #[serde(deserialize_with = "spans")]
    spans: Vec<Span>,
    schema_url: String,
}

#[derive(Deserialize, Default)]
#[serde(remote = "Span", rename_all = "camelCase", default)]
struct SpanDef {
    #[serde(deserialize_with = "hex")]
    trace_id: Vec<u8>,
    #[serde(deserialize_with = "hex")]
    span_id: Vec<u8>,
    trace_state: String,
    #[serde(deserialize_with = "hex")]
    parent_span_id: Vec<u8>,
    flags: u32,
    name: String,
    kind: i32,
    #[serde(deserialize_with = "u64_or_string")]
    start_time_unix_nano: u64,
    #[serde(deserialize_with = "u64_or_string")]
    end_time_unix_nano: u64,
    #[serde(deserialize_with = "key_values")]
    attributes: Vec<KeyValue>,
    dropped_attributes_count: u32,
    #[serde(deserialize_with = "events")]
    events: Vec<span::Event>,
    dropped_events_count: u32,
    #[serde(deserialize_with = "links")]
    links: Vec<span::Link>,
    dropped_links_count: u32,
    status: Option<Status>,
}

#[derive(Deserialize, Default)]
#[serde(remote = "span::Event", rename_all = "camelCase", default)]
struct EventDef {
    #[serde(deserialize_with = "u64_or_string")]
    time_unix_nano: u64,
    name: String,
    #[serde(deserialize_with = "key_values")]
    attributes: Vec<KeyValue>,
    dropped_attributes_count: u32,
}

#[derive(Deserialize, Default)]
#[serde(remote = "span::Link", rename_all = "camelCase", default)]
struct LinkDef {
    #[serde(deserialize_with = "hex")]
    trace_id: Vec<u8>,
    #[serde(deserialize_with = "hex")]
    span_id: Vec<u8>,
    trace_state: String,
    #[serde(deserialize_with = "key_values")]
    attributes: Vec<KeyValue>,
    dropped_attributes_count: u32,
    flags: u32,
}

#[derive(Deserialize, Default)]
#[serde(remote = "ExportLogsServiceRequest", rename_all = "camelCase", default)]
struct ExportLogsServiceRequestDef {
    #[serde(deserialize_with = "resource_logs")]
    resource_logs: Vec<ResourceLogs>,
}

#[derive(Deserialize, Default)]
#[serde(remote = "ResourceLogs", rename_all = "camelCase", default)]
struct ResourceLogsDef {
    #[serde(deserialize_with = "resource_opt")]
    resource: Option<Resource>,
    #[serde(deserialize_with = "scope_logs")]
    scope_logs: Vec<ScopeLogs>,
    schema_url: String,
}

#[derive(Deserialize, Default)]
#[serde(remote = "ScopeLogs", rename_all = "camelCase", default)]
struct ScopeLogsDef {
    #[serde(deserialize_with = "scope_opt")]
    scope: Option<InstrumentationScope>,
    #[serde(deserialize_with = "log_records")]
    log_records: Vec<LogRecord>,
    schema_url: String,
}

#[derive(Deserialize, Default)]
#[serde(remote = "LogRecord", rename_all = "camelCase", default)]
struct LogRecordDef {
    #[serde(deserialize_with = "u64_or_string")]
    time_unix_nano: u64,
    #[serde(deserialize_with = "u64_or_string")]
    observed_time_unix_nano: u64,
    severity_number: i32,
    severity_text: String,
    #[serde(deserialize_with = "any_value_opt")]
    body: Option<AnyValue>,
    #[serde(deserialize_with = "key_values")]
    attributes: Vec<KeyValue>,
    dropped_attributes_count: u32,
    flags: u32,
    #[serde(deserialize_with = "hex")]
    trace_id: Vec<u8>,
    #[serde(deserialize_with = "hex")]
    span_id: Vec<u8>,
    event_name: String,
}

#[derive(Deserialize, Default)]
#[serde(remote = "Resource", rename_all = "camelCase", default)]
struct ResourceDef {
    #[serde(deserialize_with = "key_values")]
    attributes: Vec<KeyValue>,
    dropped_attributes_count: u32,
    entity_refs: Vec<EntityRef>,
}

#[derive(Deserialize, Default)]
#[serde(remote = "InstrumentationScope", rename_all = "camelCase", default)]
struct InstrumentationScopeDef {
    name: String,
    version: String,
    #[serde(deserialize_with = "key_values")]
    attributes: Vec<KeyValue>,
    dropped_attributes_count: u32,
}

/// `KeyValue` has no container default: `key` is required, as in the derives.
#[derive(Deserialize)]
#[serde(remote = "KeyValue", rename_all = "camelCase")]
struct KeyValueDef {
    key: String,
    #[serde(default, deserialize_with = "any_value_opt")]
    value: Option<AnyValue>,
    #[serde(default)]
    key_strindex: i32,
}

/// `ArrayValue.values` and `KeyValueList.values` are required, as in the derives.
#[derive(Deserialize)]
struct ArrayValueDef {
    #[serde(deserialize_with = "any_values")]
    values: Vec<AnyValue>,
}

#[derive(Deserialize)]
struct KeyValueListDef {
    #[serde(deserialize_with = "key_values")]
    values: Vec<KeyValue>,
}

/// An `AnyValue` object read key by key: the last of its value keys that is not `null` wins,
/// unknown keys are skipped (what the derives do).
struct AnyValueW(AnyValue);

impl<'de> Deserialize<'de> for AnyValueW {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(AnyValueVisitor)
    }
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum ValueKey {
    StringValue,
    BoolValue,
    IntValue,
    DoubleValue,
    ArrayValue,
    KvlistValue,
    BytesValue,
    #[serde(other)]
    Other,
}

struct AnyValueVisitor;

impl<'de> Visitor<'de> for AnyValueVisitor {
    type Value = AnyValueW;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object for AnyValue")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<AnyValueW, M::Error> {
        use any_value::Value;
        let mut value = None;
        while let Some(key) = map.next_key::<ValueKey>()? {
            let next = match key {
                ValueKey::StringValue => {
                    map.next_value::<Option<String>>()?.map(Value::StringValue)
                }
                ValueKey::BoolValue => map.next_value::<Option<bool>>()?.map(Value::BoolValue),
                ValueKey::IntValue => map
                    .next_value::<Option<IntOrString>>()?
                    .map(|i| Value::IntValue(i.0)),
                ValueKey::DoubleValue => map.next_value::<Option<f64>>()?.map(Value::DoubleValue),
                ValueKey::ArrayValue => map
                    .next_value::<Option<ArrayValueDef>>()?
                    .map(|a| Value::ArrayValue(ArrayValue { values: a.values })),
                ValueKey::KvlistValue => map
                    .next_value::<Option<KeyValueListDef>>()?
                    .map(|l| Value::KvlistValue(KeyValueList { values: l.values })),
                ValueKey::BytesValue => match map.next_value::<Option<String>>()? {
                    Some(text) => Some(Value::BytesValue(
                        base64::engine::general_purpose::STANDARD
                            .decode(text)
                            .map_err(de::Error::custom)?,
                    )),
                    None => None,
                },
                ValueKey::Other => {
                    map.next_value::<IgnoredAny>()?;
                    None
                }
            };
            if next.is_some() {
                value = next;
            }
        }
        Ok(AnyValueW(AnyValue { value }))
    }
}

/// An `int64` as a JSON number or a decimal string (proto3 JSON writes it as a string).
struct IntOrString(i64);

impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = IntOrString;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer or a string holding one")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<IntOrString, E> {
                Ok(IntOrString(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IntOrString, E> {
                i64::try_from(v).map(IntOrString).map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IntOrString, E> {
                v.parse().map(IntOrString).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// A `fixed64` as a JSON number or a decimal string.
fn u64_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an unsigned integer or a string holding one")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(E::custom)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
            v.parse().map_err(E::custom)
        }
    }
    d.deserialize_any(V)
}

/// Ids: hex strings.
fn hex<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a string representing hex-encoded bytes")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u8>, E> {
            const_hex::decode(v).map_err(E::custom)
        }
    }
    d.deserialize_str(V)
}

#[cfg(test)]
mod tests;
