//! The snapshot the server answers from: loaded from the database file in one go on a blocking
//! thread, swapped in atomically, and reloaded when the file changes. Requests read the current
//! snapshot without taking a lock; at most one of them at a time checks the file (the others keep
//! answering from the snapshot they have), and the file is open only while loading.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwapOption;
use myrunstreak_app::{Snapshot, StoreError};

/// Why no snapshot could be served.
#[derive(Debug)]
pub(crate) enum LoadError {
    /// The store refused (locked by a sync, unreadable).
    Store(StoreError),
    /// The blocking load did not finish (it panicked or was cancelled).
    Task(String),
}

pub(crate) struct Cache {
    path: PathBuf,
    every: Duration,
    current: ArcSwapOption<Loaded>,
    /// Held by the one request that checks the file; never by a request that only reads.
    reloading: tokio::sync::Mutex<()>,
}

struct Loaded {
    snapshot: Arc<Snapshot>,
    modified: Option<SystemTime>,
    checked: Option<Instant>,
}

impl Loaded {
    fn fresh(&self, every: Duration) -> bool {
        self.checked.is_some_and(|c| c.elapsed() < every)
    }
}

impl Cache {
    pub fn new(path: PathBuf, every: Duration) -> Self {
        Cache {
            path,
            every,
            current: ArcSwapOption::empty(),
            reloading: tokio::sync::Mutex::new(()),
        }
    }

    /// The current snapshot, reloading it first when the file changed. When the file cannot be
    /// read (a sync holds it), the previous snapshot is served.
    pub async fn get(&self) -> Result<Arc<Snapshot>, LoadError> {
        if let Some(loaded) = self.current.load_full() {
            if loaded.fresh(self.every) {
                return Ok(loaded.snapshot.clone());
            }
            // another request is checking the file: answer from what we have
            let Ok(_reloading) = self.reloading.try_lock() else {
                return Ok(loaded.snapshot.clone());
            };
            // the look itself is two `stat`s, made here: handing them to a blocking thread cost
            // more than they do, and with 1,000 runners' snapshots checked each second those
            // hand-offs queued up behind a busy CPU (p99 of /api/v1/streak 150-200 ms)
            let modified = Snapshot::modified(&self.path);
            if modified == loaded.modified {
                self.current.store(Some(Arc::new(Loaded {
                    snapshot: loaded.snapshot.clone(),
                    modified,
                    checked: Some(Instant::now()),
                })));
                return Ok(loaded.snapshot.clone());
            }
            return self.reload(Some(loaded)).await;
        }
        // nothing loaded yet: wait for the first load
        let _reloading = self.reloading.lock().await;
        if let Some(loaded) = self.current.load_full() {
            return Ok(loaded.snapshot.clone());
        }
        self.reload(None).await
    }

    async fn reload(&self, previous: Option<Arc<Loaded>>) -> Result<Arc<Snapshot>, LoadError> {
        let path = self.path.clone();
        let known = previous.as_ref().map(|l| l.modified);
        let loaded = tokio::task::spawn_blocking(move || {
            let modified = Snapshot::modified(&path);
            if known == Some(modified) {
                return Ok((None, modified));
            }
            Snapshot::load(&path).map(|s| (Some(s), modified))
        })
        .await
        .map_err(|e| LoadError::Task(e.to_string()))?;
        let (snapshot, modified) = match (loaded, previous) {
            (Ok((Some(s), modified)), _) => (Arc::new(s), modified),
            (Ok((None, modified)), Some(p)) => (p.snapshot.clone(), modified),
            (Ok((None, _)), None) => {
                return Err(LoadError::Task("nothing loaded and nothing to load".into()));
            }
            (Err(e), Some(p)) => {
                tracing::debug!("serving the previous snapshot: {e}");
                (p.snapshot.clone(), p.modified)
            }
            (Err(e), None) => return Err(LoadError::Store(e)),
        };
        self.current.store(Some(Arc::new(Loaded {
            snapshot: snapshot.clone(),
            modified,
            checked: Some(Instant::now()),
        })));
        Ok(snapshot)
    }

    /// The snapshot already loaded, without touching the file.
    pub fn cached(&self) -> Option<Arc<Snapshot>> {
        self.current.load_full().map(|l| l.snapshot.clone())
    }

    /// Marks the snapshot as due for a check: the next request looks at the file again (the
    /// others keep answering from the snapshot meanwhile).
    pub fn invalidate(&self) {
        if let Some(l) = self.current.load_full() {
            self.current.store(Some(Arc::new(Loaded {
                snapshot: l.snapshot.clone(),
                modified: None,
                checked: None,
            })));
        }
    }
}
