//! The two ports the sync plugs into: where runs come from ([`RunSource`]: SmashRun) and where
//! they are kept ([`RunMirror`]: the DuckDB store). The real adapters are implemented here for
//! `smashrun_client::SmashRunClient` and `myrunstreak_store::Store`; tests plug in-process fakes
//! into the same traits to check the sync's rules without a network.

use std::future::Future;
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use myrunstreak_store::{
    PendingDeletion, RejectedRow, RunRow, Store, StoreError, SyncCounts, SyncOutcome, SyncRecord,
};
use serde_json::Value;
use smashrun_client::{
    Error as ClientError, Listing, Paged, RawListing, SmashRunClient, Split, SplitUnit,
};

/// How a source lists: the page size it asks for and whether it tries one unpaged request first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListingStyle {
    /// Items asked for per page.
    pub page_size: usize,
    /// Whether an unpaged request is tried first.
    pub unpaged: bool,
}

/// Where runs come from: SmashRun's REST API, read the ways its contested listing allows.
///
/// Every method is one logical read; retries, rate budget and tokens are the adapter's business.
pub trait RunSource: Send + Sync {
    /// How this source lists.
    fn style(&self) -> ListingStyle;
    /// Requests sent so far (for the sync's report and the rate budget across processes).
    fn requests(&self) -> u64;
    /// Counts `requests` sent `ago` against the hourly budget (by an earlier process).
    fn preload_budget(&self, requests: usize, ago: Duration);
    /// `/my/stats` `runCount`, if SmashRun says.
    fn run_count(&self) -> impl Future<Output = Result<Option<u64>, ClientError>> + Send;
    /// One unpaged listing, of every run or of those updated since `since`, as it arrived
    /// (parsed a batch at a time by the writer).
    fn unpaged_listing(
        &self,
        since: Option<Timestamp>,
    ) -> impl Future<Output = Result<RawListing, ClientError>> + Send;
    /// A listing paged with `page_size` until an empty page.
    fn paged_listing(
        &self,
        since: Option<Timestamp>,
        page_size: usize,
    ) -> impl Future<Output = Result<Paged<Listing>, ClientError>> + Send;
    /// Every id, in one unpaged request.
    fn unpaged_ids(&self) -> impl Future<Output = Result<Vec<i64>, ClientError>> + Send;
    /// Every id, paged until an empty page.
    fn paged_ids(
        &self,
        page_size: usize,
    ) -> impl Future<Output = Result<Paged<Vec<i64>>, ClientError>> + Send;
    /// Runs whose run day is within `since..=until`.
    fn window(
        &self,
        since: Option<Date>,
        until: Option<Date>,
    ) -> impl Future<Output = Result<Paged<Listing>, ClientError>> + Send;
    /// One activity in full.
    fn activity(&self, id: i64) -> impl Future<Output = Result<Value, ClientError>> + Send;
    /// One activity's splits.
    fn splits(
        &self,
        id: i64,
        unit: SplitUnit,
    ) -> impl Future<Output = Result<Vec<Split>, ClientError>> + Send;
}

/// Where runs are kept: the runner's mirror, with its sync log.
pub trait RunMirror: Send {
    /// The last incremental or full sync that succeeded.
    fn last_success(&self) -> Result<Option<SyncRecord>, StoreError>;
    /// The most recent syncs, newest first.
    fn sync_log(&self, limit: usize) -> Result<Vec<SyncRecord>, StoreError>;
    /// Starts a sync log entry.
    fn begin_sync(&self, mode: &str, started: Timestamp) -> Result<i64, StoreError>;
    /// Ends a sync log entry.
    fn finish_sync(&self, sync_id: i64, outcome: &SyncOutcome) -> Result<(), StoreError>;
    /// Records what a sync saw of the listing.
    fn record_listing(&self, sync_id: i64, pending: u64, note: &str) -> Result<(), StoreError>;
    /// Stored runs not marked deleted.
    fn count(&self) -> Result<u64, StoreError>;
    /// Ids of live runs within the run-day window.
    fn run_ids(&self, since: Option<Date>, until: Option<Date>) -> Result<Vec<i64>, StoreError>;
    /// Writes one batch in one transaction (or in the open group of [`RunMirror::group_writes`]).
    fn apply(
        &mut self,
        runs: &[RunRow],
        rejected: &[RejectedRow],
        now: Timestamp,
    ) -> Result<SyncCounts, StoreError>;
    /// Commits about once per `size` runs rather than once per batch, until
    /// [`RunMirror::settle`]; a batch is never split between two transactions.
    fn group_writes(&mut self, _size: usize) {}
    /// Commits the open group.
    fn settle(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Live runs within the window, with the time a listing first lacked each (if it did).
    fn live_runs_missing_since(
        &self,
        since: Option<Date>,
        until: Option<Date>,
    ) -> Result<Vec<(i64, Option<Timestamp>)>, StoreError>;
    /// Marks runs deleted.
    fn mark_deleted(&mut self, ids: &[i64], now: Timestamp) -> Result<u64, StoreError>;
    /// Holds runs as pending deletion.
    fn hold_missing(&mut self, ids: &[i64], now: Timestamp) -> Result<u64, StoreError>;
    /// Releases held runs.
    fn clear_missing(&mut self, ids: &[i64]) -> Result<u64, StoreError>;
    /// Runs held as pending deletion.
    fn pending_deletions(&self) -> Result<Vec<PendingDeletion>, StoreError>;
    /// A value of the meta table.
    fn meta(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Runs whose details are still to fetch, at most `limit`.
    fn ids_without_details(&self, limit: usize) -> Result<Vec<i64>, StoreError>;
    /// How many runs still lack details.
    fn details_backlog(&self) -> Result<u64, StoreError>;
    /// Saves one run's details and splits.
    fn save_details(
        &mut self,
        id: i64,
        raw: &str,
        splits: &[(String, Vec<[Option<f64>; 6]>)],
        now: Timestamp,
    ) -> Result<(), StoreError>;
}

impl RunSource for SmashRunClient {
    fn style(&self) -> ListingStyle {
        ListingStyle {
            page_size: self.config().page_size,
            unpaged: self.config().unpaged,
        }
    }

    fn requests(&self) -> u64 {
        SmashRunClient::requests(self)
    }

    fn preload_budget(&self, requests: usize, ago: Duration) {
        let now = tokio::time::Instant::now();
        self.budget()
            .preload(requests, now.checked_sub(ago).unwrap_or(now));
    }

    async fn run_count(&self) -> Result<Option<u64>, ClientError> {
        SmashRunClient::run_count(self).await
    }

    async fn unpaged_listing(&self, since: Option<Timestamp>) -> Result<RawListing, ClientError> {
        SmashRunClient::unpaged_raw(self, since).await
    }

    async fn paged_listing(
        &self,
        since: Option<Timestamp>,
        page_size: usize,
    ) -> Result<Paged<Listing>, ClientError> {
        SmashRunClient::paged_listing(self, since, page_size).await
    }

    async fn unpaged_ids(&self) -> Result<Vec<i64>, ClientError> {
        SmashRunClient::unpaged_ids(self).await
    }

    async fn paged_ids(&self, page_size: usize) -> Result<Paged<Vec<i64>>, ClientError> {
        SmashRunClient::paged_ids(self, page_size).await
    }

    async fn window(
        &self,
        since: Option<Date>,
        until: Option<Date>,
    ) -> Result<Paged<Listing>, ClientError> {
        SmashRunClient::window(self, since, until).await
    }

    async fn activity(&self, id: i64) -> Result<Value, ClientError> {
        SmashRunClient::activity(self, id).await
    }

    async fn splits(&self, id: i64, unit: SplitUnit) -> Result<Vec<Split>, ClientError> {
        SmashRunClient::splits(self, id, unit).await
    }
}

impl RunMirror for Store {
    fn last_success(&self) -> Result<Option<SyncRecord>, StoreError> {
        Store::last_success(self)
    }

    fn sync_log(&self, limit: usize) -> Result<Vec<SyncRecord>, StoreError> {
        Store::sync_log(self, limit)
    }

    fn begin_sync(&self, mode: &str, started: Timestamp) -> Result<i64, StoreError> {
        Store::begin_sync(self, mode, started)
    }

    fn finish_sync(&self, sync_id: i64, outcome: &SyncOutcome) -> Result<(), StoreError> {
        Store::finish_sync(self, sync_id, outcome)
    }

    fn record_listing(&self, sync_id: i64, pending: u64, note: &str) -> Result<(), StoreError> {
        Store::record_listing(self, sync_id, pending, note)
    }

    fn count(&self) -> Result<u64, StoreError> {
        Store::count(self)
    }

    fn run_ids(&self, since: Option<Date>, until: Option<Date>) -> Result<Vec<i64>, StoreError> {
        Store::run_ids(self, since, until)
    }

    fn apply(
        &mut self,
        runs: &[RunRow],
        rejected: &[RejectedRow],
        now: Timestamp,
    ) -> Result<SyncCounts, StoreError> {
        Store::apply(self, runs, rejected, now)
    }

    fn group_writes(&mut self, size: usize) {
        Store::group_writes(self, size)
    }

    fn settle(&mut self) -> Result<(), StoreError> {
        Store::settle(self)
    }

    fn live_runs_missing_since(
        &self,
        since: Option<Date>,
        until: Option<Date>,
    ) -> Result<Vec<(i64, Option<Timestamp>)>, StoreError> {
        Store::live_runs_missing_since(self, since, until)
    }

    fn mark_deleted(&mut self, ids: &[i64], now: Timestamp) -> Result<u64, StoreError> {
        Store::mark_deleted(self, ids, now)
    }

    fn hold_missing(&mut self, ids: &[i64], now: Timestamp) -> Result<u64, StoreError> {
        Store::hold_missing(self, ids, now)
    }

    fn clear_missing(&mut self, ids: &[i64]) -> Result<u64, StoreError> {
        Store::clear_missing(self, ids)
    }

    fn pending_deletions(&self) -> Result<Vec<PendingDeletion>, StoreError> {
        Store::pending_deletions(self)
    }

    fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Store::meta(self, key)
    }

    fn ids_without_details(&self, limit: usize) -> Result<Vec<i64>, StoreError> {
        Store::ids_without_details(self, limit)
    }

    fn details_backlog(&self) -> Result<u64, StoreError> {
        Store::details_backlog(self)
    }

    fn save_details(
        &mut self,
        id: i64,
        raw: &str,
        splits: &[(String, Vec<[Option<f64>; 6]>)],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        Store::save_details(self, id, raw, splits, now)
    }
}

/// A shared source is a source (the server and tests hold the client in an `Arc`).
impl<S: RunSource + ?Sized> RunSource for std::sync::Arc<S> {
    fn style(&self) -> ListingStyle {
        (**self).style()
    }

    fn requests(&self) -> u64 {
        (**self).requests()
    }

    fn preload_budget(&self, requests: usize, ago: Duration) {
        (**self).preload_budget(requests, ago)
    }

    fn run_count(&self) -> impl Future<Output = Result<Option<u64>, ClientError>> + Send {
        (**self).run_count()
    }

    fn unpaged_listing(
        &self,
        since: Option<Timestamp>,
    ) -> impl Future<Output = Result<RawListing, ClientError>> + Send {
        (**self).unpaged_listing(since)
    }

    fn paged_listing(
        &self,
        since: Option<Timestamp>,
        page_size: usize,
    ) -> impl Future<Output = Result<Paged<Listing>, ClientError>> + Send {
        (**self).paged_listing(since, page_size)
    }

    fn unpaged_ids(&self) -> impl Future<Output = Result<Vec<i64>, ClientError>> + Send {
        (**self).unpaged_ids()
    }

    fn paged_ids(
        &self,
        page_size: usize,
    ) -> impl Future<Output = Result<Paged<Vec<i64>>, ClientError>> + Send {
        (**self).paged_ids(page_size)
    }

    fn window(
        &self,
        since: Option<Date>,
        until: Option<Date>,
    ) -> impl Future<Output = Result<Paged<Listing>, ClientError>> + Send {
        (**self).window(since, until)
    }

    fn activity(&self, id: i64) -> impl Future<Output = Result<Value, ClientError>> + Send {
        (**self).activity(id)
    }

    fn splits(
        &self,
        id: i64,
        unit: SplitUnit,
    ) -> impl Future<Output = Result<Vec<Split>, ClientError>> + Send {
        (**self).splits(id, unit)
    }
}
