//! The sink's own counters, rendered as Prometheus text on `GET /metrics` next to the store
//! writer's (queue depth, commit latency). Lock-free atomics: handlers only add.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use std::sync::Arc;

use super::Transport;
use super::conn::ConnectionStats;
use super::decode::Signal;

/// Why a request was refused; one label value per variant on `obs_sink_requests_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Unauthenticated,
    UnsupportedMediaType,
    TooLarge,
    BadData,
    Overloaded,
    ShuttingDown,
    StoreError,
    LowDisk,
}

impl Outcome {
    const ALL: [Outcome; 9] = [
        Outcome::Ok,
        Outcome::Unauthenticated,
        Outcome::UnsupportedMediaType,
        Outcome::TooLarge,
        Outcome::BadData,
        Outcome::Overloaded,
        Outcome::ShuttingDown,
        Outcome::StoreError,
        Outcome::LowDisk,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Unauthenticated => "unauthenticated",
            Outcome::UnsupportedMediaType => "unsupported_media_type",
            Outcome::TooLarge => "too_large",
            Outcome::BadData => "bad_data",
            Outcome::Overloaded => "overloaded",
            Outcome::ShuttingDown => "shutting_down",
            Outcome::StoreError => "store_error",
            Outcome::LowDisk => "low_disk",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

const TRANSPORTS: [Transport; 2] = [Transport::Grpc, Transport::Http];
const SIGNALS: usize = 3;
const OUTCOMES: usize = Outcome::ALL.len();
/// Upper bounds of the acknowledgement-latency histogram, in seconds.
const LATENCY_BOUNDS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; LATENCY_BOUNDS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (bound, bucket) in LATENCY_BOUNDS.iter().zip(&self.buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Relaxed);
            }
        }
        self.count.fetch_add(1, Relaxed);
        let micros = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Relaxed);
    }
}

/// Counters for both receivers. Indexed by transport, signal and outcome.
#[derive(Default)]
pub struct SinkStats {
    requests: [[[AtomicU64; OUTCOMES]; SIGNALS]; 2],
    received_items: [AtomicU64; SIGNALS],
    committed_items: [AtomicU64; SIGNALS],
    /// Items the store refused inside an accepted request (partial success).
    partially_rejected_items: [AtomicU64; SIGNALS],
    /// Items of well-formed requests that were refused whole (overload, shutdown, store error).
    refused_items: [[AtomicU64; OUTCOMES]; SIGNALS],
    ack_latency: [Histogram; 2],
}

impl SinkStats {
    pub fn request(&self, transport: Transport, signal: Signal, outcome: Outcome) {
        self.requests[transport.index()][signal.index()][outcome.index()].fetch_add(1, Relaxed);
    }

    pub fn received(&self, signal: Signal, items: u64) {
        self.received_items[signal.index()].fetch_add(items, Relaxed);
    }

    pub fn committed(&self, signal: Signal, accepted: u64, rejected: u64) {
        self.committed_items[signal.index()].fetch_add(accepted, Relaxed);
        self.partially_rejected_items[signal.index()].fetch_add(rejected, Relaxed);
    }

    pub fn refused(&self, signal: Signal, outcome: Outcome, items: u64) {
        self.refused_items[signal.index()][outcome.index()].fetch_add(items, Relaxed);
    }

    pub fn acknowledged(&self, transport: Transport, latency: Duration) {
        self.ack_latency[transport.index()].observe(latency);
    }

    /// Requests counted so far with this outcome, over both transports and all signals.
    pub fn requests_with(&self, outcome: Outcome) -> u64 {
        self.requests
            .iter()
            .flatten()
            .map(|o| o[outcome.index()].load(Relaxed))
            .sum()
    }

    /// Appends the counters in the Prometheus text exposition format (version 0.0.4).
    pub fn render_prometheus(&self, out: &mut String) {
        // Writing to a String cannot fail.
        let _ = self.render(out);
    }

    fn render(&self, out: &mut String) -> std::fmt::Result {
        writeln!(
            out,
            "# HELP obs_sink_requests_total OTLP export requests by transport, signal and outcome (ok or the reason for refusing)."
        )?;
        writeln!(out, "# TYPE obs_sink_requests_total counter")?;
        for transport in TRANSPORTS {
            for signal in Signal::ALL {
                for outcome in Outcome::ALL {
                    let n = self.requests[transport.index()][signal.index()][outcome.index()]
                        .load(Relaxed);
                    writeln!(
                        out,
                        "obs_sink_requests_total{{transport=\"{}\",signal=\"{}\",outcome=\"{}\"}} {n}",
                        transport.name(),
                        signal.name(),
                        outcome.label()
                    )?;
                }
            }
        }
        let per_signal = |out: &mut String,
                          name: &str,
                          help: &str,
                          values: &[AtomicU64; SIGNALS]|
         -> std::fmt::Result {
            writeln!(out, "# HELP {name} {help}")?;
            writeln!(out, "# TYPE {name} counter")?;
            for signal in Signal::ALL {
                let n = values[signal.index()].load(Relaxed);
                writeln!(out, "{name}{{signal=\"{}\"}} {n}", signal.name())?;
            }
            Ok(())
        };
        per_signal(
            out,
            "obs_sink_received_items_total",
            "Spans, log records and data points in well-formed requests.",
            &self.received_items,
        )?;
        per_signal(
            out,
            "obs_sink_committed_items_total",
            "Items committed to the store and acknowledged.",
            &self.committed_items,
        )?;
        writeln!(
            out,
            "# HELP obs_sink_rejected_items_total Items of well-formed requests not stored, by reason (partial: refused by the store inside an acknowledged request)."
        )?;
        writeln!(out, "# TYPE obs_sink_rejected_items_total counter")?;
        for signal in Signal::ALL {
            let partial = self.partially_rejected_items[signal.index()].load(Relaxed);
            writeln!(
                out,
                "obs_sink_rejected_items_total{{signal=\"{}\",reason=\"partial\"}} {partial}",
                signal.name()
            )?;
            for outcome in [
                Outcome::Overloaded,
                Outcome::ShuttingDown,
                Outcome::StoreError,
            ] {
                let n = self.refused_items[signal.index()][outcome.index()].load(Relaxed);
                writeln!(
                    out,
                    "obs_sink_rejected_items_total{{signal=\"{}\",reason=\"{}\"}} {n}",
                    signal.name(),
                    outcome.label()
                )?;
            }
        }
        writeln!(
            out,
            "# HELP obs_sink_ack_latency_seconds Time from a request's arrival to its acknowledgement (after commit), for acknowledged requests."
        )?;
        writeln!(out, "# TYPE obs_sink_ack_latency_seconds histogram")?;
        for transport in TRANSPORTS {
            let h = &self.ack_latency[transport.index()];
            let t = transport.name();
            for (bound, bucket) in LATENCY_BOUNDS.iter().zip(&h.buckets) {
                writeln!(
                    out,
                    "obs_sink_ack_latency_seconds_bucket{{transport=\"{t}\",le=\"{bound}\"}} {}",
                    bucket.load(Relaxed)
                )?;
            }
            let count = h.count.load(Relaxed);
            writeln!(
                out,
                "obs_sink_ack_latency_seconds_bucket{{transport=\"{t}\",le=\"+Inf\"}} {count}"
            )?;
            let sum = h.sum_micros.load(Relaxed) as f64 / 1e6;
            writeln!(
                out,
                "obs_sink_ack_latency_seconds_sum{{transport=\"{t}\"}} {sum}"
            )?;
            writeln!(
                out,
                "obs_sink_ack_latency_seconds_count{{transport=\"{t}\"}} {count}"
            )?;
        }
        Ok(())
    }
}

/// A connection series: name, type, help and the counter it shows.
type ConnectionSeries = (
    &'static str,
    &'static str,
    &'static str,
    fn(&ConnectionStats) -> &AtomicU64,
);

/// `obs_sink_connections_*{transport}`: open connections, the cap, accepted, closed as idle,
/// and waits at the cap.
pub fn render_connections(connections: &[Arc<ConnectionStats>; 2], out: &mut String) {
    let series: [ConnectionSeries; 5] = [
        (
            "obs_sink_connections_open",
            "gauge",
            "Connections open now.",
            |c| &c.open,
        ),
        (
            "obs_sink_connections_max",
            "gauge",
            "The cap on open connections (--max-connections).",
            |c| &c.cap,
        ),
        (
            "obs_sink_connections_accepted_total",
            "counter",
            "Connections accepted.",
            |c| &c.accepted,
        ),
        (
            "obs_sink_connections_idle_closed_total",
            "counter",
            "Connections closed because the peer sent nothing for the idle timeout.",
            |c| &c.idle_closed,
        ),
        (
            "obs_sink_connections_cap_waits_total",
            "counter",
            "Times a new connection waited because the cap was reached.",
            |c| &c.cap_waits,
        ),
    ];
    for (name, kind, help, value) in series {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for transport in TRANSPORTS {
            let n = value(&connections[transport.index()]).load(Relaxed);
            let _ = writeln!(out, "{name}{{transport=\"{}\"}} {n}", transport.name());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_series_with_its_labels() {
        let stats = SinkStats::default();
        stats.request(Transport::Http, Signal::Logs, Outcome::BadData);
        stats.received(Signal::Traces, 7);
        stats.committed(Signal::Traces, 5, 2);
        stats.acknowledged(Transport::Grpc, Duration::from_millis(3));
        let mut out = String::new();
        stats.render_prometheus(&mut out);
        for line in [
            "obs_sink_requests_total{transport=\"http\",signal=\"logs\",outcome=\"bad_data\"} 1",
            "obs_sink_received_items_total{signal=\"traces\"} 7",
            "obs_sink_committed_items_total{signal=\"traces\"} 5",
            "obs_sink_rejected_items_total{signal=\"traces\",reason=\"partial\"} 2",
            "obs_sink_ack_latency_seconds_bucket{transport=\"grpc\",le=\"0.0025\"} 0",
            "obs_sink_ack_latency_seconds_bucket{transport=\"grpc\",le=\"0.005\"} 1",
            "obs_sink_ack_latency_seconds_count{transport=\"grpc\"} 1",
        ] {
            assert!(
                out.lines().any(|l| l == line),
                "missing {line:?} in:\n{out}"
            );
        }
        assert_eq!(stats.requests_with(Outcome::BadData), 1);
    }
}
