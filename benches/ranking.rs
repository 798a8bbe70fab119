//! How right the ranking is: a generated scenario matrix (fixed seeds, in code) and the public
//! Nezha fault-injection data, each ranked by today's method and by the correlation-only order
//! it replaced, scored the way root-cause benchmarks score (AC@k: share of cases whose root
//! cause is in the top k; Avg@5: mean of AC@1..5; for services on Nezha, AS@k).
//!
//! `cargo bench --bench ranking` (set `OBS_SHARED_DIR=/work/shared` or keep `shared/` next to the
//! crate; without the Nezha data the bench says so and runs the matrix only; it needs `xz` to
//! read the data). Prints Markdown tables on stdout. Nothing here is tuned to a single case:
//! the matrix is generated, and Nezha is scored over every labelled fault.
//!
//! One file over 800 lines on purpose: a bench binary is one file, and its two halves (the
//! matrix generator, the Nezha loader) share the scoring; `OBS_RANKING_DEBUG=1` prints each
//! Nezha fault's symptoms and top rows, `OBS_RANKING_MISSES=1` the matrix cases missed at 3.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use obs::analysis::cause::{AnalysisParams, analyse, analyse_without_spike};
use obs::analysis::correlate::{CorrelationParams, PreparedSymptom};
use obs::analysis::rank::{RankParams, rank};
use obs::analysis::spike::{Direction, SpikeOutcome, SpikeParams, detect_directed, strength};

/// xorshift64* with Box–Muller: deterministic data without a rand crate.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
    fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }
    fn poisson(&mut self, lambda: f64) -> f64 {
        // Knuth; lambda is small here.
        let (l, mut k, mut p) = ((-lambda).exp(), 0.0, 1.0);
        loop {
            p *= self.uniform();
            if p <= l {
                return k;
            }
            k += 1.0;
        }
    }
}

/// One series of a case and what it is.
#[derive(Clone, Copy, PartialEq)]
enum Role {
    Cause,
    Consequence,
    Decoy,
}

struct Candidate {
    name: String,
    service: String,
    role: Role,
    values: Vec<f64>,
}

/// One ranking problem: the symptom on the grid (baseline then window), where the window
/// starts, the step, and the candidates.
struct Case {
    label: String,
    symptom: Vec<f64>,
    window_start: usize,
    step: f64,
    candidates: Vec<Candidate>,
    /// For Nezha: several symptoms; the one that moved is chosen.
    alternatives: Vec<(Vec<f64>, Direction)>,
}

/// What a method answered for a case.
struct Answer {
    /// Candidate indices, best first.
    order: Vec<usize>,
    flagged: Vec<bool>,
    /// Services, best first.
    services: Vec<String>,
}

fn services_in_order(order: &[usize], candidates: &[Candidate]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for &i in order {
        if !out.contains(&candidates[i].service) {
            out.push(candidates[i].service.clone());
        }
    }
    out
}

/// The correlation-only method `obs investigate` used before: spike detection on rises only,
/// correlation of changes with a ±10-step lag scan, BH, significant-and-leading first, then p.
fn before(case: &Case) -> Answer {
    let values: Vec<&[f64]> = case
        .candidates
        .iter()
        .map(|c| c.values.as_slice())
        .collect();
    let Ok(prepared) = PreparedSymptom::new(&case.symptom, &CorrelationParams::default()) else {
        return Answer {
            order: vec![],
            flagged: vec![false; values.len()],
            services: vec![],
        };
    };
    let results: Vec<_> = values.iter().map(|v| prepared.correlate(v)).collect();
    let ranked = rank(&results, &RankParams::default());
    let mut flagged = vec![false; values.len()];
    for r in &ranked {
        flagged[r.index] = r.significant;
    }
    let order: Vec<usize> = ranked.iter().map(|r| r.index).collect();
    Answer {
        services: services_in_order(&order, &case.candidates),
        order,
        flagged,
    }
}

/// Today's method: the symptom that moved (either way), then `analysis::cause::analyse`.
fn after(case: &Case) -> Answer {
    let params = SpikeParams::default();
    let mut choices: Vec<(&[f64], Direction)> = vec![(&case.symptom, Direction::Auto)];
    if !case.alternatives.is_empty() {
        choices = case
            .alternatives
            .iter()
            .map(|(v, d)| (v.as_slice(), *d))
            .collect();
    }
    let mut best: Option<(f64, &[f64], SpikeOutcome)> = None;
    for (values, direction) in choices {
        let (base, window) = values.split_at(case.window_start.min(values.len()));
        let outcome = detect_directed(base, window, &params, direction);
        let s = strength(&outcome, &params);
        if std::env::var_os("OBS_RANKING_DEBUG").is_some() {
            let (kind, detail) = match &outcome {
                SpikeOutcome::Spike(sp) => (
                    "spike",
                    format!(
                        "onset {} end {:?} peak {:.3} base {:.3}",
                        sp.onset_index, sp.end_index, sp.peak, sp.baseline
                    ),
                ),
                SpikeOutcome::NoSpike { reason, .. } => ("no spike", reason.clone()),
                SpikeOutcome::NoData { reason } => ("no data", reason.clone()),
            };
            println!("  {kind} strength {s:.1}: {detail}");
        }
        if best.as_ref().is_none_or(|(b, _, _)| s > *b) {
            best = Some((s, values, outcome));
        }
    }
    let empty = Answer {
        order: vec![],
        flagged: vec![false; case.candidates.len()],
        services: vec![],
    };
    let values: Vec<&[f64]> = case
        .candidates
        .iter()
        .map(|c| c.values.as_slice())
        .collect();
    let analysis_params = AnalysisParams {
        step_seconds: case.step,
        ..AnalysisParams::default()
    };
    let analysis = match best {
        Some((_, symptom, SpikeOutcome::Spike(spike))) => analyse(
            symptom,
            case.window_start + spike.onset_index,
            spike.end_index.map(|e| case.window_start + e),
            &values,
            &analysis_params,
        ),
        Some(_) => analyse_without_spike(case.window_start, &values, &analysis_params),
        None => return empty,
    };
    if std::env::var_os("OBS_RANKING_DEBUG").is_some() {
        for e in analysis.ranked.iter().take(4) {
            let c = &case.candidates[e.index];
            println!(
                "  #{} {} {} {:?} effect {:?} base {:?} scale {:?} lead {:?}",
                e.rank,
                c.service,
                c.name,
                e.timing,
                e.change.as_ref().map(|c| c.effect),
                e.change.as_ref().map(|c| c.baseline),
                e.change.as_ref().map(|c| c.scale),
                e.lead_steps
            );
        }
    }
    let mut flagged = vec![false; values.len()];
    for e in &analysis.ranked {
        flagged[e.index] = e.significant;
    }
    let order: Vec<usize> = analysis.ranked.iter().map(|e| e.index).collect();
    Answer {
        services: services_in_order(&order, &case.candidates),
        order,
        flagged,
    }
}

#[derive(Default, Clone)]
struct Score {
    cases: usize,
    metric_hits: [usize; 5],
    service_hits: [usize; 5],
    decoys: usize,
    decoys_flagged: usize,
    consequence_above_cause: usize,
}

impl Score {
    fn add(&mut self, case: &Case, answer: &Answer) {
        self.cases += 1;
        let cause = case.candidates.iter().position(|c| c.role == Role::Cause);
        let root_service = cause.map(|i| case.candidates[i].service.clone());
        let metric_pos = cause.and_then(|c| answer.order.iter().position(|&i| i == c));
        let service_pos = root_service.and_then(|s| answer.services.iter().position(|x| *x == s));
        for k in 0..5 {
            self.metric_hits[k] += usize::from(metric_pos.is_some_and(|p| p <= k));
            self.service_hits[k] += usize::from(service_pos.is_some_and(|p| p <= k));
        }
        for (i, c) in case.candidates.iter().enumerate() {
            if c.role == Role::Decoy {
                self.decoys += 1;
                self.decoys_flagged += usize::from(answer.flagged[i]);
            }
            if c.role == Role::Consequence {
                let pos = answer.order.iter().position(|&x| x == i);
                if let (Some(p), Some(m)) = (pos, metric_pos)
                    && p < m
                {
                    self.consequence_above_cause += 1;
                    break;
                }
            }
        }
    }
    fn ac(&self, hits: &[usize; 5], k: usize) -> f64 {
        hits[k - 1] as f64 / self.cases.max(1) as f64
    }
    fn avg5(&self, hits: &[usize; 5]) -> f64 {
        (1..=5).map(|k| self.ac(hits, k)).sum::<f64>() / 5.0
    }
}

// ---------------------------------------------------------------- the matrix

const WINDOWS: [f64; 5] = [300.0, 900.0, 3600.0, 3.0 * 3600.0, 6.0 * 3600.0];
const SCRAPES: [f64; 5] = [1.0, 5.0, 15.0, 30.0, 60.0];
const SHAPES: [&str; 4] = ["step", "ramp", "short spike", "drop"];
const SYMPTOMS: [&str; 4] = [
    "error ratio rises",
    "latency rises (latency-only fault)",
    "success rate drops",
    "throughput drops",
];

/// The step `obs investigate` picks: 200–400 points over the window (a "nice" step), never
/// below the scrape interval.
fn step_for(window: f64, scrape: f64) -> f64 {
    let nice = [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0,
    ];
    let want = window / 300.0;
    let step = nice.iter().copied().find(|&s| s >= want).unwrap_or(900.0);
    step.max(scrape)
}

/// Fault profile in 0..=1 at offset `t` steps from its start.
fn profile(shape: &str, t: i64, duration: i64, ramp: i64) -> f64 {
    if t < 0 || t >= duration {
        return 0.0;
    }
    match shape {
        "ramp" => ((t + 1) as f64 / ramp.max(1) as f64).min(1.0),
        _ => 1.0,
    }
}

fn matrix_case(seed: u64, window: f64, scrape: f64, shape: &str, symptom_kind: &str) -> Case {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ seed.wrapping_mul(0x1000_0001));
    let step = step_for(window, scrape);
    let w = (window / step).round() as usize;
    let n = 2 * w; // baseline as long as the window, just before it
    let onset = w + (0.55 * w as f64) as usize;
    let duration = if shape == "short spike" {
        3
    } else {
        ((rng.between(0.1, 0.3) * w as f64) as i64).max(4)
    };
    let lead = ((rng.between(0.1, 0.5) * duration as f64).round() as i64).max(1);
    let ramp = (duration / 2).max(2);
    let cause_start = onset as i64 - lead;
    let services: Vec<String> = (0..8).map(|i| format!("svc{i}")).collect();
    let root = (rng.uniform() * 8.0) as usize % 8;

    // The symptom.
    let direction = if symptom_kind.contains("drops") {
        -1.0
    } else {
        1.0
    };
    let requests = 50.0 * step;
    let base_errors = rng.between(0.0, 0.002);
    let symptom: Vec<f64> = (0..n)
        .map(|t| {
            let f = profile(shape, t as i64 - onset as i64, duration, ramp);
            match symptom_kind {
                "error ratio rises" => {
                    // Counted errors: zeros and rare single errors in the baseline.
                    let rate = base_errors + f * rng.between(0.04, 0.06);
                    rng.poisson(rate * requests) / requests
                }
                "latency rises (latency-only fault)" => 0.2 + f * 0.6 + 0.02 * rng.normal(),
                "success rate drops" => 0.998 - f * 0.1 + 0.001 * rng.normal(),
                _ => 100.0 + direction * f * 40.0 + 3.0 * rng.normal(),
            }
        })
        .collect();

    let mut candidates = Vec::new();
    let noise = |rng: &mut Rng, level: f64, sd: f64| -> Vec<f64> {
        (0..n).map(|_| level + sd * rng.normal()).collect()
    };
    // The cause: a gauge in the root service, stepping, ramping, spiking or dropping.
    let sign = if shape == "drop" { -1.0 } else { 1.0 };
    let height = rng.between(4.0, 20.0);
    candidates.push(Candidate {
        name: String::new(),
        service: services[root].clone(),
        role: Role::Cause,
        values: (0..n)
            .map(|t| {
                let f = profile(shape, t as i64 - cause_start, duration + lead, ramp);
                50.0 + sign * height * f + rng.normal()
            })
            .collect(),
    });
    // Other metrics of every service (unchanged): two each.
    for s in &services {
        for _ in 0..2 {
            let level = rng.between(10.0, 100.0);
            candidates.push(Candidate {
                name: String::new(),
                service: s.clone(),
                role: Role::Decoy,
                values: noise(&mut rng, level, 1.0),
            });
        }
    }
    let other = |rng: &mut Rng| {
        let mut s = (rng.uniform() * 8.0) as usize % 8;
        if s == root {
            s = (s + 1) % 8;
        }
        services[s].clone()
    };
    // Lagging consequences: larger changes, one to a few steps after the symptom.
    for _ in 0..2 {
        let after = 1 + (rng.uniform() * 3.0) as i64;
        let h = rng.between(10.0, 40.0);
        let svc = other(&mut rng);
        candidates.push(Candidate {
            name: String::new(),
            service: svc,
            role: Role::Consequence,
            values: (0..n)
                .map(|t| {
                    5.0 + h * profile(shape, t as i64 - onset as i64 - after, duration, ramp)
                        + rng.normal()
                })
                .collect(),
        });
    }
    // Random walks and trends.
    for _ in 0..4 {
        let mut level = 0.0;
        let svc = other(&mut rng);
        candidates.push(Candidate {
            name: String::new(),
            service: svc,
            role: Role::Decoy,
            values: (0..n)
                .map(|_| {
                    level += rng.normal();
                    level
                })
                .collect(),
        });
    }
    for _ in 0..2 {
        let slope = rng.between(-5.0, 5.0) / n as f64;
        let svc = other(&mut rng);
        candidates.push(Candidate {
            name: String::new(),
            service: svc,
            role: Role::Decoy,
            values: (0..n)
                .map(|t| 20.0 + slope * t as f64 + rng.normal())
                .collect(),
        });
    }
    // Unrelated steps near the onset: before the incident's reach, and after its end.
    for k in 0..2 {
        let gap = rng.between(1.5, 3.0) * duration.max(4) as f64;
        let at = if k == 0 {
            onset as i64 - lead - gap as i64
        } else {
            onset as i64 + duration + gap as i64
        };
        let h = rng.between(5.0, 20.0);
        let svc = other(&mut rng);
        candidates.push(Candidate {
            name: String::new(),
            service: svc,
            role: Role::Decoy,
            values: (0..n)
                .map(|t| if t as i64 >= at { h } else { 0.0 } + rng.normal())
                .collect(),
        });
    }
    // Periodic load.
    for _ in 0..2 {
        let period = rng.between(0.2, 0.6) * n as f64;
        let phase = rng.between(0.0, std::f64::consts::TAU);
        let svc = other(&mut rng);
        candidates.push(Candidate {
            name: String::new(),
            service: svc,
            role: Role::Decoy,
            values: (0..n)
                .map(|t| {
                    50.0 + 10.0 * (std::f64::consts::TAU * t as f64 / period + phase).sin()
                        + rng.normal()
                })
                .collect(),
        });
    }
    // Two recordings joined end to end: a level jump at the join, in the baseline.
    let join = (rng.between(0.2, 0.8) * w as f64) as usize;
    for _ in 0..3 {
        let (a, b) = (rng.between(0.0, 50.0), rng.between(0.0, 50.0));
        let svc = other(&mut rng);
        candidates.push(Candidate {
            name: String::new(),
            service: svc,
            role: Role::Decoy,
            values: (0..n)
                .map(|t| if t < join { a } else { b } + rng.normal())
                .collect(),
        });
    }
    Case {
        label: format!("{window}s/{scrape}s/{shape}/{symptom_kind}"),
        symptom,
        window_start: w,
        step,
        candidates,
        alternatives: Vec::new(),
    }
}

fn matrix() -> Vec<(String, String, String, Case)> {
    let mut out = Vec::new();
    let mut seed = 1u64;
    for window in WINDOWS {
        for scrape in SCRAPES {
            for shape in SHAPES {
                for symptom in SYMPTOMS {
                    seed += 1;
                    out.push((
                        shape.to_string(),
                        symptom.to_string(),
                        format!("{}", window / 60.0),
                        matrix_case(seed, window, scrape, shape, symptom),
                    ));
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------- Nezha

fn shared_dir() -> PathBuf {
    match std::env::var_os("OBS_SHARED_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"),
    }
}

/// `2022-08-22 03:51:19…` → unix seconds (UTC).
fn parse_time(text: &str) -> Option<i64> {
    let head = text.get(..19)?;
    let dt: jiff::civil::DateTime = head.replace(' ', "T").parse().ok()?;
    Some(
        dt.to_zoned(jiff::tz::TimeZone::UTC)
            .ok()?
            .timestamp()
            .as_second(),
    )
}

fn read_xz_csv(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let out = Command::new("xz")
        .arg("-dc")
        .arg(path)
        .output()
        .map_err(|e| {
            format!(
                "cannot run xz for {}: {e} (apt-get install xz-utils)",
                path.display()
            )
        })?;
    if !out.status.success() {
        return Err(format!("xz could not read {}", path.display()));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split(',')
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    Ok((header, rows))
}

/// Per-minute series keyed by minute since `day_start`.
type Columns = BTreeMap<String, BTreeMap<i64, f64>>;

fn load_columns(path: &Path, skip: &dyn Fn(&str) -> bool) -> Result<Columns, String> {
    let (header, rows) = read_xz_csv(path)?;
    let time = header
        .iter()
        .position(|h| h == "Time")
        .ok_or("no Time column")?;
    let mut out: Columns = BTreeMap::new();
    for row in rows {
        let Some(t) = row.get(time).and_then(|s| parse_time(s)) else {
            continue;
        };
        let minute = t.div_euclid(60);
        for (i, name) in header.iter().enumerate() {
            if skip(name) {
                continue;
            }
            if let Some(v) = row.get(i).and_then(|s| s.parse::<f64>().ok()) {
                out.entry(name.clone()).or_default().insert(minute, v);
            }
        }
    }
    Ok(out)
}

fn on_grid(column: &BTreeMap<i64, f64>, first: i64, len: usize) -> Vec<f64> {
    (0..len as i64)
        .map(|i| column.get(&(first + i)).copied().unwrap_or(f64::NAN))
        .collect()
}

/// The service of a pod: its name without the ReplicaSet hash and pod suffix.
fn service_of_pod(pod: &str) -> String {
    let parts: Vec<&str> = pod.split('-').collect();
    if parts.len() > 2 {
        parts[..parts.len() - 2].join("-")
    } else {
        pod.to_string()
    }
}

struct Fault {
    minute: i64,
    service: String,
    kind: String,
}

/// Window of an investigation of a Nezha fault: five minutes either side of the injection
/// (what an on-call engineer asks for around an alert), with a 30-minute baseline before it.
const NEZHA_BEFORE: i64 = 5;
const NEZHA_AFTER: i64 = 5;
const NEZHA_BASELINE: i64 = 30;

/// The entry service's SLIs a team would watch, all given to obs as symptoms (the error ratio
/// derived from the success rate, and the latency percentiles): the one that moved is used.
const FRONT_KPIS: [&str; 4] = [
    "SuccessRate(%)",
    "LatencyP50(s)",
    "LatencyP90(s)",
    "LatencyP99(s)",
];

fn nezha_day(dir: &Path) -> Result<Vec<(Fault, Case)>, String> {
    let day = dir
        .file_name()
        .and_then(|d| d.to_str())
        .ok_or("bad day directory")?
        .to_string();
    let list: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(format!("{day}-fault_list.json")))
            .map_err(|e| format!("fault list of {day}: {e}"))?,
    )
    .map_err(|e| format!("fault list of {day}: {e}"))?;
    let mut faults = Vec::new();
    for entries in list.as_object().into_iter().flat_map(|o| o.values()) {
        for f in entries.as_array().into_iter().flatten() {
            let (Some(time), Some(pod), Some(kind)) = (
                f["inject_time"].as_str(),
                f["inject_pod"].as_str(),
                f["inject_type"].as_str(),
            ) else {
                continue;
            };
            let Some(t) = parse_time(time) else { continue };
            faults.push(Fault {
                minute: t.div_euclid(60),
                service: service_of_pod(pod),
                kind: kind.to_string(),
            });
        }
    }
    faults.sort_by_key(|f| f.minute);

    let metric_dir = dir.join("metric");
    let front = load_columns(&metric_dir.join("front_service.csv.xz"), &|n| {
        !FRONT_KPIS.contains(&n)
    })?;
    // Node* columns are per node, the same for every pod on it: not a service's metric.
    let skip_pod = |n: &str| matches!(n, "Time" | "TimeStamp" | "PodName") || n.starts_with("Node");
    let mut pods: Vec<(String, Columns)> = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&metric_dir)
        .map_err(|e| format!("{}: {e}", metric_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with("_metric.csv.xz"))
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .trim_end_matches("_metric.csv.xz")
            .to_string();
        pods.push((service_of_pod(&name), load_columns(&path, &skip_pod)?));
    }

    let mut out = Vec::new();
    for fault in faults {
        let first = fault.minute - NEZHA_BEFORE - NEZHA_BASELINE;
        let len = (NEZHA_BASELINE + NEZHA_BEFORE + NEZHA_AFTER + 1) as usize;
        let window_start = NEZHA_BASELINE as usize;
        let kpi = |name: &str| {
            front
                .get(name)
                .map(|c| on_grid(c, first, len))
                .unwrap_or_else(|| vec![f64::NAN; len])
        };
        let error_ratio: Vec<f64> = kpi("SuccessRate(%)")
            .iter()
            .map(|s| 1.0 - s / 100.0)
            .collect();
        let mut alternatives = vec![(error_ratio.clone(), Direction::Up)];
        for name in &FRONT_KPIS[1..] {
            alternatives.push((kpi(name), Direction::Up));
        }
        let mut candidates = Vec::new();
        for (service, columns) in &pods {
            for (name, values) in columns {
                candidates.push(Candidate {
                    name: name.clone(),
                    service: service.clone(),
                    role: Role::Decoy,
                    values: on_grid(values, first, len),
                });
            }
        }
        // The root cause, for scoring, is a service: mark one of its metrics.
        if let Some(c) = candidates.iter_mut().find(|c| c.service == fault.service) {
            c.role = Role::Cause;
        }
        let case = Case {
            label: format!("{day} {} {}", fault.kind, fault.service),
            symptom: error_ratio.clone(),
            window_start,
            step: 60.0,
            candidates,
            alternatives,
        };
        out.push((fault, case));
    }
    Ok(out)
}

/// AS@k on services: the root-cause service's position in the service order.
fn service_hits(answer: &Answer, service: &str) -> [usize; 5] {
    let pos = answer.services.iter().position(|s| s == service);
    std::array::from_fn(|k| usize::from(pos.is_some_and(|p| p <= k)))
}

fn pct(hits: usize, n: usize) -> String {
    format!("{:.1}", 100.0 * hits as f64 / n.max(1) as f64)
}

fn nezha(system: &str, days: &[&str]) {
    let base = shared_dir().join("datasets/nezha/rca_data");
    let mut all: Vec<(Fault, Case)> = Vec::new();
    for day in days {
        let dir = base.join(day);
        if !dir.is_dir() {
            println!(
                "\nNezha {system}: {} not found, skipped (set OBS_SHARED_DIR)",
                dir.display()
            );
            return;
        }
        match nezha_day(&dir) {
            Ok(cases) => all.extend(cases),
            Err(e) => {
                println!("\nNezha {system}: {e}; skipped");
                return;
            }
        }
    }
    // (kind) -> (n, before hits, after hits)
    let mut by_kind: BTreeMap<String, (usize, [usize; 5], [usize; 5])> = BTreeMap::new();
    for (fault, case) in &all {
        let (before_answer, after_answer) = (before(case), after(case));
        if std::env::var_os("OBS_RANKING_DEBUG").is_some() {
            println!(
                "{}: before {:?} now {:?}",
                case.label,
                &before_answer.services[..before_answer.services.len().min(5)],
                &after_answer.services[..after_answer.services.len().min(5)]
            );
        }
        let b = service_hits(&before_answer, &fault.service);
        let a = service_hits(&after_answer, &fault.service);
        for key in [fault.kind.clone(), "all".to_string()] {
            let e = by_kind.entry(key).or_insert((0, [0; 5], [0; 5]));
            e.0 += 1;
            for k in 0..5 {
                e.1[k] += b[k];
                e.2[k] += a[k];
            }
        }
    }
    println!(
        "\nNezha {system} ({} faults, metrics only, service level, window ±{NEZHA_BEFORE} min at 1 min, baseline {NEZHA_BASELINE} min)",
        all.len()
    );
    println!("| fault type | n | before AS@1 / @3 / @5 | now AS@1 / @3 / @5 |");
    println!("| --- | --- | --- | --- |");
    for (kind, (n, b, a)) in &by_kind {
        println!(
            "| {kind} | {n} | {} / {} / {} | {} / {} / {} |",
            pct(b[0], *n),
            pct(b[2], *n),
            pct(b[4], *n),
            pct(a[0], *n),
            pct(a[2], *n),
            pct(a[4], *n)
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a name filter may follow. "matrix" or "nezha" runs one part.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with("--"));
    let run = |part: &str| filter.as_deref().is_none_or(|f| part.contains(f));
    if run("matrix") {
        let cases = matrix();
        let mut totals = [Score::default(), Score::default()];
        let mut by: BTreeMap<(String, String), [Score; 2]> = BTreeMap::new();
        let mut misses: Vec<String> = Vec::new();
        for (shape, symptom, window, case) in &cases {
            let answers = [before(case), after(case)];
            for (i, a) in answers.iter().enumerate() {
                totals[i].add(case, a);
                for key in [
                    ("shape".to_string(), shape.clone()),
                    ("symptom".to_string(), symptom.clone()),
                    ("window (min)".to_string(), window.clone()),
                ] {
                    by.entry(key).or_default()[i].add(case, a);
                }
            }
            let cause = case.candidates.iter().position(|c| c.role == Role::Cause);
            if !answers[1].order.iter().take(3).any(|&i| Some(i) == cause) {
                misses.push(case.label.clone());
            }
        }
        println!("Scenario matrix: {} cases (fixed seeds)", cases.len());
        println!(
            "| method | AC@1 | AC@3 | AC@5 | Avg@5 | service AC@1 / @3 / @5 | service Avg@5 | decoys flagged | a consequence above the cause |"
        );
        println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        for (name, s) in ["before", "now"].iter().zip(&totals) {
            println!(
                "| {name} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} / {:.3} / {:.3} | {:.3} | {:.1}% ({} of {}) | {} of {} |",
                s.ac(&s.metric_hits, 1),
                s.ac(&s.metric_hits, 3),
                s.ac(&s.metric_hits, 5),
                s.avg5(&s.metric_hits),
                s.ac(&s.service_hits, 1),
                s.ac(&s.service_hits, 3),
                s.ac(&s.service_hits, 5),
                s.avg5(&s.service_hits),
                100.0 * s.decoys_flagged as f64 / s.decoys.max(1) as f64,
                s.decoys_flagged,
                s.decoys,
                s.consequence_above_cause,
                s.cases
            );
        }
        println!("\n| group | n | before AC@1 / @3 | now AC@1 / @3 |");
        println!("| --- | --- | --- | --- |");
        for ((kind, value), [b, a]) in &by {
            println!(
                "| {kind}: {value} | {} | {:.2} / {:.2} | {:.2} / {:.2} |",
                b.cases,
                b.ac(&b.metric_hits, 1),
                b.ac(&b.metric_hits, 3),
                a.ac(&a.metric_hits, 1),
                a.ac(&a.metric_hits, 3)
            );
        }
        if std::env::var_os("OBS_RANKING_MISSES").is_some() {
            println!("\nnot in the top 3 now: {}", misses.join("; "));
        }
    }
    if run("nezha") {
        nezha("Online-Boutique", &["2022-08-22"]);
        nezha("Train-Ticket", &["2023-01-29", "2023-01-30"]);
    }
}
