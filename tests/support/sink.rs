//! An in-process `obs sink` on port 0 over a temporary store, and helpers to talk to it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use obs::sink::{Receiver, ReceiverConfig};
use obs::store::{Store, StoreInfo, Writer, WriterConfig};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub struct TestSink {
    pub grpc: SocketAddr,
    pub http: SocketAddr,
    pub store: PathBuf,
    pub receiver: Receiver,
    stop: watch::Sender<bool>,
    servers: Vec<JoinHandle<()>>,
    writer: Option<Writer>,
    _dir: tempfile::TempDir,
}

impl TestSink {
    /// A sink with default limits and no token. Call from inside a multi-thread tokio runtime.
    pub async fn start() -> TestSink {
        TestSink::start_with(WriterConfig::default(), ReceiverConfig::default()).await
    }

    pub async fn start_with(writer: WriterConfig, receiver: ReceiverConfig) -> TestSink {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = dir.path().join("sink.db");
        let (handle, writer) = obs::store::spawn_writer(&store, writer).expect("the store opens");
        let receiver = Receiver::new(handle, receiver);
        let grpc_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind gRPC");
        let http_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind HTTP");
        let grpc = grpc_listener.local_addr().expect("gRPC address");
        let http = http_listener.local_addr().expect("HTTP address");
        let (stop, stop_rx) = watch::channel(false);
        let stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let servers = vec![
            tokio::spawn({
                let receiver = receiver.clone();
                let shutdown = stopped(stop_rx.clone());
                async move {
                    obs::sink::grpc::serve(grpc_listener, receiver, shutdown)
                        .await
                        .expect("the gRPC server runs");
                }
            }),
            tokio::spawn({
                let receiver = receiver.clone();
                let shutdown = stopped(stop_rx);
                async move {
                    obs::sink::http::serve(http_listener, receiver, shutdown)
                        .await
                        .expect("the HTTP server runs");
                }
            }),
        ];
        TestSink {
            grpc,
            http,
            store,
            receiver,
            stop,
            servers,
            writer: Some(writer),
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http)
    }

    pub fn grpc_url(&self) -> String {
        format!("http://{}", self.grpc)
    }

    /// What the store holds now (read-only, while the sink runs).
    pub fn info(&self) -> StoreInfo {
        Store::open_read_only(&self.store)
            .expect("the store opens read-only")
            .info()
            .expect("store info")
    }

    pub fn read(&self) -> Store {
        Store::open_read_only(&self.store).expect("the store opens read-only")
    }

    /// Stops the servers (answering requests in flight) and commits what is queued.
    pub async fn stop(&mut self) {
        let _ = self.stop.send(true);
        for server in self.servers.drain(..) {
            tokio::time::timeout(Duration::from_secs(30), server)
                .await
                .expect("the servers stop within 30 s")
                .expect("a server task panicked");
        }
        if let Some(writer) = self.writer.take() {
            tokio::task::spawn_blocking(move || writer.shutdown())
                .await
                .expect("the writer shutdown task panicked")
                .expect("the writer commits its queue");
        }
    }
}

/// The `obs` binary with no `OBS_*` variables and no config file from the environment.
pub fn obs_command() -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("obs"));
    for (key, _) in std::env::vars() {
        if key.starts_with("OBS_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("XDG_CONFIG_HOME", "/nonexistent-obs-test-config")
        .env("NO_COLOR", "1");
    cmd
}

/// Sends SIGTERM to `child` and returns its exit status (within 30 s).
pub fn terminate(child: &mut std::process::Child) -> std::process::ExitStatus {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no exit within 30 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The store's counts, for "nothing changed" comparisons.
pub fn counts(info: &StoreInfo) -> [u64; 5] {
    [
        info.spans,
        info.traces,
        info.logs,
        info.metric_points,
        info.exemplars,
    ]
}

/// A trace id that is unique per `seed` (and never all zeros).
pub fn trace_id(seed: u64) -> [u8; 16] {
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes());
    id[8..].copy_from_slice(&(seed | 1 << 63).to_be_bytes());
    id
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One trace of `spans` spans (a root and its children) with realistic attributes, from one
/// service: what an instrumented HTTP service exports.
pub fn trace_request(seed: u64, spans: usize) -> ExportTraceServiceRequest {
    use opentelemetry_proto::tonic::common::v1::{
        AnyValue, InstrumentationScope, KeyValue, any_value,
    };
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{
        ResourceSpans, ScopeSpans, Span, Status, span, status,
    };
    let kv = |k: &str, v: any_value::Value| KeyValue {
        key: k.to_string(),
        value: Some(AnyValue { value: Some(v) }),
        ..Default::default()
    };
    let s = |v: &str| any_value::Value::StringValue(v.to_string());
    let trace_id = trace_id(seed).to_vec();
    let start = 1_767_225_600_000_000_000u64 + seed * 1_000_000;
    let spans = (0..spans as u64)
        .map(|i| Span {
            trace_id: trace_id.clone(),
            span_id: (seed << 16 | (i + 1)).to_be_bytes().to_vec(),
            parent_span_id: if i == 0 {
                Vec::new()
            } else {
                (seed << 16 | 1).to_be_bytes().to_vec()
            },
            name: if i == 0 {
                "GET /api/cart".into()
            } else {
                format!("SELECT cart_items {i}")
            },
            kind: if i == 0 {
                span::SpanKind::Server
            } else {
                span::SpanKind::Client
            } as i32,
            start_time_unix_nano: start + i * 1_000,
            end_time_unix_nano: start + i * 1_000 + 250_000,
            attributes: vec![
                kv("http.request.method", s("GET")),
                kv("http.route", s("/api/cart")),
                kv("http.response.status_code", any_value::Value::IntValue(200)),
                kv("server.address", s("cart.internal")),
                kv("server.port", any_value::Value::IntValue(8080)),
                kv("db.system.name", s("postgresql")),
                kv(
                    "db.query.text",
                    s("SELECT * FROM cart_items WHERE cart_id = $1"),
                ),
                kv("user.id", s(&format!("user-{}", seed % 1000))),
                kv("cache.hit", any_value::Value::BoolValue(i % 2 == 0)),
                kv("queue.wait_ratio", any_value::Value::DoubleValue(0.25)),
            ],
            status: Some(Status {
                code: status::StatusCode::Ok as i32,
                message: String::new(),
            }),
            ..Default::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", s(&format!("cart-{}", seed % 4))),
                    kv("service.version", s("1.4.2")),
                    kv("host.name", s("node-7")),
                ],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(InstrumentationScope {
                    name: "cart-http".into(),
                    version: "0.9.0".into(),
                    ..Default::default()
                }),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}
