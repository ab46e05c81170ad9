//! The application's own answer types: what the CLI's `--json`, the HTTP API and the dashboard
//! serialize. They are built from the store's rows here, so that a change in how the store keeps
//! something never changes an answer by accident (the JSON shapes are checked by the API tests).

use jiff::Timestamp;
use jiff::civil::Date;
use myrunstreak_domain::Distance;
use myrunstreak_store::{
    PendingDeletion, RejectedRow, StoredRun, SyncCounts, SyncRecord, SyncStatus,
};
use serde::Serialize;

/// A stored run, as listed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RunItem {
    /// SmashRun's id.
    pub activity_id: i64,
    /// `startDateTimeLocal` as SmashRun wrote it.
    pub start_local: String,
    /// The run day: the local date of the start.
    pub date: Date,
    /// Kilometres with 5 decimals.
    pub distance_km: f64,
    /// Moving time in seconds.
    pub duration_s: Option<f64>,
    /// Where it came from.
    pub source: Option<String>,
    /// Treadmill run.
    pub is_treadmill: bool,
    /// Deleted on SmashRun.
    pub deleted: bool,
    /// `running`, `walking`, ...
    pub activity_type: Option<String>,
    /// The runner's text, untrusted.
    pub notes: Option<String>,
    /// Calories.
    pub calories: Option<i64>,
    /// Average heart rate.
    pub heart_rate_average: Option<f64>,
    /// Weather, as SmashRun names it.
    pub weather_type: Option<String>,
    /// How the runner felt.
    pub how_felt: Option<String>,
    /// Terrain.
    pub terrain: Option<String>,
    /// A race.
    pub is_race: bool,
    /// The object as received (not serialized: the API's `/runs/{id}` answers it separately).
    #[serde(skip)]
    pub raw_json: String,
    /// SmashRun wrote the start without a UTC offset: its date is as written, its instant assumes
    /// the home zone's offset, else UTC.
    pub offset_assumed: bool,
}

impl From<StoredRun> for RunItem {
    fn from(r: StoredRun) -> Self {
        RunItem {
            activity_id: r.activity_id,
            start_local: r.start_local,
            date: r.date,
            distance_km: r.distance_km,
            duration_s: r.duration_s,
            source: r.source,
            is_treadmill: r.is_treadmill,
            deleted: r.deleted,
            activity_type: r.activity_type,
            notes: r.notes,
            calories: r.calories,
            heart_rate_average: r.heart_rate_average,
            weather_type: r.weather_type,
            how_felt: r.how_felt,
            terrain: r.terrain,
            is_race: r.is_race,
            raw_json: r.raw_json,
            offset_assumed: r.offset_assumed,
        }
    }
}

/// What a sync changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ChangeCounts {
    /// New runs.
    pub added: u64,
    /// Changed runs.
    pub updated: u64,
    /// Runs marked deleted.
    pub deleted: u64,
    /// Activities kept raw because they could not be read.
    pub rejected: u64,
    /// Runs seen again unchanged.
    pub unchanged: u64,
}

impl From<SyncCounts> for ChangeCounts {
    fn from(c: SyncCounts) -> Self {
        ChangeCounts {
            added: c.added,
            updated: c.updated,
            deleted: c.deleted,
            rejected: c.rejected,
            unchanged: c.unchanged,
        }
    }
}

/// How a sync ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// Still running (or killed, until the next open).
    Running,
    /// Finished.
    Ok,
    /// Failed with an error.
    Failed,
    /// The process stopped before it finished.
    Interrupted,
}

impl From<SyncStatus> for SyncState {
    fn from(s: SyncStatus) -> Self {
        match s {
            SyncStatus::Running => SyncState::Running,
            SyncStatus::Ok => SyncState::Ok,
            SyncStatus::Failed => SyncState::Failed,
            SyncStatus::Interrupted => SyncState::Interrupted,
        }
    }
}

/// One line of the sync log.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SyncEntry {
    /// Its number.
    pub sync_id: i64,
    /// `incremental`, `full` or `window`.
    pub mode: String,
    /// When it started.
    pub started: Timestamp,
    /// When it ended.
    pub finished: Option<Timestamp>,
    /// How it ended.
    pub status: SyncState,
    /// Requests sent to SmashRun.
    pub requests: u64,
    /// What changed.
    pub counts: ChangeCounts,
    /// Runs updated since this instant were asked for.
    pub watermark: Option<Timestamp>,
    /// The error, when it failed.
    pub error: Option<String>,
    /// Runs held as pending deletion after it.
    pub pending_deletions: u64,
    /// What it observed of SmashRun's listing.
    pub listing_note: Option<String>,
}

impl From<SyncRecord> for SyncEntry {
    fn from(r: SyncRecord) -> Self {
        SyncEntry {
            sync_id: r.sync_id,
            mode: r.mode,
            started: r.started,
            finished: r.finished,
            status: r.status.into(),
            requests: r.requests,
            counts: r.counts.into(),
            watermark: r.watermark,
            error: r.error,
            pending_deletions: r.pending_deletions,
            listing_note: r.listing_note,
        }
    }
}

/// A run that a complete listing lacked, held back from deletion until there is more evidence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HeldRun {
    /// SmashRun's id.
    pub activity_id: i64,
    /// Its run day.
    pub run_date: Date,
    /// Its distance.
    pub distance: Distance,
    /// Since when complete listings have lacked it.
    pub missing_since: Timestamp,
}

impl From<PendingDeletion> for HeldRun {
    fn from(p: PendingDeletion) -> Self {
        HeldRun {
            activity_id: p.activity_id,
            run_date: p.run_date,
            distance: p.distance,
            missing_since: p.missing_since,
        }
    }
}

/// An activity that could not be read, kept raw.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RejectedActivity {
    /// Its id, when readable.
    pub activity_id: Option<i64>,
    /// Why it was rejected.
    pub reason: String,
    /// The object as received.
    pub raw_json: String,
}

impl From<&RejectedRow> for RejectedActivity {
    fn from(r: &RejectedRow) -> Self {
        RejectedActivity {
            activity_id: r.activity_id,
            reason: r.reason.clone(),
            raw_json: r.raw_json.clone(),
        }
    }
}
