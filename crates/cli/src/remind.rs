//! `remind`: judge today's streak in the runner's zone and, when it is at risk, send one reminder
//! to every channel of `MYRUNSTREAK_NOTIFY_URL` (at most once per day and reminder time).

use std::time::Duration;

use anyhow::{Result, bail};
use clap::Args;
use jiff::Timestamp;
use jiff::civil::Date;
use myrunstreak_app::remind::{Backoff, RemindOutcome, RemindReport};
use myrunstreak_app::{RemindOptions, Settings, Verdict};

use crate::context;

/// When and how to remind.
#[derive(Args, Debug, Default)]
pub struct RemindArgs {
    /// Judge the mirror as it is instead of syncing first.
    #[arg(long)]
    pub no_sync: bool,
    /// Only for the latest MYRUNSTREAK_REMIND_AT time that has passed today, if not sent yet
    /// (for a timer every 15 minutes).
    #[arg(long)]
    pub at_due: bool,
    /// Silence reminders up to and including this day (YYYY-MM-DD), then exit.
    #[arg(long, value_name = "DATE", conflicts_with_all = ["unmute", "at_due", "no_sync"])]
    pub mute_until: Option<Date>,
    /// Lift a mute, then exit.
    #[arg(long)]
    pub unmute: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Test seam: judge as of this instant (RFC 3339) instead of the clock.
    #[arg(long, hide = true, value_name = "INSTANT")]
    pub now: Option<Timestamp>,
    /// Test seam: the first wait before retrying a failed delivery, in milliseconds.
    #[arg(long, hide = true, value_name = "MS")]
    pub retry_first_ms: Option<u64>,
}

/// `remind`.
pub async fn run(args: RemindArgs, settings: &Settings) -> Result<()> {
    let now = args.now.unwrap_or_else(Timestamp::now);
    let wiring = context::wiring(settings).await?;
    if args.mute_until.is_some() || args.unmute {
        wiring.mute_reminders(args.mute_until, now)?;
        match args.mute_until {
            Some(d) => println!("Reminders muted up to and including {d}."),
            None => println!("Reminders unmuted."),
        }
        return Ok(());
    }
    let mut backoff = Backoff::default();
    if let Some(ms) = args.retry_first_ms {
        backoff.first = Duration::from_millis(ms);
        backoff.max = Duration::from_millis(ms * 8);
    }
    let report = wiring
        .remind(&RemindOptions {
            now,
            sync_first: !args.no_sync,
            at_due: args.at_due,
            backoff,
        })
        .await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print(&report);
    }
    match &report.outcome {
        RemindOutcome::CantVerify => match &report.today {
            Verdict::CantVerify { detail, .. } => bail!("can't verify today's streak: {detail}"),
            _ => bail!("can't verify today's streak"),
        },
        RemindOutcome::NoChannels => bail!(
            "today is at risk but MYRUNSTREAK_NOTIFY_URL is not set: nothing was sent (set it to ntfy://host/topic or a webhook URL)"
        ),
        RemindOutcome::Failed { failed, .. } => bail!(
            "the reminder could not be delivered to any channel ({}); the next call tries again",
            failures(failed)
        ),
        RemindOutcome::Sent { failed, .. } if !failed.is_empty() => {
            bail!(
                "some channels did not take the reminder: {}",
                failures(failed)
            )
        }
        _ => Ok(()),
    }
}

fn failures(failed: &[myrunstreak_app::remind::FailedDelivery]) -> String {
    failed
        .iter()
        .map(|f| format!("{}: {} after {} attempts", f.channel, f.error, f.attempts))
        .collect::<Vec<_>>()
        .join("; ")
}

fn print(r: &RemindReport) {
    match &r.outcome {
        RemindOutcome::Sent {
            slot, delivered, ..
        } => println!(
            "Reminded ({} reminder, {} channel{}): {}",
            slot,
            delivered.len(),
            if delivered.len() == 1 { "" } else { "s" },
            r.message
        ),
        RemindOutcome::AlreadySent { slot } => {
            println!(
                "{}. Already reminded for {slot} today: nothing sent.",
                r.message
            )
        }
        RemindOutcome::NotDue => println!(
            "{}. No reminder time (MYRUNSTREAK_REMIND_AT) has passed yet today: nothing sent.",
            r.message
        ),
        RemindOutcome::Muted { until } => println!(
            "{}. Reminders are muted up to and including {until}: nothing sent.",
            r.message
        ),
        RemindOutcome::NothingToSend => println!("{}. Nothing to send.", r.message),
        RemindOutcome::CantVerify | RemindOutcome::NoChannels | RemindOutcome::Failed { .. } => {
            println!("{}", r.message)
        }
    }
}
