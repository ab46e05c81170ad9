use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, Offset, TimeZone};
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

    /// Parses like [`LocalStart::parse`], but keeps a start written without an offset
    /// (`2026-05-01T07:00:00`): its wall time, and so its day, are as written, and the offset is
    /// assumed (see [`LocalStart::offset_assumed`]): the offset of `home` at that wall time
    /// (compatible disambiguation: in a DST gap or fold, the offset before the transition), else
    /// UTC. A start with an offset is read exactly as [`LocalStart::parse`] reads it, and a text
    /// that is not a date-time is refused either way.
    pub fn parse_lenient(text: &str, home: Option<&TimeZone>) -> Result<Self, DomainError> {
        let strict = match LocalStart::parse(text) {
            Ok(start) => return Ok(start),
            Err(e) => e,
        };
        // only `YYYY-MM-DDTHH:MM...` that writes no zone at all is read leniently: a malformed or
        // out-of-range offset stays an error rather than being replaced by a guess, and so does
        // a date without a time
        let has_time = text
            .get(10..11)
            .is_some_and(|sep| matches!(sep, "T" | "t" | " "));
        let writes_zone = text
            .get(10..)
            .is_none_or(|rest| rest.contains(['+', '-', 'Z', 'z', '[']));
        if !has_time || writes_zone {
            return Err(strict);
        }
        let Ok(wall) = text.parse::<DateTime>() else {
            return Err(strict);
        };
        let offset = match home {
            None => Offset::UTC,
            Some(zone) => match zone.to_ambiguous_timestamp(wall).offset() {
                AmbiguousOffset::Unambiguous { offset } => offset,
                AmbiguousOffset::Gap { before, .. } | AmbiguousOffset::Fold { before, .. } => {
                    before
                }
            },
        };
        Ok(LocalStart::with_assumed_offset(wall, offset))
    }

    /// Whether the offset is at an extreme of the world's clocks: −11:00 or further west, or
    /// +13:00 or further east (Samoa, Tonga, Kiribati's +14:00). Real runs happen there, and
    /// SmashRun has also written `+14:00` for runs far from the date line, so such a start is
    /// kept on its written date but is worth a second look.
    pub fn extreme_offset(&self) -> bool {
        let seconds = self.offset.seconds();
        seconds <= -11 * 3600 || seconds >= 13 * 3600
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
        // A fixed offset maps every wall time to exactly one instant (plain arithmetic: no zone
        // lookup, which made this the sync's hottest call)
        self.offset
            .to_timestamp(self.wall)
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

/// Where a [`Run`] comes from: SmashRun's mirror, or the runner's own ledger.
///
/// The ledger holds what SmashRun lacks: a manual run (a run like any other, marked as the
/// ledger's so that it can be shown and left out), and an **override**, a day the runner states
/// was run without a record of it. An override is carried as a run of no distance and no time so
/// that it reaches every day-based figure through the same path as runs; it adds nothing to any
/// total, is never a run in analytics, and makes its day qualify under any rule
/// ([`DayTotals::overridden`](crate::DayTotals::overridden)), shown as an override wherever the
/// day is shown.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunOrigin {
    /// Mirrored from SmashRun; the run's id is SmashRun's.
    #[default]
    SmashRun,
    /// A run entered by hand in the ledger; the run's id is the ledger entry's id.
    Ledger {
        /// The ledger entry.
        entry: i64,
    },
    /// A day counted by the runner's word, without a run record.
    Override {
        /// The ledger entry.
        entry: i64,
        /// Why the day has no record ("watch died").
        reason: String,
    },
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
    /// SmashRun, or the ledger (a manual run or an override).
    #[serde(default)]
    pub origin: RunOrigin,
}

impl Run {
    /// Longest moving time one run is counted with: a billion seconds (31 years). Anything
    /// longer is garbage, and capping it keeps sums over any history far from overflowing.
    pub const MAX_MOVING_S: f64 = 1e9;

    /// Whether this is an override: a day counted without a run record.
    pub fn is_override(&self) -> bool {
        matches!(self.origin, RunOrigin::Override { .. })
    }

    /// Whether this comes from the ledger (a manual run or an override), not from SmashRun.
    pub fn is_ledger(&self) -> bool {
        !matches!(self.origin, RunOrigin::SmashRun)
    }

    /// Moving time in whole milliseconds; negative or non-finite durations count as 0, absurd
    /// ones as [`Run::MAX_MOVING_S`].
    pub fn moving_ms(&self) -> i64 {
        if self.duration_s.is_finite() && self.duration_s > 0.0 {
            (self.duration_s.min(Self::MAX_MOVING_S) * 1000.0).round() as i64
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
    fn lenient_parse_keeps_an_offset_less_start_on_its_written_date() {
        let s = LocalStart::parse_lenient("2026-05-01T07:00:00", None).unwrap();
        assert!(s.offset_assumed());
        assert_eq!(s.date().to_string(), "2026-05-01");
        assert_eq!(s.offset(), Offset::UTC, "no home zone: UTC is assumed");
        assert_eq!(s.instant().to_string(), "2026-05-01T07:00:00Z");
        // late in the evening west of Greenwich: the day stays the written one
        let ny = TimeZone::get("America/New_York").unwrap();
        let s = LocalStart::parse_lenient("2026-05-01T23:30:00", Some(&ny)).unwrap();
        assert!(s.offset_assumed());
        assert_eq!(s.date().to_string(), "2026-05-01");
        assert_eq!(s.offset().seconds(), -4 * 3600, "EDT in May");
        assert_eq!(s.instant().to_string(), "2026-05-02T03:30:00Z");
        let winter = LocalStart::parse_lenient("2026-01-10T06:15:30.5", Some(&ny)).unwrap();
        assert_eq!(winter.offset().seconds(), -5 * 3600, "EST in January");
        assert_eq!(winter.date().to_string(), "2026-01-10");
    }

    #[test]
    fn lenient_parse_disambiguates_like_jiff_compatible() {
        let ny = TimeZone::get("America/New_York").unwrap();
        // 02:30 does not exist on 2026-03-08 in New York: the offset before the gap (EST)
        let gap = LocalStart::parse_lenient("2026-03-08T02:30:00", Some(&ny)).unwrap();
        assert_eq!(gap.offset().seconds(), -5 * 3600);
        assert_eq!(gap.date().to_string(), "2026-03-08");
        assert_eq!(gap.wall().to_string(), "2026-03-08T02:30:00");
        // 01:30 happens twice on 2026-11-01: the earlier one (EDT)
        let fold = LocalStart::parse_lenient("2026-11-01T01:30:00", Some(&ny)).unwrap();
        assert_eq!(fold.offset().seconds(), -4 * 3600);
        let expected = "2026-11-01T01:30:00"
            .parse::<DateTime>()
            .unwrap()
            .to_zoned_datetime(ny.clone())
            .unwrap();
        assert_eq!(fold.instant(), expected.timestamp());
    }

    #[test]
    fn lenient_parse_reads_written_offsets_strictly_and_refuses_garbage() {
        let s = LocalStart::parse_lenient("2026-05-02T23:30:00-07:00", None).unwrap();
        assert!(!s.offset_assumed());
        assert_eq!(s, LocalStart::parse("2026-05-02T23:30:00-07:00").unwrap());
        let z = LocalStart::parse_lenient("2026-05-02T23:30:00Z", None).unwrap();
        assert!(!z.offset_assumed());
        for bad in [
            "yesterday",
            "",
            "2026-05-01T07:00:00+99:00",
            "2026-05-01T07:00:00-",
            "2026-13-01T07:00:00",
            "2026-05-01",
            "ßßßßßßßßßßßßßßßß",
        ] {
            assert!(LocalStart::parse_lenient(bad, None).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn extreme_offsets_are_flagged_and_kept_on_their_written_date() {
        for (text, extreme) in [
            ("2026-05-01T07:00:00+14:00", true),
            ("2026-05-01T07:00:00+13:00", true),
            ("2026-05-01T07:00:00+12:45", false),
            ("2026-05-01T07:00:00-12:00", true),
            ("2026-05-01T07:00:00-11:00", true),
            ("2026-05-01T07:00:00-10:30", false),
            ("2026-05-01T07:00:00+00:00", false),
        ] {
            let s = LocalStart::parse(text).unwrap();
            assert_eq!(s.extreme_offset(), extreme, "{text}");
            assert_eq!(s.date().to_string(), "2026-05-01", "{text}");
        }
        let s = LocalStart::parse("2026-05-01T00:30:00+14:00").unwrap();
        assert_eq!(s.instant().to_string(), "2026-04-30T10:30:00Z");
        assert_eq!(s.date().to_string(), "2026-05-01");
    }

    #[test]
    fn absurd_durations_are_capped() {
        let run = |duration_s| Run {
            id: ActivityId::new(1).unwrap(),
            start: LocalStart::parse("2026-05-01T07:00:00Z").unwrap(),
            distance: Distance::ZERO,
            duration_s,
            is_running: true,
            is_treadmill: false,
            origin: RunOrigin::SmashRun,
        };
        assert_eq!(run(1800.5).moving_ms(), 1_800_500);
        assert_eq!(run(1e308).moving_ms(), 1_000_000_000_000);
        assert_eq!(run(f64::NAN).moving_ms(), 0);
        assert_eq!(run(-5.0).moving_ms(), 0);
    }

    #[test]
    fn activity_ids_are_positive() {
        assert!(ActivityId::new(0).is_err());
        assert_eq!(ActivityId::new(42).unwrap().get(), 42);
    }
}
