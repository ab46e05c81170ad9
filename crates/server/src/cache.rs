//! Answers computed at most once per second for each request and snapshot. Every answer depends
//! only on the snapshot, the query and the current second ("today", time left until midnight),
//! so under load a second's worth of identical requests share one computation and are at most a
//! second old.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;

use crate::Snapshot;

/// Entries kept at most; the cache is cleared when full (keys are request URLs).
const CAPACITY: usize = 512;

#[derive(Default)]
pub(crate) struct ResponseCache {
    entries: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    snapshot: usize,
    second: i64,
    content_type: &'static str,
    body: Bytes,
}

impl ResponseCache {
    /// The answer for `key`, computing it with `compute` unless this second's answer for the same
    /// snapshot is known.
    pub fn get_or_compute<E>(
        &self,
        key: &str,
        snapshot: &Arc<Snapshot>,
        second: i64,
        compute: impl FnOnce() -> Result<(&'static str, Vec<u8>), E>,
    ) -> Result<(&'static str, Bytes), E> {
        let id = Arc::as_ptr(snapshot) as usize;
        // computed under the lock: when a second turns, one request computes and the others
        // wait for its answer instead of all computing the same thing
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = entries
            .get(key)
            .filter(|e| e.snapshot == id && e.second == second)
        {
            return Ok((e.content_type, e.body.clone()));
        }
        let (content_type, body) = compute()?;
        let body = Bytes::from(body);
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(
            key.to_owned(),
            Entry {
                snapshot: id,
                second,
                content_type,
                body: body.clone(),
            },
        );
        Ok((content_type, body))
    }
}
