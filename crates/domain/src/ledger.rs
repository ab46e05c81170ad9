//! The runner's ledger: what SmashRun lacks, kept apart from the mirror.
//!
//! An entry is either a **manual run** (a run with no file: its day, an optional start time,
//! distance, optional duration and note) or an **override** (a day counted without a run record,
//! with the runner's reason). Both become [`Run`]s marked with their [`RunOrigin`], so every
//! streak, analytics and audit figure takes them in through the one path runs already take, and
//! every shell can show them, or leave them out, for what they are.
//!
//! A run day is a local date, and an entry keeps the UTC offset of the runner's zone on that day
//! (at its start time, or at noon when it has none), so that the entry lands on its date under
//! either day policy: the local clock reads the date as written, a home zone reads the instant.

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::Offset;
use serde::Serialize;

use crate::{ActivityId, Distance, DomainError, LocalStart, Run, RunOrigin};

/// What a ledger entry states.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LedgerKind {
    /// A run with no file and no SmashRun record.
    Run {
        /// Distance (km, at SmashRun's precision).
        distance: Distance,
        /// Moving time in seconds, when known.
        duration_s: Option<f64>,
        /// The runner's note.
        note: Option<String>,
    },
    /// The day counts without a run record.
    Override {
        /// Why there is no record ("watch died"); never empty.
        reason: String,
    },
}

/// One entry as the runner states it, before the ledger gives it an id.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LedgerItem {
    /// The run day (a local calendar date).
    pub date: Date,
    /// The local start time, when given (manual runs only).
    pub time: Option<Time>,
    /// The UTC offset of the runner's zone at that time (or at noon), in seconds.
    pub utc_offset_s: i32,
    /// A run or an override.
    #[serde(flatten)]
    pub kind: LedgerKind,
}

impl LedgerItem {
    /// A manual run; refused unless its distance is above zero and its duration, when given, is
    /// a finite number of seconds, 0 or more.
    pub fn run(
        date: Date,
        time: Option<Time>,
        offset: Offset,
        distance: Distance,
        duration_s: Option<f64>,
        note: Option<String>,
    ) -> Result<Self, DomainError> {
        if distance <= Distance::ZERO {
            return Err(DomainError::InvalidLedgerEntry(
                "a manual run needs a distance above zero".into(),
            ));
        }
        if duration_s.is_some_and(|s| !s.is_finite() || s < 0.0) {
            return Err(DomainError::InvalidLedgerEntry(
                "a duration is 0 or more, such as 11:30 or 1:02:03".into(),
            ));
        }
        Ok(LedgerItem {
            date,
            time,
            utc_offset_s: offset.seconds(),
            kind: LedgerKind::Run {
                distance,
                duration_s,
                note: note.filter(|n| !n.trim().is_empty()),
            },
        })
    }

    /// An override of `date`; refused without a reason, which is what keeps it honest.
    pub fn override_day(date: Date, offset: Offset, reason: &str) -> Result<Self, DomainError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(DomainError::InvalidLedgerEntry(
                "an override needs a reason, such as --reason \"watch died\"".into(),
            ));
        }
        Ok(LedgerItem {
            date,
            time: None,
            utc_offset_s: offset.seconds(),
            kind: LedgerKind::Override {
                reason: reason.to_owned(),
            },
        })
    }

    /// Whether this is an override.
    pub fn is_override(&self) -> bool {
        matches!(self.kind, LedgerKind::Override { .. })
    }

    /// The start the entry stands for: its time (or noon, the offset then assumed) on its date.
    pub fn start(&self) -> LocalStart {
        let wall = self
            .date
            .to_datetime(self.time.unwrap_or(Time::constant(12, 0, 0, 0)));
        let offset = Offset::from_seconds(self.utc_offset_s).unwrap_or(Offset::UTC);
        if self.time.is_some() {
            LocalStart::new(wall, offset)
        } else {
            LocalStart::with_assumed_offset(wall, offset)
        }
    }
}

/// A stored ledger entry: its stable id, when it was made, and what it states.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LedgerEntry {
    /// Stable id, never reused.
    pub id: i64,
    /// When the runner made it.
    pub created: Timestamp,
    /// What it states.
    #[serde(flatten)]
    pub item: LedgerItem,
    /// What became of pushing it to SmashRun; `None` (null) when it never was.
    pub push: Option<LedgerPush>,
}

/// Where a pushed entry stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PushState {
    /// A push was sent, and whether SmashRun created the activity is not known yet (the answer
    /// was lost); the next push looks for it before sending again.
    Attempted,
    /// SmashRun created the activity; the mirror does not have it yet, so the entry still counts.
    Pushed,
    /// The mirror has the activity: it counts, and the entry no longer does on its own.
    Confirmed,
}

/// An entry's push to SmashRun.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LedgerPush {
    /// Where it stands.
    pub state: PushState,
    /// The `externalId` sent ([`LedgerEntry::external_id`]).
    pub external_id: String,
    /// SmashRun's id of the activity, once known.
    pub activity_id: Option<i64>,
    /// When SmashRun's creation of it was known.
    pub pushed_at: Option<Timestamp>,
}

impl LedgerPush {
    /// The push as recorded (`activity_id` and `pushed_at` once SmashRun's answer was had), with
    /// `mirrored`, the id of a live mirrored run that is the pushed activity (by id or by
    /// `externalId`), if any.
    pub fn new(
        external_id: String,
        activity_id: Option<i64>,
        pushed_at: Option<Timestamp>,
        mirrored: Option<i64>,
    ) -> Self {
        let state = match (mirrored, activity_id) {
            (Some(_), _) => PushState::Confirmed,
            (None, Some(_)) => PushState::Pushed,
            (None, None) => PushState::Attempted,
        };
        LedgerPush {
            state,
            external_id,
            activity_id: activity_id.or(mirrored),
            pushed_at,
        }
    }
}

impl LedgerEntry {
    /// The `externalId` the entry is pushed with: stable across retries and pushes, and unique
    /// to this entry in this database (its id with the second it was made).
    pub fn external_id(&self) -> String {
        format!(
            "myrunstreak-ledger-{}-{}",
            self.id,
            self.created.as_second()
        )
    }

    /// Whether the entry counts by itself: not once the mirror has the activity it was pushed
    /// as (that run counts instead, so the day is not counted twice).
    pub fn counts_on_its_own(&self) -> bool {
        self.push
            .as_ref()
            .is_none_or(|p| p.state != PushState::Confirmed)
    }

    /// The entry as the streak engine takes it: a run marked as the ledger's, or an override.
    /// Refused when the id is not positive (the ledger's ids are).
    pub fn to_run(&self) -> Result<Run, DomainError> {
        let (distance, duration_s, origin) = match &self.item.kind {
            LedgerKind::Run {
                distance,
                duration_s,
                ..
            } => (
                *distance,
                duration_s.unwrap_or(0.0),
                RunOrigin::Ledger { entry: self.id },
            ),
            LedgerKind::Override { reason } => (
                Distance::ZERO,
                0.0,
                RunOrigin::Override {
                    entry: self.id,
                    reason: reason.clone(),
                },
            ),
        };
        Ok(Run {
            id: ActivityId::new(self.id)?,
            start: self.item.start(),
            distance,
            duration_s,
            is_running: true,
            is_treadmill: false,
            origin,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DayPolicy;
    use jiff::civil::{date, time};
    use jiff::tz::TimeZone;

    #[test]
    fn an_entry_lands_on_its_date_under_either_day_policy() {
        let chicago = TimeZone::get("America/Chicago").unwrap();
        let day = date(2026, 5, 2);
        let late = time(23, 30, 0, 0);
        let offset = chicago.to_offset(
            day.to_datetime(late)
                .to_zoned_datetime(chicago.clone())
                .unwrap()
                .timestamp(),
        );
        let entry = LedgerEntry {
            id: 3,
            created: Timestamp::UNIX_EPOCH,
            push: None,
            item: LedgerItem::run(
                day,
                Some(late),
                offset,
                Distance::from_miles(1.2).unwrap(),
                Some(690.0),
                None,
            )
            .unwrap(),
        };
        let run = entry.to_run().unwrap();
        assert_eq!(run.start.to_string(), "2026-05-02T23:30:00-05:00");
        assert_eq!(run.origin, RunOrigin::Ledger { entry: 3 });
        assert_eq!(DayPolicy::LocalClock.day_of(&run.start), day);
        assert_eq!(DayPolicy::HomeZone(chicago.clone()).day_of(&run.start), day);

        let noon_offset = chicago.to_offset(Timestamp::UNIX_EPOCH);
        let o = LedgerEntry {
            id: 4,
            created: Timestamp::UNIX_EPOCH,
            item: LedgerItem::override_day(day, noon_offset, "  watch died ").unwrap(),
            push: None,
        };
        let run = o.to_run().unwrap();
        assert!(run.is_override() && run.start.offset_assumed());
        assert_eq!(run.distance, Distance::ZERO);
        assert_eq!(DayPolicy::HomeZone(chicago).day_of(&run.start), day);
        assert_eq!(
            run.origin,
            RunOrigin::Override {
                entry: 4,
                reason: "watch died".into()
            }
        );
    }

    #[test]
    fn a_pushed_entry_stops_counting_on_its_own_once_mirrored() {
        let mut entry = LedgerEntry {
            id: 7,
            created: "2026-05-03T08:00:00Z".parse().unwrap(),
            item: LedgerItem::run(
                date(2026, 5, 2),
                None,
                Offset::UTC,
                Distance::from_km(2.0).unwrap(),
                None,
                None,
            )
            .unwrap(),
            push: None,
        };
        assert_eq!(entry.external_id(), "myrunstreak-ledger-7-1777795200");
        assert!(entry.counts_on_its_own());
        let id = entry.external_id();
        entry.push = Some(LedgerPush::new(id.clone(), None, None, None));
        assert_eq!(entry.push.as_ref().unwrap().state, PushState::Attempted);
        assert!(entry.counts_on_its_own());
        entry.push = Some(LedgerPush::new(id.clone(), Some(42), None, None));
        assert_eq!(entry.push.as_ref().unwrap().state, PushState::Pushed);
        assert!(entry.counts_on_its_own(), "not mirrored yet");
        // an answer lost, then the activity mirrored: found by its externalId
        let found = LedgerPush::new(id, None, None, Some(43));
        assert_eq!(
            (found.state, found.activity_id),
            (PushState::Confirmed, Some(43))
        );
        entry.push = Some(found);
        assert!(!entry.counts_on_its_own());
    }

    #[test]
    fn an_override_needs_a_reason_and_a_run_a_distance() {
        let day = date(2026, 5, 2);
        assert!(LedgerItem::override_day(day, Offset::UTC, " ").is_err());
        assert!(LedgerItem::run(day, None, Offset::UTC, Distance::ZERO, None, None).is_err());
        let km = Distance::from_km(2.0).unwrap();
        assert!(LedgerItem::run(day, None, Offset::UTC, km, Some(-1.0), None).is_err());
    }
}
