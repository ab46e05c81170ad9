//! `goals`: the weekly or monthly streak and the year's goal, with the pace line.

use anyhow::Result;
use clap::Args;
use jiff::Timestamp;
use myrunstreak_app::Settings;
use myrunstreak_app::goals::{self, Goals};
use myrunstreak_domain::{PeriodRule, PeriodTarget};

use crate::context;
use crate::streak::{StreakArgs, query};

/// `goals`.
#[derive(Args, Debug)]
pub struct GoalsArgs {
    /// The year's target instead of MYRUNSTREAK_YEAR_GOAL: 1000km, 600mi, 300runs.
    #[arg(long)]
    pub target: Option<PeriodTarget>,
    /// The period streak instead of MYRUNSTREAK_PERIOD_STREAK: 20mi/week, 12runs/month.
    #[arg(long)]
    pub period: Option<PeriodRule>,
    /// The year to judge (default: this one in your zone).
    #[arg(long)]
    pub year: Option<i16>,
    #[command(flatten)]
    pub streak: StreakArgs,
}

/// `goals`.
pub fn run(args: GoalsArgs, settings: &Settings) -> Result<()> {
    let query = query(&args.streak, settings)?;
    let mut wanted = Goals::from_settings(settings);
    wanted.period = args.period.or(wanted.period);
    wanted.year = args.target.or(wanted.year);
    let store = context::read_store(settings)?;
    let runs = store.domain_runs()?;
    let answer = goals::goals(&runs, &query, &wanted, args.year, Timestamp::now())?;
    if args.streak.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(());
    }
    if answer.period.is_none() && answer.year.is_none() {
        println!(
            "No goal set. Set MYRUNSTREAK_YEAR_GOAL (such as 1000km or 300runs) and/or \
             MYRUNSTREAK_PERIOD_STREAK (such as 20mi/week or 12runs/month), or pass --target \
             or --period."
        );
    }
    let units = settings.units;
    let lines = answer
        .period
        .iter()
        .flat_map(|p| goals::period_lines(p, units));
    for line in lines.chain(answer.year.iter().flat_map(|g| goals::goal_lines(g, units))) {
        println!("{line}");
    }
    Ok(())
}
