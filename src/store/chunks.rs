//! Spans as the store keeps them: in *chunks*. A chunk is one trace's spans from one resource
//! in one request, stored as a `span_chunks` row whose `data` is the OTLP protobuf
//! `opentelemetry.proto.trace.v1.ResourceSpans` message holding them — resource, scopes and
//! every span field exactly as received — next to the few columns that search needs (trace id,
//! service, time span, span and error counts, span names).
//!
//! A typical request (512 spans of 32 traces) becomes 32 rows instead of 512, and the
//! per-span work — validating ids and times, grouping by trace, encoding — happens in
//! [`prepare`] on the receiving thread, so that the single writer thread only inserts rows.
//! Reading a trace decodes its chunks ([`spans_of`]).

use std::collections::{HashMap, HashSet};

use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span as OtlpSpan};
use prost::Message as _;
use rusqlite::{Connection, params};

use super::ExportTraceServiceRequest;
use super::convert::{self, Fnv128, attributes, nanos};
use super::ingest::{Outcome, PreparedResource};
use crate::model::trace::{Attributes, Span, SpanEvent, SpanKind, SpanLink, StatusCode};

/// `Status.StatusCode.STATUS_CODE_ERROR`.
const STATUS_ERROR: i32 = 2;

/// A request's spans, validated and grouped into chunks, ready for the writer.
#[derive(Debug, Default)]
pub(crate) struct TraceBatch {
    pub resources: Vec<PreparedResource>,
    pub chunks: Vec<Chunk>,
    /// Spans refused (with reasons); `accepted` is left for the writer to count.
    pub outcome: Outcome,
}

/// One trace's spans from one resource of one request.
#[derive(Debug)]
pub(crate) struct Chunk {
    /// Index into [`TraceBatch::resources`].
    pub resource: usize,
    pub trace_id: String,
    /// A hash of the chunk's span ids: a retried request's chunk is recognised and not stored
    /// twice (`UNIQUE (trace_id, span_ids_hash)`).
    pub span_ids_hash: i64,
    pub start: i64,
    pub end: i64,
    pub spans: i64,
    pub errors: i64,
    /// The name of the trace's root span, when this chunk holds it.
    pub root_name: Option<String>,
    /// The distinct span names, each between newlines (`"\nGET /\nSELECT\n"`), so that a
    /// search by operation is one `instr` per chunk.
    pub names: String,
    /// Encoded `ResourceSpans`, compressed ([`compress`]).
    pub data: Vec<u8>,
}

/// Validates the spans of `req` and groups them by trace and resource into encoded chunks.
/// Invalid spans are refused one by one (OTLP partial success); the rest are kept.
pub(crate) fn prepare(req: ExportTraceServiceRequest) -> TraceBatch {
    prepare_inner(req, None)
}

/// [`prepare`] for a request decoded from the protobuf `wire`: the chunks are made of
/// copies of the request's own bytes (each span's, each resource's and scope's fields)
/// instead of encoding the decoded spans again, which would cost about as much as decoding.
/// `wire` must be the bytes `req` was decoded from; should they not match, the spans are
/// encoded as by [`prepare`].
pub(crate) fn prepare_wire(req: ExportTraceServiceRequest, wire: &[u8]) -> TraceBatch {
    match scan_request(wire) {
        Some(scanned) if same_shape(&req, &scanned) => prepare_inner(req, Some(&scanned)),
        _ => prepare_inner(req, None),
    }
}

fn prepare_inner(
    mut req: ExportTraceServiceRequest,
    wire: Option<&[WireResource<'_>]>,
) -> TraceBatch {
    let mut batch = TraceBatch::default();
    for r in 0..req.resource_spans.len() {
        let rs = &req.resource_spans[r];
        let resource_index = batch.resources.len();
        batch
            .resources
            .push(PreparedResource::new(rs.resource.as_ref(), &rs.schema_url));
        let groups = group_by_trace(rs, &mut batch.outcome);
        if groups.is_empty() {
            continue;
        }
        match wire {
            Some(wire) => {
                let wire = &wire[r];
                for group in groups {
                    let data = group.copy(wire);
                    batch.chunks.push(group.finish(resource_index, data));
                }
            }
            None => {
                let rs = &mut req.resource_spans[r];
                let mut head = Vec::new();
                if let Some(resource) = &rs.resource {
                    prost::encoding::message::encode(1, resource, &mut head);
                }
                if !rs.schema_url.is_empty() {
                    prost::encoding::string::encode(3, &rs.schema_url, &mut head);
                }
                for group in groups {
                    let data = group.encode(&head, &mut rs.scope_spans);
                    batch.chunks.push(group.finish(resource_index, data));
                }
            }
        }
    }
    batch
}

/// The chunks of one resource's spans, in order of first appearance of their trace; spans
/// that cannot be stored are refused into `outcome`.
fn group_by_trace(rs: &ResourceSpans, outcome: &mut Outcome) -> Vec<Group> {
    let mut groups: Vec<Building<'_>> = Vec::new();
    let mut by_trace: HashMap<[u8; 16], usize> = HashMap::new();
    for (s, ss) in rs.scope_spans.iter().enumerate() {
        for (k, span) in ss.spans.iter().enumerate() {
            let trace_id = match check(span) {
                Ok(id) => id,
                Err(reason) => {
                    outcome.reject(reason);
                    continue;
                }
            };
            let at = *by_trace.entry(trace_id).or_insert_with(|| {
                groups.push(Building::new(&span.trace_id));
                groups.len() - 1
            });
            groups[at].add(span, s, k);
        }
    }
    groups.into_iter().map(Building::done).collect()
}

/// A chunk being assembled: what search needs, and which spans belong to it.
struct Building<'a> {
    group: Group,
    seen: HashSet<&'a str>,
}

/// A chunk's summary, and its spans as (scope index, span index) in their resource.
struct Group {
    trace_id: String,
    members: Vec<(usize, usize)>,
    ids: Fnv128,
    start: i64,
    end: i64,
    spans: i64,
    errors: i64,
    root_name: Option<String>,
    names: String,
}

impl<'a> Building<'a> {
    fn new(trace_id: &[u8]) -> Building<'a> {
        Building {
            group: Group {
                trace_id: convert::hex(trace_id),
                members: Vec::new(),
                ids: Fnv128::new(),
                start: i64::MAX,
                end: i64::MIN,
                spans: 0,
                errors: 0,
                root_name: None,
                names: String::from("\n"),
            },
            seen: HashSet::new(),
        }
    }

    /// Adds a span that [`check`] accepted.
    fn add(&mut self, span: &'a OtlpSpan, scope: usize, index: usize) {
        let g = &mut self.group;
        // Checked: both fit in an i64.
        g.start = g.start.min(span.start_time_unix_nano as i64);
        g.end = g.end.max(span.end_time_unix_nano as i64);
        g.spans += 1;
        g.ids.bytes(&span.span_id);
        g.members.push((scope, index));
        if span.status.as_ref().is_some_and(|s| s.code == STATUS_ERROR) {
            g.errors += 1;
        }
        if span.parent_span_id.is_empty() {
            g.root_name = Some(span.name.clone());
        }
        if self.seen.insert(span.name.as_str()) {
            g.names.push_str(&span.name);
            g.names.push('\n');
        }
    }

    fn done(self) -> Group {
        self.group
    }
}

impl Group {
    /// The members' scopes in order, each with its run of members.
    fn runs(&self) -> impl Iterator<Item = (usize, &[(usize, usize)])> {
        self.members
            .chunk_by(|a, b| a.0 == b.0)
            .map(|run| (run[0].0, run))
    }

    /// The chunk's `ResourceSpans`, encoded from the decoded spans (moved out of `scopes`).
    fn encode(&self, head: &[u8], scopes: &mut [ScopeSpans]) -> Vec<u8> {
        let mut data = head.to_vec();
        for (s, run) in self.runs() {
            let ss = &mut scopes[s];
            let part = ScopeSpans {
                scope: ss.scope.clone(),
                spans: run
                    .iter()
                    .map(|&(_, k)| std::mem::take(&mut ss.spans[k]))
                    .collect(),
                schema_url: ss.schema_url.clone(),
            };
            prost::encoding::message::encode(2, &part, &mut data);
        }
        data
    }

    /// The chunk's `ResourceSpans`, copied from the request's bytes: the resource's own
    /// fields, then per scope a `scope_spans` field holding the scope's own fields and the
    /// members' span fields, each byte for byte.
    fn copy(&self, wire: &WireResource<'_>) -> Vec<u8> {
        let mut data = Vec::new();
        for field in &wire.head {
            data.extend_from_slice(field);
        }
        for (s, run) in self.runs() {
            let scope = &wire.scopes[s];
            let len: usize = scope.head.iter().map(|f| f.len()).sum::<usize>()
                + run
                    .iter()
                    .map(|&(_, k)| scope.spans[k].len())
                    .sum::<usize>();
            prost::encoding::encode_key(2, prost::encoding::WireType::LengthDelimited, &mut data);
            prost::encoding::encode_varint(len as u64, &mut data);
            for field in &scope.head {
                data.extend_from_slice(field);
            }
            for &(_, k) in run {
                data.extend_from_slice(scope.spans[k]);
            }
        }
        data
    }

    fn finish(mut self, resource: usize, data: Vec<u8>) -> Chunk {
        let hash = self.ids.int(self.spans).finish();
        Chunk {
            resource,
            trace_id: self.trace_id,
            span_ids_hash: i64::from_be_bytes(hash[..8].try_into().unwrap_or_default()),
            start: self.start,
            end: self.end,
            spans: self.spans,
            errors: self.errors,
            root_name: self.root_name,
            names: self.names,
            data: compress(&data),
        }
    }
}

/// A chunk's trace id, span ids hash, spans, errors, start, end, root name, names, and its
/// `ResourceSpans` decoded and encoded again: what two ways of preparing must agree on.
type Contents = (
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<String>,
    String,
    Vec<u8>,
);

fn contents(batch: &TraceBatch) -> Result<Vec<Contents>, String> {
    batch
        .chunks
        .iter()
        .map(|c| {
            Ok((
                c.trace_id.clone(),
                c.span_ids_hash,
                c.spans,
                c.errors,
                c.start,
                c.end,
                c.root_name.clone(),
                c.names.clone(),
                decode(&c.data)?.encode_to_vec(),
            ))
        })
        .collect()
}

/// For the fuzz target `prepare_traces`: whether the chunks copied from `wire` hold exactly
/// what chunks encoded from its decoded request hold. `None` when `wire` does not decode.
#[doc(hidden)]
pub fn copied_chunks_match_encoded(wire: &[u8]) -> Option<Result<(), String>> {
    let req = ExportTraceServiceRequest::decode(wire).ok()?;
    let copied = prepare_wire(req.clone(), wire);
    let encoded = prepare(req);
    Some(match (contents(&copied), contents(&encoded)) {
        (Ok(a), Ok(b)) if a == b && copied.outcome == encoded.outcome => Ok(()),
        (a, b) => Err(format!("copied {a:?}\nencoded {b:?}")),
    })
}

// -------------------------------------------------------------------------------------------
// The request's wire format, field by field, for copying.

/// One `ResourceSpans` of a request: its fields other than `scope_spans` (resource, schema
/// URL, unknown fields), and its scopes.
struct WireResource<'a> {
    head: Vec<&'a [u8]>,
    scopes: Vec<WireScope<'a>>,
}

/// One `ScopeSpans`: its fields other than `spans`, and each span field (key and length
/// included).
struct WireScope<'a> {
    head: Vec<&'a [u8]>,
    spans: Vec<&'a [u8]>,
}

/// Splits an `ExportTraceServiceRequest` into its resources, scopes and spans, or `None` if
/// the bytes are not the well-formed message prost has just decoded them as (they always
/// are; a group-encoded field, which OTLP never uses, also gives `None`).
fn scan_request(wire: &[u8]) -> Option<Vec<WireResource<'_>>> {
    let mut resources = Vec::new();
    for (number, field, value) in Fields(wire) {
        field?;
        if number == (1, 2) {
            let value = value?;
            let mut head = Vec::new();
            let mut scopes = Vec::new();
            for (number, field, value) in Fields(value) {
                let (field, value) = (field?, value?);
                if number == (2, 2) {
                    let mut scope = WireScope {
                        head: Vec::new(),
                        spans: Vec::new(),
                    };
                    for (number, field, _) in Fields(value) {
                        let field = field?;
                        if number == (2, 2) {
                            scope.spans.push(field);
                        } else {
                            scope.head.push(field);
                        }
                    }
                    scopes.push(scope);
                } else {
                    head.push(field);
                }
            }
            resources.push(WireResource { head, scopes });
        }
    }
    Some(resources)
}

/// Whether the scan found the decoded request's resources, scopes and spans.
fn same_shape(req: &ExportTraceServiceRequest, wire: &[WireResource<'_>]) -> bool {
    req.resource_spans.len() == wire.len()
        && req.resource_spans.iter().zip(wire).all(|(rs, w)| {
            rs.scope_spans.len() == w.scopes.len()
                && rs
                    .scope_spans
                    .iter()
                    .zip(&w.scopes)
                    .all(|(ss, ws)| ss.spans.len() == ws.spans.len())
        })
}

/// The fields of a message: ((field number, wire type), the whole field, its value). A
/// malformed field yields `None`s and ends the iteration.
struct Fields<'a>(&'a [u8]);

type WireField<'a> = ((u64, u8), Option<&'a [u8]>, Option<&'a [u8]>);

impl<'a> Iterator for Fields<'a> {
    type Item = WireField<'a>;

    fn next(&mut self) -> Option<WireField<'a>> {
        if self.0.is_empty() {
            return None;
        }
        let whole = self.0;
        let parsed = (|| {
            let mut rest = whole;
            let key = varint(&mut rest)?;
            let wire_type = (key & 7) as u8;
            let (value_start, value_len) = match wire_type {
                0 => {
                    let at = whole.len() - rest.len();
                    varint(&mut rest)?;
                    (at, whole.len() - rest.len() - at)
                }
                1 => (whole.len() - rest.len(), 8),
                2 => {
                    let len = usize::try_from(varint(&mut rest)?).ok()?;
                    (whole.len() - rest.len(), len)
                }
                5 => (whole.len() - rest.len(), 4),
                _ => return None,
            };
            let end = value_start.checked_add(value_len)?;
            let value = whole.get(value_start..end)?;
            Some(((key >> 3, wire_type), end, value))
        })();
        match parsed {
            Some((number, end, value)) => {
                self.0 = &whole[end..];
                Some((number, Some(&whole[..end]), Some(value)))
            }
            None => {
                self.0 = &[];
                Some(((0, 0), None, None))
            }
        }
    }
}

/// A protobuf varint, advancing `buf` past it.
fn varint(buf: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for i in 0..10 {
        let byte = *buf.get(i)?;
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            *buf = &buf[i + 1..];
            return Some(value);
        }
    }
    None
}

/// The largest chunk [`decompress`] accepts: far above any request the sink takes, and a
/// bound on what a damaged length prefix can make it allocate.
const MAX_CHUNK_BYTES: usize = 1 << 30;

/// `data` as stored: an LZ4 block (little-endian u32 uncompressed length, then the block).
/// Span attributes repeat their keys and often their values; a chunk shrinks 3–5×, which
/// is that much less to write to the WAL and copy into the database file.
fn compress(data: &[u8]) -> Vec<u8> {
    lz4_flex::block::compress_prepend_size(data)
}

fn decompress(data: &[u8]) -> Result<Vec<u8>, String> {
    let len = data
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
        .ok_or("truncated span chunk")?;
    if len as usize > MAX_CHUNK_BYTES {
        return Err(format!("span chunk claims {len} bytes"));
    }
    lz4_flex::block::decompress_size_prepended(data).map_err(|e| format!("damaged span chunk: {e}"))
}

/// The span's trace id when the span can be stored; otherwise why not.
fn check(span: &OtlpSpan) -> Result<[u8; 16], String> {
    let ctx = |e: String| format!("span {:?}: {e}", span.name);
    let required = |bytes: &[u8], len: usize, what: &str, missing: &str| {
        let present = convert::check_id(bytes, len, what).map_err(ctx)?;
        present
            .then_some(())
            .ok_or_else(|| ctx(missing.to_string()))
    };
    required(&span.trace_id, 16, "trace id", "missing trace id")?;
    required(&span.span_id, 8, "span id", "missing span id")?;
    convert::check_id(&span.parent_span_id, 8, "parent span id").map_err(ctx)?;
    nanos(span.start_time_unix_nano, "start time").map_err(ctx)?;
    nanos(span.end_time_unix_nano, "end time").map_err(ctx)?;
    for e in &span.events {
        nanos(e.time_unix_nano, "event time").map_err(ctx)?;
    }
    for l in &span.links {
        required(&l.trace_id, 16, "link trace id", "link without trace id")?;
        required(&l.span_id, 8, "link span id", "link without span id")?;
    }
    span.trace_id
        .as_slice()
        .try_into()
        .map_err(|_| ctx("invalid trace id".into()))
}

/// Appends the spans of the chunk `data` (of a resource whose service is `service`) to `out`.
pub(crate) fn spans_of(data: &[u8], service: &str, out: &mut Vec<Span>) -> Result<(), String> {
    let rs = decode(data)?;
    let resource: Attributes = rs
        .resource
        .as_ref()
        .map(|r| attributes(&r.attributes))
        .unwrap_or_default();
    for ss in rs.scope_spans {
        let scope = ss
            .scope
            .as_ref()
            .map(|s| s.name.clone())
            .filter(|s| !s.is_empty());
        for span in ss.spans {
            out.push(model_span(span, service, &resource, scope.clone()));
        }
    }
    Ok(())
}

/// A stored chunk's `data` as the `ResourceSpans` it holds.
pub(crate) fn decode(data: &[u8]) -> Result<ResourceSpans, String> {
    let data = decompress(data)?;
    ResourceSpans::decode(data.as_slice()).map_err(|e| format!("undecodable span chunk: {e}"))
}

fn model_span(span: OtlpSpan, service: &str, resource: &Attributes, scope: Option<String>) -> Span {
    let (status, status_message) = span
        .status
        .map(|s| {
            let code = match s.code {
                1 => StatusCode::Ok,
                STATUS_ERROR => StatusCode::Error,
                _ => StatusCode::Unset,
            };
            (code, s.message)
        })
        .unwrap_or((StatusCode::Unset, String::new()));
    Span {
        trace_id: convert::hex(&span.trace_id),
        span_id: convert::hex(&span.span_id),
        parent_span_id: (!span.parent_span_id.is_empty())
            .then(|| convert::hex(&span.parent_span_id)),
        name: span.name,
        service: service.to_string(),
        kind: match span.kind {
            1 => SpanKind::Internal,
            2 => SpanKind::Server,
            3 => SpanKind::Client,
            4 => SpanKind::Producer,
            5 => SpanKind::Consumer,
            _ => SpanKind::Unspecified,
        },
        start_unix_nano: span.start_time_unix_nano.min(i64::MAX as u64) as i64,
        end_unix_nano: span.end_time_unix_nano.min(i64::MAX as u64) as i64,
        status,
        status_message,
        attributes: attributes(&span.attributes),
        resource: resource.clone(),
        scope,
        events: span
            .events
            .into_iter()
            .map(|e| SpanEvent {
                time_unix_nano: e.time_unix_nano.min(i64::MAX as u64) as i64,
                name: e.name,
                attributes: attributes(&e.attributes),
            })
            .collect(),
        links: span
            .links
            .into_iter()
            .map(|l| SpanLink {
                trace_id: convert::hex(&l.trace_id),
                span_id: convert::hex(&l.span_id),
                attributes: attributes(&l.attributes),
            })
            .collect(),
    }
}

/// Inserts `chunk` (of a resource whose service is `service`); `false` when the same chunk is
/// already stored (a retried request).
pub(crate) fn insert(conn: &Connection, chunk: &Chunk, service: &str) -> rusqlite::Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO span_chunks (trace_id, span_ids_hash, service, start_ns, end_ns,
                span_count, error_count, root_name, names, data)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?
        .execute(params![
            chunk.trace_id,
            chunk.span_ids_hash,
            service,
            chunk.start,
            chunk.end,
            chunk.spans,
            chunk.errors,
            chunk.root_name,
            chunk.names,
            chunk.data,
        ])?;
    Ok(n > 0)
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::common::v1::{
        AnyValue, InstrumentationScope, KeyValue, any_value::Value,
    };
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::Status;

    use super::*;

    fn kv(key: &str, v: &str) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue {
                value: Some(Value::StringValue(v.into())),
            }),
            ..Default::default()
        }
    }

    fn span(trace: u8, id: u8, parent: Option<u8>, name: &str) -> OtlpSpan {
        OtlpSpan {
            trace_id: vec![trace; 16],
            span_id: vec![id; 8],
            parent_span_id: parent.map(|p| vec![p; 8]).unwrap_or_default(),
            name: name.into(),
            start_time_unix_nano: 1_000 + u64::from(id),
            end_time_unix_nano: 2_000 + u64::from(id),
            attributes: vec![kv("k", name)],
            status: Some(Status {
                code: i32::from(id.is_multiple_of(3)) * 2,
                message: String::new(),
            }),
            ..Default::default()
        }
    }

    fn scope(name: &str, spans: Vec<OtlpSpan>) -> ScopeSpans {
        ScopeSpans {
            scope: Some(InstrumentationScope {
                name: name.into(),
                version: "1".into(),
                ..Default::default()
            }),
            spans,
            schema_url: format!("https://example.com/{name}"),
        }
    }

    /// Two resources (one without a resource message), scopes with interleaved traces, and a
    /// span with an invalid id in the middle.
    fn request() -> ExportTraceServiceRequest {
        let mut bad = span(1, 9, Some(1), "bad");
        bad.span_id = vec![1, 2, 3];
        ExportTraceServiceRequest {
            resource_spans: vec![
                ResourceSpans {
                    resource: Some(Resource {
                        attributes: vec![kv("service.name", "api")],
                        ..Default::default()
                    }),
                    scope_spans: vec![
                        scope(
                            "http",
                            vec![
                                span(1, 1, None, "GET /"),
                                span(2, 2, None, "GET /"),
                                bad,
                                span(1, 3, Some(1), "auth"),
                            ],
                        ),
                        scope("empty", vec![]),
                        scope(
                            "sql",
                            vec![span(2, 4, Some(2), "SELECT"), span(1, 5, Some(1), "SELECT")],
                        ),
                    ],
                    schema_url: "https://example.com/r".into(),
                },
                ResourceSpans {
                    resource: None,
                    scope_spans: vec![scope("x", vec![span(3, 6, None, "cron")])],
                    schema_url: String::new(),
                },
            ],
        }
    }

    fn contents(batch: &TraceBatch) -> Vec<Contents> {
        super::contents(batch).expect("every chunk decodes")
    }

    #[test]
    fn copied_chunks_hold_exactly_what_encoded_chunks_hold() {
        let req = request();
        let wire = req.encode_to_vec();
        let encoded = prepare(req.clone());
        let copied = prepare_wire(req, &wire);
        assert!(scan_request(&wire).is_some(), "the copying path was taken");
        assert_eq!(contents(&copied), contents(&encoded));
        assert_eq!(encoded.outcome.rejected, 1);
        assert_eq!(copied.outcome.rejected, 1);
        // trace 1 and 2 of the first resource, trace 3 of the second.
        let summary: Vec<(String, i64, String)> = encoded
            .chunks
            .iter()
            .map(|c| (c.trace_id.clone(), c.spans, c.names.clone()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("01".repeat(16), 3, "\nGET /\nauth\nSELECT\n".to_string()),
                ("02".repeat(16), 2, "\nGET /\nSELECT\n".to_string()),
                ("03".repeat(16), 1, "\ncron\n".to_string()),
            ]
        );
        let first = decode(&encoded.chunks[0].data).unwrap();
        assert_eq!(first.schema_url, "https://example.com/r");
        let scopes: Vec<(&str, usize)> = first
            .scope_spans
            .iter()
            .map(|s| (s.scope.as_ref().unwrap().name.as_str(), s.spans.len()))
            .collect();
        assert_eq!(scopes, vec![("http", 2), ("sql", 1)]);
    }

    #[test]
    fn mangled_requests_that_still_decode_are_copied_faithfully() {
        // Any bytes prost accepts (unknown fields, repeated singular fields, odd varints) must
        // give chunks that decode to what prost decoded.
        let base = request().encode_to_vec();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut rand = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut decoded = 0;
        for _ in 0..20_000 {
            let mut wire = base.clone();
            for _ in 0..1 + rand() % 3 {
                let at = rand() as usize % wire.len();
                match rand() % 3 {
                    0 => wire[at] = rand() as u8,
                    1 => wire.insert(at, rand() as u8),
                    _ => {
                        wire.remove(at);
                    }
                }
            }
            let Ok(req) = ExportTraceServiceRequest::decode(wire.as_slice()) else {
                continue;
            };
            decoded += 1;
            assert_eq!(
                contents(&prepare_wire(req.clone(), &wire)),
                contents(&prepare(req)),
                "{wire:?}"
            );
        }
        assert!(decoded > 1_000, "only {decoded} mangled requests decoded");
    }

    #[test]
    fn bytes_that_are_not_the_request_fall_back_to_encoding() {
        let req = request();
        let other = ExportTraceServiceRequest::default().encode_to_vec();
        assert_eq!(
            contents(&prepare_wire(req.clone(), &other)),
            contents(&prepare(req.clone()))
        );
        assert_eq!(
            contents(&prepare_wire(req.clone(), &[0xff, 0xff])),
            contents(&prepare(req))
        );
    }
}
