//! `obs doctor` against a real Prometheus and recorded Loki and Tempo (`fixtures/real/`, see its
//! README for the request behind each file), against URLs where nothing listens and a Jaeger
//! URL that is not the query service; investigate skipping exemplars a Prometheus does not
//! keep; and zero-config local use of the default store (`$XDG_DATA_HOME/obs/sink.db`).

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::cli::obs;
use crate::support::exporter::Exporter;
use crate::support::prometheus::{Options, TestPrometheus, free_port, unix_now};
use crate::support::recorded::Recorded;
use crate::support::sink::{obs_command, terminate};

fn run(cmd: &mut assert_cmd::Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn backend<'a>(report: &'a Value, kind: &str) -> &'a Value {
    report["backends"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {report:#}"))
}

fn check<'a>(backend: &'a Value, name: &str) -> &'a Value {
    backend["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name:?} in {backend:#}"))
}

/// Loki 2.8.0 and Tempo 2.0.1 as recorded: only the requests doctor sends that were recorded.
async fn recorded_loki_and_tempo() -> (Recorded, Recorded) {
    let loki = Recorded::start().await;
    loki.get("/loki/api/v1/status/buildinfo")
        .json("loki/status_buildinfo.json")
        .await;
    loki.get("/loki/api/v1/labels")
        .json("loki/labels.json")
        .await;
    let tempo = Recorded::start().await;
    tempo
        .get("/api/status/buildinfo")
        .text(
            404,
            "tempo/api_status_buildinfo_404_not_in_2.0.txt",
            "text/plain; charset=utf-8",
        )
        .await;
    tempo
        .get("/status/version")
        .text(200, "tempo/status_version.txt", "text/plain")
        .await;
    tempo
        .get("/api/echo")
        .text(200, "tempo/echo.txt", "text/plain; charset=utf-8")
        .await;
    tempo
        .get("/api/v2/search/tag/resource.service.name/values")
        .json("tempo/search_v2_tag_values_resource_service_name.json")
        .await;
    (loki, tempo)
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_reads_versions_and_capabilities_of_real_prometheus_and_recorded_loki_and_tempo() {
    let exporter = Exporter::start(Duration::from_secs(3600));
    let prom = TestPrometheus::start(Options {
        scrape_target: Some(exporter.addr.clone()),
        scrape_interval: "1s",
        ..Options::default()
    });
    prom.wait_for_samples("http_requests_total", Duration::from_secs(40));
    let (loki, tempo) = recorded_loki_and_tempo().await;
    let token = "doctor-test-token-4f1c";
    let (code, stdout, stderr) = run(obs()
        .args(["doctor", "-o", "json", "--prometheus-url", prom.url()])
        .args(["--loki-url", &loki.uri(), "--tempo-url", &tempo.uri()])
        .env("OBS_BEARER_TOKEN", token)
        .env("OBS_TENANT", "team-a"));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        !stdout.contains(token) && !stderr.contains(token),
        "{stdout}"
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["ok"], true);

    let p = backend(&report, "prometheus");
    assert_eq!(p["reachable"], true);
    assert_eq!(p["version"], "2.42.0+ds");
    assert_eq!(check(p, "auth/tenant")["state"], "ok");
    assert!(
        check(p, "auth/tenant")["detail"]
            .as_str()
            .unwrap()
            .contains("bearer token, tenant \"team-a\""),
        "{p:#}"
    );
    for name in [
        "query API",
        "exemplars API",
        "exemplar storage",
        "metadata API",
    ] {
        assert_eq!(check(p, name)["state"], "ok", "{name}: {p:#}");
    }
    // With Tempo configured, investigate follows exemplars to traces: they are needed.
    assert_eq!(check(p, "exemplars API")["required"], true);
    // The test Prometheus scrapes the exporter every second; investigate's default is 15s.
    let targets = check(p, "targets (scrape interval)")["detail"]
        .as_str()
        .unwrap();
    assert!(targets.starts_with("1s (1 active targets)"), "{targets}");
    assert!(
        targets.contains("set scrape_interval = \"1s\""),
        "{targets}"
    );
    // Started without --enable-feature=native-histograms.
    assert_eq!(check(p, "native histograms")["state"], "missing");
    assert_eq!(report["capabilities"]["exemplars"], "yes");

    let l = backend(&report, "loki");
    assert_eq!(l["version"], "2.8.0");
    assert_eq!(check(l, "labels API")["state"], "ok");
    assert!(
        check(l, "labels API")["detail"]
            .as_str()
            .unwrap()
            .contains("env, job, level, service")
    );
    // Loki 2.8 predates both; read from the version, nothing was asked.
    assert_eq!(check(l, "pattern endpoint")["state"], "missing");
    assert_eq!(check(l, "structured metadata")["state"], "missing");
    assert!(check(l, "pattern endpoint")["fix"].is_string());
    assert_eq!(report["capabilities"]["log_patterns"], "no");

    let t = backend(&report, "tempo");
    assert_eq!(t["version"], "v2.0.1", "read from /status/version: {t:#}");
    assert_eq!(check(t, "trace API")["state"], "ok");
    assert_eq!(check(t, "TraceQL search")["state"], "ok");
    assert_eq!(check(t, "search API")["detail"], "v2 (scoped tags)");

    // The text form: a table and what to do about the optional gaps.
    let (code, text, stderr) = run(obs()
        .args(["doctor", "--prometheus-url", prom.url()])
        .args(["--loki-url", &loki.uri()])
        .env("COLUMNS", "200"));
    assert_eq!(code, 0, "{stderr}");
    assert!(text.contains("prometheus (metrics)"), "{text}");
    assert!(text.contains("2.42.0+ds"), "{text}");
    assert!(text.contains("loki pattern endpoint (optional)"), "{text}");
    assert!(text.contains("investigate has what it needs"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_on_dead_urls_and_a_jaeger_url_without_the_api_exits_1_with_what_to_do() {
    // Nothing listens on these ports; the Jaeger URL answers, but not the query service's API
    // (wiremock with no routes answers 404 to every path).
    let dead_prom = format!("http://127.0.0.1:{}", free_port());
    let dead_loki = format!("http://127.0.0.1:{}", free_port());
    let not_jaeger = Recorded::start().await;
    let (code, stdout, stderr) = run(obs()
        .args(["doctor", "-o", "json", "--prometheus-url", &dead_prom])
        .args(["--loki-url", &dead_loki, "--jaeger-url", &not_jaeger.uri()]));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["ok"], false);
    for (kind, url) in [("prometheus", &dead_prom), ("loki", &dead_loki)] {
        let b = backend(&report, kind);
        assert_eq!(b["reachable"], false);
        let reach = check(b, "reachable");
        assert_eq!(reach["state"], "failed");
        let detail = reach["detail"].as_str().unwrap();
        assert!(
            detail.contains(url.as_str()) && detail.contains("unreachable"),
            "{detail}"
        );
        assert!(
            reach["fix"]
                .as_str()
                .unwrap()
                .contains(&format!("{kind}_url")),
            "{reach}"
        );
        // What depends on the first answer is not guessed.
        assert!(
            b["checks"].as_array().unwrap()[1..]
                .iter()
                .all(|c| c["state"] == "unknown"),
            "{b:#}"
        );
    }
    let j = backend(&report, "jaeger");
    assert_eq!(j["reachable"], true);
    let api = check(j, "services API");
    assert_eq!(api["state"], "missing", "{j:#}");
    assert!(api["fix"].as_str().unwrap().contains("16686"), "{api}");

    let (code, text, _) = run(obs()
        .args(["doctor", "--prometheus-url", &dead_prom])
        .env("COLUMNS", "200"));
    assert_eq!(code, 1);
    assert!(text.contains("FAILED"), "{text}");
    assert!(
        text.contains("investigate is missing something it needs"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn investigate_skips_exemplars_a_prometheus_does_not_store_and_doctor_says_how_to_fix_it() {
    let exporter = Exporter::start(Duration::from_secs(8));
    let prom = TestPrometheus::start(Options {
        scrape_target: Some(exporter.addr.clone()),
        scrape_interval: "1s",
        exemplar_storage: false,
        ..Options::default()
    });
    prom.wait_for_samples("http_requests_total", Duration::from_secs(40));
    // The exporter serves exemplars; this Prometheus keeps none of them.
    assert_eq!(
        prom.query_exemplars("http_requests_total", unix_now() - 60, unix_now()),
        serde_json::json!([])
    );
    let (_, tempo) = recorded_loki_and_tempo().await;
    let (code, stdout, stderr) = run(obs()
        .args(["doctor", "-o", "json", "--prometheus-url", prom.url()])
        .args(["--tempo-url", &tempo.uri()]));
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let storage = check(backend(&report, "prometheus"), "exemplar storage");
    assert_eq!(storage["state"], "missing");
    assert_eq!(storage["required"], true);
    assert!(
        storage["fix"]
            .as_str()
            .unwrap()
            .contains("--enable-feature=exemplar-storage"),
        "{storage}"
    );
    assert_eq!(report["capabilities"]["exemplars"], "no");

    let (code, stdout, stderr) = run(obs().args([
        "investigate",
        "-o",
        "json",
        "--prometheus-url",
        prom.url(),
        "--since",
        "1m",
        "--step",
        "1s",
        "--scrape-interval",
        "1s",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["exemplars"], serde_json::json!([]), "{report:#}");
    let warnings = report["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().starts_with("exemplars skipped")),
        "{warnings:?}"
    );
}

#[test]
fn sink_without_store_writes_the_default_store_and_investigate_reads_it_when_nothing_is_configured()
{
    let data = tempfile::tempdir().unwrap();
    let expected = data.path().join("obs").join("sink.db");

    // `obs sink` with no --store: the file under $XDG_DATA_HOME/obs/.
    let mut child = obs_command()
        .args(["sink", "--grpc", "127.0.0.1:0", "--http", "127.0.0.1:0"])
        .env("XDG_DATA_HOME", data.path())
        .env("HOME", "/nonexistent-obs-test-home")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let storing = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("storing in ").map(str::to_string))
        .expect("the sink says where it stores");
    assert_eq!(std::path::Path::new(&storing), expected);
    assert!(terminate(&mut child).success());
    assert!(expected.is_file());
    std::fs::remove_file(&expected).unwrap();

    // A store with an incident in it at the default path (the demo's), then investigate with
    // no config, no flags and no OBS_* variables.
    let (code, _, stderr) = run(obs()
        .args(["demo", "--keep"])
        .arg(&expected)
        .env("XDG_DATA_HOME", data.path()));
    assert_eq!(code, 0, "{stderr}");
    let command = stderr
        .lines()
        .find_map(|l| l.split_once("the same investigation: obs ").map(|(_, c)| c))
        .unwrap_or_else(|| panic!("the demo prints the investigate command: {stderr}"));
    let words: Vec<&str> = command.split_whitespace().collect();
    let at = words.iter().position(|w| *w == "--store").unwrap();
    let without_store: Vec<&str> = words[..at]
        .iter()
        .chain(&words[at + 2..])
        .copied()
        .collect();
    let (code, stdout, stderr) = run(obs()
        .args(&without_store)
        .args(["-o", "json"])
        .env("XDG_DATA_HOME", data.path()));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "no backend configured: reading the default store {}",
            expected.display()
        )),
        "{stderr}"
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        report["sources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["kind"] == "store"),
        "{report:#}"
    );
    assert_eq!(
        report["correlations"][0]["metric"],
        "db_client_connection_count"
    );
    let trace_id = report["traces"][0]["trace_id"]
        .as_str()
        .unwrap()
        .to_string();

    // trace and logs too, and doctor names the store instead of probing localhost:9090.
    let (code, _, stderr) = run(obs()
        .args(["trace", &trace_id])
        .env("XDG_DATA_HOME", data.path()));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("reading the default store"), "{stderr}");
    let (code, stdout, stderr) = run(obs()
        .args(["logs", "--trace", &trace_id, "--since", "30d"])
        .env("XDG_DATA_HOME", data.path()));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.is_empty(), "{stderr}");
    let (code, stdout, _) = run(obs()
        .args(["doctor", "-o", "json"])
        .env("XDG_DATA_HOME", data.path()));
    assert_eq!(code, 0, "{stdout}");
    let doctor: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doctor["default_store"], expected.display().to_string());

    // A configured backend wins over the default store: no silent switch.
    let (code, _, stderr) = run(obs()
        .args(&without_store)
        .args([
            "--prometheus-url",
            &format!("http://127.0.0.1:{}", free_port()),
        ])
        .env("XDG_DATA_HOME", data.path()));
    assert_eq!(code, 1);
    assert!(!stderr.contains("default store"), "{stderr}");
}
