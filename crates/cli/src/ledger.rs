//! `add`, `override` and `ledger`: the runner's own record of days SmashRun does not know about,
//! and `add --push` / `ledger push ID`, which create a ledger run on SmashRun too.

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use jiff::Timestamp;
use jiff::civil::{Date, Time};
use myrunstreak_app::Settings;
use myrunstreak_app::WiringError;
use myrunstreak_app::ledger::{self, LedgerBook, LedgerChange, ManualRun};
use myrunstreak_app::push::{PushError, PushOutcome, PushReport};
use myrunstreak_app::queries::{StreakQuery, streak};
use myrunstreak_domain::{Distance, Units};

use crate::context;

use crate::streak::plural;

/// `add`: a run with no file.
#[derive(Args, Debug)]
pub struct AddArgs {
    /// The run day (YYYY-MM-DD).
    #[arg(long)]
    pub date: Date,
    /// How far, with its unit: 1.2mi, 2km.
    #[arg(long, value_parser = parse_distance)]
    pub distance: Distance,
    /// Moving time: MM:SS or H:MM:SS.
    #[arg(long, value_parser = ledger::parse_duration)]
    pub duration: Option<f64>,
    /// The local start time (HH:MM); default: none (the run is placed at noon).
    #[arg(long)]
    pub time: Option<Time>,
    /// A note.
    #[arg(long)]
    pub note: Option<String>,
    /// Also create the run on SmashRun (needs `myrunstreak auth login --write`); the entry is
    /// kept in the ledger either way.
    #[arg(long)]
    pub push: bool,
    /// Print JSON: the entry and the day it counts on (with --push: the push's report).
    #[arg(long)]
    pub json: bool,
}

/// `override D --reason R`, or `override --remove D`.
#[derive(Args, Debug)]
pub struct OverrideArgs {
    /// The day to count without a run record (YYYY-MM-DD).
    #[arg(required_unless_present = "remove", conflicts_with = "remove")]
    pub date: Option<Date>,
    /// Why there is no record ("watch died"): shown wherever the day is.
    #[arg(long, required_unless_present = "remove")]
    pub reason: Option<String>,
    /// Remove the override of this day instead.
    #[arg(long, value_name = "DATE", conflicts_with = "reason")]
    pub remove: Option<Date>,
    /// Print JSON: the entry and the day it counts on.
    #[arg(long)]
    pub json: bool,
}

/// `ledger`: list the entries, or `ledger remove ID`.
#[derive(Args, Debug)]
pub struct LedgerArgs {
    #[command(subcommand)]
    pub command: Option<LedgerCommand>,
    /// Print JSON (what /api/v1/ledger returns).
    #[arg(long)]
    pub json: bool,
}

/// What `ledger` can do besides listing.
#[derive(Subcommand, Debug)]
pub enum LedgerCommand {
    /// Remove one entry by its id.
    Remove {
        /// The entry's id (from `myrunstreak ledger`).
        id: i64,
    },
    /// Create a manual run on SmashRun too (or retry a push whose answer was lost: what SmashRun
    /// already has is found, never created twice). Needs `myrunstreak auth login --write`.
    Push {
        /// The entry's id (from `myrunstreak ledger`).
        id: i64,
    },
}

fn parse_distance(text: &str) -> Result<Distance, String> {
    Distance::parse_positive(text).ok_or_else(|| {
        format!("{text:?} is not a distance: write it with its unit, such as 1.2mi or 2km")
    })
}

fn query(settings: &Settings) -> Result<StreakQuery> {
    Ok(StreakQuery::from_settings(settings)?)
}

/// `add`, and with `--push` the push.
pub async fn add(args: AddArgs, settings: &Settings) -> Result<()> {
    let now = Timestamp::now();
    let query = query(settings)?;
    let pushing = args.push;
    let mut book = ledger::open_book(&settings.duckdb_path, now)?;
    let run = ManualRun {
        date: args.date,
        time: args.time,
        distance: args.distance,
        duration_s: args.duration,
        note: args.note,
    };
    let added = ledger::add_run(&mut book, run, &query, now)?;
    if args.json && !pushing {
        println!("{}", serde_json::to_string_pretty(&added)?);
        return Ok(());
    }
    if !args.json {
        println!(
            "Added ledger entry {}: {}; it counts on {}.",
            added.entry.id,
            ledger::describe(&added.entry, settings.units),
            added.day
        );
        after(&book, &query, now, settings.units)?;
    }
    if pushing {
        // the push opens the database itself
        drop(book);
        return push(added.entry.id, args.json, settings).await;
    }
    Ok(())
}

/// Pushes entry `id` and says what happened; on failure the error says the entry is kept.
pub(crate) async fn push(id: i64, json: bool, settings: &Settings) -> Result<()> {
    let wiring = context::wiring(settings).await?;
    let report = match wiring.push(id, Timestamp::now()).await {
        Ok(report) => report,
        Err(e @ WiringError::Push(PushError::NoSuchEntry(_) | PushError::Override(_))) => {
            return Err(e.into());
        }
        Err(e) => {
            return Err(anyhow::Error::from(e).context(format!(
                "ledger entry {id} was not pushed to SmashRun; it stays in the ledger and counts as before"
            )));
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!("{}", pushed_line(&report));
    Ok(())
}

fn pushed_line(r: &PushReport) -> String {
    let (id, activity) = (r.entry.id, r.activity_id);
    match r.outcome {
        PushOutcome::Created => format!(
            "Pushed ledger entry {id} to SmashRun as activity {activity}. The entry counts until the next sync brings that run into the mirror; then the run counts instead."
        ),
        PushOutcome::Found => format!(
            "SmashRun already had ledger entry {id} as activity {activity} (an earlier push's answer was lost); nothing was created twice."
        ),
        PushOutcome::AlreadyPushed => format!(
            "Ledger entry {id} was already pushed to SmashRun as activity {activity}; nothing was sent."
        ),
    }
}

/// `override`.
pub fn override_day(args: OverrideArgs, settings: &Settings) -> Result<()> {
    let now = Timestamp::now();
    let query = query(settings)?;
    let mut book = ledger::open_book(&settings.duckdb_path, now)?;
    let change: LedgerChange = match (args.remove, args.date, args.reason) {
        (Some(date), _, _) => match ledger::remove_override(&mut book, date, &query)? {
            Some(removed) => {
                if !args.json {
                    println!(
                        "Removed the override of {} (ledger entry {}).",
                        removed.day, removed.entry.id
                    );
                }
                removed
            }
            None => bail!("{date} has no override to remove (see `myrunstreak ledger`)"),
        },
        (None, Some(date), Some(reason)) => {
            let added = ledger::add_override(&mut book, date, &reason, &query, now)?;
            if !args.json {
                println!(
                    "Overrode {} (ledger entry {}): it counts without a run record, shown as an override: {}.",
                    added.day,
                    added.entry.id,
                    reason.trim()
                );
            }
            added
        }
        _ => bail!("give a day and --reason, or --remove DAY"),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&change)?);
        return Ok(());
    }
    after(&book, &query, now, settings.units)
}

/// `ledger`, `ledger remove` and `ledger push`.
pub async fn ledger(args: LedgerArgs, settings: &Settings) -> Result<()> {
    if let Some(LedgerCommand::Push { id }) = args.command {
        return push(id, args.json, settings).await;
    }
    let now = Timestamp::now();
    let query = query(settings)?;
    let mut book = ledger::open_book(&settings.duckdb_path, now)?;
    if let Some(LedgerCommand::Remove { id }) = args.command {
        let Some(removed) = ledger::remove(&mut book, id, &query)? else {
            bail!("there is no ledger entry {id} (see `myrunstreak ledger`)");
        };
        if args.json {
            println!("{}", serde_json::to_string_pretty(&removed)?);
            return Ok(());
        }
        println!(
            "Removed ledger entry {}: {} ({}).",
            removed.entry.id,
            ledger::describe(&removed.entry, settings.units),
            removed.day
        );
        return after(&book, &query, now, settings.units);
    }
    let list = ledger::list(&book)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    if list.entries.is_empty() {
        println!(
            "The ledger is empty: `myrunstreak add` records a run SmashRun lacks, `myrunstreak override` a day without a record."
        );
    }
    for line in &list.entries {
        let e = &line.entry;
        let duplicate = line
            .duplicate_of
            .map(|a| format!(" — duplicate of SmashRun activity {a}, not counted twice"))
            .unwrap_or_default();
        println!(
            "{:>4}  {}  {}{duplicate}{}",
            e.id,
            e.item.date,
            ledger::describe(e, settings.units),
            ledger::push_note(e)
                .map(|n| format!("  [{n}]"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// The streak after the change, in one line.
pub(crate) fn after(
    book: &impl LedgerBook,
    query: &StreakQuery,
    now: Timestamp,
    units: Units,
) -> Result<()> {
    let s = streak(&book.runs()?, query, now)?;
    let c = &s.current;
    println!(
        "Current streak: {}{}: {}",
        plural(c.days, "day"),
        c.start.map(|d| format!(" (since {d})")).unwrap_or_default(),
        myrunstreak_app::queries::status_line(&s, units)
    );
    Ok(())
}
