//! `obs patterns` and `obs logs --patterns` as a user runs them: files, stdin, JSON, per-line
//! output, bad input, and the lines of a recorded Loki response.

use std::io::Write as _;

use crate::cli::obs;
use crate::support::recorded::Recorded;
use serde_json::Value;

fn run(cmd: &mut assert_cmd::Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_lines(s: &str) -> Vec<Value> {
    s.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

const LOG: &str = "\
conn 17 from 10.0.0.4:5123 closed after 1.5s
payment 8812 failed: card declined (trace_id=4bf92f3577b34da6a3ce929d0e0e4736)

conn 18 from 10.0.0.9:6001 closed after 250ms
payment 8813 failed: card declined (trace_id=00f067aa0ba902b7a3ce929d0e0e4736)
conn 19 from 10.0.0.4:5124 closed after 3s
";

#[test]
fn patterns_of_a_file_by_count_in_text_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("app.log");
    std::fs::write(&file, LOG).unwrap();

    let (code, stdout, stderr) = run(obs().arg("patterns").arg(&file));
    assert_eq!(code, 0, "{stderr}");
    let rows: Vec<&str> = stdout.lines().collect();
    assert!(
        rows[1].contains("conn <*> from <*>:<*> closed after <*>"),
        "{stdout}"
    );
    assert!(rows[1].trim_start().starts_with('3'), "{stdout}");
    assert!(rows[2].contains("e.g. conn 17 from 10.0.0.4:5123 closed after 1.5s"));
    assert!(rows[3].contains("payment <*> failed: card declined (trace_id=<*>)"));
    assert!(stderr.contains("6 lines, 2 patterns"), "{stderr}");
    assert!(stderr.contains("1 empty lines skipped"), "{stderr}");

    let (code, stdout, _) = run(obs().args(["patterns", "-o", "json"]).arg(&file));
    assert_eq!(code, 0);
    let p = json_lines(&stdout);
    assert_eq!(p.len(), 2);
    assert_eq!(p[0]["template"], "conn <*> from <*>:<*> closed after <*>");
    assert_eq!(p[0]["count"], 3);
    assert_eq!(
        p[0]["example"],
        "conn 17 from 10.0.0.4:5123 closed after 1.5s"
    );
    assert_eq!(p[0]["id"].as_str().unwrap().len(), 12);
    assert_eq!(p[1]["count"], 2);
}

#[test]
fn per_line_output_follows_the_input_order_from_stdin() {
    let (code, stdout, stderr) = run(obs().args(["patterns", "--per-line", "-"]).write_stdin(LOG));
    assert_eq!(code, 0, "{stderr}");
    let rows = json_lines(&stdout);
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[0]["line"], 1);
    assert_eq!(rows[0]["pattern"], rows[3]["pattern"]);
    assert_eq!(rows[0]["pattern"], rows[5]["pattern"]);
    assert_eq!(rows[1]["pattern"], rows[4]["pattern"]);
    assert_ne!(rows[0]["pattern"], rows[1]["pattern"]);
    assert!(rows[2]["pattern"].is_null(), "an empty line has no pattern");
    assert_eq!(
        rows[4]["template"],
        "payment <*> failed: card declined (trace_id=<*>)"
    );

    // The ids are the ones `-o json` prints for the same input.
    let (_, json, _) = run(obs().args(["patterns", "-o", "json"]).write_stdin(LOG));
    assert_eq!(json_lines(&json)[0]["id"], rows[0]["pattern"]);
}

#[test]
fn bad_input_a_missing_file_an_empty_file_binary_garbage_and_a_huge_line() {
    let (code, stdout, stderr) = run(obs().args(["patterns", "/nonexistent/app.log"]));
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("cannot open /nonexistent/app.log") && stderr.contains("check the path"),
        "{stderr}"
    );

    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.log");
    std::fs::write(&empty, "").unwrap();
    let (code, stdout, stderr) = run(obs().arg("patterns").arg(&empty));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("0 lines, 0 patterns"), "{stderr}");

    // Binary garbage and a 10 MB line without a newline at the end.
    let garbage = dir.path().join("garbage.bin");
    let mut f = std::fs::File::create(&garbage).unwrap();
    let mut x: u32 = 0x1234_5678;
    let bytes: Vec<u8> = (0..200_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 8) as u8
        })
        .collect();
    f.write_all(&bytes).unwrap();
    f.write_all(b"\nstarted worker 3\n").unwrap();
    f.write_all(&b"y=1 ".repeat(2_500_000)).unwrap();
    drop(f);
    let (code, stdout, stderr) = run(obs().args(["patterns", "-o", "json"]).arg(&garbage));
    assert_eq!(code, 0, "{stderr}");
    let p = json_lines(&stdout);
    assert!(
        p.iter().any(|p| p["template"] == "started worker <*>"),
        "{stdout}"
    );
    let long = p
        .iter()
        .find(|p| p["template"].as_str().unwrap().starts_with("y=<*> y=<*>"))
        .expect("the 10 MB line has a pattern");
    assert!(long["template"].as_str().unwrap().ends_with("<…>"));
    assert!(stderr.contains("grouped by their start"), "{stderr}");
}

#[test]
fn the_pattern_cap_is_said_on_stderr() {
    let input: String = (0..50)
        .map(|i| {
            format!(
                "{}\n",
                "abcdefghijklmnopqrstuvwxyz"
                    .chars()
                    .cycle()
                    .skip(i)
                    .take(8 + i % 5)
                    .collect::<String>()
            )
        })
        .collect();
    let (code, stdout, stderr) = run(obs()
        .args(["patterns", "--max-patterns", "10", "-o", "json"])
        .write_stdin(input));
    assert_eq!(code, 0, "{stderr}");
    assert!(json_lines(&stdout).len() <= 10);
    assert!(
        stderr.contains("the pattern cap of 10 was reached: 40 lines"),
        "{stderr}"
    );
}

#[test]
fn logs_patterns_group_the_lines_loki_returned() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(async {
        let s = Recorded::start().await;
        s.get("/loki/api/v1/query_range")
            .json("loki/query_range_logs_json_parser_errors.json")
            .await;
        s
    });
    let (code, stdout, stderr) = run(obs().env("OBS_LOKI_URL", server.uri()).args([
        "logs",
        "--query",
        r#"{job="shop"} | json | level="error""#,
        "--since",
        "1795238354",
        "--until",
        "1795238850",
        "--patterns",
        "-o",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let p = json_lines(&stdout);
    assert!(!p.is_empty());
    let total: u64 = p.iter().map(|p| p["count"].as_u64().unwrap()).sum();
    assert!(
        stderr.contains(&format!("{total} lines, {} patterns", p.len())),
        "{stderr}"
    );
    let pool = p
        .iter()
        .find(|p| p["template"].as_str().unwrap().contains("PoolTimeout"))
        .expect("the PoolTimeout error is a pattern");
    assert!(pool["count"].as_u64().unwrap() >= 2, "{pool}");
    assert!(
        !pool["template"]
            .as_str()
            .unwrap()
            .contains("trace_id\": \"0")
    );
}
