//! Writing a batch, in one transaction (or, during a sync, in a group of batches that commits
//! once: `group_writes`, `settle`). Runs new to `runs` are appended straight into it as one
//! Arrow record batch (columnar, no per-value calls); runs already there are appended the same way
//! to a staging table and merged with one statement, which tells edits from unchanged copies.
//! Rejected activities are upserted. The layout of both batches comes from the column
//! declaration (`columns.rs`).

use std::collections::HashSet;

use duckdb::params;
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
        let writing = match &mut self.writing {
            Some(writing) => writing,
            unknown => unknown.insert(Writing::learn(&self.conn)?),
        };
        let Some(group) = self.group.as_mut() else {
            let tx = self.conn.transaction()?;
            let (counts, added) = write_batch(&tx, writing, runs, rejected, now)?;
            tx.commit()?;
            writing.added(&added, rejected);
            return Ok(counts);
        };
        if group.open == 0 {
            self.conn.execute_batch("BEGIN TRANSACTION")?;
        }
        let conn = &self.conn;
        let written =
            write_batch(conn, writing, runs, rejected, now).and_then(|(counts, added)| {
                // what this transaction added counts as known to the next batch of it
                writing.added(&added, rejected);
                group.open += runs.len() + rejected.len();
                if group.open >= group.size {
                    group.open = 0;
                    conn.execute_batch("COMMIT")?;
                }
                Ok(counts)
            });
        if written.is_err() {
            group.open = 0;
            let _ = self.conn.execute_batch("ROLLBACK");
            // what it learnt of the batches rolled back is wrong now
            self.writing = None;
        }
        written
    }

    /// From now on, [`Store::apply`] commits once per `size` runs or so rather than once per
    /// batch (a sync: `usize::MAX`, one commit), until [`Store::settle`]. Each group is one
    /// transaction: a process killed in the middle loses that group, never part of a batch.
    pub fn group_writes(&mut self, size: usize) {
        self.group = Some(Group { size, open: 0 });
    }

    /// Commits what [`Store::group_writes`] holds and goes back to one transaction per batch.
    pub fn settle(&mut self) -> Result<(), StoreError> {
        match self.group.take() {
            Some(Group { open, .. }) if open > 0 => Ok(self.conn.execute_batch("COMMIT")?),
            _ => Ok(()),
        }
    }
}

/// Writes grouped by [`Store::group_writes`]: how many runs make a group, and how many the open
/// transaction holds (0: none is open).
#[derive(Debug)]
pub(crate) struct Group {
    size: usize,
    open: usize,
}

/// One batch, in the transaction `tx` is in: its counts, and the ids it added to `runs`.
fn write_batch(
    tx: &duckdb::Connection,
    writing: &Writing,
    runs: &[RunRow],
    rejected: &[RejectedRow],
    now: Timestamp,
) -> Result<(SyncCounts, Vec<i64>), StoreError> {
    let now_us = micros(now);
    let rows = dedupe(runs);
    let table = &writing.columns;
    let known = match &writing.fresh {
        Some(fresh) => rows
            .iter()
            .map(|r| r.activity_id)
            .filter(|id| fresh.added.contains(id))
            .collect(),
        None => known_ids(tx, &rows)?,
    };
    let (old, new): (Vec<&RunRow>, Vec<&RunRow>) =
        rows.iter().partition(|r| known.contains(&r.activity_id));
    let mut counts = SyncCounts {
        added: new.len() as u64,
        rejected: rejected.len() as u64,
        ..SyncCounts::default()
    };
    if !new.is_empty() {
        let batch = columns::runs_batch(&new, table, now_us)?;
        let mut appender = tx.appender("runs")?;
        appender.append_record_batch(batch)?;
        appender.flush()?;
    }
    if !old.is_empty() {
        tx.execute_batch(&columns::create_staging())?;
        {
            let mut appender = tx.appender_to_catalog_and_db(STAGING, "temp", "main")?;
            appender.append_record_batch(columns::staging_batch(&old)?)?;
            appender.flush()?;
        }
        let (updated, unchanged): (i64, i64) = tx.query_row(
            &format!(
                "SELECT
                count(*) FILTER (WHERE r.raw_json <> s.raw_json OR r.deleted_utc IS NOT NULL),
                count(*) FILTER (WHERE r.raw_json = s.raw_json AND r.deleted_utc IS NULL)
             FROM {STAGING} s JOIN runs r ON r.activity_id = s.activity_id"
            ),
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        counts.updated = updated as u64;
        counts.unchanged = unchanged as u64;
        tx.execute_batch(&columns::merge(now_us))?;
        tx.execute_batch(&format!("DROP TABLE {STAGING}"))?;
    }
    // a run that now reads fine is no longer a rejected one (none can be while this writer
    // has kept none since the table was empty)
    let rejected_kept = writing.fresh.as_ref().is_none_or(|f| f.rejected_kept);
    if !rows.is_empty() && rejected_kept {
        let (low, high) = id_range(&rows);
        let listed: Vec<i64> = rows.iter().map(|r| r.activity_id).collect();
        let mut stmt = tx.prepare_cached(
            "SELECT activity_id FROM rejected_runs WHERE activity_id BETWEEN ? AND ?",
        )?;
        let stale: Vec<i64> = stmt
            .query_map(params![low, high], |r| r.get::<_, i64>(0))?
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|id| listed.binary_search(id).is_ok())
            .collect();
        if !stale.is_empty() {
            let mut delete = tx.prepare("DELETE FROM rejected_runs WHERE activity_id = ?")?;
            for id in stale {
                delete.execute(params![id])?;
            }
        }
    }
    if !rejected.is_empty() {
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
    Ok((counts, new.iter().map(|r| r.activity_id).collect()))
}

/// What the writer learns once per open: the columns of `runs`, and whether this process is
/// the only one to have written its runs.
#[derive(Debug)]
pub(crate) struct Writing {
    /// The columns of `runs`, in the table's order (the appender fills them by position).
    columns: Vec<String>,
    /// `runs` and `rejected_runs` were empty when this process first wrote, so what it added
    /// since is all they hold (the file is locked to one writer): no need to ask DuckDB which
    /// ids are known. `None`: they were not empty.
    fresh: Option<Fresh>,
}

#[derive(Debug)]
struct Fresh {
    added: HashSet<i64>,
    rejected_kept: bool,
}

impl Writing {
    /// Remembers what a written batch added, when this writer keeps track itself.
    fn added(&mut self, ids: &[i64], rejected: &[RejectedRow]) {
        if let Some(fresh) = self.fresh.as_mut() {
            fresh.added.extend(ids);
            fresh.rejected_kept |= !rejected.is_empty();
        }
    }

    fn learn(conn: &duckdb::Connection) -> Result<Writing, StoreError> {
        let empty: bool = conn.query_row(
            "SELECT NOT EXISTS (SELECT 1 FROM runs) AND NOT EXISTS (SELECT 1 FROM rejected_runs)",
            [],
            |r| r.get(0),
        )?;
        Ok(Writing {
            columns: runs_columns(conn)?,
            fresh: empty.then(|| Fresh {
                added: HashSet::new(),
                rejected_kept: false,
            }),
        })
    }
}

/// The lowest and highest id of `rows` (sorted by id, not empty).
fn id_range(rows: &[&RunRow]) -> (i64, i64) {
    let low = rows.first().map_or(0, |r| r.activity_id);
    let high = rows.last().map_or(0, |r| r.activity_id);
    (low, high)
}

/// Which of `rows` (sorted by id) are already in `runs`, deleted ones included.
fn known_ids(tx: &duckdb::Connection, rows: &[&RunRow]) -> Result<HashSet<i64>, StoreError> {
    if rows.is_empty() {
        return Ok(HashSet::new());
    }
    let (low, high) = id_range(rows);
    let mut stmt =
        tx.prepare_cached("SELECT activity_id FROM runs WHERE activity_id BETWEEN ? AND ?")?;
    let ids = stmt.query_map(params![low, high], |r| r.get::<_, i64>(0))?;
    Ok(ids.collect::<Result<HashSet<_>, _>>()?)
}

/// The columns of `runs`, in the table's order (the appender fills them by position).
fn runs_columns(conn: &duckdb::Connection) -> Result<Vec<String>, StoreError> {
    // the table's own pragma: the catalog views (information_schema) cost tens of milliseconds
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('main.runs') ORDER BY cid")?;
    let names = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(names.collect::<Result<_, _>>()?)
}

/// One row per activity: a listing fetched page by page can show a run twice when runs are
/// added meanwhile; the most recently updated copy wins. Sorted by id.
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
