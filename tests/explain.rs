//! `explain` against servers: the real LiteLLM proxy (mock models) for answers and
//! streaming, and local servers shaped like the OpenAI API's documented responses for the
//! faults LiteLLM cannot produce (429 with Retry-After, 500 then success, a stalled stream, a
//! truncated stream), plus the redaction corpus, checked on the bytes the server received.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use obs::explain::settings::{LlmFile, LlmFlags, LlmSettings, resolve};
use obs::explain::{Explanation, ExplanationStatus, explain};
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::litellm;

pub const API_KEY: &str = "sk-obs-test-0123456789abcdefSECRET";

pub fn report() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/explain/report.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn settings(base_url: &str, model: &str, timeout: &str) -> LlmSettings {
    let file = LlmFile {
        base_url: Some(base_url.to_string()),
        model: Some(model.to_string()),
        api_key: Some(API_KEY.to_string()),
        timeout: Some(timeout.to_string()),
        ..LlmFile::default()
    };
    resolve(Some(&file), &LlmFlags::default(), &|_| None).unwrap()
}

async fn run(s: &LlmSettings, report: &Value) -> (Explanation, Vec<String>) {
    let mut deltas = Vec::new();
    let e = explain(report, s, &mut |d: &str| deltas.push(d.to_string())).await;
    (e, deltas)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn litellm_well_cited_answer_is_verified_and_streamed() {
    let proxy = litellm::shared();
    let s = settings(&proxy.base_url, "mock-cited", "60s");
    let (e, deltas) = run(&s, &report()).await;
    assert_eq!(e.error, None, "{e:?}");
    assert_eq!(e.status, ExplanationStatus::Verified);
    assert_eq!(
        e.root_cause.as_deref(),
        Some("checkout's orders connection pool was exhausted")
    );
    assert_eq!(e.claims.len(), 2);
    assert!(e.claims.iter().all(|c| c.cited), "{:?}", e.claims);
    assert_eq!(e.claims[1].evidence, ["T1", "S1"]);
    assert_eq!(e.uncited_claims, 0);
    assert_eq!(e.next_checks, ["pool wait time per query"]);
    // Streamed: the answer arrived in pieces, which add up to the whole answer.
    assert!(deltas.len() > 3, "{} deltas", deltas.len());
    assert_eq!(deltas.concat(), litellm::CITED);
    assert!(e.tokens_in > 100 && e.tokens_out.unwrap_or(0) > 10, "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn litellm_answer_citing_unknown_ids_is_an_uncited_hypothesis() {
    let proxy = litellm::shared();
    let s = settings(&proxy.base_url, "mock-unknown", "60s");
    let (e, _) = run(&s, &report()).await;
    assert_eq!(e.status, ExplanationStatus::Verified, "{e:?}");
    assert_eq!(e.uncited_claims, 2);
    assert!(e.claims.iter().all(|c| !c.cited));
    assert_eq!(e.claims[0].unknown_evidence, ["M99", "K7"]);
    let text = obs::explain::render::text(&e);
    assert!(text.contains("Uncited hypotheses (2"), "{text}");
    assert!(
        !text.contains("  • "),
        "no claim shown as a finding:\n{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn litellm_text_answer_is_shown_raw_and_unverified() {
    let proxy = litellm::shared();
    let s = settings(&proxy.base_url, "mock-text", "60s");
    let (e, _) = run(&s, &report()).await;
    assert_eq!(e.error, None);
    assert_eq!(e.status, ExplanationStatus::Unverified);
    assert_eq!(e.raw.as_deref(), Some(litellm::TEXT));
    assert!(e.claims.is_empty());
    assert!(obs::explain::render::text(&e).contains("UNVERIFIED"));
}

/// An OpenAI chat-completions stream: one chunk per piece of `content`, the finish chunk,
/// the usage chunk and `[DONE]`, as https://platform.openai.com/docs/api-reference/chat/streaming
/// documents them.
pub fn sse(content: &str, pieces: usize) -> String {
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1_796_000_000,
               "model": "gpt-4o-2024-08-06", "system_fingerprint": "fp_1",
               "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]})
    };
    let mut out = String::new();
    let mut push = |v: Value| out.push_str(&format!("data: {v}\n\n"));
    push(chunk(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    ));
    let chars: Vec<char> = content.chars().collect();
    let size = chars.len().div_ceil(pieces.max(1)).max(1);
    for part in chars.chunks(size) {
        push(chunk(
            json!({"content": part.iter().collect::<String>()}),
            Value::Null,
        ));
    }
    push(chunk(json!({}), json!("stop")));
    push(
        json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1_796_000_000,
                "model": "gpt-4o-2024-08-06", "choices": [],
                "usage": {"prompt_tokens": 900, "completion_tokens": 120, "total_tokens": 1020}}),
    );
    out.push_str("data: [DONE]\n\n");
    out
}

fn sse_response(body: String) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .insert_header("content-type", "text/event-stream")
        .set_body_raw(body, "text/event-stream")
}

/// The OpenAI API's error object.
fn api_error(status: u16, message: &str, kind: &str, code: Option<&str>) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(
        json!({"error": {"message": message, "type": kind, "param": null, "code": code}}),
    )
}

const ANSWER: &str = r#"{"root_cause": "pool", "confidence": "high", "claims": [{"text": "pool full", "evidence": ["M1"]}], "mitigations": [], "next_checks": []}"#;

#[tokio::test]
async fn rate_limited_request_is_retried_after_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(
            api_error(
                429,
                "Rate limit reached for gpt-4o",
                "requests",
                Some("rate_limit_exceeded"),
            )
            .insert_header("retry-after", "1"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(sse_response(sse(ANSWER, 4)))
        .mount(&server)
        .await;
    let s = settings(&format!("{}/v1", server.uri()), "gpt-4o", "10s");
    let started = Instant::now();
    let (e, _) = run(&s, &report()).await;
    assert_eq!(e.error, None, "{e:?}");
    assert_eq!(e.status, ExplanationStatus::Verified);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited {:?}",
        started.elapsed()
    );
    let times = server.received_requests().await.unwrap();
    assert_eq!(times.len(), 2);
    assert_eq!(e.tokens_in, 900, "the server's usage is reported");
}

#[tokio::test]
async fn a_retry_after_longer_than_obs_waits_is_an_error_naming_it() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            api_error(
                429,
                "Rate limit reached",
                "requests",
                Some("rate_limit_exceeded"),
            )
            .insert_header("retry-after", "3600"),
        )
        .mount(&server)
        .await;
    let s = settings(&format!("{}/v1", server.uri()), "gpt-4o", "10s");
    let (e, _) = run(&s, &report()).await;
    let err = e.error.unwrap();
    assert!(
        err.contains("429") && err.contains("Rate limit reached"),
        "{err}"
    );
    assert!(err.contains("wait 3600 s"), "{err}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn server_error_then_success() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(api_error(
            500,
            "The server had an error while processing your request.",
            "server_error",
            None,
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(sse_response(sse(ANSWER, 3)))
        .mount(&server)
        .await;
    let s = settings(&format!("{}/v1", server.uri()), "gpt-4o", "10s");
    let (e, _) = run(&s, &report()).await;
    assert_eq!(e.error, None, "{e:?}");
    assert_eq!(e.claims.len(), 1);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn persistent_server_errors_stop_after_bounded_retries() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            api_error(503, "overloaded", "server_error", None).insert_header("retry-after", "0"),
        )
        .mount(&server)
        .await;
    let s = settings(&format!("{}/v1", server.uri()), "gpt-4o", "10s");
    let (e, _) = run(&s, &report()).await;
    assert_eq!(e.status, ExplanationStatus::Error);
    assert!(e.error.unwrap().contains("503"));
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
}

#[tokio::test]
async fn unauthorized_shows_the_servers_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(api_error(
            401,
            "Incorrect API key provided: sk-obs-t***CRET. You can find your API key at https://platform.openai.com/account/api-keys.",
            "invalid_request_error",
            Some("invalid_api_key"),
        ))
        .mount(&server)
        .await;
    let s = settings(&format!("{}/v1", server.uri()), "gpt-4o", "10s");
    let (e, _) = run(&s, &report()).await;
    let err = e.error.unwrap();
    assert!(
        err.contains("401") && err.contains("Incorrect API key provided"),
        "{err}"
    );
    assert!(!err.contains(API_KEY));
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "401 is not retried"
    );
}

#[tokio::test]
async fn context_length_error_says_how_many_tokens_obs_sent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(api_error(
            400,
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.",
            "invalid_request_error",
            Some("context_length_exceeded"),
        ))
        .mount(&server)
        .await;
    let s = settings(&format!("{}/v1", server.uri()), "gpt-4o", "10s");
    let (e, _) = run(&s, &report()).await;
    let err = e.error.unwrap();
    assert!(err.contains("maximum context length"), "{err}");
    assert!(
        err.contains(&format!("obs sent {} input tokens", e.tokens_in_local)),
        "{err}"
    );
}

#[tokio::test]
async fn a_server_without_json_schema_gets_json_mode() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_string_contains("\"json_schema\""))
        .respond_with(api_error(
            400,
            "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.",
            "invalid_request_error",
            None,
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_string_contains("\"json_object\""))
        .respond_with(sse_response(sse(ANSWER, 2)))
        .mount(&server)
        .await;
    let s = settings(&format!("{}/v1", server.uri()), "gpt-4o", "10s");
    let (e, _) = run(&s, &report()).await;
    assert_eq!(e.error, None, "{e:?}");
    assert_eq!(e.response_format, "json_object");
    assert_eq!(e.status, ExplanationStatus::Verified);
}

/// A one-connection HTTP/1.1 server that answers with a stream's `head`, then either stalls
/// (keeps the connection open, silent) or closes it.
fn raw_stream_server(head: String, stall: bool) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; 65536];
        let mut got = Vec::new();
        // Read the request head and its body (Content-Length).
        loop {
            let n = sock.read(&mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&got).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let len = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap())
                    })
                    .unwrap_or(0);
                if got.len() >= end + 4 + len {
                    break;
                }
            }
            if n == 0 {
                return;
            }
        }
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\nconnection: close\r\n\r\n{head}"
        );
        sock.write_all(response.as_bytes()).unwrap();
        sock.flush().unwrap();
        if stall {
            std::thread::sleep(Duration::from_secs(15));
        }
    });
    format!("http://{addr}/v1")
}

/// The first `n` events of a stream of `ANSWER` (no finish chunk, no `[DONE]`).
fn first_events(n: usize) -> String {
    sse(ANSWER, 6)
        .split("\n\n")
        .take(n)
        .map(|e| format!("{e}\n\n"))
        .collect()
}

#[tokio::test]
async fn a_stalled_stream_times_out_and_keeps_what_arrived() {
    let url = raw_stream_server(first_events(3), true);
    let s = settings(&url, "gpt-4o", "1s");
    let started = Instant::now();
    let (e, deltas) = run(&s, &report()).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    let err = e.error.clone().unwrap();
    assert!(err.contains("stopped sending for 1 s"), "{err}");
    assert_eq!(e.status, ExplanationStatus::Unverified);
    let partial = e.raw.unwrap();
    assert!(
        !partial.is_empty() && ANSWER.starts_with(&partial),
        "{partial}"
    );
    assert_eq!(deltas.concat(), partial);
}

#[tokio::test]
async fn a_truncated_stream_is_an_error_not_an_answer() {
    // Four whole events and half of the fifth, then the connection closes.
    let mut head = first_events(4);
    head.push_str("data: {\"id\": \"chatcmpl-1\", \"choi");
    let url = raw_stream_server(head, false);
    let s = settings(&url, "gpt-4o", "5s");
    let (e, _) = run(&s, &report()).await;
    let err = e.error.clone().unwrap();
    assert!(err.contains("ended before the model finished"), "{err}");
    assert_eq!(e.status, ExplanationStatus::Unverified);
    assert!(
        e.claims.is_empty(),
        "a partial answer is never checked as findings"
    );
}

/// Records every request body, and answers with a claim that quotes the aliases it found in
/// the request, as a model would.
struct Echo {
    bodies: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Respond for Echo {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        self.bodies.lock().unwrap().push(request.body.clone());
        let text = String::from_utf8_lossy(&request.body).to_string();
        let re = regex::Regex::new(r"<[a-z0-9_-]+-\d+>").unwrap();
        let mut aliases: Vec<String> = re
            .find_iter(&text)
            .map(|m| m.as_str().to_string())
            .collect();
        aliases.sort();
        aliases.dedup();
        let answer = json!({"root_cause": format!("seen: {}", aliases.join(" ")), "confidence": "low",
                            "claims": [{"text": aliases.join(" "), "evidence": ["S1"]}],
                            "mitigations": [], "next_checks": []});
        sse_response(sse(&answer.to_string(), 5))
    }
}

/// Every kind of secret the redaction covers, and where it is planted.
pub const PLANTED: [&str; 13] = [
    "alice.smith@example.com",
    "10.20.30.40",
    "2001:db8:85a3::8a2e:370:7334",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
    "abcDEF123456ghiJKL789bearer",
    "sk-proj-Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2",
    "AKIAIOSFODNN7EXAMPLE",
    "card=4111111111111111&cvv=737",
    "dbuser:hunter2pass",
    "S3cr3tPassw0rd!",
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "QWxhZGRpbjpvcGVuIHNlc2FtZTEyMzQ1Njc4OTBBQkNERUZHSElK",
    "u-8675309",
];

/// The fixture report with the planted secrets in labels, log lines, span names and
/// attributes, status messages and exception messages.
pub fn planted_report() -> Value {
    let mut r = report();
    r["correlations"][0]["labels"]["client_email"] = json!(PLANTED[0]);
    r["correlations"][1]["labels"]["user_id"] = json!(PLANTED[12]);
    r["traces"][0]["error_spans"][0]["status_message"] = json!(format!(
        "connect to {} failed; peer {}",
        PLANTED[1], PLANTED[2]
    ));
    r["traces"][0]["error_spans"][0]["exception"]["message"] = json!(format!(
        "auth failed for token {} (Authorization: Bearer {})",
        PLANTED[3], PLANTED[4]
    ));
    r["traces"][0]["error_spans"][1]["name"] =
        json!(format!("GET https://pay.example.com/charge?{}", PLANTED[7]));
    r["logs"][0]["body"] = json!(format!(
        "payment client used key {} and aws {} for {}",
        PLANTED[5], PLANTED[6], PLANTED[0]
    ));
    r["logs"][1]["body"] = json!(format!(
        "dial postgres://{}@db.internal:5432/orders: password={} sig={}",
        PLANTED[8], PLANTED[9], PLANTED[10]
    ));
    r["logs"][2]["body"] = json!(format!(
        "session blob {} user_id={}",
        PLANTED[11], PLANTED[12]
    ));
    r
}

#[tokio::test]
async fn redaction_corpus_never_reaches_the_server_and_comes_back_in_the_answer() {
    let server = MockServer::start().await;
    let bodies = Arc::new(Mutex::new(Vec::new()));
    Mock::given(method("POST"))
        .respond_with(Echo {
            bodies: bodies.clone(),
        })
        .mount(&server)
        .await;
    let file = LlmFile {
        base_url: Some(format!("{}/v1", server.uri())),
        api_key: Some(API_KEY.to_string()),
        redact_labels: Some(vec!["user_id".to_string()]),
        ..LlmFile::default()
    };
    let s = resolve(Some(&file), &LlmFlags::default(), &|_| None).unwrap();
    let (e, _) = run(&s, &planted_report()).await;
    assert_eq!(e.error, None, "{e:?}");
    let received = bodies.lock().unwrap().concat();
    let received = String::from_utf8_lossy(&received);
    assert!(
        received.contains("PoolTimeout"),
        "the evidence itself was sent"
    );
    assert!(
        received.contains("4bf92f3577b34da6a3ce929d0e0e4736"),
        "trace ids are evidence"
    );
    for secret in PLANTED.iter().chain([&API_KEY]) {
        assert!(!received.contains(secret), "{secret} reached the server");
    }
    // The answer quoted the aliases; the shown answer has the originals back.
    let shown = e.root_cause.unwrap();
    for original in [PLANTED[0], PLANTED[1], PLANTED[5], PLANTED[12]] {
        assert!(
            shown.contains(original),
            "{original} not mapped back in {shown}"
        );
    }
    assert!(!shown.contains("<email-1>"));
    for kind in [
        "email",
        "ipv4",
        "ipv6",
        "jwt",
        "token",
        "api-key",
        "query",
        "credentials",
        "secret",
        "hex",
        "base64",
        "user_id",
    ] {
        assert!(
            e.redactions.contains_key(kind),
            "no {kind} in {:?}",
            e.redactions
        );
    }
}

/// `obs` with no inherited OPENAI_* settings.
fn obs_explain() -> assert_cmd::Command {
    let mut cmd = crate::cli::obs();
    cmd.env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL");
    cmd
}

fn fixture_path() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/explain/report.json").to_string()
}

fn output(cmd: &mut assert_cmd::Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn schema() -> jsonschema::Validator {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.v1.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::options().build(&schema).unwrap()
}

#[test]
fn dry_run_prints_the_redacted_body_and_never_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("planted.json");
    std::fs::write(&report, planted_report().to_string()).unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, "[contexts.t.llm]\nredact_labels = [\"user_id\"]\n").unwrap();
    let (code, stdout, stderr) = output(
        obs_explain()
            .args(["explain", report.to_str().unwrap(), "--dry-run", "-vvv"])
            .args(["--config", cfg.to_str().unwrap(), "--context", "t"])
            .env("OPENAI_API_KEY", API_KEY)
            .env(
                "OPENAI_BASE_URL",
                "https://user:pw@llm.example.com/v1?key=querysecret",
            ),
    );
    assert_eq!(code, 0, "{stderr}");
    let body: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(body["model"], "gpt-4o");
    assert_eq!(body["response_format"]["type"], "json_schema");
    let user = body["messages"][1]["content"].as_str().unwrap();
    assert!(
        user.contains("[S1] symptom:") && user.contains("[T1]"),
        "{user}"
    );
    assert!(
        stderr.contains("nothing sent") && stderr.contains("tokens"),
        "{stderr}"
    );
    for secret in PLANTED.iter().chain(&[API_KEY, "querysecret", "user:pw"]) {
        assert!(!stdout.contains(secret), "{secret} in the dry run");
        assert!(!stderr.contains(secret), "{secret} on stderr");
    }
}

#[test]
fn dry_run_json_says_what_was_dropped_for_the_budget() {
    let (code, stdout, stderr) = output(obs_explain().args([
        "explain",
        &fixture_path(),
        "--dry-run",
        "-o",
        "json",
        "--max-input-tokens",
        "700",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let d: Value = serde_json::from_str(&stdout).unwrap();
    let tokens = d["tokens_in"].as_u64().unwrap();
    assert!(tokens <= 700, "{tokens} tokens over the budget");
    let dropped: Vec<&str> = d["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert!(!dropped.is_empty(), "{d}");
    assert!(!dropped.contains(&"S1"));
    let user = d["body"]["messages"][1]["content"].as_str().unwrap();
    for id in &dropped {
        assert!(!user.contains(&format!("[{id}]")), "{id} dropped but sent");
    }
    assert!(
        user.contains(&format!("do not cite): {}", dropped.join(", "))),
        "{user}"
    );
}

#[test]
fn no_api_key_exits_2_naming_the_variable() {
    let (code, stdout, stderr) = output(obs_explain().args(["explain", &fixture_path()]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("OPENAI_API_KEY"), "{stderr}");
    assert!(stdout.is_empty());
}

#[test]
fn a_file_that_is_not_a_report_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"hello\": 1}").unwrap();
    let (code, _, stderr) =
        output(obs_explain().args(["explain", bad.to_str().unwrap(), "--dry-run"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("is not an obs report") && stderr.contains("schema_version"),
        "{stderr}"
    );
    std::fs::write(&bad, "not json").unwrap();
    let (code, _, stderr) =
        output(obs_explain().args(["explain", bad.to_str().unwrap(), "--dry-run"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("not JSON"), "{stderr}");
}

#[test]
fn explain_json_against_litellm_matches_the_schema_and_logs_no_secret() {
    let proxy = litellm::shared();
    let (code, stdout, stderr) = output(
        obs_explain()
            .args([
                "explain",
                &fixture_path(),
                "-o",
                "json",
                "--model",
                "mock-cited",
                "-vvv",
            ])
            .env("OPENAI_API_KEY", API_KEY)
            .env("OPENAI_BASE_URL", &proxy.base_url),
    );
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let errors: Vec<String> = schema()
        .iter_errors(&report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let e = &report["explanation"];
    assert_eq!(e["status"], "verified");
    assert_eq!(e["uncited_claims"], 0);
    assert_eq!(
        report["symptom"]["verdict"], "spike",
        "the report itself is kept"
    );
    assert!(
        stderr.contains("sending the explain request"),
        "-vvv logs the request: {stderr}"
    );
    assert!(!stderr.contains(API_KEY) && !stdout.contains(API_KEY));
}

#[test]
fn explain_text_from_the_context_llm_table() {
    let proxy = litellm::shared();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "[contexts.lab.llm]\nbase_url = \"{}\"\nmodel = \"mock-unknown\"\napi_key = \"{API_KEY}\"\n",
            proxy.base_url
        ),
    )
    .unwrap();
    let (code, stdout, stderr) = output(obs_explain().args([
        "explain",
        &fixture_path(),
        "--config",
        cfg.to_str().unwrap(),
        "--context",
        "lab",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("Root cause  a DNS outage"), "{stdout}");
    assert!(stdout.contains("Uncited hypotheses (2"), "{stdout}");
    assert!(!stdout.contains(API_KEY) && !stderr.contains(API_KEY));
}

#[tokio::test]
async fn a_failed_explanation_exits_1_with_the_servers_message() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(api_error(
            403,
            "Project does not have access to model gpt-4o",
            "invalid_request_error",
            Some("model_not_found"),
        ))
        .mount(&server)
        .await;
    let url = format!("{}/v1", server.uri());
    let out = tokio::task::spawn_blocking(move || {
        output(
            obs_explain()
                .args(["explain", &fixture_path(), "-o", "json"])
                .env("OPENAI_API_KEY", API_KEY)
                .env("OPENAI_BASE_URL", url),
        )
    })
    .await
    .unwrap();
    let (code, stdout, stderr) = out;
    assert_eq!(code, 1, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["explanation"]["status"], "error");
    let err = report["explanation"]["error"].as_str().unwrap();
    assert!(
        err.contains("403") && err.contains("does not have access"),
        "{err}"
    );
    assert!(schema().iter_errors(&report).next().is_none());
}

#[test]
fn demo_explain_dry_run_shows_the_demo_incidents_pack() {
    let (code, stdout, stderr) =
        output(obs_explain().args(["demo", "--explain", "--dry-run", "-q", "-o", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let d: Value = serde_json::from_str(&stdout).unwrap();
    let user = d["body"]["messages"][1]["content"].as_str().unwrap();
    for id in ["[S1]", "[M1]", "[T1]", "[L1]"] {
        assert!(
            user.contains(id),
            "{id} missing from the demo's pack:\n{user}"
        );
    }
    assert!(
        user.contains("orders"),
        "the saturated pool is in the evidence:\n{user}"
    );
    assert!(d["tokens_in"].as_u64().unwrap() <= 8000);
}
