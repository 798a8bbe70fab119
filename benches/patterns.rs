//! Throughput and memory of the log templater on one core.
//!
//! 1. 10 000 000 distinct lines generated on the fly (words without digits, so masking cannot
//!    fold them): the pattern cap keeps memory bounded; peak RSS growth is printed.
//! 2. 1 000 000 generated lines of realistic shape (logfmt, JSON bodies, Java-style messages
//!    with ids and addresses, stack-trace frames, HTTP access lines), generated first, then
//!    templated and merged on this thread: lines/s, MB/s, patterns, and the memory the
//!    templater held (RSS growth while templating). Target: ≥ 200 000 lines/s.
//!
//! Run: `cargo bench --bench patterns` (exits 1 below the throughput target).

use std::time::Instant;

use obs::analysis::patterns::{Options, Templater};

/// xorshift64*: deterministic data without a rand crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn hex(&mut self, digits: usize) -> String {
        let mut s = String::with_capacity(digits);
        while s.len() < digits {
            s.push_str(&format!("{:016x}", self.next()));
        }
        s.truncate(digits);
        s
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const SERVICES: [&str; 6] = [
    "checkout",
    "frontend",
    "payments",
    "inventory",
    "cart",
    "auth",
];
const ROUTES: [&str; 5] = ["/checkout", "/api/orders", "/", "/cart", "/login"];
const USERS: [&str; 8] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
];

fn line(rng: &mut Rng, i: u64) -> String {
    let ts = format!(
        "2026-12-02T03:{:02}:{:02}.{:03}Z",
        (i / 60_000) % 60,
        (i / 1000) % 60,
        i % 1000
    );
    match rng.below(10) {
        0 | 1 => format!(
            "ts={ts} level=info msg=\"request completed\" method=GET path={} status=200 duration_ms={} trace_id={}",
            rng.pick(&ROUTES),
            rng.below(900),
            rng.hex(32)
        ),
        2 | 3 => format!(
            r#"{{"ts": "{ts}", "level": "error", "logger": "orders.repository", "msg": "failed to persist order", "error": "PoolTimeout: QueuePool limit of size {} overflow 0 reached, connection timed out, timeout {}.50s (pool=orders-db)", "http_status": 503, "duration_ms": {}, "trace_id": "{}", "span_id": "{}"}}"#,
            rng.below(200),
            rng.below(5),
            rng.below(3000),
            rng.hex(32),
            rng.hex(16)
        ),
        4 => format!(
            "Received block blk_{} of size {} from /10.{}.{}.{}",
            rng.next() >> 1,
            rng.below(1 << 27),
            rng.below(255),
            rng.below(255),
            rng.below(255)
        ),
        5 => format!(
            "Task attempt_{}_{:04}_m_{:06}_{} is done. And is in the process of committing",
            1_445_144_423_722u64 + rng.below(9),
            rng.below(100),
            rng.below(1000),
            rng.below(4)
        ),
        6 => format!(
            "\tat com.shop.{}.Service.handle(Service.java:{})",
            rng.pick(&SERVICES),
            rng.below(900)
        ),
        7 => format!(
            "10.0.{}.{} - {} [{ts}] \"POST {} HTTP/1.1\" {} {} \"-\" \"okhttp/4.{}.0\"",
            rng.below(255),
            rng.below(255),
            rng.pick(&USERS),
            rng.pick(&ROUTES),
            rng.pick(&["200", "201", "404", "500", "503"]),
            rng.below(100_000),
            rng.below(12)
        ),
        8 => format!(
            "user {} session {} expired after {}m{}s idle on {}",
            rng.pick(&USERS),
            rng.hex(24),
            rng.below(60),
            rng.below(60),
            rng.pick(&SERVICES)
        ),
        _ => format!(
            "Connection to postgres://orders-db-{}:5432/orders failed: FATAL: remaining connection slots are reserved for non-replication superuser connections (attempt {})",
            rng.below(3),
            rng.below(10)
        ),
    }
}

/// A `/proc/self/status` field in KiB (Linux): `VmHWM` is the peak resident set size so far,
/// `VmRSS` the current one.
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn peak_rss_kib() -> Option<u64> {
    status_kib("VmHWM:")
}

fn rss_kib() -> Option<u64> {
    status_kib("VmRSS:")
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn main() {
    // First, in a still-small process, so that peak RSS growth is the templater's.
    let before = peak_rss_kib().unwrap_or(0);
    let distinct: u64 = 10_000_000;
    let start = Instant::now();
    let mut t = Templater::new(Options::default());
    let mut buf = String::new();
    let letters = |mut x: u64, out: &mut String| loop {
        out.push((b'a' + (x % 26) as u8) as char);
        x /= 26;
        if x == 0 {
            break;
        }
    };
    for i in 0..distinct {
        buf.clear();
        buf.push_str("event ");
        letters(i, &mut buf);
        buf.push_str(" from ");
        letters(i.wrapping_mul(0x9e37_79b9) % 1_000_003, &mut buf);
        std::hint::black_box(t.add(buf.as_bytes()));
    }
    let g = t.finish();
    let grown = peak_rss_kib().unwrap_or(0).saturating_sub(before);
    println!(
        "10 M distinct lines: {:.1} s; {} patterns kept (cap {}), {} lines over the cap; peak RSS growth {:.1} MiB",
        start.elapsed().as_secs_f64(),
        g.patterns.len(),
        g.max_patterns,
        g.overflow_lines,
        mib(grown)
    );
    drop(g);

    let n: u64 = 1_000_000;
    let mut rng = Rng(0x5eed_1234);
    let lines: Vec<String> = (0..n).map(|i| line(&mut rng, i)).collect();
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let mut best = f64::MAX;
    let mut patterns = 0;
    let mut held = 0;
    for _ in 0..3 {
        let before = rss_kib().unwrap_or(0);
        let start = Instant::now();
        let mut t = Templater::new(Options::default());
        for l in &lines {
            std::hint::black_box(t.add(l.as_bytes()));
        }
        let g = t.finish();
        let secs = start.elapsed().as_secs_f64();
        held = rss_kib().unwrap_or(0).saturating_sub(before);
        patterns = g.patterns.len();
        best = best.min(secs);
    }
    let rate = n as f64 / best;
    println!(
        "templater, 1 thread: {n} lines ({:.0} MB) in {:.3} s (best of 3) = {:.0} lines/s, {:.0} MB/s; {patterns} patterns; RSS growth while templating {:.1} MiB",
        bytes as f64 / 1e6,
        best,
        rate,
        bytes as f64 / 1e6 / best,
        mib(held)
    );

    if rate < 200_000.0 {
        println!("below the target of 200 000 lines/s");
        std::process::exit(1);
    }
}
