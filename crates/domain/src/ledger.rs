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
//!
//! A run may come from a file (GPX, TCX, FIT: [`ImportedFile`]); it is then a ledger run like a
//! manual one, with the file's name, its content hash (the same file imported twice is one entry)
//! and the sport the file names. A file of another sport (cycling, say) is kept, and does not
//! count as a run, as SmashRun's own activities of other types do not.
//!
//! A ledger run that duplicates a mirrored SmashRun run ([`duplicate_of`]: same local day, starts
//! within [`DUPLICATE_WINDOW_S`] when both have a time, distances within 5 % or 0.1 km) is not
//! counted on its own. The rule is applied when the runs are read, never stored, so a run mirrored
//! after the import is recognised as well.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::Offset;
use serde::Serialize;

use crate::{ActivityId, Distance, DomainError, LocalStart, Run, RunOrigin};

/// The format of an imported activity file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    /// GPS Exchange Format.
    Gpx,
    /// Garmin's Training Center XML.
    Tcx,
    /// Garmin's binary Flexible and Interoperable data Transfer format.
    Fit,
}

impl FileFormat {
    /// The format's name as stored and shown: `gpx`, `tcx`, `fit`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileFormat::Gpx => "gpx",
            FileFormat::Tcx => "tcx",
            FileFormat::Fit => "fit",
        }
    }

    /// The format named `text` (`gpx`, `tcx`, `fit`).
    pub fn parse(text: &str) -> Option<FileFormat> {
        match text {
            "gpx" => Some(FileFormat::Gpx),
            "tcx" => Some(FileFormat::Tcx),
            "fit" => Some(FileFormat::Fit),
            _ => None,
        }
    }
}

/// The file a ledger run was imported from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ImportedFile {
    /// GPX, TCX or FIT.
    pub format: FileFormat,
    /// The file's name as given (its last path component).
    pub name: String,
    /// SHA-256 of the file's bytes, lowercase hex: the same file imported twice is one entry.
    pub sha256: String,
    /// The sport the file names (`running`, `cycling`, ...), lowercase; `None` when it names none
    /// (or only a generic one).
    pub sport: Option<String>,
}

impl ImportedFile {
    /// Whether the run counts as a run: the file names no sport, or a running one.
    pub fn is_running(&self) -> bool {
        self.sport.as_deref().is_none_or(is_running_sport)
    }
}

/// Whether a sport as a file names it is running (`running`, `trail_running`, `Run`, ...).
pub fn is_running_sport(sport: &str) -> bool {
    sport.to_ascii_lowercase().contains("run")
}

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
        /// The file it was imported from; `None` for a run entered by hand.
        #[serde(skip_serializing_if = "Option::is_none")]
        file: Option<ImportedFile>,
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
                file: None,
            },
        })
    }

    /// A run imported from `file`, starting at `start` (its local wall time and offset); refused
    /// as [`LedgerItem::run`] refuses a manual run.
    pub fn imported(
        start: jiff::civil::DateTime,
        offset: Offset,
        distance: Distance,
        duration_s: Option<f64>,
        file: ImportedFile,
    ) -> Result<Self, DomainError> {
        let mut item = LedgerItem::run(
            start.date(),
            Some(start.time()),
            offset,
            distance,
            duration_s,
            None,
        )?;
        if let LedgerKind::Run { file: f, .. } = &mut item.kind {
            *f = Some(file);
        }
        Ok(item)
    }

    /// The file the entry was imported from, if any.
    pub fn file(&self) -> Option<&ImportedFile> {
        match &self.kind {
            LedgerKind::Run { file, .. } => file.as_ref(),
            LedgerKind::Override { .. } => None,
        }
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
        let (distance, duration_s, is_running, origin) = match &self.item.kind {
            LedgerKind::Run {
                distance,
                duration_s,
                file,
                ..
            } => (
                *distance,
                duration_s.unwrap_or(0.0),
                file.as_ref().is_none_or(ImportedFile::is_running),
                RunOrigin::Ledger { entry: self.id },
            ),
            LedgerKind::Override { reason } => (
                Distance::ZERO,
                0.0,
                true,
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
            is_running,
            is_treadmill: false,
            origin,
        })
    }
}

/// How far apart two starts may be for a ledger run to duplicate a mirrored one: 10 minutes.
pub const DUPLICATE_WINDOW_S: i64 = 600;

/// Distances this close always match (0.1 km), whatever the share.
const DUPLICATE_SLACK: Distance = Distance::from_cm(10_000);

/// The mirrored SmashRun activity that ledger entry `entry` duplicates, if any: a run of the
/// same local day (each side's own wall date), whose start is within [`DUPLICATE_WINDOW_S`] of
/// the entry's when the entry has a time (a mirrored run always has one), and whose distance is
/// within 5 % of the mirrored one or within 0.1 km. Of several, the closest start wins, then the
/// closest distance. Overrides duplicate nothing: they state a day, not a run.
pub fn duplicate_of(entry: &LedgerEntry, mirrored: &[Run]) -> Option<ActivityId> {
    let LedgerKind::Run { distance, .. } = &entry.item.kind else {
        return None;
    };
    let start = entry.item.time.map(|_| entry.item.start().instant());
    mirrored
        .iter()
        .filter(|run| run.origin == RunOrigin::SmashRun && run.start.date() == entry.item.date)
        .filter_map(|run| {
            let apart_s = match start {
                Some(start) => {
                    let apart = (run.start.instant().as_second() - start.as_second()).abs();
                    if apart > DUPLICATE_WINDOW_S {
                        return None;
                    }
                    apart
                }
                None => 0,
            };
            let gap = (run.distance.cm() - distance.cm()).abs();
            // 5 % of the mirrored distance, in whole centimetres, rounded up
            let share = (run.distance.cm().unsigned_abs() * 5).div_ceil(100) as i64;
            (gap <= DUPLICATE_SLACK.cm() || gap <= share).then_some((apart_s, gap, run.id))
        })
        .min()
        .map(|(_, _, id)| id)
}

/// Which ledger entries duplicate a mirrored run, by entry id, with the activity each duplicates
/// (see [`duplicate_of`]). `runs` may hold the ledger's runs too: only SmashRun's are compared.
pub fn duplicates(runs: &[Run], entries: &[LedgerEntry]) -> BTreeMap<i64, ActivityId> {
    entries
        .iter()
        .filter_map(|e| duplicate_of(e, runs).map(|id| (e.id, id)))
        .collect()
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

    fn mirrored(id: i64, start: &str, km: f64) -> Run {
        Run {
            id: ActivityId::new(id).unwrap(),
            start: LocalStart::parse(start).unwrap(),
            distance: Distance::from_km(km).unwrap(),
            duration_s: 1800.0,
            is_running: true,
            is_treadmill: false,
            origin: RunOrigin::SmashRun,
        }
    }

    /// A ledger run at `start` (wall time, -05:00), or untimed on its date when `timed` is false.
    fn ledger_run(start: &str, timed: bool, km: f64) -> LedgerEntry {
        let wall: jiff::civil::DateTime = start.parse().unwrap();
        let offset = Offset::from_seconds(-5 * 3600).unwrap();
        let time = timed.then(|| wall.time());
        LedgerEntry {
            id: 7,
            created: Timestamp::UNIX_EPOCH,
            push: None,
            item: LedgerItem::run(
                wall.date(),
                time,
                offset,
                Distance::from_km(km).unwrap(),
                None,
                None,
            )
            .unwrap(),
        }
    }

    #[test]
    fn a_duplicate_starts_within_ten_minutes() {
        let smashrun = [mirrored(41, "2026-03-09T21:10:00-05:00", 5.0)];
        let at = |t: &str| duplicate_of(&ledger_run(t, true, 5.0), &smashrun);
        let id = ActivityId::new(41).ok();
        assert_eq!(at("2026-03-09T21:19:59"), id, "9:59 later");
        assert_eq!(at("2026-03-09T21:00:01"), id, "9:59 earlier");
        assert_eq!(at("2026-03-09T21:20:00"), id, "10:00 exactly");
        assert_eq!(at("2026-03-09T21:20:01"), None, "10:01 later");
        assert_eq!(at("2026-03-09T20:59:59"), None, "10:01 earlier");
    }

    #[test]
    fn a_duplicate_is_within_five_percent_or_a_tenth_of_a_km() {
        let long = [mirrored(1, "2026-03-09T07:00:00-05:00", 10.0)];
        let short = [mirrored(2, "2026-03-09T07:00:00-05:00", 1.0)];
        let km = |km: f64, runs: &[Run]| {
            duplicate_of(&ledger_run("2026-03-09T07:02:00", true, km), runs)
        };
        // 5 % of 10 km is 0.5 km, more than 0.1 km
        assert_eq!(km(10.5, &long), ActivityId::new(1).ok());
        assert_eq!(km(9.5, &long), ActivityId::new(1).ok());
        assert_eq!(km(10.51, &long), None);
        assert_eq!(km(9.49, &long), None);
        // 5 % of 1 km is 0.05 km, less than 0.1 km
        assert_eq!(km(1.1, &short), ActivityId::new(2).ok());
        assert_eq!(km(0.9, &short), ActivityId::new(2).ok());
        assert_eq!(km(1.11, &short), None);
        assert_eq!(km(0.89, &short), None);
    }

    #[test]
    fn an_untimed_run_matches_on_its_day_and_distance_alone() {
        let smashrun = [
            mirrored(1, "2026-03-09T06:00:00-05:00", 5.0),
            mirrored(2, "2026-03-10T21:00:00-05:00", 5.0),
        ];
        assert_eq!(
            duplicate_of(&ledger_run("2026-03-10T12:00:00", false, 5.2), &smashrun),
            ActivityId::new(2).ok(),
            "any time of the same day"
        );
        assert_eq!(
            duplicate_of(&ledger_run("2026-03-11T12:00:00", false, 5.0), &smashrun),
            None,
            "not the next day"
        );
        assert_eq!(
            duplicate_of(&ledger_run("2026-03-10T12:00:00", false, 6.0), &smashrun),
            None,
            "not another distance"
        );
        // with a time, 15 hours apart is no duplicate
        assert_eq!(
            duplicate_of(&ledger_run("2026-03-10T06:00:00", true, 5.0), &smashrun),
            None
        );
    }

    #[test]
    fn the_closest_start_wins_and_only_smashrun_runs_are_compared() {
        let mut ledger_twin = mirrored(9, "2026-03-09T07:00:00-05:00", 5.0);
        ledger_twin.origin = RunOrigin::Ledger { entry: 9 };
        let runs = [
            ledger_twin,
            mirrored(1, "2026-03-09T06:53:00-05:00", 5.0),
            mirrored(2, "2026-03-09T07:04:00-05:00", 5.0),
        ];
        let entry = ledger_run("2026-03-09T07:00:00", true, 5.0);
        assert_eq!(duplicate_of(&entry, &runs), ActivityId::new(2).ok());
        let found = duplicates(&runs, std::slice::from_ref(&entry));
        assert_eq!(found.get(&7), ActivityId::new(2).ok().as_ref());
        let o = LedgerEntry {
            id: 8,
            created: Timestamp::UNIX_EPOCH,
            push: None,
            item: LedgerItem::override_day(date(2026, 3, 9), Offset::UTC, "watch died").unwrap(),
        };
        assert_eq!(
            duplicate_of(&o, &runs),
            None,
            "an override duplicates nothing"
        );
    }

    #[test]
    fn an_imported_file_of_another_sport_is_kept_but_not_a_run() {
        let file = |sport: Option<&str>| ImportedFile {
            format: FileFormat::Fit,
            name: "ride.fit".into(),
            sha256: "00".into(),
            sport: sport.map(str::to_owned),
        };
        let start: jiff::civil::DateTime = "2026-03-09T07:00:00".parse().unwrap();
        let entry = |sport| LedgerEntry {
            id: 5,
            created: Timestamp::UNIX_EPOCH,
            push: None,
            item: LedgerItem::imported(
                start,
                Offset::UTC,
                Distance::from_km(20.0).unwrap(),
                Some(3600.0),
                file(sport),
            )
            .unwrap(),
        };
        assert!(!entry(Some("cycling")).to_run().unwrap().is_running);
        assert!(entry(Some("trail_running")).to_run().unwrap().is_running);
        assert!(entry(None).to_run().unwrap().is_running);
        assert_eq!(entry(None).item.time, Some(time(7, 0, 0, 0)));
        assert_eq!(
            entry(None).item.file().map(|f| f.format),
            Some(FileFormat::Fit)
        );
    }
}
