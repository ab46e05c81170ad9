use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// Kilometres in an international mile.
pub const MILE_KM: f64 = 1.609_344;

/// A distance at SmashRun's precision: a whole number of hundred-thousandths of a kilometre
/// (that is, centimetres).
///
/// SmashRun writes distances in kilometres with 5 decimals. Holding them as integers makes sums
/// exact and comparisons honest: `1.60934` km is [`Distance::MILE`], `1.60933` km is one
/// centimetre short, and no float rounding can move a run across the line.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(into = "f64", try_from = "f64")]
pub struct Distance(i64);

impl Distance {
    /// No distance.
    pub const ZERO: Distance = Distance(0);
    /// One mile as SmashRun writes it: 1.609344 km rounded to 5 decimals, `1.60934`.
    pub const MILE: Distance = Distance(160_934);
    /// The largest distance accepted, far above any run.
    const MAX_KM: f64 = 1.0e6;

    /// A distance from kilometres, rounded to SmashRun's 5 decimals.
    pub fn from_km(km: f64) -> Result<Self, DomainError> {
        if !km.is_finite() || !(0.0..=Self::MAX_KM).contains(&km) {
            return Err(DomainError::InvalidDistance(km.to_string()));
        }
        Ok(Distance((km * 1e5).round() as i64))
    }

    /// A distance from miles, rounded to SmashRun's 5 decimals of a kilometre.
    pub fn from_miles(miles: f64) -> Result<Self, DomainError> {
        Self::from_km(miles * MILE_KM)
    }

    /// A distance from whole centimetres (hundred-thousandths of a kilometre).
    pub const fn from_cm(cm: i64) -> Self {
        Distance(cm)
    }

    /// Whole centimetres.
    pub const fn cm(self) -> i64 {
        self.0
    }

    /// Kilometres, exactly as SmashRun would write them (5 decimals).
    pub fn km(self) -> f64 {
        self.0 as f64 / 1e5
    }

    /// Miles.
    pub fn miles(self) -> f64 {
        self.km() / MILE_KM
    }

    /// `self - other`, or zero when `other` is larger.
    pub fn saturating_sub(self, other: Distance) -> Distance {
        Distance((self.0 - other.0).max(0))
    }

    /// A distance of more than zero written with its unit, as runners write it: `2km`, `1.5mi`,
    /// `5 KM`. `None` for anything else (zero, a negative number, no unit, another unit), so
    /// that each caller can say in its own error what it accepts.
    pub fn parse_positive(text: &str) -> Option<Distance> {
        let text = text.trim().to_ascii_lowercase();
        if let Some(km) = positive_number_before(&text, "km") {
            return Distance::from_km(km).ok();
        }
        let miles = positive_number_before(&text, "mi")?;
        Distance::from_miles(miles).ok()
    }
}

/// The number of more than zero written just before `suffix` (`2.5km`, `2.5 km`), if the text
/// is exactly that. The text is compared as given: lower-case it first.
pub(crate) fn positive_number_before(text: &str, suffix: &str) -> Option<f64> {
    text.strip_suffix(suffix)?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
}

impl Add for Distance {
    type Output = Distance;
    fn add(self, rhs: Distance) -> Distance {
        Distance(self.0 + rhs.0)
    }
}

impl AddAssign for Distance {
    fn add_assign(&mut self, rhs: Distance) {
        self.0 += rhs.0;
    }
}

impl Sum for Distance {
    fn sum<I: Iterator<Item = Distance>>(iter: I) -> Distance {
        iter.fold(Distance::ZERO, Add::add)
    }
}

impl From<Distance> for f64 {
    fn from(d: Distance) -> f64 {
        d.km()
    }
}

impl TryFrom<f64> for Distance {
    type Error = DomainError;
    fn try_from(km: f64) -> Result<Self, DomainError> {
        Distance::from_km(km)
    }
}

impl fmt::Display for Distance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.5} km", self.km())
    }
}

/// How distances and paces are shown. Everything is stored metric.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Units {
    /// Miles, and minutes per mile (the original MyRunStreak's default).
    #[default]
    Imperial,
    /// Kilometres, and minutes per kilometre.
    Metric,
}

impl Units {
    /// The short name of the distance unit: `mi` or `km`.
    pub fn label(self) -> &'static str {
        match self {
            Units::Imperial => "mi",
            Units::Metric => "km",
        }
    }

    /// The distance as a number in this unit.
    pub fn value(self, d: Distance) -> f64 {
        match self {
            Units::Imperial => d.miles(),
            Units::Metric => d.km(),
        }
    }

    /// The distance with two decimals and its unit, e.g. `3.11 mi`.
    ///
    /// Two decimals are for display only; no rule ever compares displayed values.
    pub fn format(self, d: Distance) -> String {
        format!("{:.2} {}", self.value(d), self.label())
    }
}

impl FromStr for Units {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "imperial" | "mi" | "miles" => Ok(Units::Imperial),
            "metric" | "km" | "kilometres" | "kilometers" => Ok(Units::Metric),
            other => Err(format!("unknown units {other:?}: use imperial or metric")),
        }
    }
}

/// Average pace as `m:ss /mi` or `m:ss /km`, or `None` when there is no distance or no time.
///
/// The seconds are rounded once, on the whole pace, so a pace never reads `7:60`.
pub fn format_pace(moving_s: f64, distance: Distance, units: Units) -> Option<String> {
    let per_unit = units.value(distance);
    if per_unit <= 0.0 || moving_s <= 0.0 || !moving_s.is_finite() {
        return None;
    }
    let secs = (moving_s / per_unit).round() as u64;
    Some(format!("{}:{:02} /{}", secs / 60, secs % 60, units.label()))
}

/// A pace given in seconds per kilometre, shown per mile or per kilometre.
pub fn format_pace_per_km(seconds_per_km: f64, units: Units) -> Option<String> {
    format_pace(seconds_per_km, Distance::from_cm(100_000), units)
}

/// A duration in seconds as `h:mm:ss`, or `m:ss` under an hour; rounded once to whole seconds.
pub fn format_duration(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    let (h, m, s) = (total / 3600, (total / 60) % 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smashrun_mile_is_a_mile_and_one_centimetre_less_is_not() {
        assert_eq!(Distance::from_km(1.60934).unwrap(), Distance::MILE);
        assert!(Distance::from_km(1.60933).unwrap() < Distance::MILE);
        assert_eq!(Distance::from_miles(1.0).unwrap(), Distance::MILE);
    }

    #[test]
    fn five_decimals_survive_and_sums_are_exact() {
        let d = Distance::from_km(9.74928).unwrap();
        assert_eq!(d.cm(), 974_928);
        assert_eq!(d.km(), 9.74928);
        let month: Distance = std::iter::repeat_n(Distance::from_km(5.36448).unwrap(), 30).sum();
        // 30 x 5.36448 km = 160.9344 km = 100 miles, not 99.98
        assert_eq!(format!("{:.2}", month.miles()), "100.00");
    }

    #[test]
    fn distances_parse_with_their_unit_and_only_above_zero() {
        assert_eq!(Distance::parse_positive("1mi"), Some(Distance::MILE));
        assert_eq!(
            Distance::parse_positive(" 32 KM "),
            Some(Distance::from_km(32.0).unwrap())
        );
        for bad in ["0km", "-2mi", "20", "20min", "km", "nanmi", "1e9km", ""] {
            assert_eq!(Distance::parse_positive(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn refuses_negative_and_non_finite() {
        assert!(Distance::from_km(-0.1).is_err());
        assert!(Distance::from_km(f64::NAN).is_err());
        assert!(Distance::from_km(f64::INFINITY).is_err());
    }

    #[test]
    fn pace_never_shows_sixty_seconds() {
        // 7:59.6 per km rounds to 8:00, not 7:60
        let d = Distance::from_km(1.0).unwrap();
        assert_eq!(format_pace(479.6, d, Units::Metric).unwrap(), "8:00 /km");
        assert_eq!(format_pace(0.0, d, Units::Metric), None);
        assert_eq!(format_pace(100.0, Distance::ZERO, Units::Metric), None);
        let mile = Distance::MILE;
        assert_eq!(
            format_pace(482.0, mile, Units::Imperial).unwrap(),
            "8:02 /mi"
        );
        assert_eq!(
            format_pace_per_km(300.0, Units::Metric).unwrap(),
            "5:00 /km"
        );
        assert_eq!(
            format_pace_per_km(300.0, Units::Imperial).unwrap(),
            "8:03 /mi"
        );
    }

    #[test]
    fn durations_format_with_hours_only_when_needed() {
        assert_eq!(format_duration(2836.895), "47:17");
        assert_eq!(format_duration(3599.6), "1:00:00");
        assert_eq!(format_duration(0.0), "0:00");
    }
}
