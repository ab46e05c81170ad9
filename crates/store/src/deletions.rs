//! Deletions: runs a complete listing lacked are first held (pending), then marked deleted;
//! the sync decides which, the store only records it.

use duckdb::params;
use jiff::Timestamp;
use jiff::civil::Date;
use myrunstreak_domain::Distance;

use crate::time::{from_micros, micros};
use crate::{PendingDeletion, Store, StoreError};

impl Store {
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
}
