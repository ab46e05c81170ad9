//! The application layer against the sandbox and a real DuckDB file: streaks and totals
//! cross-checked with SmashRun's own counters and with an independent recount of the raw
//! summaries; the details backlog; a first sync that asks SmashRun while the new file is made.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::{Date, date};
use myrunstreak_app::queries::{StreakQuery, stats, streak};
use myrunstreak_app::{SyncError, SyncMode, SyncRequest, first_sync, sync};
use myrunstreak_domain::Rule;
use myrunstreak_store::Store;
use serde_json::Value;
use smashrun_client::{ClientConfig, Secret, SmashRunClient, StaticToken};
use smashrun_sandbox::{Sandbox, SandboxConfig};

struct Mirror {
    sandbox: Sandbox,
    store: Store,
    client: SmashRunClient,
    _dir: tempfile::TempDir,
}

async fn mirror(years: u32, seed: u64) -> Mirror {
    let config = SandboxConfig {
        years,
        seed,
        end: Some(date(2026, 5, 3)),
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start_on_free_port(config).await.unwrap();
    let token: Value = reqwest::Client::new()
        .post(format!("{}/tokens", sandbox.control_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client = SmashRunClient::new(
        reqwest::Client::new(),
        ClientConfig::new(sandbox.api_url()),
        Arc::new(StaticToken(Secret::new(
            token["access_token"].as_str().unwrap(),
        ))),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("runs.duckdb"), Timestamp::now()).unwrap();
    let request = SyncRequest {
        mode: SyncMode::Full,
        dry_run: false,
        details: None,
        ..SyncRequest::default()
    };
    sync(&mut store, &client, &request, &Timestamp::now, &|_| {})
        .await
        .unwrap();
    Mirror {
        sandbox,
        store,
        client,
        _dir: dir,
    }
}

fn query(rule: Rule) -> StreakQuery {
    StreakQuery {
        rule,
        timezone: None,
        exclude_treadmill: false,
        as_of: Some(date(2026, 5, 3)),
        exclude_ledger: false,
    }
}

async fn smashrun_stats(m: &Mirror, path: &str) -> Value {
    m.client.stats(None, None).await.unwrap();
    let token = reqwest::Client::new()
        .post(format!("{}/tokens", m.sandbox.control_url()))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    reqwest::Client::new()
        .get(format!("{}{path}", m.sandbox.api_url()))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn streaks_and_totals_agree_with_smashrun_s_own_stats() {
    let m = mirror(10, 7).await;
    let runs = m.store.domain_runs().unwrap();
    let any = streak(&runs, &query(Rule::Any), Timestamp::now()).unwrap();
    let all_time = smashrun_stats(&m, "/my/stats").await;
    assert_eq!(
        u64::from(any.longest.days),
        all_time["longestStreak"].as_u64().unwrap(),
        "longestStreak under rule any"
    );
    assert_eq!(
        any.longest.end.unwrap().to_string(),
        all_time["longestStreakDate"].as_str().unwrap()
    );

    let totals = stats(&runs, &query(Rule::Any), None, None).totals;
    assert_eq!(
        u64::from(totals.runs),
        all_time["runCount"].as_u64().unwrap()
    );
    assert!((totals.distance.km() - all_time["totalDistance"].as_f64().unwrap()).abs() < 1e-4);
    let year = stats(&runs, &query(Rule::Any), Some(2025), None).totals;
    let smashrun_2025 = smashrun_stats(&m, "/my/stats/2025").await;
    assert_eq!(
        u64::from(year.runs),
        smashrun_2025["runCount"].as_u64().unwrap()
    );
    assert!((year.distance.km() - smashrun_2025["totalDistance"].as_f64().unwrap()).abs() < 1e-4);
    let march = stats(&runs, &query(Rule::Any), Some(2025), Some(3)).totals;
    assert_eq!(
        u64::from(march.runs),
        smashrun_stats(&m, "/my/stats/2025/3").await["runCount"]
            .as_u64()
            .unwrap()
    );
}

/// Streaks recounted here from the raw summaries, without the engine: local dates, distances
/// summed in hundred-thousandths of a km, a mile is 160,934 of them.
fn recount(raw: &[Value], as_of: Date, minimum_cm: i64) -> (u32, u32) {
    let mut per_day: BTreeMap<String, i64> = BTreeMap::new();
    for s in raw {
        if s["activityType"] != "running" {
            continue;
        }
        let day = s["startDateTimeLocal"].as_str().unwrap()[..10].to_owned();
        let cm = (s["distance"].as_f64().unwrap() * 1e5).round() as i64;
        *per_day.entry(day).or_default() += cm;
    }
    let days: BTreeSet<Date> = per_day
        .into_iter()
        .filter(|(_, cm)| *cm >= minimum_cm)
        .map(|(d, _)| d.parse::<Date>().unwrap())
        .filter(|d| *d <= as_of)
        .collect();
    let (mut longest, mut run, mut prev): (u32, u32, Option<Date>) = (0, 0, None);
    for d in &days {
        run = if prev.and_then(|p| p.tomorrow().ok()) == Some(*d) {
            run + 1
        } else {
            1
        };
        longest = longest.max(run);
        prev = Some(*d);
    }
    let alive = days.contains(&as_of) || days.contains(&as_of.yesterday().unwrap());
    (if alive { run } else { 0 }, longest)
}

#[tokio::test]
async fn the_generated_runner_s_streaks_match_a_recount_of_the_raw_summaries() {
    for seed in [7, 21] {
        let m = mirror(6, seed).await;
        let all: Value = reqwest::get(format!("{}/runs", m.sandbox.control_url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let raw: Vec<Value> = all
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["deleted"] == false)
            .map(|r| r["summary"].clone())
            .collect();
        let runs = m.store.domain_runs().unwrap();
        for (rule, minimum) in [(Rule::Usrsa, 160_934), (Rule::Any, 1)] {
            let (current, longest) = recount(&raw, date(2026, 5, 3), minimum);
            let response = streak(&runs, &query(rule), Timestamp::now()).unwrap();
            assert_eq!(response.current.days, current, "seed {seed} rule {rule}");
            assert_eq!(response.longest.days, longest, "seed {seed} rule {rule}");
        }
        assert!(
            streak(&runs, &query(Rule::Usrsa), Timestamp::now())
                .unwrap()
                .current
                .days
                > 500,
            "a long current streak"
        );
    }
}

#[tokio::test]
async fn details_are_fetched_as_a_resumable_backlog() {
    let mut m = mirror(1, 3).await;
    let total = m.store.count().unwrap();
    let request = SyncRequest {
        mode: SyncMode::Incremental,
        dry_run: false,
        details: Some(4),
        ..SyncRequest::default()
    };
    let report = sync(&mut m.store, &m.client, &request, &Timestamp::now, &|_| {})
        .await
        .unwrap();
    assert_eq!(report.details_backlog, total - 4);
    let again = sync(&mut m.store, &m.client, &request, &Timestamp::now, &|_| {})
        .await
        .unwrap();
    assert_eq!(
        again.details_backlog,
        total - 8,
        "the next sync continues where the last stopped"
    );
}

#[tokio::test]
async fn a_new_process_inherits_what_this_hour_already_spent_of_the_rate_budget() {
    let m = mirror(1, 3).await;
    // an earlier process spent 238 requests and ended a minute ago (the mirror's sync spent 2:
    // the listing and SmashRun's runCount that verifies it)
    let id = m.store.begin_sync("incremental", Timestamp::now()).unwrap();
    let ended = Timestamp::now() - jiff::SignedDuration::from_mins(1);
    let outcome = myrunstreak_store::SyncOutcome {
        status: myrunstreak_store::SyncStatus::Ok,
        finished: ended,
        counts: Default::default(),
        requests: 238,
        watermark: Some(ended),
        error: None,
    };
    m.store.finish_sync(id, &outcome).unwrap();
    let token: Value = reqwest::Client::new()
        .post(format!("{}/tokens", m.sandbox.control_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fresh = SmashRunClient::new(
        reqwest::Client::new(),
        ClientConfig::new(m.sandbox.api_url()),
        Arc::new(StaticToken(Secret::new(
            token["access_token"].as_str().unwrap(),
        ))),
    );
    myrunstreak_app::preload_budget(&m.store, &fresh, Timestamp::now()).unwrap();
    let now = tokio::time::Instant::now();
    assert_eq!(
        fresh
            .budget()
            .used(now, std::time::Duration::from_secs(3600)),
        240
    );
    let wait = fresh.budget().try_acquire(now).unwrap_err();
    assert!(
        wait > std::time::Duration::from_secs(3500),
        "the next request waits for the hour to pass: {wait:?}"
    );
}

#[tokio::test]
async fn a_first_sync_asks_smashrun_while_the_new_file_is_made_and_stores_the_same() {
    let m = mirror(2, 5).await;
    let stats_url = format!("{}/stats", m.sandbox.control_url());
    let listing_requests = async || -> u64 {
        let stats: Value = reqwest::get(&stats_url)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        stats["requests"]["GET /v1/my/activities/search"]
            .as_u64()
            .unwrap_or(0)
    };
    let before = listing_requests().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("first.duckdb");
    // the file is made only once SmashRun has been asked: a sync that opened the file before
    // asking would wait here forever (and the timeout fails the test)
    let open = {
        let path = path.clone();
        async move {
            while listing_requests().await == before {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            Store::open(&path, Timestamp::now()).map_err(SyncError::from)
        }
    };
    let request = SyncRequest {
        mode: SyncMode::Incremental,
        ..SyncRequest::default()
    };
    let (store, report) = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        first_sync(open, &m.client, &request, &Timestamp::now, &|_| {}),
    )
    .await
    .expect("the first sync asked SmashRun before the file was made")
    .unwrap();

    assert_eq!(
        report.mode,
        SyncMode::Full,
        "a new file's first sync is full"
    );
    assert_eq!(
        report.requests, 2,
        "the listing and the runCount verifying it"
    );
    let ids = |s: &Store| -> BTreeSet<i64> { s.run_ids(None, None).unwrap().into_iter().collect() };
    assert_eq!(
        ids(&store),
        ids(&m.store),
        "the same runs as a sync into an open file"
    );
    assert_eq!(report.counts.added, ids(&m.store).len() as u64);
    let log = store.sync_log(10).unwrap();
    assert_eq!(log.len(), 1, "one sync logged: {log:?}");
    assert_eq!(log[0].requests, 2);
    assert!(
        log[0].watermark.is_some(),
        "the first sync sets the watermark"
    );
}
