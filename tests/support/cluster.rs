//! A cluster-sized planted incident for `promtool tsdb create-blocks-from openmetrics`: the
//! 5xx spike of one service (`http_requests_total{code}`), one root-cause gauge that leads it
//! by 2 minutes, and `names` decoy metric names of about five series each — random walks,
//! noise, counters, trends, steps at random times (some inside the window) and sparse latency
//! histograms whose p99 spikes — deterministic from a seed. The root cause's name sorts first,
//! in the middle or last among the names, so a test can check that no name is lost to a cap.
//!
//! Samples every 30 s for 2.5 h ending at `end`; the incident starts 40 min before `end` and
//! lasts 15 min.

use std::fmt::Write as _;

use super::scenario::Rng;

pub const SCRAPE_INTERVAL: u64 = 30;
pub const DURATION: u64 = 150 * 60;
pub const ONSET_BEFORE_END: u64 = 40 * 60;
pub const INCIDENT: u64 = 15 * 60;
pub const LEAD: u64 = 120;
const SERVICES: [&str; 5] = ["frontend", "checkout", "payments", "inventory", "search"];
const FAILING: &str = "checkout";
const BUCKETS: [&str; 4] = ["0.1", "0.5", "2.5", "+Inf"];

/// Where the root cause's name sorts among the candidate names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    First,
    Middle,
    Last,
}

impl Placement {
    pub fn as_str(self) -> &'static str {
        match self {
            Placement::First => "first",
            Placement::Middle => "middle",
            Placement::Last => "last",
        }
    }
}

pub struct Cluster {
    /// The backfill text, ending in `# EOF`.
    pub openmetrics: String,
    pub start: u64,
    pub end: u64,
    pub onset: u64,
    /// The root cause's metric name.
    pub cause: String,
    /// Decoy metric names as obs ranks them (histograms by their `_bucket` name).
    pub decoys: Vec<String>,
    /// Of those, the sparse histograms (queried as p99).
    pub spiky: Vec<String>,
    pub samples: usize,
}

/// `names` decoy names plus the symptom and the root cause, ending at `end` (a multiple of 30 s).
pub fn cluster(end: u64, names: usize, placement: Placement, seed: u64) -> Cluster {
    let start = end - DURATION;
    let onset = end - ONSET_BEFORE_END;
    let recovery = onset + INCIDENT;
    let times: Vec<u64> = (0..=DURATION / SCRAPE_INTERVAL)
        .map(|i| start + i * SCRAPE_INTERVAL)
        .collect();
    let mut out = String::with_capacity(names * 5 * times.len() * 60);
    let mut samples = 0usize;
    let decoy_name = |i: usize| format!("app_{i:05}");
    let cause = match placement {
        Placement::First => "aaa_db_pool_connections_in_use".to_string(),
        Placement::Middle => format!("{}_db_pool_connections_in_use", decoy_name(names / 2)),
        Placement::Last => "zzz_db_pool_connections_in_use".to_string(),
    };

    // The symptom: requests by service and code; checkout's 5xx share jumps in the incident.
    let _ = writeln!(out, "# TYPE http_requests counter");
    for (s, svc) in SERVICES.iter().enumerate() {
        let rng = Rng::stream(seed, &format!("requests/{svc}"));
        for code in ["200", "500"] {
            // The same draws for both codes: the 500s are a share of the same requests.
            let mut rng = rng.clone();
            let mut total = 1000.0 * (s + 1) as f64;
            for &t in &times {
                let n = rng.poisson(300.0) as f64;
                let bad_share = if *svc == FAILING && t >= onset && t < recovery {
                    0.2
                } else {
                    0.004
                };
                let bad = (rng.poisson(n * bad_share) as f64).min(n);
                total += if code == "500" { bad } else { n - bad };
                let _ = writeln!(
                    out,
                    "http_requests_total{{service=\"{svc}\",code=\"{code}\"}} {total} {t}"
                );
                samples += 1;
            }
        }
    }

    // The root cause: checkout's pool saturates 2 minutes before the errors, recovers 2 minutes
    // before they do.
    let mut rng = Rng::stream(seed, "cause");
    let _ = writeln!(out, "# TYPE {cause} gauge");
    for svc in SERVICES {
        for &t in &times {
            let high = svc == FAILING && t + LEAD >= onset && t + LEAD < recovery;
            let v = if high { 97.0 } else { 12.0 } + 2.0 * rng.normal();
            let _ = writeln!(out, "{cause}{{service=\"{svc}\"}} {v:.2} {t}");
            samples += 1;
        }
    }

    let mut decoys = Vec::with_capacity(names);
    let mut spiky = Vec::new();
    for i in 0..names {
        let base = decoy_name(i);
        let mut rng = Rng::stream(seed, &base);
        match i % 10 {
            0 => {
                // A sparse latency histogram of one service: few requests, a rare slow one, so
                // its p99 jumps between the bucket bounds in the baseline as in the window.
                let name = format!("{base}_request_seconds");
                let svc = SERVICES[i % SERVICES.len()];
                let _ = writeln!(out, "# TYPE {name} histogram");
                let mut counts = [0.0f64; 4];
                let mut rows: Vec<[f64; 4]> = Vec::with_capacity(times.len());
                for _ in &times {
                    let n = rng.poisson(0.6);
                    for _ in 0..n {
                        let u = rng.uniform();
                        let b = if u < 0.9 {
                            0
                        } else if u < 0.97 {
                            1
                        } else {
                            2
                        };
                        for c in counts.iter_mut().skip(b) {
                            *c += 1.0;
                        }
                    }
                    rows.push(counts);
                }
                for (b, le) in BUCKETS.iter().enumerate() {
                    for (row, &t) in rows.iter().zip(&times) {
                        let _ = writeln!(
                            out,
                            "{name}_bucket{{service=\"{svc}\",le=\"{le}\"}} {} {t}",
                            row[b]
                        );
                        samples += 1;
                    }
                }
                for (row, &t) in rows.iter().zip(&times) {
                    let _ = writeln!(out, "{name}_count{{service=\"{svc}\"}} {} {t}", row[3]);
                    let _ = writeln!(
                        out,
                        "{name}_sum{{service=\"{svc}\"}} {:.3} {t}",
                        row[3] * 0.08
                    );
                    samples += 2;
                }
                decoys.push(format!("{name}_bucket"));
                spiky.push(format!("{name}_bucket"));
            }
            6 | 7 => {
                let name = format!("{base}_operations");
                let _ = writeln!(out, "# TYPE {name} counter");
                for svc in SERVICES {
                    let lambda = rng.range(1.0, 50.0);
                    let mut c = rng.range(0.0, 1e5).round();
                    for &t in &times {
                        c += rng.poisson(lambda) as f64;
                        let _ = writeln!(out, "{name}_total{{service=\"{svc}\"}} {c} {t}");
                        samples += 1;
                    }
                }
                decoys.push(format!("{name}_total"));
            }
            kind => {
                let name = format!("{base}_gauge");
                let _ = writeln!(out, "# TYPE {name} gauge");
                let step_at = start + (rng.uniform() * DURATION as f64) as u64;
                for svc in SERVICES {
                    let level = rng.range(10.0, 1000.0);
                    let sd = level * 0.02;
                    let mut walk = level;
                    for (k, &t) in times.iter().enumerate() {
                        walk += sd * 0.3 * rng.normal();
                        let v = match kind {
                            1..=3 => walk,
                            4 | 5 => level + sd * rng.normal(),
                            8 => {
                                level
                                    + sd * rng.normal()
                                    + if t >= step_at { 8.0 * sd } else { 0.0 }
                            }
                            _ => level + sd * rng.normal() + sd * 0.02 * k as f64,
                        };
                        let _ = writeln!(out, "{name}{{service=\"{svc}\"}} {v:.3} {t}");
                        samples += 1;
                    }
                }
                decoys.push(name);
            }
        }
    }
    out.push_str("# EOF\n");
    Cluster {
        openmetrics: out,
        start,
        end,
        onset,
        cause,
        decoys,
        spiky,
        samples,
    }
}
