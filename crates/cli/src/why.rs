//! `streak why DATE`: why a day did or did not count.

use anyhow::Result;
use clap::Args;
use jiff::civil::Date;
use jiff::{Span, Timestamp};
use myrunstreak_app::RunQuery;
use myrunstreak_app::Settings;
use myrunstreak_app::queries::{DayAuditResponse, day_audit};
use myrunstreak_domain::{Rule, RunOrigin, Units, format_duration};

use crate::context;
use crate::streak::{StreakArgs, plural, query};

/// Which day, and how to count.
#[derive(Args, Debug)]
pub struct WhyArgs {
    /// The day to explain (YYYY-MM-DD).
    #[arg(value_parser = parse_date)]
    pub date: Date,
    /// usrsa (default), continuous, any, or a daily minimum: 2km, 1.5mi, 20min (MYRUNSTREAK_RULE).
    #[arg(long)]
    pub rule: Option<Rule>,
    /// Anchor run days to this IANA zone (MYRUNSTREAK_TIMEZONE); default: each run's own clock.
    #[arg(long)]
    pub tz: Option<String>,
    /// Judge the day as the streak stood at the end of this day (YYYY-MM-DD).
    #[arg(long, value_parser = parse_date)]
    pub as_of: Option<Date>,
    /// Print JSON (what the API's /api/v1/days/{date} returns).
    #[arg(long)]
    pub json: bool,
    /// Leave your ledger (manual runs and overrides) out: the figure from SmashRun's runs only.
    #[arg(long)]
    pub exclude_ledger: bool,
}

impl WhyArgs {
    /// These flags, else those given to `streak` before `why`.
    pub fn or(self, streak: StreakArgs) -> Self {
        WhyArgs {
            date: self.date,
            rule: self.rule.or(streak.rule),
            tz: self.tz.or(streak.tz),
            as_of: self.as_of.or(streak.as_of),
            json: self.json || streak.json,
            exclude_ledger: self.exclude_ledger || streak.exclude_ledger,
        }
    }
}

fn parse_date(text: &str) -> Result<Date, String> {
    text.parse::<Date>()
        .map_err(|e| format!("{text:?} is not a date: use YYYY-MM-DD ({e})"))
}

/// `streak why`.
pub fn run(args: WhyArgs, settings: &Settings) -> Result<()> {
    let query = query(
        &StreakArgs {
            rule: args.rule,
            tz: args.tz,
            as_of: args.as_of,
            json: args.json,
            now: None,
            exclude_ledger: args.exclude_ledger,
        },
        settings,
    )?;
    let store = context::read_store(settings)?;
    let runs = store.domain_runs()?;
    // type and notes of the runs written near the day: a home zone moves a run by a day at most
    let near = |days: i64| args.date.checked_add(Span::new().days(days)).ok();
    let stored = store.runs(&RunQuery {
        since: near(-2),
        until: near(2),
        ..RunQuery::default()
    })?;
    let audit = day_audit(
        &runs,
        &stored,
        &query,
        args.date,
        Timestamp::now(),
        settings.units,
    )?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&audit)?);
    } else {
        print(&audit, settings.units);
    }
    Ok(())
}

/// The day as a runner reads it: a short table of its activities, then the verdict.
pub fn print(a: &DayAuditResponse, units: Units) {
    let clock = match &a.home_zone {
        Some(zone) => format!("days in {zone}"),
        None => "each run's own clock".to_owned(),
    };
    println!(
        "{} under the {} rule ({clock}{}); today is {}",
        a.date,
        a.rule,
        match (a.exclude_treadmill, a.exclude_ledger) {
            (true, true) => ", treadmill runs and the ledger excluded",
            (true, false) => ", treadmill runs excluded",
            (false, true) => ", the ledger excluded",
            (false, false) => "",
        },
        a.as_of
    );
    if a.runs.is_empty() {
        println!("  no activity");
    } else {
        println!(
            "  {:<12} {:<16} {:>6} {:>10} {:>8}  counted",
            "run", "start", "offset", "distance", "time"
        );
        for r in &a.runs {
            let run = &r.run;
            let id = match run.origin {
                RunOrigin::Ledger { entry } => format!("ledger {entry}"),
                _ => run.id.to_string(),
            };
            let start = run.start.to_string();
            // `2026-05-03T07:00:00-04:00`: the wall time, then the offset
            let (wall, offset) = start.split_at(start.len() - 6);
            let wall = wall.get(..16).unwrap_or(wall).replace('T', " ");
            let counted = match run.not_counted {
                None => "yes".to_owned(),
                Some(why) => format!("no: {}", why.describe()),
            };
            let kind = match r.activity_type.as_deref() {
                Some(t) if !t.eq_ignore_ascii_case("running") => format!(" ({t})"),
                _ => String::new(),
            };
            println!(
                "  {:<12} {:<16} {:>6} {:>10} {:>8}  {counted}{kind}",
                id,
                wall,
                offset,
                units.format(run.distance),
                format_duration(run.duration_s),
            );
        }
    }
    println!(
        "Total: {} ({}).",
        a.threshold.describe(units),
        plural(a.totals.runs, "counted run")
    );
    for miss in &a.near_misses {
        println!("Near miss: {}.", miss.describe(units));
    }
    for flag in &a.flags {
        println!("Check: {}.", flag.describe());
    }
    println!("{}", a.reason);
}
