//! The sync log: one line per sync, opened when it starts and closed with what it changed.

use duckdb::params;
use jiff::Timestamp;

use crate::time::{from_micros, micros};
use crate::{Store, StoreError, SyncCounts, SyncOutcome, SyncRecord, SyncStatus};

impl Store {
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
}
