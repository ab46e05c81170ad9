//! The DuckDB mirror of a runner's SmashRun history.
//!
//! One file (default `./data/runs.duckdb`) holds every run with typed columns and its raw JSON,
//! a log of every sync, the runs that could not be read (raw, with the reason), and optional
//! details. The schema is versioned; numbered migrations run on open and are never edited once
//! released. A file that is not DuckDB, or is from a newer schema, is refused and left untouched.
//!
//! Writes are batched, one transaction a batch (or, during a sync, one for all its batches):
//! runs new to `runs` are appended straight into it as an Arrow record batch, runs already
//! stored are appended the same way to a staging table and merged with one statement. A process
//! killed mid-way leaves the file as it was before the transaction. A commit larger than about
//! a megabyte is checkpointed straight into the file; smaller ones go through the write-ahead
//! log, checkpointed at close. DuckDB's file lock makes the store single-writer: a second
//! writer gets [`StoreError::Locked`] at once instead of waiting.
//!
//! The columns a batch writes are declared once: the store's own (start, distance, instants,
//! raw JSON) in `columns.rs`, and one per run attribute from the domain's
//! [`RunAttributes`](myrunstreak_domain::RunAttributes); the record batches, the staging table
//! and the merge are built from that list, and a test checks it against the migrated `runs`.
//!
//! This crate knows DuckDB and the domain, nothing of SmashRun's wire format (keys, JSON
//! parsing) or of HTTP; it never reads the environment, and takes "now" as an argument.
//!
//! Each concern is one module adding to [`Store`]: opening and migrating, writing batches,
//! deletions, the sync log, reading runs back, details, export, reminders sent, the runner's
//! ledger (manual runs and overrides, in a table no sync touches), the ledger's pushes to
//! SmashRun (`push`), and small stored values.

pub mod accounts;
mod columns;
mod deletions;
mod details;
mod error;
mod export;
mod ledger;
mod meta;
mod migrate;
mod open;
mod push;
mod read;
mod reminders;
mod rows;
mod sync_log;
mod time;
mod write;

use std::path::PathBuf;

use duckdb::Connection;

pub use accounts::Accounts;
pub use error::StoreError;
pub use export::ExportFormat;
pub use migrate::SCHEMA_VERSION;
pub use reminders::SentReminder;
pub use rows::{
    PendingDeletion, RejectedRow, RunFilter, RunRow, StoredRun, SyncCounts, SyncOutcome,
    SyncRecord, SyncStatus,
};

/// An open database file.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// The schema version of the file, read at open (no other process can migrate it while this
    /// one has it open: DuckDB's lock keeps writers and readers apart).
    version: i64,
    /// What the writer learns once per open (see `write.rs`).
    writing: Option<write::Writing>,
    /// Writes grouped into fewer transactions, during a sync (see `write.rs`).
    group: Option<write::Group>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("version", &self.version)
            .finish()
    }
}
