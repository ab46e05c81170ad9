//! The sync's rules, in process: a fake SmashRun behind the app's `RunSource` port and a real
//! DuckDB file behind `RunMirror`. No network, so each case takes milliseconds; the same rules
//! are also tested end to end against the sandbox (`readings.rs`, `sandbox.rs`, the CLI's e2e).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use myrunstreak_app::{
    ListingStyle, RunSource, SyncMode, SyncReport, SyncRequest, scheduled_mode, sync,
};
use myrunstreak_store::{Store, SyncCounts, SyncRecord, SyncStatus};
use serde_json::{Value, json};
use smashrun_client::{
    Error as ClientError, Listing, Paged, RawListing, Split, SplitUnit, parse_listing,
};

/// A SmashRun in memory, with the contested readings as switches.
struct Fake {
    /// Activities, newest first, with the instant each was last updated.
    runs: Mutex<Vec<(Value, Timestamp)>>,
    /// The unpaged listing stops after this many (SmashRun's contested cap).
    unpaged_cap: Option<usize>,
    /// Paging stops before the end without saying so (a listing that is not complete).
    incomplete: bool,
    requests: AtomicU64,
}

impl Fake {
    fn new(n: usize) -> Fake {
        let t = Timestamp::from_second(1_700_000_000).unwrap();
        Fake {
            runs: Mutex::new((0..n).map(|i| (activity(i as i64 + 1), t)).collect()),
            unpaged_cap: None,
            incomplete: false,
            requests: AtomicU64::new(0),
        }
    }

    fn ask(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    fn selected(&self, since: Option<Timestamp>) -> Vec<Value> {
        let runs = self.runs.lock().unwrap();
        runs.iter()
            .filter(|(_, updated)| since.is_none_or(|s| *updated >= s))
            .map(|(v, _)| v.clone())
            .collect()
    }

    fn remove(&self, n: usize) {
        let mut runs = self.runs.lock().unwrap();
        let keep = runs.len() - n;
        runs.truncate(keep);
    }
}

fn activity(id: i64) -> Value {
    let day = Date::constant(2020, 1, 1)
        .checked_add(SignedDuration::from_hours(24 * id))
        .unwrap();
    json!({
        "activityId": id,
        "startDateTimeLocal": format!("{day}T07:00:00-05:00"),
        "distance": 5.0,
        "duration": 1800.0,
        "activityType": "running",
    })
}

fn listing(items: &[Value]) -> Listing {
    parse_listing(&serde_json::to_vec(items).unwrap(), None).unwrap()
}

fn paged<T>(items: T, pages: usize, complete: bool) -> Paged<T> {
    Paged {
        items,
        pages,
        complete,
        problem: (!complete).then(|| "the fake stopped early".to_owned()),
    }
}

impl RunSource for Fake {
    fn style(&self) -> ListingStyle {
        ListingStyle {
            page_size: 100,
            unpaged: true,
        }
    }

    fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn preload_budget(&self, _requests: usize, _ago: Duration) {}

    async fn run_count(&self) -> Result<Option<u64>, ClientError> {
        self.ask();
        Ok(Some(self.runs.lock().unwrap().len() as u64))
    }

    async fn unpaged_listing(&self, since: Option<Timestamp>) -> Result<RawListing, ClientError> {
        self.ask();
        let mut items = self.selected(since);
        items.truncate(self.unpaged_cap.unwrap_or(usize::MAX));
        Ok(RawListing::new(serde_json::to_vec(&items).unwrap(), None).unwrap())
    }

    async fn paged_listing(
        &self,
        since: Option<Timestamp>,
        page_size: usize,
    ) -> Result<Paged<Listing>, ClientError> {
        let mut items = self.selected(since);
        if self.incomplete {
            items.truncate(items.len() / 2);
        }
        let pages = items.len() / page_size + 1;
        for _ in 0..pages {
            self.ask();
        }
        Ok(paged(listing(&items), pages, !self.incomplete))
    }

    async fn unpaged_ids(&self) -> Result<Vec<i64>, ClientError> {
        self.ask();
        let mut ids: Vec<i64> = self
            .selected(None)
            .iter()
            .map(|v| v["activityId"].as_i64().unwrap())
            .collect();
        ids.truncate(self.unpaged_cap.unwrap_or(usize::MAX));
        Ok(ids)
    }

    async fn paged_ids(&self, page_size: usize) -> Result<Paged<Vec<i64>>, ClientError> {
        let listed = self.paged_listing(None, page_size).await?;
        let ids = listed.items.activities.iter().map(|a| a.id.get()).collect();
        Ok(paged(ids, listed.pages, listed.complete))
    }

    async fn window(
        &self,
        _since: Option<Date>,
        _until: Option<Date>,
    ) -> Result<Paged<Listing>, ClientError> {
        Err(ClientError::Config("the fake has no date window".into()))
    }

    async fn activity(&self, _id: i64) -> Result<Value, ClientError> {
        Err(ClientError::Config("the fake has no details".into()))
    }

    async fn splits(&self, _id: i64, _unit: SplitUnit) -> Result<Vec<Split>, ClientError> {
        Err(ClientError::Config("the fake has no splits".into()))
    }
}

struct World {
    _dir: tempfile::TempDir,
    store: Store,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("runs.duckdb"), Timestamp::now()).unwrap();
    World { _dir: dir, store }
}

async fn run(w: &mut World, source: &Fake, mode: SyncMode) -> SyncReport {
    let request = SyncRequest {
        mode,
        ..SyncRequest::default()
    };
    sync(&mut w.store, source, &request, &Timestamp::now, &|_| {})
        .await
        .unwrap()
}

#[tokio::test]
async fn an_unpaged_answer_of_a_page_size_is_not_believed() {
    let mut w = world();
    let mut source = Fake::new(250);
    source.unpaged_cap = Some(100);
    let report = run(&mut w, &source, SyncMode::Full).await;
    let check = report.listing.as_ref().unwrap();
    assert_eq!(check.method, "paged");
    assert!(check.verified);
    assert_eq!(report.total_runs, 250);
    assert!(
        report.notes.iter().any(|n| n.contains("typical page size")),
        "{:?}",
        report.notes
    );
}

#[tokio::test]
async fn a_mass_disappearance_is_held_not_deleted() {
    let mut w = world();
    let source = Fake::new(200);
    run(&mut w, &source, SyncMode::Full).await;
    source.remove(100);
    let report = run(&mut w, &source, SyncMode::Full).await;
    assert_eq!(report.counts.deleted, 0);
    assert_eq!(report.pending_deletions, 100);
    assert_eq!(w.store.count().unwrap(), 200, "held runs still count");
}

#[tokio::test]
async fn a_few_deletions_go_through() {
    let mut w = world();
    let source = Fake::new(200);
    run(&mut w, &source, SyncMode::Full).await;
    source.remove(3);
    let report = run(&mut w, &source, SyncMode::Full).await;
    assert_eq!(report.counts.deleted, 3);
    assert_eq!(report.pending_deletions, 0);
    assert_eq!(w.store.count().unwrap(), 197);
}

#[tokio::test]
async fn an_incomplete_listing_deletes_nothing() {
    let mut w = world();
    let mut source = Fake::new(120);
    run(&mut w, &source, SyncMode::Full).await;
    source.remove(5);
    source.unpaged_cap = Some(100);
    source.incomplete = true;
    let report = run(&mut w, &source, SyncMode::Full).await;
    assert_eq!(report.counts.deleted, 0);
    assert!(!report.listing.unwrap().complete);
    assert_eq!(w.store.count().unwrap(), 120);
}

#[tokio::test]
async fn an_incremental_sync_with_nothing_new_takes_three_requests() {
    let mut w = world();
    let source = Fake::new(300);
    run(&mut w, &source, SyncMode::Full).await;
    let report = run(&mut w, &source, SyncMode::Incremental).await;
    assert_eq!(report.mode, SyncMode::Incremental);
    assert!(report.requests <= 3, "{} requests", report.requests);
    assert_eq!(report.counts.added + report.counts.updated, 0);
    assert_eq!(report.total_runs, 300);
}

fn record(mode: &str, status: SyncStatus, started: Timestamp) -> SyncRecord {
    SyncRecord {
        sync_id: 1,
        mode: mode.into(),
        started,
        finished: Some(started),
        status,
        requests: 3,
        counts: SyncCounts::default(),
        watermark: None,
        error: None,
        pending_deletions: 0,
        listing_note: None,
    }
}

#[test]
fn a_scheduled_sync_reconciles_in_full_weekly() {
    let now = Timestamp::from_second(1_800_000_000).unwrap();
    let days = |d: i64| now - SignedDuration::from_hours(24 * d);
    assert_eq!(scheduled_mode(&[], now), SyncMode::Full);
    let recent_full = [record("full", SyncStatus::Ok, days(3))];
    assert_eq!(scheduled_mode(&recent_full, now), SyncMode::Incremental);
    let old_full = [
        record("incremental", SyncStatus::Ok, days(1)),
        record("full", SyncStatus::Ok, days(8)),
    ];
    assert_eq!(scheduled_mode(&old_full, now), SyncMode::Full);
    let failed_full = [record("full", SyncStatus::Failed, days(1))];
    assert_eq!(scheduled_mode(&failed_full, now), SyncMode::Full);
}
