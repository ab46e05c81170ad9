//! `streak` (the default command): the current and longest streak.

use anyhow::Result;
use clap::{Args, Subcommand};
use jiff::Timestamp;
use jiff::civil::Date;
use myrunstreak_app::goals;
use myrunstreak_app::queries::{StreakQuery, StreakResponse, status_line, streak};
use myrunstreak_app::verdict::{self, Freshness};
use myrunstreak_app::{Settings, Verdict};
use myrunstreak_domain::{Distance, Period, PeriodRule, PeriodTarget, Rule, Units};

use crate::{context, why};

/// `streak`, or `streak why DATE`.
#[derive(Args, Debug, Default)]
pub struct StreakCommand {
    #[command(subcommand)]
    pub command: Option<StreakSubcommand>,
    #[command(flatten)]
    pub args: StreakArgs,
    /// A weekly streak instead: at least this much every week (20mi, 32km, 3runs).
    #[arg(long, conflicts_with = "monthly")]
    pub weekly: Option<PeriodTarget>,
    /// A monthly streak instead: at least this much every month (80mi, 12runs).
    #[arg(long)]
    pub monthly: Option<PeriodTarget>,
    /// The day weeks start on for --weekly (default monday: ISO weeks).
    #[arg(long, requires = "weekly", value_name = "DAY")]
    pub week_starts: Option<String>,
}

/// What `streak` can do besides counting.
#[derive(Subcommand, Debug)]
pub enum StreakSubcommand {
    /// Why a day did or did not count: its runs, the total against the rule, near-misses.
    Why(why::WhyArgs),
}

/// `streak` or `streak why`. The flags of `streak` apply to `why` too, so that
/// `streak --rule continuous why DATE` and `streak why DATE --rule continuous` agree.
pub fn command(command: StreakCommand, settings: &Settings) -> Result<()> {
    let period = period_rule(&command)?;
    match (command.command, period) {
        (Some(StreakSubcommand::Why(args)), _) => why::run(args.or(command.args), settings),
        (None, Some(rule)) => run_period(&command.args, &rule, settings),
        (None, None) => run(command.args, settings),
    }
}

/// The period rule of `--weekly`/`--monthly`, if one was given.
fn period_rule(command: &StreakCommand) -> Result<Option<PeriodRule>> {
    let period = match &command.week_starts {
        Some(day) => format!("week:{day}")
            .parse::<Period>()
            .map_err(|e| anyhow::anyhow!("--week-starts: {e}"))?,
        None => Period::ISO_WEEK,
    };
    Ok(match (command.weekly, command.monthly) {
        (Some(target), _) => Some(PeriodRule { period, target }),
        (None, Some(target)) => Some(PeriodRule {
            period: Period::Month,
            target,
        }),
        (None, None) => None,
    })
}

/// `streak --weekly` or `streak --monthly`.
fn run_period(args: &StreakArgs, rule: &PeriodRule, settings: &Settings) -> Result<()> {
    let query = query(args, settings)?;
    let store = context::read_store(settings)?;
    let runs = store.domain_runs()?;
    let report = goals::period_report(&runs, &query, rule, Timestamp::now())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for line in goals::period_lines(&report, settings.units) {
            println!("{line}");
        }
    }
    Ok(())
}

/// How to count.
#[derive(Args, Debug, Default)]
pub struct StreakArgs {
    /// usrsa (default), continuous, any, or a daily minimum: 2km, 1.5mi, 20min (MYRUNSTREAK_RULE).
    #[arg(long)]
    pub rule: Option<Rule>,
    /// Anchor run days to this IANA zone (MYRUNSTREAK_TIMEZONE); default: each run's own clock.
    #[arg(long)]
    pub tz: Option<String>,
    /// The streak as it stood at the end of this day (YYYY-MM-DD).
    #[arg(long)]
    pub as_of: Option<Date>,
    /// Print JSON (what the API's /api/v1/streak returns, today's verdict included).
    #[arg(long)]
    pub json: bool,
    /// Test seam: judge as of this instant (RFC 3339) instead of the clock.
    #[arg(long, hide = true, value_name = "INSTANT")]
    pub now: Option<Timestamp>,
    /// Leave your ledger (manual runs and overrides) out: the figure from SmashRun's runs only.
    #[arg(long)]
    pub exclude_ledger: bool,
}

/// The query from the settings and flags (flags win).
pub fn query(args: &StreakArgs, settings: &Settings) -> Result<StreakQuery> {
    StreakQuery::from_settings(settings)?
        .with_overrides(args.rule, args.tz.as_deref(), args.as_of)
        .map(|q| q.excluding_ledger(args.exclude_ledger))
        .map_err(|e| anyhow::anyhow!("--tz {e}"))
}

/// `streak`.
pub fn run(args: StreakArgs, settings: &Settings) -> Result<()> {
    let query = query(&args, settings)?;
    let store = context::read_store(settings)?;
    let runs = store.domain_runs()?;
    let now = args.now.unwrap_or_else(Timestamp::now);
    let last = store.last_success()?;
    let response = streak(&runs, &query, now)?;
    let answer = verdict::answer(
        response,
        &Freshness::of(last.as_ref(), settings.stale_after),
        now,
    );
    if args.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
    } else {
        print(&answer.streak, settings.units);
        if let Verdict::CantVerify { detail, .. } = &answer.today {
            println!("Can't verify today: {detail}");
        }
        if let Some(notice) = myrunstreak_app::pending_notice(&store.pending()?) {
            println!("Note: {notice}");
        }
    }
    Ok(())
}

/// `1 day`, `1,448 days`.
pub fn plural(n: u32, word: &str) -> String {
    format!(
        "{} {word}{}",
        verdict::thousands(n),
        if n == 1 { "" } else { "s" }
    )
}

/// The days a streak owes to an override, said wherever the streak is.
fn print_overrides(days: &[jiff::civil::Date]) {
    if !days.is_empty() {
        let days: Vec<String> = days.iter().map(ToString::to_string).collect();
        println!(
            "  Counted by an override: {} (see `myrunstreak ledger`)",
            days.join(", ")
        );
    }
}

/// The streak as a runner reads it.
pub fn print(s: &StreakResponse, units: Units) {
    let c = &s.current;
    match (c.start, c.days) {
        (Some(start), days) if days > 0 => println!(
            "Current streak: {} (since {start}): {}",
            plural(days, "day"),
            status_line(s, units)
        ),
        _ => println!("Current streak: 0 days: {}", status_line(s, units)),
    }
    print_overrides(&c.override_days);
    if let (Some(start), Some(end)) = (s.longest.start, s.longest.end) {
        println!(
            "Longest streak: {} ({start} to {end}), {} over {} runs",
            plural(s.longest.days, "day"),
            units.format(Distance::from_km(s.longest.distance_km).unwrap_or_default()),
            s.longest.runs
        );
        if s.longest.override_days != c.override_days {
            print_overrides(&s.longest.override_days);
        }
    }
    let m = &c.milestones;
    if !m.reached.is_empty() {
        let reached: Vec<String> = m.reached.iter().map(|d| verdict::thousands(*d)).collect();
        println!(
            "Milestones: {}; next {} in {}{}",
            reached.join(", "),
            verdict::thousands(m.next),
            plural(m.days_to_next, "day"),
            if m.usrsa_listable {
                " (USRSA-listable)"
            } else {
                ""
            }
        );
    }
    println!("Rule: {}; today is {} ({}).", s.rule, s.as_of, s.timezone);
}
