use std::path::PathBuf;

use thiserror::Error;

/// What can go wrong with the database file, each with what to do about it.
#[derive(Debug, Error)]
pub enum StoreError {
    /// Another process (a sync, or `serve`) has the file open for writing.
    #[error(
        "the database {path} is in use by another MyRunStreak process (a sync or `serve`); wait for it to finish, or stop it, and try again"
    )]
    Locked {
        /// The file.
        path: PathBuf,
    },
    /// The file exists but is not a DuckDB database.
    #[error(
        "{path} is not a DuckDB database; it was left untouched. Point DUCKDB_PATH at another file, or move this one away"
    )]
    NotDuckDb {
        /// The file.
        path: PathBuf,
    },
    /// The file was written by a newer MyRunStreak.
    #[error(
        "{path} has schema version {found}, newer than this MyRunStreak understands ({supported}); it was left untouched. Upgrade MyRunStreak"
    )]
    NewerSchema {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// A file from someone else holds more than a MyRunStreak database does.
    #[error("{path} is not a plain MyRunStreak database ({detail}); it was not read")]
    Untrusted {
        /// The file.
        path: PathBuf,
        /// What it holds.
        detail: String,
    },
    /// The database file does not exist (read-only opening).
    #[error("no database at {path} yet; run `myrunstreak sync` first")]
    Missing {
        /// The file.
        path: PathBuf,
    },
    /// A stored value that cannot be what it claims (a corrupt row).
    #[error("stored run {activity_id} is unreadable: {detail}")]
    Corrupt {
        /// The run.
        activity_id: i64,
        /// What was wrong.
        detail: String,
    },
    /// A stored value other than a run that cannot be what it claims.
    #[error("a stored value is unreadable: {0}")]
    Unreadable(String),
    /// A batch of runs could not be laid out for the database (a bug: the columns in `runs` and
    /// their declaration disagree); nothing of the batch was written.
    #[error(
        "a batch of runs could not be written ({0}); nothing of it was written. Please report this"
    )]
    Batch(String),
    /// The day already has an override in the ledger.
    #[error(
        "{date} is already overridden (ledger entry {entry}); remove that override first to record another"
    )]
    AlreadyOverridden {
        /// The day.
        date: jiff::civil::Date,
        /// The override that is there.
        entry: i64,
    },
    /// This file (by its content hash) is in the ledger already.
    #[error("{name} is already imported as ledger entry {entry}")]
    AlreadyImported {
        /// The file's name as given this time.
        name: String,
        /// The entry it was imported as.
        entry: i64,
    },
    /// The file system refused.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was attempted.
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Any other DuckDB error.
    #[error("database error: {0}")]
    DuckDb(#[from] duckdb::Error),
}
