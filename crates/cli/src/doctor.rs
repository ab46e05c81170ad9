//! `doctor`: probe how SmashRun behaves where the sync depends on it, print what was found, and
//! keep it as a hint for later syncs.

use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use jiff::Timestamp;
use myrunstreak_app::Settings;
use myrunstreak_app::doctor::diagnose;
use myrunstreak_store::Store;

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
    let http = context::http()?;
    let tokens = context::provider(settings, http.clone()).await?;
    let client = context::smashrun(settings, http, tokens);
    let store = if args.no_save {
        None
    } else {
        Some(
            Store::open(&settings.duckdb_path, Timestamp::now()).with_context(|| {
                format!(
                    "opening {} to keep the findings (or pass --no-save)",
                    settings.duckdb_path.display()
                )
            })?,
        )
    };
    let client = Arc::new(client);
    let report = diagnose(&client, store.as_ref()).await?;
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
    if store.is_some() {
        println!("Kept as hints for later syncs, which still check every listing.");
    }
    Ok(())
}
