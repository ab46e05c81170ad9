//! Where the runners' mirrors live: the [`MirrorHome`] port. The site reads a runner's mirror
//! from a local file, changes it only through [`MirrorHome::write`], and removes it with the
//! account; it never assumes the file is the mirror itself. [`LocalMirrors`] is the embedded
//! site's (each runner's file under the data folder, read and written in place); the S3 home of
//! `myrunstreak-aws` keeps a bounded cache of copies and writes back with a conditional upload.
//!
//! Also here: [`MirrorLedger`], the ledger's writer over a home (so that `POST /api/v1/ledger`
//! on the site goes through the same write as everything else), and [`Recent`], the small
//! least-recently-used map that bounds the site's caches.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use jiff::Timestamp;
use thiserror::Error;

use crate::ledger::{self, LedgerChange, LedgerError, LedgerWriteError, LedgerWriter, NewEntry};
use crate::queries::StreakQuery;

/// What a [`MirrorHome`] can fail with.
#[derive(Debug, Error)]
pub enum MirrorError {
    /// The runner has no mirror yet (their first sync has not finished).
    #[error("there is no mirror of this runner yet: their first sync has not finished")]
    Missing,
    /// The change refused to be made; nothing was published.
    #[error("the change was refused; nothing was written")]
    Refused,
    /// Other writers kept changing the mirror while this change was made; nothing was written.
    #[error(
        "the mirror kept changing while this change was made ({tries} tries); nothing was written, try again in a moment"
    )]
    Busy {
        /// How many times the change was made from a fresh copy.
        tries: u32,
    },
    /// Where the mirrors live could not be read or written.
    #[error("{0}")]
    Unavailable(String),
}

/// A change of a runner's mirror: called with the path of a writable copy (the mirror itself, or
/// a fresh copy of it), on a blocking thread, possibly more than once (once per fresh copy when
/// another writer got there first). An `Err` means "do not publish".
pub type MirrorChange = Arc<dyn Fn(&Path) -> Result<(), MirrorError> + Send + Sync>;

/// Where the runners' mirrors (one DuckDB file each) live.
#[async_trait]
pub trait MirrorHome: Send + Sync {
    /// Where the runner's readable copy is: the same path for the same runner, whether or not
    /// the file is there now.
    fn path(&self, runner_id: &str) -> PathBuf;

    /// How long a reader may answer from what it loaded from [`MirrorHome::path`] before it
    /// looks at the file's time again: a second where a sync changes the file under it; zero
    /// where the copy only changes in [`MirrorHome::readable`] (a look is one `stat`).
    fn reload_every(&self) -> std::time::Duration {
        std::time::Duration::from_secs(1)
    }

    /// Makes the readable copy at [`MirrorHome::path`] fresh enough to answer from, and returns
    /// it; `None` when the runner has no mirror yet.
    async fn readable(&self, runner_id: &str) -> Result<Option<PathBuf>, MirrorError>;

    /// Runs `change` on a writable copy of the runner's mirror and publishes the result, so that
    /// no other writer's change is lost: [`MirrorError::Missing`] without a mirror,
    /// [`MirrorError::Refused`] when the change said no, [`MirrorError::Busy`] when other
    /// writers kept winning.
    async fn write(&self, runner_id: &str, change: MirrorChange) -> Result<(), MirrorError>;

    /// Removes every copy of the runner's mirror (their account is being deleted).
    async fn remove(&self, runner_id: &str) -> Result<(), MirrorError>;

    /// The bytes of the runner's mirror (its DuckDB file), `None` when there is none yet.
    async fn export(&self, runner_id: &str) -> Result<Option<Vec<u8>>, MirrorError> {
        let Some(path) = self.readable(runner_id).await? else {
            return Ok(None);
        };
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(MirrorError::Unavailable(format!(
                "reading {}: {e}",
                path.display()
            ))),
        }
    }
}

/// Why [`change_mirror`] did not change the mirror.
#[derive(Debug, Error)]
pub enum ChangeError<E> {
    /// The change itself failed with this (on the last copy it was given); nothing was written.
    #[error(transparent)]
    Change(E),
    /// The mirror could not be changed.
    #[error(transparent)]
    Mirror(MirrorError),
}

/// Runs `change` through [`MirrorHome::write`] and returns what it returned on the copy that
/// was published (or its error, on the copy it refused).
pub async fn change_mirror<T, E, F>(
    home: &dyn MirrorHome,
    runner_id: &str,
    change: F,
) -> Result<T, ChangeError<E>>
where
    T: Send + 'static,
    E: Send + 'static,
    F: Fn(&Path) -> Result<T, E> + Send + Sync + 'static,
{
    let last: Arc<Mutex<Option<Result<T, E>>>> = Arc::default();
    let slot = last.clone();
    let wrapped: MirrorChange = Arc::new(move |path| {
        let result = change(path);
        let ok = result.is_ok();
        if let Ok(mut slot) = slot.lock() {
            *slot = Some(result);
        }
        if ok {
            Ok(())
        } else {
            Err(MirrorError::Refused)
        }
    });
    let written = home.write(runner_id, wrapped).await;
    let result = last.lock().ok().and_then(|mut slot| slot.take());
    match (written, result) {
        (Ok(()), Some(Ok(value))) => Ok(value),
        (_, Some(Err(e))) => Err(ChangeError::Change(e)),
        (Err(e), _) => Err(ChangeError::Mirror(e)),
        (Ok(()), None) => Err(ChangeError::Mirror(MirrorError::Unavailable(
            "the change was never made".into(),
        ))),
    }
}

/// The embedded site's mirrors: `data_dir/runners/<id>/runs.duckdb`, read and written in place.
/// A write is not guarded here: the site holds the runner (see
/// [`super::schedule::SyncRequests::hold`]) for every write, as a sync holds them.
#[derive(Clone, Debug)]
pub struct LocalMirrors {
    data_dir: PathBuf,
}

impl LocalMirrors {
    /// The mirrors under `data_dir`.
    pub fn new(data_dir: impl Into<PathBuf>) -> LocalMirrors {
        LocalMirrors {
            data_dir: data_dir.into(),
        }
    }

    fn folder(&self, runner_id: &str) -> PathBuf {
        self.data_dir.join("runners").join(runner_id)
    }
}

#[async_trait]
impl MirrorHome for LocalMirrors {
    fn path(&self, runner_id: &str) -> PathBuf {
        self.folder(runner_id).join("runs.duckdb")
    }

    async fn readable(&self, runner_id: &str) -> Result<Option<PathBuf>, MirrorError> {
        let path = self.path(runner_id);
        Ok(path.exists().then_some(path))
    }

    async fn write(&self, runner_id: &str, change: MirrorChange) -> Result<(), MirrorError> {
        let path = self.path(runner_id);
        tokio::task::spawn_blocking(move || change(&path))
            .await
            .map_err(|e| MirrorError::Unavailable(e.to_string()))?
    }

    async fn remove(&self, runner_id: &str) -> Result<(), MirrorError> {
        let folder = self.folder(runner_id);
        match std::fs::remove_dir_all(&folder) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(MirrorError::Unavailable(format!(
                "removing {}: {e}",
                folder.display()
            ))),
        }
    }
}

/// `POST /api/v1/ledger` of a runner on the site: the entry is recorded through their home's
/// [`MirrorHome::write`].
#[derive(Clone)]
pub struct MirrorLedger {
    home: Arc<dyn MirrorHome>,
    runner_id: String,
}

impl MirrorLedger {
    /// The ledger of `runner_id`'s mirror in `home`.
    pub fn new(home: Arc<dyn MirrorHome>, runner_id: impl Into<String>) -> MirrorLedger {
        MirrorLedger {
            home,
            runner_id: runner_id.into(),
        }
    }
}

#[async_trait]
impl LedgerWriter for MirrorLedger {
    async fn record(
        &self,
        entry: NewEntry,
        query: &StreakQuery,
        now: Timestamp,
    ) -> Result<LedgerChange, LedgerWriteError> {
        let query = query.clone();
        change_mirror(self.home.as_ref(), &self.runner_id, move |path| {
            ledger::record(
                &mut ledger::open_book(path, now).map_err(LedgerError::Store)?,
                entry.clone(),
                &query,
                now,
            )
        })
        .await
        .map_err(|e| match e {
            ChangeError::Change(e) => LedgerWriteError::Ledger(e),
            ChangeError::Mirror(MirrorError::Missing) => LedgerWriteError::Unavailable(
                "nothing is mirrored yet: your first sync creates your database".into(),
            ),
            ChangeError::Mirror(e) => LedgerWriteError::Unavailable(e.to_string()),
        })
    }
}

/// A map that keeps at most `capacity` entries, forgetting the least recently used first.
#[derive(Debug)]
pub struct Recent<V> {
    capacity: usize,
    tick: u64,
    entries: HashMap<String, (u64, V)>,
}

impl<V> Recent<V> {
    /// An empty map of at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Recent<V> {
        Recent {
            capacity: capacity.max(1),
            tick: 0,
            entries: HashMap::new(),
        }
    }

    /// The entry of `key`, now the most recently used.
    pub fn get(&mut self, key: &str) -> Option<&mut V> {
        self.tick += 1;
        let tick = self.tick;
        self.entries.get_mut(key).map(|(used, v)| {
            *used = tick;
            v
        })
    }

    /// Whether `key` has an entry (without using it).
    pub fn contains(&self, key: &str) -> bool {
        self.entries.contains_key(key)
    }

    /// Sets `key`'s entry, the most recently used; returns the entries forgotten to make room.
    pub fn insert(&mut self, key: impl Into<String>, value: V) -> Vec<(String, V)> {
        self.tick += 1;
        self.entries.insert(key.into(), (self.tick, value));
        let mut forgotten = Vec::new();
        while self.entries.len() > self.capacity {
            let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, (used, _))| *used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some((_, v)) = self.entries.remove(&oldest) {
                forgotten.push((oldest, v));
            }
        }
        forgotten
    }

    /// Forgets `key`'s entry.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        self.entries.remove(key).map(|(_, v)| v)
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_forgets_the_least_recently_used_first() {
        let mut recent = Recent::new(2);
        assert!(recent.insert("a", 1).is_empty());
        assert!(recent.insert("b", 2).is_empty());
        assert_eq!(recent.get("a"), Some(&mut 1));
        assert_eq!(recent.insert("c", 3), vec![("b".to_owned(), 2)]);
        assert!(recent.contains("a") && recent.contains("c") && !recent.contains("b"));
        assert_eq!(recent.len(), 2);
        assert_eq!(recent.remove("a"), Some(1));
        assert_eq!(recent.len(), 1);
    }

    #[tokio::test]
    async fn a_local_change_is_made_in_place_and_a_refusal_keeps_its_error() {
        let dir = tempfile::tempdir().unwrap();
        let home = LocalMirrors::new(dir.path());
        assert_eq!(home.readable("r-1").await.unwrap(), None);
        std::fs::create_dir_all(dir.path().join("runners/r-1")).unwrap();
        let written = change_mirror(&home, "r-1", |path| std::fs::write(path, b"one").map(|_| 7))
            .await
            .unwrap();
        assert_eq!(written, 7);
        let path = home.readable("r-1").await.unwrap().unwrap();
        assert_eq!(path, dir.path().join("runners/r-1/runs.duckdb"));
        assert_eq!(home.export("r-1").await.unwrap().unwrap(), b"one");
        let refused = change_mirror(&home, "r-1", |_| Err::<(), _>("no"))
            .await
            .unwrap_err();
        assert!(matches!(refused, ChangeError::Change("no")), "{refused:?}");
        home.remove("r-1").await.unwrap();
        assert!(!dir.path().join("runners/r-1").exists());
        assert_eq!(home.export("r-1").await.unwrap(), None);
        home.remove("r-1").await.unwrap();
    }
}
