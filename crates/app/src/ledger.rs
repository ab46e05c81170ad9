//! The runner's ledger: manual runs and overrides for the days SmashRun does not know about.
//!
//! The ledger lives beside the mirror (its own table, which no sync touches) and takes part in
//! every streak, analytics and audit figure through [`crate::Mirror::domain_runs`], each entry
//! marked with its [`RunOrigin`](myrunstreak_domain::RunOrigin) so that shells can show it for
//! what it is, or leave it out ([`StreakQuery::exclude_ledger`]).
//!
//! A ledger run that duplicates a mirrored SmashRun run (the domain's
//! [`duplicate_of`](myrunstreak_domain::duplicate_of)) is left out wherever the ledger's runs join
//! the mirror's ([`with_ledger`]), so the day counts once, whether the mirrored run came before
//! the entry or after it; `ledger` shows such an entry as a duplicate ([`LedgerLine`]).
//!
//! An entry's day is the date the runner gives. Its UTC offset is taken from the runner's zone as
//! the streak sees it (the home zone, else the clock of the most recent mirrored run) at the
//! entry's time, or at noon when it has none, so that the entry lands on that date.

use async_trait::async_trait;
use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::{AmbiguousOffset, Offset};
use myrunstreak_domain::{
    Distance, DomainError, LedgerEntry, LedgerItem, LedgerKind, PushState, Run, Units, duplicates,
    format_duration,
};
use myrunstreak_store::{Store, StoreError};
use serde::{Deserialize, Serialize};

use crate::queries::{StreakQuery, runner_zone};

/// Where ledger entries are kept: the port the ledger's use-cases write through. Implemented for
/// the DuckDB store; each method is one statement or transaction.
pub trait LedgerBook {
    /// Every entry, by day, then id.
    fn entries(&self) -> Result<Vec<LedgerEntry>, StoreError>;
    /// Records `item`; a second override of one day is [`StoreError::AlreadyOverridden`], a file
    /// already imported [`StoreError::AlreadyImported`].
    fn add(&mut self, item: &LedgerItem, created: Timestamp) -> Result<LedgerEntry, StoreError>;
    /// Removes entry `id`; `None` when there is none.
    fn remove(&mut self, id: i64) -> Result<Option<LedgerEntry>, StoreError>;
    /// Removes the override of `date`; `None` when the day has none.
    fn remove_override(&mut self, date: Date) -> Result<Option<LedgerEntry>, StoreError>;
    /// The mirror's runs alone (not deleted).
    fn mirrored(&self) -> Result<Vec<Run>, StoreError>;
    /// The mirror's runs and the ledger's but its duplicates ([`with_ledger`]), for the runner's
    /// zone and the streak after a change.
    fn runs(&self) -> Result<Vec<Run>, StoreError> {
        with_ledger(self.mirrored()?, &self.entries()?)
    }
}

impl LedgerBook for Store {
    fn entries(&self) -> Result<Vec<LedgerEntry>, StoreError> {
        self.ledger()
    }
    fn add(&mut self, item: &LedgerItem, created: Timestamp) -> Result<LedgerEntry, StoreError> {
        self.add_ledger_entry(item, created)
    }
    fn remove(&mut self, id: i64) -> Result<Option<LedgerEntry>, StoreError> {
        self.remove_ledger_entry(id)
    }
    fn remove_override(&mut self, date: Date) -> Result<Option<LedgerEntry>, StoreError> {
        Store::remove_override(self, date)
    }
    fn mirrored(&self) -> Result<Vec<Run>, StoreError> {
        self.domain_runs()
    }
}

/// The ledger of the database at `path`, opened for writing (migrated first), at `now`.
pub fn open_book(path: &std::path::Path, now: Timestamp) -> Result<impl LedgerBook, StoreError> {
    Store::open(path, now)
}

/// What can go wrong with a ledger entry.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The entry is not valid (no reason, no distance, ...).
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// The database refused, or the day is already overridden.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The mirror's runs with the ledger's entries as runs for the engine, but the entries that
/// duplicate a mirrored run and those whose pushed activity the mirror has (that run counts
/// instead): each day's run counts once.
pub fn with_ledger(
    mut mirrored: Vec<Run>,
    entries: &[LedgerEntry],
) -> Result<Vec<Run>, StoreError> {
    let duplicates = duplicates(&mirrored, entries);
    let own = entries
        .iter()
        .filter(|e| e.counts_on_its_own() && !duplicates.contains_key(&e.id))
        .map(|e| {
            e.to_run()
                .map_err(|err| StoreError::Unreadable(format!("ledger entry {}: {err}", e.id)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    mirrored.extend(own);
    Ok(mirrored)
}

/// A manual run as the runner gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct ManualRun {
    /// The run day.
    pub date: Date,
    /// The local start time, if known.
    pub time: Option<Time>,
    /// How far.
    pub distance: Distance,
    /// Moving time in seconds, if known.
    pub duration_s: Option<f64>,
    /// A note.
    pub note: Option<String>,
}

/// A recorded (or removed) entry and the day it counts on under the query's rules.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LedgerChange {
    /// The entry.
    pub entry: LedgerEntry,
    /// The day it counts on (its date, unless a home zone reads its start instant otherwise).
    pub day: Date,
}

/// `ledger --json` and `GET /api/v1/ledger`: every entry, by day.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LedgerResponse {
    /// The entries.
    pub entries: Vec<LedgerLine>,
}

/// One entry of the listing, and the mirrored run it duplicates, if any.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LedgerLine {
    /// The entry.
    #[serde(flatten)]
    pub entry: LedgerEntry,
    /// The SmashRun activity this entry duplicates: the entry is then not counted on its own.
    pub duplicate_of: Option<i64>,
}

impl LedgerResponse {
    /// The entries, each with the run of `runs` (the mirror's, the ledger's may be there too)
    /// it duplicates.
    pub fn of(entries: Vec<LedgerEntry>, runs: &[Run]) -> Self {
        let duplicates = duplicates(runs, &entries);
        LedgerResponse {
            entries: entries
                .into_iter()
                .map(|entry| LedgerLine {
                    duplicate_of: duplicates.get(&entry.id).map(|a| a.get()),
                    entry,
                })
                .collect(),
        }
    }
}

/// The runner's zone as the streak sees it: the home zone, else the clock of the most recent
/// mirrored run (else UTC).
pub fn zone(
    book: &impl LedgerBook,
    query: &StreakQuery,
    now: Timestamp,
) -> Result<jiff::tz::TimeZone, StoreError> {
    Ok(runner_zone(&book.runs()?, query, now))
}

/// The offset of the runner's zone at `time` (noon when none) on `date`.
fn offset_on(
    book: &impl LedgerBook,
    query: &StreakQuery,
    date: Date,
    time: Option<Time>,
    now: Timestamp,
) -> Result<Offset, LedgerError> {
    let zone = runner_zone(&book.runs()?, query, now);
    let wall = date.to_datetime(time.unwrap_or(Time::constant(12, 0, 0, 0)));
    Ok(match zone.to_ambiguous_timestamp(wall).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset,
        AmbiguousOffset::Gap { before, .. } | AmbiguousOffset::Fold { before, .. } => before,
    })
}

pub(crate) fn change(entry: LedgerEntry, query: &StreakQuery) -> Result<LedgerChange, LedgerError> {
    let run = entry.to_run()?;
    Ok(LedgerChange {
        day: query.day_policy().day_of(&run.start),
        entry,
    })
}

/// Records a manual run made at `now`.
pub fn add_run(
    book: &mut impl LedgerBook,
    run: ManualRun,
    query: &StreakQuery,
    now: Timestamp,
) -> Result<LedgerChange, LedgerError> {
    let offset = offset_on(book, query, run.date, run.time, now)?;
    let item = LedgerItem::run(
        run.date,
        run.time,
        offset,
        run.distance,
        run.duration_s,
        run.note,
    )?;
    change(book.add(&item, now)?, query)
}

/// Records an override of `date` with the runner's `reason`, made at `now`.
pub fn add_override(
    book: &mut impl LedgerBook,
    date: Date,
    reason: &str,
    query: &StreakQuery,
    now: Timestamp,
) -> Result<LedgerChange, LedgerError> {
    let offset = offset_on(book, query, date, None, now)?;
    let item = LedgerItem::override_day(date, offset, reason)?;
    change(book.add(&item, now)?, query)
}

/// Removes entry `id`; `None` when there is none.
pub fn remove(
    book: &mut impl LedgerBook,
    id: i64,
    query: &StreakQuery,
) -> Result<Option<LedgerChange>, LedgerError> {
    book.remove(id)?.map(|e| change(e, query)).transpose()
}

/// Removes the override of `date`; `None` when the day has none.
pub fn remove_override(
    book: &mut impl LedgerBook,
    date: Date,
    query: &StreakQuery,
) -> Result<Option<LedgerChange>, LedgerError> {
    book.remove_override(date)?
        .map(|e| change(e, query))
        .transpose()
}

/// A new entry as a shell receives it: the body of `POST /api/v1/ledger`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum NewEntry {
    /// A manual run.
    Run {
        /// The run day.
        date: Date,
        /// How far, in km.
        distance_km: f64,
        /// Moving time in seconds.
        #[serde(default)]
        duration_s: Option<f64>,
        /// The local start time.
        #[serde(default)]
        time: Option<Time>,
        /// A note.
        #[serde(default)]
        note: Option<String>,
    },
    /// An override of a day, with the runner's reason.
    Override {
        /// The day.
        date: Date,
        /// Why there is no run record.
        reason: String,
    },
}

/// Records `entry`, made at `now`.
pub fn record(
    book: &mut impl LedgerBook,
    entry: NewEntry,
    query: &StreakQuery,
    now: Timestamp,
) -> Result<LedgerChange, LedgerError> {
    match entry {
        NewEntry::Run {
            date,
            distance_km,
            duration_s,
            time,
            note,
        } => {
            let run = ManualRun {
                date,
                time,
                distance: Distance::from_km(distance_km)?,
                duration_s,
                note,
            };
            add_run(book, run, query, now)
        }
        NewEntry::Override { date, reason } => add_override(book, date, &reason, query, now),
    }
}

/// What a [`LedgerWriter`] can fail with.
#[derive(Debug, thiserror::Error)]
pub enum LedgerWriteError {
    /// The entry was refused.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The database could not be read or written where it lives; nothing was recorded.
    #[error("{0}")]
    Unavailable(String),
}

/// Where a shell records ledger entries when the database is not a file it may write in place
/// (a port: in AWS, the S3 object, changed through the same conditional write as the sync).
#[async_trait]
pub trait LedgerWriter: Send + Sync {
    /// Records `entry` under `query`, made at `now`, and makes it durable.
    async fn record(
        &self,
        entry: NewEntry,
        query: &StreakQuery,
        now: Timestamp,
    ) -> Result<LedgerChange, LedgerWriteError>;
}

/// One entry as a runner reads it: `run of 1.20 mi at 06:40 in 11:30 ("treadmill")`, or
/// `override: watch died`.
pub fn describe(e: &LedgerEntry, units: Units) -> String {
    match &e.item.kind {
        LedgerKind::Run {
            distance,
            duration_s,
            note,
            file,
        } => {
            let mut text = format!("run of {}", units.format(*distance));
            if let Some(f) = file {
                text = match &f.sport {
                    Some(sport) if !f.is_running() => {
                        format!(
                            "{sport} of {}, not counted as a run",
                            units.format(*distance)
                        )
                    }
                    _ => text,
                };
                text += &format!(" from {} ({})", f.name, f.format.as_str());
            }
            if let Some(t) = e.item.time {
                text += &format!(" at {}", t.strftime("%H:%M"));
            }
            if let Some(s) = duration_s {
                text += &format!(" in {}", format_duration(*s));
            }
            if let Some(n) = note {
                text += &format!(" ({n:?})");
            }
            text
        }
        LedgerKind::Override { reason } => format!("override: {reason}"),
    }
}

/// Where an entry stands with SmashRun, as the listing and the dashboard say it; `None` when it
/// was never pushed.
pub fn push_note(e: &LedgerEntry) -> Option<String> {
    let p = e.push.as_ref()?;
    let activity = p.activity_id.map(|a| a.to_string()).unwrap_or_default();
    Some(match p.state {
        PushState::Attempted => {
            format!(
                "push unconfirmed: `myrunstreak ledger push {}` looks for it",
                e.id
            )
        }
        PushState::Pushed => {
            format!("pushed as SmashRun activity {activity}; counts until synced")
        }
        PushState::Confirmed => {
            format!("on SmashRun as activity {activity}, mirrored: counted as that run")
        }
    })
}

/// Every entry, each duplicate marked with the mirrored run it duplicates.
pub fn list(book: &impl LedgerBook) -> Result<LedgerResponse, LedgerError> {
    Ok(LedgerResponse::of(book.entries()?, &book.mirrored()?))
}

/// Parses a duration as a runner writes it: `11:30` (minutes and seconds), `1:02:03`, or seconds.
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let bad = || format!("{text:?} is not a duration: use MM:SS or H:MM:SS, such as 11:30");
    let parts: Vec<&str> = text.trim().split(':').collect();
    let numbers: Vec<f64> = parts
        .iter()
        .map(|p| p.parse::<f64>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    if numbers.iter().any(|n| !n.is_finite() || *n < 0.0) {
        return Err(bad());
    }
    let later_below_60 = numbers.iter().skip(1).all(|n| *n < 60.0);
    match numbers.as_slice() {
        [s] => Ok(*s),
        [m, s] if later_below_60 => Ok(m * 60.0 + s),
        [h, m, s] if later_below_60 => Ok(h * 3600.0 + m * 60.0 + s),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_as_runners_write_them() {
        assert_eq!(parse_duration("11:30"), Ok(690.0));
        assert_eq!(parse_duration("1:02:03"), Ok(3723.0));
        assert_eq!(parse_duration("95"), Ok(95.0));
        assert!(parse_duration("11:75").is_err());
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("-1:00").is_err());
    }
}
