//! The runner's ledger: manual runs and overrides, kept beside the mirror in a table of their own.
//!
//! Nothing a sync does reaches this table: batches write `runs` (and its staging table),
//! deletions mark rows of `runs`, and the sync log is its own table. Entries are added and removed
//! only here, one statement each, by the runner's command.

use duckdb::{OptionalExt, params};
use jiff::Timestamp;
use jiff::civil::{Date, Time};
use myrunstreak_domain::{Distance, FileFormat, ImportedFile, LedgerEntry, LedgerItem, LedgerKind};

use crate::time::{from_micros, micros};
use crate::{Store, StoreError};

const SELECT: &str = "SELECT entry_id, kind, strftime(run_date, '%Y-%m-%d'), CAST(start_time AS VARCHAR), utc_offset_s,
        CAST(round(distance_km * 100000) AS BIGINT), duration_s, note, reason, epoch_us(created_utc),
        source, file_name, file_sha256, sport
    FROM ledger";

type Row = (Columns, FileColumns);
type FileColumns = (String, Option<String>, Option<String>, Option<String>);
type Columns = (
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
    let (id, kind, date, time, offset_s, cm, duration_s, note, reason, created) = row.0;
    let (source, file_name, sha256, sport) = row.1;
    let bad = |what: &str| StoreError::Unreadable(format!("ledger entry {id}: {what}"));
    let date: Date = date.parse().map_err(|e| bad(&format!("run_date: {e}")))?;
    let time: Option<Time> = time
        .map(|t| t.parse())
        .transpose()
        .map_err(|e| bad(&format!("start_time: {e}")))?;
    let file = match (source.as_str(), file_name, sha256) {
        ("manual", None, None) => None,
        (format, Some(name), Some(sha256)) => Some(ImportedFile {
            format: FileFormat::parse(format).ok_or_else(|| bad(&format!("source {format:?}")))?,
            name,
            sha256,
            sport,
        }),
        _ => return Err(bad(&format!("source {source:?} with the wrong columns"))),
    };
    let kind = match (kind.as_str(), cm, reason) {
        ("run", Some(cm), None) => LedgerKind::Run {
            distance: Distance::from_cm(cm),
            duration_s,
            note,
            file,
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
        let version = self.version;
        if version < 6 {
            return Ok(Vec::new());
        }
        // a file read before migration 7 has no imports: every entry is manual
        let select = if version < 7 {
            SELECT.replace(
                "source, file_name, file_sha256, sport",
                "'manual', CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR)",
            )
        } else {
            SELECT.to_owned()
        };
        let mut stmt = self
            .conn
            .prepare(&format!("{select} ORDER BY run_date, entry_id"))?;
        let rows = stmt.query_map([], |r| {
            Ok((
                (
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
                ),
                (r.get(10)?, r.get(11)?, r.get(12)?, r.get(13)?),
            ))
        })?;
        let mut entries = rows.map(|row| entry(row?)).collect::<Result<Vec<_>, _>>()?;
        self.attach_pushes(&mut entries)?;
        Ok(entries)
    }

    /// Records `item` made at `created`, and returns it with its new id. A second override of a
    /// day already overridden is refused ([`StoreError::AlreadyOverridden`]), and so is a file
    /// already imported, whatever its name ([`StoreError::AlreadyImported`]).
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
        let file = item.file();
        if let Some(file) = file {
            let existing: Option<i64> = tx
                .query_row(
                    "SELECT entry_id FROM ledger WHERE file_sha256 = ?",
                    params![file.sha256],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(entry) = existing {
                return Err(StoreError::AlreadyImported {
                    name: file.name.clone(),
                    entry,
                });
            }
        }
        let (kind, km, duration_s, note, reason) = match &item.kind {
            LedgerKind::Run {
                distance,
                duration_s,
                note,
                ..
            } => ("run", Some(distance.km()), *duration_s, note.clone(), None),
            LedgerKind::Override { reason } => ("override", None, None, None, Some(reason.clone())),
        };
        let id: i64 = tx.query_row(
            "INSERT INTO ledger (kind, run_date, start_time, utc_offset_s, distance_km, duration_s, note, reason, created_utc,
                                 source, file_name, file_sha256, sport)
             VALUES (?, CAST(? AS DATE), CAST(? AS TIME), ?, ?, ?, ?, ?, make_timestamp(?), ?, ?, ?, ?)
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
                micros(created),
                file.map_or("manual", |f| f.format.as_str()),
                file.map(|f| f.name.clone()),
                file.map(|f| f.sha256.clone()),
                file.and_then(|f| f.sport.clone())
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
            ("source", "VARCHAR"),
            ("file_name", "VARCHAR"),
            ("file_sha256", "VARCHAR"),
            ("sport", "VARCHAR"),
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

    fn imported(sha256: &str, name: &str) -> LedgerItem {
        LedgerItem::imported(
            "2026-03-09T21:10:00".parse().unwrap(),
            Offset::from_seconds(-5 * 3600).unwrap(),
            Distance::from_km(5.02).unwrap(),
            Some(1500.0),
            ImportedFile {
                format: FileFormat::Gpx,
                name: name.into(),
                sha256: sha256.into(),
                sport: Some("running".into()),
            },
        )
        .unwrap()
    }

    #[test]
    fn an_imported_run_keeps_its_file_and_the_same_file_is_one_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.duckdb");
        let mut store = Store::open(&path, Timestamp::UNIX_EPOCH).unwrap();
        let a = store
            .add_ledger_entry(&imported("ab12", "track.gpx"), Timestamp::UNIX_EPOCH)
            .unwrap();
        let err = store
            .add_ledger_entry(&imported("ab12", "copy.gpx"), Timestamp::UNIX_EPOCH)
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::AlreadyImported { entry, name } if *entry == a.id && name == "copy.gpx"),
            "{err}"
        );
        let b = store
            .add_ledger_entry(&imported("cd34", "other.gpx"), Timestamp::UNIX_EPOCH)
            .unwrap();
        drop(store);
        let store = Store::open_read_only(&path).unwrap();
        assert_eq!(store.ledger().unwrap(), vec![a.clone(), b]);
        let file = a.item.file().unwrap();
        assert_eq!(
            (file.name.as_str(), file.sha256.as_str()),
            ("track.gpx", "ab12")
        );
        assert_eq!(a.item.time, Some(time(21, 10, 0, 0)));
    }

    #[test]
    fn migration_7_keeps_the_entries_and_ids_of_a_version_6_ledger() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("six.duckdb");
        {
            let conn = duckdb::Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE schema_version (version BIGINT NOT NULL, applied_utc TIMESTAMP NOT NULL)")
                .unwrap();
            for (version, sql) in &crate::migrate::MIGRATIONS[..6] {
                conn.execute_batch(sql).unwrap();
                conn.execute(
                    "INSERT INTO schema_version VALUES (?, TIMESTAMP '2026-01-01')",
                    params![version],
                )
                .unwrap();
            }
            conn.execute_batch(
                "INSERT INTO ledger (kind, run_date, start_time, utc_offset_s, distance_km, duration_s, note, reason, created_utc) VALUES
                   ('run', DATE '2026-05-01', TIME '06:40:00', -18000, 3.0, 900.0, 'gym', NULL, TIMESTAMP '2026-05-02'),
                   ('override', DATE '2026-05-02', NULL, -18000, NULL, NULL, NULL, 'watch died', TIMESTAMP '2026-05-02')",
            )
            .unwrap();
        }
        let read_before = Store::open_read_only(&path).unwrap().ledger().unwrap();
        assert_eq!(
            read_before.len(),
            2,
            "read-only at version 6: manual entries"
        );
        let mut store = Store::open(&path, Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            crate::migrate::SCHEMA_VERSION
        );
        let after = store.ledger().unwrap();
        assert_eq!(after, read_before, "same ids, same entries");
        assert!(after.iter().all(|e| e.item.file().is_none()));
        let next = store
            .add_ledger_entry(&imported("ef56", "run.gpx"), Timestamp::UNIX_EPOCH)
            .unwrap();
        assert_eq!(next.id, 3, "the sequence goes on");
    }
}
