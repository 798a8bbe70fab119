//! Test support: a real Prometheus server, a planted incident scenario that
//! is backfilled into it, and a live OpenMetrics exporter with exemplars.
//!
//! Not every test uses every helper, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod exporter;
pub mod prometheus;
pub mod scenario;
