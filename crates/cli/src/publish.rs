//! `publish DIR` (and `sync --publish DIR`): write `status.json`, `badge.svg` and `streak.ics`
//! for a static host or a calendar subscription.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use jiff::Timestamp;
use myrunstreak_app::{Settings, Verdict};

use crate::context;

/// Where to publish.
#[derive(Args, Debug)]
pub struct PublishArgs {
    /// The directory to write the files into (created if missing).
    pub dir: PathBuf,
    /// Test seam: publish as of this instant (RFC 3339) instead of the clock.
    #[arg(long, hide = true, value_name = "INSTANT")]
    pub now: Option<Timestamp>,
}

/// `publish`.
pub async fn run(args: PublishArgs, settings: &Settings) -> Result<()> {
    let now = args.now.unwrap_or_else(Timestamp::now);
    for line in write(settings, &args.dir, now, None).await? {
        println!("{line}");
    }
    Ok(())
}

/// Renders the files at `now` from the mirror as it is and writes them into `dir`, then says what
/// was written (the lines to print). `sync_error` is the error of a sync just attempted (today becomes "can't verify").
pub async fn write(
    settings: &Settings,
    dir: &Path,
    now: Timestamp,
    sync_error: Option<String>,
) -> Result<Vec<String>> {
    let wiring = context::wiring(settings).await?;
    let publication = wiring.publication(now, sync_error)?;
    let paths = publication
        .write_to(dir)
        .with_context(|| format!("publishing into {}", dir.display()))?;
    let today = match &publication.answer.today {
        Verdict::Done => "done",
        Verdict::AtRisk { .. } => "at risk",
        Verdict::NoStreak => "no streak",
        Verdict::CantVerify { .. } => "can't verify",
    };
    let mut lines = vec![format!(
        "Published a {}-day streak (today: {today}):",
        publication.answer.streak.current.days
    )];
    for (path, file) in paths.iter().zip(&publication.files) {
        lines.push(format!(
            "  {}  ({}, {} bytes, Cache-Control: {})",
            path.display(),
            file.content_type,
            file.body.len(),
            file.cache_control
        ));
    }
    Ok(lines)
}
