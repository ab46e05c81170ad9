use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::{Offset, TimeZone};
use serde::{Deserialize, Serialize};

use crate::{Distance, DomainError};

/// SmashRun's id of an activity: a positive integer. Ids are not ordered by start time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct ActivityId(i64);

impl ActivityId {
    /// An id, refused unless positive.
    pub fn new(id: i64) -> Result<Self, DomainError> {
        if id > 0 {
            Ok(ActivityId(id))
        } else {
            Err(DomainError::InvalidActivityId(id))
        }
    }

    /// The integer SmashRun uses.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl TryFrom<i64> for ActivityId {
    type Error = DomainError;
    fn try_from(id: i64) -> Result<Self, DomainError> {
        ActivityId::new(id)
    }
}

impl From<ActivityId> for i64 {
    fn from(id: ActivityId) -> i64 {
        id.0
    }
}

impl fmt::Display for ActivityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// When a run started: the wall-clock time where it happened, together with that place's UTC
/// offset, exactly as SmashRun writes `startDateTimeLocal` (`2022-11-09T09:12:00-05:00`).
///
/// Both halves matter: the wall time gives the run's calendar day, the offset gives the instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LocalStart {
    wall: DateTime,
    offset: Offset,
    /// The source gave no offset: `offset` was assumed (the home zone's, else UTC), so the
    /// wall time and its date are as written but the instant is a guess.
    offset_assumed: bool,
}

impl LocalStart {
    /// A start from its wall time and the offset in force there.
    pub fn new(wall: DateTime, offset: Offset) -> Self {
        LocalStart {
            wall,
            offset,
            offset_assumed: false,
        }
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fff]±HH:MM`; a trailing `Z` is read as `+00:00`.
    /// A time without an offset is refused: the day would be guesswork.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let invalid = |reason: &str| DomainError::InvalidStart {
            value: text.to_owned(),
            reason: reason.to_owned(),
        };
        let normalized = match text.strip_suffix(['Z', 'z']) {
            Some(rest) => format!("{rest}+00:00"),
            None => text.to_owned(),
        };
        let instant: Timestamp = normalized.parse().map_err(|e: jiff::Error| {
            invalid(&format!("no UTC offset or not a date-time ({e})"))
        })?;
        let wall: DateTime = normalized
            .parse()
            .map_err(|e: jiff::Error| invalid(&e.to_string()))?;
        let wall_as_utc = wall
            .to_zoned_datetime(TimeZone::UTC)
            .map_err(|e| invalid(&e.to_string()))?
            .timestamp();
        let seconds = wall_as_utc.duration_since(instant).as_secs();
        let offset = i32::try_from(seconds)
            .ok()
            .and_then(|s| Offset::from_seconds(s).ok())
            .ok_or_else(|| invalid("UTC offset out of range"))?;
        Ok(LocalStart {
            wall,
            offset,
            offset_assumed: false,
        })
    }

    /// The start at `instant` where the clock read UTC`offset`.
    pub fn from_instant(instant: Timestamp, offset: Offset) -> Self {
        let wall = instant
            .to_zoned_datetime(TimeZone::fixed(offset))
            .datetime();
        LocalStart {
            wall,
            offset,
            offset_assumed: false,
        }
    }

    /// The wall-clock time where the run happened.
    pub fn wall(&self) -> DateTime {
        self.wall
    }

    /// The UTC offset where the run happened.
    pub fn offset(&self) -> Offset {
        self.offset
    }

    /// Whether the offset was assumed because the source wrote none (see
    /// [`LocalStart::with_assumed_offset`]): the date is as written, the instant a guess.
    pub fn offset_assumed(&self) -> bool {
        self.offset_assumed
    }

    /// A start whose source wrote no offset: the wall time (and so the run's day) is as written,
    /// and `offset` is an assumption (the home zone's offset at that wall time, else UTC).
    pub fn with_assumed_offset(wall: DateTime, offset: Offset) -> Self {
        LocalStart {
            wall,
            offset,
            offset_assumed: true,
        }
    }

    /// The local calendar date of the start: the run's day under the default rule.
    pub fn date(&self) -> Date {
        self.wall.date()
    }

    /// The start as an instant.
    pub fn instant(&self) -> Timestamp {
        // A fixed offset maps every wall time to exactly one instant.
        self.wall
            .to_zoned_datetime(TimeZone::fixed(self.offset))
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

impl fmt::Display for LocalStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.offset.seconds();
        let sign = if secs < 0 { '-' } else { '+' };
        let abs = secs.unsigned_abs();
        write!(
            f,
            "{}{}{:02}:{:02}",
            self.wall.strftime("%Y-%m-%dT%H:%M:%S"),
            sign,
            abs / 3600,
            (abs / 60) % 60
        )
    }
}

impl FromStr for LocalStart {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, DomainError> {
        LocalStart::parse(s)
    }
}

impl Serialize for LocalStart {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LocalStart {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        LocalStart::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// What the streak engine and analytics need to know of one activity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// SmashRun's id.
    pub id: ActivityId,
    /// Local wall time and offset of the start.
    pub start: LocalStart,
    /// Distance at SmashRun's precision.
    pub distance: Distance,
    /// Moving time in seconds; SmashRun allows 0.
    pub duration_s: f64,
    /// Whether SmashRun calls it a run (`activityType` is `running`); other types never count.
    pub is_running: bool,
    /// Treadmill runs count unless the rules exclude them.
    pub is_treadmill: bool,
}

impl Run {
    /// Moving time in whole milliseconds; negative or non-finite durations count as 0.
    pub fn moving_ms(&self) -> i64 {
        if self.duration_s.is_finite() && self.duration_s > 0.0 {
            (self.duration_s * 1000.0).round() as i64
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_wall_time_and_offset() {
        let s = LocalStart::parse("2022-11-09T09:12:00-05:00").unwrap();
        assert_eq!(s.date().to_string(), "2022-11-09");
        assert_eq!(s.offset().seconds(), -5 * 3600);
        assert_eq!(s.instant().to_string(), "2022-11-09T14:12:00Z");
        assert_eq!(s.to_string(), "2022-11-09T09:12:00-05:00");
    }

    #[test]
    fn evening_run_west_of_greenwich_stays_on_its_local_day() {
        let s = LocalStart::parse("2026-05-02T23:30:00-07:00").unwrap();
        assert_eq!(s.date().to_string(), "2026-05-02");
        assert_eq!(s.instant().to_string(), "2026-05-03T06:30:00Z");
    }

    #[test]
    fn from_instant_round_trips() {
        let s = LocalStart::parse("2022-11-09T09:12:00-05:00").unwrap();
        assert_eq!(LocalStart::from_instant(s.instant(), s.offset()), s);
    }

    #[test]
    fn half_hour_offsets_and_z() {
        let s = LocalStart::parse("2024-01-01T06:00:00+05:30").unwrap();
        assert_eq!(s.to_string(), "2024-01-01T06:00:00+05:30");
        let z = LocalStart::parse("2024-01-01T06:00:00Z").unwrap();
        assert_eq!(z.to_string(), "2024-01-01T06:00:00+00:00");
    }

    #[test]
    fn refuses_a_time_without_offset() {
        let err = LocalStart::parse("2022-11-09T09:12:00").unwrap_err();
        assert!(err.to_string().contains("2022-11-09T09:12:00"), "{err}");
        assert!(LocalStart::parse("yesterday").is_err());
    }

    #[test]
    fn activity_ids_are_positive() {
        assert!(ActivityId::new(0).is_err());
        assert_eq!(ActivityId::new(42).unwrap().get(), 42);
    }
}
