//! Opening a database file: creating it, refusing what is not a MyRunStreak database (or is
//! locked by another writer), and bringing its schema up to date.

use std::path::Path;

use duckdb::{AccessMode, Config, Connection, params};
use jiff::Timestamp;

use crate::time::micros;
use crate::{SCHEMA_VERSION, Store, StoreError};

impl Store {
    /// Opens (creating it and its folder if needed) the database for reading and writing, and
    /// brings its schema up to date. Syncs left `running` by a killed process are marked
    /// `interrupted`.
    pub fn open(path: impl AsRef<Path>, now: Timestamp) -> Result<Store, StoreError> {
        let path = path.as_ref().to_owned();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Io {
                action: "creating the folder of",
                path: path.clone(),
                source,
            })?;
        }
        let conn = Connection::open(&path).map_err(|e| classify(e, &path))?;
        // the writer appends batches of a thousand runs: one thread and a small cache hold
        // DuckDB's own memory to what a batch needs (it spills to `<file>.tmp` past that). A
        // 100,000-run full sync peaked at 330-430 MB without them, 204-243 MB with them, in
        // the same time (scripts/bench-sync)
        conn.execute_batch("SET threads = 1; SET memory_limit = '64MB'")?;
        let mut store = Store {
            conn,
            path,
            read_only: false,
            runs_columns: None,
        };
        store.migrate(now)?;
        store.conn.execute(
            "UPDATE sync_log SET status = 'interrupted', finished_utc = make_timestamp(?), error = 'the process stopped before the sync finished' WHERE status = 'running'",
            params![micros(now)],
        )?;
        Ok(store)
    }

    /// Opens an existing database for reading only (many readers may do so at once, but not
    /// while a writer holds it).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref().to_owned();
        if !path.exists() {
            return Err(StoreError::Missing { path });
        }
        let config = Config::default().access_mode(AccessMode::ReadOnly)?;
        let conn = Connection::open_with_flags(&path, config).map_err(|e| classify(e, &path))?;
        let store = Store {
            conn,
            path,
            read_only: true,
            runs_columns: None,
        };
        let version = store.schema_version()?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                path: store.path,
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        Ok(store)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
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
