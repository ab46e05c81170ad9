//! `sync`: mirror SmashRun into the database.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;
use jiff::civil::{Date, date};
use myrunstreak_app::smashrun::{Event, WaitReason};
use myrunstreak_app::{Settings, SyncEvent, SyncMode, SyncReport, SyncRequest};

use crate::context;

/// What to sync.
#[derive(Args, Debug, Default)]
pub struct SyncArgs {
    /// Everything, then mark runs deleted on SmashRun as deleted here.
    #[arg(long, conflicts_with_all = ["since", "until", "year"])]
    pub full: bool,
    /// First run day (YYYY-MM-DD) of a window.
    #[arg(long)]
    pub since: Option<Date>,
    /// Last run day (YYYY-MM-DD) of a window.
    #[arg(long)]
    pub until: Option<Date>,
    /// A whole year, as a window.
    #[arg(long, conflicts_with_all = ["since", "until"])]
    pub year: Option<i16>,
    /// Also fetch full activities and splits, for at most N runs this time (default 50).
    #[arg(long, num_args = 0..=1, default_missing_value = "50", value_name = "N")]
    pub details: Option<usize>,
    /// Ask SmashRun, but write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// With --full: mark deleted every run SmashRun no longer lists, however many (by default
    /// a sync deletes at most MYRUNSTREAK_DELETE_GUARD_RUNS / _PERCENT and holds the rest).
    #[arg(long, requires = "full")]
    pub allow_mass_delete: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Then publish status.json, badge.svg and streak.ics into this directory (also when the
    /// sync fails: today is then "can't verify").
    #[arg(long, value_name = "DIR")]
    pub publish: Option<PathBuf>,
}

impl SyncArgs {
    fn mode(&self) -> Result<SyncMode> {
        if let Some(y) = self.year {
            let first = date(y, 1, 1);
            return Ok(SyncMode::Window {
                since: Some(first),
                until: first.last_of_year().into(),
            });
        }
        if let (Some(s), Some(u)) = (self.since, self.until)
            && s > u
        {
            bail!("--since {s} is after --until {u}");
        }
        Ok(match (self.full, self.since, self.until) {
            (true, _, _) => SyncMode::Full,
            (false, None, None) => SyncMode::Incremental,
            (false, since, until) => SyncMode::Window { since, until },
        })
    }
}

/// Shows progress on a terminal, log lines elsewhere.
#[derive(Clone)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress { bar }
    }

    pub fn say(&self, message: String) {
        match &self.bar {
            Some(bar) => bar.set_message(message),
            None => eprintln!("{message}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    pub fn sync_event(&self, event: SyncEvent) {
        match event {
            SyncEvent::Fetching { what } => self.say(format!("Asking SmashRun for {what}…")),
            SyncEvent::Fetched { runs } => self.say(format!("SmashRun listed {runs} activities")),
            SyncEvent::Writing => self.say("Writing to the database…".into()),
            SyncEvent::Details { done, total, backlog, eta } => {
                self.say(format!("Details {done}/{total} this time; {backlog} runs left, about {} at SmashRun's rate limit", human(eta)))
            }
        }
    }

    pub fn client_event(&self, event: &Event) {
        match event {
            Event::Waiting {
                reason: WaitReason::RateLimited,
                wait,
                ..
            } => self.say(format!(
                "SmashRun asked us to slow down: waiting {} for the rate limit",
                human(*wait)
            )),
            Event::Waiting {
                reason: WaitReason::Budget,
                wait,
                ..
            } if *wait > Duration::from_secs(1) => self.say(format!(
                "Waiting {} to stay within SmashRun's rate limit",
                human(*wait)
            )),
            Event::Retrying { attempt, cause, .. } => self.say(format!(
                "Retrying after a failure ({cause}), attempt {}",
                attempt + 1
            )),
            Event::FallingBackToPaging { .. } => {
                self.say("The full listing failed; fetching page by page instead".into())
            }
            Event::Waiting { .. } | Event::Sent { .. } => {}
        }
    }
}

fn human(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{} h {} min", s / 3600, (s / 60) % 60)
    } else if s >= 60 {
        format!("{} min {} s", s / 60, s % 60)
    } else {
        format!("{} s", s.max(1))
    }
}

/// Opens the database for writing, syncs, and reports progress on the way.
pub async fn sync_into(
    settings: &Settings,
    request: &SyncRequest,
    progress: &Progress,
) -> Result<SyncReport> {
    let events = progress.clone();
    let wiring = context::wiring(settings)
        .await?
        .with_observer(Arc::new(move |e| events.client_event(e)));
    let events = progress.clone();
    Ok(wiring.sync(request, &move |e| events.sync_event(e)).await?)
}

/// `sync`.
pub async fn run(args: SyncArgs, settings: &Settings) -> Result<()> {
    let request = SyncRequest {
        mode: args.mode()?,
        dry_run: args.dry_run,
        details: args.details,
        allow_mass_delete: args.allow_mass_delete,
        guard: settings.deletion_guard,
    };
    let progress = Progress::new(args.json);
    let result = sync_into(settings, &request, &progress).await;
    progress.finish();
    let published = match &args.publish {
        Some(dir) => {
            let sync_error = result.as_ref().err().map(|e| format!("{e:#}"));
            Some(crate::publish::write(settings, dir, Timestamp::now(), sync_error).await)
        }
        None => None,
    };
    let (report, published) = match (result, published) {
        (Err(sync), Some(Ok(lines))) => {
            // the files say "can't verify"; the error below says why
            lines.iter().for_each(|l| eprintln!("{l}"));
            return Err(sync);
        }
        (Err(sync), Some(Err(publish))) => {
            bail!("{sync:#}; publishing failed too: {publish:#}")
        }
        (Err(sync), None) => return Err(sync),
        (Ok(report), published) => (report, published.transpose()?),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    // with --json, stdout holds the sync report alone
    for line in published.unwrap_or_default() {
        if args.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
    Ok(())
}

/// The summary a runner reads after a sync.
pub fn print_report(r: &SyncReport) {
    let mode = match r.mode {
        SyncMode::Incremental => "incremental",
        SyncMode::Full => "full",
        SyncMode::Window { .. } => "window",
    };
    let c = &r.counts;
    let verb = if r.dry_run { "Would sync" } else { "Synced" };
    println!(
        "{verb} ({mode}): {} added, {} updated, {} deleted, {} unchanged, {} unreadable; {} request{} in {:.1} s. {} runs stored.",
        c.added,
        c.updated,
        c.deleted,
        c.unchanged,
        c.rejected,
        r.requests,
        if r.requests == 1 { "" } else { "s" },
        r.seconds,
        r.total_runs
    );
    for rejected in &r.rejected {
        println!("  kept raw, could not read: {}", rejected.reason);
    }
    for note in &r.notes {
        println!("  {note}");
    }
    if r.pending_deletions > 0 {
        println!(
            "{} runs are missing from SmashRun's listing but held as pending deletion: they still count. See `myrunstreak` for details.",
            r.pending_deletions
        );
    }
    if r.details_backlog > 0 {
        println!(
            "{} runs still without details: run `sync --details` again later.",
            r.details_backlog
        );
    }
}
