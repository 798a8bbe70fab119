//! `obs trace` and `obs logs` as a user runs them, against recorded Tempo and Loki responses
//! served by wiremock (see `backends.rs` for the client-level tests).

use serde_json::Value;

use crate::cli::obs;
use crate::support::recorded::{INCIDENT, Recorded, json_body};

fn run(cmd: &mut assert_cmd::Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A runtime for wiremock; the servers answer on their own threads while `obs` runs.
fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

#[test]
fn trace_prints_the_waterfall_with_the_critical_path_and_the_exception() {
    let rt = rt();
    let server = rt.block_on(async { Recorded::start().await.with_tempo_traces().await });
    let (code, stdout, stderr) =
        run(obs()
            .env("COLUMNS", "140")
            .args(["trace", INCIDENT, "--tempo-url", &server.uri()]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("critical path"), "{stdout}");
    assert!(stdout.contains("PoolTimeout"), "{stdout}");
    assert!(stdout.contains("INSERT orders"), "{stdout}");
    assert!(!stdout.contains('\u{1b}'), "no colour when piped: {stdout}");

    // Filters narrow the rows.
    let (code, errors_only, _) = run(obs().env("COLUMNS", "140").args([
        "trace",
        INCIDENT,
        "--tempo-url",
        &server.uri(),
        "--errors-only",
    ]));
    assert_eq!(code, 0);
    assert!(errors_only.contains("INSERT orders"), "{errors_only}");
    assert!(!errors_only.contains("redis GET"), "{errors_only}");
    let (code, shallow, _) = run(obs().env("COLUMNS", "140").args([
        "trace",
        INCIDENT,
        "--tempo-url",
        &server.uri(),
        "--depth",
        "1",
    ]));
    assert_eq!(code, 0);
    assert!(!shallow.contains("UPDATE payments"), "{shallow}");
}

#[test]
fn trace_json_is_the_trace_view() {
    let rt = rt();
    let server = rt.block_on(async { Recorded::start().await.with_tempo_traces().await });
    let (code, stdout, stderr) = run(obs()
        .env("OBS_TEMPO_URL", server.uri())
        .args(["trace", INCIDENT, "-o", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["trace_id"], INCIDENT);
    assert_eq!(v["spans"].as_array().unwrap().len(), 20);
    assert!(v["critical_path"].as_array().is_some_and(|c| !c.is_empty()));
    assert!(v["error_spans"].as_array().is_some_and(|e| !e.is_empty()));
    assert!(
        (v["duration_ms"].as_f64().unwrap() - 1822.2).abs() < 1.0,
        "{}",
        v["duration_ms"]
    );
    assert_eq!(v["root"]["service"], "frontend");
    assert_eq!(v["root"]["name"], "GET /checkout");
}

#[test]
fn unknown_and_invalid_trace_ids() {
    let rt = rt();
    let server = rt.block_on(async {
        let s = Recorded::start().await;
        s.get("/api/traces/0123456789abcdef0123456789abcdef")
            .text(
                404,
                "tempo/trace_by_id_not_found_404.txt",
                "text/plain; charset=utf-8",
            )
            .await;
        s
    });
    let (code, stdout, stderr) = run(obs().args([
        "trace",
        "0123456789abcdef0123456789abcdef",
        "--tempo-url",
        &server.uri(),
    ]));
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains(&format!(
            "trace 0123456789abcdef0123456789abcdef not found in tempo at {}",
            server.uri()
        )),
        "{stderr}"
    );

    let (code, _, stderr) =
        run(obs().args(["trace", "not-a-trace-id", "--tempo-url", &server.uri()]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("\"not-a-trace-id\""), "{stderr}");
    assert!(
        stderr.contains("1 to 32 hexadecimal characters"),
        "{stderr}"
    );

    let (code, _, stderr) = run(obs().args(["trace", INCIDENT]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--tempo-url"), "{stderr}");
}

const WINDOW: [&str; 4] = ["--since", "1795238354", "--until", "1795238850"];
const START_NS: &str = "1795238354000000000";
const END_NS: &str = "1795238850000000000";

/// Loki with the recorded answers for a lookup of the incident trace under `{job="shop"}`.
async fn loki_for_trace() -> Recorded {
    let s = Recorded::start().await;
    s.get("/loki/api/v1/labels")
        .query("start", START_NS)
        .query("end", END_NS)
        .json("loki/labels.json")
        .await;
    // Loki 2.8 has no structured metadata: the label filter finds nothing. The recorded empty
    // answer (to a line filter for an unknown id) is served for it.
    s.get("/loki/api/v1/query_range")
        .query(
            "query",
            format!(r#"{{job="shop"}} | trace_id="{INCIDENT}""#),
        )
        .query("start", START_NS)
        .query("end", END_NS)
        .query("limit", "100")
        .query("direction", "backward")
        .json("loki/query_range_logs_no_results.json")
        .await;
    s.get("/loki/api/v1/query_range")
        .query("query", format!(r#"{{job="shop"}} |= "{INCIDENT}""#))
        .query("start", START_NS)
        .query("end", END_NS)
        .query("limit", "100")
        .query("direction", "backward")
        .json("loki/query_range_logs_line_filter_traceid.json")
        .await;
    s
}

#[test]
fn logs_of_a_trace_in_auto_mode_say_which_strategy_matched() {
    let rt = rt();
    let server = rt.block_on(loki_for_trace());
    let mut args = vec!["logs", "--trace", INCIDENT, "--selector", r#"{job="shop"}"#];
    args.extend(WINDOW);
    let (code, stdout, stderr) = run(obs().env("OBS_LOKI_URL", server.uri()).args(&args));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("matched by line"), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    // Oldest first, local time with its zone (TZ=UTC in tests), service, level, trace id, body.
    assert!(
        lines[0].starts_with("2026-11-21 05:23:26.525 UTC payments"),
        "{stdout}"
    );
    assert!(lines[0].contains("payment voided"), "{stdout}");
    let checkout = lines.iter().find(|l| l.contains(" checkout ")).unwrap();
    assert!(checkout.contains(" error "), "{checkout}");
    assert!(checkout.contains(INCIDENT), "{checkout}");
    assert!(checkout.contains("PoolTimeout"), "{checkout}");

    // JSON lines: one object per record, the strategy in each.
    let mut json_args = args.clone();
    json_args.extend(["-o", "json"]);
    let (code, stdout, stderr) = run(obs().env("LOKI_ADDR", server.uri()).args(&json_args));
    assert_eq!(code, 0, "{stderr}");
    let records: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 3);
    for r in &records {
        assert_eq!(r["trace_id"], INCIDENT);
        assert_eq!(r["matched_by"], "line");
        assert!(
            r["timestamp"]
                .as_str()
                .unwrap()
                .starts_with("2026-11-21T05:23:26")
        );
        assert!(r["timestamp_unix_nano"].is_i64());
        assert!(r["body"].is_string());
    }
    assert!(
        records
            .iter()
            .any(|r| r["service"] == "frontend" && r["severity"] == "error")
    );
}

#[test]
fn logs_strategies_label_and_metadata_send_their_own_queries() {
    let rt = rt();
    let server = rt.block_on(async {
        let s = Recorded::start().await;
        s.get("/loki/api/v1/query_range")
            .query("query", format!(r#"{{job="shop", trace_id="{INCIDENT}"}}"#))
            .json("loki/query_range_logs_no_results.json")
            .await;
        // A label filter on a label Loki knows (here extracted by `| logfmt`; structured metadata
        // in Loki 3 behaves the same) answers with the label among the stream's labels: the
        // recorded answer to `{service="frontend"} | logfmt | trace_id="…"` is served for it.
        s.get("/loki/api/v1/query_range")
            .query(
                "query",
                format!(r#"{{service="frontend"}} | trace_id="{INCIDENT}""#),
            )
            .json("loki/query_range_logs_logfmt_traceid_label_filter.json")
            .await;
        s
    });
    let base = |selector: &'static str, how: &'static str| {
        let mut a = vec![
            "logs",
            "--trace",
            INCIDENT,
            "--selector",
            selector,
            "--trace-match",
            how,
        ];
        a.extend(WINDOW);
        a
    };
    let (code, stdout, stderr) = run(obs()
        .env("OBS_LOKI_URL", server.uri())
        .args(base(r#"{job="shop"}"#, "label")));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("no log lines for trace"), "{stderr}");
    assert!(stderr.contains("tried: label"), "{stderr}");

    let (code, stdout, stderr) = run(obs()
        .env("OBS_LOKI_URL", server.uri())
        .args(base(r#"{service="frontend"}"#, "metadata")));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("matched by metadata"), "{stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains("frontend error"), "{stdout}");
}

#[test]
fn logs_of_a_service_at_a_level_with_text_detect_the_service_label() {
    let rt = rt();
    let server = rt.block_on(async {
        let s = Recorded::start().await;
        s.get("/loki/api/v1/labels").json("loki/labels.json").await;
        // The recorded checkout error lines with PoolTimeout (answer to a `| json | level="error"`
        // query) stand in for the answer to the query obs builds.
        s.get("/loki/api/v1/query_range").query(
                "query",
                r#"{service="checkout"} |= "PoolTimeout" | level=~"(?i)error|err|eror|fatal|critical|crit|panic|emerg|alert""#,
            ).query("limit", "20").query("direction", "backward").json("loki/query_range_logs_json_parser_errors.json").await;
        s
    });
    let mut args = vec![
        "logs",
        "--service",
        "checkout",
        "--level",
        "error",
        "--grep",
        "PoolTimeout",
        "--limit",
        "20",
    ];
    args.extend(WINDOW);
    let (code, stdout, stderr) = run(obs().env("OBS_LOKI_URL", server.uri()).args(&args));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 20, "{stdout}");
    assert!(
        stdout
            .lines()
            .all(|l| l.contains(" checkout ") && l.contains(" error "))
    );
    assert!(
        stderr.contains("raise --limit"),
        "a full page says so: {stderr}"
    );
}

#[test]
fn logs_query_errors_come_back_in_lokis_words() {
    let rt = rt();
    let server = rt.block_on(async {
        let s = Recorded::start().await;
        s.get("/loki/api/v1/query_range")
            .query("query", r#"{job="shop"} |= "#)
            .text(
                400,
                "loki/error_bad_logql_400.txt",
                "application/json; charset=UTF-8",
            )
            .await;
        s.get("/loki/api/v1/query_range")
            .query(
                "query",
                r#"sum by (level) (count_over_time({job="shop"}[1m]))"#,
            )
            .json("loki/query_range_metric_count_by_level.json")
            .await;
        s
    });
    let mut args = vec!["logs", "--query", r#"{job="shop"} |= "#];
    args.extend(WINDOW);
    let (code, stdout, stderr) = run(obs().env("OBS_LOKI_URL", server.uri()).args(&args));
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("parse error at line 1, col 17"), "{stderr}");
    assert!(stderr.contains(&server.uri()), "{stderr}");

    let mut args = vec![
        "logs",
        "--query",
        r#"sum by (level) (count_over_time({job="shop"}[1m]))"#,
    ];
    args.extend(WINDOW);
    let (code, _, stderr) = run(obs().env("OBS_LOKI_URL", server.uri()).args(&args));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("not log lines"), "{stderr}");

    let (code, _, stderr) = run(obs().args(["logs", "--service", "checkout"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("LOKI_ADDR"), "{stderr}");
}

#[test]
fn a_slow_loki_times_out_with_the_configured_timeout() {
    let rt = rt();
    let server = rt.block_on(async {
        let s = Recorded::start().await;
        s.get("/loki/api/v1/query_range")
            .respond(
                json_body("loki/query_range_logs_no_results.json")
                    .set_delay(std::time::Duration::from_secs(5)),
            )
            .await;
        s
    });
    let mut args = vec!["logs", "--query", r#"{job="shop"}"#, "--timeout", "1s"];
    args.extend(WINDOW);
    let started = std::time::Instant::now();
    let (code, _, stderr) = run(obs().env("OBS_LOKI_URL", server.uri()).args(&args));
    assert_eq!(code, 1, "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    assert!(stderr.contains("loki at"), "{stderr}");
    assert!(stderr.contains("did not answer within 1s"), "{stderr}");
}
