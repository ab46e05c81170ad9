//! The sync service: one way to mirror SmashRun into the store, used by every shell.
//!
//! - incremental (default): runs created or updated since the last successful sync's start,
//!   minus a margin wider than any UTC offset (`fromDateUTC`, so late uploads and edits of old
//!   runs come too, whether SmashRun compares it in UTC or in local time), and a listing of ids
//!   to notice deletions: three requests when nothing changed, the check of the count included;
//! - full: everything (one unpaged request where possible, verified), then deletions reconciled;
//! - window: runs whose run day is within `since..=until` (SmashRun has no such filter, the
//!   client pages and stops), deletions reconciled within the window.
//!
//! SmashRun's listing is contested (`shared/docs/smashrun-api.md`): an unpaged answer may be
//! everything or only the first 100. An unpaged answer is therefore believed only when its size
//! equals `/my/stats` `runCount` and is not exactly a typical page size; otherwise the sync pages
//! until an empty page. A run absent from a complete listing is marked deleted, but never more
//! at once than [`DeletionGuard`] allows: the rest are held as pending deletion, keep counting,
//! and are confirmed by a verified listing a day later (or by `--allow-mass-delete`).
//!
//! A sync writes its runs in batches, each one transaction (appender into a staging table, one
//! merge), and advances the watermark only when it succeeds: kill it at any moment and the file
//! holds whole batches only, and the next sync finishes the work (writes are idempotent).

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use myrunstreak_store::{
    RejectedRow, RunRow, StoreError, SyncCounts, SyncOutcome, SyncRecord, SyncStatus,
};
use serde::Serialize;
use smashrun_client::{
    Activity, Error as ClientError, Listing, Paged, RawListing, Rejected, SplitUnit,
};

use crate::ports::{RunMirror, RunSource};
use crate::views::{ChangeCounts, HeldRun, RejectedActivity};
use thiserror::Error;

/// Runs parsed and appended at a time (a sync's batches share one transaction). On a 10,000-run
/// full sync (13 interleaved runs each): 500 a batch 310 ms and 97 MB peak, 1,000 283 ms and
/// 102 MB, 2,500 299 ms and 107 MB (smaller batches free their rows sooner, and the writer
/// waits less for the first; past 1,000 the appends' own cost shows).
pub const BATCH: usize = 1000;

/// How much before the last successful sync an incremental sync starts looking. Whether
/// SmashRun compares `fromDateUTC` in UTC or in the account's local time is not known; offsets
/// run from −12:00 to +14:00, so either reading is off by at most 14 hours, and reading the
/// offset the wrong way round by at most the whole 26-hour span. 27 hours covers that and an hour
/// of clock difference; writes are idempotent, so re-reading a day of edits costs almost nothing.
pub const SAFETY_MARGIN: SignedDuration = SignedDuration::from_hours(27);

/// Unpaged answers of exactly these sizes look like one capped page and are not believed.
pub const TYPICAL_PAGE_SIZES: [usize; 8] = [10, 20, 25, 40, 50, 100, 200, 250];

/// How many runs one sync may mark deleted at once; beyond that, deletions wait for evidence.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct DeletionGuard {
    /// At least this many runs may go at once ...
    pub min_runs: u64,
    /// ... or this share of the stored runs, whichever is larger.
    pub share: f64,
    /// A held deletion is confirmed by a complete, verified listing at least this long after
    /// the first one that lacked the run.
    pub confirm_after: SignedDuration,
}

impl Default for DeletionGuard {
    fn default() -> Self {
        DeletionGuard {
            min_runs: 20,
            share: 0.05,
            confirm_after: SignedDuration::from_hours(24),
        }
    }
}

impl DeletionGuard {
    /// The most runs that may be marked deleted at once when `stored` runs are stored.
    pub fn limit(&self, stored: u64) -> u64 {
        let share = (stored as f64 * self.share.clamp(0.0, 1.0)).floor() as u64;
        self.min_runs.max(share)
    }
}

/// Which runs to fetch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum SyncMode {
    /// What changed since the last successful sync.
    #[default]
    Incremental,
    /// Everything.
    Full,
    /// Runs whose run day is within the window.
    Window {
        /// First run day.
        since: Option<Date>,
        /// Last run day.
        until: Option<Date>,
    },
}

impl SyncMode {
    /// The name the sync log keeps.
    pub fn name(self) -> &'static str {
        match self {
            SyncMode::Incremental => "incremental",
            SyncMode::Full => "full",
            SyncMode::Window { .. } => "window",
        }
    }
}

/// A scheduled sync reconciles deletions with a full listing at least this often.
pub const FULL_EVERY: SignedDuration = SignedDuration::from_hours(24 * 7);

/// The mode of a scheduled sync, from the sync log: full when no full sync succeeded within
/// [`FULL_EVERY`] of `now` (or ever), else incremental.
pub fn scheduled_mode(log: &[SyncRecord], now: Timestamp) -> SyncMode {
    let last_full = log
        .iter()
        .find(|r| r.mode == SyncMode::Full.name() && r.status == SyncStatus::Ok)
        .map(|r| r.started);
    match last_full {
        Some(t) if now.duration_since(t) < FULL_EVERY => SyncMode::Incremental,
        _ => SyncMode::Full,
    }
}

/// What to do.
#[derive(Clone, Debug, Default)]
pub struct SyncRequest {
    /// Which runs.
    pub mode: SyncMode,
    /// Fetch but write nothing.
    pub dry_run: bool,
    /// Also fetch full activities and splits, at most this many runs' worth this time.
    pub details: Option<usize>,
    /// Mark deleted every run a complete listing lacks, however many (the runner confirmed).
    pub allow_mass_delete: bool,
    /// How many deletions one sync may make on its own.
    pub guard: DeletionGuard,
}

/// Progress, for a progress bar or log lines.
#[derive(Clone, Debug)]
pub enum SyncEvent {
    /// Asking SmashRun.
    Fetching {
        /// What is asked for.
        what: String,
    },
    /// The listing arrived.
    Fetched {
        /// Activities listed.
        runs: usize,
    },
    /// Writing to the database.
    Writing,
    /// Details fetched so far.
    Details {
        /// Done in this sync.
        done: usize,
        /// To do in this sync.
        total: usize,
        /// Left in the whole backlog.
        backlog: u64,
        /// At SmashRun's rate budget, how long the whole backlog takes.
        eta: Duration,
    },
}

/// What a sync did.
#[derive(Clone, Debug, Serialize)]
pub struct SyncReport {
    /// The sync log's id (none for a dry run).
    pub sync_id: Option<i64>,
    /// The mode, as run (an incremental sync with no history runs as full).
    pub mode: SyncMode,
    /// What changed.
    pub counts: ChangeCounts,
    /// Requests sent to SmashRun.
    pub requests: u64,
    /// Runs in the database afterwards.
    pub total_runs: u64,
    /// Activities that could not be read, kept raw.
    pub rejected: Vec<RejectedActivity>,
    /// Runs updated since this instant were asked for.
    pub since: Option<Timestamp>,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Details still to fetch.
    pub details_backlog: u64,
    /// How the listing that deletions were judged by was read, and what was seen of SmashRun.
    pub listing: Option<ListingCheck>,
    /// Runs missing from SmashRun's listing but held back from deletion (they still count).
    pub pending_deletions: u64,
    /// What the runner should know, in words: readings observed, deletions held back.
    pub notes: Vec<String>,
    /// Wall time in seconds.
    pub seconds: f64,
}

/// How a listing was read and how far it can be believed.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ListingCheck {
    /// `unpaged`, `paged` or `window`.
    pub method: &'static str,
    /// Items listed.
    pub listed: u64,
    /// Pages read (0 for an unpaged answer taken whole).
    pub pages: u64,
    /// SmashRun's own count (`/my/stats` `runCount`), when it answered.
    pub run_count: Option<u64>,
    /// Nothing was left unread: paging ended on an empty page, or an unpaged answer was
    /// confirmed by the count.
    pub complete: bool,
    /// Complete and equal to SmashRun's count: enough to confirm held deletions.
    pub verified: bool,
}

/// Why a sync failed.
#[derive(Debug, Error)]
pub enum SyncError {
    /// SmashRun could not be asked.
    #[error(transparent)]
    SmashRun(#[from] ClientError),
    /// The database refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A list of changes could not be read whole; the watermark stays where it was.
    #[error(
        "SmashRun's list of changed runs could not be read whole ({problem}); nothing was lost, and the next sync asks again"
    )]
    IncompleteListing {
        /// What went wrong.
        problem: String,
    },
    /// A listing that would delete everything is not believed.
    #[error(
        "SmashRun listed no runs at all while {stored} are stored; refusing to mark them deleted. If you really deleted every run, run `myrunstreak sync --full --allow-mass-delete`"
    )]
    EmptyListing {
        /// Runs stored.
        stored: u64,
    },
    /// A thread of the sync (the listing's parser, or the opening of a new file) stopped before
    /// the end: a bug, not SmashRun's doing.
    #[error(
        "{0} stopped before the end; the runs written so far are kept, and the next sync starts again"
    )]
    Stopped(&'static str),
}

/// Mirrors SmashRun into `store` as `request` says. `now` is read at the start (it becomes the
/// watermark) and for record times.
pub async fn sync(
    store: &mut impl RunMirror,
    client: &impl RunSource,
    request: &SyncRequest,
    now: &(dyn Fn() -> Timestamp + Send + Sync),
    progress: &(dyn Fn(SyncEvent) + Send + Sync),
) -> Result<SyncReport, SyncError> {
    let begun = Begun {
        started: now(),
        wall: std::time::Instant::now(),
        requests_before: client.requests(),
        prefetched: None,
    };
    preload_budget(store, client, begun.started)?;
    sync_begun(store, client, request, now, progress, begun).await
}

/// The first sync into a new file: SmashRun is asked for every run while `open` creates and
/// migrates the file (on a thread of its own), instead of one after the other. A new file has
/// nothing to read first: no requests of the past hour to count against the budget, no doctor's
/// hints, no last sync (so the sync is full). `request`'s mode must not be a window.
pub async fn first_sync<S: RunMirror>(
    open: impl Future<Output = Result<S, SyncError>>,
    client: &impl RunSource,
    request: &SyncRequest,
    now: &(dyn Fn() -> Timestamp + Send + Sync),
    progress: &(dyn Fn(SyncEvent) + Send + Sync),
) -> Result<(S, SyncReport), SyncError> {
    let (started, wall, requests_before) = (now(), std::time::Instant::now(), client.requests());
    let hints = ListingHints::default();
    let (store, prefetched) = tokio::join!(open, every_run(client, &hints, progress));
    let mut store = store?;
    let begun = Begun {
        started,
        wall,
        requests_before,
        prefetched: Some(prefetched),
    };
    let report = sync_begun(&mut store, client, request, now, progress, begun).await?;
    Ok((store, report))
}

/// Where a sync stands when its store is open: when it started, and what it already fetched.
struct Begun {
    started: Timestamp,
    wall: std::time::Instant,
    requests_before: u64,
    /// The full listing, fetched while a new file was created ([`first_sync`]).
    prefetched: Option<Prefetched>,
}

/// A full listing, with the notes of its fetching.
struct Prefetched {
    listing: Result<(Items, ListingCheck), SyncError>,
    notes: Vec<String>,
}

/// Asks SmashRun for every run ([`full_listing`]), saying so.
async fn every_run(
    client: &impl RunSource,
    hints: &ListingHints,
    progress: &(dyn Fn(SyncEvent) + Send + Sync),
) -> Prefetched {
    progress(SyncEvent::Fetching {
        what: "every run".into(),
    });
    let mut notes = Vec::new();
    let listing = full_listing(client, hints, &mut notes).await;
    Prefetched { listing, notes }
}

async fn sync_begun(
    store: &mut impl RunMirror,
    client: &impl RunSource,
    request: &SyncRequest,
    now: &(dyn Fn() -> Timestamp + Send + Sync),
    progress: &(dyn Fn(SyncEvent) + Send + Sync),
    begun: Begun,
) -> Result<SyncReport, SyncError> {
    let Begun {
        started,
        wall,
        requests_before,
        prefetched,
    } = begun;
    let last = store.last_success()?;
    let mode = match (request.mode, &last) {
        (SyncMode::Incremental, None) => SyncMode::Full,
        (mode, _) => mode,
    };
    let sync_id = if request.dry_run {
        None
    } else {
        Some(store.begin_sync(mode.name(), started)?)
    };
    let result = run(
        store,
        client,
        request,
        Plan {
            mode,
            watermark: last.and_then(|l| l.watermark),
            prefetched,
        },
        now,
        progress,
    )
    .await;
    let requests = client.requests() - requests_before;
    let done = match result {
        Ok(v) => v,
        Err(e) => {
            if let Some(id) = sync_id {
                let outcome = SyncOutcome {
                    status: SyncStatus::Failed,
                    finished: now(),
                    counts: SyncCounts::default(),
                    requests,
                    watermark: None,
                    error: Some(e.to_string()),
                };
                if let Err(log_error) = store.finish_sync(id, &outcome) {
                    tracing::warn!("the failed sync could not be logged: {log_error}");
                }
            }
            return Err(e);
        }
    };
    let watermark = matches!(mode, SyncMode::Incremental | SyncMode::Full).then_some(started);
    let pending_deletions = store.pending_deletions()?.len() as u64;
    if let Some(id) = sync_id {
        let outcome = SyncOutcome {
            status: SyncStatus::Ok,
            finished: now(),
            counts: done.counts,
            requests,
            watermark,
            error: None,
        };
        store.finish_sync(id, &outcome)?;
        store.record_listing(id, pending_deletions, &done.notes.join("; "))?;
    }
    for note in &done.notes {
        tracing::info!("{note}");
    }
    let mut report = SyncReport {
        sync_id,
        mode,
        counts: done.counts.into(),
        requests,
        total_runs: store.count()?,
        rejected: done.rejected.iter().map(RejectedActivity::from).collect(),
        since: done.since,
        dry_run: request.dry_run,
        details_backlog: 0,
        listing: done.check,
        pending_deletions,
        notes: done.notes,
        seconds: 0.0,
    };
    if let (Some(limit), false) = (request.details, request.dry_run) {
        report.details_backlog = fetch_details(store, client, limit, now, progress).await?;
        report.requests = client.requests() - requests_before;
    }
    report.seconds = wall.elapsed().as_secs_f64();
    Ok(report)
}

/// What one run of the sync did, before it is logged and reported.
struct Done {
    counts: SyncCounts,
    rejected: Vec<RejectedRow>,
    since: Option<Timestamp>,
    check: Option<ListingCheck>,
    notes: Vec<String>,
}

/// A listing as the sync holds it until it is written: as it arrived (an unpaged answer,
/// parsed a batch at a time while writing, so a long history is never held parsed whole) or
/// parsed already (pages and windows).
enum Items {
    Raw(RawListing),
    Parsed(Listing),
}

impl Items {
    fn len(&self) -> usize {
        match self {
            Items::Raw(raw) => raw.len(),
            Items::Parsed(listing) => listing.len(),
        }
    }

    fn parse_all(self) -> Listing {
        match self {
            Items::Raw(raw) => raw.parse_all(),
            Items::Parsed(listing) => listing,
        }
    }

    /// At most `size` items at a time, each batch parsed (or moved out) when it is reached.
    fn batches(self, size: usize) -> Box<dyn Iterator<Item = Listing> + Send> {
        match self {
            Items::Raw(raw) => Box::new(raw.into_chunks(size)),
            Items::Parsed(listing) => {
                let mut activities = listing.activities.into_iter();
                let mut rejected = Some(listing.rejected);
                Box::new(std::iter::from_fn(move || {
                    let batch = Listing {
                        activities: activities.by_ref().take(size).collect(),
                        rejected: rejected.take().unwrap_or_default(),
                    };
                    (!batch.is_empty()).then_some(batch)
                }))
            }
        }
    }
}

/// What a listing path hands to the writer and the reconciler.
struct Fetched {
    listing: Items,
    /// The ids that deletions are judged by (`None`: the listing's own, gathered while it is
    /// written), how they were read, and the window they cover.
    ids: Option<BTreeSet<i64>>,
    check: ListingCheck,
    window: Option<(Option<Date>, Option<Date>)>,
    since: Option<Timestamp>,
}

/// A batch made ready for the writer: its rows, its unreadable activities, and (when the sync
/// judges deletions by the listing itself) its ids.
struct Prepared {
    rows: Vec<RunRow>,
    rejected: Vec<RejectedRow>,
    ids: BTreeSet<i64>,
}

impl Prepared {
    fn of(batch: Listing, gather_ids: bool) -> Prepared {
        Prepared {
            ids: if gather_ids {
                ids_of(&batch)
            } else {
                BTreeSet::new()
            },
            rejected: rejected_rows(&batch),
            rows: batch.activities.into_iter().map(run_row).collect(),
        }
    }
}

/// What one sync does: its mode, the watermark an incremental one starts from, and the listing
/// already fetched, if any.
struct Plan {
    mode: SyncMode,
    watermark: Option<Timestamp>,
    prefetched: Option<Prefetched>,
}

async fn run(
    store: &mut impl RunMirror,
    client: &impl RunSource,
    request: &SyncRequest,
    plan: Plan,
    now: &(dyn Fn() -> Timestamp + Send + Sync),
    progress: &(dyn Fn(SyncEvent) + Send + Sync),
) -> Result<Done, SyncError> {
    let Plan {
        mode,
        watermark,
        prefetched,
    } = plan;
    let hints = ListingHints::load(store);
    let mut notes = Vec::new();
    let fetched = match mode {
        SyncMode::Full => {
            let fetched = match prefetched {
                Some(prefetched) => prefetched,
                None => every_run(client, &hints, progress).await,
            };
            notes.extend(fetched.notes);
            let (listing, check) = fetched.listing?;
            Fetched {
                ids: None,
                listing,
                check,
                window: None,
                since: None,
            }
        }
        SyncMode::Incremental => {
            let since = watermark
                .map(|w| w - SAFETY_MARGIN)
                .unwrap_or(Timestamp::UNIX_EPOCH);
            progress(SyncEvent::Fetching {
                what: format!(
                    "runs added or edited since {since}, and the list of run ids to notice deletions"
                ),
            });
            // the changes and the ids are asked for at once: one round trip, not two
            let mut id_notes = Vec::new();
            let (listing, ids) = tokio::join!(
                updated_listing(client, since, &hints, &mut notes),
                verified_ids(client, &hints, &mut id_notes)
            );
            notes.append(&mut id_notes);
            let listing = listing?;
            let (ids, check) = ids?;
            Fetched {
                listing: Items::Parsed(listing),
                ids: Some(ids),
                check,
                window: None,
                since: Some(since),
            }
        }
        SyncMode::Window { since, until } => {
            progress(SyncEvent::Fetching {
                what: describe_window(since, until),
            });
            let paged = client.window(since, until).await?;
            notes.extend(paged.problem.clone());
            let check = ListingCheck {
                method: "window",
                listed: paged.items.len() as u64,
                pages: paged.pages as u64,
                run_count: None,
                complete: paged.complete,
                verified: paged.complete,
            };
            Fetched {
                ids: Some(ids_of(&paged.items)),
                listing: Items::Parsed(paged.items),
                check,
                window: Some((since, until)),
                since: None,
            }
        }
    };
    let Fetched {
        listing,
        ids,
        check,
        window,
        since,
    } = fetched;
    progress(SyncEvent::Fetched {
        runs: listing.len(),
    });
    if request.dry_run {
        let listing = listing.parse_all();
        let rejected = rejected_rows(&listing);
        let stored: BTreeSet<i64> = store.run_ids(None, None)?.into_iter().collect();
        let added = listing
            .activities
            .iter()
            .filter(|a| !stored.contains(&a.id.get()))
            .count() as u64;
        let counts = SyncCounts {
            added,
            updated: listing.activities.len() as u64 - added,
            rejected: rejected.len() as u64,
            ..SyncCounts::default()
        };
        return Ok(Done {
            counts,
            rejected,
            since,
            check: Some(check),
            notes,
        });
    }
    progress(SyncEvent::Writing);
    // batches of BATCH runs. Each batch is parsed (or moved out of the listing) just before it
    // is written and freed after: a full listing is the largest thing a sync holds. The parsing
    // runs on a thread of its own, one batch ahead of the writer, so the two halves overlap.
    let mut counts = SyncCounts::default();
    let mut rejected = Vec::new();
    let mut listed_ids = BTreeSet::new();
    let listed = listing.len();
    let gather_ids = ids.is_none();
    let started = std::time::Instant::now();
    // one transaction for the whole listing, which is in hand: its commit is one checkpoint
    // straight into the file (see the store's `CHECKPOINT_AFTER`), where commits of 5,000 runs
    // each wrote the log and left the checkpoint to the close. A process stopped before it
    // loses the writes, never part of them; the next sync, not advanced by this one, redoes them
    store.group_writes(usize::MAX);
    let written = std::thread::scope(|scope| -> Result<_, SyncError> {
        // a rendezvous: the parser prepares the next batch while the writer writes this one,
        // and waits for the writer before it starts another (two batches held at most)
        let (send, prepared) = std::sync::mpsc::sync_channel::<Prepared>(0);
        let parser = scope.spawn(move || {
            let mut parsing = std::time::Duration::ZERO;
            let mut batches = listing.batches(BATCH);
            loop {
                let t = std::time::Instant::now();
                let Some(batch) = batches.next() else { break };
                let next = Prepared::of(batch, gather_ids);
                parsing += t.elapsed();
                if send.send(next).is_err() {
                    break; // the writer stopped on an error: it reports it
                }
            }
            parsing
        });
        let mut writing = std::time::Duration::ZERO;
        for batch in prepared {
            listed_ids.extend(batch.ids);
            let write = std::time::Instant::now();
            counts.add(store.apply(&batch.rows, &batch.rejected, now())?);
            writing += write.elapsed();
            rejected.extend(batch.rejected);
        }
        let parsing = parser
            .join()
            .map_err(|_| SyncError::Stopped("the listing's parser"))?;
        Ok((writing, parsing))
    });
    // settled before the error is looked at: a batch the store failed to write has rolled the
    // whole transaction back already (the next sync redoes it); what was written before the
    // parser stopped is kept
    let settle = std::time::Instant::now();
    let settled = store.settle();
    let (appending, parsing) = written?;
    settled?;
    let commit_ms = settle.elapsed().as_secs_f64() * 1000.0;
    let ms = appending.as_secs_f64() * 1000.0 + commit_ms;
    let parse_ms = parsing.as_secs_f64() * 1000.0;
    let total_ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::debug!(
        runs = listed,
        ms,
        commit_ms,
        parse_ms,
        total_ms,
        "wrote {listed} runs in {ms:.0} ms (the commit into the file {commit_ms:.0} ms of it; parsed in {parse_ms:.0} ms, beside it; {total_ms:.0} ms in all)"
    );
    let ids = ids.unwrap_or(listed_ids);
    counts.deleted = reconcile(store, &ids, &check, window, request, now(), &mut notes)?;
    Ok(Done {
        counts,
        rejected,
        since,
        check: Some(check),
        notes,
    })
}

/// What `myrunstreak doctor` found out about this runner's SmashRun, kept in the store's meta
/// table: a hint for later syncs (page from the start, at the page size SmashRun honours),
/// never a replacement for verifying each listing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct ListingHints {
    /// The unpaged listing was seen to stop short of everything.
    #[serde(default)]
    pub unpaged_capped: bool,
    /// The largest page SmashRun was seen to honour, when below what the client asks for.
    #[serde(default)]
    pub page_cap: Option<usize>,
}

impl ListingHints {
    /// The meta key the doctor's findings are kept under.
    pub const META_KEY: &'static str = "doctor.hints";

    /// The stored hints; none when there are none or they cannot be read (they are only hints).
    pub fn load(store: &impl RunMirror) -> ListingHints {
        store
            .meta(Self::META_KEY)
            .ok()
            .flatten()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default()
    }

    fn page_size(&self, client: &impl RunSource) -> usize {
        let asked = client.style().page_size;
        self.page_cap
            .map_or(asked, |cap| cap.clamp(1, asked.max(1)))
    }

    fn try_unpaged(&self, client: &impl RunSource) -> bool {
        client.style().unpaged && !self.unpaged_capped
    }
}

/// Whether an unpaged answer of `n` items can be believed, given SmashRun's count: `Err` says
/// why not.
pub fn judge_unpaged(n: usize, run_count: Option<u64>) -> Result<(), String> {
    if TYPICAL_PAGE_SIZES.contains(&n) {
        return Err(format!(
            "unpaged listing returned {n}{}, exactly a typical page size",
            run_count.map(|c| format!(" of {c}")).unwrap_or_default()
        ));
    }
    match run_count {
        Some(c) if c == n as u64 => Ok(()),
        Some(c) => Err(format!("unpaged listing returned {n} of {c}")),
        None => Err(format!(
            "unpaged listing returned {n} and SmashRun's runCount could not be read to check it"
        )),
    }
}

/// SmashRun's count, or a note saying why it is missing.
async fn run_count(
    client: &impl RunSource,
    notes: &mut Vec<String>,
) -> Result<Option<u64>, SyncError> {
    match client.run_count().await {
        Ok(Some(c)) => Ok(Some(c)),
        Ok(None) => {
            notes.push("SmashRun's /my/stats has no runCount".into());
            Ok(None)
        }
        Err(e @ (ClientError::Reauthorize { .. } | ClientError::Unauthorized { .. })) => {
            Err(e.into())
        }
        Err(e) => {
            notes.push(format!("SmashRun's runCount could not be read ({e})"));
            Ok(None)
        }
    }
}

/// An unpaged attempt that failed: page instead when paging may do better.
fn unpaged_failed(e: ClientError, notes: &mut Vec<String>) -> Result<(), SyncError> {
    if !e.worth_paging() {
        return Err(e.into());
    }
    notes.push(format!("unpaged listing failed ({e}); paged instead"));
    Ok(())
}

/// Says what a complete paged listing and SmashRun's count disagree on: the listing stands.
fn compare_with_count(listed: usize, check: &ListingCheck, notes: &mut Vec<String>) {
    if let (true, Some(c)) = (check.complete, check.run_count)
        && c != listed as u64
    {
        notes.push(format!(
            "SmashRun counts {c} runs but its complete paged listing has {listed}: the listing stands; runs it lacks are not deleted beyond the usual guard, and held ones are not confirmed"
        ));
    }
}

/// A listing read the way SmashRun's contested behaviour demands: `unpaged` once, believed only
/// when [`judge_unpaged`] accepts its size against `runCount`; otherwise `paged` to an empty page,
/// checked against the same count.
async fn verified<T>(
    client: &impl RunSource,
    hints: &ListingHints,
    notes: &mut Vec<String>,
    unpaged: impl AsyncFnOnce() -> Result<T, ClientError>,
    paged: impl AsyncFnOnce(usize) -> Result<Paged<T>, ClientError>,
    len: impl Fn(&T) -> usize,
) -> Result<(T, ListingCheck), SyncError> {
    let mut count = None;
    if hints.try_unpaged(client) {
        // the count is asked for beside the listing, not after it: against a slow SmashRun the
        // verification then costs no round trip of its own
        let mut count_notes = Vec::new();
        let (listed, counted) = tokio::join!(unpaged(), run_count(client, &mut count_notes));
        notes.append(&mut count_notes);
        match listed {
            Ok(items) => {
                count = counted?;
                match judge_unpaged(len(&items), count) {
                    Ok(()) => {
                        let check = ListingCheck {
                            method: "unpaged",
                            listed: len(&items) as u64,
                            pages: 0,
                            run_count: count,
                            complete: true,
                            verified: true,
                        };
                        return Ok((items, check));
                    }
                    Err(doubt) => notes.push(format!("{doubt}; paged instead")),
                }
            }
            Err(e) => {
                unpaged_failed(e, notes)?;
                count = counted?;
            }
        }
    } else {
        notes.push(
            "paged from the start: `myrunstreak doctor` saw the unpaged listing capped".into(),
        );
    }
    let paged = paged(hints.page_size(client)).await?;
    if count.is_none() {
        count = run_count(client, notes).await?;
    }
    notes.extend(paged.problem.clone());
    let listed = len(&paged.items);
    let check = ListingCheck {
        method: "paged",
        listed: listed as u64,
        pages: paged.pages as u64,
        run_count: count,
        complete: paged.complete,
        verified: paged.complete && count == Some(listed as u64),
    };
    compare_with_count(listed, &check, notes);
    Ok((paged.items, check))
}

/// Every run: unpaged and verified against `runCount`, else paged to an empty page.
async fn full_listing(
    client: &impl RunSource,
    hints: &ListingHints,
    notes: &mut Vec<String>,
) -> Result<(Items, ListingCheck), SyncError> {
    let unpaged = async || client.unpaged_listing(None).await.map(Items::Raw);
    let paged = async |size| {
        let p = client.paged_listing(None, size).await?;
        Ok(Paged {
            items: Items::Parsed(p.items),
            pages: p.pages,
            complete: p.complete,
            problem: p.problem,
        })
    };
    verified(client, hints, notes, unpaged, paged, Items::len).await
}

/// Runs created or updated since `since`: unpaged unless the answer looks like one capped page.
async fn updated_listing(
    client: &impl RunSource,
    since: Timestamp,
    hints: &ListingHints,
    notes: &mut Vec<String>,
) -> Result<Listing, SyncError> {
    if hints.try_unpaged(client) {
        match client.unpaged_listing(Some(since)).await {
            Ok(listing) if !TYPICAL_PAGE_SIZES.contains(&listing.len()) => {
                return Ok(listing.parse_all());
            }
            Ok(listing) => notes.push(format!(
                "unpaged listing of recent changes returned exactly {}, a typical page size; paged instead",
                listing.len()
            )),
            Err(e) => unpaged_failed(e, notes)?,
        }
    }
    let paged = client
        .paged_listing(Some(since), hints.page_size(client))
        .await?;
    if let Some(problem) = paged.problem {
        // an incomplete list of changes would lose edits silently: fail, keep the watermark
        return Err(SyncError::IncompleteListing { problem });
    }
    Ok(paged.items)
}

/// Every id, unpaged and verified against `runCount`, else paged to an empty page.
async fn verified_ids(
    client: &impl RunSource,
    hints: &ListingHints,
    notes: &mut Vec<String>,
) -> Result<(BTreeSet<i64>, ListingCheck), SyncError> {
    let unpaged = async || client.unpaged_ids().await;
    let paged = async |size| client.paged_ids(size).await;
    let (ids, check) = verified(client, hints, notes, unpaged, paged, Vec::len).await?;
    Ok((ids.into_iter().collect(), check))
}

/// What to tell the runner about runs held as pending deletion, if any: they still count, and
/// what confirms or releases them.
pub fn pending_notice(pending: &[HeldRun]) -> Option<String> {
    let since = pending.iter().map(|p| p.missing_since).min()?;
    let days: BTreeSet<Date> = pending.iter().map(|p| p.run_date).collect();
    let (first, last) = (days.first()?, days.last()?);
    let span = if first == last {
        format!("from {first}")
    } else {
        format!("from {first} to {last}")
    };
    Some(format!(
        "{n} run{s} {span} {are} missing from SmashRun's listing since {since} and held as pending deletion: {they} still count. If SmashRun lists {them} again nothing is lost; a verified listing a day after the first miss confirms the deletion; if you deleted {them} on purpose, run `myrunstreak sync --full --allow-mass-delete`.",
        n = pending.len(),
        s = if pending.len() == 1 { "" } else { "s" },
        are = if pending.len() == 1 { "is" } else { "are" },
        they = if pending.len() == 1 { "it" } else { "they" },
        them = if pending.len() == 1 { "it" } else { "them" },
        since = since.strftime("%Y-%m-%d %H:%M UTC"),
    ))
}

/// Counts the requests of syncs that ended within the last hour against the client's budget: a
/// new process must not start with SmashRun's whole hourly allowance when an earlier one spent it.
pub fn preload_budget(
    store: &impl RunMirror,
    client: &impl RunSource,
    now: Timestamp,
) -> Result<(), SyncError> {
    for record in store.sync_log(50)? {
        let Some(ended) = record.finished else {
            continue;
        };
        let age = now.duration_since(ended);
        if age.is_negative() || age >= SignedDuration::from_hours(1) || record.requests == 0 {
            continue;
        }
        client.preload_budget(record.requests as usize, age.unsigned_abs());
    }
    Ok(())
}

fn describe_window(since: Option<Date>, until: Option<Date>) -> String {
    match (since, until) {
        (Some(s), Some(u)) => format!("runs from {s} to {u}"),
        (Some(s), None) => format!("runs since {s}"),
        (None, Some(u)) => format!("runs until {u}"),
        (None, None) => "every run".into(),
    }
}

/// The activities of `listing` that could not be read, as kept, each reported in the log.
fn rejected_rows(listing: &Listing) -> Vec<RejectedRow> {
    let rejected: Vec<RejectedRow> = listing.rejected.iter().map(rejected_row).collect();
    for r in &rejected {
        tracing::warn!(activity_id = ?r.activity_id, "kept an unreadable activity raw: {}", r.reason);
    }
    rejected
}

fn ids_of(listing: &Listing) -> BTreeSet<i64> {
    listing
        .activities
        .iter()
        .map(|a| a.id.get())
        .chain(listing.rejected.iter().filter_map(|r| r.activity_id))
        .collect()
}

/// Marks deleted the stored runs SmashRun no longer lists (within the window, if any), as far
/// as the evidence goes:
/// - an incomplete listing deletes nothing;
/// - up to [`DeletionGuard::limit`] runs go at once;
/// - beyond that, runs are held as pending deletion (they still count) and confirmed only by a
///   verified listing at least [`DeletionGuard::confirm_after`] after the first that lacked them,
///   or at once when the runner allows a mass deletion;
/// - a held run that is listed again is released.
fn reconcile(
    store: &mut impl RunMirror,
    listed: &BTreeSet<i64>,
    check: &ListingCheck,
    window: Option<(Option<Date>, Option<Date>)>,
    request: &SyncRequest,
    now: Timestamp,
    notes: &mut Vec<String>,
) -> Result<u64, SyncError> {
    let (since, until) = window.unwrap_or((None, None));
    let live = store.live_runs_missing_since(since, until)?;
    let released: Vec<i64> = live
        .iter()
        .filter(|(id, held)| held.is_some() && listed.contains(id))
        .map(|(id, _)| *id)
        .collect();
    store.clear_missing(&released)?;
    if !released.is_empty() {
        notes.push(format!(
            "{} runs held as pending deletion are listed again and stay",
            released.len()
        ));
    }
    let missing: Vec<(i64, Option<Timestamp>)> = live
        .into_iter()
        .filter(|(id, _)| !listed.contains(id))
        .collect();
    if missing.is_empty() {
        return Ok(0);
    }
    if !check.complete {
        notes.push(format!(
            "the listing may be incomplete, so none of the {} runs it lacks is marked deleted",
            missing.len()
        ));
        return Ok(0);
    }
    let stored = store.count()?;
    if listed.is_empty() && window.is_none() && !request.allow_mass_delete {
        return Err(SyncError::EmptyListing { stored });
    }
    let limit = request.guard.limit(stored);
    let ids =
        |runs: &[(i64, Option<Timestamp>)]| runs.iter().map(|(id, _)| *id).collect::<Vec<_>>();
    if missing.len() as u64 <= limit || request.allow_mass_delete {
        return Ok(store.mark_deleted(&ids(&missing), now)?);
    }
    let due = now - request.guard.confirm_after;
    let (confirmed, held): (Vec<_>, Vec<_>) = missing
        .into_iter()
        .partition(|(_, since)| check.verified && since.is_some_and(|s| s <= due));
    store.hold_missing(&ids(&held), now)?;
    if !held.is_empty() {
        notes.push(format!(
            "SmashRun's listing lacks {} runs, more than the {limit} one sync may delete: they are held as pending deletion and still count. A verified listing at least {} h from now confirms them, or run `myrunstreak sync --full --allow-mass-delete` if you deleted them",
            held.len(),
            request.guard.confirm_after.as_hours()
        ));
    }
    let deleted = store.mark_deleted(&ids(&confirmed), now)?;
    if deleted > 0 {
        notes.push(format!(
            "{deleted} runs held as pending deletion were still missing a day later and are now marked deleted"
        ));
    }
    Ok(deleted)
}

async fn fetch_details(
    store: &mut impl RunMirror,
    client: &impl RunSource,
    limit: usize,
    now: &(dyn Fn() -> Timestamp + Send + Sync),
    progress: &(dyn Fn(SyncEvent) + Send + Sync),
) -> Result<u64, SyncError> {
    let ids = store.ids_without_details(limit)?;
    let total = ids.len();
    // three requests a run, at SmashRun's budget of 240 an hour
    let eta = |left: u64| Duration::from_secs(left.saturating_mul(3 * 3600) / 240);
    // counted once: every run saved below leaves the backlog
    let before = store.details_backlog()?;
    let mut saved = 0u64;
    'runs: for (done, id) in ids.into_iter().enumerate() {
        let backlog = before.saturating_sub(saved);
        progress(SyncEvent::Details {
            done,
            total,
            backlog,
            eta: eta(backlog),
        });
        let full = match client.activity(id).await {
            Ok(v) => v,
            Err(ClientError::NotFound { .. }) => continue,
            // unreadable even after retries: it stays in the backlog for a later sync and must
            // not hold up the runs behind it
            Err(e @ ClientError::Decode { .. }) => {
                tracing::warn!(activity_id = id, "details left for a later sync: {e}");
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let mut splits = Vec::new();
        for unit in [SplitUnit::Km, SplitUnit::Mi] {
            let rows = match client.splits(id, unit).await {
                Ok(rows) => rows,
                Err(e @ ClientError::Decode { .. }) => {
                    tracing::warn!(activity_id = id, "splits left for a later sync: {e}");
                    continue 'runs;
                }
                Err(e) => return Err(e.into()),
            };
            let rows: Vec<[Option<f64>; 6]> = rows
                .iter()
                .map(|s| {
                    [
                        Some(s.distance),
                        Some(s.seconds),
                        s.speed,
                        s.heart_rate,
                        s.elevation_gain,
                        s.elevation_loss,
                    ]
                })
                .collect();
            splits.push((unit.as_str().to_owned(), rows));
        }
        store.save_details(id, &full.to_string(), &splits, now())?;
        saved += 1;
    }
    let backlog = store.details_backlog()?;
    progress(SyncEvent::Details {
        done: total,
        total,
        backlog,
        eta: eta(backlog),
    });
    Ok(backlog)
}

/// The store's row for a parsed activity.
pub fn run_row(a: Activity) -> RunRow {
    RunRow {
        activity_id: a.id.get(),
        start_local: a.start_local,
        start: a.start,
        distance: a.distance,
        duration_s: a.duration_s,
        attributes: a.attributes,
        synced_at: a.synced_at,
        created_at: a.created_at,
        updated_at: a.updated_at,
        raw_json: a.raw,
    }
}

fn rejected_row(r: &Rejected) -> RejectedRow {
    RejectedRow {
        activity_id: r.activity_id,
        reason: r.reason.clone(),
        raw_json: r.raw.clone(),
    }
}
