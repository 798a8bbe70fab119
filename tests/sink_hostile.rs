//! The sink under hostile conditions: slow clients by the thousand, a full disk, a log that
//! cannot be written, a request crafted to decode to far more than its size.
//!
//! Slow clients run on loopback only, in bounded numbers. Thousands of connections in one
//! process need as many file descriptors on each side: the tests raise the process's
//! open-file soft limit to what they need (up to the hard limit) and fail, saying so, when
//! the hard limit is lower.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use obs::sink::Transport;
use obs::store::Store;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use prost::Message as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tonic::Code;
use tonic_types::StatusExt as _;

use crate::support::sink::{TestSink, hex, obs_command, terminate, trace_id, trace_request};

mod readiness;
mod retention;

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

/// Waits (up to 10 s) until the sink holds `total` connections open on `transport`.
async fn all_open(sink: &TestSink, transport: Transport, total: usize) {
    let stats = sink.receiver.connection_stats(transport);
    let deadline = Instant::now() + Duration::from_secs(10);
    while stats.open.load(std::sync::atomic::Ordering::Relaxed) < total as u64 {
        assert!(
            Instant::now() < deadline,
            "{total} connections not accepted"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
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
        all_open(&sink, Transport::Http, total).await;
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
        all_open(&sink, Transport::Grpc, total).await;
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

// ---------------------------------------------------------------------------------------------
// The `obs sink` binary: a slow-client flood, stdout and stderr that cannot be written, a
// full disk.

/// A port that was free a moment ago (for sinks whose stdout cannot carry the addresses).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `obs sink` as a child process on fixed loopback ports, stdout and stderr as given.
struct SinkProcess {
    child: Child,
    http: String,
    grpc: String,
}

impl SinkProcess {
    fn start(store: &Path, extra: &[&str], stdout: Stdio, stderr: Stdio) -> SinkProcess {
        let (grpc_port, http_port) = (free_port(), free_port());
        let child = obs_command()
            .args(["sink", "--grpc", &format!("127.0.0.1:{grpc_port}")])
            .args(["--http", &format!("127.0.0.1:{http_port}"), "--store"])
            .arg(store)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap();
        SinkProcess {
            child,
            http: format!("http://127.0.0.1:{http_port}"),
            grpc: format!("http://127.0.0.1:{grpc_port}"),
        }
    }

    /// Waits until `/healthz` answers.
    async fn alive(&mut self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("obs sink exited at start with {status}");
            }
            if let Ok(r) = client.get(format!("{}/healthz", self.http)).send().await
                && r.status() == 200
            {
                return;
            }
            assert!(Instant::now() < deadline, "obs sink not serving after 30 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then the exit status (within 30 s).
    fn terminate(&mut self) -> std::process::ExitStatus {
        terminate(&mut self.child)
    }

    async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.http))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

impl Drop for SinkProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A metric's value in Prometheus text, by its exact series name with labels.
fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in:\n{text}"))
}

/// `VmRSS` or `VmHWM` of a process, in MiB.
fn memory_mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap();
    kib / 1024.0
}

async fn post_trace(
    client: &reqwest::Client,
    http: &str,
    seed: u64,
    spans: usize,
) -> reqwest::Response {
    client
        .post(format!("{http}/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(trace_request(seed, spans).encode_to_vec())
        .send()
        .await
        .expect("the sink answers")
}

/// The most memory the flooded sink may use: what one slow connection may cost times the
/// flood, on top of an idle sink.
const FLOOD_RSS_MIB: f64 = 150.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_client_flood_is_closed_after_its_timeouts_while_a_real_client_is_acknowledged() {
    let _flood = FLOOD.lock().await;
    // The sink inherits the raised limit.
    raise_open_files(2 * 4000 + 512);
    let dir = tempfile::tempdir().unwrap();
    let mut sink = SinkProcess::start(
        &dir.path().join("sink.db"),
        &[
            "--header-timeout",
            "1s",
            "--body-timeout",
            "2s",
            "--idle-timeout",
            "3s",
        ],
        Stdio::null(),
        Stdio::null(),
    );
    sink.alive().await;
    let idle_rss = memory_mib(sink.pid(), "VmRSS:");
    let http: SocketAddr = sink.http.trim_start_matches("http://").parse().unwrap();
    let grpc: SocketAddr = sink.grpc.trim_start_matches("http://").parse().unwrap();

    // 3,000 slow HTTP clients (silent, headers cut short, bodies cut short) and 1,000 slow
    // gRPC streams.
    let flood_started = Instant::now();
    let mut slow = Vec::new();
    for i in 0..3000 {
        let mut stream = TcpStream::connect(http).await.unwrap();
        match i % 3 {
            0 => {}
            1 => stream
                .write_all(b"POST /v1/traces HTTP/1.1\r\nhost: sink\r\ncontent-")
                .await
                .unwrap(),
            _ => stream.write_all(SLOW_BODY_HEAD).await.unwrap(),
        }
        slow.push(stream);
    }
    let mut slow_grpc = Vec::new();
    slow_grpc_streams(grpc, 1000, &mut slow_grpc).await;
    let opened = flood_started.elapsed();

    // A real client during the flood, over both transports.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let started = Instant::now();
    assert_eq!(post_trace(&client, &sink.http, 7, 100).await.status(), 200);
    let http_latency = started.elapsed();
    let started = Instant::now();
    let channel = tonic::transport::Channel::from_shared(sink.grpc.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    TraceServiceClient::new(channel.clone())
        .export(trace_request(8, 100))
        .await
        .unwrap();
    let grpc_latency = started.elapsed();
    let flood_rss = memory_mib(sink.pid(), "VmRSS:");
    println!(
        "flood of 4000 slow clients opened in {opened:?}; acknowledged during it: HTTP {http_latency:?}, gRPC {grpc_latency:?}; sink RSS {idle_rss:.0} MiB idle, {flood_rss:.0} MiB flooded"
    );
    assert!(http_latency < PROMPT && grpc_latency < PROMPT);
    assert!(
        flood_rss < FLOOD_RSS_MIB,
        "the flooded sink uses {flood_rss:.0} MiB"
    );

    // After the timeouts (headers 1 s, bodies 2 s, then 3 s of silence) the sink has closed
    // every slow connection: each reads end of file (or a reset).
    tokio::time::sleep(Duration::from_secs(6)).await;
    for stream in slow.iter_mut().step_by(7) {
        let mut buf = [0u8; 512];
        let closed = loop {
            match tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf)).await {
                Ok(Ok(0) | Err(_)) => break true,
                // The answer to a cut-short body (400), then the close.
                Ok(Ok(_)) => continue,
                Err(_) => break false,
            }
        };
        assert!(
            closed,
            "a slow HTTP connection is still open after its timeouts"
        );
    }
    let metrics = sink.metrics().await;
    // The metrics request's own connection, and the real gRPC client's.
    assert!(metric(&metrics, "obs_sink_connections_open{transport=\"http\"}") <= 1.0);
    assert!(
        metric(&metrics, "obs_sink_connections_open{transport=\"grpc\"}") <= 1.0,
        "{metrics}"
    );
    assert!(
        metric(
            &metrics,
            "obs_sink_connections_accepted_total{transport=\"http\"}"
        ) >= 3000.0
    );
    drop(slow_grpc);
    assert!(sink.terminate().success());
    let store = Store::open_read_only(&dir.path().join("sink.db")).unwrap();
    for seed in [7, 8] {
        assert!(store.trace(&hex(&trace_id(seed))).unwrap().is_some());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sink_serves_with_stdout_and_stderr_on_a_full_disk_a_closed_pipe_or_an_unread_pipe() {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    for case in ["full disk", "closed pipe", "unread pipe"] {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("sink.db");
        let out = || match case {
            "full disk" => Stdio::from(std::fs::File::create("/dev/full").unwrap()),
            _ => Stdio::piped(),
        };
        // Debug logging: a line per refused request.
        let mut sink = SinkProcess::start(&store, &["-vvv"], out(), out());
        // An unread pipe is held open and never read: it fills after 64 KiB.
        if case == "closed pipe" {
            drop(sink.child.stdout.take());
            drop(sink.child.stderr.take());
        }
        sink.alive().await;
        // Bad requests, each logged, far more than a pipe holds.
        for _ in 0..1500 {
            let reply = client
                .post(format!("{}/v1/traces", sink.http))
                .header("content-type", "application/x-protobuf")
                .body(vec![0xff; 16])
                .send()
                .await
                .unwrap();
            assert_eq!(reply.status(), 400);
        }
        let started = Instant::now();
        assert_eq!(post_trace(&client, &sink.http, 1, 20).await.status(), 200);
        let latency = started.elapsed();
        println!("stdout and stderr on a {case}: acknowledged in {latency:?}");
        assert!(latency < PROMPT, "{case}: acknowledged after {latency:?}");
        let status = sink.terminate();
        assert_eq!(status.code(), Some(0), "{case}: {status}");
        assert!(
            Store::open_read_only(&store)
                .unwrap()
                .trace(&hex(&trace_id(1)))
                .unwrap()
                .is_some()
        );
    }
}

/// A small tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs {
    dir: PathBuf,
    _parent: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("disk");
        std::fs::create_dir(&dir).unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cannot mount a tmpfs (the test needs root, as CI has): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs {
            dir,
            _parent: parent,
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.dir)
            .status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nearly_full_disk_is_refused_before_sqlite_fails_and_the_sink_recovers_when_space_returns()
 {
    // 40 MiB: 24 of them taken by a file that is deleted later, a floor of 8 MiB; the store
    // and the sink's own log (stdout and stderr, -v) on the same file system.
    let disk = Tmpfs::mount("40m");
    let filler = disk.dir.join("filler");
    std::fs::write(&filler, vec![1u8; 24 << 20]).unwrap();
    let store = disk.dir.join("sink.db");
    let log = || {
        Stdio::from(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(disk.dir.join("sink.log"))
                .unwrap(),
        )
    };
    let mut sink = SinkProcess::start(&store, &["-v", "--min-free", "8MiB"], log(), log());
    sink.alive().await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let channel = tonic::transport::Channel::from_shared(sink.grpc.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = TraceServiceClient::new(channel);

    // Send until the floor is reached.
    let spans = 1000;
    let mut acked = Vec::new();
    let mut seed = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    let refusal = loop {
        assert!(
            Instant::now() < deadline,
            "the floor was not reached in 120 s"
        );
        seed += 1;
        let reply = post_trace(&client, &sink.http, seed, spans).await;
        match reply.status().as_u16() {
            200 => acked.push(seed),
            503 => {
                // The floor keeps room for the WAL to be copied into the database file: a
                // refusal while a large WAL waits can end when the checkpoint has copied it.
                // Only a refusal that outlasts the checkpoints (and the sink's once-a-second
                // look) is the disk being full.
                tokio::time::sleep(Duration::from_millis(1500)).await;
                let ready = reqwest::get(format!("{}/readyz", sink.http)).await.unwrap();
                if ready.status() == 503 {
                    break reply;
                }
            }
            other => panic!("status {other}: {}", reply.text().await.unwrap()),
        }
    };
    let retry_after: u64 = refusal.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    let message = refusal.text().await.unwrap();
    assert!(message.contains("--min-free"), "{message}");
    let status = grpc
        .export(trace_request(1_000_000, spans))
        .await
        .expect_err("refused over gRPC too");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.get_details_retry_info().is_some());
    let ready = reqwest::get(format!("{}/readyz", sink.http)).await.unwrap();
    assert_eq!(ready.status(), 503);
    let ready: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(ready["ready"], false);
    assert_eq!(ready["reasons"][0]["check"], "disk", "{ready}");
    // Refused before SQLite ran out of room: no commit failed.
    let metrics = sink.metrics().await;
    assert_eq!(metric(&metrics, "obs_sink_store_failed_commits_total"), 0.0);
    assert_eq!(metric(&metrics, "obs_sink_ready"), 0.0);
    assert_eq!(
        metric(&metrics, "obs_sink_ready_check{check=\"disk\"}"),
        0.0
    );
    // /healthz still says alive.
    let health = reqwest::get(format!("{}/healthz", sink.http))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    println!(
        "floor reached after {} acknowledged requests of {spans} spans",
        acked.len()
    );

    // Space returns: the sink accepts again by itself, within a few seconds.
    std::fs::remove_file(&filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut refused_after = 0;
    loop {
        assert!(
            Instant::now() < deadline,
            "still refusing 10 s after space returned"
        );
        seed += 1;
        let reply = post_trace(&client, &sink.http, seed, spans).await;
        if reply.status() == 200 {
            acked.push(seed);
            break;
        }
        assert_eq!(reply.status(), 503);
        refused_after += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    grpc.export(trace_request(2_000_000, spans)).await.unwrap();
    acked.push(2_000_000);
    let ready = reqwest::get(format!("{}/readyz", sink.http)).await.unwrap();
    assert_eq!(ready.status(), 200, "{}", ready.text().await.unwrap());
    println!("accepting again after {refused_after} more refusals");

    assert_eq!(sink.terminate().code(), Some(0));
    let log = std::fs::read_to_string(disk.dir.join("sink.log")).unwrap();
    assert!(log.contains("under the --min-free floor"), "{log}");
    assert!(log.contains("accepting data"), "{log}");
    // Acknowledged == stored, and the file is sound.
    let read = Store::open_read_only(&store).unwrap();
    for seed in &acked {
        let trace = read.trace(&hex(&trace_id(*seed))).unwrap();
        assert_eq!(trace.map(|t| t.spans.len()), Some(spans), "request {seed}");
    }
    assert_eq!(
        read.info().unwrap().spans,
        acked.len() as u64 * spans as u64
    );
    let conn = rusqlite::Connection::open(&store).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}

/// A protobuf varint.
fn varint(mut n: usize, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// An export request of `n` empty spans, built from bytes (decoded, it would take ~130 times
/// its size).
fn empty_spans(n: usize) -> Vec<u8> {
    let spans: Vec<u8> = std::iter::repeat_n([0x12u8, 0x00], n).flatten().collect();
    let mut scope = vec![0x12];
    varint(spans.len(), &mut scope);
    scope.extend_from_slice(&spans);
    let mut body = vec![0x0a];
    varint(scope.len(), &mut body);
    body.extend_from_slice(&scope);
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_crafted_to_decode_to_gigabytes_is_refused_before_it_is_decoded() {
    let mut sink = TestSink::start().await;
    // 4 million empty spans in 8,000,010 bytes, under the 8 MiB request limit: decoded, over
    // 1 GiB; the bound says ~2 GiB, over the 256 MiB decode budget.
    let body = empty_spans(4_000_000);
    assert!(body.len() < obs::sink::DEFAULT_MAX_REQUEST_BYTES);
    let client = reqwest::Client::new();
    let started = Instant::now();
    let reply = client
        .post(sink.url("/v1/traces"))
        .header("content-type", "application/x-protobuf")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(reply.status(), 413);
    let text = String::from_utf8_lossy(&reply.bytes().await.unwrap()).into_owned();
    assert!(text.contains("would decode to about"), "{text}");
    println!("amplification request refused over HTTP in {elapsed:?}");

    let channel = tonic::transport::Channel::from_shared(sink.grpc_url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let status = crate::sink::grpc_raw(&channel, crate::sink::TRACE_EXPORT, body, None)
        .await
        .expect_err("refused over gRPC");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status.message().contains("would decode to about"),
        "{status:?}"
    );

    // Nothing stored; the sink still serves.
    assert_eq!(sink.info().spans, 0);
    acknowledged_over_http(&sink, 9).await;
    sink.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_connection_cap_new_connections_wait_and_the_log_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sink.log");
    let mut sink = SinkProcess::start(
        &dir.path().join("sink.db"),
        &["--max-connections", "4"],
        Stdio::null(),
        Stdio::from(std::fs::File::create(&log).unwrap()),
    );
    sink.alive().await;
    let http: SocketAddr = sink.http.trim_start_matches("http://").parse().unwrap();
    // The probe's connection closes; then four that send nothing hold the four slots.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut holders = Vec::new();
    for _ in 0..4 {
        holders.push(TcpStream::connect(http).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A fifth connects (the kernel's backlog takes it) but is not served while they stay.
    let mut fifth = TcpStream::connect(http).await.unwrap();
    fifth
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: sink\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 1024];
    let waited = tokio::time::timeout(Duration::from_millis(800), fifth.read(&mut buf)).await;
    assert!(waited.is_err(), "served past the cap");
    // One closes: the fifth is served.
    drop(holders.pop());
    let n = tokio::time::timeout(Duration::from_secs(5), fifth.read(&mut buf))
        .await
        .expect("served once a slot is free")
        .unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    drop(holders);
    assert_eq!(sink.terminate().code(), Some(0));
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(
        log.contains("4 connections are open, the cap (--max-connections): new connections wait until one closes"),
        "{log}"
    );
}
