use std::collections::BTreeMap;

use jiff::civil::{Date, Weekday};
use serde::Serialize;

use crate::{ActivityId, DayPolicy, Distance, Run, day_number};

/// Sums over a set of runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Distance of all runs.
    pub distance: Distance,
    /// Number of runs.
    pub runs: u32,
    /// Number of distinct run days.
    pub run_days: u32,
    /// Moving time in seconds.
    pub moving_s: f64,
    /// Total moving time over total distance, in seconds per km, counting only runs with a
    /// moving time (a manual entry of 0 s would otherwise make everyone faster).
    pub avg_pace_s_per_km: Option<f64>,
    #[serde(skip)]
    moving_ms: i64,
    #[serde(skip)]
    timed_distance: Distance,
    #[serde(skip)]
    last_day: Option<Date>,
}

impl Totals {
    fn add(&mut self, day: Date, run: &Run) {
        self.distance += run.distance;
        self.runs += 1;
        if self.last_day != Some(day) {
            self.run_days += 1;
            self.last_day = Some(day);
        }
        let ms = run.moving_ms();
        if ms > 0 {
            self.moving_ms += ms;
            self.timed_distance += run.distance;
        }
        self.moving_s = self.moving_ms as f64 / 1000.0;
        self.avg_pace_s_per_km = (self.timed_distance > Distance::ZERO)
            .then(|| self.moving_s / self.timed_distance.km());
    }
}

/// Totals of one calendar period: a year (`2024`), a month (`2024-03`) or an ISO week (`2024-W09`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PeriodTotals {
    /// The period's name.
    pub period: String,
    /// Its first day.
    pub start: Date,
    /// What was run in it.
    #[serde(flatten)]
    pub totals: Totals,
}

/// One run, as a record holder.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct RunRecord {
    /// SmashRun's id.
    pub activity_id: ActivityId,
    /// The run day.
    pub date: Date,
    /// Distance.
    pub distance: Distance,
    /// Moving time in seconds.
    pub duration_s: f64,
}

/// The fastest average pace over runs of at least some distance.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PaceRecord {
    /// `5k`, `10k`, `half` or `marathon`.
    pub label: &'static str,
    /// The least distance a run needs to be considered.
    pub min_distance: Distance,
    /// Seconds per km.
    pub pace_s_per_km: f64,
    /// The run.
    pub run: RunRecord,
}

/// The longest stretch without a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct BreakRecord {
    /// The last run day before the break.
    pub after: Date,
    /// The first run day after it.
    pub until: Date,
    /// Days without a run in between.
    pub days: u32,
}

/// What was run on one day of the week.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WeekdayTotals {
    /// `Monday` … `Sunday`.
    pub weekday: String,
    /// Number of runs.
    pub runs: u32,
    /// Their distance.
    pub distance: Distance,
}

/// Personal records.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Records {
    /// The longest single run.
    pub longest_run: Option<RunRecord>,
    /// Fastest average pace over 5 km, 10 km, half and full marathon (where run).
    pub fastest: Vec<PaceRecord>,
    /// The ISO week with the most distance.
    pub biggest_week: Option<PeriodTotals>,
    /// The month with the most distance.
    pub biggest_month: Option<PeriodTotals>,
    /// The year with the most distance.
    pub biggest_year: Option<PeriodTotals>,
    /// The month with the most run days.
    pub most_run_days_month: Option<PeriodTotals>,
    /// The longest break between two runs.
    pub longest_break: Option<BreakRecord>,
}

/// Totals, per-period totals, records and weekday habits of a history.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Analytics {
    /// Everything.
    pub all_time: Totals,
    /// Per year, oldest first.
    pub years: Vec<PeriodTotals>,
    /// Per month, oldest first.
    pub months: Vec<PeriodTotals>,
    /// Per ISO week, oldest first.
    pub weeks: Vec<PeriodTotals>,
    /// Personal records.
    pub records: Records,
    /// Monday to Sunday.
    pub by_weekday: Vec<WeekdayTotals>,
}

const PACE_THRESHOLDS: [(&str, Distance); 4] = [
    ("5k", Distance::from_cm(500_000)),
    ("10k", Distance::from_cm(1_000_000)),
    ("half", Distance::from_cm(2_109_750)),
    ("marathon", Distance::from_cm(4_219_500)),
];

/// Analyses every run (non-running activities are left out), each on its run day.
pub fn analyze(runs: &[Run], days: &DayPolicy) -> Analytics {
    let mut dated: Vec<(Date, &Run)> = runs
        .iter()
        // an override is a day counted, not a run: it is no part of totals or records
        .filter(|r| r.is_running && !r.is_override())
        .map(|r| (days.day_of(&r.start), r))
        .collect();
    dated.sort_by_key(|(d, r)| (*d, r.id));

    let mut all_time = Totals::default();
    let mut years: BTreeMap<i16, PeriodTotals> = BTreeMap::new();
    let mut months: BTreeMap<(i16, i8), PeriodTotals> = BTreeMap::new();
    let mut weeks: BTreeMap<(i16, i8), PeriodTotals> = BTreeMap::new();
    let mut weekday: [(u32, Distance); 7] = [(0, Distance::ZERO); 7];
    let mut records = Records::default();
    let mut previous_day: Option<Date> = None;

    for &(date, run) in &dated {
        all_time.add(date, run);
        let period = |name: String, start: Date| PeriodTotals {
            period: name,
            start,
            totals: Totals::default(),
        };
        years
            .entry(date.year())
            .or_insert_with(|| period(date.year().to_string(), date.first_of_year()))
            .totals
            .add(date, run);
        months
            .entry((date.year(), date.month()))
            .or_insert_with(|| period(date.strftime("%Y-%m").to_string(), date.first_of_month()))
            .totals
            .add(date, run);
        let iso = date.iso_week_date();
        weeks
            .entry((iso.year(), iso.week()))
            .or_insert_with(|| {
                let monday = iso.first_of_week().map(|w| w.date()).unwrap_or(date);
                period(format!("{}-W{:02}", iso.year(), iso.week()), monday)
            })
            .totals
            .add(date, run);

        let slot = &mut weekday[date.weekday().to_monday_zero_offset() as usize];
        slot.0 += 1;
        slot.1 += run.distance;

        let record = RunRecord {
            activity_id: run.id,
            date,
            distance: run.distance,
            duration_s: run.duration_s,
        };
        if records
            .longest_run
            .is_none_or(|r| run.distance >= r.distance)
        {
            records.longest_run = Some(record);
        }
        if run.duration_s > 0.0 && run.distance > Distance::ZERO {
            let pace = run.duration_s / run.distance.km();
            for (label, min) in PACE_THRESHOLDS {
                if run.distance < min {
                    continue;
                }
                match records.fastest.iter_mut().find(|p| p.label == label) {
                    Some(p) if p.pace_s_per_km <= pace => {}
                    Some(p) => {
                        p.pace_s_per_km = pace;
                        p.run = record;
                    }
                    None => records.fastest.push(PaceRecord {
                        label,
                        min_distance: min,
                        pace_s_per_km: pace,
                        run: record,
                    }),
                }
            }
        }
        if let Some(prev) = previous_day.filter(|p| *p != date) {
            let gap = (day_number(date) - day_number(prev) - 1) as u32;
            if gap > 0 && records.longest_break.is_none_or(|b| gap >= b.days) {
                records.longest_break = Some(BreakRecord {
                    after: prev,
                    until: date,
                    days: gap,
                });
            }
        }
        previous_day = Some(date);
    }
    records.fastest.sort_by_key(|p| p.min_distance);

    let years: Vec<PeriodTotals> = years.into_values().collect();
    let months: Vec<PeriodTotals> = months.into_values().collect();
    let weeks: Vec<PeriodTotals> = weeks.into_values().collect();
    // max_by_key keeps the last of equals: ties go to the most recent period
    let biggest =
        |periods: &[PeriodTotals]| periods.iter().max_by_key(|p| p.totals.distance).cloned();
    records.biggest_week = biggest(&weeks);
    records.biggest_month = biggest(&months);
    records.biggest_year = biggest(&years);
    records.most_run_days_month = months.iter().max_by_key(|p| p.totals.run_days).cloned();

    let by_weekday = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ]
    .iter()
    .zip(weekday)
    .map(|(w, (runs, distance))| WeekdayTotals {
        weekday: format!("{w:?}"),
        runs,
        distance,
    })
    .collect();

    Analytics {
        all_time,
        years,
        months,
        weeks,
        records,
        by_weekday,
    }
}
