//! The integration tests: one binary (faster to link) with a module per area.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions: a failed unwrap is a failed test"
)]

mod support;

mod architecture;
mod backends;
mod cli;
mod demo;
mod doctor;
mod explain;
mod investigate_cluster;
mod investigate_failing;
mod investigate_follow;
mod investigate_patterns;
mod investigate_prometheus;
mod investigate_symptom;
mod offline;
mod patterns;
mod promql_parity;
mod sink;
mod sink_hostile;
mod snapshot;
mod store_v1;
mod store_v2;
mod trace_logs;
mod transfer;
mod tui;
