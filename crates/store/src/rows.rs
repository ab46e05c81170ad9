use jiff::Timestamp;
use jiff::civil::Date;
use myrunstreak_domain::{Distance, LocalStart, RunAttributes};
use serde::Serialize;

/// One run to store: every typed column, and the raw JSON as received.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRow {
    /// SmashRun's id.
    pub activity_id: i64,
    /// `startDateTimeLocal` exactly as written.
    pub start_local: String,
    /// The parsed start: wall time and offset, and whether the offset was assumed (SmashRun
    /// wrote none): stored as `runs.offset_assumed`.
    pub start: LocalStart,
    /// Distance at 5 decimals.
    pub distance: Distance,
    /// Moving time in seconds.
    pub duration_s: Option<f64>,
    /// Everything else SmashRun said of the run: one column of `runs` each, named after the field.
    pub attributes: RunAttributes,
    /// `syncDateTimeUTC`.
    pub synced_at: Option<Timestamp>,
    /// `dateCreatedUTC`.
    pub created_at: Option<Timestamp>,
    /// `dateUpdatedUTC`.
    pub updated_at: Option<Timestamp>,
    /// The object as received.
    pub raw_json: String,
}

/// An activity that could not be read, kept raw.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RejectedRow {
    /// Its id, when readable.
    pub activity_id: Option<i64>,
    /// Why it was rejected.
    pub reason: String,
    /// The object as received.
    pub raw_json: String,
}

impl RejectedRow {
    /// The id, or a stable hash of the raw text when there is no id.
    pub(crate) fn key(&self) -> String {
        match self.activity_id {
            Some(id) => id.to_string(),
            None => {
                // FNV-1a: stable across builds, unlike std's hasher
                let mut h: u64 = 0xcbf2_9ce4_8422_2325;
                for b in self.raw_json.as_bytes() {
                    h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
                }
                format!("raw:{h:016x}")
            }
        }
    }
}

/// A stored run, as listed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StoredRun {
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
    #[allow(missing_docs)]
    pub activity_type: Option<String>,
    /// The runner's text, untrusted.
    pub notes: Option<String>,
    #[allow(missing_docs)]
    pub calories: Option<i64>,
    #[allow(missing_docs)]
    pub heart_rate_average: Option<f64>,
    #[allow(missing_docs)]
    pub weather_type: Option<String>,
    #[allow(missing_docs)]
    pub how_felt: Option<String>,
    #[allow(missing_docs)]
    pub terrain: Option<String>,
    #[allow(missing_docs)]
    pub is_race: bool,
    /// The object as received.
    #[serde(skip)]
    pub raw_json: String,
    /// SmashRun wrote the start without a UTC offset: its date is as written, its instant (and
    /// so its place in the order of runs) assumes the home zone's offset, else UTC.
    pub offset_assumed: bool,
}

/// Which runs to list.
#[derive(Clone, Debug, Default)]
pub struct RunFilter {
    /// First run day.
    pub since: Option<Date>,
    /// Last run day.
    pub until: Option<Date>,
    /// At most this many.
    pub limit: Option<usize>,
    /// Skip this many (with a limit).
    pub offset: usize,
    /// Deleted ones too.
    pub include_deleted: bool,
    /// Only this one.
    pub activity_id: Option<i64>,
}

/// What a sync changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SyncCounts {
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

impl SyncCounts {
    /// Adds another batch's counts.
    pub fn add(&mut self, other: SyncCounts) {
        self.added += other.added;
        self.updated += other.updated;
        self.deleted += other.deleted;
        self.rejected += other.rejected;
        self.unchanged += other.unchanged;
    }
}

/// How a sync ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    /// Still running (or killed, until the next open).
    Running,
    /// Finished.
    Ok,
    /// Failed with an error.
    Failed,
    /// The process stopped before it finished.
    Interrupted,
}

impl SyncStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SyncStatus::Running => "running",
            SyncStatus::Ok => "ok",
            SyncStatus::Failed => "failed",
            SyncStatus::Interrupted => "interrupted",
        }
    }

    pub(crate) fn parse(text: &str) -> Self {
        match text {
            "ok" => SyncStatus::Ok,
            "failed" => SyncStatus::Failed,
            "running" => SyncStatus::Running,
            _ => SyncStatus::Interrupted,
        }
    }
}

/// One line of the sync log.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SyncRecord {
    /// Its number.
    pub sync_id: i64,
    /// `incremental`, `full` or `window`.
    pub mode: String,
    /// When it started.
    pub started: Timestamp,
    /// When it ended.
    pub finished: Option<Timestamp>,
    /// How it ended.
    pub status: SyncStatus,
    /// Requests sent to SmashRun.
    pub requests: u64,
    /// What changed.
    pub counts: SyncCounts,
    /// Runs updated since this instant were asked for.
    pub watermark: Option<Timestamp>,
    /// The error, when it failed.
    pub error: Option<String>,
    /// Runs held as pending deletion after it.
    pub pending_deletions: u64,
    /// What it observed of SmashRun's listing ("unpaged listing returned 100 of 566; paged").
    pub listing_note: Option<String>,
}

/// A run that a complete listing lacked, held back from deletion until there is more evidence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PendingDeletion {
    /// SmashRun's id.
    pub activity_id: i64,
    /// Its run day.
    pub run_date: Date,
    /// Its distance.
    pub distance: Distance,
    /// Since when complete listings have lacked it.
    pub missing_since: Timestamp,
}

/// How a sync ended, for its log line.
#[derive(Clone, Debug, PartialEq)]
pub struct SyncOutcome {
    /// Ok or failed.
    pub status: SyncStatus,
    /// When it ended.
    pub finished: Timestamp,
    /// What changed.
    pub counts: SyncCounts,
    /// Requests sent to SmashRun.
    pub requests: u64,
    /// The instant everything before which is mirrored (incremental and full syncs).
    pub watermark: Option<Timestamp>,
    /// The error, when it failed.
    pub error: Option<String>,
}
