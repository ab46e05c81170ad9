//! What the server reads, loaded from the database file in one go and reloaded when the file
//! changes. Requests never wait on DuckDB, and the file is open only while loading.

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use myrunstreak_domain::Run;
use myrunstreak_store::{PendingDeletion, RunFilter, Store, StoreError, StoredRun, SyncRecord};

/// The database as of one load.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Runs for the engine.
    pub runs: Vec<Run>,
    /// Stored runs, newest first (deleted ones included, flagged).
    pub stored: Vec<StoredRun>,
    /// The sync log, newest first.
    pub syncs: Vec<SyncRecord>,
    /// The last successful sync.
    pub last_success: Option<SyncRecord>,
    /// Runs missing from SmashRun's listing, held back from deletion (they still count).
    pub pending: Vec<PendingDeletion>,
    /// Whether the database file exists at all.
    pub exists: bool,
}

pub(crate) struct Cache {
    path: PathBuf,
    every: Duration,
    inner: RwLock<Option<Loaded>>,
}

struct Loaded {
    snapshot: Arc<Snapshot>,
    modified: Option<SystemTime>,
    checked: Instant,
}

fn modified(path: &PathBuf) -> Option<SystemTime> {
    // the write-ahead log changes before the file does
    let wal = PathBuf::from(format!("{}.wal", path.display()));
    [path, &wal]
        .iter()
        .filter_map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .max()
}

fn load(path: &PathBuf) -> Result<Snapshot, StoreError> {
    if !path.exists() {
        return Ok(Snapshot::default());
    }
    let store = Store::open_read_only(path)?;
    Ok(Snapshot {
        runs: store.domain_runs()?,
        stored: store.runs(&RunFilter {
            include_deleted: true,
            ..RunFilter::default()
        })?,
        syncs: store.sync_log(20)?,
        last_success: store.last_success()?,
        pending: store.pending_deletions()?,
        exists: true,
    })
}

impl Cache {
    pub fn new(path: PathBuf, every: Duration) -> Self {
        Cache {
            path,
            every,
            inner: RwLock::new(None),
        }
    }

    /// The current snapshot, reloading it first when the file changed. When the file cannot be
    /// read (a sync holds it), the previous snapshot is served.
    pub fn get(&self) -> Result<Arc<Snapshot>, StoreError> {
        {
            let guard = self.inner.read().unwrap_or_else(|p| p.into_inner());
            if let Some(l) = guard.as_ref().filter(|l| l.checked.elapsed() < self.every) {
                return Ok(l.snapshot.clone());
            }
        }
        let mut guard = self.inner.write().unwrap_or_else(|p| p.into_inner());
        let now_modified = modified(&self.path);
        if let Some(l) = guard.as_mut().filter(|l| l.modified == now_modified) {
            l.checked = Instant::now();
            return Ok(l.snapshot.clone());
        }
        match load(&self.path) {
            Ok(s) => {
                let snapshot = Arc::new(s);
                *guard = Some(Loaded {
                    snapshot: snapshot.clone(),
                    modified: now_modified,
                    checked: Instant::now(),
                });
                Ok(snapshot)
            }
            Err(e) => match guard.as_mut() {
                Some(l) => {
                    tracing::debug!("serving the previous snapshot: {e}");
                    l.checked = Instant::now();
                    Ok(l.snapshot.clone())
                }
                None => Err(e),
            },
        }
    }

    /// The snapshot already loaded, without touching the file.
    pub fn cached(&self) -> Result<Option<Arc<Snapshot>>, StoreError> {
        Ok(self
            .inner
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|l| l.snapshot.clone()))
    }

    /// Forgets the snapshot, so the next request loads the file again.
    pub fn invalidate(&self) {
        *self.inner.write().unwrap_or_else(|p| p.into_inner()) = None;
    }
}
