//! Ledger entries pushed to SmashRun: a table of its own beside the ledger (migration 8), so
//! that the ledger's rows stay as the runner made them.
//!
//! Whether a push is *confirmed* (the mirror has the activity) is never stored: it is read from
//! the mirror each time (the view `ledger_push_states`), so that a pushed activity later deleted
//! on SmashRun makes its entry count again, and nothing is lost.

use std::collections::HashMap;

use duckdb::params;
use jiff::Timestamp;
use myrunstreak_domain::{LedgerEntry, LedgerPush};

use crate::time::{from_micros, micros};
use crate::{Store, StoreError};

/// The schema that has `ledger_pushes`.
const PUSHES_SINCE: i64 = 8;

impl Store {
    /// Every push, by entry id, with whether the mirror has its activity.
    pub fn ledger_pushes(&self) -> Result<HashMap<i64, LedgerPush>, StoreError> {
        // a file opened read-only before migration 8 has pushed nothing
        if self.version < PUSHES_SINCE {
            return Ok(HashMap::new());
        }
        let mut stmt = self.conn.prepare(
            "SELECT entry_id, external_id, activity_id, epoch_us(pushed_utc), mirrored_id FROM ledger_push_states",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, Option<i64>>(4)?,
            ))
        })?;
        rows.map(|row| {
            let (entry, external_id, activity_id, pushed, mirrored) = row?;
            Ok((
                entry,
                LedgerPush::new(external_id, activity_id, pushed.map(from_micros), mirrored),
            ))
        })
        .collect()
    }

    /// Gives each entry its push, if it has one.
    pub(crate) fn attach_pushes(&self, entries: &mut [LedgerEntry]) -> Result<(), StoreError> {
        // the view reads every run to confirm pushes (28 ms over 100,000): not for no entries
        if entries.is_empty() {
            return Ok(());
        }
        let mut pushes = self.ledger_pushes()?;
        for entry in entries {
            entry.push = pushes.remove(&entry.id);
        }
        Ok(())
    }

    /// Records that entry `entry_id` is about to be pushed with `external_id`, at `now`; a push
    /// already recorded is kept as it is.
    pub fn record_push_attempt(
        &mut self,
        entry_id: i64,
        external_id: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO ledger_pushes (entry_id, external_id, attempted_utc) VALUES (?, ?, make_timestamp(?))
             ON CONFLICT DO NOTHING",
            params![entry_id, external_id, micros(now)],
        )?;
        Ok(())
    }

    /// Records that entry `entry_id` is SmashRun's activity `activity_id`, known at `now`.
    pub fn record_pushed(
        &mut self,
        entry_id: i64,
        activity_id: i64,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let changed = self.conn.execute(
            "UPDATE ledger_pushes SET activity_id = ?, pushed_utc = make_timestamp(?) WHERE entry_id = ?",
            params![activity_id, micros(now), entry_id],
        )?;
        if changed == 0 {
            return Err(StoreError::Unreadable(format!(
                "ledger entry {entry_id} has no push attempt to complete"
            )));
        }
        Ok(())
    }

    /// Forgets an attempt to push entry `entry_id` that SmashRun is known to have refused; a
    /// completed push is kept.
    pub fn forget_push_attempt(&mut self, entry_id: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM ledger_pushes WHERE entry_id = ? AND activity_id IS NULL",
            params![entry_id],
        )?;
        Ok(())
    }

    /// Forgets the push of entry `entry_id` (the entry is being removed).
    pub(crate) fn forget_push(&self, entry_id: i64) -> Result<(), StoreError> {
        self.conn.execute(
            "DELETE FROM ledger_pushes WHERE entry_id = ?",
            params![entry_id],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use jiff::tz::Offset;
    use myrunstreak_domain::{Distance, LedgerItem, PushState};

    use super::*;

    #[test]
    fn a_push_is_attempted_then_completed_and_goes_with_its_entry() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("p.duckdb"), Timestamp::UNIX_EPOCH).unwrap();
        let at: Timestamp = "2026-05-03T08:00:00Z".parse().unwrap();
        let item = LedgerItem::run(
            date(2026, 5, 2),
            None,
            Offset::UTC,
            Distance::from_km(2.0).unwrap(),
            None,
            None,
        )
        .unwrap();
        let entry = store.add_ledger_entry(&item, at).unwrap();
        assert_eq!(store.ledger().unwrap()[0].push, None);
        store.record_push_attempt(entry.id, "refused", at).unwrap();
        store.forget_push_attempt(entry.id).unwrap();
        assert_eq!(
            store.ledger().unwrap()[0].push,
            None,
            "a refused attempt is forgotten"
        );
        assert!(store.record_pushed(entry.id, 42, at).is_err(), "no attempt");

        store.record_push_attempt(entry.id, "x-1", at).unwrap();
        let push = store.ledger().unwrap()[0].push.clone().unwrap();
        assert_eq!(
            (push.state, push.external_id.as_str(), push.activity_id),
            (PushState::Attempted, "x-1", None)
        );
        // a second attempt keeps the first external id
        store.record_push_attempt(entry.id, "x-2", at).unwrap();
        store.record_pushed(entry.id, 42, at).unwrap();
        let push = store.ledger().unwrap()[0].push.clone().unwrap();
        assert_eq!(
            (
                push.state,
                push.external_id.as_str(),
                push.activity_id,
                push.pushed_at
            ),
            (PushState::Pushed, "x-1", Some(42), Some(at)),
            "the mirror has no run 42"
        );

        store.forget_push_attempt(entry.id).unwrap();
        assert!(
            store.ledger().unwrap()[0].push.is_some(),
            "a completed push is kept"
        );
        store.remove_ledger_entry(entry.id).unwrap();
        assert!(store.ledger_pushes().unwrap().is_empty());
    }

    #[test]
    fn the_migrated_pushes_have_the_declared_columns() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("p.duckdb"), Timestamp::UNIX_EPOCH).unwrap();
        let migrated = store.migrated_columns("ledger_pushes");
        let expected: std::collections::BTreeMap<String, String> = [
            ("entry_id", "BIGINT"),
            ("external_id", "VARCHAR"),
            ("activity_id", "BIGINT"),
            ("attempted_utc", "TIMESTAMP"),
            ("pushed_utc", "TIMESTAMP"),
        ]
        .into_iter()
        .map(|(n, t)| (n.to_owned(), t.to_owned()))
        .collect();
        assert_eq!(migrated, expected);
    }
}
