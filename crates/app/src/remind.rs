//! At-risk reminders: when today's verdict is `at_risk`, one message to each channel of
//! `MYRUNSTREAK_NOTIFY_URL`, at most once per (run day, reminder time).
//!
//! The use-case ([`remind`]) is written against two ports: [`ReminderLog`] (what was sent and the
//! mute, kept in the DuckDB file; implemented for the store) and [`Notifier`] (delivery;
//! [`HttpNotifier`] is the real adapter). "Now" comes in as a zoned datetime, and the retry
//! delays as a [`Backoff`], so tests neither read the clock nor sleep for long.
//!
//! Channels (comma-separated in `MYRUNSTREAK_NOTIFY_URL`):
//! - `ntfy://host/topic` (POSTed to `https://host/topic`), `ntfy+http://host:port/topic`, or any
//!   `http(s)://…?format=ntfy`: ntfy's header format (Title, Priority rising as midnight nears,
//!   Tags) with the message as the body;
//! - any other `http(s)://` URL: a POST of `/api/v1/streak`'s JSON plus `message`;
//! - `mailto:`: a plain-text mail through a [`Mailer`] (the AWS adapter sends it with Amazon SES
//!   from `MYRUNSTREAK_MAIL_FROM`); without one it fails with that reason, and is not retried.
//!
//! A URL may hold a secret (an ntfy topic, a webhook token): it is only ever shown through
//! [`Channel::label`] / [`redact_list`], which keep the scheme and host.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use jiff::civil::{Date, Time};
use jiff::{Timestamp, ZonedDateTime};
use myrunstreak_domain::Units;
use myrunstreak_store::{SentReminder, Store, StoreError};
use serde::Serialize;
use thiserror::Error;
use url::Url;

use crate::verdict::{StreakAnswer, Verdict, message};

/// A channel that cannot be used.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ChannelError {
    /// Not a URL at all.
    #[error("{0} is not a URL (use ntfy://host/topic, an http(s) webhook URL, or mailto:)")]
    NotAUrl(String),
    /// A scheme we cannot send to.
    #[error(
        "{0}: unsupported scheme (use ntfy://host/topic, ntfy+http://host/topic, an http(s) URL, or mailto:)"
    )]
    Scheme(String),
}

/// Where a reminder goes.
#[derive(Clone, PartialEq, Eq)]
pub enum Channel {
    /// An ntfy topic URL (http or https), POSTed to in ntfy's header format.
    Ntfy {
        /// The topic's URL.
        url: Url,
    },
    /// A webhook: the streak answer's JSON plus `message`.
    Webhook {
        /// The URL.
        url: Url,
    },
    /// E-mail through Amazon SES (AWS only).
    Mail {
        /// The address.
        to: String,
    },
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label())
    }
}

fn host_label(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port() {
        Some(p) => format!("{}://{host}:{p}/[redacted]", url.scheme()),
        None => format!("{}://{host}/[redacted]", url.scheme()),
    }
}

impl Channel {
    /// Reads one channel.
    pub fn parse(text: &str) -> Result<Channel, ChannelError> {
        let text = text.trim();
        let redacted = || scheme_only(text);
        let lower = text.to_ascii_lowercase();
        if let Some(to) = lower.strip_prefix("mailto:") {
            return Ok(Channel::Mail {
                to: text[text.len() - to.len()..].to_owned(),
            });
        }
        for (prefix, scheme) in [
            ("ntfy+https://", "https"),
            ("ntfy+http://", "http"),
            ("ntfy://", "https"),
        ] {
            if lower.starts_with(prefix) {
                let url = Url::parse(&format!("{scheme}://{}", &text[prefix.len()..]))
                    .map_err(|_| ChannelError::NotAUrl(redacted()))?;
                return Ok(Channel::Ntfy { url });
            }
        }
        let mut url = Url::parse(text).map_err(|_| ChannelError::NotAUrl(redacted()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ChannelError::Scheme(redacted()));
        }
        let ntfy = url
            .query_pairs()
            .any(|(k, v)| k == "format" && v.eq_ignore_ascii_case("ntfy"));
        if !ntfy {
            return Ok(Channel::Webhook { url });
        }
        let rest: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != "format")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if rest.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(rest);
        }
        Ok(Channel::Ntfy { url })
    }

    /// Every channel of a comma-separated list.
    pub fn parse_list(text: &str) -> Result<Vec<Channel>, ChannelError> {
        text.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Channel::parse)
            .collect()
    }

    /// The channel as it may be shown or logged: its kind, scheme and host, nothing more.
    pub fn label(&self) -> String {
        match self {
            Channel::Ntfy { url } => format!("ntfy {}", host_label(url)),
            Channel::Webhook { url } => format!("webhook {}", host_label(url)),
            Channel::Mail { to } => {
                let domain = to.rsplit_once('@').map_or("?", |(_, d)| d);
                format!("mailto:[redacted]@{domain}")
            }
        }
    }
}

/// What can be shown of a channel that does not parse: its scheme.
fn scheme_only(text: &str) -> String {
    match text.split_once("://") {
        Some((scheme, _))
            if scheme.len() < 20
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            format!("{scheme}://[redacted]")
        }
        _ => "[redacted]".into(),
    }
}

fn redact_one(text: &str) -> String {
    Channel::parse(text).map_or_else(|_| scheme_only(text), |c| c.label())
}

/// `MYRUNSTREAK_NOTIFY_URL` as it may be shown: each channel's kind and host, no path or query.
pub fn redact_list(text: &str) -> String {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(redact_one)
        .collect::<Vec<_>>()
        .join(",")
}

/// `MYRUNSTREAK_REMIND_AT`: local times such as `18:00,21:00`, earliest first, without repeats.
pub fn parse_times(text: &str) -> Result<Vec<Time>, jiff::Error> {
    let mut times = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| Time::strptime("%H:%M", s))
        .collect::<Result<Vec<_>, _>>()?;
    times.sort();
    times.dedup();
    Ok(times)
}

/// The latest of `times` that has passed at `local`.
pub fn due_time(times: &[Time], local: Time) -> Option<Time> {
    times.iter().copied().filter(|t| *t <= local).max()
}

/// What `remind` remembers, and the mute (a port: the store implements it).
pub trait ReminderLog {
    /// Whether a reminder for `day` at `slot` was sent.
    fn reminder_sent(&self, day: Date, slot: &str) -> Result<bool, StoreError>;
    /// Remembers a sent reminder.
    fn record_reminder(&self, sent: &SentReminder) -> Result<(), StoreError>;
    /// The last day reminders are muted on.
    fn muted_until(&self) -> Result<Option<Date>, StoreError>;
    /// Mutes through `until`, or unmutes.
    fn mute_until(&self, until: Option<Date>) -> Result<(), StoreError>;
}

impl ReminderLog for Store {
    fn reminder_sent(&self, day: Date, slot: &str) -> Result<bool, StoreError> {
        Store::reminder_sent(self, day, slot)
    }

    fn record_reminder(&self, sent: &SentReminder) -> Result<(), StoreError> {
        Store::record_reminder(self, sent)
    }

    fn muted_until(&self) -> Result<Option<Date>, StoreError> {
        Store::reminders_muted_until(self)
    }

    fn mute_until(&self, until: Option<Date>) -> Result<(), StoreError> {
        Store::mute_reminders_until(self, until)
    }
}

/// One reminder, ready for every channel.
#[derive(Clone, Debug)]
pub struct Notification<'a> {
    /// The one line.
    pub message: String,
    /// A short title.
    pub title: String,
    /// ntfy's priority, 1 to 5: 3 until the last 4 hours, 4 until the last hour, then 5.
    pub priority: u8,
    /// ntfy's tags (emoji names).
    pub tags: Vec<&'static str>,
    /// The streak answer a webhook receives.
    pub answer: &'a StreakAnswer,
}

/// Why a delivery failed.
#[derive(Debug, Error)]
pub enum DeliveryError {
    /// The channel cannot be used here; retrying will not help.
    #[error("{0}")]
    Unsupported(String),
    /// The receiver answered with an error status.
    #[error("the receiver answered HTTP {0}")]
    Status(u16),
    /// The request did not get an answer.
    #[error("the request failed: {0}")]
    Transport(String),
}

impl DeliveryError {
    /// Whether another attempt may succeed (transport failures, 429 and 5xx).
    pub fn retryable(&self) -> bool {
        match self {
            DeliveryError::Unsupported(_) => false,
            DeliveryError::Status(s) => *s == 429 || *s >= 500,
            DeliveryError::Transport(_) => true,
        }
    }
}

/// Delivers a notification to a channel (a port: [`HttpNotifier`] is the real one).
pub trait Notifier: Send + Sync {
    /// One attempt.
    fn deliver(
        &self,
        channel: &Channel,
        notification: &Notification<'_>,
    ) -> impl Future<Output = Result<(), DeliveryError>> + Send;
}

/// One reminder as a plain-text mail.
#[derive(Clone, Copy, Debug)]
pub struct Mail<'a> {
    /// The address of the `mailto:` channel.
    pub to: &'a str,
    /// The notification's title.
    pub subject: &'a str,
    /// The notification's message.
    pub text: &'a str,
}

/// Sends mail (a port: `myrunstreak-aws` sends it through Amazon SES). An error never names the
/// address.
#[async_trait]
pub trait Mailer: Send + Sync {
    /// One attempt.
    async fn send(&self, mail: &Mail<'_>) -> Result<(), DeliveryError>;
}

/// Why a `mailto:` channel fails where no mailer is wired.
pub const MAIL_NEEDS_SES: &str = "mailto: reminders are sent through Amazon SES: set MYRUNSTREAK_MAIL_FROM to a sender address verified in SES (with AWS credentials and AWS_REGION), or use an ntfy or webhook URL";

/// Delivers over HTTP(S) with reqwest, and `mailto:` through the [`Mailer`] it is given (without
/// one, `mailto:` is refused with its reason).
#[derive(Clone)]
pub struct HttpNotifier {
    http: reqwest::Client,
    mailer: Option<Arc<dyn Mailer>>,
}

impl std::fmt::Debug for HttpNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpNotifier")
            .field("mailer", &self.mailer.is_some())
            .finish_non_exhaustive()
    }
}

impl HttpNotifier {
    /// A notifier with its own client (10 s to connect, 30 s per request) and no mailer.
    pub fn new() -> Result<HttpNotifier, DeliveryError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("myrunstreak/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| DeliveryError::Transport(e.to_string()))?;
        Ok(HttpNotifier { http, mailer: None })
    }

    /// `mailto:` channels go through `mailer`.
    pub fn with_mailer(mut self, mailer: Option<Arc<dyn Mailer>>) -> Self {
        self.mailer = mailer;
        self
    }
}

/// What a webhook receives: `/api/v1/streak`'s answer plus `message`.
#[derive(Serialize)]
struct WebhookBody<'a> {
    #[serde(flatten)]
    answer: &'a StreakAnswer,
    message: &'a str,
}

impl Notifier for HttpNotifier {
    async fn deliver(&self, channel: &Channel, n: &Notification<'_>) -> Result<(), DeliveryError> {
        let request = match channel {
            Channel::Mail { to } => {
                let mailer = self
                    .mailer
                    .as_ref()
                    .ok_or_else(|| DeliveryError::Unsupported(MAIL_NEEDS_SES.into()))?;
                let mail = Mail {
                    to,
                    subject: &n.title,
                    text: &n.message,
                };
                return mailer.send(&mail).await;
            }
            Channel::Ntfy { url } => self
                .http
                .post(url.clone())
                .header("Title", &n.title)
                .header("Priority", n.priority.to_string())
                .header("Tags", n.tags.join(","))
                .header("Content-Type", "text/plain; charset=utf-8")
                .body(n.message.clone()),
            Channel::Webhook { url } => self.http.post(url.clone()).json(&WebhookBody {
                answer: n.answer,
                message: &n.message,
            }),
        };
        // never the URL in an error: reqwest's errors name it
        let response = request
            .send()
            .await
            .map_err(|e| DeliveryError::Transport(e.without_url().to_string()))?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(DeliveryError::Status(response.status().as_u16()))
        }
    }
}

/// How failed deliveries are retried: at most `attempts` tries, the waits doubling from `first`
/// up to `max`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    /// Tries in all (at least 1).
    pub attempts: u32,
    /// The first wait.
    pub first: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            attempts: 4,
            first: Duration::from_secs(2),
            max: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    /// The wait after failed try number `try_` (0-based).
    pub fn wait(&self, try_: u32) -> Duration {
        self.first
            .saturating_mul(2u32.saturating_pow(try_))
            .min(self.max)
    }
}

/// Delivers to one channel, retrying what may succeed later.
pub async fn deliver_with_retries(
    notifier: &impl Notifier,
    channel: &Channel,
    n: &Notification<'_>,
    backoff: Backoff,
) -> Result<u32, (u32, DeliveryError)> {
    let mut try_ = 0;
    loop {
        match notifier.deliver(channel, n).await {
            Ok(()) => return Ok(try_ + 1),
            Err(e) if e.retryable() && try_ + 1 < backoff.attempts.max(1) => {
                tracing::warn!(channel = %channel.label(), error = %e, attempt = try_ + 1, "reminder delivery failed; retrying");
                tokio::time::sleep(backoff.wait(try_)).await;
                try_ += 1;
            }
            Err(e) => return Err((try_ + 1, e)),
        }
    }
}

/// What `remind` is asked to do.
#[derive(Clone, Debug)]
pub struct RemindRequest {
    /// Only for a configured time that has passed today and was not sent (`--at-due`).
    pub at_due: bool,
    /// `MYRUNSTREAK_REMIND_AT`.
    pub times: Vec<Time>,
    /// `MYRUNSTREAK_NOTIFY_URL`.
    pub channels: Vec<Channel>,
    /// Retries.
    pub backoff: Backoff,
    /// Units of the message.
    pub units: Units,
}

/// A channel that did not take the reminder.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FailedDelivery {
    /// The channel, redacted.
    pub channel: String,
    /// Why.
    pub error: String,
    /// Tries made.
    pub attempts: u32,
}

/// What `remind` did.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RemindOutcome {
    /// Sent (to at least one channel).
    Sent {
        /// The reminder time it was for (`HH:MM`, or `any`).
        slot: String,
        /// The channels that took it, redacted.
        delivered: Vec<String>,
        /// The channels that did not.
        failed: Vec<FailedDelivery>,
    },
    /// Every channel failed; nothing is remembered, so the next call tries again.
    Failed {
        /// The reminder time.
        slot: String,
        /// Every channel's failure.
        failed: Vec<FailedDelivery>,
    },
    /// This reminder time was already sent today.
    AlreadySent {
        /// The reminder time.
        slot: String,
    },
    /// `--at-due`, and no configured time has passed yet today.
    NotDue,
    /// Muted through this day.
    Muted {
        /// The last muted day.
        until: Date,
    },
    /// Today is done, or there is no streak to lose.
    NothingToSend,
    /// The verdict is `cant_verify`: nothing is sent on a guess.
    CantVerify,
    /// At risk, but `MYRUNSTREAK_NOTIFY_URL` is not set.
    NoChannels,
}

/// `remind`'s report: the day, the verdict, the message and what was done with it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RemindReport {
    /// The run day judged.
    pub day: Date,
    /// Today, judged.
    pub today: Verdict,
    /// The line a runner reads (sent only when at risk).
    pub message: String,
    /// What was done.
    #[serde(flatten)]
    pub outcome: RemindOutcome,
}

/// The title and ntfy priority for `time_left_s` before midnight.
fn urgency(time_left_s: i64) -> (String, u8, Vec<&'static str>) {
    let left = crate::verdict::hours_minutes(time_left_s);
    let title = format!("Streak at risk: {left} left");
    match time_left_s {
        s if s <= 3600 => (title, 5, vec!["rotating_light", "running"]),
        s if s <= 4 * 3600 => (title, 4, vec!["warning", "running"]),
        _ => (title, 3, vec!["running"]),
    }
}

/// Judges whether to remind, sends once to every channel, and remembers it. `local_now` is "now"
/// in the runner's zone; `answer` the streak answer as of then.
///
/// The log is borrowed mutably (though only read and appended to) so that the future is `Send`
/// when the log is: a DuckDB connection may move between threads but not be shared, and the
/// Lambda runtime needs a `Send` future.
pub async fn remind(
    log: &mut (impl ReminderLog + Send),
    notifier: &impl Notifier,
    answer: &StreakAnswer,
    local_now: &ZonedDateTime,
    request: &RemindRequest,
) -> Result<RemindReport, StoreError> {
    let day = answer.streak.as_of;
    let text = message(answer, request.units);
    let report = |outcome| RemindReport {
        day,
        today: answer.today.clone(),
        message: text.clone(),
        outcome,
    };
    let time_left_s = match &answer.today {
        Verdict::AtRisk { time_left_s, .. } => *time_left_s,
        Verdict::CantVerify { .. } => return Ok(report(RemindOutcome::CantVerify)),
        Verdict::Done | Verdict::NoStreak => return Ok(report(RemindOutcome::NothingToSend)),
    };
    if let Some(until) = log.muted_until()?
        && day <= until
    {
        return Ok(report(RemindOutcome::Muted { until }));
    }
    let slot = match (due_time(&request.times, local_now.time()), request.at_due) {
        (Some(t), _) => t.strftime("%H:%M").to_string(),
        (None, true) => return Ok(report(RemindOutcome::NotDue)),
        (None, false) => "any".to_owned(),
    };
    if log.reminder_sent(day, &slot)? {
        return Ok(report(RemindOutcome::AlreadySent { slot }));
    }
    if request.channels.is_empty() {
        return Ok(report(RemindOutcome::NoChannels));
    }
    let (title, priority, tags) = urgency(time_left_s);
    let n = Notification {
        message: text.clone(),
        title,
        priority,
        tags,
        answer,
    };
    let mut delivered = Vec::new();
    let mut failed = Vec::new();
    for channel in &request.channels {
        match deliver_with_retries(notifier, channel, &n, request.backoff).await {
            Ok(_) => delivered.push(channel.label()),
            Err((attempts, e)) => {
                tracing::warn!(channel = %channel.label(), error = %e, attempts, "reminder not delivered");
                failed.push(FailedDelivery {
                    channel: channel.label(),
                    error: e.to_string(),
                    attempts,
                });
            }
        }
    }
    if delivered.is_empty() {
        return Ok(report(RemindOutcome::Failed { slot, failed }));
    }
    log.record_reminder(&SentReminder {
        day,
        slot: slot.clone(),
        sent: local_now.timestamp(),
        channels: delivered.len() as u32,
        message: text.clone(),
    })?;
    Ok(report(RemindOutcome::Sent {
        slot,
        delivered,
        failed,
    }))
}

/// When a reminder time falls today, as an instant (for a scheduler); `None` in a gap.
pub fn at_local(day: Date, time: Time, zone: &jiff::tz::TimeZone) -> Option<Timestamp> {
    day.to_datetime(time)
        .to_zoned_datetime(zone.clone())
        .ok()
        .map(|z| z.timestamp())
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU32, Ordering};

    use jiff::civil::{date, time};
    use jiff::tz::TimeZone;

    use super::*;
    use crate::queries::{CurrentStreakJson, StreakJson, StreakResponse};
    use crate::verdict::Need;
    use myrunstreak_domain::{Milestones, Rule, StreakStatus};

    #[derive(Default)]
    struct MemLog {
        sent: RefCell<Vec<SentReminder>>,
        mute: RefCell<Option<Date>>,
    }

    impl ReminderLog for MemLog {
        fn reminder_sent(&self, day: Date, slot: &str) -> Result<bool, StoreError> {
            Ok(self
                .sent
                .borrow()
                .iter()
                .any(|s| s.day == day && s.slot == slot))
        }
        fn record_reminder(&self, sent: &SentReminder) -> Result<(), StoreError> {
            self.sent.borrow_mut().push(sent.clone());
            Ok(())
        }
        fn muted_until(&self) -> Result<Option<Date>, StoreError> {
            Ok(*self.mute.borrow())
        }
        fn mute_until(&self, until: Option<Date>) -> Result<(), StoreError> {
            *self.mute.borrow_mut() = until;
            Ok(())
        }
    }

    /// Fails the first `fail_first` attempts with a 503, then takes everything.
    #[derive(Default)]
    struct FlakyNotifier {
        fail_first: u32,
        attempts: AtomicU32,
        got: Mutex<Vec<(String, String, u8)>>,
    }

    impl Notifier for FlakyNotifier {
        async fn deliver(&self, c: &Channel, n: &Notification<'_>) -> Result<(), DeliveryError> {
            if let Channel::Mail { .. } = c {
                return Err(DeliveryError::Unsupported("AWS only".into()));
            }
            let attempt = self.attempts.fetch_add(1, Ordering::SeqCst);
            if attempt < self.fail_first {
                return Err(DeliveryError::Status(503));
            }
            self.got
                .lock()
                .unwrap()
                .push((c.label(), n.message.clone(), n.priority));
            Ok(())
        }
    }

    fn at_risk_answer(time_left_s: i64) -> StreakAnswer {
        StreakAnswer {
            streak: StreakResponse {
                current: CurrentStreakJson {
                    days: 1234,
                    start: Some(date(2023, 1, 1)),
                    end: Some(date(2026, 5, 3)),
                    status: StreakStatus::AtRisk,
                    remaining_km: Some(1.609344),
                    remaining_mi: Some(1.0),
                    remaining_s: None,
                    needs_any_run: false,
                    time_left_s,
                    today_km: 0.0,
                    milestones: Milestones::for_days(1234),
                    override_days: Vec::new(),
                },
                longest: StreakJson {
                    days: 1234,
                    start: None,
                    end: None,
                    distance_km: 0.0,
                    runs: 0,
                    override_days: Vec::new(),
                },
                rule: Rule::Usrsa,
                as_of: date(2026, 5, 4),
                timezone: "America/New_York".into(),
                qualifying_days: 1234,
                streak_count: 1,
            },
            today: Verdict::AtRisk {
                need: Need::Distance {
                    done_km: 0.0,
                    required_km: 1.609344,
                    remaining_km: 1.609344,
                },
                time_left_s,
            },
            last_sync: None,
        }
    }

    fn local(h: i8, m: i8) -> ZonedDateTime {
        date(2026, 5, 4)
            .at(h, m, 0, 0)
            .to_zoned_datetime(TimeZone::get("America/New_York").unwrap())
            .unwrap()
    }

    fn request(at_due: bool) -> RemindRequest {
        RemindRequest {
            at_due,
            times: parse_times("21:00,18:00").unwrap(),
            channels: Channel::parse_list("ntfy://ntfy.example/topic-s3cret").unwrap(),
            backoff: Backoff {
                attempts: 3,
                first: Duration::from_millis(1),
                max: Duration::from_millis(2),
            },
            units: Units::Imperial,
        }
    }

    #[test]
    fn channels_parse_and_never_show_their_secret() {
        let cs = Channel::parse_list(
            "ntfy://ntfy.sh/t0pic, ntfy+http://127.0.0.1:9/t0pic, https://h.example/x?format=ntfy&auth=tk, https://hooks.example/t0k?x=1, mailto:sam@example.com",
        )
        .unwrap();
        let urls: Vec<String> = cs
            .iter()
            .map(|c| match c {
                Channel::Ntfy { url } | Channel::Webhook { url } => url.to_string(),
                Channel::Mail { to } => to.clone(),
            })
            .collect();
        assert_eq!(
            urls,
            [
                "https://ntfy.sh/t0pic",
                "http://127.0.0.1:9/t0pic",
                "https://h.example/x?auth=tk",
                "https://hooks.example/t0k?x=1",
                "sam@example.com"
            ]
        );
        assert!(matches!(cs[2], Channel::Ntfy { .. }) && matches!(cs[3], Channel::Webhook { .. }));
        let shown = format!(
            "{cs:?} {}",
            redact_list("ntfy://ntfy.sh/t0pic,https://hooks.example/t0k,ftp://x/t0k")
        );
        assert!(
            !shown.contains("t0") && !shown.contains("tk") && !shown.contains("sam@"),
            "{shown}"
        );
        assert!(Channel::parse("ftp://x/y").is_err() && Channel::parse("nonsense").is_err());
    }

    #[test]
    fn due_times_are_the_latest_passed() {
        let times = parse_times("21:00, 18:00").unwrap();
        assert_eq!(due_time(&times, time(17, 59, 0, 0)), None);
        assert_eq!(due_time(&times, time(18, 0, 0, 0)), Some(time(18, 0, 0, 0)));
        assert_eq!(
            due_time(&times, time(23, 10, 0, 0)),
            Some(time(21, 0, 0, 0))
        );
        assert!(parse_times("7pm").is_err());
    }

    #[tokio::test]
    async fn one_message_per_day_and_slot_retried_through_failures() {
        let mut log = MemLog::default();
        let notifier = FlakyNotifier {
            fail_first: 2,
            ..FlakyNotifier::default()
        };
        let answer = at_risk_answer(3 * 3600 + 40 * 60);
        let r = remind(&mut log, &notifier, &answer, &local(20, 20), &request(true))
            .await
            .unwrap();
        assert!(
            matches!(&r.outcome, RemindOutcome::Sent { slot, delivered, failed } if slot == "18:00" && delivered.len() == 1 && failed.is_empty()),
            "{r:?}"
        );
        assert_eq!(
            notifier.attempts.load(Ordering::SeqCst),
            3,
            "two 503s, then taken"
        );
        let got = notifier.got.lock().unwrap().clone();
        assert_eq!(
            got,
            vec![(
                "ntfy https://ntfy.example/[redacted]".to_owned(),
                "Streak 1,234 days: today not run yet, 0.0 of 1.0 mi, 3 h 40 min left".to_owned(),
                4
            )]
        );
        // the same slot again: nothing; the next slot: one more
        let again = remind(&mut log, &notifier, &answer, &local(20, 35), &request(true))
            .await
            .unwrap();
        assert_eq!(
            again.outcome,
            RemindOutcome::AlreadySent {
                slot: "18:00".into()
            }
        );
        let late = remind(
            &mut log,
            &notifier,
            &at_risk_answer(1800),
            &local(23, 30),
            &request(true),
        )
        .await
        .unwrap();
        assert!(matches!(late.outcome, RemindOutcome::Sent { .. }));
        assert_eq!(
            notifier.got.lock().unwrap().last().unwrap().2,
            5,
            "priority rises"
        );
        // before the first time, --at-due has nothing due
        let early = remind(&mut log, &notifier, &answer, &local(9, 0), &request(true))
            .await
            .unwrap();
        assert_eq!(early.outcome, RemindOutcome::NotDue);
    }

    #[tokio::test]
    async fn muted_done_and_undeliverable_days_send_nothing_or_remember_nothing() {
        let mut log = MemLog::default();
        let notifier = FlakyNotifier::default();
        log.mute_until(Some(date(2026, 5, 4))).unwrap();
        let answer = at_risk_answer(3600 * 3);
        let r = remind(&mut log, &notifier, &answer, &local(20, 0), &request(false))
            .await
            .unwrap();
        assert_eq!(
            r.outcome,
            RemindOutcome::Muted {
                until: date(2026, 5, 4)
            }
        );
        log.mute_until(None).unwrap();

        let mut done = answer.clone();
        done.today = Verdict::Done;
        let r = remind(&mut log, &notifier, &done, &local(20, 0), &request(false))
            .await
            .unwrap();
        assert_eq!(r.outcome, RemindOutcome::NothingToSend);

        let mut mail = request(false);
        mail.channels = Channel::parse_list("mailto:sam@example.com").unwrap();
        let r = remind(&mut log, &notifier, &answer, &local(20, 0), &mail)
            .await
            .unwrap();
        assert!(
            matches!(&r.outcome, RemindOutcome::Failed { failed, .. } if failed[0].error.contains("AWS") && failed[0].attempts == 1),
            "{r:?}"
        );
        assert!(
            log.sent.borrow().is_empty(),
            "a failed reminder is not remembered"
        );
        assert!(notifier.got.lock().unwrap().is_empty());
    }
}
