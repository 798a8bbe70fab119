//! The planted incident: 4 h of OpenMetrics data at a 15 s scrape interval,
//! deterministic from a seed, for `promtool tsdb create-blocks-from
//! openmetrics`.
//!
//! Timeline (all on the 15 s sample grid that ends at `end`):
//! - `start = end - 4h`, samples at `start, start+15, …, end` (961 points);
//! - `onset = end - 45min`: first scrape whose increment carries the checkout
//!   5xx spike (~0.5 % → ~20 %); `recovery = onset + 20min`: first scrape back
//!   to normal;
//! - root cause `db_connections_in_use{service="checkout"}`: ~12 → ~97 from
//!   `onset - 90s` until `recovery - 90s` (leads the errors by 90 s);
//! - lagging `retry_queue_depth{service="frontend"}`: ~3 → ~45 from
//!   `onset + 120s` until `onset + 120s + 20min`;
//! - decoys: random walks, a linear trend, an unrelated step at
//!   `onset - 80min`, white noise and ordinary counters.

use std::fmt::Write as _;

pub const SCRAPE_INTERVAL: u64 = 15;
pub const DURATION: u64 = 4 * 3600;
pub const ONSET_BEFORE_END: u64 = 45 * 60;
pub const INCIDENT_DURATION: u64 = 20 * 60;
pub const ROOT_CAUSE_LEAD: u64 = 90;
pub const LAGGING_DELAY: u64 = 120;
pub const UNRELATED_STEP_BEFORE_ONSET: u64 = 80 * 60;
/// Histogram buckets of `http_request_duration_seconds` (plus `+Inf`).
pub const LATENCY_BUCKETS: [f64; 5] = [0.05, 0.1, 0.25, 1.0, 2.5];
pub const SERVICES: [&str; 4] = ["frontend", "checkout", "payments", "inventory"];

pub struct Scenario {
    /// The backfill text, ending in `# EOF`.
    pub openmetrics: String,
    /// First sample (unix s) = `end - 4h`.
    pub start: u64,
    /// Last sample (unix s).
    pub end: u64,
    /// First scrape of the error spike (unix s).
    pub onset: u64,
    /// First scrape after the spike whose increment is back to normal.
    pub recovery: u64,
    /// Metric name of the planted root cause (`db_connections_in_use`).
    pub root_cause: &'static str,
    /// Metric name of the lagging consequence (`retry_queue_depth`).
    pub lagging: &'static str,
    /// Metric names (as queried, counters with `_total`) of the decoys.
    pub decoys: Vec<&'static str>,
    /// Number of series and samples in `openmetrics`.
    pub series: usize,
    pub samples: usize,
}

/// The planted incident ending at `end` (unix s; should be on a 15 s grid
/// and at least a few minutes in the past). Deterministic from `seed`.
pub fn planted(end: u64, seed: u64) -> Scenario {
    planted_with(end, seed, true)
}

/// The same incident where only the latency moves: checkout's 5xx ratio stays at its
/// baseline and the slow requests alone show the fault (a resource fault, a slow dependency).
pub fn planted_latency_only(end: u64, seed: u64) -> Scenario {
    planted_with(end, seed, false)
}

fn planted_with(end: u64, seed: u64, errors_in_incident: bool) -> Scenario {
    assert!(end > DURATION, "end must be a unix time in seconds");
    let start = end - DURATION;
    let onset = end - ONSET_BEFORE_END;
    let recovery = onset + INCIDENT_DURATION;
    let times: Vec<u64> = (0..=DURATION / SCRAPE_INTERVAL)
        .map(|i| start + i * SCRAPE_INTERVAL)
        .collect();
    let in_incident = |t: u64| t >= onset && t < recovery;
    let n = times.len();

    let mut families = Vec::new();

    // --- traffic: http_requests_total + http_request_duration_seconds --------
    let mut requests = Family::new("http_requests", "counter", "HTTP requests by status code.");
    let mut latency = Family::new(
        "http_request_duration_seconds",
        "histogram",
        "HTTP request latency.",
    )
    .unit("seconds");
    for (svc_idx, &svc) in SERVICES.iter().enumerate() {
        let mut rng = Rng::stream(seed, &format!("traffic/{svc}"));
        let base_rate = [38.0, 16.0, 12.0, 24.0][svc_idx];
        // Baseline 5xx ratio split into 500 and 503.
        let (p500, p503) = [
            (0.003, 0.001),
            (0.0035, 0.0015),
            (0.004, 0.002),
            (0.002, 0.001),
        ][svc_idx];
        let median_latency = [0.045, 0.07, 0.11, 0.03][svc_idx];
        let phase = rng.uniform() * std::f64::consts::TAU;

        let mut c200 = rng.range(2e5, 9e5).round();
        let mut c500 = rng.range(200.0, 900.0).round();
        let mut c503 = rng.range(50.0, 400.0).round();
        let mut buckets = [0.0f64; LATENCY_BUCKETS.len() + 1];
        let mut sum = 0.0;
        let (mut v200, mut v500, mut v503) = (Vec::new(), Vec::new(), Vec::new());
        let mut v_buckets: Vec<Vec<f64>> = vec![Vec::with_capacity(n); buckets.len()];
        let (mut v_sum, mut v_count) = (Vec::with_capacity(n), Vec::with_capacity(n));

        for &t in &times {
            let incident = svc == "checkout" && in_incident(t);
            // Slow 90-minute wave of traffic plus noise; unaffected by the incident.
            let wave = 1.0 + 0.15 * ((t as f64) / 5400.0 * std::f64::consts::TAU + phase).sin();
            let lambda = base_rate * wave * SCRAPE_INTERVAL as f64;
            let total = rng.poisson(lambda) as f64;
            let (q500, q503) = if incident && errors_in_incident {
                (0.14, 0.06)
            } else {
                (p500, p503)
            };
            let e500 = (rng.poisson(total * q500) as f64).min(total);
            let e503 = (rng.poisson(total * q503) as f64).min(total - e500);
            c200 += total - e500 - e503;
            c500 += e500;
            c503 += e503;
            v200.push(c200);
            v500.push(c500);
            v503.push(c503);

            for _ in 0..total as u64 {
                let slow = incident && rng.uniform() < 0.35;
                let secs = if slow {
                    1.4 * (0.45 * rng.normal()).exp()
                } else {
                    median_latency * (0.5 * rng.normal()).exp()
                };
                sum += secs;
                let first = LATENCY_BUCKETS
                    .iter()
                    .position(|&le| secs <= le)
                    .unwrap_or(LATENCY_BUCKETS.len());
                for b in &mut buckets[first..] {
                    *b += 1.0;
                }
            }
            for (series, &count) in v_buckets.iter_mut().zip(&buckets) {
                series.push(count);
            }
            v_sum.push(round_to(sum, 3));
            v_count.push(buckets[LATENCY_BUCKETS.len()]);
        }
        for (code, values) in [("200", v200), ("500", v500), ("503", v503)] {
            requests.series(
                "http_requests_total",
                labels(svc, &[("code", code)]),
                values,
            );
        }
        for (i, values) in v_buckets.into_iter().enumerate() {
            let le = LATENCY_BUCKETS
                .get(i)
                .map_or_else(|| "+Inf".to_string(), |le| le.to_string());
            latency.series(
                "http_request_duration_seconds_bucket",
                labels(svc, &[("le", &le)]),
                values,
            );
        }
        latency.series("http_request_duration_seconds_sum", labels(svc, &[]), v_sum);
        latency.series(
            "http_request_duration_seconds_count",
            labels(svc, &[]),
            v_count,
        );
    }
    families.push(requests);
    families.push(latency);

    // --- root cause: checkout's DB pool saturates 90 s before the errors ------
    let root_cause = "db_connections_in_use";
    let rc_from = onset - ROOT_CAUSE_LEAD;
    let rc_to = recovery - ROOT_CAUSE_LEAD;
    let mut rng = Rng::stream(seed, "root_cause");
    let values = times
        .iter()
        .map(|&t| {
            let level = if t >= rc_from && t < rc_to {
                97.0
            } else {
                12.0
            };
            (level + 1.5 * rng.normal()).round().clamp(0.0, 100.0)
        })
        .collect();
    families.push(
        Family::new(
            root_cause,
            "gauge",
            "Database connections checked out of the pool.",
        )
        .with(
            "db_connections_in_use",
            labels("checkout", &[("pool", "orders")]),
            values,
        ),
    );

    // --- lagging consequence: frontend retries pile up 120 s after onset -----
    let lagging = "retry_queue_depth";
    let lag_from = onset + LAGGING_DELAY;
    let lag_to = lag_from + INCIDENT_DURATION;
    let mut rng = Rng::stream(seed, "lagging");
    let values = times
        .iter()
        .map(|&t| {
            let (level, sd) = if t >= lag_from && t < lag_to {
                (45.0, 4.0)
            } else {
                (3.0, 1.0)
            };
            (level + sd * rng.normal()).round().max(0.0)
        })
        .collect();
    families.push(
        Family::new(lagging, "gauge", "Requests waiting to be retried.").with(
            lagging,
            labels("frontend", &[]),
            values,
        ),
    );

    // --- decoys -------------------------------------------------------------
    let mut decoys = Vec::new();
    // Mean-reverting random walks (independent streams).
    let walks = [
        Walk {
            name: "jvm_heap_used_bytes",
            service: "payments",
            help: "JVM heap in use.",
            unit: Some("bytes"),
            start: 6.0e8,
            sd: 6.0e6,
            lo: 2.0e8,
            hi: 1.6e9,
            integer: true,
        },
        Walk {
            name: "queue_depth",
            service: "inventory",
            help: "Messages waiting in the work queue.",
            unit: None,
            start: 40.0,
            sd: 3.0,
            lo: 0.0,
            hi: 500.0,
            integer: true,
        },
        Walk {
            name: "goroutines",
            service: "frontend",
            help: "Number of goroutines.",
            unit: None,
            start: 850.0,
            sd: 12.0,
            lo: 100.0,
            hi: 5000.0,
            integer: true,
        },
        Walk {
            name: "cpu_usage_ratio",
            service: "payments",
            help: "CPU usage as a fraction of the limit.",
            unit: Some("ratio"),
            start: 0.35,
            sd: 0.01,
            lo: 0.02,
            hi: 0.98,
            integer: false,
        },
        Walk {
            name: "cache_entries",
            service: "inventory",
            help: "Entries in the product cache.",
            unit: None,
            start: 52000.0,
            sd: 400.0,
            lo: 1000.0,
            hi: 200000.0,
            integer: true,
        },
    ];
    for Walk {
        name,
        service: svc,
        help,
        unit,
        start: start_value,
        sd,
        lo,
        hi,
        integer,
    } in walks
    {
        let mut rng = Rng::stream(seed, name);
        let mut x = start_value;
        let values = times
            .iter()
            .map(|_| {
                x = (x + sd * rng.normal() - 0.002 * (x - start_value)).clamp(lo, hi);
                if integer { x.round() } else { round_to(x, 4) }
            })
            .collect();
        let mut family = Family::new(name, "gauge", help).with(name, labels(svc, &[]), values);
        if let Some(unit) = unit {
            family = family.unit(unit);
        }
        families.push(family);
        decoys.push(name);
    }

    // Steady linear trend.
    let mut rng = Rng::stream(seed, "disk_used_bytes");
    let base = rng.range(3.0e10, 4.0e10).round();
    let values = times
        .iter()
        .map(|&t| (base + 250_000.0 * (t - start) as f64 + 2.0e5 * rng.normal()).round())
        .collect();
    families.push(
        Family::new("disk_used_bytes", "gauge", "Bytes used on the data volume.")
            .unit("bytes")
            .with(
                "disk_used_bytes",
                labels("inventory", &[("device", "sda1")]),
                values,
            ),
    );
    decoys.push("disk_used_bytes");

    // Unrelated step far before the spike (baseline window).
    let flag_at = onset - UNRELATED_STEP_BEFORE_ONSET;
    let values = times
        .iter()
        .map(|&t| if t >= flag_at { 1.0 } else { 0.0 })
        .collect();
    families.push(
        Family::new(
            "feature_flag_enabled",
            "gauge",
            "Whether a feature flag is on.",
        )
        .with(
            "feature_flag_enabled",
            labels("frontend", &[("flag", "new_search")]),
            values,
        ),
    );
    decoys.push("feature_flag_enabled");

    // Pure noise.
    let mut rng = Rng::stream(seed, "gc_pause_seconds");
    let values = times
        .iter()
        .map(|_| round_to((0.012 + 0.003 * rng.normal()).max(0.0005), 5))
        .collect();
    families.push(
        Family::new(
            "gc_pause_seconds",
            "gauge",
            "Duration of the last GC pause.",
        )
        .unit("seconds")
        .with("gc_pause_seconds", labels("frontend", &[]), values),
    );
    decoys.push("gc_pause_seconds");

    // Ordinary counters, unaffected by the incident.
    let mut cpu =
        Family::new("process_cpu_seconds", "counter", "CPU time consumed.").unit("seconds");
    for (i, &svc) in SERVICES.iter().enumerate() {
        let mut rng = Rng::stream(seed, &format!("process_cpu_seconds/{svc}"));
        let per_scrape = [4.5, 3.0, 2.2, 1.6][i];
        let mut c = rng.range(1.0e4, 5.0e4).round();
        let values = times
            .iter()
            .map(|_| {
                c += (per_scrape * (1.0 + 0.1 * rng.normal())).max(0.0);
                round_to(c, 2)
            })
            .collect();
        cpu.series("process_cpu_seconds_total", labels(svc, &[]), values);
    }
    families.push(cpu);
    decoys.push("process_cpu_seconds_total");

    let mut rng = Rng::stream(seed, "network_transmit_bytes");
    let mut c = rng.range(1.0e11, 2.0e11).round();
    let values = times
        .iter()
        .map(|_| {
            c += (3.0e7 * (1.0 + 0.2 * rng.normal())).max(0.0).round();
            c
        })
        .collect();
    families.push(
        Family::new(
            "network_transmit_bytes",
            "counter",
            "Bytes sent on the network.",
        )
        .unit("bytes")
        .with(
            "network_transmit_bytes_total",
            labels("inventory", &[("device", "eth0")]),
            values,
        ),
    );
    decoys.push("network_transmit_bytes_total");

    // --- render --------------------------------------------------------------
    let series = families.iter().map(|f| f.series.len()).sum();
    let samples = series * n;
    let mut openmetrics = String::with_capacity(samples * 90);
    for family in &families {
        family.render(&mut openmetrics, &times);
    }
    openmetrics.push_str("# EOF\n");

    Scenario {
        openmetrics,
        start,
        end,
        onset,
        recovery,
        root_cause,
        lagging,
        decoys,
        series,
        samples,
    }
}

/// Rounds `t` down to the scrape grid (15 s).
pub fn align(t: u64) -> u64 {
    t - t % SCRAPE_INTERVAL
}

fn round_to(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

fn labels(service: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut l = vec![
        ("job".to_string(), "shop".to_string()),
        ("instance".to_string(), format!("{service}-0:8080")),
        ("service".to_string(), service.to_string()),
    ];
    l.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    l
}

struct Walk {
    name: &'static str,
    service: &'static str,
    help: &'static str,
    unit: Option<&'static str>,
    start: f64,
    /// Standard deviation of one step.
    sd: f64,
    lo: f64,
    hi: f64,
    integer: bool,
}

struct Series {
    /// Sample name, e.g. `http_requests_total` or `…_bucket`.
    name: &'static str,
    labels: Vec<(String, String)>,
    values: Vec<f64>,
}

struct Family {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    unit: Option<&'static str>,
    series: Vec<Series>,
}

impl Family {
    fn new(name: &'static str, kind: &'static str, help: &'static str) -> Self {
        Family {
            name,
            kind,
            help,
            unit: None,
            series: Vec::new(),
        }
    }
    fn unit(mut self, unit: &'static str) -> Self {
        self.unit = Some(unit);
        self
    }
    fn series(
        &mut self,
        sample_name: &'static str,
        labels: Vec<(String, String)>,
        values: Vec<f64>,
    ) {
        self.series.push(Series {
            name: sample_name,
            labels,
            values,
        });
    }
    fn with(
        mut self,
        sample_name: &'static str,
        labels: Vec<(String, String)>,
        values: Vec<f64>,
    ) -> Self {
        self.series(sample_name, labels, values);
        self
    }
    /// Metadata, then each series with all its samples in time order.
    fn render(&self, out: &mut String, times: &[u64]) {
        let _ = writeln!(out, "# TYPE {} {}", self.name, self.kind);
        if let Some(unit) = self.unit {
            let _ = writeln!(out, "# UNIT {} {unit}", self.name);
        }
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        for Series {
            name: sample_name,
            labels,
            values,
        } in &self.series
        {
            let labels = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{v}\""))
                .collect::<Vec<_>>()
                .join(",");
            for (v, t) in values.iter().zip(times) {
                let _ = writeln!(out, "{sample_name}{{{labels}}} {v} {t}");
            }
        }
    }
}

/// Tiny deterministic PRNG (splitmix64-seeded xorshift64*).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let s = splitmix64(seed);
        Rng(if s == 0 { 0x9E37_79B9_7F4A_7C15 } else { s })
    }

    /// An independent stream for `tag`, so adding a series never changes the
    /// others.
    pub fn stream(seed: u64, tag: &str) -> Rng {
        // FNV-1a of the tag.
        let h = tag.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
        });
        Rng::new(seed ^ h)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Poisson-distributed count (Knuth below 30, normal approximation above).
    pub fn poisson(&mut self, lambda: f64) -> u64 {
        if lambda <= 0.0 {
            return 0;
        }
        if lambda < 30.0 {
            let limit = (-lambda).exp();
            let mut k = 0;
            let mut p = self.uniform();
            while p > limit {
                k += 1;
                p *= self.uniform();
            }
            k
        } else {
            (lambda + lambda.sqrt() * self.normal()).round().max(0.0) as u64
        }
    }

    /// 32 lowercase hex digits (a W3C trace id).
    pub fn trace_id(&mut self) -> String {
        format!("{:016x}{:016x}", self.next_u64(), self.next_u64())
    }
}

pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
