//! The schema's versions: numbered migrations, applied in order on open, all pending ones in one
//! transaction. A released migration is never edited; a change is a new one.

use duckdb::params;
use jiff::Timestamp;

use crate::time::micros;
use crate::{Store, StoreError};

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = 8;

pub(crate) const MIGRATIONS: [(i64, &str); 8] = [
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
];

impl Store {
    /// The schema version of the file (0 for an empty file).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        let exists: i64 = self.conn.query_row(
            // duckdb_tables(), not the information_schema view: a fifth of the time on every open
            "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = 'schema_version'",
            [],
            |r| r.get(0),
        )?;
        if exists == 0 {
            return Ok(0);
        }
        Ok(self.conn.query_row(
            "SELECT coalesce(max(version), 0) FROM schema_version",
            [],
            |r| r.get(0),
        )?)
    }

    /// Applies the migrations the file lacks, recording each as applied at `now`.
    pub(crate) fn migrate(&mut self, now: Timestamp) -> Result<(), StoreError> {
        let current = self.schema_version()?;
        if current > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: self.path.clone(),
                found: current,
                supported: SCHEMA_VERSION,
            });
        }
        // the versions not recorded, rather than those above the newest recorded: migrations
        // numbered on parallel branches may be released out of order
        let applied: Vec<i64> = if current == 0 {
            Vec::new()
        } else {
            let mut stmt = self.conn.prepare("SELECT version FROM schema_version")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
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
