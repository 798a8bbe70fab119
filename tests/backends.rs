//! The Tempo, Jaeger and Loki clients against recorded real responses (`fixtures/real/`, see
//! its README for the exact requests that produced them), served by `support::recorded`. Each route matches
//! the method, the path and the query parameters obs sends, so a request obs builds wrongly gets
//! wiremock's 404 and the test fails.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use obs::config::HttpSettings;
use obs::source::http::{HttpClient, SourceError};
use obs::source::jaeger::Jaeger;
use obs::source::loki::Loki;
use obs::source::tempo::{SearchMode, Tempo};
use obs::source::{Direction, TraceSearch};
use serde_json::Value;
use wiremock::{MockServer, Request, Respond, ResponseTemplate};

use crate::support::recorded::{INCIDENT, OK, Recorded, fixture, json_body};

fn client(backend: &'static str, url: &str, timeout: Duration) -> HttpClient {
    HttpClient::new(
        backend,
        &HttpSettings {
            url: url.to_string(),
            tenant: None,
            auth: None,
            headers: BTreeMap::new(),
            ca_file: None,
            timeout,
        },
    )
    .unwrap()
}

fn tempo(server: &MockServer) -> Tempo {
    Tempo::new(client("tempo", &server.uri(), Duration::from_secs(10)))
}

#[tokio::test]
async fn tempo_trace_by_id_converts_both_recorded_traces() {
    let server = Recorded::start().await.with_tempo_traces().await;
    let t = tempo(&server);
    let incident = t.trace(INCIDENT).await.unwrap().unwrap();
    assert_eq!(incident.trace_id, INCIDENT);
    assert_eq!(incident.spans.len(), 20);
    assert!(incident.spans.iter().any(|s| {
        s.exception()
            .is_some_and(|(kind, _)| kind.ends_with("PoolTimeout"))
    }));
    // Upper case is accepted and normalised before the request.
    let ok = t.trace(&OK.to_uppercase()).await.unwrap().unwrap();
    assert_eq!(ok.spans.len(), 18);
    assert!(ok.spans.iter().all(|s| !s.is_error()));
}

#[tokio::test]
async fn tempo_search_ids_without_leading_zero_are_padded_and_found_again() {
    // Tempo's search drops the leading zero of 0eec28f0… (31 characters); looking the trace up
    // again works (the recorded lookup of the 31-character id returned the trace; Tempo pads
    // ids itself, so the padded request obs sends gets the same answer).
    let server = Recorded::start().await;
    server
        .get("/api/search")
        .query("tags", "service.name=checkout")
        .query("limit", "20")
        .query("start", "1795238300")
        .query("end", "1795238900")
        .query_missing("q")
        .json("tempo/search_tags_service_checkout.json")
        .await;
    server
        .get("/api/traces/0eec28f002d3299c1507b75eb8fb23af")
        .json("tempo/trace_by_id_leading_zero_31hex_from_search.json")
        .await;
    let t = tempo(&server).with_search_mode(SearchMode::Tags);
    let hits = t
        .search(&TraceSearch {
            service: Some("checkout".into()),
            start: 1795238300.0,
            end: 1795238900.0,
            limit: 20,
            ..TraceSearch::default()
        })
        .await
        .unwrap();
    assert_eq!(hits.len(), 6);
    let padded = hits
        .iter()
        .find(|h| h.trace_id.ends_with("eec28f002d3299c1507b75eb8fb23af"))
        .unwrap();
    assert_eq!(padded.trace_id, "0eec28f002d3299c1507b75eb8fb23af");
    assert_eq!(padded.root_service.as_deref(), Some("frontend"));
    assert_eq!(padded.duration_ms, 132.0);
    let trace = t
        .trace("eec28f002d3299c1507b75eb8fb23af")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(trace.trace_id, "0eec28f002d3299c1507b75eb8fb23af");
}

#[tokio::test]
async fn tempo_unknown_trace_is_none_and_a_rejected_id_is_an_error_in_tempos_words() {
    let server = Recorded::start().await;
    server
        .get("/api/traces/0123456789abcdef0123456789abcdef")
        .text(
            404,
            "tempo/trace_by_id_not_found_404.txt",
            "text/plain; charset=utf-8",
        )
        .await;
    // obs never sends a non-hex id (it validates first), so Tempo's recorded answer to one is
    // served for a valid id here, to check that a 400 is reported with Tempo's own text.
    server
        .get("/api/traces/00000000000000000000000000000bad")
        .text(
            400,
            "tempo/trace_by_id_invalid_id_400.txt",
            "text/plain; charset=utf-8",
        )
        .await;
    let t = tempo(&server);
    assert!(
        t.trace("0123456789abcdef0123456789abcdef")
            .await
            .unwrap()
            .is_none()
    );
    let err = t.trace("bad").await.unwrap_err().to_string();
    assert!(err.contains("tempo at http://"), "{err}");
    assert!(
        err.contains("/api/traces/00000000000000000000000000000bad"),
        "{err}"
    );
    assert!(err.contains("HTTP 400"), "{err}");
    assert!(
        err.contains("trace IDs can only contain hex characters"),
        "{err}"
    );
}

#[tokio::test]
async fn tempo_traceql_search_sends_the_recorded_query_and_reads_span_sets() {
    let server = Recorded::start().await;
    server
        .get("/api/search")
        .query(
            "q",
            r#"{ status = error && resource.service.name = "checkout" }"#,
        )
        .query("limit", "20")
        .query("start", "1795238300")
        .query("end", "1795238900")
        .json("tempo/search_traceql_error_status_checkout.json")
        .await;
    server
        .get("/api/search")
        .query("q", "{ span.http.status_code = }")
        .text(
            400,
            "tempo/search_traceql_parse_error_400.txt",
            "text/plain; charset=utf-8",
        )
        .await;
    let t = tempo(&server);
    let window = TraceSearch {
        start: 1795238300.0,
        end: 1795238900.0,
        limit: 20,
        ..TraceSearch::default()
    };
    let hits = t
        .search(&TraceSearch {
            service: Some("checkout".into()),
            errors_only: true,
            ..window.clone()
        })
        .await
        .unwrap();
    let ids: Vec<&str> = hits.iter().map(|h| h.trace_id.as_str()).collect();
    assert_eq!(ids, ["878a071dcabe59b889f15e96d853e4d5", INCIDENT]);
    assert!(hits.iter().all(|h| h.has_error == Some(true)));
    assert_eq!(hits[1].start_unix_nano, 1795238604757521408);
    assert_eq!(hits[1].root_name.as_deref(), Some("GET /checkout"));

    let err = t
        .search(&TraceSearch {
            native: Some("{ span.http.status_code = }".into()),
            ..window
        })
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid TraceQL query: parse error"), "{err}");
    assert!(err.contains("/api/search"), "{err}");
}

#[tokio::test]
async fn tempo_tag_search_with_min_duration_and_without_results() {
    let server = Recorded::start().await;
    server
        .get("/api/search")
        .query("tags", "service.name=frontend")
        .query("minDuration", "1s")
        .query("limit", "20")
        .query_missing("start")
        .json("tempo/search_tags_min_duration.json")
        .await;
    server
        .get("/api/search")
        .query("tags", "service.name=checkout http.status_code=500")
        .query("start", "1795238300")
        .json("tempo/search_tags_checkout_http_500.json")
        .await;
    server
        .get("/api/search")
        .query("tags", "service.name=does-not-exist")
        .json("tempo/search_tags_no_results.json")
        .await;
    let t = tempo(&server).with_search_mode(SearchMode::Tags);
    let slow = t
        .search(&TraceSearch {
            service: Some("frontend".into()),
            min_duration: Some(Duration::from_secs(1)),
            limit: 20,
            ..TraceSearch::default()
        })
        .await
        .unwrap();
    assert_eq!(slow.len(), 2);
    assert!(slow.iter().all(|h| h.duration_ms >= 1000.0));
    let http500 = t
        .search(&TraceSearch {
            service: Some("checkout".into()),
            tags: vec![("http.status_code".into(), "500".into())],
            start: 1795238300.0,
            end: 1795238900.0,
            limit: 20,
            ..TraceSearch::default()
        })
        .await
        .unwrap();
    assert!(!http500.is_empty());
    let none = t
        .search(&TraceSearch {
            service: Some("does-not-exist".into()),
            start: 1795238300.0,
            end: 1795238900.0,
            limit: 20,
            ..TraceSearch::default()
        })
        .await
        .unwrap();
    assert!(none.is_empty());
}

/// Jaeger's `GET /api/traces/{id}` envelope around a trace object.
fn envelope(trace: Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "data": [trace], "total": 0, "limit": 0, "offset": 0, "errors": null
    }))
    .unwrap()
}

#[tokio::test]
async fn jaeger_trace_by_id_reads_both_envelopes_and_the_ui_model_trace() {
    let server = Recorded::start().await;
    for (id, file) in [
        (
            "83a9efd15c1c98a977e0711cc93ee28b",
            "jaeger/api_traces_by_id_response_envelope.json",
        ),
        (
            "c620759e5d60fafb8ee0922b30e06bc6",
            "jaeger/api_traces_response_envelope_multi_span.json",
        ),
    ] {
        server.get(format!("/api/traces/{id}")).json(file).await;
    }
    // ui_01.json is one trace object of the query service's UI model, which is exactly what sits
    // in `data[]` of the `structuredResponse` envelope that `GET /api/traces/{id}` returns; it is
    // served here wrapped in that envelope (the envelope's other fields as in the recorded one).
    let ui: Value =
        serde_json::from_slice(&fixture("jaeger/ui_model_single_trace_ui_01.json")).unwrap();
    server
        .get("/api/traces/00000000000000000000000000000001")
        .respond(ResponseTemplate::new(200).set_body_raw(envelope(ui), "application/json"))
        .await;
    let j = Jaeger::new(client("jaeger", &server.uri(), Duration::from_secs(10)));

    let t = j
        .trace("83a9efd15c1c98a977e0711cc93ee28b")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.spans.len(), 2);
    assert_eq!(t.spans[0].service, "telemetrygen");

    let t = j
        .trace("c620759e5d60fafb8ee0922b30e06bc6")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.spans.len(), 4);
    assert!(t.spans.iter().all(|s| s.service == "example-trace"));
    let root = t.spans.iter().find(|s| s.parent_span_id.is_none()).unwrap();
    assert_eq!(root.name, "main");

    // A 64-bit Jaeger id ("0000000000000001") is left-padded to 32 characters.
    let t = j.trace("0000000000000001").await.unwrap().unwrap();
    assert_eq!(t.spans.len(), 5);
    assert_eq!(
        t.spans.iter().filter(|s| s.service == "service-y").count(),
        3
    );
}

#[tokio::test]
async fn jaeger_search_sends_service_operation_tags_duration_and_time() {
    // The search endpoint answers with the same envelope, `data[]` holding whole traces; the
    // recorded multi-span envelope is served as that answer.
    let server = Recorded::start().await;
    server
        .get("/api/traces")
        .query("service", "example-trace")
        .query("operation", "main")
        .query("tags", r#"{"error":"true","http.method":"GET"}"#)
        .query("minDuration", "100ms")
        .query("start", "1711138246000000")
        .query("end", "1711138247000000")
        .query("limit", "20")
        .json("jaeger/api_traces_response_envelope_multi_span.json")
        .await;
    let j = Jaeger::new(client("jaeger", &server.uri(), Duration::from_secs(10)));
    let hits = j
        .search(&TraceSearch {
            service: Some("example-trace".into()),
            operation: Some("main".into()),
            tags: vec![("http.method".into(), "GET".into())],
            min_duration: Some(Duration::from_millis(100)),
            errors_only: true,
            start: 1711138246.0,
            end: 1711138247.0,
            limit: 20,
            native: None,
        })
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    let h = &hits[0];
    assert_eq!(h.trace_id, "c620759e5d60fafb8ee0922b30e06bc6");
    assert_eq!(h.root_name.as_deref(), Some("main"));
    assert_eq!(h.root_service.as_deref(), Some("example-trace"));
    assert_eq!(h.span_count, Some(4));
    assert!((h.duration_ms - 176.321).abs() < 1e-6, "{}", h.duration_ms);
    // Jaeger cannot search without a service.
    let err = j.search(&TraceSearch::default()).await.unwrap_err();
    assert!(err.to_string().contains("--service"), "{err}");
}

fn loki(server: &MockServer) -> Loki {
    Loki::new(client("loki", &server.uri(), Duration::from_secs(10)))
}

const START_NS: i64 = 1_795_238_354_000_000_000;
const END_NS: i64 = 1_795_238_850_000_000_000;

#[tokio::test]
async fn loki_streams_become_records_with_service_level_and_trace_id() {
    let server = Recorded::start().await;
    server
        .get("/loki/api/v1/query_range")
        .query(
            "query",
            r#"{job="shop"} |= "aa3683ad52e9b569c004436d55771b03""#,
        )
        .query("start", START_NS.to_string())
        .query("end", END_NS.to_string())
        .query("limit", "100")
        .query("direction", "backward")
        .json("loki/query_range_logs_line_filter_traceid.json")
        .await;
    server
        .get("/loki/api/v1/query_range")
        .query("query", r#"{job="shop"}"#)
        .query("limit", "5")
        .query("direction", "forward")
        .json("loki/query_range_logs_forward_limit5.json")
        .await;
    let l = loki(&server);
    let (records, truncated) = l
        .query_range(
            r#"{job="shop"} |= "aa3683ad52e9b569c004436d55771b03""#,
            START_NS,
            END_NS,
            100,
            Direction::Backward,
        )
        .await
        .unwrap();
    assert!(!truncated);
    assert_eq!(records.len(), 3);
    // Newest first, across streams.
    assert!(
        records
            .windows(2)
            .all(|w| w[0].timestamp_unix_nano >= w[1].timestamp_unix_nano)
    );
    for r in &records {
        assert_eq!(r.trace_id.as_deref(), Some(INCIDENT));
    }
    let checkout = records
        .iter()
        .find(|r| r.service.as_deref() == Some("checkout"))
        .unwrap();
    assert_eq!(checkout.severity.as_deref(), Some("error"));
    assert_eq!(checkout.span_id.as_deref(), Some("c67b3f57b2224c38"));
    assert!(checkout.body.contains("PoolTimeout"));
    assert_eq!(checkout.labels["job"], "shop");

    let (records, truncated) = l
        .query_range(r#"{job="shop"}"#, START_NS, END_NS, 5, Direction::Forward)
        .await
        .unwrap();
    assert_eq!(records.len(), 5);
    assert!(truncated, "a full answer may have more behind it");
    assert!(
        records
            .windows(2)
            .all(|w| w[0].timestamp_unix_nano <= w[1].timestamp_unix_nano)
    );
    assert_eq!(records[0].service.as_deref(), Some("frontend"));
}

/// Serves the 20 recorded lines of `loki/query_range_logs_json_parser_errors.json` the way Loki
/// pages: the lines in [start, end), in `direction` order, at most `limit`, each in its recorded
/// stream, in the recorded response shape (its `stats` object kept as it was). It records the
/// (start, end, limit) of every request.
struct PagingLoki {
    lines: Vec<(i64, Value, String)>,
    stats: Value,
    seen: Arc<Mutex<Vec<(i64, i64, usize)>>>,
}

impl PagingLoki {
    fn new(seen: Arc<Mutex<Vec<(i64, i64, usize)>>>) -> PagingLoki {
        let d: Value =
            serde_json::from_slice(&fixture("loki/query_range_logs_json_parser_errors.json"))
                .unwrap();
        let mut lines = Vec::new();
        for s in d["data"]["result"].as_array().unwrap() {
            for v in s["values"].as_array().unwrap() {
                lines.push((
                    v[0].as_str().unwrap().parse().unwrap(),
                    s["stream"].clone(),
                    v[1].as_str().unwrap().to_string(),
                ));
            }
        }
        PagingLoki {
            lines,
            stats: d["data"]["stats"].clone(),
            seen,
        }
    }
}

impl Respond for PagingLoki {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let q: BTreeMap<String, String> = request.url.query_pairs().into_owned().collect();
        let start: i64 = q["start"].parse().unwrap();
        let end: i64 = q["end"].parse().unwrap();
        let limit: usize = q["limit"].parse().unwrap();
        let forward = q["direction"] == "forward";
        self.seen.lock().unwrap().push((start, end, limit));
        let mut lines: Vec<&(i64, Value, String)> = self
            .lines
            .iter()
            .filter(|(t, _, _)| *t >= start && *t < end)
            .collect();
        lines.sort_by_key(|(t, _, _)| if forward { *t } else { -*t });
        lines.truncate(limit);
        let result: Vec<Value> = lines
            .iter()
            .map(|(t, stream, line)| {
                serde_json::json!({ "stream": stream, "values": [[t.to_string(), line]] })
            })
            .collect();
        ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "status": "success",
            "data": { "resultType": "streams", "result": result, "stats": self.stats }
        }))
    }
}

#[tokio::test]
async fn loki_pagination_neither_drops_nor_repeats_lines() {
    const QUERY: &str =
        r#"{job="shop", service="checkout"} | json | level="error" | duration_ms > 1500"#;
    let (start, end) = (1_795_238_537_000_000_000i64, 1_795_238_722_000_000_000i64);
    for direction in [Direction::Backward, Direction::Forward] {
        let server = Recorded::start().await;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let paging = PagingLoki::new(seen.clone());
        let mut all: Vec<i64> = paging.lines.iter().map(|l| l.0).collect();
        all.sort();
        server
            .get("/loki/api/v1/query_range")
            .query("query", QUERY)
            .respond(paging)
            .await;
        let l = loki(&server).with_page_size(8);
        let (records, truncated) = l
            .query_range(QUERY, start, end, 25, direction)
            .await
            .unwrap();
        let mut got: Vec<i64> = records.iter().map(|r| r.timestamp_unix_nano).collect();
        if direction == Direction::Backward {
            assert!(got.windows(2).all(|w| w[0] > w[1]), "newest first: {got:?}");
            got.reverse();
        } else {
            assert!(got.windows(2).all(|w| w[0] < w[1]), "oldest first: {got:?}");
        }
        assert_eq!(got, all, "{direction:?}: every recorded line exactly once");
        assert!(!truncated);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 3, "{seen:?}");
        // Each page moves the bound to the last timestamp of the page before (backward: the
        // exclusive end one nanosecond past it), so the boundary line is asked for again and
        // dropped by obs, not lost.
        match direction {
            Direction::Backward => {
                let newest: Vec<i64> = all.iter().rev().copied().collect();
                assert_eq!(seen[0], (start, end, 8));
                assert_eq!(seen[1], (start, newest[7] + 1, 8));
                assert_eq!(seen[2], (start, newest[14] + 1, 8));
            }
            Direction::Forward => {
                assert_eq!(seen[0], (start, end, 8));
                assert_eq!(seen[1], (all[7], end, 8));
                assert_eq!(seen[2], (all[14], end, 8));
            }
        }
        // With a smaller limit the result stops there and says so.
        let (records, truncated) = l
            .query_range(QUERY, start, end, 10, direction)
            .await
            .unwrap();
        assert_eq!(records.len(), 10);
        assert!(truncated);
    }
}

#[tokio::test]
async fn loki_labels_label_values_and_series() {
    let server = Recorded::start().await;
    let window = [("start", START_NS.to_string()), ("end", END_NS.to_string())];
    for (p, file) in [
        ("/loki/api/v1/labels", "loki/labels.json"),
        (
            "/loki/api/v1/label/service/values",
            "loki/label_values_service.json",
        ),
    ] {
        server
            .get(p)
            .query(window[0].0, window[0].1.clone())
            .query(window[1].0, window[1].1.clone())
            .json(file)
            .await;
    }
    server
        .get("/loki/api/v1/series")
        .query("match[]", r#"{job="shop"}"#)
        .json("loki/series_job_shop.json")
        .await;
    let l = loki(&server);
    assert_eq!(
        l.labels(START_NS, END_NS).await.unwrap(),
        ["env", "job", "level", "service"]
    );
    assert_eq!(
        l.label_values("service", START_NS, END_NS).await.unwrap(),
        ["checkout", "frontend", "payments", "pg-orders"]
    );
    let series = l.series(r#"{job="shop"}"#, START_NS, END_NS).await.unwrap();
    assert_eq!(series.len(), 8);
    assert!(series.iter().all(|s| s["job"] == "shop"));
}

#[tokio::test]
async fn loki_plain_text_400_is_reported_in_lokis_words() {
    let server = Recorded::start().await;
    for (query, file) in [
        (r#"{job="shop"} |= "#, "loki/error_bad_logql_400.txt"),
        (r#"{job=~".*"}"#, "loki/error_empty_matcher_400.txt"),
    ] {
        // Loki 2.8 says JSON in the header and sends plain text.
        server
            .get("/loki/api/v1/query_range")
            .query("query", query)
            .text(400, file, "application/json; charset=UTF-8")
            .await;
    }
    let l = loki(&server);
    let err = l
        .query_range(
            r#"{job="shop"} |= "#,
            START_NS,
            END_NS,
            100,
            Direction::Backward,
        )
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, SourceError::Http { status: 400, .. }),
        "{msg}"
    );
    assert!(msg.starts_with("loki at http://"), "{msg}");
    assert!(msg.contains("/loki/api/v1/query_range"), "{msg}");
    assert!(
        msg.contains("parse error at line 1, col 17: syntax error"),
        "{msg}"
    );
    let msg = l
        .query_range(r#"{job=~".*"}"#, START_NS, END_NS, 10, Direction::Backward)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("queries require at least one regexp or equality matcher"),
        "{msg}"
    );
}

#[tokio::test]
async fn slow_failing_and_garbled_backends_are_errors_naming_backend_and_url() {
    let server = Recorded::start().await;
    server
        .get(format!("/api/traces/{INCIDENT}"))
        .respond(
            json_body("tempo/trace_by_id_incident_error.json").set_delay(Duration::from_secs(3)),
        )
        .await;
    server
        .get(format!("/api/traces/{OK}"))
        .respond(ResponseTemplate::new(200).set_body_raw("{\"batches\": [", "application/json"))
        .await;
    server
        .get("/loki/api/v1/query_range")
        .respond(ResponseTemplate::new(502))
        .await;
    server
        .get("/api/services")
        .respond(ResponseTemplate::new(200).set_body_raw("<html>", "text/html"))
        .await;

    let slow = Tempo::new(client("tempo", &server.uri(), Duration::from_secs(1)));
    let started = std::time::Instant::now();
    let err = slow.trace(INCIDENT).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_millis(2900));
    assert!(matches!(err, SourceError::Timeout { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("tempo at"), "{msg}");
    assert!(msg.contains(&format!("/api/traces/{INCIDENT}")), "{msg}");
    assert!(msg.contains("did not answer within 1s"), "{msg}");

    let err = tempo(&server).trace(OK).await.unwrap_err();
    assert!(matches!(err, SourceError::Decode { .. }), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("{}/api/traces/{OK}", server.uri()))
    );

    let err = loki(&server)
        .query_range(r#"{job="shop"}"#, START_NS, END_NS, 10, Direction::Backward)
        .await
        .unwrap_err();
    assert!(
        matches!(err, SourceError::Http { status: 502, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("loki at"), "{err}");

    let err = Jaeger::new(client("jaeger", &server.uri(), Duration::from_secs(5)))
        .services()
        .await
        .unwrap_err();
    assert!(matches!(err, SourceError::Decode { .. }), "{err}");
    assert!(err.to_string().contains("jaeger at"), "{err}");
    assert!(err.to_string().contains("/api/services"), "{err}");
}
