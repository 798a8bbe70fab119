//! Which symptom `obs investigate` examines: the error ratio and the p99 latency by default
//! (the one that moved is the symptom, the other is said to be steady), one of them with
//! `--symptom`, or any SLIs given with `--symptom-query` (repeatable).

use serde_json::Value;

use crate::cli::obs;
use crate::investigate_cluster::Flaky;
use crate::investigate_prometheus::{
    assert_onset_as_planted, backfilled, investigate_json, warnings,
};
use crate::support::scenario::{self, Scenario};

fn window(s: &Scenario) -> [String; 4] {
    [
        "--since".into(),
        (s.end - 2 * 3600).to_string(),
        "--until".into(),
        s.end.to_string(),
    ]
}

fn args<'a>(window: &'a [String; 4], more: &[&'a str]) -> Vec<&'a str> {
    window
        .iter()
        .map(String::as_str)
        .chain(more.iter().copied())
        .collect()
}

#[test]
fn a_latency_only_fault_is_found_in_the_p99_and_the_steady_error_ratio_is_said() {
    let (s, prom) = backfilled(scenario::planted_latency_only, 7);
    let w = window(&s);

    let (code, report, stderr) = investigate_json(prom.url(), &args(&w, &[]));
    assert_eq!(code, 0, "{stderr}");
    let symptom = &report["symptom"];
    assert_eq!(symptom["kind"], "latency", "{symptom}");
    assert_eq!(symptom["origin"], "auto:http_requests_total:p99");
    assert!(
        symptom["query"].as_str().unwrap().starts_with(
            "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket["
        ),
        "{symptom}"
    );
    assert_eq!(symptom["verdict"], "spike", "{symptom}");
    assert_onset_as_planted(&report, &s);
    // The error ratio was examined too, and is said to be steady.
    let others = symptom["also_examined"].as_array().unwrap();
    assert_eq!(others.len(), 1, "{symptom}");
    assert_eq!(others[0]["kind"], "errors");
    assert_eq!(others[0]["verdict"], "no_spike", "{}", others[0]);
    let why = symptom["why"].as_str().unwrap();
    assert!(why.contains("the p99 latency moved"), "{why}");
    assert!(why.contains("steady: the error ratio"), "{why}");
    // The latency histogram is the symptom's own metric, not a candidate; the cause leads.
    let ranked = report["correlations"].as_array().unwrap();
    assert_eq!(ranked[0]["metric"], s.root_cause, "{:#?}", &ranked[..5]);
    assert!(
        ranked.iter().all(|c| !c["metric"]
            .as_str()
            .unwrap()
            .starts_with("http_request_duration")),
        "{ranked:#?}"
    );

    // The text report says which was chosen and why.
    let out = obs()
        .args(["investigate", "--prometheus-url", prom.url()])
        .args(args(&w, &[]))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("chosen: the p99 latency moved"), "{text}");
    assert!(
        text.contains("also examined: (sum(rate(http_requests_total{code=~\"5..\"}"),
        "{text}"
    );

    // Asked for the error ratio alone: a plain "no spike", nothing else examined.
    let (code, errors, stderr) = investigate_json(prom.url(), &args(&w, &["--symptom", "errors"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(errors["symptom"]["kind"], "errors");
    assert_eq!(
        errors["symptom"]["verdict"], "no_spike",
        "{}",
        errors["symptom"]
    );
    assert!(
        errors["symptom"]["also_examined"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert!(errors["symptom"]["why"].is_null());
}

#[test]
fn an_error_fault_is_still_the_error_ratio_when_both_moved() {
    let (s, prom) = backfilled(scenario::planted, 7);
    let w = window(&s);
    let (code, report, stderr) = investigate_json(prom.url(), &args(&w, &[]));
    assert_eq!(code, 0, "{stderr}");
    let symptom = &report["symptom"];
    // Errors and latency rose at the same scrape: the error ratio, examined first, is the
    // symptom; the p99 moved too and is said.
    assert_eq!(symptom["kind"], "errors", "{symptom}");
    assert_eq!(symptom["verdict"], "spike");
    let others = symptom["also_examined"].as_array().unwrap();
    assert_eq!(others[0]["kind"], "latency");
    assert_eq!(others[0]["verdict"], "spike", "{}", others[0]);
    assert_eq!(report["correlations"][0]["metric"], s.root_cause);

    // Only the latency: the same cause.
    let (code, latency, stderr) =
        investigate_json(prom.url(), &args(&w, &["--symptom", "latency"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(latency["symptom"]["kind"], "latency");
    assert_eq!(latency["symptom"]["verdict"], "spike");
    assert_eq!(latency["correlations"][0]["metric"], s.root_cause);
}

#[test]
fn of_several_symptom_queries_the_one_that_moved_is_the_symptom_and_the_rest_are_steady() {
    let (s, prom) = backfilled(scenario::planted, 7);
    let w = window(&s);
    let throughput = "sum(rate(http_requests_total[$__rate_interval]))";
    let ratio = "sum(rate(http_requests_total{code=~\"5..\",service=\"checkout\"}[$__rate_interval])) / sum(rate(http_requests_total{service=\"checkout\"}[$__rate_interval]))";
    // Repeatable, and --error-query is the same flag.
    let (code, report, stderr) = investigate_json(
        prom.url(),
        &args(&w, &["--symptom-query", throughput, "--error-query", ratio]),
    );
    assert_eq!(code, 0, "{stderr}");
    let symptom = &report["symptom"];
    assert_eq!(symptom["kind"], "query");
    assert_eq!(symptom["origin"], "flag");
    assert_eq!(symptom["verdict"], "spike", "{symptom}");
    let rate = report["window"]["resolution"]["rate_window"]
        .as_str()
        .unwrap();
    assert_eq!(
        symptom["query"].as_str().unwrap(),
        ratio.replace("$__rate_interval", rate)
    );
    let others: &Vec<Value> = symptom["also_examined"].as_array().unwrap();
    assert_eq!(others.len(), 1);
    assert_eq!(
        others[0]["query"].as_str().unwrap(),
        throughput.replace("$__rate_interval", rate)
    );
    assert_eq!(others[0]["verdict"], "no_spike", "{}", others[0]);
    assert!(
        symptom["why"]
            .as_str()
            .unwrap()
            .contains("; steady: sum(rate(")
    );
    // Given queries name only their own metrics: the same requests' latency histogram, which
    // rose with the errors, stays a candidate; the cause, which led them, is still at the top.
    let top: Vec<&str> = report["correlations"].as_array().unwrap()[..3]
        .iter()
        .map(|c| c["metric"].as_str().unwrap())
        .collect();
    assert!(top.contains(&s.root_cause), "{top:?}");

    // A given query that does not parse is an error in Prometheus's words, whichever it is.
    let out = obs()
        .args(["investigate", "--prometheus-url", prom.url()])
        .args(args(
            &w,
            &[
                "--symptom-query",
                ratio,
                "--symptom-query",
                "sum(rate(x[1m]",
            ],
        ))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("parse error"), "{stderr}");
}

#[test]
fn the_same_data_at_four_steps_ranks_the_same_cause_first() {
    let (s, prom) = backfilled(scenario::planted, 7);
    let w = window(&s);
    // The scrape interval (15 s) and three coarser steps: the rate window follows each step
    // ($__rate_interval), and the cause stays first, leading the symptom.
    for step in ["15s", "30s", "1m", "2m"] {
        let (code, report, stderr) = investigate_json(prom.url(), &args(&w, &["--step", step]));
        assert_eq!(code, 0, "{stderr}");
        let res = &report["window"]["resolution"];
        assert_eq!(res["step_origin"], "flag", "{res}");
        let step_seconds = res["step_seconds"].as_f64().unwrap();
        let rate = res["rate_window_seconds"].as_f64().unwrap();
        assert!(
            rate >= step_seconds + 15.0 && rate >= 60.0,
            "step {step}: {res}"
        );
        let top = &report["correlations"][0];
        assert_eq!(
            top["metric"], s.root_cause,
            "step {step}: {:#?}",
            report["correlations"]
        );
        assert_eq!(top["timing"], "leads", "step {step}: {top}");
    }
}

#[test]
fn an_auto_detected_latency_that_cannot_be_read_is_a_warning_and_the_error_ratio_still_ranks() {
    let (s, prom) = backfilled(scenario::planted, 7);
    let w = window(&s);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(async {
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(Flaky {
                prometheus: prom.addr().to_string(),
                failing: vec!["histogram_quantile(0.99, sum by (le) (rate(http_request".into()],
                slow: Vec::new(),
            })
            .mount(&server)
            .await;
        server
    });
    let (code, report, stderr) = investigate_json(&server.uri(), &args(&w, &[]));
    assert_eq!(code, 0, "{stderr}");
    let symptom = &report["symptom"];
    assert_eq!(symptom["kind"], "errors", "{symptom}");
    assert_eq!(symptom["verdict"], "spike", "{symptom}");
    assert_eq!(symptom["also_examined"][0]["kind"], "latency");
    assert_eq!(symptom["also_examined"][0]["verdict"], "no_data");
    let warnings = warnings(&report);
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("symptom histogram_quantile(0.99")
                && w.contains("not read")
                && w.contains("503")),
        "{warnings:#?}"
    );
    assert_eq!(report["correlations"][0]["metric"], s.root_cause);
}
