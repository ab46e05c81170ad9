//! The server keeps answering while a sync writes the file, and picks up what it wrote: the
//! snapshot loads on a blocking thread, a reload that fails (the writer holds the file) serves the
//! previous snapshot, one that succeeds sees whole committed batches, and the first request after
//! the sync sees everything.

mod common;

use jiff::Timestamp;
use myrunstreak_app::{SyncMode, SyncRequest, sync};
use myrunstreak_store::Store;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn get(base: &str, path: &str) -> (StatusCode, Value) {
    let r = reqwest::get(format!("{base}{path}")).await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_during_a_sync_are_answered_and_the_next_one_sees_its_runs() {
    let w = common::world().await;
    let b = &w.base;
    let (_, before) = get(b, "/api/v1/sync/status").await;
    let runs_before = before["runs"].as_u64().unwrap();

    // five new runs on SmashRun, and a slow SmashRun so that the sync takes a while
    let http = reqwest::Client::new();
    for day in 1..=5 {
        http.post(format!("{}/runs", w.sandbox.control_url()))
            .json(&json!({"distance": 3.0, "startDateTimeLocal": format!("2026-05-0{day}T18:00:00-04:00")}))
            .send()
            .await
            .unwrap();
    }
    http.put(format!("{}/faults", w.sandbox.control_url()))
        .json(&json!({"latency_ms": 200}))
        .send()
        .await
        .unwrap();

    // the writer holds the file from before the first request below to the end of the sync
    let mut store = Store::open(&w.db, Timestamp::now()).unwrap();
    let client = w.client.clone();
    let syncing = tokio::spawn(async move {
        let request = SyncRequest {
            mode: SyncMode::Full,
            ..SyncRequest::default()
        };
        let report = sync(&mut store, &*client, &request, &Timestamp::now, &|_| {}).await;
        drop(store);
        report
    });

    let mut answered = 0;
    let mut seen = runs_before;
    while !syncing.is_finished() {
        for path in ["/api/v1/streak", "/api/v1/runs?limit=1000", "/"] {
            let r = reqwest::get(format!("{b}{path}")).await.unwrap();
            assert_eq!(r.status(), StatusCode::OK, "{path} during the sync");
            answered += 1;
        }
        // a snapshot holds whole batches: the runs before, or those and the new ones, and
        // never goes back once it has seen them
        let (_, status) = get(b, "/api/v1/sync/status").await;
        let runs = status["runs"].as_u64().unwrap();
        assert!(
            runs == seen || runs == runs_before + 5,
            "{runs} runs during the sync"
        );
        seen = runs;
    }
    let report = syncing.await.unwrap().unwrap();
    assert_eq!(report.counts.added, 5);
    assert!(answered >= 3, "requests were answered during the sync");

    let (status, after) = get(b, "/api/v1/sync/status").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(after["runs"].as_u64(), Some(runs_before + 5), "{after}");
    assert_eq!(after["last_success"]["mode"], "full");
}
