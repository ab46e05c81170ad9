//! Read-side queries and their response types. Each type here is the one serialization of a
//! response: the CLI's `--json` prints it, the HTTP API returns it.

use std::borrow::Cow;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use myrunstreak_domain::{
    AuditFlag, AuditedRun, DayPolicy, DayTotals, DomainError, Horizon, Milestones, NearMiss,
    Remaining, Rule, Run, RunOrigin, StreakRules, StreakStatus, Threshold, Units, Verdict,
    audit_day, streaks,
};
use serde::Serialize;

use crate::Settings;

/// A zone name that the IANA database does not know.
#[derive(Debug, thiserror::Error)]
#[error("{name:?} is not an IANA time zone such as America/New_York")]
pub struct UnknownZone {
    /// The name given.
    pub name: String,
}

/// How to count a streak: the rule, the day policy, and "today".
#[derive(Clone, Debug)]
pub struct StreakQuery {
    /// When a day qualifies.
    pub rule: Rule,
    /// A home zone, or each run's own clock.
    pub timezone: Option<TimeZone>,
    /// Leave treadmill runs out.
    pub exclude_treadmill: bool,
    /// Judge the streak as of the end of this day.
    pub as_of: Option<Date>,
    /// Leave the runner's ledger out (manual runs and overrides): the mirror-only figure.
    pub exclude_ledger: bool,
}

impl StreakQuery {
    /// The query the settings describe.
    pub fn from_settings(settings: &Settings) -> Result<Self, DomainError> {
        let timezone = match &settings.timezone {
            Some(name) => Some(
                TimeZone::get(name)
                    .map_err(|e| DomainError::DateOutOfRange(format!("time zone {name}: {e}")))?,
            ),
            None => None,
        };
        Ok(StreakQuery {
            rule: settings.rule,
            timezone,
            exclude_treadmill: settings.exclude_treadmill,
            as_of: None,
            exclude_ledger: false,
        })
    }

    /// The query with a shell's overrides (flags, query parameters) on top: a rule, a zone
    /// name (empty means none given), and the day to judge at.
    pub fn with_overrides(
        mut self,
        rule: Option<Rule>,
        zone: Option<&str>,
        as_of: Option<Date>,
    ) -> Result<Self, UnknownZone> {
        if let Some(rule) = rule {
            self.rule = rule;
        }
        if let Some(name) = zone.filter(|z| !z.is_empty()) {
            self.timezone = Some(TimeZone::get(name).map_err(|_| UnknownZone {
                name: name.to_owned(),
            })?);
        }
        self.as_of = as_of;
        Ok(self)
    }

    /// The query, leaving the ledger out when `exclude` is set.
    pub fn excluding_ledger(mut self, exclude: bool) -> Self {
        self.exclude_ledger = exclude;
        self
    }

    /// The runs this query counts: all of them, or the mirror's only with `exclude_ledger`.
    pub fn counted<'a>(&self, runs: &'a [Run]) -> Cow<'a, [Run]> {
        if self.exclude_ledger && runs.iter().any(Run::is_ledger) {
            Cow::Owned(runs.iter().filter(|r| !r.is_ledger()).cloned().collect())
        } else {
            Cow::Borrowed(runs)
        }
    }

    /// How a run's day is chosen under this query.
    pub fn day_policy(&self) -> DayPolicy {
        self.rules().days
    }

    fn rules(&self) -> StreakRules {
        StreakRules {
            rule: self.rule,
            days: self
                .timezone
                .clone()
                .map_or(DayPolicy::LocalClock, DayPolicy::HomeZone),
            exclude_treadmill: self.exclude_treadmill,
        }
    }
}

/// The current streak, as shown.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CurrentStreakJson {
    /// Days; 0 when there is none.
    pub days: u32,
    /// First day.
    pub start: Option<Date>,
    /// Last qualifying day.
    pub end: Option<Date>,
    /// `done`, `at_risk` or `none`.
    pub status: StreakStatus,
    /// Distance still needed today (km), for distance rules.
    pub remaining_km: Option<f64>,
    /// The same in miles.
    pub remaining_mi: Option<f64>,
    /// Moving time still needed today (s), for time rules.
    pub remaining_s: Option<u32>,
    /// Whether any run at all is needed (rule `any`).
    pub needs_any_run: bool,
    /// Seconds left until local midnight.
    pub time_left_s: i64,
    /// Distance run today (km).
    pub today_km: f64,
    /// Milestones reached and the next one.
    pub milestones: Milestones,
    /// Days of this streak counted by an override (the runner's word, no run record), shown
    /// wherever the streak is, the published status included.
    pub override_days: Vec<Date>,
}

/// A streak, as shown.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StreakJson {
    /// Days.
    pub days: u32,
    /// First day.
    pub start: Option<Date>,
    /// Last day.
    pub end: Option<Date>,
    /// Distance (km).
    pub distance_km: f64,
    /// Counted runs.
    pub runs: u32,
    /// Days of this streak counted by an override (the runner's word, no run record).
    pub override_days: Vec<Date>,
}

/// `streak`: the current and the longest streak.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StreakResponse {
    /// The current streak.
    pub current: CurrentStreakJson,
    /// The longest streak (days 0 when there is none).
    pub longest: StreakJson,
    /// The rule used.
    pub rule: Rule,
    /// The day judged as today.
    pub as_of: Date,
    /// The zone "today" was read in.
    pub timezone: String,
    /// Qualifying days in all history.
    pub qualifying_days: u32,
    /// Number of streaks in history.
    pub streak_count: usize,
}

fn streak_json(s: Option<&myrunstreak_domain::Streak>, overrides: &[Date]) -> StreakJson {
    match s {
        Some(s) => StreakJson {
            days: s.days,
            start: Some(s.start),
            end: Some(s.end),
            distance_km: s.distance.km(),
            runs: s.runs,
            override_days: within(overrides, Some(s.start), Some(s.end)),
        },
        None => StreakJson {
            days: 0,
            start: None,
            end: None,
            distance_km: 0.0,
            runs: 0,
            override_days: Vec::new(),
        },
    }
}

/// The days, in order, that an override counts under `query` (none when the ledger is left out).
fn override_days(runs: &[Run], query: &StreakQuery) -> Vec<Date> {
    let policy = query.day_policy();
    let mut days: Vec<Date> = runs
        .iter()
        .filter(|r| r.is_override())
        .map(|r| policy.day_of(&r.start))
        .collect();
    days.sort_unstable();
    days.dedup();
    days
}

/// The days of `days` from `start` to `end` (none when either is unknown).
fn within(days: &[Date], start: Option<Date>, end: Option<Date>) -> Vec<Date> {
    match (start, end) {
        (Some(start), Some(end)) => days
            .iter()
            .copied()
            .filter(|d| (start..=end).contains(d))
            .collect(),
        _ => Vec::new(),
    }
}

/// The runner's zone and today's horizon for `runs` at `now`.
pub(crate) fn horizon(
    runs: &[Run],
    query: &StreakQuery,
    now: Timestamp,
) -> Result<(TimeZone, Horizon), DomainError> {
    let zone = runner_zone(runs, query, now);
    let horizon = match query.as_of {
        Some(date) => Horizon::as_of(date, now, &zone)?,
        None => Horizon::at(now, &zone)?,
    };
    Ok((zone, horizon))
}

/// The runner's zone at `now`: the home zone, else the clock of the most recent run SmashRun has
/// (a ledger entry's only when there is none: its offset was itself taken from this zone).
pub fn runner_zone(runs: &[Run], query: &StreakQuery, now: Timestamp) -> TimeZone {
    let latest = |ledger: bool| {
        runs.iter()
            .filter(|r| r.start.instant() <= now && (ledger || !r.is_ledger()))
            .max_by_key(|r| r.start.instant())
            .map(|r| &r.start)
    };
    query
        .rules()
        .days
        .runner_zone(latest(false).or_else(|| latest(true)))
}

fn zone_name(zone: &TimeZone) -> String {
    zone.iana_name().map(str::to_owned).unwrap_or_else(|| {
        let offset = zone
            .to_fixed_offset()
            .map(|o| o.to_string())
            .unwrap_or_default();
        format!("UTC{offset}")
    })
}

/// The streak of `runs` under `query` at `now`.
pub fn streak(
    runs: &[Run],
    query: &StreakQuery,
    now: Timestamp,
) -> Result<StreakResponse, DomainError> {
    let runs = &*query.counted(runs);
    let (zone, horizon) = horizon(runs, query, now)?;
    let report = streaks(runs, &query.rules(), &horizon);
    let overrides = override_days(runs, query);
    let c = &report.current;
    let (remaining_km, remaining_s, needs_any_run) = match c.remaining {
        Remaining::Nothing => (Some(0.0), None, false),
        Remaining::Distance(d) => (Some(d.km()), None, false),
        Remaining::MovingTime(s) => (None, Some(s), false),
        Remaining::AnyRun => (None, None, true),
    };
    Ok(StreakResponse {
        current: CurrentStreakJson {
            days: c.days,
            start: c.start,
            end: c.end,
            status: c.status,
            remaining_km,
            remaining_mi: remaining_km.map(|km| km / myrunstreak_domain::Distance::MILE.km()),
            remaining_s,
            needs_any_run,
            time_left_s: c.time_left_s,
            today_km: c.today.distance.km(),
            milestones: c.milestones.clone(),
            override_days: within(&overrides, c.start, c.end),
        },
        longest: streak_json(report.longest.as_ref(), &overrides),
        rule: query.rule,
        as_of: report.today,
        timezone: zone_name(&zone),
        qualifying_days: report.qualifying_days,
        streak_count: report.streaks.len(),
    })
}

/// One line saying how today stands: "done for today", "at risk: run 0.60 mi in the next 5 h 12 min".
pub fn status_line(s: &StreakResponse, units: Units) -> String {
    let c = &s.current;
    match c.status {
        StreakStatus::Done => "done for today".to_owned(),
        StreakStatus::None => "no current streak: run today to start one".to_owned(),
        StreakStatus::AtRisk => {
            let left = c.time_left_s.max(0);
            let time = format!("{} h {} min", left / 3600, (left / 60) % 60);
            let need = if c.needs_any_run {
                "any run".to_owned()
            } else if let Some(s) = c.remaining_s {
                format!("{} more minutes", s.div_ceil(60))
            } else {
                let d = myrunstreak_domain::Distance::from_km(c.remaining_km.unwrap_or(0.0))
                    .unwrap_or_default();
                units.format(d)
            };
            format!("at risk: run {need} in the next {time}")
        }
    }
}

/// One stored run with the JSON SmashRun sent for it.
#[derive(Clone, Debug, Serialize)]
pub struct RunDetail {
    /// The stored columns.
    #[serde(flatten)]
    pub run: crate::views::RunItem,
    /// The activity exactly as SmashRun sent it.
    pub raw: serde_json::Value,
}

impl From<crate::views::RunItem> for RunDetail {
    fn from(run: crate::views::RunItem) -> Self {
        let raw = serde_json::from_str(&run.raw_json).unwrap_or(serde_json::Value::Null);
        RunDetail { run, raw }
    }
}

/// `streaks`: every streak, longest first.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StreaksResponse {
    /// Streaks of at least `min_days`, longest first (ties: most recent first).
    pub streaks: Vec<StreakJson>,
    /// The rule used.
    pub rule: Rule,
    /// The day judged as today.
    pub as_of: Date,
    /// The shortest streak listed.
    pub min_days: u32,
}

/// Every streak of at least `min_days`.
pub fn streak_history(
    runs: &[Run],
    query: &StreakQuery,
    now: Timestamp,
    min_days: u32,
) -> Result<StreaksResponse, DomainError> {
    let runs = &*query.counted(runs);
    let (_, horizon) = horizon(runs, query, now)?;
    let report = streaks(runs, &query.rules(), &horizon);
    let overrides = override_days(runs, query);
    let mut list: Vec<StreakJson> = report
        .streaks
        .iter()
        .filter(|s| s.days >= min_days)
        .map(|s| streak_json(Some(s), &overrides))
        .collect();
    list.sort_by(|a, b| b.days.cmp(&a.days).then(b.end.cmp(&a.end)));
    Ok(StreaksResponse {
        streaks: list,
        rule: query.rule,
        as_of: report.today,
        min_days,
    })
}

/// `stats`: totals for all time, per year, month and ISO week, and by weekday.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct StatsResponse {
    /// Everything (within the year/month asked for).
    pub totals: myrunstreak_domain::Totals,
    /// Per year.
    pub years: Vec<myrunstreak_domain::PeriodTotals>,
    /// Per month.
    pub months: Vec<myrunstreak_domain::PeriodTotals>,
    /// Per ISO week.
    pub weeks: Vec<myrunstreak_domain::PeriodTotals>,
    /// Monday to Sunday.
    pub by_weekday: Vec<myrunstreak_domain::WeekdayTotals>,
    /// The year asked for.
    pub year: Option<i16>,
    /// The month asked for.
    pub month: Option<i8>,
}

/// Totals on run days, optionally of one year or one month of a year.
pub fn stats(
    runs: &[Run],
    query: &StreakQuery,
    year: Option<i16>,
    month: Option<i8>,
) -> StatsResponse {
    let runs = &*query.counted(runs);
    let policy = query.rules().days;
    let kept: Vec<Run> = runs
        .iter()
        .filter(|r| {
            let d = policy.day_of(&r.start);
            year.is_none_or(|y| d.year() == y) && month.is_none_or(|m| d.month() == m)
        })
        .cloned()
        .collect();
    let a = myrunstreak_domain::analyze(&kept, &policy);
    StatsResponse {
        totals: a.all_time,
        years: a.years,
        months: a.months,
        weeks: a.weeks,
        by_weekday: a.by_weekday,
        year,
        month,
    }
}

/// `records`: personal records.
pub fn records(runs: &[Run], query: &StreakQuery) -> myrunstreak_domain::Records {
    myrunstreak_domain::analyze(&query.counted(runs), &query.rules().days).records
}

/// `calendar`: every day of a range with its distance and whether it qualified.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CalendarResponse {
    /// First day.
    pub from: Date,
    /// Last day.
    pub to: Date,
    /// The rule used.
    pub rule: Rule,
    /// Each day.
    pub days: Vec<myrunstreak_domain::CalendarDay>,
}

/// A year (up to today), or the last 365 days ending today.
pub fn calendar(
    runs: &[Run],
    query: &StreakQuery,
    now: Timestamp,
    year: Option<i16>,
) -> Result<CalendarResponse, DomainError> {
    let runs = &*query.counted(runs);
    let (_, horizon) = horizon(runs, query, now)?;
    let today = horizon.today;
    let out_of_range = |e: jiff::Error| DomainError::DateOutOfRange(e.to_string());
    let (from, to) = match year {
        Some(y) => {
            let first = jiff::civil::Date::new(y, 1, 1).map_err(out_of_range)?;
            (first, first.last_of_year())
        }
        None => (
            today
                .checked_sub(jiff::Span::new().days(364))
                .map_err(out_of_range)?,
            today,
        ),
    };
    let cutoff = horizon.cut_off_after_today.then_some(today);
    let days = myrunstreak_domain::day_totals(runs, &query.rules(), cutoff);
    Ok(CalendarResponse {
        from,
        to,
        rule: query.rule,
        days: myrunstreak_domain::calendar(&days, &query.rule, from, to),
    })
}

/// One activity of an audited day: what the engine saw, with the runner's type and notes.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DayRunJson {
    /// Start, offset, distance, duration, and whether and why (not) it counted.
    #[serde(flatten)]
    pub run: AuditedRun,
    /// SmashRun's activity type, when stored.
    pub activity_type: Option<String>,
    /// The runner's notes: untrusted text.
    pub notes: Option<String>,
}

/// `streak why DATE` and `/api/v1/days/{date}`: why a day did or did not count.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct DayAuditResponse {
    /// The audited day.
    pub date: Date,
    /// The rule the day was judged by.
    pub rule: Rule,
    /// The home zone run days are anchored to; `null`: each run's own clock.
    pub home_zone: Option<String>,
    /// Whether treadmill runs are left out.
    pub exclude_treadmill: bool,
    /// Whether the runner's ledger is left out (the mirror-only figure).
    pub exclude_ledger: bool,
    /// The reason of the runner's override of the day, if any (and the ledger is counted).
    pub override_reason: Option<String>,
    /// The day judged as today.
    pub as_of: Date,
    /// Whether the day qualifies.
    pub qualifies: bool,
    /// `qualified`, `override` (counted by the runner's override, not by runs), `no_activity`,
    /// `nothing_counted`, `short_of_minimum` or `after_today`.
    pub verdict: Verdict,
    /// Why, in plain words (in the runner's units), and where the day stands in the streaks.
    pub reason: String,
    /// The day's total against the rule's minimum, in the rule's terms.
    pub threshold: Threshold,
    /// The counted runs added up (distances in km).
    pub totals: DayTotals,
    /// The day's activities, by start time, and those written on it that count on another day.
    pub runs: Vec<DayRunJson>,
    /// What fell short by less than 5 %.
    pub near_misses: Vec<NearMiss>,
    /// Start times worth a second look.
    pub flags: Vec<AuditFlag>,
    /// The streak the day is part of.
    pub streak: Option<StreakJson>,
    /// Whether that streak is the current one.
    pub in_current_streak: bool,
}

/// Why `date` did or did not count, judged as [`streak`] judges it at `now`. `stored` gives each
/// run's type and notes (any superset of the day's runs will do; missing ones show none).
pub fn day_audit(
    runs: &[Run],
    stored: &[crate::views::RunItem],
    query: &StreakQuery,
    date: Date,
    now: Timestamp,
    units: Units,
) -> Result<DayAuditResponse, DomainError> {
    let runs = &*query.counted(runs);
    let overrides = override_days(runs, query);
    let (_, horizon) = horizon(runs, query, now)?;
    let audit = audit_day(runs, date, &query.rules(), &horizon);
    let reason = audit.explain(units);
    let runs = audit
        .runs
        .into_iter()
        .map(|run| {
            // a ledger run's id is the ledger entry's, not SmashRun's: no stored row is its own
            let row = stored
                .iter()
                .filter(|_| run.origin == RunOrigin::SmashRun)
                .find(|s| s.activity_id == run.id.get());
            DayRunJson {
                activity_type: row.and_then(|r| r.activity_type.clone()),
                notes: row.and_then(|r| r.notes.clone()),
                run,
            }
        })
        .collect();
    Ok(DayAuditResponse {
        date,
        rule: audit.rule,
        home_zone: query.timezone.as_ref().map(zone_name),
        exclude_treadmill: query.exclude_treadmill,
        exclude_ledger: query.exclude_ledger,
        override_reason: audit.override_reason,
        as_of: audit.today,
        qualifies: audit.qualifies,
        verdict: audit.verdict,
        reason,
        threshold: audit.threshold,
        totals: audit.totals,
        runs,
        near_misses: audit.near_misses,
        flags: audit.flags,
        streak: audit
            .streak
            .as_ref()
            .map(|s| streak_json(Some(s), &overrides)),
        in_current_streak: audit.in_current_streak,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use myrunstreak_domain::{ActivityId, Distance, LocalStart};

    fn run(id: i64, start: &str, km: f64) -> Run {
        Run {
            id: ActivityId::new(id).unwrap(),
            start: LocalStart::parse(start).unwrap(),
            distance: Distance::from_km(km).unwrap(),
            duration_s: km * 330.0,
            is_running: true,
            is_treadmill: false,
            origin: myrunstreak_domain::RunOrigin::SmashRun,
        }
    }

    #[test]
    fn a_day_audit_serializes_with_the_streak_query_s_settings() {
        let runs = [
            run(1, "2026-05-03T07:00:00-04:00", 0.9),
            run(2, "2026-05-03T19:00:00-04:00", 0.8),
        ];
        let query = StreakQuery {
            rule: Rule::Usrsa,
            timezone: Some(TimeZone::get("America/New_York").unwrap()),
            exclude_treadmill: true,
            as_of: Some(jiff::civil::date(2026, 5, 3)),
            exclude_ledger: false,
        };
        let now: Timestamp = "2026-05-10T12:00:00Z".parse().unwrap();
        let date = jiff::civil::date(2026, 5, 3);
        let audit = day_audit(&runs, &[], &query, date, now, Units::Metric).unwrap();
        let json = serde_json::to_value(&audit).unwrap();
        assert_eq!(json["date"], "2026-05-03");
        assert_eq!(json["rule"], "usrsa");
        assert_eq!(json["home_zone"], "America/New_York");
        assert_eq!(json["exclude_treadmill"], true);
        assert_eq!(json["verdict"], "qualified");
        assert_eq!(json["threshold"]["measure"], "day_distance");
        assert_eq!(json["threshold"]["minimum"]["km"], 1.60934);
        assert_eq!(json["threshold"]["achieved"]["km"], 1.7);
        assert_eq!(json["runs"][0]["start"], "2026-05-03T07:00:00-04:00");
        assert_eq!(json["runs"][0]["utc_offset_s"], -4 * 3600);
        assert_eq!(json["runs"][0]["counted"], true);
        assert_eq!(json["runs"][0]["notes"], serde_json::Value::Null);
        assert_eq!(json["streak"]["days"], 1);
        assert_eq!(json["in_current_streak"], true);
        assert!(
            audit
                .reason
                .starts_with("Counted: 2 runs added up to 1.70 km"),
            "{}",
            audit.reason
        );

        // the same day under `continuous` falls short, and says what the runs added up to
        let continuous = StreakQuery {
            rule: Rule::Continuous,
            ..query
        };
        let audit = day_audit(&runs, &[], &continuous, date, now, Units::Metric).unwrap();
        assert!(!audit.qualifies);
        assert_eq!(
            serde_json::to_value(&audit).unwrap()["verdict"],
            "short_of_minimum"
        );
    }

    #[test]
    fn the_ledger_counts_unless_excluded_and_never_borrows_a_smashrun_row() {
        let mut manual = run(2, "2026-05-02T12:00:00-04:00", 2.0);
        manual.origin = myrunstreak_domain::RunOrigin::Ledger { entry: 2 };
        let runs = [
            run(1, "2026-05-01T07:00:00-04:00", 2.0),
            manual,
            run(3, "2026-05-03T07:00:00-04:00", 2.0),
        ];
        let query = StreakQuery {
            rule: Rule::Usrsa,
            timezone: None,
            exclude_treadmill: false,
            as_of: Some(jiff::civil::date(2026, 5, 3)),
            exclude_ledger: false,
        };
        let now: Timestamp = "2026-05-10T12:00:00Z".parse().unwrap();
        assert_eq!(streak(&runs, &query, now).unwrap().current.days, 3);
        let bare = query.clone().excluding_ledger(true);
        assert_eq!(streak(&runs, &bare, now).unwrap().current.days, 1);
        assert_eq!(stats(&runs, &query, None, None).totals.runs, 3);
        assert_eq!(stats(&runs, &bare, None, None).totals.runs, 2);

        // SmashRun's run 2 is another run than ledger entry 2: its notes are not the entry's
        let stored = [crate::views::RunItem {
            activity_id: 2,
            start_local: "2026-05-02T07:00:00-04:00".into(),
            date: jiff::civil::date(2026, 5, 2),
            distance_km: 5.0,
            duration_s: None,
            source: None,
            is_treadmill: false,
            deleted: true,
            activity_type: Some("running".into()),
            notes: Some("SmashRun's run 2".into()),
            calories: None,
            heart_rate_average: None,
            weather_type: None,
            how_felt: None,
            terrain: None,
            is_race: false,
            raw_json: String::new(),
            offset_assumed: false,
        }];
        let day = jiff::civil::date(2026, 5, 2);
        let audit = day_audit(&runs, &stored, &query, day, now, Units::Metric).unwrap();
        assert_eq!(audit.runs.len(), 1);
        assert_eq!(audit.runs[0].notes, None);
        let audit = day_audit(&runs, &stored, &bare, day, now, Units::Metric).unwrap();
        assert!(audit.runs.is_empty() && !audit.qualifies && audit.exclude_ledger);
    }
}
