use std::collections::BTreeMap;

use jiff::ToSpan;
use jiff::civil::Date;
use serde::Serialize;

use crate::{DayTotals, Distance, Rule};

/// What a calendar day was, for a heatmap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// The day's runs meet the rule.
    Qualified,
    /// There were runs, but not enough.
    RanNotQualified,
    /// No counted run.
    Rest,
    /// Counted by the runner's override, not by runs: drawn apart, so the runner stays honest.
    Override,
}

/// One day of the calendar.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CalendarDay {
    /// The date.
    pub date: Date,
    /// Distance of the day's counted runs.
    pub distance: Distance,
    /// Number of counted runs.
    pub runs: u32,
    /// Whether the day qualifies under the rule.
    pub qualified: bool,
    /// Qualified, ran but not qualified, rest, or counted by an override.
    pub kind: DayKind,
    /// How many of the counted runs are manual runs from the ledger.
    pub ledger_runs: u32,
    /// Whether the runner overrode the day (even if its runs qualify by themselves).
    pub overridden: bool,
}

/// Every day from `from` to `to` (both included), rest days too. Empty when `from > to`.
pub fn calendar(
    days: &BTreeMap<Date, DayTotals>,
    rule: &Rule,
    from: Date,
    to: Date,
) -> Vec<CalendarDay> {
    if from > to {
        return Vec::new();
    }
    from.series(1.day())
        .take_while(|d| *d <= to)
        .map(|date| {
            let totals = days
                .get(&date)
                .copied()
                .unwrap_or_else(|| DayTotals::empty(date));
            let qualified = rule.qualifies(&totals);
            let kind = match (qualified, totals.runs) {
                (true, _) if !rule.qualifies_by_runs(&totals) => DayKind::Override,
                (true, _) => DayKind::Qualified,
                (false, 0) => DayKind::Rest,
                (false, _) => DayKind::RanNotQualified,
            };
            CalendarDay {
                date,
                distance: totals.distance,
                runs: totals.runs,
                qualified,
                kind,
                ledger_runs: totals.ledger_runs,
                overridden: totals.overridden,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn marks_each_kind_of_day() {
        let mut days = BTreeMap::new();
        let mut long = DayTotals::empty(date(2026, 5, 1));
        long.distance = Distance::from_km(5.0).unwrap();
        long.longest_run = long.distance;
        long.runs = 1;
        let mut overridden = DayTotals::empty(date(2026, 5, 2));
        overridden.overridden = true;
        days.insert(overridden.date, overridden);
        let mut short = DayTotals::empty(date(2026, 5, 3));
        short.distance = Distance::from_km(1.0).unwrap();
        short.longest_run = short.distance;
        short.runs = 1;
        days.insert(long.date, long);
        days.insert(short.date, short);
        let cal = calendar(&days, &Rule::Usrsa, date(2026, 5, 1), date(2026, 5, 3));
        let kinds: Vec<DayKind> = cal.iter().map(|d| d.kind).collect();
        assert_eq!(
            kinds,
            [
                DayKind::Qualified,
                DayKind::Override,
                DayKind::RanNotQualified
            ]
        );
        assert!(cal[1].qualified && cal[1].overridden && cal[1].runs == 0);
        let rest = calendar(&days, &Rule::Usrsa, date(2026, 4, 30), date(2026, 4, 30));
        assert_eq!(rest[0].kind, DayKind::Rest);
        assert!(calendar(&days, &Rule::Usrsa, date(2026, 5, 3), date(2026, 5, 1)).is_empty());
    }
}
