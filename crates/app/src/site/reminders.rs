//! Reminders on the site, per runner: the same use-case as `myrunstreak remind`
//! ([`crate::remind`]) with the runner's own reminder times and channels instead of
//! `MYRUNSTREAK_REMIND_AT` and `MYRUNSTREAK_NOTIFY_URL`.
//!
//! - The channels are a secret (an ntfy topic or a webhook URL lets anyone post to the runner),
//!   so they are sealed like the runner's tokens, under a context of their own, and only ever
//!   shown by [`crate::remind::Channel::label`].
//! - A reminder time is judged in the runner's own IANA zone, which reminders require.
//! - Which reminder time was last handled (`YYYY-MM-DD HH:MM`, local) is kept in the runner's
//!   health, where the scheduler (or the fan-out on AWS) reads it without opening any mirror; what
//!   was sent is also kept in the runner's mirror, as in single-runner mode, so that a repeated
//!   job sends nothing twice.
//! - A time is handled once it was sent, or found unneeded (today done, no streak, muted). One
//!   whose every channel failed, or whose day cannot be verified (a stale mirror), is tried again
//!   at the next pass, until the next reminder time takes over.
//! - On the site, reminders go to ntfy or a webhook; `mailto:` is refused (the site has no mail
//!   sender).
//! - A runner may mute their reminders through a day (resting, injured): the mute is kept in
//!   their mirror, as in single-runner mode.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use myrunstreak_store::Store;
use smashrun_client::Secret;

use super::{ChangeError, MirrorError, RunnerAccount, Site, SiteError, SyncHealth, change_mirror};
use crate::remind::{Backoff, Channel, RemindOutcome, RemindReport, due_time, parse_times};
use crate::wiring::RemindOptions;

/// A runner's last good sync older than this is synced before their reminder is judged: a run
/// made since would otherwise be missed, and the reminder sent for nothing.
pub const SYNC_BEFORE_REMINDER: SignedDuration = SignedDuration::from_mins(15);

/// How the site retries a failed delivery within one pass: once, a second later (the next pass
/// tries again anyway).
pub const SITE_BACKOFF: Backoff = Backoff {
    attempts: 2,
    first: std::time::Duration::from_secs(1),
    max: std::time::Duration::from_secs(1),
};

fn reminder_context(runner_id: &str) -> String {
    format!("reminder-channels:{runner_id}")
}

/// The reminder time of `runner` that is due at `now` and not handled yet, as
/// `YYYY-MM-DD HH:MM` (their local day and time); `None` when none is, or when they have no
/// reminders (no times, no channels, or no zone).
pub fn reminder_due(runner: &RunnerAccount, health: &SyncHealth, now: Timestamp) -> Option<String> {
    runner.reminder_channels.as_ref()?;
    let times = parse_times(runner.remind_at.as_deref()?).ok()?;
    let zone = TimeZone::get(runner.time_zone.as_deref()?).ok()?;
    let local = now.to_zoned_datetime(zone);
    let slot = due_time(&times, local.time())?;
    let key = format!("{} {}", local.date(), slot.strftime("%H:%M"));
    (health.reminded.as_deref() != Some(key.as_str())).then_some(key)
}

/// The rows of the runners with a reminder due at `now`, oldest account first.
pub fn reminders_due(
    rows: &[(RunnerAccount, SyncHealth)],
    now: Timestamp,
) -> Vec<&(RunnerAccount, SyncHealth)> {
    let mut due: Vec<_> = rows
        .iter()
        .filter(|(r, h)| reminder_due(r, h, now).is_some())
        .collect();
    due.sort_by(|(a, _), (b, _)| (a.created, &a.id).cmp(&(b.created, &b.id)));
    due
}

/// Whether a runner's mirror should be synced before their reminder is judged at `now`.
pub fn sync_before_reminder(health: &SyncHealth, now: Timestamp) -> bool {
    health.token_problem.is_none()
        && health
            .last_success
            .is_none_or(|t| now.duration_since(t) > SYNC_BEFORE_REMINDER)
}

/// What the account page shows of a runner's reminders: never a channel itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReminderView {
    /// The reminder times, as the runner wrote them (normalised).
    pub times: String,
    /// Each channel's label (kind, scheme and host).
    pub channels: Vec<String>,
}

/// What became of a runner's reminder time.
#[derive(Clone, Debug, PartialEq)]
pub struct Reminded {
    /// The reminder time (`YYYY-MM-DD HH:MM`, local).
    pub key: String,
    /// Whether it is handled (not to be tried again).
    pub handled: bool,
    /// The use-case's report.
    pub report: RemindReport,
}

impl Site {
    /// Sets a runner's reminders: `times` such as `18:00,21:00` and `channels` such as
    /// `ntfy://ntfy.sh/my-topic` (comma-separated); both empty turns them off. Reminders need the
    /// runner's time zone. The channels are sealed; the answer carries them sealed.
    pub async fn set_reminders(
        &self,
        runner_id: &str,
        times: &str,
        channels: &str,
    ) -> Result<RunnerAccount, SiteError> {
        let mut runner = self.runner(runner_id).await?;
        let parsed_times = parse_times(times).map_err(|_| {
            SiteError::Invalid(
                "reminder times are local times such as 18:00,21:00 (24-hour HH:MM, comma-separated)"
                    .into(),
            )
        })?;
        let parsed_channels = Channel::parse_list(channels)
            .map_err(|e| SiteError::Invalid(format!("reminder channel: {e}")))?;
        if parsed_channels
            .iter()
            .any(|c| matches!(c, Channel::Mail { .. }))
        {
            return Err(SiteError::Invalid(
                "MyRunStreak.com sends reminders to ntfy (ntfy://ntfy.sh/your-topic) or a webhook (https://…), not by mail".into(),
            ));
        }
        match (parsed_times.is_empty(), parsed_channels.is_empty()) {
            (true, true) => {
                runner.remind_at = None;
                runner.reminder_channels = None;
            }
            (false, false) => {
                if runner.time_zone.is_none() {
                    return Err(SiteError::Invalid(
                        "reminders need your time zone: set it in Settings first (e.g. Europe/Berlin), so that 18:00 is your 18:00".into(),
                    ));
                }
                let times = parsed_times
                    .iter()
                    .map(|t| t.strftime("%H:%M").to_string())
                    .collect::<Vec<_>>()
                    .join(",");
                let plain = channels
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .collect::<Vec<_>>()
                    .join(",");
                let sealed = self
                    .sealer
                    .seal(plain.as_bytes(), &reminder_context(&runner.id))
                    .await?;
                runner.remind_at = Some(times);
                runner.reminder_channels = Some(sealed);
            }
            (true, false) => {
                return Err(SiteError::Invalid(
                    "give at least one reminder time, such as 18:00".into(),
                ));
            }
            (false, true) => {
                return Err(SiteError::Invalid(
                    "give where reminders go: an ntfy topic (ntfy://ntfy.sh/your-topic) or a webhook URL".into(),
                ));
            }
        }
        self.book.put_runner(&runner).await?;
        Ok(runner)
    }

    /// Changes a runner's reminder times and keeps their channels (which the account page never
    /// shows, so never sends back).
    pub async fn change_reminder_times(
        &self,
        runner_id: &str,
        times: &str,
    ) -> Result<RunnerAccount, SiteError> {
        let runner = self.runner(runner_id).await?;
        let channels = self.reminder_channels(&runner).await?;
        let channels = channels.as_ref().map_or("", |c| c.expose());
        self.set_reminders(runner_id, times, channels).await
    }

    /// Mutes the runner's reminders through `until` (their day, inclusive), or lifts the mute
    /// (`None`). The mute is kept in their mirror, as in single-runner mode, and changed through
    /// [`crate::site::MirrorHome::write`]; the caller holds the mirror against a sync.
    pub async fn mute_reminders(
        &self,
        runner_id: &str,
        until: Option<Date>,
        now: Timestamp,
    ) -> Result<(), SiteError> {
        let runner = self.runner(runner_id).await?;
        change_mirror(self.mirrors.as_ref(), &runner.id, move |path| {
            Store::open(path, now)?.mute_reminders_until(until)
        })
        .await
        .map_err(|e| match e {
            ChangeError::Change(e) => SiteError::Store(e),
            ChangeError::Mirror(MirrorError::Missing) => SiteError::Invalid(
                "your first sync has not finished yet: mute your reminders once it has".into(),
            ),
            ChangeError::Mirror(e) => e.into(),
        })
    }

    /// Through which day the runner's reminders are muted (`None`: they are not, or there is no
    /// mirror yet), read from their mirror.
    pub async fn reminders_muted_until(&self, runner_id: &str) -> Result<Option<Date>, SiteError> {
        let Some(path) = self.mirrors.readable(runner_id).await? else {
            return Ok(None);
        };
        tokio::task::spawn_blocking(move || Store::open_read_only(&path)?.reminders_muted_until())
            .await
            .map_err(|e| SiteError::Internal(format!("reading the mute: {e}")))?
            .map_err(SiteError::from)
    }

    /// The runner's channels, opened (`None`: no reminders).
    async fn reminder_channels(&self, runner: &RunnerAccount) -> Result<Option<Secret>, SiteError> {
        let Some(sealed) = &runner.reminder_channels else {
            return Ok(None);
        };
        let plain = self
            .sealer
            .open(sealed, &reminder_context(&runner.id))
            .await?;
        let text = String::from_utf8(plain)
            .map_err(|_| SiteError::Internal("sealed reminder channels are not text".into()))?;
        Ok(Some(Secret::new(text)))
    }

    /// What the account page shows of the runner's reminders.
    pub async fn reminder_view(&self, runner: &RunnerAccount) -> Result<ReminderView, SiteError> {
        let channels = match self.reminder_channels(runner).await? {
            Some(text) => Channel::parse_list(text.expose())
                .map_err(|e| SiteError::Internal(format!("stored reminder channels: {e}")))?
                .iter()
                .map(Channel::label)
                .collect(),
            None => Vec::new(),
        };
        Ok(ReminderView {
            times: runner.remind_at.clone().unwrap_or_default(),
            channels,
        })
    }

    /// Seals the runner's reminder channels again under the current key (key rotation).
    pub(super) async fn reseal_reminders(&self, runner: &RunnerAccount) -> Result<bool, SiteError> {
        let Some(sealed) = &runner.reminder_channels else {
            return Ok(false);
        };
        if sealed.key == self.sealer.current_key() {
            return Ok(false);
        }
        let context = reminder_context(&runner.id);
        let plain = self.sealer.open(sealed, &context).await?;
        let mut again = runner.clone();
        again.reminder_channels = Some(self.sealer.seal(&plain, &context).await?);
        self.book.put_runner(&again).await?;
        Ok(true)
    }

    /// The runner's reminder due at `now`, judged from their mirror as it is (sync it first when
    /// [`sync_before_reminder`] says so) and sent to their channels once; its outcome is kept in
    /// their health. `None` when no reminder time of theirs is due, or their first sync has not
    /// made a mirror yet. The mirror is changed in place (the sent reminder is recorded), so the
    /// caller holds it: the scheduler's hold here, the worker's checked-out copy on AWS.
    pub async fn remind_runner(
        &self,
        runner_id: &str,
        now: Timestamp,
        backoff: Backoff,
    ) -> Result<Option<Reminded>, SiteError> {
        let runner = self.runner(runner_id).await?;
        let health = self.book.health(runner_id).await?;
        let Some(key) = reminder_due(&runner, &health, now) else {
            return Ok(None);
        };
        let mut settings = self.runner_settings(&runner)?;
        if !settings.duckdb_path.exists() {
            return Ok(None);
        }
        settings.notify_url = self.reminder_channels(&runner).await?;
        settings.remind_at = parse_times(runner.remind_at.as_deref().unwrap_or_default())
            .map_err(|e| SiteError::Internal(format!("stored reminder times: {e}")))?;
        let wiring = self.wiring_with(&runner, settings)?;
        let report = wiring
            .remind(&RemindOptions {
                now,
                sync_first: false,
                at_due: true,
                backoff,
            })
            .await?;
        let handled = !matches!(
            report.outcome,
            RemindOutcome::Failed { .. } | RemindOutcome::CantVerify
        );
        // read again: a sync may have written the health meanwhile
        let mut health = self.book.health(runner_id).await?;
        if handled {
            health.reminded = Some(key.clone());
        }
        health.reminder_note = Some(format!("{key}: {}", note(&report.outcome)));
        self.book.put_health(runner_id, &health).await?;
        Ok(Some(Reminded {
            key,
            handled,
            report,
        }))
    }
}

/// What became of a reminder time, in the runner's words.
fn note(outcome: &RemindOutcome) -> String {
    match outcome {
        RemindOutcome::Sent {
            delivered, failed, ..
        } if failed.is_empty() => format!("sent to {}", delivered.join(", ")),
        RemindOutcome::Sent {
            delivered, failed, ..
        } => format!(
            "sent to {}; not to {}",
            delivered.join(", "),
            failed
                .iter()
                .map(|f| format!("{} ({})", f.channel, f.error))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        RemindOutcome::Failed { failed, .. } => format!(
            "not delivered ({}); trying again",
            failed
                .iter()
                .map(|f| format!("{}: {}", f.channel, f.error))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        RemindOutcome::AlreadySent { .. } => "sent already".into(),
        RemindOutcome::NotDue => "not due".into(),
        RemindOutcome::Muted { until } => format!("muted through {until}"),
        RemindOutcome::NothingToSend => "not needed: today is done, or there is no streak".into(),
        RemindOutcome::CantVerify => {
            "not sent: your mirror is not fresh enough to tell whether today is done; trying again"
                .into()
        }
        RemindOutcome::NoChannels => "no channels".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::site::Sealed;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn runner(id: &str, zone: Option<&str>, times: Option<&str>) -> RunnerAccount {
        RunnerAccount {
            id: id.into(),
            smashrun_id: 1,
            user_name: None,
            display_name: None,
            created: at("2026-01-01T00:00:00Z"),
            time_zone: zone.map(Into::into),
            rule: None,
            handle: None,
            public: false,
            tokens: None,
            remind_at: times.map(Into::into),
            reminder_channels: Some(Sealed {
                key: "k".into(),
                data: "d".into(),
            }),
        }
    }

    #[test]
    fn a_reminder_time_is_due_in_the_runner_s_zone_once_per_day() {
        let berlin = runner("b", Some("Europe/Berlin"), Some("18:00,21:00"));
        let fresh = SyncHealth::default();
        // 16:30 UTC is 17:30 in Berlin: nothing due yet
        assert_eq!(
            reminder_due(&berlin, &fresh, at("2026-11-30T16:30:00Z")),
            None
        );
        // 17:05 UTC is 18:05 in Berlin
        let key = reminder_due(&berlin, &fresh, at("2026-11-30T17:05:00Z"));
        assert_eq!(key.as_deref(), Some("2026-11-30 18:00"));
        let handled = SyncHealth {
            reminded: key,
            ..SyncHealth::default()
        };
        assert_eq!(
            reminder_due(&berlin, &handled, at("2026-11-30T17:55:00Z")),
            None
        );
        // the next time takes over, handled or not
        assert_eq!(
            reminder_due(&berlin, &handled, at("2026-11-30T20:00:00Z")).as_deref(),
            Some("2026-11-30 21:00")
        );
        // the same instant is still the 29th in New York
        let new_york = runner("n", Some("America/New_York"), Some("18:00,21:00"));
        assert_eq!(
            reminder_due(&new_york, &fresh, at("2026-11-30T02:30:00Z")).as_deref(),
            Some("2026-11-29 21:00")
        );
    }

    #[test]
    fn no_zone_no_times_or_no_channels_is_never_due() {
        let now = at("2026-11-30T22:00:00Z");
        let h = SyncHealth::default();
        assert_eq!(
            reminder_due(&runner("a", None, Some("18:00")), &h, now),
            None
        );
        assert_eq!(reminder_due(&runner("a", Some("UTC"), None), &h, now), None);
        let mut silent = runner("a", Some("UTC"), Some("18:00"));
        silent.reminder_channels = None;
        assert_eq!(reminder_due(&silent, &h, now), None);
        assert!(reminder_due(&runner("a", Some("UTC"), Some("18:00")), &h, now).is_some());
    }

    #[test]
    fn runners_due_come_oldest_first_and_a_stale_mirror_is_synced_first() {
        let now = at("2026-11-30T22:00:00Z");
        let mut young = runner("young", Some("UTC"), Some("18:00"));
        young.created = at("2026-06-01T00:00:00Z");
        let rows = vec![
            (young, SyncHealth::default()),
            (runner("quiet", Some("UTC"), None), SyncHealth::default()),
            (
                runner("old", Some("UTC"), Some("21:30")),
                SyncHealth::default(),
            ),
        ];
        let due: Vec<&str> = reminders_due(&rows, now)
            .into_iter()
            .map(|(r, _)| r.id.as_str())
            .collect();
        assert_eq!(due, ["old", "young"]);
        let synced = |t: &str| SyncHealth {
            last_success: Some(at(t)),
            ..SyncHealth::default()
        };
        assert!(!sync_before_reminder(&synced("2026-11-30T21:50:00Z"), now));
        assert!(sync_before_reminder(&synced("2026-11-30T21:40:00Z"), now));
        let revoked = SyncHealth {
            token_problem: Some("revoked".into()),
            ..synced("2026-11-30T10:00:00Z")
        };
        assert!(!sync_before_reminder(&revoked, now));
    }
}
