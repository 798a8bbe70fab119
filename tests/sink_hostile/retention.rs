//! Size retention under the free-space floor: with `--max-size`, a sink whose disk runs short
//! deletes its oldest data to make room instead of refusing for ever, and the file it leaves is
//! sound.

use std::process::Stdio;
use std::time::{Duration, Instant};

use obs::store::Store;

use super::{SinkProcess, Tmpfs, post_trace};
use crate::support::sink::{hex, trace_id};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_the_floor_size_retention_makes_room_and_the_file_stays_sound() {
    // 64 MiB, 40 of them taken for good: the store can never have more than ~16 MiB above the
    // 8 MiB floor, so everything past that is room made by deleting the oldest traces.
    let disk = Tmpfs::mount("64m");
    std::fs::write(disk.dir.join("filler"), vec![1u8; 40 << 20]).unwrap();
    let store = disk.dir.join("sink.db");
    let mut sink = SinkProcess::start(
        &store,
        &["--min-free", "8MiB", "--max-size", "1GiB"],
        Stdio::null(),
        Stdio::null(),
    );
    sink.alive().await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();

    let spans = 1000;
    let mut acked = Vec::new();
    let mut refused = 0;
    let mut first_refusal_at = None;
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seed = 0;
    // Until three times what fitted before the first refusal was acknowledged.
    while first_refusal_at.is_none_or(|n| acked.len() < 3 * n) {
        assert!(
            Instant::now() < deadline,
            "retention made no room: {} acknowledged, {refused} refused, first refusal after {first_refusal_at:?}",
            acked.len()
        );
        seed += 1;
        let reply = post_trace(&client, &sink.http, seed, spans).await;
        match reply.status().as_u16() {
            200 => acked.push(seed),
            503 => {
                assert!(reply.headers().contains_key("retry-after"));
                refused += 1;
                first_refusal_at.get_or_insert(acked.len().max(1));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => panic!("status {other}: {}", reply.text().await.unwrap()),
        }
    }
    let metrics = sink.metrics().await;
    assert_eq!(
        super::metric(&metrics, "obs_sink_store_failed_commits_total"),
        0.0,
        "refused before SQLite ran out of room"
    );
    assert_eq!(sink.terminate().code(), Some(0));

    // The oldest traces made room; the newest are there, whole; nothing is half a trace.
    let read = Store::open_read_only(&store).unwrap();
    let stored = read.info().unwrap().spans;
    assert!(
        stored < acked.len() as u64 * spans as u64,
        "{stored} spans stored of {} acknowledged",
        acked.len() * spans
    );
    assert_eq!(stored % spans as u64, 0, "a trace was cut: {stored} spans");
    for seed in &acked[acked.len() - 3..] {
        let trace = read.trace(&hex(&trace_id(*seed))).unwrap();
        assert_eq!(trace.map(|t| t.spans.len()), Some(spans), "request {seed}");
    }
    assert!(
        read.trace(&hex(&trace_id(acked[0]))).unwrap().is_none(),
        "the oldest trace is still stored"
    );
    drop(read);
    let conn = rusqlite::Connection::open(&store).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    println!(
        "{} acknowledged ({refused} refused on the way), first refusal after {first_refusal_at:?}, {stored} spans stored",
        acked.len()
    );
}
