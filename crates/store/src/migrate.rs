//! The schema's versions: numbered migrations, applied in order on open, all pending ones in one
//! transaction. A released migration is never edited; a change is a new one.

use duckdb::params;
use jiff::Timestamp;

use crate::time::micros;
use crate::{Store, StoreError};

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = 9;

pub(crate) const MIGRATIONS: [(i64, &str); 9] = [
    (1, include_str!("migrations/001_initial.sql")),
    (2, include_str!("migrations/002_offset_assumed.sql")),
    (3, include_str!("migrations/003_pending_deletions.sql")),
    (
        4,
        include_str!("migrations/004_staging_from_the_declaration.sql"),
    ),
    (5, include_str!("migrations/005_reminders_sent.sql")),
    (6, include_str!("migrations/006_ledger.sql")),
    (7, include_str!("migrations/007_ledger_imports.sql")),
    (8, include_str!("migrations/008_ledger_pushes.sql")),
    (9, include_str!("migrations/009_raw_json_zstd.sql")),
];

impl Store {
    /// The schema version of the file (0 for an empty file).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.applied_versions()?.into_iter().max().unwrap_or(0))
    }

    /// The versions recorded in the file (none in an empty file).
    fn applied_versions(&self) -> Result<Vec<i64>, StoreError> {
        // the table is read straight away: asking `duckdb_tables()` first whether it exists
        // cost 13-21 ms of every open (the first scan of the catalog), a fifth of a reader's
        // process (scripts/bench-sync); that question is left for an error DuckDB words otherwise
        let read = self
            .conn
            .prepare("SELECT version FROM schema_version")
            .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect());
        match read {
            Ok(versions) => Ok(versions),
            Err(e) if names_missing_table(&e, "schema_version") => Ok(Vec::new()),
            Err(e) => {
                let exists: i64 = self.conn.query_row(
                    "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = 'schema_version'",
                    [],
                    |r| r.get(0),
                )?;
                if exists == 0 {
                    Ok(Vec::new())
                } else {
                    Err(e.into())
                }
            }
        }
    }

    /// Applies the migrations the file lacks, recording each as applied at `now`.
    pub(crate) fn migrate(&mut self, now: Timestamp) -> Result<(), StoreError> {
        let applied = self.applied_versions()?;
        let current = applied.iter().copied().max().unwrap_or(0);
        if current > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: self.path.clone(),
                found: current,
                supported: SCHEMA_VERSION,
            });
        }
        // the versions not recorded, rather than those above the newest recorded: migrations
        // numbered on parallel branches may be released out of order
        let pending: Vec<_> = MIGRATIONS
            .iter()
            .filter(|(v, _)| !applied.contains(v))
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        // all pending migrations in one transaction: the file is at the old version or the new,
        // and a new file costs one commit instead of one per migration
        let tx = self.conn.transaction()?;
        tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL, applied_utc TIMESTAMP NOT NULL)")?;
        for (version, sql) in pending {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_version VALUES (?, make_timestamp(?))",
                params![version, micros(now)],
            )?;
            tracing::debug!(version, path = %self.path.display(), "database schema migrated");
        }
        tx.commit()?;
        Ok(())
    }
}

/// Whether `e` is DuckDB saying that `table` does not exist (its words since 0.x: "Table with
/// name schema_version does not exist!").
fn names_missing_table(e: &duckdb::Error, table: &str) -> bool {
    let text = e.to_string();
    text.contains(&format!("Table with name {table} does not exist"))
}

#[cfg(test)]
impl Store {
    /// The migrated columns of `table` in `main`, by name, with their types: what the tests of
    /// each table compare with its declaration.
    pub(crate) fn migrated_columns(
        &self,
        table: &str,
    ) -> std::collections::BTreeMap<String, String> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT column_name, data_type FROM information_schema.columns
                 WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name = ?",
            )
            .unwrap();
        stmt.query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_without_the_table_is_at_version_zero_without_asking_the_catalog() {
        // DuckDB's own words for a missing table: if they change, every open falls back to the
        // catalog scan (correct, 13-21 ms slower) and this test says so
        let conn = duckdb::Connection::open_in_memory().unwrap();
        let Err(err) = conn.prepare("SELECT version FROM schema_version") else {
            panic!("no table yet");
        };
        assert!(names_missing_table(&err, "schema_version"), "{err}");
        assert!(!names_missing_table(&err, "runs"), "{err}");

        // a DuckDB file of someone else's is at version 0 and gets the schema; a table by that
        // name that cannot be read as ours is an error, not an empty file
        let dir = tempfile::tempdir().unwrap();
        let theirs = dir.path().join("theirs.duckdb");
        duckdb::Connection::open(&theirs)
            .unwrap()
            .execute_batch("CREATE TABLE notes (text VARCHAR)")
            .unwrap();
        assert_eq!(
            Store::open_read_only(&theirs)
                .unwrap()
                .schema_version()
                .unwrap(),
            0
        );
        let odd = dir.path().join("odd.duckdb");
        duckdb::Connection::open(&odd)
            .unwrap()
            .execute_batch("CREATE TABLE schema_version (release VARCHAR)")
            .unwrap();
        assert!(Store::open_read_only(&odd).is_err());
        let store = Store::open(&theirs, Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn migration_9_keeps_every_raw_json_and_stores_it_with_zstd() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("eight.duckdb");
        let raw = r#"{"activityId":7,"notes":"caf\u00e9 \"run\"","distance":5.0}"#;
        {
            let conn = duckdb::Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE schema_version (version BIGINT NOT NULL, applied_utc TIMESTAMP NOT NULL)")
                .unwrap();
            for (version, sql) in &MIGRATIONS[..8] {
                conn.execute_batch(sql).unwrap();
                conn.execute(
                    "INSERT INTO schema_version VALUES (?, TIMESTAMP '2026-01-01')",
                    duckdb::params![version],
                )
                .unwrap();
            }
            conn.execute(
                "INSERT INTO runs (activity_id, start_local, start_utc, start_local_wall, utc_offset_s, run_date, distance_km, raw_json, first_seen_utc, last_seen_utc)
                 VALUES (7, '2026-05-01T07:00:00-04:00', TIMESTAMP '2026-05-01 11:00', TIMESTAMP '2026-05-01 07:00', -14400, DATE '2026-05-01', 5.0, ?, TIMESTAMP '2026-05-02', TIMESTAMP '2026-05-02')",
                [raw],
            )
            .unwrap();
        }
        let store = Store::open(&path, Timestamp::UNIX_EPOCH).unwrap();
        assert_eq!(store.schema_version().unwrap(), 9);
        let kept: String = store
            .conn
            .query_row("SELECT raw_json FROM runs WHERE activity_id = 7", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(kept, raw, "the raw JSON exactly as it was");
        let same: i64 = store
            .conn
            .query_row(
                "SELECT count(*) FROM runs WHERE activity_id = 7 AND start_local = '2026-05-01T07:00:00-04:00'
                   AND start_utc = TIMESTAMP '2026-05-01 11:00' AND utc_offset_s = -14400 AND run_date = DATE '2026-05-01'
                   AND distance_km = 5.0 AND first_seen_utc = TIMESTAMP '2026-05-02' AND NOT offset_assumed
                   AND missing_since_utc IS NULL AND deleted_utc IS NULL",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(same, 1, "every other column as it was, the defaults too");
        assert!(
            store
                .conn
                .execute_batch("INSERT INTO runs BY NAME SELECT * FROM runs")
                .is_err(),
            "still keyed by activity_id"
        );
        assert!(
            store
                .conn
                .execute("UPDATE runs SET raw_json = NULL WHERE activity_id = 7", [])
                .is_err(),
            "still NOT NULL"
        );
        store.conn.execute_batch("CHECKPOINT").unwrap();
        let compression: String = store
            .conn
            .query_row(
                "SELECT compression FROM pragma_storage_info('runs') WHERE column_name = 'raw_json' AND segment_type = 'VARCHAR'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(compression, "ZSTD");
    }
}
