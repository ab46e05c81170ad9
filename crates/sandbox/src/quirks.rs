//! Odd data SmashRun has served or might serve, one switch each, so that a client can be proven
//! to keep every run through it (issue 11, "Never wrongly break a streak"):
//!
//! - starts written without their UTC offset (`2026-05-01T07:00:00`);
//! - starts carrying `+14:00` (or `-12:00`) for runs far from the date line, the wall time as
//!   written;
//! - long non-ASCII garbage in numeric fields, and on a few runs in `distance` itself;
//! - a token endpoint that claims an absurd `expires_in` (`1e30`, `i64::MAX`, `-5`, ...).
//!
//! Quirks change what is *served*, never what is stored: the control API's `/_sandbox/runs`,
//! `/my/stats` and the splits still see the runs as they are, and switching a quirk off serves
//! them cleanly again. Which runs a quirk touches depends on the seed and the activity id only.
//! `PUT /_sandbox/settings` switches them.

use std::borrow::Cow;
use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::generate::unit_hash;
use crate::state::Activity;

/// Characters of garbage put in `heartRateAverage` and `distance`.
pub const GARBAGE_CHARS: usize = 10_000;

/// The numeric fields that [`Quirks::garbage_share`] spoils (when the run has them).
pub const GARBAGE_FIELDS: [&str; 8] = [
    "heartRateAverage",
    "heartRateMax",
    "cadenceAverage",
    "temperature",
    "humidity",
    "windSpeed",
    "calories",
    "duration",
];

/// Which odd data to serve. All off by default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Quirks {
    /// Share (0 to 1) of runs whose `startDateTimeLocal` is served without its offset.
    pub offsetless_share: f64,
    /// Share of runs whose offset is served as `+14:00`, or for about one in four of them as
    /// `-12:00`, the wall time unchanged (a run without its offset is not also given one).
    pub extreme_offset_share: f64,
    /// Share of runs whose numeric fields ([`GARBAGE_FIELDS`]) are served as non-ASCII garbage:
    /// `heartRateAverage` gets [`GARBAGE_CHARS`] characters of it.
    pub garbage_share: f64,
    /// Of the runs with garbage, this many (those created last: the highest ids) also get
    /// [`GARBAGE_CHARS`] characters of garbage in `distance`, which no client can read.
    pub garbage_distance_runs: usize,
    /// What the token endpoint and the token status say in `expires_in`, in place of the real
    /// lifetime: any JSON (`1e30`, `9223372036854775807`, `-5`, `"soon"`). The tokens still
    /// live their real lifetime. A token status of 0 (dead) is never replaced.
    pub token_expires_in: Option<Value>,
    /// What `/v1/my/userinfo` says as the runner's `id` (assumption 13).
    pub userinfo_id: UserinfoId,
}

/// The `id` of `/v1/my/userinfo`: one number per runner for life, as assumed, or the readings
/// that would break that.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserinfoId {
    /// The account's own id, always.
    #[default]
    Stable,
    /// No `id` at all.
    Missing,
    /// A new number for each access token: the same runner, signed in again, is someone else.
    PerToken,
}

impl std::str::FromStr for UserinfoId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "stable" => Ok(UserinfoId::Stable),
            "missing" => Ok(UserinfoId::Missing),
            "per-token" | "per_token" => Ok(UserinfoId::PerToken),
            other => Err(format!("{other:?}: use stable, missing or per-token")),
        }
    }
}

// independent choices per quirk
const OFFSETLESS: u64 = 0x6f66_6673;
const EXTREME: u64 = 0x6578_7472;
const WEST: u64 = 0x7765_7374;
const GARBAGE: u64 = 0x6761_7262;

fn picked(seed: u64, salt: u64, id: i64, share: f64) -> bool {
    share > 0.0 && unit_hash(seed ^ salt, id) < share
}

impl Quirks {
    /// Whether any quirk changes served activities.
    pub fn changes_activities(&self) -> bool {
        self.offsetless_share > 0.0 || self.extreme_offset_share > 0.0 || self.garbage_share > 0.0
    }

    /// Whether run `id` is served without its offset.
    pub fn offsetless(&self, seed: u64, id: i64) -> bool {
        picked(seed, OFFSETLESS, id, self.offsetless_share)
    }

    /// The extreme offset run `id` is served with, if any.
    pub fn extreme_offset(&self, seed: u64, id: i64) -> Option<&'static str> {
        if self.offsetless(seed, id) || !picked(seed, EXTREME, id, self.extreme_offset_share) {
            return None;
        }
        Some(if unit_hash(seed ^ WEST, id) < 0.25 {
            "-12:00"
        } else {
            "+14:00"
        })
    }

    /// Whether run `id`'s numeric fields are served as garbage.
    pub fn garbage(&self, seed: u64, id: i64) -> bool {
        picked(seed, GARBAGE, id, self.garbage_share)
    }
}

/// The quirks in force for one answer, with what depends on every run worked out once.
pub(crate) struct Serving<'s> {
    quirks: &'s Quirks,
    seed: u64,
    bad_distance: HashSet<i64>,
}

impl<'s> Serving<'s> {
    pub(crate) fn new(quirks: &'s Quirks, seed: u64, activities: &[Activity]) -> Self {
        let mut bad_distance = HashSet::new();
        if quirks.garbage_share > 0.0 && quirks.garbage_distance_runs > 0 {
            let mut ids: Vec<i64> = activities
                .iter()
                .map(|a| a.id)
                .filter(|id| quirks.garbage(seed, *id))
                .collect();
            ids.sort_unstable();
            bad_distance.extend(ids.into_iter().rev().take(quirks.garbage_distance_runs));
        }
        Serving {
            quirks,
            seed,
            bad_distance,
        }
    }

    /// The summary of `a` as served: borrowed when it is stored and no quirk touches it.
    pub(crate) fn summary<'a>(&self, a: &'a Activity) -> Cow<'a, Map<String, Value>> {
        let mut summary = a.summary();
        if self.touches(a.id) {
            self.apply(a.id, summary.to_mut());
        }
        summary
    }

    fn touches(&self, id: i64) -> bool {
        let (q, seed) = (self.quirks, self.seed);
        q.changes_activities()
            && (q.offsetless(seed, id)
                || q.extreme_offset(seed, id).is_some()
                || q.garbage(seed, id))
    }

    /// Applies the quirks that touch run `id` to its (summary or full) object.
    pub(crate) fn apply(&self, id: i64, object: &mut Map<String, Value>) {
        let (q, seed) = (self.quirks, self.seed);
        if !q.changes_activities() {
            return;
        }
        // `YYYY-MM-DDTHH:MM:SS`: the wall time as written, without the offset
        let wall = object
            .get("startDateTimeLocal")
            .and_then(Value::as_str)
            .and_then(|s| s.get(..19))
            .map(str::to_owned);
        if let Some(wall) = wall {
            if q.offsetless(seed, id) {
                object.insert("startDateTimeLocal".into(), json!(wall));
            } else if let Some(offset) = q.extreme_offset(seed, id) {
                object.insert(
                    "startDateTimeLocal".into(),
                    json!(format!("{wall}{offset}")),
                );
            }
        }
        if q.garbage(seed, id) {
            for (i, key) in GARBAGE_FIELDS.iter().enumerate() {
                if object.contains_key(*key) {
                    let garbage = if i == 0 {
                        "ß".repeat(GARBAGE_CHARS)
                    } else {
                        "n/a ß€😀".repeat(i)
                    };
                    object.insert((*key).into(), json!(garbage));
                }
            }
            if self.bad_distance.contains(&id) {
                object.insert("distance".into(), json!("ß".repeat(GARBAGE_CHARS)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn activity(id: i64) -> Activity {
        let summary = json!({
            "activityId": id, "duration": 1800.0, "distance": 5.0, "calories": 300,
            "startDateTimeLocal": "2026-05-01T07:00:00-04:00", "heartRateAverage": 150,
        });
        Activity::new(
            id,
            summary.as_object().cloned().unwrap(),
            Map::new(),
            &jiff::tz::TimeZone::UTC,
        )
    }

    #[test]
    fn off_serves_runs_as_stored() {
        let runs: Vec<Activity> = (1..50).map(activity).collect();
        let quirks = Quirks::default();
        let serving = Serving::new(&quirks, 7, &runs);
        assert!(
            runs.iter()
                .all(|a| matches!(serving.summary(a), Cow::Borrowed(_)))
        );
    }

    #[test]
    fn each_quirk_touches_its_share_and_keeps_the_wall_time() {
        let runs: Vec<Activity> = (1..2000).map(activity).collect();
        let quirks = Quirks {
            offsetless_share: 0.1,
            extreme_offset_share: 0.1,
            garbage_share: 0.1,
            garbage_distance_runs: 1,
            token_expires_in: None,
            userinfo_id: UserinfoId::Stable,
        };
        let serving = Serving::new(&quirks, 7, &runs);
        let served: Vec<Map<String, Value>> = runs
            .iter()
            .map(|a| serving.summary(a).into_owned())
            .collect();
        let start = |m: &Map<String, Value>| m["startDateTimeLocal"].as_str().unwrap().to_owned();
        let count =
            |f: &dyn Fn(&Map<String, Value>) -> bool| served.iter().filter(|m| f(m)).count();
        let offsetless = count(&|m| start(m).len() == 19);
        let east = count(&|m| start(m).ends_with("+14:00"));
        let west = count(&|m| start(m).ends_with("-12:00"));
        let garbage = count(&|m| m["heartRateAverage"].is_string());
        let bad = count(&|m| m["distance"].is_string());
        assert!((150..250).contains(&offsetless), "{offsetless}");
        assert!(east > 100 && west > 20, "{east} {west}");
        assert!((150..250).contains(&garbage), "{garbage}");
        assert_eq!(bad, 1);
        assert!(
            served
                .iter()
                .all(|m| start(m).starts_with("2026-05-01T07:00:00"))
        );
        let long = served
            .iter()
            .find(|m| m["heartRateAverage"].is_string())
            .unwrap();
        assert_eq!(
            long["heartRateAverage"].as_str().unwrap().chars().count(),
            GARBAGE_CHARS
        );
    }
}
