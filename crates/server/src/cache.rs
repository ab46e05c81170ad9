//! Answers computed at most once per second for each request and snapshot. Every answer depends
//! only on the snapshot, the query and the current second ("today", time left until midnight),
//! so under load a second's worth of identical requests mostly share one computation and are at
//! most a second old.
//!
//! No lock is held while an answer is computed, and there is no single lock: the entries are
//! spread over shards by key, each locked only to look up or insert one entry.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;

use crate::Snapshot;

/// Shards of the cache; a request locks one, briefly.
const SHARDS: usize = 16;
/// Entries kept at most per shard; a shard is cleared when full (keys are request URLs).
const CAPACITY: usize = 64;

pub(crate) struct ResponseCache {
    hasher: RandomState,
    shards: [Mutex<HashMap<String, Entry>>; SHARDS],
}

impl Default for ResponseCache {
    fn default() -> Self {
        ResponseCache {
            hasher: RandomState::new(),
            shards: std::array::from_fn(|_| Mutex::default()),
        }
    }
}

#[derive(Clone)]
pub(crate) struct Entry {
    snapshot: usize,
    second: i64,
    pub content_type: &'static str,
    pub body: Bytes,
}

impl ResponseCache {
    fn shard(&self, key: &str) -> &Mutex<HashMap<String, Entry>> {
        &self.shards[(self.hasher.hash_one(key) as usize) % SHARDS]
    }

    /// This second's answer for `key` and `snapshot`, if computed.
    pub fn get(&self, key: &str, snapshot: &Arc<Snapshot>, second: i64) -> Option<Entry> {
        let id = Arc::as_ptr(snapshot) as usize;
        self.shard(key)
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .filter(|e| e.snapshot == id && e.second == second)
            .cloned()
    }

    /// Keeps an answer computed for `key`, `snapshot` and `second`.
    pub fn put(
        &self,
        key: &str,
        snapshot: &Arc<Snapshot>,
        second: i64,
        content_type: &'static str,
        body: Bytes,
    ) {
        let mut entries = self.shard(key).lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(
            key.to_owned(),
            Entry {
                snapshot: Arc::as_ptr(snapshot) as usize,
                second,
                content_type,
                body,
            },
        );
    }
}
