//! `doctor`: probe how SmashRun behaves where the sync depends on it, print what was found, and
//! keep it as a hint for later syncs.

use anyhow::{Context, Result};
use clap::Args;
use myrunstreak_app::Settings;

use crate::context;

/// How to report.
#[derive(Args, Debug, Default)]
pub struct DoctorArgs {
    /// Print the findings as JSON.
    #[arg(long)]
    pub json: bool,
    /// Do not keep the findings as hints for later syncs.
    #[arg(long)]
    pub no_save: bool,
}

/// `doctor`.
pub async fn run(args: DoctorArgs, settings: &Settings) -> Result<()> {
    let save = !args.no_save;
    let report = context::wiring(settings)
        .await?
        .doctor(save)
        .await
        .with_context(|| {
            if save {
                format!(
                    "probing SmashRun and keeping the findings in {} (or pass --no-save)",
                    settings.duckdb_path.display()
                )
            } else {
                "probing SmashRun".to_owned()
            }
        })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "Asked SmashRun {} questions ({} requests):",
        report.findings.len(),
        report.requests
    );
    for finding in &report.findings {
        println!("  - {finding}");
    }
    if save {
        println!("Kept as hints for later syncs, which still check every listing.");
    }
    Ok(())
}
