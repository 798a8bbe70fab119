//! Everything `explain` does besides waiting for the model: build the evidence pack of a full
//! report, redact it, count its tokens and fit it into the budget, then parse and verify an
//! answer against it. Target: ≤ 20 ms for a full report.
//!
//! The "full report" is the largest investigate writes: 500 ranked correlations, 5 followed
//! traces with 20 error spans and 10 critical-path spans each, 1000 log lines (with e-mail
//! addresses, IPs and tokens to redact), 20 warnings.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use obs::explain::settings::{LlmFile, LlmFlags, resolve};
use obs::explain::{check, prepare};
use serde_json::{Value, json};

fn full_report() -> Value {
    let correlations: Vec<Value> = (0..500)
        .map(|i| {
            json!({"rank": i + 1, "query": format!("metric_{i}"), "metric": format!("metric_{i}_total"),
                   "labels": {"service": format!("svc-{}", i % 12), "instance": format!("10.0.{}.{}:9100", i % 7, i % 200)},
                   "r": 0.9 - i as f64 / 1000.0, "r_at_zero_lag": 0.5, "p_value": 1e-6, "q_value": 1e-4 * (i as f64 + 1.0),
                   "lag_seconds": (i as f64 % 21.0 - 10.0) * 30.0, "significant": i < 60, "n": 240,
                   "values": vec![0.5; 240]})
        })
        .collect();
    let traces: Vec<Value> = (0..5)
        .map(|t| {
            json!({"trace_id": format!("{t:032x}"), "duration_ms": 8000.0 + t as f64, "span_count": 400,
                   "root": {"service": "frontend", "name": "GET /checkout"}, "error_span_count": 20,
                   "error_spans": (0..20).map(|i| json!({"span_id": format!("{i:016x}"), "service": "checkout",
                        "name": format!("pool.acquire {i}"), "status_message": "timed out waiting for a connection from 10.1.2.3",
                        "exception": {"type": "PoolTimeout", "message": "no connection within 8s for alice@example.com"}})).collect::<Vec<_>>(),
                   "critical_path": (0..10).map(|i| json!({"span_id": format!("{i:016x}"), "service": "checkout",
                        "name": format!("query {i}"), "self_time_ms": 800.0, "critical_path_ms": 800.0})).collect::<Vec<_>>(),
                   "origin": "exemplar", "kind": "error"})
        })
        .collect();
    let logs: Vec<Value> = (0..1000)
        .map(|i| {
            json!({"trace_id": format!("{:032x}", i % 5), "timestamp": "2026-11-21T05:20:00Z", "timestamp_unix": 1.0,
                   "severity": if i % 3 == 0 { "ERROR" } else { "INFO" }, "service": format!("svc-{}", i % 12),
                   "body": format!("request {i} from user{}@example.com at 192.168.{}.{} failed: Bearer abcdefgh{i:08} token expired after {} ms",
                                   i % 50, i % 3, i % 250, i * 7),
                   "matched_by": "label"})
        })
        .collect();
    json!({
        "schema_version": 1,
        "window": {"since": "2026-11-21T04:01:30Z", "until": "2026-11-21T06:01:30Z", "baseline_since": "2026-11-21T02:01:30Z", "step_seconds": 30.0},
        "symptom": {"query": "sum(rate(http_requests_total{code=~\"5..\"}[1m])) / sum(rate(http_requests_total[1m]))",
                    "verdict": "spike", "summary": "spike", "baseline": 0.004, "peak": 0.05, "onset": "2026-11-21T05:16:30Z",
                    "values": vec![0.01; 480]},
        "correlations": correlations,
        "traces": traces,
        "logs": logs,
        "sources": [],
        "warnings": (0..20).map(|i| format!("query {i} failed")).collect::<Vec<_>>(),
    })
}

fn bench(c: &mut Criterion) {
    let report = full_report();
    let file = LlmFile {
        base_url: Some("http://127.0.0.1:4000/v1".into()),
        ..LlmFile::default()
    };
    let settings = resolve(Some(&file), &LlmFlags::default(), &|_| None).expect("settings");
    let answer = json!({"root_cause": "pool", "confidence": "high",
        "claims": (0..12).map(|i| json!({"text": format!("claim {i}"), "evidence": ["M1", format!("T{}", i % 6), "L3"]})).collect::<Vec<_>>(),
        "mitigations": ["a"], "next_checks": ["b"]})
    .to_string();

    let started = std::time::Instant::now();
    let p = prepare(&report, &settings);
    eprintln!(
        "first prepare (loads the o200k_base ranks): {:.1} ms; {} tokens, {} items sent, {} dropped",
        started.elapsed().as_secs_f64() * 1e3,
        p.tokens_in,
        p.evidence.len(),
        p.dropped.len()
    );

    c.bench_function("explain: pack + redact + count + fit (full report)", |b| {
        b.iter(|| black_box(prepare(black_box(&report), &settings)))
    });
    c.bench_function(
        "explain: pack + redact + count + fit + verify (full report)",
        |b| {
            b.iter(|| {
                let p = prepare(black_box(&report), &settings);
                black_box(check(&p, &answer))
            })
        },
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
