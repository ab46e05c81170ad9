//! The sync against every reading of SmashRun's listing that public evidence leaves open, each
//! imitated by the sandbox (`shared/docs/smashrun-api.md`, "Listing parameters"): in every one,
//! no stored run is lost, missed or wrongly marked deleted, and the report says what was seen.

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use myrunstreak_app::doctor::{FromDateReading, diagnose};
use myrunstreak_app::queries::{StreakQuery, streak};
use myrunstreak_app::{SyncError, SyncMode, SyncReport, SyncRequest, sync};
use myrunstreak_domain::Rule;
use myrunstreak_store::Store;
use serde_json::{Value, json};
use smashrun_client::{ClientConfig, RateBudget, Secret, SmashRunClient, StaticToken};
use smashrun_sandbox::{ListingReading, Sandbox, SandboxConfig};

struct World {
    sandbox: Sandbox,
    client: SmashRunClient,
    store: Store,
    _dir: tempfile::TempDir,
}

async fn world(years: u32) -> World {
    let mut config = SandboxConfig {
        years,
        seed: 11,
        end: Some(date(2026, 5, 3)),
        ..SandboxConfig::default()
    };
    config.limits.enabled = false;
    let (sandbox, client) = connect(config).await;
    let client = client.with_budget(Arc::new(RateBudget::unlimited()));
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("runs.duckdb"), Timestamp::now()).unwrap();
    World {
        sandbox,
        client,
        store,
        _dir: dir,
    }
}

/// A sandbox serving `config`, and a client holding a token it issued.
async fn connect(config: SandboxConfig) -> (Sandbox, SmashRunClient) {
    let sandbox = Sandbox::start_on_free_port(config).await.unwrap();
    let token: Value = http()
        .post(format!("{}/tokens", sandbox.control_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client = SmashRunClient::new(
        http(),
        ClientConfig::new(sandbox.api_url()),
        Arc::new(StaticToken(Secret::new(
            token["access_token"].as_str().unwrap(),
        ))),
    );
    (sandbox, client)
}

fn http() -> reqwest::Client {
    reqwest::Client::new()
}

impl World {
    async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = http()
            .request(method, format!("{}{path}", self.sandbox.control_url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap_or(Value::Null)
    }

    async fn reading(&self, reading: ListingReading) {
        self.control(
            reqwest::Method::PUT,
            "/listing",
            serde_json::to_value(reading).unwrap(),
        )
        .await;
    }

    async fn page_cap(&self, max_count: usize) {
        let response = http()
            .put(format!("{}/settings", self.sandbox.control_url()))
            .json(&json!({ "max_count": max_count }))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
    }

    /// Every id the sandbox holds, deleted or not, and those not deleted.
    async fn served(&self) -> BTreeSet<i64> {
        let runs = self
            .control(reqwest::Method::GET, "/runs", Value::Null)
            .await;
        runs.as_array()
            .unwrap()
            .iter()
            .filter(|r| r["deleted"] != json!(true))
            .map(|r| r["activityId"].as_i64().unwrap())
            .collect()
    }

    fn stored(&self) -> BTreeSet<i64> {
        self.store
            .run_ids(None, None)
            .unwrap()
            .into_iter()
            .collect()
    }

    async fn sync_at(
        &mut self,
        request: SyncRequest,
        at: Timestamp,
    ) -> Result<SyncReport, SyncError> {
        let now = move || at;
        sync(&mut self.store, &self.client, &request, &now, &|_| {}).await
    }

    async fn sync(&mut self, mode: SyncMode) -> SyncReport {
        let request = SyncRequest {
            mode,
            ..SyncRequest::default()
        };
        self.sync_at(request, Timestamp::now()).await.unwrap()
    }

    fn current_streak(&self) -> u32 {
        let query = StreakQuery {
            rule: Rule::Usrsa,
            timezone: None,
            exclude_treadmill: false,
            as_of: Some(date(2026, 5, 3)),
            exclude_ledger: false,
        };
        streak(&self.store.domain_runs().unwrap(), &query, Timestamp::now())
            .unwrap()
            .current
            .days
    }
}

fn notes(r: &SyncReport) -> String {
    r.notes.join(" | ")
}

#[tokio::test]
async fn the_default_reading_takes_one_listing_and_one_count() {
    let mut w = world(3).await;
    let full = w.sync(SyncMode::Full).await;
    assert_eq!(w.stored(), w.served().await);
    assert_eq!(full.requests, 2, "listing + runCount: {}", notes(&full));
    let check = full.listing.unwrap();
    assert_eq!(
        (check.method, check.complete, check.verified),
        ("unpaged", true, true)
    );
    let incremental = w.sync(SyncMode::Incremental).await;
    assert_eq!(
        incremental.requests,
        3,
        "changes + ids + runCount: {}",
        notes(&incremental)
    );
    assert_eq!(incremental.counts.deleted, 0);
    assert!(incremental.notes.is_empty(), "{}", notes(&incremental));
    w.sandbox.stop().await;
}

#[tokio::test]
async fn a_capped_unpaged_listing_is_noticed_and_paged_instead() {
    let mut w = world(3).await;
    w.reading(ListingReading {
        unpaged_cap: Some(100),
        ..ListingReading::default()
    })
    .await;
    let served = w.served().await;
    assert!(served.len() > 500, "a history longer than one page");
    let full = w.sync(SyncMode::Full).await;
    assert_eq!(w.stored(), served, "every run, not the first 100");
    assert!(
        notes(&full).contains(&format!("unpaged listing returned 100 of {}", served.len())),
        "{}",
        notes(&full)
    );
    let check = full.listing.unwrap();
    assert_eq!(
        (check.method, check.complete, check.verified),
        ("paged", true, true)
    );
    let pages = served.len().div_ceil(100) as u64 + 1;
    assert_eq!(
        full.requests,
        1 + 1 + pages,
        "unpaged, count, then pages to an empty one"
    );

    // the incremental sync's ids listing is capped too: it must not delete the other runs
    let incremental = w.sync(SyncMode::Incremental).await;
    assert_eq!(incremental.counts.deleted, 0, "{}", notes(&incremental));
    assert_eq!(incremental.pending_deletions, 0);
    assert_eq!(w.stored(), served);

    // the doctor sees the cap, and later syncs page from the start (still verified)
    let report = diagnose(&w.client, Some(&w.store)).await.unwrap();
    assert_eq!(
        report.unpaged_complete,
        Some(false),
        "{:?}",
        report.findings
    );
    assert_eq!(report.run_count_matches, Some(true));
    assert!(report.hints.unpaged_capped);
    let hinted = w.sync(SyncMode::Incremental).await;
    assert_eq!(
        hinted.requests,
        1 + pages + 1,
        "one empty page of changes, the ids page by page, the count: {}",
        notes(&hinted)
    );
    assert_eq!(w.stored(), served);
    w.sandbox.stop().await;
}

#[tokio::test]
async fn pages_capped_below_the_asked_size_do_not_end_the_listing_early() {
    let mut w = world(2).await;
    w.reading(ListingReading {
        unpaged_cap: Some(100),
        ..ListingReading::default()
    })
    .await;
    w.page_cap(40).await;
    let served = w.served().await;
    let full = w.sync(SyncMode::Full).await;
    assert_eq!(w.stored(), served, "a short page of 40 is not the end");
    let check = full.listing.unwrap();
    assert_eq!(check.pages as usize, served.len().div_ceil(40) + 1);

    let report = diagnose(&w.client, Some(&w.store)).await.unwrap();
    assert_eq!(report.page_cap, Some(40), "{:?}", report.findings);
    let incremental = w.sync(SyncMode::Incremental).await;
    assert_eq!(incremental.counts.deleted, 0);
    assert_eq!(w.stored(), served);
    w.sandbox.stop().await;
}

#[tokio::test]
async fn a_server_that_ignores_page_is_detected_and_deletes_nothing() {
    let mut w = world(2).await;
    w.sync(SyncMode::Full).await;
    let served = w.served().await;
    w.reading(ListingReading {
        unpaged_cap: Some(100),
        ignore_page: true,
        ..ListingReading::default()
    })
    .await;
    let full = w.sync(SyncMode::Full).await;
    let check = full.listing.clone().unwrap();
    assert!(!check.complete, "{}", notes(&full));
    assert_eq!(
        check.pages, 2,
        "stops at the first repeated page instead of looping"
    );
    assert!(notes(&full).contains("ignore `page`"), "{}", notes(&full));
    assert_eq!(full.counts.deleted, 0);
    assert_eq!(
        full.pending_deletions, 0,
        "an incomplete listing holds nothing either"
    );
    assert_eq!(w.stored(), served);
    w.sandbox.stop().await;
}

#[tokio::test]
async fn from_date_read_as_local_time_west_of_utc_misses_no_edit_or_late_upload() {
    let mut w = world(1).await;
    w.reading(ListingReading {
        from_date_local: true,
        ..ListingReading::default()
    })
    .await;
    w.sync(SyncMode::Full).await;
    // right after the sync: an edit of an old run and a late upload of last month's run
    let old = *w.served().await.first().unwrap();
    w.control(
        reqwest::Method::PATCH,
        &format!("/runs/{old}"),
        json!({ "distance": 42.19500 }),
    )
    .await;
    let late = w
        .control(
            reqwest::Method::POST,
            "/runs",
            json!({ "startDateTimeLocal": "2026-04-02T06:30:00-04:00", "distance": 3.3 }),
        )
        .await;
    let late = late["activityId"].as_i64().unwrap();
    let incremental = w.sync(SyncMode::Incremental).await;
    assert!(w.stored().contains(&late), "the late upload came");
    let edited = w
        .store
        .runs(&myrunstreak_store::RunFilter::default())
        .unwrap()
        .into_iter()
        .find(|r| r.activity_id == old)
        .unwrap();
    assert!(
        (edited.distance_km - 42.195).abs() < 1e-9,
        "the edit came: {} ({})",
        edited.distance_km,
        notes(&incremental)
    );
    let report = diagnose(&w.client, None).await.unwrap();
    assert_eq!(
        report.from_date,
        FromDateReading::LocalWest,
        "{:?}",
        report.findings
    );
    w.sandbox.stop().await;
}

#[tokio::test]
async fn the_doctor_finds_the_documented_reading_in_a_handful_of_requests() {
    let mut w = world(2).await;
    w.sync(SyncMode::Full).await;
    let report = diagnose(&w.client, Some(&w.store)).await.unwrap();
    assert_eq!(report.unpaged_complete, Some(true), "{:?}", report.findings);
    assert_eq!(report.page_cap, None);
    assert_eq!(report.run_count_matches, Some(true));
    assert_eq!(report.from_date, FromDateReading::Utc);
    assert!(report.requests <= 6, "{} requests", report.requests);
    assert!(!report.hints.unpaged_capped);
    w.sandbox.stop().await;
}

#[tokio::test]
async fn a_listing_that_suddenly_drops_most_runs_holds_them_as_pending_and_heals() {
    let mut w = world(2).await;
    w.sync(SyncMode::Full).await;
    let served = w.served().await;
    let streak_before = w.current_streak();
    assert!(streak_before > 0);

    // SmashRun lists only the newest fifth, and its count agrees: a verified listing
    w.reading(ListingReading {
        keep_share: Some(0.2),
        ..ListingReading::default()
    })
    .await;
    let glitch = w.sync(SyncMode::Incremental).await;
    assert_eq!(glitch.counts.deleted, 0, "{}", notes(&glitch));
    let missing = served.len() as u64 - (served.len() as f64 * 0.2).round() as u64;
    assert_eq!(glitch.pending_deletions, missing);
    assert!(
        notes(&glitch).contains("held as pending deletion"),
        "{}",
        notes(&glitch)
    );
    assert_eq!(w.stored(), served, "held runs are still stored");
    assert_eq!(w.current_streak(), streak_before, "and still count");
    assert_eq!(w.store.pending_deletions().unwrap().len() as u64, missing);

    // the glitch ends: nothing was lost, nothing stays pending
    w.reading(ListingReading::default()).await;
    let healed = w.sync(SyncMode::Incremental).await;
    assert_eq!(healed.pending_deletions, 0, "{}", notes(&healed));
    assert_eq!(w.stored(), served);

    // a glitch that lasts: confirmed by a verified listing a day after the first miss
    w.reading(ListingReading {
        keep_share: Some(0.2),
        ..ListingReading::default()
    })
    .await;
    let first_miss = Timestamp::now();
    let held = w.sync_at(SyncRequest::default(), first_miss).await.unwrap();
    assert_eq!(held.pending_deletions, missing);
    let too_soon = w
        .sync_at(
            SyncRequest::default(),
            first_miss + SignedDuration::from_hours(23),
        )
        .await
        .unwrap();
    assert_eq!(
        too_soon.counts.deleted, 0,
        "23 hours is not enough evidence"
    );
    let day_later = w
        .sync_at(
            SyncRequest::default(),
            first_miss + SignedDuration::from_hours(25),
        )
        .await
        .unwrap();
    assert_eq!(day_later.counts.deleted, missing, "{}", notes(&day_later));
    assert_eq!(day_later.pending_deletions, 0);
    assert_eq!(w.stored().len() as u64, served.len() as u64 - missing);
    w.sandbox.stop().await;
}

#[tokio::test]
async fn held_deletions_are_never_confirmed_while_run_count_disagrees() {
    let mut w = world(2).await;
    w.sync(SyncMode::Full).await;
    let served = w.served().await;
    w.reading(ListingReading {
        keep_share: Some(0.3),
        stats_see_hidden: true,
        ..ListingReading::default()
    })
    .await;
    let now = Timestamp::now();
    let first = w.sync_at(SyncRequest::default(), now).await.unwrap();
    let check = first.listing.clone().unwrap();
    assert_eq!(
        (check.method, check.complete, check.verified),
        ("paged", true, false)
    );
    assert!(notes(&first).contains("paged instead"), "{}", notes(&first));
    let later = w
        .sync_at(SyncRequest::default(), now + SignedDuration::from_hours(48))
        .await
        .unwrap();
    assert_eq!(later.counts.deleted, 0, "{}", notes(&later));
    assert_eq!(w.stored(), served);

    // the runner says they really deleted them
    let confirmed = w
        .sync_at(
            SyncRequest {
                mode: SyncMode::Full,
                allow_mass_delete: true,
                ..SyncRequest::default()
            },
            now + SignedDuration::from_hours(49),
        )
        .await
        .unwrap();
    assert_eq!(confirmed.counts.deleted, later.pending_deletions);
    assert_eq!(confirmed.pending_deletions, 0);
    w.sandbox.stop().await;
}

#[tokio::test]
async fn a_few_deletions_go_at_once() {
    let mut w = world(1).await;
    w.sync(SyncMode::Full).await;
    let ids: Vec<i64> = w.served().await.into_iter().take(3).collect();
    for id in &ids {
        w.control(reqwest::Method::DELETE, &format!("/runs/{id}"), Value::Null)
            .await;
    }
    let report = w.sync(SyncMode::Incremental).await;
    assert_eq!(report.counts.deleted, 3);
    assert_eq!(report.pending_deletions, 0);
    assert_eq!(w.stored(), w.served().await);
    w.sandbox.stop().await;
}

#[tokio::test]
async fn a_listing_with_no_readable_activity_still_keeps_its_rejections() {
    let raw = json!([
        { "activityId": 501, "startDateTimeLocal": "not a time", "distance": 5.0 },
        { "activityId": 502, "startDateTimeLocal": "2026-05-01T07:00:00-04:00", "distance": "far" },
    ]);
    let config = SandboxConfig {
        load: Some(raw.as_array().unwrap().clone()),
        ..SandboxConfig::default()
    };
    let (sandbox, client) = connect(config).await;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("runs.duckdb"), Timestamp::now()).unwrap();
    let request = SyncRequest {
        mode: SyncMode::Full,
        ..SyncRequest::default()
    };
    let report = sync(&mut store, &client, &request, &Timestamp::now, &|_| {})
        .await
        .unwrap();
    assert_eq!(report.counts.rejected, 2);
    let kept: BTreeSet<Option<i64>> = store
        .rejected()
        .unwrap()
        .into_iter()
        .map(|r| r.activity_id)
        .collect();
    assert_eq!(kept, BTreeSet::from([Some(501), Some(502)]));
    sandbox.stop().await;
}

#[tokio::test]
async fn pages_offset_by_the_asked_size_skip_runs_which_the_count_exposes_and_the_doctor_fixes() {
    let mut w = world(2).await;
    w.sync(SyncMode::Full).await;
    let served = w.served().await;
    // a server that caps pages at 40 but starts page n at n * 100: 60 of every 100 runs unlisted
    w.reading(ListingReading {
        unpaged_cap: Some(100),
        offset_by_asked_count: true,
        ..ListingReading::default()
    })
    .await;
    w.page_cap(40).await;
    let skipping = w.sync(SyncMode::Incremental).await;
    let check = skipping.listing.clone().unwrap();
    assert!(check.complete && !check.verified, "{check:?}");
    assert!(
        notes(&skipping).contains(&format!("SmashRun counts {}", served.len())),
        "{}",
        notes(&skipping)
    );
    assert_eq!(
        skipping.counts.deleted, 0,
        "more than the guard allows: held"
    );
    assert_eq!(w.stored(), served, "nothing lost");
    let later = w
        .sync_at(
            SyncRequest::default(),
            Timestamp::now() + SignedDuration::from_hours(48),
        )
        .await
        .unwrap();
    assert_eq!(
        later.counts.deleted, 0,
        "never confirmed while runCount disagrees"
    );

    // the doctor sees the page cap; paging at 40 then lists everything again
    let report = diagnose(&w.client, Some(&w.store)).await.unwrap();
    assert_eq!(report.page_cap, Some(40), "{:?}", report.findings);
    let fixed = w
        .sync_at(
            SyncRequest::default(),
            Timestamp::now() + SignedDuration::from_hours(49),
        )
        .await
        .unwrap();
    let check = fixed.listing.unwrap();
    assert!(check.verified, "{check:?}");
    assert_eq!(fixed.pending_deletions, 0, "released");
    assert_eq!(w.stored(), served);
    w.sandbox.stop().await;
}
