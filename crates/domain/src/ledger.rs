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
}

impl LedgerEntry {
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
    fn an_override_needs_a_reason_and_a_run_a_distance() {
        let day = date(2026, 5, 2);
        assert!(LedgerItem::override_day(day, Offset::UTC, " ").is_err());
        assert!(LedgerItem::run(day, None, Offset::UTC, Distance::ZERO, None, None).is_err());
        let km = Distance::from_km(2.0).unwrap();
        assert!(LedgerItem::run(day, None, Offset::UTC, km, Some(-1.0), None).is_err());
    }
}
