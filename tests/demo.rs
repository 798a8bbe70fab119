//! `obs demo`: the simulated shop, the injected fault, and the verdict; `--keep` leaves a store
//! the other commands read.

use crate::cli::obs;

#[test]
fn demo_says_what_it_injected_and_whether_the_report_found_it_and_keeps_its_store() {
    let dir = tempfile::tempdir().unwrap();
    let kept = dir.path().join("demo.db");
    let out = obs()
        .args(["demo", "--keep", kept.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("injecting: checkout's database pool \"orders\" saturates"),
        "{stderr}"
    );
    assert!(
        stdout.contains("Injected  checkout's database pool"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Found it  yes: root cause ranked first"),
        "{stdout}"
    );
    assert!(stdout.contains("Source    metrics store"), "{stdout}");
    assert!(stdout.contains("PoolTimeoutError"), "{stdout}");

    // The kept store reproduces the investigation with the command the demo printed.
    let command = stderr
        .lines()
        .find_map(|l| l.split_once("the same investigation: obs ").map(|(_, c)| c))
        .unwrap_or_else(|| panic!("the demo prints the investigate command: {stderr}"));
    let args: Vec<&str> = command.split_whitespace().collect();
    let out = obs().args(&args).args(["-o", "json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sources = report["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 3, "{report}");
    assert!(
        sources
            .iter()
            .all(|s| s["kind"] == "store" && s["status"] == "ok"),
        "{report}"
    );
    assert_eq!(
        report["correlations"][0]["metric"], "db_client_connection_count",
        "{}",
        report["correlations"]
    );
    assert!(
        report["symptom"]["onset_unix"].is_f64(),
        "{}",
        report["symptom"]
    );
    assert!(!report["traces"].as_array().unwrap().is_empty(), "{report}");
    assert!(!report["logs"].as_array().unwrap().is_empty(), "{report}");

    // The postmortem document of the same investigation: its table, the worst trace's
    // waterfall, and commands that reproduce it (run here: the same leading candidate).
    let out = obs().args(&args).args(["-o", "markdown"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.starts_with("# Incident"), "{md}");
    assert!(md.contains("| 1 | `db_client_connection_count{"), "{md}");
    assert!(md.contains("### Worst trace\n\n```text\nTrace "), "{md}");
    let first_trace = report["traces"][0]["trace_id"].as_str().unwrap();
    assert!(
        md.contains(&format!(
            "obs trace {first_trace} --store {}",
            kept.display()
        )),
        "{md}"
    );
    let again = md
        .lines()
        .find(|l| l.starts_with("obs investigate ") && l.ends_with(" -o markdown"))
        .unwrap_or_else(|| panic!("a command to reproduce: {md}"));
    let again: Vec<&str> = again.split_whitespace().skip(1).collect();
    let out = obs()
        .args(&again[..again.len() - 2])
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let again: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["since_unix", "until_unix", "baseline_since_unix"] {
        let (a, b) = (
            again["window"][key].as_f64(),
            report["window"][key].as_f64(),
        );
        assert!((a.unwrap() - b.unwrap()).abs() < 1e-5, "{key}: {a:?} {b:?}");
    }
    assert_eq!(
        again["window"]["step_seconds"],
        report["window"]["step_seconds"]
    );
    assert_eq!(
        again["correlations"][0]["query"],
        report["correlations"][0]["query"]
    );

    // The injected fault's error log is a new pattern of the store's logs, tied to the traces
    // that logged it: the first of them has that line in its own logs.
    let pool = report["log_patterns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| {
            p["template"]
                .as_str()
                .unwrap()
                .starts_with("timeout acquiring a connection from pool orders after <*>")
        })
        .unwrap_or_else(|| panic!("the pool timeout is a pattern: {}", report["log_patterns"]));
    assert_eq!(pool["change"], "new", "{pool}");
    assert_eq!(pool["services"], serde_json::json!(["checkout"]), "{pool}");
    assert!(pool["q_value"].as_f64().unwrap() < 0.05, "{pool}");
    // The timeline: in time order, the injected pool change before the onset, then the peak,
    // and the first new log pattern pointing at its pattern.
    let timeline = report["timeline"].as_array().unwrap();
    let at: Vec<f64> = timeline
        .iter()
        .map(|e| e["at_unix"].as_f64().unwrap())
        .collect();
    assert!(at.windows(2).all(|w| w[0] <= w[1]), "{timeline:#?}");
    let kinds: Vec<&str> = timeline
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    let pos = |k: &str| {
        kinds
            .iter()
            .position(|x| *x == k)
            .unwrap_or_else(|| panic!("{k}: {kinds:?}"))
    };
    assert_eq!(pos("baseline"), 0);
    assert!(pos("onset") < pos("peak"), "{kinds:?}");
    let leading = &timeline[pos("leading_change")];
    assert!(
        leading["text"]
            .as_str()
            .unwrap()
            .contains("db_client_connection_count"),
        "{leading}"
    );
    assert!(pos("leading_change") < pos("onset"), "{kinds:?}");
    let evidence = timeline[pos("first_new_log_pattern")]["evidence"]
        .as_str()
        .unwrap();
    assert!(evidence.starts_with("log_patterns["), "{evidence}");

    // Findings: the pool first, pointing at the top candidate; the failing traces' exception
    // and the new log pattern follow, each pointing at its evidence.
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings[0]["rank"], 1);
    assert!(
        findings[0]["text"]
            .as_str()
            .unwrap()
            .contains("db_client_connection_count"),
        "{findings:#?}"
    );
    assert_eq!(findings[0]["evidence"][0], "correlations[0]");
    assert!(
        findings.iter().any(|f| f["evidence"][0]
            .as_str()
            .unwrap()
            .starts_with("log_patterns[")
            && f["text"].as_str().unwrap().contains("new error pattern")),
        "{findings:#?}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f["text"].as_str().unwrap().contains("PoolTimeoutError")),
        "{findings:#?}"
    );

    // Nothing but the window: the scrape interval (half a second) is measured from the stored
    // points, the step and the rate window follow, and the pool still ranks first, its
    // service first among the suspects.
    let pick = |flag: &str| {
        let at = args.iter().position(|a| *a == flag).unwrap();
        args[at + 1]
    };
    let out = obs()
        .args(["investigate", "--store", kept.to_str().unwrap()])
        .args(["--since", pick("--since"), "--until", pick("--until")])
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bare: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let res = &bare["window"]["resolution"];
    // A tick is half a second of real time, longer when the machine is busy.
    let scrape = res["scrape_interval_seconds"].as_f64().unwrap();
    assert!((0.45..1.0).contains(&scrape), "{res}");
    assert!(
        res["scrape_interval_origin"]
            .as_str()
            .unwrap()
            .starts_with("spacing of "),
        "{res}"
    );
    // 6 s over the window at most 400 points: the smallest nice step that fits.
    let step = res["step_seconds"].as_f64().unwrap();
    let window = bare["window"]["until_unix"].as_f64().unwrap()
        - bare["window"]["since_unix"].as_f64().unwrap();
    assert!(step >= scrape && window / step <= 401.0, "{res}");
    let rate = res["rate_window_seconds"].as_f64().unwrap();
    assert!(rate >= 4.0 * scrape && rate >= step + scrape, "{res}");
    assert_eq!(bare["symptom"]["verdict"], "spike", "{}", bare["symptom"]);
    assert_eq!(
        bare["correlations"][0]["metric"], "db_client_connection_count",
        "{}",
        bare["correlations"]
    );
    assert_eq!(bare["services"][0]["rank"], 1, "{}", bare["services"]);
    assert_eq!(
        bare["services"][0]["evidence"][0], 1,
        "{}",
        bare["services"]
    );
    assert_eq!(
        bare["services"][0]["service"],
        bare["correlations"][0]["labels"][bare["services"][0]["label"].as_str().unwrap()],
        "{}",
        bare["services"]
    );

    let trace = pool["trace_ids"][0].as_str().unwrap();
    let logs = obs()
        .args(["logs", "--trace", trace, "--store", kept.to_str().unwrap()])
        .args(["--since", "1h", "-o", "json"])
        .output()
        .unwrap();
    let logs = String::from_utf8_lossy(&logs.stdout);
    assert!(
        logs.contains("timeout acquiring a connection from pool orders"),
        "trace {trace}: {logs}"
    );

    let info = obs()
        .args([
            "store",
            "info",
            "--store",
            kept.to_str().unwrap(),
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert!(
        info.status.success(),
        "{}",
        String::from_utf8_lossy(&info.stderr)
    );
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(
        info["services"],
        serde_json::json!(["checkout", "frontend", "inventory", "payments"])
    );
    assert!(info["spans"].as_u64().unwrap() > 1000, "{info}");
    assert!(info["logs"].as_u64().unwrap() > 100, "{info}");
    assert!(info["metric_points"].as_u64().unwrap() > 1000, "{info}");

    // --keep never overwrites.
    let again = obs()
        .args(["demo", "--keep", kept.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}
