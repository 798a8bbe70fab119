//! `obs investigate` against a real Prometheus: a planted incident backfilled with promtool,
//! and a live exporter whose exemplars Prometheus scrapes.

use std::time::Duration;

use serde_json::Value;

use crate::cli::obs;
use crate::support::exporter::Exporter;
use crate::support::prometheus::{Options, TestPrometheus, unix_now};
use crate::support::scenario::{self, Scenario};

fn schema() -> jsonschema::Validator {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/report.v1.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the published schema is a valid JSON Schema")
}

/// The report's warnings, as text.
pub(crate) fn warnings(report: &Value) -> Vec<&str> {
    report["warnings"]
        .as_array()
        .expect("a report has a warnings array")
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

/// Runs `obs investigate -o json` and checks the output against the published schema.
pub(crate) fn investigate_json(url: &str, args: &[&str]) -> (i32, Value, String) {
    let out = obs()
        .args(["investigate", "-o", "json", "--prometheus-url", url])
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let code = out.status.code().unwrap_or(-1);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("stdout is not JSON ({e}); exit {code}; stderr: {stderr}; stdout: {stdout}")
    });
    let validator = schema();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "report does not match schema/report.v1.json: {errors:#?}"
    );
    (code, report, stderr)
}

/// The planted incident, ending in the last 90 minutes. `end` is a multiple of 90 minutes (the
/// period of the scenario's traffic wave, and a multiple of every step) so that the data and the
/// query grid are the same in every run: a seed always gives the same report.
fn planted_with_seed(seed: u64) -> (Scenario, TestPrometheus) {
    backfilled(scenario::planted, seed)
}

/// A scenario (`scenario::planted` or a variant) on that grid, backfilled into a real
/// Prometheus.
pub(crate) fn backfilled(plant: fn(u64, u64) -> Scenario, seed: u64) -> (Scenario, TestPrometheus) {
    let end = (unix_now() - 300) / 5400 * 5400;
    let s = plant(end, seed);
    let prom = TestPrometheus::start(Options {
        backfill: Some(s.openmetrics.clone()),
        ..Options::default()
    });
    (s, prom)
}

fn planted() -> (Scenario, TestPrometheus) {
    planted_with_seed(7)
}

/// The symptom's onset is the planted one, within two steps.
pub(crate) fn assert_onset_as_planted(report: &Value, s: &Scenario) {
    let step = report["window"]["step_seconds"].as_f64().unwrap();
    let onset = report["symptom"]["onset_unix"].as_f64().unwrap();
    assert!(
        (onset - s.onset as f64).abs() <= 2.0 * step,
        "onset {onset} vs planted {} (step {step})",
        s.onset
    );
}

fn ranked_metrics(report: &Value) -> Vec<(String, Value)> {
    report["correlations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["metric"].as_str().unwrap().to_string(), c.clone()))
        .collect()
}

#[test]
fn planted_incident_ranks_the_root_cause_first_and_decoys_insignificant() {
    for seed in [1, 2, 3] {
        let (s, prom) = planted_with_seed(seed);
        check_planted_ranking(&s, &prom);
    }
}

fn check_planted_ranking(s: &Scenario, prom: &TestPrometheus) {
    let since = (s.end - 2 * 3600).to_string();
    let until = s.end.to_string();
    let (code, report, stderr) =
        investigate_json(prom.url(), &["--since", &since, "--until", &until]);
    assert_eq!(code, 0, "{stderr}");

    // The symptom was found by convention and its spike placed where it was planted.
    let symptom = &report["symptom"];
    assert_eq!(symptom["origin"], "auto:http_requests_total");
    assert_eq!(symptom["verdict"], "spike", "{symptom}");
    assert_onset_as_planted(&report, s);
    let peak = symptom["peak"].as_f64().unwrap();
    let baseline = symptom["baseline"].as_f64().unwrap();
    assert!(
        baseline < 0.01 && peak > 4.0 * baseline,
        "baseline {baseline}, peak {peak}"
    );

    let ranked = ranked_metrics(&report);
    let names: Vec<&String> = ranked.iter().map(|r| &r.0).collect();
    let (first, top) = &ranked[0];
    assert_eq!(first, s.root_cause, "ranking: {names:#?}");
    assert_eq!(top["rank"], 1);
    assert_eq!(top["significant"], true);
    assert!(
        top["lag_seconds"].as_f64().unwrap() > 0.0,
        "the root cause moved first: {top}"
    );
    assert!(top["q_value"].as_f64().unwrap() < 1e-10);

    // The consequence is seen, after the errors, and below the cause.
    let (lag_rank, lagging) = ranked
        .iter()
        .enumerate()
        .find(|(_, (m, _))| m == s.lagging)
        .map(|(i, (_, v))| (i, v.clone()))
        .expect("the lagging consequence is ranked");
    assert!(lag_rank > 0);
    assert_eq!(lagging["significant"], true);
    assert!(lagging["lag_seconds"].as_f64().unwrap() < 0.0, "{lagging}");

    // Random walks, the trend, the unrelated step and the noise are never strongly significant.
    // At a 5 % false discovery rate a decoy can scrape under q = 0.05 now and then: over seeds
    // 1–20, 4 of 260 decoy series did (seeds 3, 7, 18; every one with q > 0.04), so at most one
    // borderline decoy is allowed here, and none under q = 0.01.
    let mut flagged = 0;
    for decoy in &s.decoys {
        for (metric, entry) in ranked.iter().filter(|(m, _)| m == decoy) {
            assert!(
                entry["q_value"].as_f64().unwrap() > 0.01,
                "decoy {metric} flagged: {entry}"
            );
            flagged += usize::from(entry["significant"] == true);
        }
    }
    assert!(flagged <= 1, "{flagged} decoys significant: {names:#?}");
    // The symptom's own metric is not a candidate.
    assert!(ranked.iter().all(|(m, _)| m != "http_requests_total"));
    assert_eq!(report["sources"][0]["status"], "ok");
    assert!(report["candidates"]["queries"].as_u64().unwrap() >= 10);
}

#[test]
fn text_report_shows_window_zone_onset_and_the_ranked_table() {
    let (s, prom) = planted();
    let since = (s.end - 2 * 3600).to_string();
    let until = s.end.to_string();
    let out = obs()
        .args([
            "investigate",
            "--prometheus-url",
            prom.url(),
            "--since",
            &since,
            "--until",
            &until,
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("UTC"), "the zone is shown: {stdout}");
    assert!(stdout.contains("onset"), "{stdout}");
    assert!(stdout.contains(s.root_cause), "{stdout}");
    assert!(stdout.contains("leads"), "{stdout}");
    // No colour escapes when NO_COLOR is set and stdout is not a terminal.
    assert!(!stdout.contains('\u{1b}'), "{stdout}");
}

#[test]
fn a_quiet_window_says_no_spike_plainly() {
    let (s, prom) = planted();
    // Two hours that end well before the planted onset.
    let until = s.onset - 20 * 60;
    let since = until - 3600;
    let (code, report, stderr) = investigate_json(
        prom.url(),
        &["--since", &since.to_string(), "--until", &until.to_string()],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        report["symptom"]["verdict"], "no_spike",
        "{}",
        report["symptom"]
    );
    assert!(
        report["symptom"]["summary"]
            .as_str()
            .unwrap()
            .starts_with("no spike in this window")
    );
    assert!(report["symptom"]["onset"].is_null());
}

#[test]
fn an_empty_window_is_said_not_a_crash() {
    let (s, prom) = planted();
    // A window with no data at all (before the backfill starts), with an explicit symptom.
    let until = s.start - 7200;
    let since = until - 3600;
    let (code, report, stderr) = investigate_json(
        prom.url(),
        &[
            "--since",
            &since.to_string(),
            "--until",
            &until.to_string(),
            "--error-query",
            "sum(rate(http_requests_total{code=~\"5..\"}[1m])) / sum(rate(http_requests_total[1m]))",
            "--service",
            "checkout",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["symptom"]["verdict"], "no_data");
    assert!(
        report["warnings"].as_array().unwrap().iter().any(|w| w
            .as_str()
            .unwrap()
            .contains("does not narrow an explicit --symptom-query")),
        "{}",
        report["warnings"]
    );
    assert!(report["correlations"].as_array().unwrap().is_empty());
}

#[test]
fn a_promql_error_is_reported_in_prometheus_own_words() {
    let (s, prom) = planted();
    let out = obs()
        .args([
            "investigate",
            "--prometheus-url",
            prom.url(),
            "--since",
            &(s.end - 3600).to_string(),
            "--until",
            &s.end.to_string(),
            "--error-query",
            "sum(rate(http_requests_total[1m]",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("parse error"), "{stderr}");
    assert!(stderr.contains("bad_data"), "{stderr}");
    assert!(stderr.contains(prom.url()), "{stderr}");
}

#[test]
fn without_a_known_error_metric_obs_says_how_to_give_one() {
    let prom = TestPrometheus::start(Options::default());
    let out = obs()
        .args([
            "investigate",
            "--prometheus-url",
            prom.url(),
            "--since",
            "5m",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("--symptom-query PROMQL"), "{stderr}");

    // Asked for the latency alone, it says which histograms it looked for.
    let out = obs()
        .args(["investigate", "--prometheus-url", prom.url()])
        .args(["--since", "5m", "--symptom", "latency"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--symptom latency: no request-duration histogram found"),
        "{stderr}"
    );
}

#[test]
fn exemplars_of_the_spike_lead_to_real_trace_ids_errors_first() {
    let exporter = Exporter::start(Duration::from_secs(8));
    let prom = TestPrometheus::start(Options {
        scrape_target: Some(exporter.addr.clone()),
        scrape_interval: "1s",
        ..Options::default()
    });
    let start = unix_now();
    prom.wait_for_exemplars(
        "http_requests_total{code=~\"5..\"}",
        start - 60,
        unix_now() + 60,
        Duration::from_secs(40),
    );
    // Let the incident run a few scrapes past the first error exemplar.
    std::thread::sleep(Duration::from_secs(4));
    let (code, report, stderr) = investigate_json(
        prom.url(),
        &[
            "--since",
            "1m",
            "--step",
            "1s",
            "--scrape-interval",
            "1s",
            "--service",
            "checkout",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let exemplars = report["exemplars"].as_array().unwrap();
    assert!(!exemplars.is_empty(), "{report:#}");
    let served = exporter.trace_ids_served();
    for e in exemplars {
        let id = e["trace_id"].as_str().unwrap();
        assert!(served.iter().any(|s| s == id), "{id} was never served");
        assert_eq!(id.len(), 32);
    }
    assert_eq!(
        exemplars[0]["kind"], "error",
        "errors come first: {exemplars:#?}"
    );
    // Slow exemplars come after the errors, slowest first.
    let slow: Vec<f64> = exemplars
        .iter()
        .filter(|e| e["kind"] == "slow")
        .map(|e| e["value"].as_f64().unwrap())
        .collect();
    assert!(slow.windows(2).all(|w| w[0] >= w[1]), "{slow:?}");
    assert!(
        report["symptom"]["query"]
            .as_str()
            .unwrap()
            .contains("service=\"checkout\"")
    );

    // Nothing but the window: the 1 s scrape interval comes from the targets API for the
    // symptom's job (it agrees with the samples' spacing), the step follows it, and the rate
    // window is Grafana's $__rate_interval, 4 scrapes.
    let (code, bare, stderr) = investigate_json(prom.url(), &["--since", "1m"]);
    assert_eq!(code, 0, "{stderr}");
    let res = &bare["window"]["resolution"];
    assert_eq!(res["scrape_interval_seconds"], 1.0, "{res} {stderr}");
    assert_eq!(
        res["scrape_interval_origin"], "prometheus targets API (job exporter)",
        "{res}"
    );
    assert_eq!(res["step_seconds"], 1.0, "{res}");
    assert_eq!(res["rate_window"], "4s", "{res}");
    assert!(
        bare["symptom"]["query"].as_str().unwrap().contains("[4s]"),
        "{}",
        bare["symptom"]
    );
}

#[test]
fn color_always_colours_and_a_closed_pipe_is_not_an_error() {
    let (s, prom) = planted();
    let window = [
        "--since".to_string(),
        (s.end - 7200).to_string(),
        "--until".into(),
        s.end.to_string(),
    ];
    let out = obs()
        .args([
            "investigate",
            "--color",
            "always",
            "--prometheus-url",
            prom.url(),
        ])
        .args(&window)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains('\u{1b}'),
        "--color always colours even into a pipe"
    );

    // `obs … -o json | head -c 16`: the JSON (values of every series) is far larger than a
    // pipe buffer, so obs is still writing when the reader goes away.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("obs"))
        .env("XDG_CONFIG_HOME", "/nonexistent-obs-test-config")
        .args(["investigate", "-o", "json", "--prometheus-url", prom.url()])
        .args(&window)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}

/// OpenMetrics for an OpenTelemetry-instrumented service as the Collector's Prometheus exporter
/// names it: `http_server_request_duration_seconds` with `http_response_status_code`; 5xx go
/// from 1 % to 30 % at `onset`.
fn otel_openmetrics(start: u64, end: u64, onset: u64) -> String {
    let mut out = String::from(
        "# TYPE http_server_request_duration_seconds histogram\n# UNIT http_server_request_duration_seconds seconds\n",
    );
    for (code, share_before, share_after) in [("200", 0.99, 0.70), ("500", 0.01, 0.30)] {
        let labels = format!("service_name=\"cart\",http_response_status_code=\"{code}\"");
        let mut count = 0.0;
        let mut lines: Vec<(String, Vec<String>)> = vec![
            (format!("_bucket{{{labels},le=\"0.5\"}}"), vec![]),
            (format!("_bucket{{{labels},le=\"+Inf\"}}"), vec![]),
            (format!("_count{{{labels}}}"), vec![]),
            (format!("_sum{{{labels}}}"), vec![]),
        ];
        for t in (start..=end).step_by(15) {
            count += 20.0
                * 15.0
                * if t >= onset {
                    share_after
                } else {
                    share_before
                };
            for (i, (_, samples)) in lines.iter_mut().enumerate() {
                let v = if i == 3 { count * 0.1 } else { count };
                samples.push(format!("{v} {t}"));
            }
        }
        for (suffix, samples) in lines {
            for sample in samples {
                out.push_str(&format!(
                    "http_server_request_duration_seconds{suffix} {sample}\n"
                ));
            }
        }
    }
    out.push_str("# EOF\n");
    out
}

#[test]
fn the_opentelemetry_convention_is_detected_and_narrowed_by_service() {
    let end = (unix_now() - 300) / 60 * 60;
    let start = end - 4 * 3600;
    let onset = end - 1800;
    let prom = TestPrometheus::start(Options {
        backfill: Some(otel_openmetrics(start, end, onset)),
        ..Options::default()
    });
    let (code, report, stderr) = investigate_json(
        prom.url(),
        &[
            "--since",
            &(end - 3600).to_string(),
            "--until",
            &end.to_string(),
            "--service",
            "cart",
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let symptom = &report["symptom"];
    assert_eq!(symptom["origin"], "auto:opentelemetry");
    let query = symptom["query"].as_str().unwrap();
    assert!(
        query.contains("http_server_request_duration_seconds_count"),
        "{query}"
    );
    assert!(
        query.contains(r#"http_response_status_code=~"5..""#),
        "{query}"
    );
    assert!(
        query.contains(r#"service_name="cart""#),
        "the service label was found: {query}"
    );
    assert_eq!(symptom["verdict"], "spike");
    let onset_seen = symptom["onset_unix"].as_f64().unwrap();
    assert!(
        (onset_seen - onset as f64).abs() <= 60.0,
        "{onset_seen} vs {onset}"
    );
}

#[test]
fn candidates_can_be_capped_and_added_by_hand() {
    let (s, prom) = planted();
    let extra = "sum(db_connections_in_use)";
    let (code, report, stderr) = investigate_json(
        prom.url(),
        &[
            "--since",
            &(s.end - 7200).to_string(),
            "--until",
            &s.end.to_string(),
            "--max-candidates",
            "3",
            "--candidate",
            extra,
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    let candidates = &report["candidates"];
    assert_eq!(
        candidates["queries"], 4,
        "3 typed + 1 explicit: {candidates}"
    );
    assert_eq!(candidates["fetched_names"], 3, "{candidates}");
    assert!(
        candidates["scored_names"].as_u64().unwrap() > 3,
        "the cap bounds the full fetches, every name is scored: {candidates}"
    );
    assert_eq!(candidates["skipped_over_cap"], 0, "{candidates}");
    if candidates["below_cap_names"].as_u64().unwrap() > 0 {
        assert!(
            report["warnings"]
                .as_array()
                .unwrap()
                .iter()
                .any(|w| w.as_str().unwrap().contains("--max-candidates")),
            "{report:#}"
        );
    }
    // The cause changed most: it is among the three fetched in full.
    assert!(
        report["correlations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["metric"] == s.root_cause && c["significant"] == true),
        "{report:#}"
    );
    let hand = report["correlations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["query"] == extra)
        .expect("the explicit candidate is ranked");
    assert_eq!(hand["significant"], true, "{hand}");
}

/// A new version's `*_build_info` series, ten minutes before the onset, is a deploy marker on
/// the timeline, in time order before the onset.
#[test]
fn a_new_build_info_series_is_a_deploy_marker_before_the_onset() {
    let end = (unix_now() - 300) / 5400 * 5400;
    let s = scenario::planted(end, 7);
    let deploy = s.onset - 600;
    let mut om = s
        .openmetrics
        .trim_end()
        .trim_end_matches("# EOF")
        .to_string();
    om.push_str("# TYPE shop_build_info gauge\n");
    for (version, from, to) in [("1.0", s.start, deploy - 15), ("2.0", deploy, s.end)] {
        for t in (from..=to).step_by(15) {
            om.push_str(&format!("shop_build_info{{version=\"{version}\"}} 1 {t}\n"));
        }
    }
    om.push_str("# EOF\n");
    let prom = TestPrometheus::start(Options {
        backfill: Some(om),
        ..Options::default()
    });
    let since = (s.end - 2 * 3600).to_string();
    let until = s.end.to_string();
    let (code, report, stderr) =
        investigate_json(prom.url(), &["--since", &since, "--until", &until]);
    assert_eq!(code, 0, "{stderr}");
    let timeline = report["timeline"].as_array().unwrap();
    let marker = timeline
        .iter()
        .position(|e| e["kind"] == "deploy_marker")
        .unwrap_or_else(|| panic!("no deploy marker: {timeline:#?}"));
    let m = &timeline[marker];
    assert!(
        m["text"]
            .as_str()
            .unwrap()
            .contains(r#"shop_build_info{version="2.0"} appeared"#),
        "{m}"
    );
    let step = report["window"]["step_seconds"].as_f64().unwrap();
    let at = m["at_unix"].as_f64().unwrap();
    assert!(
        (at - deploy as f64).abs() <= 2.0 * step,
        "{at} vs {deploy} (step {step})"
    );
    let onset = timeline.iter().position(|e| e["kind"] == "onset").unwrap();
    assert!(marker < onset, "{timeline:#?}");
    assert_eq!(
        timeline
            .iter()
            .filter(|e| e["kind"] == "deploy_marker")
            .count(),
        1,
        "{timeline:#?}"
    );
}
