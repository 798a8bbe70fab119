//! A store written by obs with schema v1 (one row per span, attributes as JSON) — recorded with
//! that obs: the demo's traces plus a span with every field set, sent over OTLP/JSON — is
//! upgraded to span chunks when a command first reads it, and shows every trace exactly as the
//! obs that wrote it did (`fixtures/store-v1/trace-*.json` are that obs's `obs trace -o json`).

use std::path::Path;

use serde_json::Value;

use crate::cli::obs;

/// What `obs ARGS -o json` prints, after checking that it succeeded.
fn json_of(args: &[&str]) -> Value {
    let out = obs().args(args).args(["-o", "json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn copy_of_the_v1_store(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("store.db");
    std::fs::copy("fixtures/store-v1/store.db", &path).unwrap();
    path
}

#[test]
fn a_schema_v1_store_is_upgraded_and_shows_the_same_traces() {
    let dir = tempfile::tempdir().unwrap();
    let store = copy_of_the_v1_store(dir.path());
    let store_arg = store.to_str().unwrap();

    let info = json_of(&["store", "info", "--store", store_arg]);
    let before: Value =
        serde_json::from_str(&std::fs::read_to_string("fixtures/store-v1/info.json").unwrap())
            .unwrap();
    assert_eq!(info["schema_version"], obs::store::SCHEMA_VERSION);
    for key in ["spans", "traces", "logs", "services", "first", "last"] {
        assert_eq!(info[key], before[key], "{key}");
    }

    let mut compared = 0;
    for entry in std::fs::read_dir("fixtures/store-v1").unwrap() {
        let file = entry.unwrap().path();
        let name = file.file_name().unwrap().to_str().unwrap().to_string();
        let Some(id) = name
            .strip_prefix("trace-")
            .and_then(|n| n.strip_suffix(".json"))
        else {
            continue;
        };
        let now = json_of(&["trace", id, "--store", store_arg]);
        let then: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(now, then, "trace {id}");
        compared += 1;
    }
    assert_eq!(compared, 11, "every recorded trace was compared");

    // What the report does not print came through too: resource, scope, links, events.
    let reader = obs::store::Store::open_read_only(&store).unwrap();
    let trace = reader
        .trace("5b8efff798038103d269b633813fc60c")
        .unwrap()
        .unwrap();
    let root = &trace.spans[0];
    assert_eq!(root.resource["host.name"], "node-9");
    assert_eq!(root.scope.as_deref(), Some("ledger.db"));
    assert_eq!(root.links[0].trace_id, "0af7651916cd43dd8448eb211c80319c");
    assert_eq!(root.links[0].attributes["link.kind"], "follows");
    assert_eq!(root.events[0].time_unix_nano, 1_763_712_000_100_000_000);
    assert_eq!(root.attributes["whole"], 2.0);
    assert_eq!(root.attributes["int"], -42);
}

#[test]
fn a_v1_store_that_cannot_be_converted_is_named_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let store = copy_of_the_v1_store(dir.path());
    let conn = rusqlite::Connection::open(&store).unwrap();
    conn.execute(
        "UPDATE spans SET events = '[{\"name\": 1' WHERE span_id = 'eee19b7ec3c1b174'",
        [],
    )
    .unwrap();
    drop(conn);

    let out = obs()
        .args(["store", "info", "--store", store.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("store.db") && stderr.contains("span's events cannot be converted"),
        "{stderr}"
    );
    // The migration's transaction rolled back: still schema v1, every span row still there.
    let conn = rusqlite::Connection::open(&store).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    let spans: i64 = conn
        .query_row("SELECT count(*) FROM spans", [], |r| r.get(0))
        .unwrap();
    assert_eq!((version, spans), (1, 52));
}
