//! Writing a batch: runs are appended to a staging table and merged into `runs` with one
//! statement, rejected activities upserted, all in one transaction. The staging table, the
//! appender row and the merge come from the column declaration (`columns.rs`).

use duckdb::{appender_params_from_iter, params};
use jiff::Timestamp;

use crate::columns::{self, STAGING};
use crate::time::micros;
use crate::{RejectedRow, RunRow, Store, StoreError, SyncCounts};

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
        tx.execute_batch(&columns::create_staging())?;
        {
            let mut appender = tx.appender_to_catalog_and_db(STAGING, "temp", "main")?;
            for r in dedupe(runs) {
                appender.append_row(appender_params_from_iter(columns::values(r)))?;
            }
            appender.flush()?;
        }
        let (added, updated, unchanged): (i64, i64, i64) = tx.query_row(
            &format!("SELECT
                count(*) FILTER (WHERE r.activity_id IS NULL),
                count(*) FILTER (WHERE r.activity_id IS NOT NULL AND (r.raw_json <> s.raw_json OR r.deleted_utc IS NOT NULL)),
                count(*) FILTER (WHERE r.activity_id IS NOT NULL AND r.raw_json = s.raw_json AND r.deleted_utc IS NULL)
             FROM {STAGING} s LEFT JOIN runs r ON r.activity_id = s.activity_id"),
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )?;
        let now_us = micros(now);
        tx.execute_batch(&columns::merge(now_us))?;
        // a run that now reads fine is no longer a rejected one
        tx.execute_batch(&format!(
            "DELETE FROM rejected_runs WHERE activity_id IN (SELECT activity_id FROM {STAGING})"
        ))?;
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
        tx.execute_batch(&format!("DROP TABLE {STAGING}"))?;
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
