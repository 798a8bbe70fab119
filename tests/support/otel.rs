//! The OpenTelemetry Rust SDK with its OTLP exporters (gRPC, HTTP/protobuf, HTTP/JSON), as an
//! application would use it, pointed at a test sink.
//!
//! The SDK's batch processors and periodic reader export from their own threads with
//! `futures_executor::block_on`, where there is no tokio runtime; the async reqwest client of
//! the HTTP exporters needs one (tonic only at build time). [`OnTokio`] polls each export inside
//! the test's runtime context. It only wraps: the bytes on the wire are the exporters' own.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use tokio::runtime::Handle;

/// Which OTLP transport and encoding the exporters use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Grpc,
    HttpProtobuf,
    HttpJson,
}

impl Transport {
    pub fn name(self) -> &'static str {
        match self {
            Transport::Grpc => "grpc",
            Transport::HttpProtobuf => "http-protobuf",
            Transport::HttpJson => "http-json",
        }
    }
}

/// The three exporters for `transport`, aimed at the sink with gRPC at `grpc_url` and HTTP at
/// `http_url` (both `http://host:port`). Call inside a tokio runtime.
pub struct Exporters {
    pub spans: OnTokio<opentelemetry_otlp::SpanExporter>,
    pub logs: OnTokio<opentelemetry_otlp::LogExporter>,
    pub metrics: OnTokio<opentelemetry_otlp::MetricExporter>,
}

pub fn exporters(transport: Transport, grpc_url: &str, http_url: &str) -> Exporters {
    use opentelemetry_otlp::{LogExporter, MetricExporter, SpanExporter};
    let timeout = Duration::from_secs(10);
    let handle = Handle::current();
    let on_tokio = |inner| OnTokio {
        inner,
        handle: handle.clone(),
    };
    let (spans, logs, metrics) = match transport {
        Transport::Grpc => (
            SpanExporter::builder()
                .with_tonic()
                .with_endpoint(grpc_url)
                .with_timeout(timeout)
                .build(),
            LogExporter::builder()
                .with_tonic()
                .with_endpoint(grpc_url)
                .with_timeout(timeout)
                .build(),
            MetricExporter::builder()
                .with_tonic()
                .with_endpoint(grpc_url)
                .with_timeout(timeout)
                .build(),
        ),
        Transport::HttpProtobuf | Transport::HttpJson => {
            let protocol = if transport == Transport::HttpJson {
                Protocol::HttpJson
            } else {
                Protocol::HttpBinary
            };
            (
                SpanExporter::builder()
                    .with_http()
                    .with_protocol(protocol)
                    .with_endpoint(format!("{http_url}/v1/traces"))
                    .with_timeout(timeout)
                    .build(),
                LogExporter::builder()
                    .with_http()
                    .with_protocol(protocol)
                    .with_endpoint(format!("{http_url}/v1/logs"))
                    .with_timeout(timeout)
                    .build(),
                MetricExporter::builder()
                    .with_http()
                    .with_protocol(protocol)
                    .with_endpoint(format!("{http_url}/v1/metrics"))
                    .with_timeout(timeout)
                    .build(),
            )
        }
    };
    Exporters {
        spans: on_tokio(spans.expect("the span exporter builds")),
        logs: OnTokio {
            inner: logs.expect("the log exporter builds"),
            handle: handle.clone(),
        },
        metrics: OnTokio {
            inner: metrics.expect("the metric exporter builds"),
            handle: handle.clone(),
        },
    }
}

/// An exporter whose exports run inside a tokio runtime's context, whatever thread polls them.
#[derive(Debug)]
pub struct OnTokio<E> {
    inner: E,
    handle: Handle,
}

/// Enters the runtime context around every poll (never across one, so it stays `Send`).
struct InContext<F> {
    handle: Handle,
    future: Pin<Box<F>>,
}

impl<F: Future> Future for InContext<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let _entered = this.handle.enter();
        this.future.as_mut().poll(cx)
    }
}

impl<E> OnTokio<E> {
    fn run<F: Future>(&self, future: F) -> InContext<F> {
        InContext {
            handle: self.handle.clone(),
            future: Box::pin(future),
        }
    }
}

impl<E: SpanExporter> SpanExporter for OnTokio<E> {
    fn export(&self, batch: Vec<SpanData>) -> impl Future<Output = OTelSdkResult> + Send {
        self.run(self.inner.export(batch))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let _entered = self.handle.enter();
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        let _entered = self.handle.enter();
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

impl<E: LogExporter> LogExporter for OnTokio<E> {
    fn export(&self, batch: LogBatch<'_>) -> impl Future<Output = OTelSdkResult> + Send {
        self.run(self.inner.export(batch))
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let _entered = self.handle.enter();
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

impl<E: PushMetricExporter> PushMetricExporter for OnTokio<E> {
    fn export(&self, metrics: &ResourceMetrics) -> impl Future<Output = OTelSdkResult> + Send {
        self.run(self.inner.export(metrics))
    }

    fn force_flush(&self) -> OTelSdkResult {
        let _entered = self.handle.enter();
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        let _entered = self.handle.enter();
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}
