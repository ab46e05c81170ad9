//! `myrunstreak`: your SmashRun history in DuckDB and your running streak, from the command line.
//!
//! A thin shell: each subcommand reads the clock and the settings, calls the application layer
//! and prints. Exit codes: 0 ok, 1 failure, 2 usage.
//!
//! What it may not do: reach the store or the SmashRun client except through `myrunstreak-app`
//! (its `Wiring`, `Mirror` and answer types), or decide anything a rule decides: `--json` prints
//! the application's answer types, the same the HTTP API serves.

mod analytics;
mod auth;
mod context;
mod demo;
mod doctor;
mod goals;
mod import;
mod ledger;
mod login;
mod publish;
mod remind;
mod runs;
mod serve;
mod settings;
mod site;
mod streak;
mod sync;
mod why;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Your SmashRun history on your own machine, and your running streak by the official rules.
#[derive(Parser, Debug)]
#[command(name = "myrunstreak", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    global: settings::GlobalArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Sign in to SmashRun, and manage the stored tokens.
    #[command(subcommand)]
    Auth(auth::AuthCommand),
    /// Mirror your SmashRun runs into the local database (incremental by default).
    Sync(sync::SyncArgs),
    /// List stored runs, newest first.
    Runs(runs::RunsArgs),
    /// Show one stored run.
    Run(runs::RunArgs),
    /// Your current and longest streak (the default command); `streak why DATE` explains a day.
    Streak(streak::StreakCommand),
    /// Every streak in your history, longest first.
    Streaks(analytics::StreaksArgs),
    /// Your weekly or monthly streak and the year's goal, against the pace line.
    Goals(goals::GoalsArgs),
    /// Totals: all time, per year, month, ISO week and weekday.
    Stats(analytics::StatsArgs),
    /// Personal records.
    Records(analytics::RecordsArgs),
    /// A heatmap of qualified days.
    Calendar(analytics::CalendarArgs),
    /// Record a run SmashRun lacks (no file): it counts, marked as the ledger's.
    Add(ledger::AddArgs),
    /// Import runs from GPX, TCX or FIT files into your ledger; says which day each lands on.
    Import(import::ImportArgs),
    /// Count a day without a run record, with your reason; shown as an override everywhere.
    Override(ledger::OverrideArgs),
    /// Your ledger of manual and imported runs and overrides; `ledger remove ID` removes one,
    /// `ledger push ID` creates a manual run on SmashRun too.
    Ledger(ledger::LedgerArgs),
    /// Write your runs to CSV, Parquet or JSON with DuckDB's own writers.
    Export(analytics::ExportArgs),
    /// When today is at risk, send one reminder to each MYRUNSTREAK_NOTIFY_URL channel
    /// (syncing first; once per day and reminder time).
    Remind(remind::RemindArgs),
    /// Write status.json, badge.svg and the streak.ics calendar feed into a directory, to publish.
    Publish(publish::PublishArgs),
    /// Probe how SmashRun behaves where the sync depends on it (a handful of requests).
    Doctor(doctor::DoctorArgs),
    /// Serve the HTTP API and the dashboard.
    Serve(serve::ServeArgs),
    /// MyRunStreak.com for many runners: sign in with SmashRun on the web, each runner's own
    /// mirror and streak (`site reseal` after a key rotation).
    Site(site::SiteArgs),
    /// Print the effective settings, secrets redacted.
    Config {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// See the whole product against a built-in SmashRun sandbox, in its own data folder.
    Demo(demo::DemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = settings::load(&cli.global)?;
    settings::init_logging(&settings);
    match cli
        .command
        .unwrap_or(Command::Streak(streak::StreakCommand::default()))
    {
        Command::Auth(command) => auth::run(command, &settings).await,
        Command::Sync(args) => sync::run(args, &settings).await,
        Command::Runs(args) => runs::list(args, &settings),
        Command::Run(args) => runs::show(args, &settings),
        Command::Streak(command) => streak::command(command, &settings),
        Command::Streaks(args) => analytics::streaks(args, &settings),
        Command::Goals(args) => goals::run(args, &settings),
        Command::Stats(args) => analytics::stats(args, &settings),
        Command::Records(args) => analytics::records(args, &settings),
        Command::Calendar(args) => analytics::calendar(args, &settings),
        Command::Export(args) => analytics::export(args, &settings),
        Command::Add(args) => ledger::add(args, &settings).await,
        Command::Import(args) => import::run(args, &settings).await,
        Command::Override(args) => ledger::override_day(args, &settings),
        Command::Ledger(args) => ledger::ledger(args, &settings).await,
        Command::Doctor(args) => doctor::run(args, &settings).await,
        Command::Remind(args) => remind::run(args, &settings).await,
        Command::Publish(args) => publish::run(args, &settings).await,
        Command::Serve(args) => serve::run(args, &settings).await,
        Command::Site(args) => site::run(args, &settings, &settings::vars(&cli.global)?).await,
        Command::Config { json } => {
            let described = settings.describe();
            if json {
                let map: serde_json::Map<String, serde_json::Value> = described
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v)))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&map)?);
            } else {
                for (name, value) in described {
                    println!("{name}={value}");
                }
            }
            Ok(())
        }
        Command::Demo(args) => demo::run(args).await,
    }
}
