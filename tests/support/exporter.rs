//! A live OpenMetrics exporter with exemplars, for a real Prometheus to
//! scrape. Serves checkout's `http_requests_total{service,code}` and the
//! `http_request_duration_seconds` histogram; the simulated traffic follows
//! wall-clock time since start. After `incident_after` checkout goes into an
//! error/slow mode: ~30 % 5xx and ~60 % slow (1–5 s) requests.
//!
//! Every simulated request gets a fresh deterministic trace id; the newest
//! request in each bucket (and the newest 500/503) is exposed as that line's
//! exemplar: `… # {trace_id="<32 hex>"} <value> <unix s>`.
//!
//! Prometheus 2.42 scrapes a new target first ~5 s after it starts, so give
//! `incident_after` ≥ ~8 s (counted from `Exporter::start`) if a test needs
//! pre-incident samples and exemplars in Prometheus.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::scenario::Rng;

pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// Histogram buckets (plus `+Inf`).
pub const BUCKETS: [f64; 8] = [0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
const REQUESTS_PER_SEC: f64 = 25.0;
const SEED: u64 = 0x0b5e_7e57;

pub struct Exporter {
    /// `127.0.0.1:PORT`
    pub addr: String,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    stop: AtomicBool,
    state: Mutex<State>,
}

#[derive(Clone)]
struct Exemplar {
    trace_id: String,
    value: f64,
    unix: f64,
    incident: bool,
}

struct State {
    started: Instant,
    started_unix: f64,
    incident_after: Duration,
    simulated_until: Duration,
    pending: f64,
    rng: Rng,
    ok: u64,
    e500: u64,
    e503: u64,
    buckets: [u64; BUCKETS.len() + 1],
    sum: f64,
    bucket_exemplars: [Option<Exemplar>; BUCKETS.len() + 1],
    e500_exemplar: Option<Exemplar>,
    e503_exemplar: Option<Exemplar>,
    served: Vec<String>,
    served_incident: Vec<String>,
    served_set: HashSet<String>,
    scrapes: u64,
    last_accept: Option<String>,
    /// When set, incident-mode requests take their trace ids from here in turn (so that
    /// recorded backend responses for those ids can be served); otherwise ids are random.
    incident_ids: Vec<String>,
    next_incident_id: usize,
}

impl Exporter {
    /// Binds 127.0.0.1:0 and serves on a background thread until dropped.
    pub fn start(incident_after: Duration) -> Exporter {
        Exporter::start_with_incident_trace_ids(incident_after, &[])
    }

    /// Like [`Exporter::start`], but every request in incident mode carries one of `ids`, in
    /// turn: the exemplars of the incident then point at traces whose recorded Tempo and Loki
    /// responses a test can serve.
    pub fn start_with_incident_trace_ids(incident_after: Duration, ids: &[&str]) -> Exporter {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind exporter on 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("exporter local addr")
            .to_string();
        let started_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs_f64();
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            state: Mutex::new(State {
                started: Instant::now(),
                started_unix,
                incident_after,
                simulated_until: Duration::ZERO,
                pending: 0.0,
                rng: Rng::new(SEED),
                ok: 0,
                e500: 0,
                e503: 0,
                buckets: [0; BUCKETS.len() + 1],
                sum: 0.0,
                bucket_exemplars: Default::default(),
                e500_exemplar: None,
                e503_exemplar: None,
                served: Vec::new(),
                served_incident: Vec::new(),
                served_set: HashSet::new(),
                scrapes: 0,
                last_accept: None,
                incident_ids: ids.iter().map(|s| s.to_string()).collect(),
                next_incident_id: 0,
            }),
        });
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("test-exporter".into())
            .spawn(move || serve(listener, &thread_shared))
            .expect("spawn exporter thread");
        Exporter {
            addr,
            shared,
            thread: Some(thread),
        }
    }

    /// Trace ids exposed as exemplars in any response so far, first-seen order.
    pub fn trace_ids_served(&self) -> Vec<String> {
        self.state().served.clone()
    }

    /// Subset of [`Self::trace_ids_served`] from requests in incident mode.
    pub fn incident_trace_ids_served(&self) -> Vec<String> {
        self.state().served_incident.clone()
    }

    /// Unix time (s) at which incident mode starts.
    pub fn incident_start_unix(&self) -> f64 {
        let s = self.state();
        s.started_unix + s.incident_after.as_secs_f64()
    }

    /// Number of GET requests answered.
    pub fn scrapes(&self) -> u64 {
        self.state().scrapes
    }

    /// `Accept` header of the last request (Prometheus asks for OpenMetrics).
    pub fn last_accept_header(&self) -> Option<String> {
        self.state().last_accept.clone()
    }

    /// Renders the body as a scrape would (advancing the simulation), without
    /// counting it as a scrape. For debugging.
    pub fn render_now(&self) -> String {
        let mut s = self.state();
        s.advance();
        s.render()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.shared)
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept().
        let _ = TcpStream::connect(&self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn lock(shared: &Shared) -> MutexGuard<'_, State> {
    shared
        .state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn serve(listener: TcpListener, shared: &Shared) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        if let Ok(stream) = stream {
            let _ = handle(stream, shared);
        }
    }
}

fn handle(mut stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.set_write_timeout(Some(Duration::from_secs(2)))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 64 * 1024 {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    if !head.starts_with("GET ") {
        let msg = "only GET is supported\n";
        return write!(
            stream,
            "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{msg}",
            msg.len()
        );
    }
    let accept = head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("accept"))
        })
        .map(|(_, v)| v.trim().to_string());
    let body = {
        let mut s = lock(shared);
        s.scrapes += 1;
        s.last_accept = accept;
        s.advance();
        s.render_and_record()
    };
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: {CONTENT_TYPE}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
}

impl State {
    /// Simulates the requests between the last advance and now.
    fn advance(&mut self) {
        let now = self.started.elapsed();
        let from = self.simulated_until;
        if now <= from {
            return;
        }
        let dt = (now - from).as_secs_f64();
        let expected = self.pending + REQUESTS_PER_SEC * dt;
        let n = expected.floor() as u64;
        self.pending = expected - n as f64;
        for k in 1..=n {
            let at = from.as_secs_f64() + dt * k as f64 / n as f64;
            let incident = at >= self.incident_after.as_secs_f64();
            let unix = round_ms(self.started_unix + at);
            let mut trace_id = self.rng.trace_id();
            if incident && !self.incident_ids.is_empty() {
                trace_id =
                    self.incident_ids[self.next_incident_id % self.incident_ids.len()].clone();
                self.next_incident_id += 1;
            }
            let roll = self.rng.uniform();
            let (p500, p503) = if incident {
                (0.22, 0.08)
            } else {
                (0.008, 0.004)
            };
            let secs = if incident && self.rng.uniform() < 0.6 {
                self.rng.range(1.0, 4.8)
            } else {
                0.04 * (0.5 * self.rng.normal()).exp()
            };
            let secs = round_ms(secs);
            let ex = |value: f64| Exemplar {
                trace_id: trace_id.clone(),
                value,
                unix,
                incident,
            };
            if roll < p500 {
                self.e500 += 1;
                self.e500_exemplar = Some(ex(1.0));
            } else if roll < p500 + p503 {
                self.e503 += 1;
                self.e503_exemplar = Some(ex(1.0));
            } else {
                self.ok += 1;
            }
            let first = BUCKETS
                .iter()
                .position(|&le| secs <= le)
                .unwrap_or(BUCKETS.len());
            for b in &mut self.buckets[first..] {
                *b += 1;
            }
            self.bucket_exemplars[first] = Some(ex(secs));
            self.sum += secs;
        }
        self.simulated_until = now;
    }

    fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        out.push_str(
            "# TYPE http_requests counter\n# HELP http_requests HTTP requests by status code.\n",
        );
        for (code, value, ex) in [
            ("200", self.ok, None),
            ("500", self.e500, self.e500_exemplar.as_ref()),
            ("503", self.e503, self.e503_exemplar.as_ref()),
        ] {
            let _ = write!(
                out,
                "http_requests_total{{service=\"checkout\",code=\"{code}\"}} {value}"
            );
            push_exemplar(&mut out, ex);
        }
        out.push_str(
            "# TYPE http_request_duration_seconds histogram\n\
             # UNIT http_request_duration_seconds seconds\n\
             # HELP http_request_duration_seconds HTTP request latency.\n",
        );
        for (i, count) in self.buckets.iter().enumerate() {
            let le = BUCKETS
                .get(i)
                .map_or_else(|| "+Inf".to_string(), |le| le.to_string());
            let _ = write!(
                out,
                "http_request_duration_seconds_bucket{{service=\"checkout\",le=\"{le}\"}} {count}"
            );
            push_exemplar(&mut out, self.bucket_exemplars[i].as_ref());
        }
        let count = self.buckets[BUCKETS.len()];
        let _ = writeln!(
            out,
            "http_request_duration_seconds_sum{{service=\"checkout\"}} {}",
            round_ms(self.sum)
        );
        let _ = writeln!(
            out,
            "http_request_duration_seconds_count{{service=\"checkout\"}} {count}"
        );
        out.push_str("# EOF\n");
        out
    }

    fn render_and_record(&mut self) -> String {
        let body = self.render();
        let exposed: Vec<Exemplar> = self
            .bucket_exemplars
            .iter()
            .chain([&self.e500_exemplar, &self.e503_exemplar])
            .flatten()
            .cloned()
            .collect();
        for ex in exposed {
            if self.served_set.insert(ex.trace_id.clone()) {
                if ex.incident {
                    self.served_incident.push(ex.trace_id.clone());
                }
                self.served.push(ex.trace_id);
            }
        }
        body
    }
}

fn push_exemplar(out: &mut String, ex: Option<&Exemplar>) {
    if let Some(ex) = ex {
        let _ = write!(
            out,
            " # {{trace_id=\"{}\"}} {} {:.3}",
            ex.trace_id, ex.value, ex.unix
        );
    }
    out.push('\n');
}

fn round_ms(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
