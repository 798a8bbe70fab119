//! `obs investigate` at cluster size: the planted incident of tests/support/cluster.rs (a 5xx
//! spike, a root-cause gauge leading it by 2 min, N decoy names of ~5 series each, one in ten a
//! sparse histogram whose p99 spikes; 2.5 h at 30 s) backfilled with promtool into a real
//! Prometheus, at 500, 2,000 and 8,000 names with the cause's name sorting first, in the middle
//! and last. For each case: the cause's rank, wall time and peak RSS of the `obs` process,
//! the size of `-o json`, the queries sent, the decoys flagged significant (and how many of
//! those are p99s) — next to a bare parallel HTTP client (reqwest, gzip, the same
//! concurrency) sending the very queries obs sent, replayed from obs's own `-vv` request log,
//! so that obs's overhead over the backend is a ratio.
//!
//! `cargo bench --bench cluster` (needs `prometheus` and `promtool`). `OBS_CLUSTER_CASES`
//! picks cases, e.g. `500:first,8000:last` (default: every size × placement). Prints a
//! Markdown table on stdout.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use serde_json::Value;

#[path = "../tests/support/mod.rs"]
mod support;

use support::cluster::{self, Placement};
use support::prometheus::{Options, TestPrometheus, unix_now};

const CONCURRENCY: usize = 16;

struct Run {
    wall: Duration,
    peak_rss_mib: f64,
    stdout: Vec<u8>,
    stderr: String,
}

/// The peak RSS of a running process, in KiB: its `VmHWM`, read until the process is gone.
///
/// Not `wait4`'s `ru_maxrss`: Linux carries the high-water mark of the memory image a child
/// was forked or spawned from over into it at `exec`, so a bench that holds a gigabyte of
/// generated data would measure every child it starts at a gigabyte.
fn watch_peak_rss(pid: u32) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let path = format!("/proc/{pid}/status");
        let mut peak = 0;
        // The high-water mark only grows; once the process exited its status has none.
        while let Ok(status) = std::fs::read_to_string(&path) {
            let Some(kib) = status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            else {
                break;
            };
            peak = peak.max(kib);
            std::thread::sleep(Duration::from_millis(5));
        }
        peak
    })
}

/// Runs the `obs` binary and measures its wall time and peak RSS ([`watch_peak_rss`]).
fn run_obs(args: &[String]) -> Run {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_obs"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run obs");
    let peak_rss = watch_peak_rss(child.id());
    let mut stdout_pipe = child.stdout.take().expect("stdout");
    let mut stderr_pipe = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut stdout_pipe, &mut v).ok();
        v
    });
    let err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut stderr_pipe, &mut v).ok();
        v
    });
    child.wait().expect("wait for obs");
    let wall = started.elapsed();
    Run {
        wall,
        peak_rss_mib: peak_rss.join().unwrap_or(0) as f64 / 1024.0,
        stdout: out.join().unwrap_or_default(),
        stderr: String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned(),
    }
}

/// The requests in obs's `-vv` log: `url=… query=[("k", "v"), …]`.
fn logged_requests(log: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    for line in log.lines() {
        let Some(u) = line.find(" url=") else {
            continue;
        };
        let Some(q) = line.find(" query=[") else {
            continue;
        };
        let url = line[u + 5..].split(' ').next().unwrap_or("").to_string();
        out.push((url, parse_debug_pairs(&line[q + 8..])));
    }
    out
}

/// Parses Rust's Debug of `[(&str, String)]` (after the `[`).
fn parse_debug_pairs(s: &str) -> Vec<(String, String)> {
    let mut strings = Vec::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let mut v = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => match chars.next() {
                            Some('n') => v.push('\n'),
                            Some('t') => v.push('\t'),
                            Some(other) => v.push(other),
                            None => break,
                        },
                        '"' => break,
                        other => v.push(other),
                    }
                }
                strings.push(v);
            }
            ']' => break,
            _ => {}
        }
    }
    strings
        .chunks(2)
        .filter(|c| c.len() == 2)
        .map(|c| (c[0].clone(), c[1].clone()))
        .collect()
}

/// The same requests from a bare reqwest client with gzip, `CONCURRENCY` in flight.
fn bare_client(requests: &[(String, Vec<(String, String)>)]) -> Duration {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let client = reqwest::Client::builder()
        .gzip(true)
        .build()
        .expect("client");
    let started = Instant::now();
    runtime.block_on(async {
        futures_util::stream::iter(requests.iter().map(|(url, query)| {
            let client = client.clone();
            async move {
                let body = client
                    .get(url)
                    .query(query)
                    .send()
                    .await
                    .expect("send")
                    .bytes()
                    .await
                    .expect("body");
                body.len()
            }
        }))
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<usize>>()
        .await
    });
    started.elapsed()
}

fn cases() -> Vec<(usize, Placement)> {
    let all = [Placement::First, Placement::Middle, Placement::Last];
    match std::env::var("OBS_CLUSTER_CASES") {
        Ok(list) if !list.trim().is_empty() => list
            .split(',')
            .filter_map(|c| {
                let (n, p) = c.trim().split_once(':')?;
                let p = all.into_iter().find(|x| x.as_str() == p)?;
                Some((n.parse().ok()?, p))
            })
            .collect(),
        _ => [500, 2000, 8000]
            .into_iter()
            .flat_map(|n| all.into_iter().map(move |p| (n, p)))
            .collect(),
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let end = (unix_now() - 300) / 1800 * 1800;
    println!(
        "| names | cause sorts | cause rank | obs wall | peak RSS | `-o json` | queries | bare client, same queries | obs / bare | decoys flagged (of them p99) | backfill |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for (names, placement) in cases() {
        let tb = Instant::now();
        let c = cluster::cluster(end, names, placement, 11);
        let prom = TestPrometheus::start(Options {
            backfill: Some(c.openmetrics.clone()),
            ..Options::default()
        });
        let backfill = tb.elapsed();
        let args: Vec<String> = [
            "investigate",
            "-o",
            "json",
            "--prometheus-url",
            prom.url(),
            "--since",
            &(c.end - 75 * 60).to_string(),
            "--until",
            &c.end.to_string(),
            "--scrape-interval",
            "30s",
            "--traces",
            "0",
            "--concurrency",
            &CONCURRENCY.to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Warm Prometheus's page cache and obs's binary once, then measure.
        let _ = run_obs(&args);
        let run = run_obs(&args);
        let report: Value = match serde_json::from_slice(&run.stdout) {
            Ok(r) => r,
            Err(e) => panic!("obs did not print JSON ({e}): {}", run.stderr),
        };
        let rows = report["correlations"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let rank = rows
            .iter()
            .find(|r| r["metric"] == c.cause.as_str())
            .and_then(|r| r["rank"].as_u64())
            .map_or("not ranked".to_string(), |r| r.to_string());
        let flagged: Vec<&str> = rows
            .iter()
            .filter(|r| r["significant"] == true)
            .filter_map(|r| r["metric"].as_str())
            .filter(|m| c.decoys.iter().any(|d| d == m))
            .collect();
        let flagged_p99 = flagged
            .iter()
            .filter(|m| c.spiky.iter().any(|s| s == *m))
            .count();

        // The queries obs sent, from its request log, replayed by a bare client.
        let mut logged = args.clone();
        logged.push("-vv".into());
        let log_run = run_obs(&logged);
        let requests = logged_requests(&log_run.stderr);
        let _ = bare_client(&requests);
        let bare = bare_client(&requests);
        let stats = &report["candidates"];
        println!(
            "| {names} | {} | {rank} | {:.2} s | {:.0} MiB | {:.2} MB | {} ({} scoring, {} full) | {:.2} s | {:.2}× | {} of {} names ({flagged_p99}) | {:.0} s |",
            placement.as_str(),
            run.wall.as_secs_f64(),
            run.peak_rss_mib,
            run.stdout.len() as f64 / 1e6,
            requests.len(),
            stats["scored_names"],
            stats["queries"],
            bare.as_secs_f64(),
            run.wall.as_secs_f64() / bare.as_secs_f64().max(1e-9),
            flagged.len(),
            c.decoys.len(),
            backfill.as_secs_f64(),
        );
        drop(prom);
    }
}
