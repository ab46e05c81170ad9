//! Reading runs back: for the domain (streaks), for listings, and for checks.

use jiff::Timestamp;
use jiff::civil::Date;
use myrunstreak_domain::{ActivityId, Distance, LocalStart, Run, RunOrigin};

use duckdb::arrow::array::{Array, BooleanArray, Float64Array, Int32Array, Int64Array};
use duckdb::arrow::record_batch::RecordBatch;

use crate::time::from_micros;
use crate::{RejectedRow, RunFilter, Store, StoreError, StoredRun};

impl Store {
    /// Every stored run that is not deleted, as the domain needs it.
    pub fn domain_runs(&self) -> Result<Vec<Run>, StoreError> {
        // read as Arrow record batches, a column at a time: the row API pays a lock and a
        // type check per value (a 100,000-run history took most of `myrunstreak streak`)
        let mut stmt = self.conn.prepare(
            "SELECT activity_id, epoch_us(start_utc), CAST(utc_offset_s AS INTEGER),
                    CAST(round(distance_km * 100000) AS BIGINT), CAST(coalesce(duration_s, 0) AS DOUBLE),
                    coalesce(lower(activity_type), 'running') = 'running',
                    coalesce(is_treadmill, false) OR coalesce(terrain = 'treadmill', false),
                    coalesce(offset_assumed, false)
             FROM runs WHERE deleted_utc IS NULL",
        )?;
        let mut out = Vec::new();
        for batch in stmt.query_arrow([])? {
            let ids = column::<Int64Array>(&batch, 0)?;
            let starts = column::<Int64Array>(&batch, 1)?;
            let offsets = column::<Int32Array>(&batch, 2)?;
            let cms = column::<Int64Array>(&batch, 3)?;
            let durations = column::<Float64Array>(&batch, 4)?;
            let running = column::<BooleanArray>(&batch, 5)?;
            let treadmill = column::<BooleanArray>(&batch, 6)?;
            let assumed = column::<BooleanArray>(&batch, 7)?;
            out.reserve(batch.num_rows());
            for i in 0..batch.num_rows() {
                let id = ids.value(i);
                let corrupt = |detail: String| StoreError::Corrupt {
                    activity_id: id,
                    detail,
                };
                if starts.is_null(i) || offsets.is_null(i) || cms.is_null(i) {
                    return Err(corrupt("a start, offset or distance is missing".into()));
                }
                let offset = jiff::tz::Offset::from_seconds(offsets.value(i))
                    .map_err(|e| corrupt(e.to_string()))?;
                out.push(Run {
                    id: ActivityId::new(id).map_err(|e| corrupt(e.to_string()))?,
                    start: stored_start(from_micros(starts.value(i)), offset, assumed.value(i)),
                    distance: Distance::from_cm(cms.value(i)),
                    duration_s: durations.value(i),
                    is_running: running.value(i),
                    is_treadmill: treadmill.value(i),
                    origin: RunOrigin::SmashRun,
                });
            }
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

/// Column `index` of `batch` as the Arrow array type the query casts it to.
fn column<T: 'static>(batch: &RecordBatch, index: usize) -> Result<&T, StoreError> {
    batch
        .column(index)
        .as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| {
            StoreError::Unreadable(format!(
                "column {index} of the runs query is {}, not the type it is cast to",
                batch.column(index).data_type()
            ))
        })
}
