//! The sink under hostile conditions: slow clients by the thousand, a full disk, a log that
//! cannot be written, a request crafted to decode to far more than its size.
//!
//! Slow clients run on loopback only, in bounded numbers. Thousands of connections in one
//! process need as many file descriptors on each side: the tests raise the process's
//! open-file soft limit to what they need (up to the hard limit) and fail, saying so, when
//! the hard limit is lower.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use obs::sink::Transport;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use prost::Message as _;
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;

use crate::support::sink::{TestSink, hex, trace_id, trace_request};

/// Floods that open thousands of sockets run one at a time.
static FLOOD: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Raises the open-file soft limit to at least `needed` (never above the hard limit).
fn raise_open_files(needed: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit for getrlimit to fill.
    assert_eq!(
        unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) },
        0
    );
    if limit.rlim_cur >= needed {
        return;
    }
    assert!(
        limit.rlim_max >= needed,
        "this test opens {needed} file descriptors but the hard limit is {}: raise it (ulimit -Hn {needed})",
        limit.rlim_max
    );
    limit.rlim_cur = needed;
    // SAFETY: `limit` is a valid rlimit; lowering or raising the soft limit up to the hard
    // limit needs no privilege.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
}

/// An HTTP/1.1 request that declares a 1 MB body and sends 3 bytes of it.
const SLOW_BODY_HEAD: &[u8] = b"POST /v1/traces HTTP/1.1\r\nhost: sink\r\ncontent-type: application/x-protobuf\r\ncontent-length: 1000000\r\n\r\nabc";

/// Opens `n` connections that each send [`SLOW_BODY_HEAD`] and then nothing.
async fn slow_http_bodies(addr: SocketAddr, n: usize, out: &mut Vec<TcpStream>) {
    for _ in 0..n {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(SLOW_BODY_HEAD).await.unwrap();
        out.push(stream);
    }
}

/// One gRPC stream that declares a 1 MB message and sends 3 bytes of it, on a connection of
/// its own; kept open while held.
struct SlowStream {
    _stream: h2::SendStream<Bytes>,
    _response: h2::client::ResponseFuture,
    driver: tokio::task::JoinHandle<()>,
}

impl Drop for SlowStream {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

async fn slow_grpc_streams(addr: SocketAddr, n: usize, out: &mut Vec<SlowStream>) {
    for _ in 0..n {
        let tcp = TcpStream::connect(addr).await.unwrap();
        let (client, connection) = h2::client::handshake(tcp).await.unwrap();
        let driver = tokio::spawn(async move {
            let _ = connection.await;
        });
        let mut client = client.ready().await.unwrap();
        let request = http::Request::builder()
            .method("POST")
            .uri(format!(
                "http://{addr}/opentelemetry.proto.collector.trace.v1.TraceService/Export"
            ))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(())
            .unwrap();
        let (response, mut stream) = client.send_request(request, false).unwrap();
        // Uncompressed, 1,000,000 bytes declared, 3 sent.
        stream
            .send_data(
                Bytes::from_static(&[0, 0, 0x0f, 0x42, 0x40, 1, 2, 3]),
                false,
            )
            .unwrap();
        out.push(SlowStream {
            _stream: stream,
            _response: response,
            driver,
        });
    }
}

/// Sends one well-formed 10-span trace over HTTP and returns how long its acknowledgement
/// took.
async fn acknowledged_over_http(sink: &TestSink, seed: u64) -> Duration {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let started = Instant::now();
    let reply = client
        .post(sink.url("/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(trace_request(seed, 10).encode_to_vec())
        .send()
        .await
        .expect("the well-formed request is answered");
    assert_eq!(reply.status(), 200);
    started.elapsed()
}

async fn acknowledged_over_grpc(sink: &TestSink, seed: u64) -> Duration {
    let started = Instant::now();
    let channel = tonic::transport::Channel::from_shared(sink.grpc_url())
        .unwrap()
        .timeout(Duration::from_secs(20))
        .connect()
        .await
        .unwrap();
    TraceServiceClient::new(channel)
        .export(trace_request(seed, 10))
        .await
        .expect("the well-formed request is acknowledged");
    started.elapsed()
}

/// What the slow-client tests promise: a well-formed request is acknowledged within this,
/// whatever number of slow clients hold connections.
const PROMPT: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_http_bodies_by_the_thousand_do_not_delay_a_well_formed_request() {
    let _flood = FLOOD.lock().await;
    raise_open_files(2 * 4000 + 512);
    let mut sink = TestSink::start().await;
    let mut slow = Vec::new();
    let mut seed = 0;
    for total in [40, 400, 4000] {
        slow_http_bodies(sink.http, total - slow.len(), &mut slow).await;
        // Every slow connection has been accepted and is waiting for its body.
        let stats = sink.receiver.connection_stats(Transport::Http);
        let deadline = Instant::now() + Duration::from_secs(10);
        while stats.open.load(std::sync::atomic::Ordering::Relaxed) < total as u64 {
            assert!(
                Instant::now() < deadline,
                "{total} connections not accepted"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        seed += 1;
        let latency = acknowledged_over_http(&sink, seed).await;
        println!("{total} slow HTTP bodies: a well-formed request acknowledged in {latency:?}");
        assert!(
            latency < PROMPT,
            "{total} slow bodies: acknowledged after {latency:?}"
        );
        assert!(sink.read().trace(&hex(&trace_id(seed))).unwrap().is_some());
    }
    drop(slow);
    sink.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_grpc_messages_by_the_thousand_do_not_delay_a_well_formed_request() {
    let _flood = FLOOD.lock().await;
    raise_open_files(2 * 4000 + 512);
    let mut sink = TestSink::start().await;
    let mut slow = Vec::new();
    let mut seed = 100;
    for total in [40, 400, 4000] {
        slow_grpc_streams(sink.grpc, total - slow.len(), &mut slow).await;
        let stats = sink.receiver.connection_stats(Transport::Grpc);
        let deadline = Instant::now() + Duration::from_secs(10);
        while stats.open.load(std::sync::atomic::Ordering::Relaxed) < total as u64 {
            assert!(
                Instant::now() < deadline,
                "{total} connections not accepted"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        seed += 1;
        let latency = acknowledged_over_grpc(&sink, seed).await;
        println!("{total} slow gRPC messages: a well-formed request acknowledged in {latency:?}");
        assert!(
            latency < PROMPT,
            "{total} slow messages: acknowledged after {latency:?}"
        );
        assert!(sink.read().trace(&hex(&trace_id(seed))).unwrap().is_some());
    }
    drop(slow);
    sink.stop().await;
}
