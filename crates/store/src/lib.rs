//! The DuckDB mirror of a runner's SmashRun history.
//!
//! One file (default `./data/runs.duckdb`) holds every run with typed columns and its raw JSON,
//! a log of every sync, the runs that could not be read (raw, with the reason), and optional
//! details. The schema is versioned; numbered migrations run on open and are never edited once
//! released. A file that is not DuckDB, or is from a newer schema, is refused and left untouched.
//!
//! Writes are batched: a batch is appended to a staging table with DuckDB's appender and merged
//! into `runs` with one statement, inside one transaction. A process killed mid-way leaves the
//! file as it was before the batch. DuckDB's file lock makes the store single-writer: a second
//! writer gets [`StoreError::Locked`] at once instead of waiting.
//!
//! This crate knows DuckDB and the domain, nothing of SmashRun's wire format or of HTTP.

mod error;
mod rows;

use std::path::{Path, PathBuf};

use duckdb::{AccessMode, Config, Connection, params};
use jiff::Timestamp;
use jiff::civil::Date;
use myrunstreak_domain::{ActivityId, Distance, LocalStart, Run};

pub use error::StoreError;
pub use rows::{
    PendingDeletion, RejectedRow, RunFilter, RunRow, StoredRun, SyncCounts, SyncOutcome,
    SyncRecord, SyncStatus,
};

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = 3;

const MIGRATIONS: [(i64, &str); 3] = [
    (1, include_str!("migrations/001_initial.sql")),
    (2, include_str!("migrations/002_offset_assumed.sql")),
    (3, include_str!("migrations/003_pending_deletions.sql")),
];

/// The columns of `runs` filled from `staging_runs`, with the expression that converts them.
const MERGED_COLUMNS: [(&str, &str); 42] = [
    ("activity_id", "s.activity_id"),
    ("start_local", "s.start_local"),
    ("start_utc", "make_timestamp(s.start_utc_us)"),
    ("start_local_wall", "make_timestamp(s.start_local_wall_us)"),
    ("utc_offset_s", "s.utc_offset_s"),
    ("run_date", "CAST(s.run_date AS DATE)"),
    ("distance_km", "CAST(s.distance_km AS DECIMAL(12, 5))"),
    ("duration_s", "s.duration_s"),
    ("activity_type", "s.activity_type"),
    ("calories", "s.calories"),
    ("notes", "s.notes"),
    ("external_id", "s.external_id"),
    ("source", "s.source"),
    ("app_version", "s.app_version"),
    ("device_type", "s.device_type"),
    ("has_details", "s.has_details"),
    ("has_details_gps", "s.has_details_gps"),
    ("start_latitude", "s.start_latitude"),
    ("start_longitude", "s.start_longitude"),
    ("heart_rate_min", "s.heart_rate_min"),
    ("heart_rate_max", "s.heart_rate_max"),
    ("heart_rate_average", "s.heart_rate_average"),
    ("cadence_min", "s.cadence_min"),
    ("cadence_max", "s.cadence_max"),
    ("cadence_average", "s.cadence_average"),
    ("weather_type", "s.weather_type"),
    ("temperature", "s.temperature"),
    ("temperature_apparent", "s.temperature_apparent"),
    ("temperature_wind_chill", "s.temperature_wind_chill"),
    ("humidity", "s.humidity"),
    ("wind_speed", "s.wind_speed"),
    ("how_felt", "s.how_felt"),
    ("terrain", "s.terrain"),
    ("is_race", "s.is_race"),
    ("is_treadmill", "s.is_treadmill"),
    ("is_bad_hr", "s.is_bad_hr"),
    ("is_bad_elevation", "s.is_bad_elevation"),
    ("synced_utc", "make_timestamp(s.synced_us)"),
    ("created_utc", "make_timestamp(s.created_us)"),
    ("updated_utc", "make_timestamp(s.updated_us)"),
    ("raw_json", "s.raw_json"),
    ("offset_assumed", "coalesce(s.offset_assumed, false)"),
];

/// An open database file.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    read_only: bool,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("read_only", &self.read_only)
            .finish()
    }
}

fn classify(e: duckdb::Error, path: &Path) -> StoreError {
    let text = e.to_string();
    if text.contains("Could not set lock") || text.contains("Conflicting lock") {
        StoreError::Locked {
            path: path.to_owned(),
        }
    } else if text.contains("not a valid DuckDB database")
        || text.contains("Unable to open database") && text.contains("not a valid")
    {
        StoreError::NotDuckDb {
            path: path.to_owned(),
        }
    } else {
        StoreError::DuckDb(e)
    }
}

fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

fn from_micros(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH)
}

impl Store {
    /// Opens (creating it and its folder if needed) the database for reading and writing, and
    /// brings its schema up to date. Syncs left `running` by a killed process are marked
    /// `interrupted`.
    pub fn open(path: impl AsRef<Path>, now: Timestamp) -> Result<Store, StoreError> {
        let path = path.as_ref().to_owned();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Io {
                action: "creating the folder of",
                path: path.clone(),
                source,
            })?;
        }
        let conn = Connection::open(&path).map_err(|e| classify(e, &path))?;
        let mut store = Store {
            conn,
            path,
            read_only: false,
        };
        store.migrate()?;
        store.conn.execute(
            "UPDATE sync_log SET status = 'interrupted', finished_utc = make_timestamp(?), error = 'the process stopped before the sync finished' WHERE status = 'running'",
            params![micros(now)],
        )?;
        Ok(store)
    }

    /// Opens an existing database for reading only (many readers may do so at once, but not
    /// while a writer holds it).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_owned();
        if !path.exists() {
            return Err(StoreError::Missing { path });
        }
        let config = Config::default().access_mode(AccessMode::ReadOnly)?;
        let conn = Connection::open_with_flags(&path, config).map_err(|e| classify(e, &path))?;
        let store = Store {
            conn,
            path,
            read_only: true,
        };
        let version = store.schema_version()?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: store.path,
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        Ok(store)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the file (0 for an empty file).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        let exists: i64 = self.conn.query_row(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'",
            [],
            |r| r.get(0),
        )?;
        if exists == 0 {
            return Ok(0);
        }
        Ok(self.conn.query_row(
            "SELECT coalesce(max(version), 0) FROM schema_version",
            [],
            |r| r.get(0),
        )?)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let current = self.schema_version()?;
        if current > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: self.path.clone(),
                found: current,
                supported: SCHEMA_VERSION,
            });
        }
        for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
            let tx = self.conn.transaction()?;
            tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL, applied_utc TIMESTAMP NOT NULL)")?;
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_version VALUES (?, make_timestamp(?))",
                params![version, micros(Timestamp::now())],
            )?;
            tx.commit()?;
            tracing::debug!(version, path = %self.path.display(), "database schema migrated");
        }
        Ok(())
    }

    /// Starts a sync record; returns its id.
    pub fn begin_sync(&self, mode: &str, started: Timestamp) -> Result<i64, StoreError> {
        Ok(self.conn.query_row(
            "INSERT INTO sync_log (sync_id, mode, started_utc, status) VALUES (nextval('sync_ids'), ?, make_timestamp(?), 'running') RETURNING sync_id",
            params![mode, micros(started)],
            |r| r.get(0),
        )?)
    }

    /// Closes a sync record.
    pub fn finish_sync(&self, sync_id: i64, outcome: &SyncOutcome) -> Result<(), StoreError> {
        let c = &outcome.counts;
        self.conn.execute(
            "UPDATE sync_log SET status = ?, finished_utc = make_timestamp(?), requests = ?, added = ?, updated = ?, deleted = ?, rejected = ?, unchanged = ?, watermark_utc = make_timestamp(?), error = ? WHERE sync_id = ?",
            params![
                outcome.status.as_str(),
                micros(outcome.finished),
                outcome.requests as i64,
                c.added as i64,
                c.updated as i64,
                c.deleted as i64,
                c.rejected as i64,
                c.unchanged as i64,
                outcome.watermark.map(micros),
                outcome.error,
                sync_id
            ],
        )?;
        Ok(())
    }

    /// Writes a batch of runs and rejected activities in one transaction: new runs are added,
    /// changed ones updated (a deleted one that reappears is undeleted), the rest marked seen.
    pub fn apply(
        &mut self,
        runs: &[RunRow],
        rejected: &[RejectedRow],
        now: Timestamp,
    ) -> Result<SyncCounts, StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute_batch("DELETE FROM staging_runs")?;
        {
            let mut appender = tx.appender("staging_runs")?;
            for r in dedupe(runs) {
                let wall_us = r
                    .start
                    .wall()
                    .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                    .map(|z| micros(z.timestamp()))
                    .unwrap_or_default();
                appender.append_row(params![
                    r.activity_id,
                    r.start_local,
                    micros(r.start.instant()),
                    wall_us,
                    r.start.offset().seconds(),
                    r.start.date().to_string(),
                    km_text(r.distance),
                    r.duration_s,
                    r.activity_type,
                    r.calories,
                    r.notes,
                    r.external_id,
                    r.source,
                    r.app_version,
                    r.device_type,
                    r.has_details,
                    r.has_details_gps,
                    r.start_latitude,
                    r.start_longitude,
                    r.heart_rate_min,
                    r.heart_rate_max,
                    r.heart_rate_average,
                    r.cadence_min,
                    r.cadence_max,
                    r.cadence_average,
                    r.weather_type,
                    r.temperature,
                    r.temperature_apparent,
                    r.temperature_wind_chill,
                    r.humidity,
                    r.wind_speed,
                    r.how_felt,
                    r.terrain,
                    r.is_race,
                    r.is_treadmill,
                    r.is_bad_hr,
                    r.is_bad_elevation,
                    r.synced_at.map(micros),
                    r.created_at.map(micros),
                    r.updated_at.map(micros),
                    r.raw_json,
                    // staging's last column (migration 2): the appender is positional
                    r.start.offset_assumed(),
                ])?;
            }
            appender.flush()?;
        }
        let (added, updated, unchanged): (i64, i64, i64) = tx.query_row(
            "SELECT
                count(*) FILTER (WHERE r.activity_id IS NULL),
                count(*) FILTER (WHERE r.activity_id IS NOT NULL AND (r.raw_json <> s.raw_json OR r.deleted_utc IS NOT NULL)),
                count(*) FILTER (WHERE r.activity_id IS NOT NULL AND r.raw_json = s.raw_json AND r.deleted_utc IS NULL)
             FROM staging_runs s LEFT JOIN runs r ON r.activity_id = s.activity_id",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )?;
        let now_us = micros(now);
        let names: Vec<&str> = MERGED_COLUMNS.iter().map(|c| c.0).collect();
        let exprs: Vec<&str> = MERGED_COLUMNS.iter().map(|c| c.1).collect();
        let updates: Vec<String> = MERGED_COLUMNS[1..]
            .iter()
            .map(|c| format!("{0} = excluded.{0}", c.0))
            .collect();
        let merge = format!(
            "INSERT INTO runs ({names}, first_seen_utc, last_seen_utc, deleted_utc)
             SELECT {exprs}, make_timestamp({now_us}), make_timestamp({now_us}), NULL FROM staging_runs s
             ON CONFLICT (activity_id) DO UPDATE SET {updates}, last_seen_utc = excluded.last_seen_utc, deleted_utc = NULL, missing_since_utc = NULL",
            names = names.join(", "),
            exprs = exprs.join(", "),
            updates = updates.join(", "),
        );
        tx.execute_batch(&merge)?;
        // a run that now reads fine is no longer a rejected one
        tx.execute_batch(
            "DELETE FROM rejected_runs WHERE activity_id IN (SELECT activity_id FROM staging_runs)",
        )?;
        {
            let mut stmt = tx.prepare(
                "INSERT INTO rejected_runs VALUES (?, ?, ?, ?, make_timestamp(?), make_timestamp(?))
                 ON CONFLICT (reject_key) DO UPDATE SET reason = excluded.reason, raw_json = excluded.raw_json, last_seen_utc = excluded.last_seen_utc",
            )?;
            for r in rejected {
                stmt.execute(params![
                    r.key(),
                    r.activity_id,
                    r.reason,
                    r.raw_json,
                    now_us,
                    now_us
                ])?;
            }
        }
        tx.execute_batch("DELETE FROM staging_runs")?;
        tx.commit()?;
        Ok(SyncCounts {
            added: added as u64,
            updated: updated as u64,
            unchanged: unchanged as u64,
            deleted: 0,
            rejected: rejected.len() as u64,
        })
    }

    /// The runs not marked deleted, in `since..=until` by run day when given, each with the time
    /// since which a complete listing has lacked it (a deletion held back for more evidence).
    pub fn live_runs_missing_since(
        &self,
        since: Option<Date>,
        until: Option<Date>,
    ) -> Result<Vec<(i64, Option<Timestamp>)>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT activity_id, epoch_us(missing_since_utc) FROM runs
             WHERE deleted_utc IS NULL
               AND (CAST(? AS DATE) IS NULL OR run_date >= CAST(? AS DATE))
               AND (CAST(? AS DATE) IS NULL OR run_date <= CAST(? AS DATE))
             ORDER BY activity_id",
        )?;
        let (s, u) = (since.map(|d| d.to_string()), until.map(|d| d.to_string()));
        let rows = stmt.query_map(params![s, s, u, u], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<i64>>(1)?.map(from_micros),
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Marks deleted every stored run that is not in `listed` (a complete listing of SmashRun's
    /// ids); returns how many were newly marked. No guard: the sync decides what to believe.
    pub fn mark_missing_deleted(
        &mut self,
        listed: &[i64],
        now: Timestamp,
    ) -> Result<u64, StoreError> {
        let listed: std::collections::HashSet<i64> = listed.iter().copied().collect();
        let missing: Vec<i64> = self
            .live_runs_missing_since(None, None)?
            .into_iter()
            .map(|(id, _)| id)
            .filter(|id| !listed.contains(id))
            .collect();
        self.mark_deleted(&missing, now)
    }

    /// Marks `ids` deleted (those not already); returns how many were newly marked.
    pub fn mark_deleted(&mut self, ids: &[i64], now: Timestamp) -> Result<u64, StoreError> {
        self.update_ids(
            ids,
            &format!(
                "UPDATE runs SET deleted_utc = make_timestamp({}), missing_since_utc = NULL
                 WHERE deleted_utc IS NULL AND activity_id IN (SELECT activity_id FROM id_list)",
                micros(now)
            ),
        )
    }

    /// Holds `ids` as pending deletion: missing from a complete listing since `now` (or since
    /// earlier, if they were already held). They still count everywhere until confirmed.
    pub fn hold_missing(&mut self, ids: &[i64], now: Timestamp) -> Result<u64, StoreError> {
        self.update_ids(
            ids,
            &format!(
                "UPDATE runs SET missing_since_utc = coalesce(missing_since_utc, make_timestamp({}))
                 WHERE deleted_utc IS NULL AND activity_id IN (SELECT activity_id FROM id_list)",
                micros(now)
            ),
        )
    }

    /// Releases `ids` from pending deletion: they were listed again.
    pub fn clear_missing(&mut self, ids: &[i64]) -> Result<u64, StoreError> {
        self.update_ids(
            ids,
            "UPDATE runs SET missing_since_utc = NULL
             WHERE missing_since_utc IS NOT NULL AND activity_id IN (SELECT activity_id FROM id_list)",
        )
    }

    /// Runs `update` (which reads the temporary table `id_list`) for `ids`, in one transaction.
    fn update_ids(&mut self, ids: &[i64], update: &str) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let tx = self.conn.transaction()?;
        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS id_list (activity_id BIGINT); DELETE FROM id_list;",
        )?;
        {
            let mut stmt = tx.prepare("INSERT INTO id_list SELECT unnest(CAST(? AS BIGINT[]))")?;
            let list = format!(
                "[{}]",
                ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
            );
            stmt.execute(params![list])?;
        }
        let changed = tx.execute(update, [])?;
        tx.execute_batch("DROP TABLE id_list")?;
        tx.commit()?;
        Ok(changed as u64)
    }

    /// The runs held as pending deletion, oldest hold first.
    pub fn pending_deletions(&self) -> Result<Vec<PendingDeletion>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT activity_id, CAST(run_date AS VARCHAR), CAST(distance_km AS VARCHAR), epoch_us(missing_since_utc)
             FROM runs WHERE deleted_utc IS NULL AND missing_since_utc IS NOT NULL
             ORDER BY missing_since_utc, run_date DESC, activity_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, date, km, since) = row?;
            let corrupt = |detail: String| StoreError::Corrupt {
                activity_id: id,
                detail,
            };
            out.push(PendingDeletion {
                activity_id: id,
                run_date: date
                    .parse()
                    .map_err(|e: jiff::Error| corrupt(e.to_string()))?,
                distance: km
                    .parse::<f64>()
                    .ok()
                    .and_then(|k| Distance::from_km(k).ok())
                    .ok_or_else(|| corrupt(format!("distance {km}")))?,
                missing_since: from_micros(since),
            });
        }
        Ok(out)
    }

    /// Records what a sync observed of SmashRun's listing and how many deletions it held back.
    pub fn record_listing(
        &self,
        sync_id: i64,
        pending_deletions: u64,
        note: &str,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "UPDATE sync_log SET pending_deletions = ?, listing_note = ? WHERE sync_id = ?",
            params![pending_deletions as i64, note, sync_id],
        )?;
        Ok(())
    }

    /// The last incremental or full sync that succeeded (window syncs move no watermark).
    pub fn last_success(&self) -> Result<Option<SyncRecord>, StoreError> {
        Ok(self
            .sync_log_where("status = 'ok' AND watermark_utc IS NOT NULL", 1)?
            .into_iter()
            .next())
    }

    /// The most recent syncs, newest first.
    pub fn sync_log(&self, limit: usize) -> Result<Vec<SyncRecord>, StoreError> {
        self.sync_log_where("TRUE", limit)
    }

    fn sync_log_where(&self, condition: &str, limit: usize) -> Result<Vec<SyncRecord>, StoreError> {
        let sql = format!(
            "SELECT sync_id, mode, epoch_us(started_utc), epoch_us(finished_utc), status, requests, added, updated, deleted, rejected, unchanged, epoch_us(watermark_utc), error,
                    coalesce(pending_deletions, 0), listing_note
             FROM sync_log WHERE {condition} ORDER BY sync_id DESC LIMIT {limit}"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], |r| {
            Ok(SyncRecord {
                sync_id: r.get(0)?,
                mode: r.get(1)?,
                started: from_micros(r.get(2)?),
                finished: r.get::<_, Option<i64>>(3)?.map(from_micros),
                status: SyncStatus::parse(&r.get::<_, String>(4)?),
                requests: r.get::<_, i64>(5)? as u64,
                counts: SyncCounts {
                    added: r.get::<_, i64>(6)? as u64,
                    updated: r.get::<_, i64>(7)? as u64,
                    deleted: r.get::<_, i64>(8)? as u64,
                    rejected: r.get::<_, i64>(9)? as u64,
                    unchanged: r.get::<_, i64>(10)? as u64,
                },
                watermark: r.get::<_, Option<i64>>(11)?.map(from_micros),
                error: r.get(12)?,
                pending_deletions: r.get::<_, i64>(13)? as u64,
                listing_note: r.get(14)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Every stored run that is not deleted, as the domain needs it.
    pub fn domain_runs(&self) -> Result<Vec<Run>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT activity_id, epoch_us(start_utc), utc_offset_s, CAST(round(distance_km * 100000) AS BIGINT), coalesce(duration_s, 0),
                    coalesce(lower(activity_type), 'running') = 'running', coalesce(is_treadmill, false) OR coalesce(terrain = 'treadmill', false),
                    coalesce(offset_assumed, false)
             FROM runs WHERE deleted_utc IS NULL",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i32>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, f64>(4)?,
                r.get::<_, bool>(5)?,
                r.get::<_, bool>(6)?,
                r.get::<_, bool>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, start_us, offset_s, cm, duration_s, is_running, is_treadmill, assumed) = row?;
            let corrupt = |detail: String| StoreError::Corrupt {
                activity_id: id,
                detail,
            };
            let offset =
                jiff::tz::Offset::from_seconds(offset_s).map_err(|e| corrupt(e.to_string()))?;
            out.push(Run {
                id: ActivityId::new(id).map_err(|e| corrupt(e.to_string()))?,
                start: stored_start(from_micros(start_us), offset, assumed),
                distance: Distance::from_cm(cm),
                duration_s,
                is_running,
                is_treadmill,
            });
        }
        Ok(out)
    }

    /// Stored runs, newest first, filtered by run date.
    pub fn runs(&self, filter: &RunFilter) -> Result<Vec<StoredRun>, StoreError> {
        let mut conditions = vec!["TRUE".to_owned()];
        if !filter.include_deleted {
            conditions.push("deleted_utc IS NULL".into());
        }
        if let Some(since) = filter.since {
            conditions.push(format!("run_date >= DATE '{since}'"));
        }
        if let Some(until) = filter.until {
            conditions.push(format!("run_date <= DATE '{until}'"));
        }
        if let Some(id) = filter.activity_id {
            conditions.push(format!("activity_id = {id}"));
        }
        let limit = filter.limit.map_or(String::new(), |n| {
            format!("LIMIT {n} OFFSET {}", filter.offset)
        });
        let sql = format!(
            "SELECT activity_id, start_local, CAST(run_date AS VARCHAR), CAST(round(distance_km * 100000) AS BIGINT), duration_s, source,
                    coalesce(is_treadmill, false), deleted_utc IS NOT NULL, activity_type, notes, calories, heart_rate_average, weather_type,
                    how_felt, terrain, coalesce(is_race, false), raw_json, coalesce(offset_assumed, false)
             FROM runs WHERE {} ORDER BY start_utc DESC, activity_id DESC {limit}",
            conditions.join(" AND ")
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], |r| {
            Ok(StoredRun {
                activity_id: r.get(0)?,
                start_local: r.get(1)?,
                date: r.get::<_, String>(2)?.parse().unwrap_or(Date::MIN),
                distance_km: Distance::from_cm(r.get(3)?).km(),
                duration_s: r.get(4)?,
                source: r.get(5)?,
                is_treadmill: r.get(6)?,
                deleted: r.get(7)?,
                activity_type: r.get(8)?,
                notes: r.get(9)?,
                calories: r.get(10)?,
                heart_rate_average: r.get(11)?,
                weather_type: r.get(12)?,
                how_felt: r.get(13)?,
                terrain: r.get(14)?,
                is_race: r.get(15)?,
                raw_json: r.get(16)?,
                offset_assumed: r.get(17)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Ids of the stored runs that are not deleted, optionally within a window of run days.
    pub fn run_ids(
        &self,
        since: Option<Date>,
        until: Option<Date>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut sql = "SELECT activity_id FROM runs WHERE deleted_utc IS NULL".to_owned();
        if let Some(since) = since {
            sql.push_str(&format!(" AND run_date >= DATE '{since}'"));
        }
        if let Some(until) = until {
            sql.push_str(&format!(" AND run_date <= DATE '{until}'"));
        }
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Number of stored runs that are not deleted.
    pub fn count(&self) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM runs WHERE deleted_utc IS NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// Activities kept raw because they could not be read.
    pub fn rejected(&self) -> Result<Vec<RejectedRow>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT activity_id, reason, raw_json FROM rejected_runs ORDER BY last_seen_utc DESC, reject_key")?;
        let rows = stmt.query_map([], |r| {
            Ok(RejectedRow {
                activity_id: r.get(0)?,
                reason: r.get(1)?,
                raw_json: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A digest of everything SmashRun told us (ids, raw JSON, deletions, rejections), blind to
    /// when we saw it: two mirrors of the same history have the same fingerprint.
    pub fn fingerprint(&self) -> Result<String, StoreError> {
        Ok(self.conn.query_row(
            "SELECT md5(coalesce((SELECT string_agg(activity_id || ':' || (deleted_utc IS NULL) || ':' || raw_json, '\n' ORDER BY activity_id) FROM runs), '')
                     || '|' || coalesce((SELECT string_agg(reject_key || ':' || raw_json, '\n' ORDER BY reject_key) FROM rejected_runs), ''))",
            [],
            |r| r.get(0),
        )?)
    }

    /// Run ids with no stored details yet, most recent first.
    pub fn ids_without_details(&self, limit: usize) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT r.activity_id FROM runs r LEFT JOIN activity_details d ON d.activity_id = r.activity_id
             WHERE d.activity_id IS NULL AND r.deleted_utc IS NULL ORDER BY r.start_utc DESC LIMIT {limit}"
        ))?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Number of runs without details.
    pub fn details_backlog(&self) -> Result<u64, StoreError> {
        let n: i64 = self.conn.query_row(
            "SELECT count(*) FROM runs r LEFT JOIN activity_details d ON d.activity_id = r.activity_id WHERE d.activity_id IS NULL AND r.deleted_utc IS NULL",
            [],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }

    /// Stores the full activity and its splits, in one transaction.
    pub fn save_details(
        &mut self,
        activity_id: i64,
        full_json: &str,
        splits: &[(String, Vec<[Option<f64>; 6]>)],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM splits WHERE activity_id = ?",
            params![activity_id],
        )?;
        tx.execute(
            "DELETE FROM activity_details WHERE activity_id = ?",
            params![activity_id],
        )?;
        tx.execute(
            "INSERT INTO activity_details VALUES (?, ?, make_timestamp(?))",
            params![activity_id, full_json, micros(now)],
        )?;
        for (unit, rows) in splits {
            for (i, s) in rows.iter().enumerate() {
                tx.execute(
                    "INSERT INTO splits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    params![
                        activity_id,
                        unit,
                        i as i32,
                        s[0].unwrap_or(0.0),
                        s[1].unwrap_or(0.0),
                        s[2],
                        s[3],
                        s[4],
                        s[5]
                    ],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Reads a value stored under `key`.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT value FROM meta WHERE key = ?")?;
        let mut rows = stmt.query(params![key])?;
        Ok(match rows.next()? {
            Some(row) => Some(row.get(0)?),
            None => None,
        })
    }

    /// Stores a value under `key`.
    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    /// Writes the runs (not deleted) to `path` with DuckDB's own writer: `csv`, `parquet` or `json`.
    pub fn export(&self, format: ExportFormat, path: &Path) -> Result<u64, StoreError> {
        let target = path.to_string_lossy().replace('\'', "''");
        let options = match format {
            ExportFormat::Csv => "FORMAT csv, HEADER true",
            ExportFormat::Parquet => "FORMAT parquet",
            ExportFormat::Json => "FORMAT json, ARRAY true",
        };
        self.conn.execute_batch(&format!(
            "COPY (SELECT activity_id, start_local, run_date, start_utc, utc_offset_s, distance_km, duration_s, activity_type, source,
                          is_treadmill, is_race, calories, heart_rate_average, cadence_average, weather_type, temperature, how_felt,
                          terrain, notes, created_utc, updated_utc
                   FROM runs WHERE deleted_utc IS NULL ORDER BY start_utc) TO '{target}' ({options})"
        ))?;
        self.count()
    }
}

/// Formats of `export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// Comma-separated values with a header.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// A JSON array.
    Json,
}

/// A start read back: the wall time at `offset` of `instant`, flagged when the offset was assumed.
fn stored_start(instant: Timestamp, offset: jiff::tz::Offset, assumed: bool) -> LocalStart {
    let start = LocalStart::from_instant(instant, offset);
    if assumed {
        LocalStart::with_assumed_offset(start.wall(), start.offset())
    } else {
        start
    }
}

/// `9.74928`: kilometres with exactly SmashRun's five decimals.
fn km_text(d: Distance) -> String {
    format!("{}.{:05}", d.cm() / 100_000, d.cm() % 100_000)
}

/// One row per activity: a listing fetched page by page can show a run twice when runs are
/// added meanwhile; the most recently updated copy wins.
fn dedupe(runs: &[RunRow]) -> Vec<&RunRow> {
    let mut by_id: std::collections::HashMap<i64, &RunRow> =
        std::collections::HashMap::with_capacity(runs.len());
    for r in runs {
        by_id
            .entry(r.activity_id)
            .and_modify(|kept| {
                if r.updated_at >= kept.updated_at {
                    *kept = r;
                }
            })
            .or_insert(r);
    }
    let mut out: Vec<&RunRow> = by_id.into_values().collect();
    out.sort_by_key(|r| r.activity_id);
    out
}
