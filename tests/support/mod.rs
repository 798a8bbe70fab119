//! Test support: a real Prometheus server, a planted incident scenario that
//! is backfilled into it, a live OpenMetrics exporter with exemplars, an
//! in-process OTLP sink and the OpenTelemetry SDK exporters to feed it.
//!
//! Not every test uses every helper, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod cluster;
pub mod exporter;
pub mod litellm;
pub mod otel;
pub mod prometheus;
pub mod recorded;
pub mod scenario;
pub mod sink;
