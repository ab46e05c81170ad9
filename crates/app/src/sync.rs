//! The sync service: one way to mirror SmashRun into the store, used by every shell.
//!
//! - incremental (default): runs created or updated since the last successful sync's start,
//!   minus a safety margin (`fromDateUTC`, so late uploads and edits of old runs come too), and
//!   a listing of ids to notice deletions: two requests when nothing changed;
//! - full: everything (one unpaged request where possible), then deletions reconciled;
//! - window: runs whose run day is within `since..=until` (SmashRun has no such filter, the
//!   client pages and stops), deletions reconciled within the window.
//!
//! A sync writes its runs in batches, each one transaction (appender into a staging table, one
//! merge), and advances the watermark only when it succeeds: kill it at any moment and the file
//! holds whole batches only, and the next sync finishes the work (writes are idempotent).

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use myrunstreak_store::{
    RejectedRow, RunRow, Store, StoreError, SyncCounts, SyncOutcome, SyncStatus,
};
use serde::Serialize;
use smashrun_client::{
    Activity, Error as ClientError, Listing, Rejected, SmashRunClient, SplitUnit,
};
use thiserror::Error;

/// Runs written per transaction.
pub const BATCH: usize = 1000;

/// How much before the last successful sync an incremental sync starts looking: clocks differ.
pub const SAFETY_MARGIN: SignedDuration = SignedDuration::from_hours(1);

/// Which runs to fetch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum SyncMode {
    /// What changed since the last successful sync.
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
    fn name(self) -> &'static str {
        match self {
            SyncMode::Incremental => "incremental",
            SyncMode::Full => "full",
            SyncMode::Window { .. } => "window",
        }
    }
}

/// What to do.
#[derive(Clone, Debug)]
pub struct SyncRequest {
    /// Which runs.
    pub mode: SyncMode,
    /// Fetch but write nothing.
    pub dry_run: bool,
    /// Also fetch full activities and splits, at most this many runs' worth this time.
    pub details: Option<usize>,
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
    pub counts: SyncCounts,
    /// Requests sent to SmashRun.
    pub requests: u64,
    /// Runs in the database afterwards.
    pub total_runs: u64,
    /// Activities that could not be read, kept raw.
    pub rejected: Vec<RejectedRow>,
    /// Runs updated since this instant were asked for.
    pub since: Option<Timestamp>,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Details still to fetch.
    pub details_backlog: u64,
    /// Wall time in seconds.
    pub seconds: f64,
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
    /// A listing that would delete everything is not believed.
    #[error(
        "SmashRun listed no runs at all while {stored} are stored; refusing to mark them deleted. If you really deleted every run, run `sync --full` again later"
    )]
    EmptyListing {
        /// Runs stored.
        stored: u64,
    },
}

/// Mirrors SmashRun into `store` as `request` says. `now` is read at the start (it becomes the
/// watermark) and for record times.
pub async fn sync(
    store: &mut Store,
    client: &SmashRunClient,
    request: &SyncRequest,
    now: &(dyn Fn() -> Timestamp + Send + Sync),
    progress: &(dyn Fn(SyncEvent) + Send + Sync),
) -> Result<SyncReport, SyncError> {
    let started = now();
    let wall = std::time::Instant::now();
    preload_budget(store, client, started)?;
    let requests_before = client.requests();
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
        mode,
        last.and_then(|l| l.watermark),
        now,
        progress,
    )
    .await;
    let requests = client.requests() - requests_before;
    let (counts, rejected, since) = match result {
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
    if let Some(id) = sync_id {
        let outcome = SyncOutcome {
            status: SyncStatus::Ok,
            finished: now(),
            counts,
            requests,
            watermark,
            error: None,
        };
        store.finish_sync(id, &outcome)?;
    }
    let mut report = SyncReport {
        sync_id,
        mode,
        counts,
        requests,
        total_runs: store.count()?,
        rejected,
        since,
        dry_run: request.dry_run,
        details_backlog: 0,
        seconds: 0.0,
    };
    if let (Some(limit), false) = (request.details, request.dry_run) {
        report.details_backlog = fetch_details(store, client, limit, now, progress).await?;
        report.requests = client.requests() - requests_before;
    }
    report.seconds = wall.elapsed().as_secs_f64();
    Ok(report)
}

async fn run(
    store: &mut Store,
    client: &SmashRunClient,
    request: &SyncRequest,
    mode: SyncMode,
    watermark: Option<Timestamp>,
    now: &(dyn Fn() -> Timestamp + Send + Sync),
    progress: &(dyn Fn(SyncEvent) + Send + Sync),
) -> Result<(SyncCounts, Vec<RejectedRow>, Option<Timestamp>), SyncError> {
    let (listing, listed_ids, since) = match mode {
        SyncMode::Full => {
            progress(SyncEvent::Fetching {
                what: "every run".into(),
            });
            let listing = client.all_activities().await?;
            let ids = ids_of(&listing);
            (listing, Some((ids, None)), None)
        }
        SyncMode::Incremental => {
            let since = watermark
                .map(|w| w - SAFETY_MARGIN)
                .unwrap_or(Timestamp::UNIX_EPOCH);
            progress(SyncEvent::Fetching {
                what: format!("runs added or edited since {since}"),
            });
            let listing = client.updated_since(since).await?;
            progress(SyncEvent::Fetching {
                what: "the list of run ids, to notice deletions".into(),
            });
            let ids: BTreeSet<i64> = client.all_ids().await?.into_iter().collect();
            (listing, Some((ids, None)), Some(since))
        }
        SyncMode::Window { since, until } => {
            progress(SyncEvent::Fetching {
                what: describe_window(since, until),
            });
            let listing = client.activities_between(since, until).await?;
            let ids = ids_of(&listing);
            (listing, Some((ids, Some((since, until)))), None)
        }
    };
    progress(SyncEvent::Fetched {
        runs: listing.len(),
    });
    let rejected: Vec<RejectedRow> = listing.rejected.iter().map(rejected_row).collect();
    for r in &rejected {
        tracing::warn!(activity_id = ?r.activity_id, "kept an unreadable activity raw: {}", r.reason);
    }
    if request.dry_run {
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
        return Ok((counts, rejected, since));
    }
    progress(SyncEvent::Writing);
    // moved, not copied: a full listing is the largest thing a sync holds
    let rows: Vec<RunRow> = listing.activities.into_iter().map(run_row).collect();
    // batches of BATCH runs, each one transaction: DuckDB holds a transaction's rows in memory,
    // and a whole listing at once cost 20 MB more at 10,000 runs (scripts/bench-sync)
    let mut counts = SyncCounts {
        rejected: rejected.len() as u64,
        ..SyncCounts::default()
    };
    for (i, chunk) in rows.chunks(BATCH).enumerate() {
        let batch_rejected: &[RejectedRow] = if i == 0 { &rejected } else { &[] };
        let mut c = store.apply(chunk, batch_rejected, now())?;
        c.rejected = 0;
        counts.add(c);
    }
    drop(rows);
    if let Some((ids, window)) = listed_ids {
        counts.deleted = reconcile(store, &ids, window, now())?;
    }
    Ok((counts, rejected, since))
}

/// Counts the requests of syncs that ended within the last hour against the client's budget: a
/// new process must not start with SmashRun's whole hourly allowance when an earlier one spent it.
pub fn preload_budget(
    store: &Store,
    client: &SmashRunClient,
    now: Timestamp,
) -> Result<(), SyncError> {
    let instant_now = tokio::time::Instant::now();
    for record in store.sync_log(50)? {
        let Some(ended) = record.finished else {
            continue;
        };
        let age = now.duration_since(ended);
        if age.is_negative() || age >= SignedDuration::from_hours(1) || record.requests == 0 {
            continue;
        }
        let at = instant_now
            .checked_sub(age.unsigned_abs())
            .unwrap_or(instant_now);
        client.budget().preload(record.requests as usize, at);
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

fn ids_of(listing: &Listing) -> BTreeSet<i64> {
    listing
        .activities
        .iter()
        .map(|a| a.id.get())
        .chain(listing.rejected.iter().filter_map(|r| r.activity_id))
        .collect()
}

/// Marks deleted the stored runs SmashRun no longer lists (within the window, if any).
fn reconcile(
    store: &mut Store,
    listed: &BTreeSet<i64>,
    window: Option<(Option<Date>, Option<Date>)>,
    now: Timestamp,
) -> Result<u64, SyncError> {
    let stored = store.count()?;
    if listed.is_empty() && stored > 0 && window.is_none() {
        return Err(SyncError::EmptyListing { stored });
    }
    let keep: Vec<i64> = match window {
        None => listed.iter().copied().collect(),
        // outside the window everything stays: list it as kept
        Some((since, until)) => {
            let inside: BTreeSet<i64> = store.run_ids(since, until)?.into_iter().collect();
            store
                .run_ids(None, None)?
                .into_iter()
                .filter(|id| !inside.contains(id) || listed.contains(id))
                .collect()
        }
    };
    Ok(store.mark_missing_deleted(&keep, now)?)
}

async fn fetch_details(
    store: &mut Store,
    client: &SmashRunClient,
    limit: usize,
    now: &(dyn Fn() -> Timestamp + Send + Sync),
    progress: &(dyn Fn(SyncEvent) + Send + Sync),
) -> Result<u64, SyncError> {
    let ids = store.ids_without_details(limit)?;
    let total = ids.len();
    // three requests a run, at SmashRun's budget of 240 an hour
    let eta = |left: u64| Duration::from_secs(left * 3 * 3600 / 240);
    // counted once: every run saved below leaves the backlog
    let before = store.details_backlog()?;
    let mut saved = 0u64;
    for (done, id) in ids.into_iter().enumerate() {
        let backlog = before - saved;
        progress(SyncEvent::Details {
            done,
            total,
            backlog,
            eta: eta(backlog),
        });
        let full = match client.activity(id).await {
            Ok(v) => v,
            Err(ClientError::NotFound { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        let mut splits = Vec::new();
        for unit in [SplitUnit::Km, SplitUnit::Mi] {
            let rows = client.splits(id, unit).await?;
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
        activity_type: a.activity_type,
        calories: a.calories,
        notes: a.notes,
        external_id: a.external_id,
        source: a.source,
        app_version: a.app_version,
        device_type: a.device_type,
        has_details: a.has_details,
        has_details_gps: a.has_details_gps,
        start_latitude: a.start_latitude,
        start_longitude: a.start_longitude,
        heart_rate_min: a.heart_rate_min,
        heart_rate_max: a.heart_rate_max,
        heart_rate_average: a.heart_rate_average,
        cadence_min: a.cadence_min,
        cadence_max: a.cadence_max,
        cadence_average: a.cadence_average,
        weather_type: a.weather_type,
        temperature: a.temperature,
        temperature_apparent: a.temperature_apparent,
        temperature_wind_chill: a.temperature_wind_chill,
        humidity: a.humidity,
        wind_speed: a.wind_speed,
        how_felt: a.how_felt,
        terrain: a.terrain,
        is_race: a.is_race,
        is_treadmill: a.is_treadmill,
        is_bad_hr: a.is_bad_hr,
        is_bad_elevation: a.is_bad_elevation,
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
