//! `import FILE...`: runs from GPX, TCX and FIT files into the ledger.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use jiff::Timestamp;
use myrunstreak_app::Settings;
use myrunstreak_app::import::{self, FileResult, ImportZone, Imported};
use myrunstreak_app::ledger;
use myrunstreak_app::queries::StreakQuery;
use myrunstreak_domain::{LedgerKind, Units};

/// `import FILE... [--tz ZONE] [--push] [--json]`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// GPX, TCX or FIT files (the format is told from the contents).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The IANA zone for files with only UTC times (GPX, most TCX); default: your time zone
    /// setting, else the clock of your most recent run. A FIT file's own clock wins.
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Create each imported run on SmashRun too (after `auth login --write`), as `add --push`
    /// does; a run SmashRun already has (a duplicate) or of another sport is not pushed.
    #[arg(long, conflicts_with = "json")]
    pub push: bool,
    /// Print JSON: each file's outcome.
    #[arg(long)]
    pub json: bool,
    /// Judge "now" at this instant (tests only).
    #[arg(long, hide = true)]
    pub now: Option<Timestamp>,
}

/// `import`, and with `--push` the push of each new run.
pub async fn run(args: ImportArgs, settings: &Settings) -> Result<()> {
    let now = args.now.unwrap_or_else(Timestamp::now);
    let query = StreakQuery::from_settings(settings)?;
    let zone = ImportZone::new(args.tz.as_deref()).map_err(|e| anyhow::anyhow!("--tz {e}"))?;
    let mut book = ledger::open_book(&settings.duckdb_path, now)
        .with_context(|| format!("opening {}", settings.duckdb_path.display()))?;
    let response = import::import_paths(&mut book, args.files.as_slice(), &zone, &query, now);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&response)?);
    } else {
        for f in &response.files {
            match &f.result {
                FileResult::Imported(imported) => {
                    println!("{}: {}", f.file, describe(imported, settings.units));
                }
                FileResult::AlreadyImported { entry } => {
                    println!("{}: already imported as ledger entry {entry}", f.file);
                }
                FileResult::Failed { error } => eprintln!("{}: not imported: {error}", f.file),
            }
        }
        if response
            .files
            .iter()
            .any(|f| !matches!(f.result, FileResult::Failed { .. }))
        {
            crate::ledger::after(&book, &query, now, settings.units)?;
        }
    }
    if args.push {
        // the push opens the database itself
        drop(book);
        let mut unpushed = 0;
        for f in &response.files {
            let FileResult::Imported(imported) = &f.result else {
                continue;
            };
            let id = imported.entry.id;
            if let Some(activity) = imported.duplicate_of {
                println!(
                    "{}: not pushed: SmashRun already has it as activity {activity}",
                    f.file
                );
            } else if !imported.counts_as_run {
                println!("{}: not pushed: not a run", f.file);
            } else if let Err(e) = crate::ledger::push(id, false, settings).await {
                eprintln!("{}: {e:#}", f.file);
                unpushed += 1;
            }
        }
        if unpushed > 0 {
            bail!(
                "{unpushed} imported runs were not pushed to SmashRun (see above); they stay in the ledger and count as before"
            );
        }
    }
    if response.failed > 0 {
        bail!(
            "{} of {} files could not be imported (see above)",
            response.failed,
            response.files.len()
        );
    }
    Ok(())
}

/// `5.02 km on 2026-03-09 (Mon), 21:10 -05:00 (America/Chicago) → ledger entry 12`, and what
/// keeps it from counting, if anything.
fn describe(i: &Imported, units: Units) -> String {
    let distance = match &i.entry.item.kind {
        LedgerKind::Run { distance, .. } => units.format(*distance),
        LedgerKind::Override { .. } => String::new(),
    };
    let zone = if i.zone == "file" {
        "the file's clock".to_owned()
    } else {
        i.zone.clone()
    };
    let mut text = format!(
        "{distance} on {} ({}), {} {} ({zone}) → ledger entry {}",
        i.day,
        i.day.strftime("%a"),
        i.start.wall().strftime("%H:%M"),
        import::offset_text(i.start.offset()),
        i.entry.id
    );
    if let Some(activity) = i.duplicate_of {
        text += &format!("; a duplicate of SmashRun activity {activity}: that day counts it once");
    }
    if !i.counts_as_run {
        let sport = i
            .entry
            .item
            .file()
            .and_then(|f| f.sport.clone())
            .unwrap_or_default();
        text += &format!("; its sport is {sport}: kept, not counted as a run");
    }
    text
}
