//! Correlating 1000 candidates of 720 points (3 hours at a 15 s step) with
//! one symptom, over the full lag scan, then Benjamini–Hochberg and ranking:
//! the statistics part of one `obs investigate` run.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use obs::analysis::cause::{AnalysisParams, analyse};
use obs::analysis::correlate::{CorrelationParams, PreparedSymptom, correlate};
use obs::analysis::rank::{RankParams, rank};

const POINTS: usize = 720;
const CANDIDATES: usize = 1000;

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
}

/// An error-ratio spike, and a mix of candidate shapes: random walks,
/// stationary noise, trends and steps at random times, with a few missing
/// points.
fn data() -> (Vec<f64>, Vec<Vec<f64>>) {
    let mut rng = Rng(0x0b5);
    let symptom: Vec<f64> = (0..POINTS)
        .map(|t| if (400..430).contains(&t) { 0.08 } else { 0.01 } + 0.002 * rng.normal())
        .collect();
    let candidates = (0..CANDIDATES)
        .map(|i| {
            let mut level = 0.0;
            let at = (rng.uniform() * POINTS as f64) as usize;
            (0..POINTS)
                .map(|t| {
                    let noise = rng.normal();
                    let v = match i % 4 {
                        0 => {
                            level += noise;
                            level
                        }
                        1 => {
                            level = 0.8 * level + noise;
                            level
                        }
                        2 => 0.01 * t as f64 + noise,
                        _ => (if t >= at { 5.0 } else { 0.0 }) + noise,
                    };
                    if rng.uniform() < 0.01 { f64::NAN } else { v }
                })
                .collect()
        })
        .collect();
    (symptom, candidates)
}

fn bench(c: &mut Criterion) {
    let (symptom, candidates) = data();
    let params = CorrelationParams::default();

    c.bench_function("correlate 1000 x 720, lag scan, BH, rank", |b| {
        b.iter(|| {
            let Ok(prepared) = PreparedSymptom::new(black_box(&symptom), &params) else {
                panic!("the bench symptom must be usable");
            };
            let results: Vec<_> = candidates.iter().map(|c| prepared.correlate(c)).collect();
            black_box(rank(&results, &RankParams::default()))
        })
    });

    // The whole ranking of `obs investigate`: each candidate's robust change and onset, the
    // correlation with the lag scan bounded by the incident (here 30 steps of episode, so the
    // 10-step cap), BH, and the combined order.
    c.bench_function(
        "analyse 1000 x 720: change, onset, lag scan, BH, rank",
        |b| {
            b.iter(|| {
                black_box(analyse(
                    black_box(&symptom),
                    400,
                    Some(430),
                    &candidates,
                    &AnalysisParams::default(),
                ))
            })
        },
    );

    c.bench_function("correlate one pair, 720 points", |b| {
        b.iter(|| correlate(black_box(&symptom), black_box(&candidates[0]), &params))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
