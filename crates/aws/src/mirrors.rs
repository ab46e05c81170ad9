//! The site's runners' mirrors in S3 ([`S3Mirrors`], the application's `MirrorHome`): each
//! runner's DuckDB file is the object [`runner_key`], read from a copy in the work folder kept
//! fresh by its ETag (checked at most once per interval) for a bounded number of runners, and
//! changed only by download with the ETag → change → upload if the object still has that ETag,
//! again from a fresh copy when another writer (the worker's sync, another instance) got there
//! first. The worker's sync writes the same objects through the same conditional upload. The
//! one-runner API reads and writes its one object the same way ([`S3Mirrors::one`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use aws_sdk_s3::Client;
use myrunstreak_app::site::{MirrorChange, MirrorError, MirrorHome, Recent};

use crate::s3::{DatabaseObject, S3Error, delete_runner_objects};

/// The key of a runner's DuckDB object in the bucket.
pub fn runner_key(runner_id: &str) -> String {
    format!("{}runs.duckdb", runner_prefix(runner_id))
}

/// The prefix of everything of a runner's in the bucket (ends with `/`).
pub fn runner_prefix(runner_id: &str) -> String {
    format!("runners/{runner_id}/")
}

/// Whether `id` can be a runner's id: it becomes an S3 key and a local folder, so anything else
/// (`../`, say) is refused before either is touched.
pub fn plausible_runner_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Tries of a change that keeps losing to other writers.
const WRITE_TRIES: u32 = 3;

/// What is known of one runner's cached copy.
#[derive(Debug)]
struct Copy {
    etag: String,
    checked: Instant,
}

/// Which object holds a runner's mirror.
#[derive(Debug)]
enum Keys {
    /// [`runner_key`]: the site's runners, each their own.
    Runners,
    /// This one object, whoever asks: the one-runner deployment.
    One(String),
}

/// The runners' mirrors in one bucket, cached under a work folder.
#[derive(Debug)]
pub struct S3Mirrors {
    client: Client,
    bucket: String,
    keys: Keys,
    dir: PathBuf,
    every: Duration,
    /// The cached copies, by runner; held while one is checked or replaced.
    copies: tokio::sync::Mutex<Recent<Copy>>,
    writes: AtomicU64,
}

impl S3Mirrors {
    /// The mirrors in `bucket`, cached under `dir` for at most `copies` runners (the least
    /// recently read forgotten first, their files deleted), each checked against S3 at most
    /// once per `every` (zero: on every read).
    pub fn new(
        client: Client,
        bucket: impl Into<String>,
        dir: impl Into<PathBuf>,
        every: Duration,
        copies: usize,
    ) -> S3Mirrors {
        S3Mirrors {
            client,
            bucket: bucket.into(),
            keys: Keys::Runners,
            dir: dir.into(),
            every,
            copies: tokio::sync::Mutex::new(Recent::new(copies)),
            writes: AtomicU64::new(0),
        }
    }

    /// The one database of the one-runner deployment, `s3://bucket/key`, read and written the
    /// same way (whatever runner id it is asked for; [`MirrorHome::remove`] refuses).
    pub fn one(
        client: Client,
        bucket: impl Into<String>,
        key: impl Into<String>,
        dir: impl Into<PathBuf>,
        every: Duration,
    ) -> S3Mirrors {
        S3Mirrors {
            keys: Keys::One(key.into()),
            ..S3Mirrors::new(client, bucket, dir, every, 1)
        }
    }

    fn object(&self, runner_id: &str) -> Result<DatabaseObject, MirrorError> {
        if !plausible_runner_id(runner_id) {
            return Err(MirrorError::Unavailable(
                "that is not a runner id of this site".into(),
            ));
        }
        let key = match &self.keys {
            Keys::Runners => runner_key(runner_id),
            Keys::One(key) => key.clone(),
        };
        Ok(DatabaseObject::new(self.client.clone(), &self.bucket, key))
    }

    fn folder(&self, runner_id: &str) -> PathBuf {
        self.dir.join(runner_id)
    }

    /// Records `runner_id`'s copy as having `etag` now, and deletes the copies this pushes out.
    fn keep(&self, copies: &mut Recent<Copy>, runner_id: &str, etag: String) {
        let copy = Copy {
            etag,
            checked: Instant::now(),
        };
        for (evicted, _) in copies.insert(runner_id, copy) {
            remove_folder(&self.folder(&evicted));
            tracing::debug!(runner = %evicted, "cached mirror evicted");
        }
    }
}

fn unavailable(e: impl std::fmt::Display) -> MirrorError {
    MirrorError::Unavailable(e.to_string())
}

fn remove_folder(folder: &Path) {
    if let Err(e) = std::fs::remove_dir_all(folder)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(folder = %folder.display(), "a cached mirror could not be removed: {e}");
    }
}

/// Removes a write's scratch folder however the write ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        remove_folder(&self.0);
    }
}

#[async_trait]
impl MirrorHome for S3Mirrors {
    fn path(&self, runner_id: &str) -> PathBuf {
        self.folder(runner_id).join("runs.duckdb")
    }

    fn reload_every(&self) -> Duration {
        Duration::ZERO
    }

    async fn readable(&self, runner_id: &str) -> Result<Option<PathBuf>, MirrorError> {
        let object = self.object(runner_id)?;
        let path = self.path(runner_id);
        let mut copies = self.copies.lock().await;
        let known = copies.get(runner_id).map(|c| (c.etag.clone(), c.checked));
        if let Some((_, checked)) = &known
            && checked.elapsed() < self.every
            && path.exists()
        {
            return Ok(Some(path));
        }
        let Some(etag) = object.etag().await.map_err(unavailable)? else {
            copies.remove(runner_id);
            remove_folder(&self.folder(runner_id));
            return Ok(None);
        };
        if known.is_none_or(|(known, _)| known != etag) || !path.exists() {
            std::fs::create_dir_all(self.folder(runner_id)).map_err(unavailable)?;
            let Some(etag) = object.download(&path).await.map_err(unavailable)? else {
                copies.remove(runner_id);
                remove_folder(&self.folder(runner_id));
                return Ok(None);
            };
            tracing::info!(runner = %runner_id, "cached mirror refreshed from S3");
            self.keep(&mut copies, runner_id, etag);
        } else {
            self.keep(&mut copies, runner_id, etag);
        }
        Ok(Some(path))
    }

    async fn write(&self, runner_id: &str, change: MirrorChange) -> Result<(), MirrorError> {
        let object = self.object(runner_id)?;
        for attempt in 1..=WRITE_TRIES {
            let n = self.writes.fetch_add(1, Ordering::Relaxed);
            let scratch = Scratch(self.dir.join(format!(".write-{n}")));
            std::fs::create_dir_all(&scratch.0).map_err(unavailable)?;
            let copy = scratch.0.join("runs.duckdb");
            let Some(etag) = object.download(&copy).await.map_err(unavailable)? else {
                return Err(MirrorError::Missing);
            };
            let (change, at) = (change.clone(), copy.clone());
            // the change closes the database (and checkpoints it) before it returns
            tokio::task::spawn_blocking(move || change(&at))
                .await
                .map_err(unavailable)??;
            match object.upload(&copy, Some(&etag)).await {
                Ok(new_etag) => {
                    // the readable copy is what was just written
                    let mut copies = self.copies.lock().await;
                    std::fs::create_dir_all(self.folder(runner_id)).map_err(unavailable)?;
                    std::fs::rename(&copy, self.path(runner_id)).map_err(unavailable)?;
                    self.keep(&mut copies, runner_id, new_etag);
                    tracing::info!(runner = %runner_id, attempt, "mirror changed in S3");
                    return Ok(());
                }
                Err(S3Error::Conflict { .. }) => {
                    tracing::warn!(
                        runner = %runner_id,
                        attempt,
                        "the mirror changed while it was being changed here; again from a fresh copy"
                    );
                }
                Err(e) => return Err(unavailable(e)),
            }
        }
        Err(MirrorError::Busy { tries: WRITE_TRIES })
    }

    async fn remove(&self, runner_id: &str) -> Result<(), MirrorError> {
        if let Keys::One(key) = &self.keys {
            return Err(MirrorError::Unavailable(format!(
                "{key} is the one runner's database; it is not removed from here"
            )));
        }
        if !plausible_runner_id(runner_id) {
            return Err(MirrorError::Unavailable(
                "that is not a runner id of this site".into(),
            ));
        }
        delete_runner_objects(&self.client, &self.bucket, &runner_prefix(runner_id))
            .await
            .map_err(unavailable)?;
        let mut copies = self.copies.lock().await;
        copies.remove(runner_id);
        remove_folder(&self.folder(runner_id));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runner_s_key_cannot_leave_their_prefix() {
        assert_eq!(runner_key("r-1a2b"), "runners/r-1a2b/runs.duckdb");
        assert_eq!(runner_prefix("r-1a2b"), "runners/r-1a2b/");
        assert!(plausible_runner_id("r-0123456789abcdef0123"));
        for bad in ["", "../etc", "r/1", "r 1", "r.1", &"r".repeat(65)] {
            assert!(!plausible_runner_id(bad), "{bad:?}");
        }
    }
}
