//! `/readyz` for each reason the sink refuses data besides the disk (tested with the tmpfs in
//! the parent module): a full store queue, and commits that fail.
//!
//! Both use an in-process sink whose store another connection holds locked (as a slow disk,
//! a long retention pass or another process would hold the writer up).

use std::time::{Duration, Instant};

use obs::sink::ReceiverConfig;
use obs::store::WriterConfig;

use super::{metric, post_trace};
use crate::support::sink::{TestSink, hex, trace_id};

async fn readyz(client: &reqwest::Client, base: &str) -> (u16, serde_json::Value) {
    let reply = client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("/readyz answers");
    let status = reply.status().as_u16();
    if status != 200 {
        assert!(
            reply.headers().contains_key("retry-after"),
            "a 503 from /readyz says when to look again"
        );
    }
    (status, reply.json().await.expect("/readyz is JSON"))
}

/// The `check` of each reason `/readyz` gave.
fn checks(readiness: &serde_json::Value) -> Vec<String> {
    readiness["reasons"]
        .as_array()
        .expect("reasons is a list")
        .iter()
        .map(|r| r["check"].as_str().expect("a check name").to_string())
        .collect()
}

fn reason<'a>(readiness: &'a serde_json::Value, check: &str) -> &'a str {
    readiness["reasons"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["check"] == check))
        .and_then(|r| r["message"].as_str())
        .unwrap_or_else(|| panic!("no {check} reason in {readiness}"))
}

async fn text(client: &reqwest::Client, url: String) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

/// Polls `/readyz` until it answers `want`, for at most `within`.
async fn readyz_until(
    client: &reqwest::Client,
    base: &str,
    want: u16,
    within: Duration,
) -> serde_json::Value {
    let deadline = Instant::now() + within;
    loop {
        let (status, readiness) = readyz(client, base).await;
        if status == want {
            return readiness;
        }
        assert!(
            Instant::now() < deadline,
            "/readyz did not answer {want} within {within:?}: {status} {readiness}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_false_with_the_queue_reason_while_the_store_queue_is_full_and_true_once_it_drains()
 {
    let mut sink = TestSink::start_with(
        WriterConfig {
            queue_capacity: 1,
            ..WriterConfig::default()
        },
        ReceiverConfig::default(),
    )
    .await;
    let base = format!("http://{}", sink.http);
    let client = reqwest::Client::new();
    let (status, readiness) = readyz(&client, &base).await;
    assert_eq!(
        (status, &readiness["ready"]),
        (200, &true.into()),
        "{readiness}"
    );

    // The writer waits in BEGIN for the lock (its busy timeout is 5 s); requests fill its
    // one-request queue behind it.
    let blocker = rusqlite::Connection::open(&sink.store).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for seed in 0..6u64 {
        let (client, base) = (client.clone(), base.clone());
        tasks.spawn(async move { (seed, post_trace(&client, &base, seed, 50).await.status()) });
    }
    // Inside the busy timeout, so the writer is still waiting, not failing.
    let not_ready = readyz_until(&client, &base, 503, Duration::from_secs(3)).await;
    assert_eq!(checks(&not_ready), ["queue"], "{not_ready}");
    assert!(
        reason(&not_ready, "queue").contains("the store queue is full"),
        "{not_ready}"
    );
    assert_eq!(not_ready["ready"], false);
    assert_eq!(not_ready["queue"]["capacity"], 1);
    assert_eq!(not_ready["queue"]["depth"], 1);
    let metrics = text(&client, format!("{base}/metrics")).await;
    assert_eq!(metric(&metrics, "obs_sink_ready"), 0.0);
    assert_eq!(
        metric(&metrics, "obs_sink_ready_check{check=\"queue\"}"),
        0.0
    );
    assert_eq!(
        metric(&metrics, "obs_sink_ready_check{check=\"store\"}"),
        1.0
    );
    // Alive all the same.
    assert_eq!(
        text(&client, format!("{base}/healthz")).await,
        "{\"status\":\"ok\"}\n"
    );

    blocker.execute_batch("ROLLBACK").unwrap();
    let mut acked = Vec::new();
    let mut refused = 0;
    while let Some(done) = tasks.join_next().await {
        let (seed, status) = done.unwrap();
        match status.as_u16() {
            200 => acked.push(seed),
            503 => refused += 1,
            other => panic!("request {seed}: {other}"),
        }
    }
    assert!(refused > 0, "nothing was refused: the queue never filled");
    let ready = readyz_until(&client, &base, 200, Duration::from_secs(10)).await;
    assert_eq!(ready["ready"], true, "{ready}");
    assert!(checks(&ready).is_empty(), "{ready}");
    let store = sink.read();
    for seed in 0..6u64 {
        let stored = store.trace(&hex(&trace_id(seed))).unwrap().is_some();
        assert_eq!(stored, acked.contains(&seed), "request {seed}");
    }
    sink.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_false_with_the_store_reason_while_commits_fail_and_true_after_one_succeeds() {
    let mut sink = TestSink::start().await;
    let base = format!("http://{}", sink.http);
    let client = reqwest::Client::new();

    // The store cannot be written: the lock is held past the writer's 5 s busy timeout, so
    // the commit fails, and the request with it.
    let blocker = rusqlite::Connection::open(&sink.store).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    let refused = post_trace(&client, &base, 1, 50).await;
    assert_eq!(refused.status(), 503);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    let (status, not_ready) = readyz(&client, &base).await;
    assert_eq!(status, 503, "{not_ready}");
    assert_eq!(checks(&not_ready), ["store"], "{not_ready}");
    assert!(
        reason(&not_ready, "store").contains("the last commit failed"),
        "{not_ready}"
    );
    let metrics = text(&client, format!("{base}/metrics")).await;
    assert_eq!(metric(&metrics, "obs_sink_ready"), 0.0);
    assert_eq!(
        metric(&metrics, "obs_sink_ready_check{check=\"store\"}"),
        0.0
    );
    assert!(metric(&metrics, "obs_sink_store_failed_commits_total") >= 1.0);

    // The lock goes away: the next request commits, and the sink is ready again by itself.
    blocker.execute_batch("ROLLBACK").unwrap();
    assert_eq!(post_trace(&client, &base, 2, 50).await.status(), 200);
    let (status, ready) = readyz(&client, &base).await;
    assert_eq!((status, checks(&ready)), (200, vec![]), "{ready}");
    let store = sink.read();
    assert!(store.trace(&hex(&trace_id(1))).unwrap().is_none());
    assert_eq!(
        store
            .trace(&hex(&trace_id(2)))
            .unwrap()
            .map(|t| t.spans.len()),
        Some(50)
    );
    sink.stop().await;
}
