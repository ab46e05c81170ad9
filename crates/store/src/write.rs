//! Writing a batch: runs are appended to a staging table and merged into `runs` with one
//! statement, rejected activities upserted, all in one transaction.

use duckdb::params;
use jiff::Timestamp;
use myrunstreak_domain::Distance;

use crate::time::micros;
use crate::{RejectedRow, RunRow, Store, StoreError, SyncCounts};

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

impl Store {
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

/// `9.74928`: kilometres with exactly SmashRun's five decimals.
fn km_text(d: Distance) -> String {
    format!("{}.{:05}", d.cm() / 100_000, d.cm() % 100_000)
}
