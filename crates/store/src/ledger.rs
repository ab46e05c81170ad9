//! The runner's ledger: manual runs and overrides, kept beside the mirror in a table of their own.
//!
//! Nothing a sync does reaches this table: batches write `runs` (and its staging table),
//! deletions mark rows of `runs`, and the sync log is its own table. Entries are added and removed
//! only here, one statement each, by the runner's command.

use duckdb::{OptionalExt, params};
use jiff::Timestamp;
use jiff::civil::{Date, Time};
use myrunstreak_domain::{Distance, LedgerEntry, LedgerItem, LedgerKind};

use crate::time::{from_micros, micros};
use crate::{Store, StoreError};

const SELECT: &str = "SELECT entry_id, kind, strftime(run_date, '%Y-%m-%d'), CAST(start_time AS VARCHAR), utc_offset_s,
        CAST(round(distance_km * 100000) AS BIGINT), duration_s, note, reason, epoch_us(created_utc)
    FROM ledger";

type Row = (
    i64,
    String,
    String,
    Option<String>,
    i32,
    Option<i64>,
    Option<f64>,
    Option<String>,
    Option<String>,
    i64,
);

fn entry(row: Row) -> Result<LedgerEntry, StoreError> {
    let (id, kind, date, time, offset_s, cm, duration_s, note, reason, created) = row;
    let bad = |what: &str| StoreError::Unreadable(format!("ledger entry {id}: {what}"));
    let date: Date = date.parse().map_err(|e| bad(&format!("run_date: {e}")))?;
    let time: Option<Time> = time
        .map(|t| t.parse())
        .transpose()
        .map_err(|e| bad(&format!("start_time: {e}")))?;
    let kind = match (kind.as_str(), cm, reason) {
        ("run", Some(cm), None) => LedgerKind::Run {
            distance: Distance::from_cm(cm),
            duration_s,
            note,
        },
        ("override", None, Some(reason)) => LedgerKind::Override { reason },
        _ => return Err(bad(&format!("kind {kind:?} with the wrong columns"))),
    };
    Ok(LedgerEntry {
        id,
        created: from_micros(created),
        item: LedgerItem {
            date,
            time,
            utc_offset_s: offset_s,
            kind,
        },
        push: None,
    })
}

impl Store {
    /// Every ledger entry, by day, then by id. A file opened read-only before migration 6 has
    /// no ledger yet: it has no entries.
    pub fn ledger(&self) -> Result<Vec<LedgerEntry>, StoreError> {
        if self.read_only && self.schema_version()? < 6 {
            return Ok(Vec::new());
        }
        let mut stmt = self
            .conn
            .prepare(&format!("{SELECT} ORDER BY run_date, entry_id"))?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
            ))
        })?;
        let mut entries = rows.map(|row| entry(row?)).collect::<Result<Vec<_>, _>>()?;
        self.attach_pushes(&mut entries)?;
        Ok(entries)
    }

    /// Records `item` made at `created`, and returns it with its new id. A second override of a
    /// day already overridden is refused ([`StoreError::AlreadyOverridden`]).
    pub fn add_ledger_entry(
        &mut self,
        item: &LedgerItem,
        created: Timestamp,
    ) -> Result<LedgerEntry, StoreError> {
        let tx = self.conn.transaction()?;
        if item.is_override() {
            let existing: Option<i64> = tx
                .query_row(
                    "SELECT entry_id FROM ledger WHERE kind = 'override' AND run_date = CAST(? AS DATE)",
                    params![item.date.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(entry) = existing {
                return Err(StoreError::AlreadyOverridden {
                    date: item.date,
                    entry,
                });
            }
        }
        let (kind, km, duration_s, note, reason) = match &item.kind {
            LedgerKind::Run {
                distance,
                duration_s,
                note,
            } => ("run", Some(distance.km()), *duration_s, note.clone(), None),
            LedgerKind::Override { reason } => ("override", None, None, None, Some(reason.clone())),
        };
        let id: i64 = tx.query_row(
            "INSERT INTO ledger (kind, run_date, start_time, utc_offset_s, distance_km, duration_s, note, reason, created_utc)
             VALUES (?, CAST(? AS DATE), CAST(? AS TIME), ?, ?, ?, ?, ?, make_timestamp(?))
             RETURNING entry_id",
            params![
                kind,
                item.date.to_string(),
                item.time.map(|t| t.strftime("%H:%M:%S").to_string()),
                item.utc_offset_s,
                km,
                duration_s,
                note,
                reason,
                micros(created)
            ],
            |r| r.get(0),
        )?;
        tx.commit()?;
        Ok(LedgerEntry {
            id,
            created: from_micros(micros(created)),
            item: item.clone(),
            push: None,
        })
    }

    /// Removes the entry `id`; returns it, or `None` when there is no such entry.
    pub fn remove_ledger_entry(&mut self, id: i64) -> Result<Option<LedgerEntry>, StoreError> {
        let found = self.ledger()?.into_iter().find(|e| e.id == id);
        if found.is_some() {
            self.forget_push(id)?;
            self.conn
                .execute("DELETE FROM ledger WHERE entry_id = ?", params![id])?;
        }
        Ok(found)
    }

    /// Removes the override of `date`; returns it, or `None` when the day has none.
    pub fn remove_override(&mut self, date: Date) -> Result<Option<LedgerEntry>, StoreError> {
        let found = self
            .ledger()?
            .into_iter()
            .find(|e| e.item.date == date && e.item.is_override());
        match found {
            Some(e) => Ok(self.remove_ledger_entry(e.id)?),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use jiff::civil::{date, time};
    use jiff::tz::Offset;

    use super::*;

    #[test]
    fn the_migrated_ledger_has_the_declared_columns() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("l.duckdb"), Timestamp::UNIX_EPOCH).unwrap();
        let migrated = store.migrated_columns("ledger");
        let expected: BTreeMap<String, String> = [
            ("entry_id", "BIGINT"),
            ("kind", "VARCHAR"),
            ("run_date", "DATE"),
            ("start_time", "TIME"),
            ("utc_offset_s", "INTEGER"),
            ("distance_km", "DOUBLE"),
            ("duration_s", "DOUBLE"),
            ("note", "VARCHAR"),
            ("reason", "VARCHAR"),
            ("created_utc", "TIMESTAMP"),
        ]
        .into_iter()
        .map(|(n, t)| (n.to_owned(), t.to_owned()))
        .collect();
        assert_eq!(migrated, expected);
    }

    #[test]
    fn entries_keep_their_ids_round_trip_and_are_removed_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.duckdb");
        let mut store = Store::open(&path, Timestamp::UNIX_EPOCH).unwrap();
        let created: Timestamp = "2026-05-03T08:00:00.123456Z".parse().unwrap();
        let offset = Offset::from_seconds(-5 * 3600).unwrap();
        let run = LedgerItem::run(
            date(2026, 5, 2),
            Some(time(6, 40, 0, 0)),
            offset,
            Distance::from_miles(1.2).unwrap(),
            Some(690.0),
            Some("treadmill at the gym".into()),
        )
        .unwrap();
        let untimed = LedgerItem::run(
            date(2026, 5, 1),
            None,
            offset,
            Distance::from_km(3.0).unwrap(),
            None,
            None,
        )
        .unwrap();
        let over = LedgerItem::override_day(date(2026, 5, 2), offset, "watch died").unwrap();
        let a = store.add_ledger_entry(&run, created).unwrap();
        let b = store.add_ledger_entry(&untimed, created).unwrap();
        let c = store.add_ledger_entry(&over, created).unwrap();
        assert_eq!((a.id, b.id, c.id), (1, 2, 3));
        let err = store.add_ledger_entry(&over, created).unwrap_err();
        assert!(
            matches!(err, StoreError::AlreadyOverridden { entry: 3, .. }),
            "{err}"
        );
        drop(store);

        let mut store = Store::open(&path, Timestamp::UNIX_EPOCH).unwrap();
        let listed = store.ledger().unwrap();
        assert_eq!(
            listed,
            vec![b.clone(), a.clone(), c.clone()],
            "by day, then id"
        );
        assert_eq!(listed[1].item, run, "exact distance, time and note");
        assert_eq!(listed[1].created, created);

        assert_eq!(store.remove_override(date(2026, 5, 1)).unwrap(), None);
        assert_eq!(store.remove_override(date(2026, 5, 2)).unwrap(), Some(c));
        assert_eq!(store.remove_ledger_entry(1).unwrap(), Some(a));
        assert_eq!(store.remove_ledger_entry(1).unwrap(), None);
        // ids are never reused
        let d = store.add_ledger_entry(&over, created).unwrap();
        assert_eq!(d.id, 4);
        assert_eq!(store.ledger().unwrap(), vec![b, d]);
    }
}
