//! Opening a database file: creating it, refusing what is not a MyRunStreak database (or is
//! locked by another writer), and bringing its schema up to date.

use std::path::Path;

use duckdb::{AccessMode, Config, Connection, params};
use jiff::Timestamp;

use crate::time::micros;
use crate::{SCHEMA_VERSION, Store, StoreError};

/// How much a commit may leave in the write-ahead log before DuckDB checkpoints the file at
/// that commit. A commit larger than this (a sync's runs: 8 MB for 10,000) is checkpointed
/// straight into the file without being written to the log first; smaller ones go to the log
/// and are checkpointed at close, as before. Writing 10,000 runs to the log and checkpointing
/// them at close took 159 ms, checkpointing them at their commit 119 ms; 100,000 runs in
/// twenty commits of 5,000 took 3.3 s under DuckDB's default (16 MB: a checkpoint every few
/// commits, each rewriting the growing row group), in one commit 1.4 s (timed by inserting
/// scripts/bench-sync's files into new ones).
const CHECKPOINT_AFTER: &str = "1MB";

impl Store {
    /// Opens (creating it and its folder if needed) the database for reading and writing, and
    /// brings its schema up to date. Syncs left `running` by a killed process are marked
    /// `interrupted`.
    pub fn open(path: impl AsRef<Path>, now: Timestamp) -> Result<Store, StoreError> {
        let path = path.as_ref().to_owned();
        create_folder_of(&path)?;
        let conn = Connection::open_with_flags(&path, Store::writer_config()?)
            .map_err(|e| classify(e, &path))?;
        let mut store = Store {
            conn,
            path,
            version: 0,
            writing: None,
            group: None,
        };
        store.migrate(now)?;
        store.version = SCHEMA_VERSION;
        store.conn.execute(
            "UPDATE sync_log SET status = 'interrupted', finished_utc = make_timestamp(?), error = 'the process stopped before the sync finished' WHERE status = 'running'",
            params![micros(now)],
        )?;
        Ok(store)
    }

    /// The settings the writer opens a file with ([`Store::open`]; the `write_floor` example
    /// times DuckDB under the same). The writer appends batches of a thousand runs: one thread
    /// and a small cache hold DuckDB's own memory to what a batch needs (it spills to
    /// `<file>.tmp` past that). A 100,000-run full sync peaked at 330-430 MB without them,
    /// 204-243 MB with them, in the same time (scripts/bench-sync). Set at open, DuckDB never
    /// starts the other threads. A large commit is checkpointed at once (`CHECKPOINT_AFTER`).
    pub fn writer_config() -> Result<Config, StoreError> {
        Ok(Config::default()
            .threads(1)?
            .max_memory("64MB")?
            .with("checkpoint_threshold", CHECKPOINT_AFTER)?)
    }

    /// Opens an existing database for reading only (many readers may do so at once, but not
    /// while a writer holds it).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_owned();
        if !path.exists() {
            return Err(StoreError::Missing { path });
        }
        let conn =
            Connection::open_with_flags(&path, reader_config()?).map_err(|e| classify(e, &path))?;
        Store::read_only(conn, path)
    }

    /// A read-only store over `conn`, refusing a file from a newer schema.
    fn read_only(conn: Connection, path: std::path::PathBuf) -> Result<Store, StoreError> {
        let mut store = Store {
            conn,
            path,
            version: 0,
            writing: None,
            group: None,
        };
        store.version = store.schema_version()?;
        if store.version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: store.path,
                found: store.version,
                supported: SCHEMA_VERSION,
            });
        }
        Ok(store)
    }

    /// Opens a file someone else made (a runner's upload) for reading only, with nothing in it
    /// able to reach beyond it: DuckDB's access to files, URLs and extensions is off and locked,
    /// and a file whose tables are not plain tables (views, macros: they could read other files
    /// or compute what a table would be; only the schema's own view is allowed) is refused as
    /// [`StoreError::Untrusted`].
    pub fn open_untrusted(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_owned();
        if !path.exists() {
            return Err(StoreError::Missing { path });
        }
        let config = reader_config()?
            .enable_external_access(false)?
            .enable_autoload_extension(false)?
            .with("autoinstall_known_extensions", "false")?
            .with("lock_configuration", "true")?;
        let conn = Connection::open_with_flags(&path, config).map_err(|e| classify(e, &path))?;
        let user_objects: i64 = conn.query_row(
            "SELECT (SELECT count(*) FROM duckdb_views() WHERE NOT internal AND view_name NOT IN ('ledger_push_states'))
                  + (SELECT count(*) FROM (VALUES ('runs'), ('ledger')) AS wanted(name)
                     WHERE name NOT IN (SELECT table_name FROM duckdb_tables()))
                  + (SELECT count(*) FROM duckdb_functions() WHERE NOT internal AND function_type IN ('macro', 'table_macro'))",
            [],
            |r| r.get(0),
        )?;
        if user_objects > 0 {
            return Err(StoreError::Untrusted {
                path,
                detail: format!("{user_objects} view(s), macro(s) or missing table(s) of its own"),
            });
        }
        Store::read_only(conn, path)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Creates the folder `path` is in, if it has one and it is missing.
/// Every reader's DuckDB settings: read-only, and one thread (a reader's queries are small, and
/// DuckDB's pool of one thread per core took a third of the open: 28 against 50-90 ms for a
/// 100,000-run file).
fn reader_config() -> Result<Config, StoreError> {
    Ok(Config::default()
        .access_mode(AccessMode::ReadOnly)?
        .threads(1)?)
}

pub(crate) fn create_folder_of(path: &Path) -> Result<(), StoreError> {
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(parent) => std::fs::create_dir_all(parent).map_err(|source| StoreError::Io {
            action: "creating the folder of",
            path: path.to_owned(),
            source,
        }),
        None => Ok(()),
    }
}

pub(crate) fn classify(e: duckdb::Error, path: &Path) -> StoreError {
    let text = e.to_string();
    if text.contains("Could not set lock") || text.contains("Conflicting lock") {
        StoreError::Locked {
            path: path.to_owned(),
        }
    } else if text.contains("not a valid DuckDB database")
        || text.contains("Unable to open database") && text.contains("not a valid")
    {
        StoreError::NotDuckDb {
            path: path.to_owned(),
        }
    } else {
        StoreError::DuckDb(e)
    }
}

#[cfg(test)]
mod untrusted_tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-11-29T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn an_upload_with_views_or_macros_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("secret.txt");
        std::fs::write(&secret, "site key").unwrap();
        for (name, sql) in [
            (
                "view",
                format!(
                    "CREATE VIEW peek AS SELECT content FROM read_text('{}')",
                    secret.display()
                ),
            ),
            ("macro", "CREATE MACRO twice(x) AS x * 2".to_owned()),
        ] {
            let path = dir.path().join(format!("{name}.duckdb"));
            Store::open(&path, now())
                .unwrap()
                .conn
                .execute_batch(&sql)
                .unwrap();
            let err = Store::open_untrusted(&path).unwrap_err();
            assert!(matches!(err, StoreError::Untrusted { .. }), "{name}: {err}");
        }
        // a plain database opens, and cannot read other files from inside
        let plain = dir.path().join("plain.duckdb");
        drop(Store::open(&plain, now()).unwrap());
        let store = Store::open_untrusted(&plain).unwrap();
        let sql = format!("SELECT content FROM read_text('{}')", secret.display());
        assert!(
            store
                .conn
                .query_row(&sql, [], |r| r.get::<_, String>(0))
                .is_err()
        );
        assert!(
            store
                .conn
                .execute_batch("SET enable_external_access = true")
                .is_err()
        );
    }
}
