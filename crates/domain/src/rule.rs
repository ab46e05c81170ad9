use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::distance::positive_number_before;
use crate::{DayPolicy, Distance, DomainError, Run, RunOrigin};

/// When a calendar day counts toward a streak.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Rule {
    /// USRSA / Streak Runners International: the day's runs add up to at least one mile.
    #[default]
    Usrsa,
    /// The older rule: at least one single run of a mile or more that day.
    Continuous,
    /// SmashRun's badge rule: any run that day, of any length.
    Any,
    /// A custom daily minimum distance, summed over the day's runs.
    MinDistance(Distance),
    /// A custom daily minimum moving time in seconds, summed over the day's runs.
    MinMovingTime(u32),
}

impl Rule {
    /// Whether a day with these totals qualifies.
    pub fn qualifies(&self, day: &DayTotals) -> bool {
        // the runner's override counts the day under any rule; it is shown as such everywhere
        if day.overridden {
            return true;
        }
        self.qualifies_by_runs(day)
    }

    /// Whether the day's runs alone qualify, overrides aside.
    pub fn qualifies_by_runs(&self, day: &DayTotals) -> bool {
        if day.runs == 0 {
            return false;
        }
        match *self {
            Rule::Usrsa => day.distance >= Distance::MILE,
            Rule::Continuous => day.longest_run >= Distance::MILE,
            Rule::Any => true,
            Rule::MinDistance(min) => day.distance >= min,
            // half a second of tolerance, like half the last decimal for distances
            Rule::MinMovingTime(min) => day.moving_ms + 500 >= i64::from(min) * 1000,
        }
    }

    /// What a day with these totals still needs in order to qualify.
    pub fn remaining(&self, day: &DayTotals) -> Remaining {
        if self.qualifies(day) {
            return Remaining::Nothing;
        }
        match *self {
            Rule::Usrsa => Remaining::Distance(Distance::MILE.saturating_sub(day.distance)),
            // a new run must cover the whole mile by itself
            Rule::Continuous => Remaining::Distance(Distance::MILE),
            Rule::Any => Remaining::AnyRun,
            Rule::MinDistance(min) => Remaining::Distance(min.saturating_sub(day.distance)),
            Rule::MinMovingTime(min) => {
                let left_ms = (i64::from(min) * 1000 - day.moving_ms).max(0);
                Remaining::MovingTime(((left_ms + 999) / 1000) as u32)
            }
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Usrsa => f.write_str("usrsa"),
            Rule::Continuous => f.write_str("continuous"),
            Rule::Any => f.write_str("any"),
            Rule::MinDistance(d) => write!(f, "{}km", d.km()),
            Rule::MinMovingTime(s) if s % 60 == 0 => write!(f, "{}min", s / 60),
            Rule::MinMovingTime(s) => write!(f, "{s}s"),
        }
    }
}

impl FromStr for Rule {
    type Err = DomainError;

    /// `usrsa`, `continuous`, `any`, or a custom minimum: `2km`, `1.5mi`, `20min`, `900s`.
    fn from_str(s: &str) -> Result<Self, DomainError> {
        let text = s.trim().to_ascii_lowercase();
        let number = |suffix: &str| positive_number_before(&text, suffix);
        match text.as_str() {
            "usrsa" | "default" => return Ok(Rule::Usrsa),
            "continuous" => return Ok(Rule::Continuous),
            "any" => return Ok(Rule::Any),
            _ => {}
        }
        if let Some(d) = Distance::parse_positive(&text) {
            return Ok(Rule::MinDistance(d));
        }
        if let Some(v) = number("min") {
            return Ok(Rule::MinMovingTime((v * 60.0).round() as u32));
        }
        if let Some(v) = number("s") {
            return Ok(Rule::MinMovingTime(v.round() as u32));
        }
        Err(DomainError::InvalidRule(s.to_owned()))
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Rule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// What still separates a day from qualifying.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Remaining {
    /// The day already qualifies.
    Nothing,
    /// This much more distance.
    Distance(Distance),
    /// This many more seconds of moving time.
    MovingTime(u32),
    /// One run of any length.
    AnyRun,
}

/// Everything that decides how a streak is counted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreakRules {
    /// When a day qualifies.
    pub rule: Rule,
    /// How a run's day is chosen.
    pub days: DayPolicy,
    /// Leave treadmill runs out (they count by default).
    pub exclude_treadmill: bool,
}

impl StreakRules {
    /// Whether a run counts toward streaks at all under these rules.
    pub fn counts(&self, run: &Run) -> bool {
        run.is_running && !(self.exclude_treadmill && run.is_treadmill)
    }
}

/// The runs of one calendar day that count, added up.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct DayTotals {
    /// The calendar day.
    pub date: Date,
    /// Distance of all the day's runs.
    pub distance: Distance,
    /// Number of runs.
    pub runs: u32,
    /// The longest single run.
    pub longest_run: Distance,
    /// Moving time in whole milliseconds (SmashRun's precision), so sums are exact.
    pub moving_ms: i64,
    /// How many of the runs are manual runs from the ledger.
    pub ledger_runs: u32,
    /// The runner overrode the day: it counts without a run record (see [`RunOrigin`]).
    pub overridden: bool,
}

impl DayTotals {
    /// A day with no runs yet.
    pub fn empty(date: Date) -> Self {
        DayTotals {
            date,
            distance: Distance::ZERO,
            runs: 0,
            longest_run: Distance::ZERO,
            moving_ms: 0,
            ledger_runs: 0,
            overridden: false,
        }
    }

    /// Adds one run to the day; an override marks the day and adds nothing.
    pub fn add(&mut self, run: &Run) {
        match run.origin {
            RunOrigin::Override { .. } => {
                self.overridden = true;
                return;
            }
            RunOrigin::Ledger { .. } => self.ledger_runs += 1,
            RunOrigin::SmashRun => {}
        }
        self.distance += run.distance;
        self.runs += 1;
        self.longest_run = self.longest_run.max(run.distance);
        self.moving_ms += run.moving_ms();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn day(distances_km: &[f64]) -> DayTotals {
        let mut d = DayTotals::empty(date(2026, 5, 3));
        for km in distances_km {
            d.distance += Distance::from_km(*km).unwrap();
            d.runs += 1;
            d.longest_run = d.longest_run.max(Distance::from_km(*km).unwrap());
        }
        d
    }

    #[test]
    fn usrsa_adds_up_the_day_and_continuous_does_not() {
        let d = day(&[0.9, 0.8]);
        assert!(Rule::Usrsa.qualifies(&d));
        assert!(!Rule::Continuous.qualifies(&d));
        assert!(Rule::Any.qualifies(&d));
    }

    #[test]
    fn a_mile_at_smashrun_precision() {
        assert!(Rule::Usrsa.qualifies(&day(&[1.60934])));
        assert!(!Rule::Usrsa.qualifies(&day(&[1.60933])));
        assert!(Rule::Continuous.qualifies(&day(&[1.60934])));
    }

    #[test]
    fn remaining_is_the_minimum_less_the_day_s_total() {
        let half_mile = Distance::from_miles(0.5).unwrap();
        let d = day(&[half_mile.km()]);
        let Remaining::Distance(left) = Rule::Usrsa.remaining(&d) else {
            panic!()
        };
        assert!((left.miles() - 0.5).abs() < 1e-5, "{}", left.miles());
        assert_eq!(
            Rule::Continuous.remaining(&d),
            Remaining::Distance(Distance::MILE)
        );
        assert_eq!(
            Rule::Any.remaining(&DayTotals::empty(d.date)),
            Remaining::AnyRun
        );
        assert_eq!(Rule::Any.remaining(&d), Remaining::Nothing);
    }

    #[test]
    fn rules_parse_and_print() {
        for text in ["usrsa", "continuous", "any", "2km", "20min", "90s"] {
            assert_eq!(text.parse::<Rule>().unwrap().to_string(), text);
        }
        assert_eq!(
            "1mi".parse::<Rule>().unwrap(),
            Rule::MinDistance(Distance::MILE)
        );
        let err = "fast".parse::<Rule>().unwrap_err().to_string();
        assert!(err.contains("usrsa") && err.contains("\"fast\""), "{err}");
        assert!("-2km".parse::<Rule>().is_err());
    }

    #[test]
    fn an_override_qualifies_under_every_rule_and_adds_nothing() {
        let mut d = DayTotals::empty(date(2026, 5, 3));
        let start = crate::LocalStart::parse("2026-05-03T12:00:00+00:00").unwrap();
        d.add(&Run {
            id: crate::ActivityId::new(1).unwrap(),
            start,
            distance: Distance::ZERO,
            duration_s: 0.0,
            is_running: true,
            is_treadmill: false,
            origin: RunOrigin::Override {
                entry: 1,
                reason: "watch died".into(),
            },
        });
        assert!(d.overridden);
        assert_eq!((d.runs, d.distance, d.moving_ms), (0, Distance::ZERO, 0));
        for rule in [
            Rule::Usrsa,
            Rule::Continuous,
            Rule::Any,
            Rule::MinMovingTime(1200),
        ] {
            assert!(rule.qualifies(&d), "{rule}");
            assert!(!rule.qualifies_by_runs(&d), "{rule}");
            assert_eq!(rule.remaining(&d), Remaining::Nothing);
        }
    }

    #[test]
    fn moving_time_rule() {
        let mut d = day(&[1.0]);
        d.moving_ms = 1_199_600;
        assert!(Rule::MinMovingTime(1200).qualifies(&d));
        d.moving_ms = 600_000;
        assert_eq!(
            Rule::MinMovingTime(1200).remaining(&d),
            Remaining::MovingTime(600)
        );
    }
}
