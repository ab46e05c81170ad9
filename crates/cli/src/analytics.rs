//! `streaks`, `stats`, `records`, `calendar` and `export`.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use jiff::Timestamp;
use myrunstreak_app::ExportFormat;
use myrunstreak_app::Settings;
use myrunstreak_app::queries::{self, StreakQuery};
use myrunstreak_domain::{
    DayKind, Distance, PeriodTotals, Totals, Units, format_duration, format_pace_per_km,
};

use crate::context;
use crate::streak::{StreakArgs, plural, query};

/// `streaks`.
#[derive(Args, Debug)]
pub struct StreaksArgs {
    /// Only streaks of at least this many days.
    #[arg(long, default_value_t = 2)]
    pub min_days: u32,
    #[command(flatten)]
    pub streak: StreakArgs,
}

/// `stats`.
#[derive(Args, Debug)]
pub struct StatsArgs {
    /// One year.
    #[arg(long)]
    pub year: Option<i16>,
    /// One month of that year (1-12).
    #[arg(long, requires = "year", value_parser = clap::value_parser!(i8).range(1..=12))]
    pub month: Option<i8>,
    /// Print JSON (what /api/v1/stats returns).
    #[arg(long)]
    pub json: bool,
    /// Leave your ledger (manual runs and overrides) out: the figure from SmashRun's runs only.
    #[arg(long)]
    pub exclude_ledger: bool,
}

/// `records`.
#[derive(Args, Debug)]
pub struct RecordsArgs {
    /// Print JSON (what /api/v1/records returns).
    #[arg(long)]
    pub json: bool,
    /// Leave your ledger (manual runs and overrides) out: the figure from SmashRun's runs only.
    #[arg(long)]
    pub exclude_ledger: bool,
}

/// `calendar`.
#[derive(Args, Debug)]
pub struct CalendarArgs {
    /// A whole year; default: the last 365 days.
    #[arg(long)]
    pub year: Option<i16>,
    /// Print JSON (what /api/v1/calendar returns).
    #[arg(long)]
    pub json: bool,
    /// Leave your ledger (manual runs and overrides) out: the figure from SmashRun's runs only.
    #[arg(long)]
    pub exclude_ledger: bool,
}

/// Export formats.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    /// Comma-separated values.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// A JSON array.
    Json,
}

/// `export`.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The file format.
    #[arg(long, value_enum)]
    pub format: Format,
    /// Where to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Leave your ledger (manual runs and overrides) out: SmashRun's runs only.
    #[arg(long)]
    pub exclude_ledger: bool,
}

fn runs(settings: &Settings) -> Result<Vec<myrunstreak_domain::Run>> {
    Ok(context::read_store(settings)?.domain_runs()?)
}

fn base_query(settings: &Settings, exclude_ledger: bool) -> Result<StreakQuery> {
    Ok(StreakQuery::from_settings(settings)?.excluding_ledger(exclude_ledger))
}

/// `streaks`.
pub fn streaks(args: StreaksArgs, settings: &Settings) -> Result<()> {
    let q = query(&args.streak, settings)?;
    let response = queries::streak_history(&runs(settings)?, &q, Timestamp::now(), args.min_days)?;
    if args.streak.json {
        println!("{}", serde_json::to_string_pretty(&response)?);
        return Ok(());
    }
    println!(
        "{} of at least {} under rule {}:",
        plural(response.streaks.len() as u32, "streak"),
        plural(args.min_days, "day"),
        response.rule
    );
    for s in &response.streaks {
        let (Some(start), Some(end)) = (s.start, s.end) else {
            continue;
        };
        println!(
            "  {:>12}  {start} to {end}  {:>12}  {} runs",
            plural(s.days, "day"),
            settings
                .units
                .format(Distance::from_km(s.distance_km).unwrap_or_default()),
            s.runs
        );
    }
    Ok(())
}

fn totals_line(t: &Totals, units: Units) -> String {
    let pace = t
        .avg_pace_s_per_km
        .and_then(|p| format_pace_per_km(p, units))
        .unwrap_or_else(|| "-".into());
    format!(
        "{:>5} runs {:>4} days {:>12} {:>11} {:>12}",
        t.runs,
        t.run_days,
        units.format(t.distance),
        format_duration(t.moving_s),
        pace
    )
}

fn periods(title: &str, list: &[PeriodTotals], units: Units, last: usize) {
    if list.is_empty() {
        return;
    }
    println!("\n{title}:");
    for p in &list[list.len().saturating_sub(last)..] {
        println!("  {:<9} {}", p.period, totals_line(&p.totals, units));
    }
}

/// `stats`.
pub fn stats(args: StatsArgs, settings: &Settings) -> Result<()> {
    let response = queries::stats(
        &runs(settings)?,
        &base_query(settings, args.exclude_ledger)?,
        args.year,
        args.month,
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&response)?);
        return Ok(());
    }
    let units = settings.units;
    let scope = match (args.year, args.month) {
        (Some(y), Some(m)) => format!("{y}-{m:02}"),
        (Some(y), None) => y.to_string(),
        _ => "All time".into(),
    };
    println!("{scope}: {}", totals_line(&response.totals, units));
    if args.year.is_none() {
        periods("Years", &response.years, units, usize::MAX);
    }
    if args.month.is_none() {
        periods("Months", &response.months, units, 12);
    }
    periods("Weeks", &response.weeks, units, 8);
    println!("\nBy weekday:");
    for w in &response.by_weekday {
        println!(
            "  {:<9} {:>5} runs {:>12}",
            w.weekday,
            w.runs,
            units.format(w.distance)
        );
    }
    Ok(())
}

/// `records`.
pub fn records(args: RecordsArgs, settings: &Settings) -> Result<()> {
    let r = queries::records(
        &runs(settings)?,
        &base_query(settings, args.exclude_ledger)?,
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    let units = settings.units;
    if let Some(l) = r.longest_run {
        println!(
            "Longest run: {} on {} ({})",
            units.format(l.distance),
            l.date,
            format_duration(l.duration_s)
        );
    }
    for p in &r.fastest {
        println!(
            "Fastest {:<8}: {} on {} ({} for {})",
            p.label,
            format_pace_per_km(p.pace_s_per_km, units).unwrap_or_default(),
            p.run.date,
            format_duration(p.run.duration_s),
            units.format(p.run.distance)
        );
    }
    for (label, period) in [
        ("Biggest week", &r.biggest_week),
        ("Biggest month", &r.biggest_month),
        ("Biggest year", &r.biggest_year),
    ] {
        if let Some(p) = period {
            println!(
                "{label}: {} with {} over {} runs",
                p.period,
                units.format(p.totals.distance),
                p.totals.runs
            );
        }
    }
    if let Some(p) = &r.most_run_days_month {
        println!(
            "Most run days in a month: {} with {} days",
            p.period, p.totals.run_days
        );
    }
    if let Some(b) = r.longest_break {
        println!(
            "Longest break: {} without a run, between {} and {}",
            plural(b.days, "day"),
            b.after,
            b.until
        );
    }
    Ok(())
}

/// `calendar`: a heatmap, a column per week, Monday on top.
pub fn calendar(args: CalendarArgs, settings: &Settings) -> Result<()> {
    let response = queries::calendar(
        &runs(settings)?,
        &base_query(settings, args.exclude_ledger)?,
        Timestamp::now(),
        args.year,
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&response)?);
        return Ok(());
    }
    let colour = std::io::stdout().is_terminal();
    let cell = |kind: DayKind| match (kind, colour) {
        (DayKind::Qualified, true) => "\x1b[32m■\x1b[0m",
        (DayKind::RanNotQualified, true) => "\x1b[33m■\x1b[0m",
        (DayKind::Rest, true) => "\x1b[90m·\x1b[0m",
        (DayKind::Override, true) => "\x1b[36mo\x1b[0m",
        (DayKind::Qualified, false) => "#",
        (DayKind::RanNotQualified, false) => "+",
        (DayKind::Rest, false) => ".",
        (DayKind::Override, false) => "o",
    };
    let offset = response.from.weekday().to_monday_zero_offset() as usize;
    let weeks = (offset + response.days.len()).div_ceil(7);
    let mut grid = vec![vec![" "; weeks]; 7];
    for (i, day) in response.days.iter().enumerate() {
        let slot = offset + i;
        grid[slot % 7][slot / 7] = cell(day.kind);
    }
    println!(
        "{} to {} (rule {})",
        response.from, response.to, response.rule
    );
    for (name, row) in ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        .iter()
        .zip(grid)
    {
        println!("{name} {}", row.concat());
    }
    let qualified = response.days.iter().filter(|d| d.qualified).count();
    let overrides = response
        .days
        .iter()
        .filter(|d| d.kind == DayKind::Override)
        .count();
    println!(
        "{} qualified {qualified} (of which {} by an override: {overrides})   {} ran, not enough   {} rest",
        cell(DayKind::Qualified),
        cell(DayKind::Override),
        cell(DayKind::RanNotQualified),
        cell(DayKind::Rest)
    );
    Ok(())
}

/// `export`.
pub fn export(args: ExportArgs, settings: &Settings) -> Result<()> {
    let store = context::read_store(settings)?;
    let format = match args.format {
        Format::Csv => ExportFormat::Csv,
        Format::Parquet => ExportFormat::Parquet,
        Format::Json => ExportFormat::Json,
    };
    let n = store
        .export(format, &args.out, !args.exclude_ledger)
        .with_context(|| format!("exporting to {}", args.out.display()))?;
    let what = if args.exclude_ledger {
        "runs"
    } else {
        "runs and ledger entries"
    };
    println!("Exported {n} {what} to {}.", args.out.display());
    Ok(())
}
