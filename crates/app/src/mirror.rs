//! The read side of a runner's mirror, for every shell: what is stored, listed with the app's own
//! answer types ([`crate::views`]), and the [`Snapshot`] the HTTP server answers from. Writing is
//! the sync's business ([`crate::sync`], through [`crate::wiring::Wiring`]), and the ledger's
//! ([`crate::ledger`]).

use std::path::{Path, PathBuf};

use jiff::civil::Date;
use myrunstreak_domain::{LedgerEntry, Run};
use myrunstreak_store::{RunFilter, Store, StoreError};

use crate::views::{HeldRun, RunItem, SyncEntry};

/// Which runs to list.
#[derive(Clone, Debug, Default)]
pub struct RunQuery {
    /// First run day.
    pub since: Option<Date>,
    /// Last run day.
    pub until: Option<Date>,
    /// At most this many.
    pub limit: Option<usize>,
    /// Skip this many (with a limit).
    pub offset: usize,
    /// Deleted ones too.
    pub include_deleted: bool,
    /// Only this one.
    pub activity_id: Option<i64>,
}

impl From<&RunQuery> for RunFilter {
    fn from(q: &RunQuery) -> Self {
        RunFilter {
            since: q.since,
            until: q.until,
            limit: q.limit,
            offset: q.offset,
            include_deleted: q.include_deleted,
            activity_id: q.activity_id,
        }
    }
}

/// Formats of [`Mirror::export`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// Comma-separated values with a header.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// A JSON array.
    Json,
}

/// A mirror opened for reading (DuckDB's read-only mode: a sync may hold the file for writing
/// only when no reader has it open, so readers open, read and close).
#[derive(Debug)]
pub struct Mirror {
    store: Store,
}

impl Mirror {
    /// Opens the file at `path` read-only.
    pub fn open(path: &Path) -> Result<Mirror, StoreError> {
        Ok(Mirror {
            store: Store::open_read_only(path)?,
        })
    }

    /// Every run not deleted, and the runner's ledger (manual runs and overrides, each marked
    /// with its [`RunOrigin`](myrunstreak_domain::RunOrigin)) but the duplicates of mirrored runs
    /// ([`crate::ledger::with_ledger`]), as the streak engine needs them.
    /// A query leaves the ledger out with
    /// [`StreakQuery::exclude_ledger`](crate::queries::StreakQuery::exclude_ledger).
    pub fn domain_runs(&self) -> Result<Vec<Run>, StoreError> {
        crate::ledger::with_ledger(self.store.domain_runs()?, &self.store.ledger()?)
    }

    /// The runner's ledger, by day.
    pub fn ledger(&self) -> Result<Vec<LedgerEntry>, StoreError> {
        self.store.ledger()
    }

    /// Stored runs, newest first.
    pub fn runs(&self, query: &RunQuery) -> Result<Vec<RunItem>, StoreError> {
        Ok(self
            .store
            .runs(&query.into())?
            .into_iter()
            .map(RunItem::from)
            .collect())
    }

    /// The most recent syncs, newest first.
    pub fn sync_log(&self, limit: usize) -> Result<Vec<SyncEntry>, StoreError> {
        Ok(self
            .store
            .sync_log(limit)?
            .into_iter()
            .map(SyncEntry::from)
            .collect())
    }

    /// The last incremental or full sync that succeeded.
    pub fn last_success(&self) -> Result<Option<SyncEntry>, StoreError> {
        Ok(self.store.last_success()?.map(SyncEntry::from))
    }

    /// Runs held as pending deletion.
    pub fn pending(&self) -> Result<Vec<HeldRun>, StoreError> {
        Ok(self
            .store
            .pending_deletions()?
            .into_iter()
            .map(HeldRun::from)
            .collect())
    }

    /// Writes the live runs to `path`, and the ledger's entries with `include_ledger` but those
    /// that duplicate a mirrored run; returns how many.
    pub fn export(
        &self,
        format: ExportFormat,
        path: &Path,
        include_ledger: bool,
    ) -> Result<u64, StoreError> {
        let format = match format {
            ExportFormat::Csv => myrunstreak_store::ExportFormat::Csv,
            ExportFormat::Parquet => myrunstreak_store::ExportFormat::Parquet,
            ExportFormat::Json => myrunstreak_store::ExportFormat::Json,
        };
        let ledger = if include_ledger {
            let entries = self.store.ledger()?;
            let duplicates = myrunstreak_domain::duplicates(&self.store.domain_runs()?, &entries);
            Some(duplicates.into_keys().collect::<Vec<i64>>())
        } else {
            None
        };
        self.store.export_with(format, path, ledger.as_deref())
    }

    /// A digest of everything SmashRun told us, blind to when we saw it.
    pub fn fingerprint(&self) -> Result<String, StoreError> {
        self.store.fingerprint()
    }
}

/// The database as of one load: everything the HTTP API and the dashboard answer from.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Runs for the engine, the ledger's included (marked).
    pub runs: Vec<Run>,
    /// The runner's ledger, by day.
    pub ledger: Vec<LedgerEntry>,
    /// Stored runs, newest first (deleted ones included, flagged).
    pub stored: Vec<RunItem>,
    /// The sync log, newest first.
    pub syncs: Vec<SyncEntry>,
    /// The last successful sync.
    pub last_success: Option<SyncEntry>,
    /// Runs missing from SmashRun's listing, held back from deletion (they still count).
    pub pending: Vec<HeldRun>,
    /// Whether the database file exists at all.
    pub exists: bool,
}

impl Snapshot {
    /// Loads everything in one go, opening the file only for that long; an empty snapshot when
    /// there is no file yet. This blocks on DuckDB: async callers run it on a blocking thread.
    pub fn load(path: &Path) -> Result<Snapshot, StoreError> {
        if !path.exists() {
            return Ok(Snapshot::default());
        }
        let mirror = Mirror::open(path)?;
        Ok(Snapshot {
            runs: mirror.domain_runs()?,
            ledger: mirror.ledger()?,
            stored: mirror.runs(&RunQuery {
                include_deleted: true,
                ..RunQuery::default()
            })?,
            syncs: mirror.sync_log(20)?,
            last_success: mirror.last_success()?,
            pending: mirror.pending()?,
            exists: true,
        })
    }

    /// When the file at `path` last changed (its write-ahead log changes first), to tell whether a
    /// loaded snapshot is still current.
    pub fn modified(path: &Path) -> Option<std::time::SystemTime> {
        let wal = PathBuf::from(format!("{}.wal", path.display()));
        [path, wal.as_path()]
            .iter()
            .filter_map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
            .max()
    }
}
