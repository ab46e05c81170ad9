//! Keeping every runner in step: a round picks the runners due (never synced first, then the
//! longest waiting), runs their syncs with a global concurrency limit, each within its own
//! token's rate budget (the client's) and all within the app's hourly request budget, and
//! records each outcome in that runner's health. One runner's failing token is recorded and
//! skipped until they sign in again; it never holds up the others. A round ends with the
//! reminders due ([`super::reminders`]).

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use smashrun_client::Event;
use tokio::sync::Semaphore;

use super::{RunnerAccount, Site, SiteError, SyncHealth, reminders};
use crate::remind::RemindOutcome;
use crate::sync::SyncMode;

/// What a round did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Round {
    /// Runners due.
    pub due: usize,
    /// Syncs that finished well.
    pub synced: usize,
    /// Syncs that failed (recorded in each runner's health).
    pub failed: usize,
    /// Runners left for a later round because the app's hourly budget is spent.
    pub deferred: usize,
    /// Runners skipped until they sign in again.
    pub need_sign_in: usize,
    /// Requests sent to SmashRun in this round.
    pub requests: u64,
    /// Runners handed to a queue, to be synced elsewhere (on AWS: one SQS message each).
    pub queued: usize,
    /// Runners with a reminder time due (and not handled yet).
    pub reminders_due: usize,
    /// Reminders sent (to at least one of the runner's channels).
    pub reminders_sent: usize,
    /// Reminder times tried and left to the next round (every channel failed, today could not
    /// be verified, the runner's mirror was busy), or that failed.
    pub reminders_retried: usize,
}

/// Which runners are due at `now` when each is synced `every`, in the order to sync them:
/// runners never synced first (oldest account first), then the longest waiting. Runners whose
/// tokens are gone or refused are not due.
pub fn due_order(
    rows: &[(RunnerAccount, SyncHealth)],
    now: Timestamp,
    every: SignedDuration,
) -> (Vec<String>, usize) {
    let mut need_sign_in = 0;
    let mut due: Vec<(Option<Timestamp>, Timestamp, &str)> = Vec::new();
    for (runner, health) in rows {
        if runner.tokens.is_none() || health.token_problem.is_some() {
            need_sign_in += 1;
            continue;
        }
        match health.last_attempt {
            None => due.push((None, runner.created, &runner.id)),
            Some(t) if now.duration_since(t) >= every => {
                due.push((Some(t), runner.created, &runner.id))
            }
            Some(_) => {}
        }
    }
    due.sort();
    (
        due.into_iter().map(|(_, _, id)| id.to_owned()).collect(),
        need_sign_in,
    )
}

impl Site {
    /// The same site, counting every request its runners' clients send to SmashRun (every
    /// attempt, those of failed syncs included): what the app's budget is charged.
    pub fn counting_requests(self) -> (Site, Arc<AtomicU64>) {
        let sent = Arc::new(AtomicU64::new(0));
        let counter = sent.clone();
        let site = self.with_observer(Arc::new(move |event| {
            if matches!(event, Event::Sent { .. }) {
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }));
        (site, sent)
    }
}

/// The clock hour (UTC) that `at` falls in: the unit of a shared count of the app's requests.
pub fn clock_hour(at: Timestamp) -> Timestamp {
    let seconds = at.as_second();
    Timestamp::from_second(seconds - seconds.rem_euclid(3600)).unwrap_or(at)
}

/// The app's requests in the hour before `now` from two clock hours' counts (the sliding-window
/// counter): this hour's, and the last hour's weighted by the share of it still inside the
/// window, as if its requests had been spread evenly over it.
pub fn sliding_hour(previous: u64, current: u64, now: Timestamp) -> u64 {
    let into = now.duration_since(clock_hour(now)).as_secs_f64() / 3600.0;
    current + (previous as f64 * (1.0 - into)).round() as u64
}

/// How many requests a queued sync is counted for before it runs (an incremental sync takes
/// three at most, a first or weekly full sync two).
pub const REQUESTS_PER_SYNC: u64 = 3;

/// The app's requests over the last hour, all tokens together.
#[derive(Debug, Default)]
struct AppBudget {
    sent: VecDeque<(Timestamp, u64)>,
    /// Of the requests counted as sent, how many are already in `sent`.
    charged: u64,
}

impl AppBudget {
    /// Charges at `now` the requests sent since the last charge (`total` sent in all), those of
    /// failed syncs included.
    fn charge(&mut self, total: u64, now: Timestamp) {
        let new = total.saturating_sub(self.charged);
        self.charged = total.max(self.charged);
        if new > 0 {
            self.sent.push_back((now, new));
        }
    }

    fn used(&mut self, now: Timestamp) -> u64 {
        while let Some((t, _)) = self.sent.front() {
            if now.duration_since(*t) >= SignedDuration::from_hours(1) {
                self.sent.pop_front();
            } else {
                break;
            }
        }
        self.sent.iter().map(|(_, n)| n).sum()
    }
}

/// Runs the site's syncs.
pub struct Scheduler {
    site: Site,
    limit: Arc<Semaphore>,
    budget: Mutex<AppBudget>,
    /// Every SmashRun request any runner's client has sent (told by the site's observer).
    sent: Arc<AtomicU64>,
    in_flight: Holds,
    /// Longest a single sync may take before it is given up (and recorded as failed).
    pub sync_timeout: Duration,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler")
            .field("available", &self.limit.available_permits())
            .finish()
    }
}

/// A runner's mirror held for one operation (a sync, an import, a ledger write, the account's
/// deletion): nothing else that holds it runs meanwhile. Released however the operation ends.
#[derive(Debug)]
pub struct Hold<'a> {
    set: &'a Mutex<HashSet<String>>,
    id: String,
}

impl Drop for Hold<'_> {
    fn drop(&mut self) {
        if let Ok(mut set) = self.set.lock() {
            set.remove(&self.id);
        }
    }
}

/// The runners held in this process (see [`Hold`]).
#[derive(Debug, Default)]
pub struct Holds(Mutex<HashSet<String>>);

impl Holds {
    /// Holds `runner_id`; `None` while something else holds them.
    pub fn hold(&self, runner_id: &str) -> Option<Hold<'_>> {
        let mut set = self.0.lock().ok()?;
        if !set.insert(runner_id.to_owned()) {
            return None;
        }
        Some(Hold {
            set: &self.0,
            id: runner_id.to_owned(),
        })
    }

    /// Whether `runner_id` is held.
    pub fn is_held(&self, runner_id: &str) -> bool {
        self.0
            .lock()
            .map(|s| s.contains(runner_id))
            .unwrap_or(false)
    }
}

/// How the site's pages get runners synced: the embedded site syncs in this process (the
/// [`Scheduler`]); on AWS a sync is a message to the worker's queue, and the page never waits
/// for it.
#[async_trait]
pub trait SyncRequests: Send + Sync {
    /// Asks for a sync of `runner_id` (`mode`, or as the schedule says), without waiting for it.
    /// Asking while a sync of theirs runs is not an error (it is one sync either way).
    async fn request(
        &self,
        runner_id: &str,
        mode: Option<SyncMode>,
        now: Timestamp,
    ) -> Result<(), SiteError>;

    /// Syncs `runner_id` now and answers with the report (`POST /api/v1/sync` of their API);
    /// `None` when that is not done here, or was not done now (already syncing, budget spent).
    /// Only called when [`SyncRequests::syncs_in_request`].
    async fn sync_now(
        &self,
        runner_id: &str,
        now: Timestamp,
    ) -> Option<Result<crate::SyncReport, SiteError>>;

    /// Whether [`SyncRequests::sync_now`] can sync within a request.
    fn syncs_in_request(&self) -> bool;

    /// Whether a sync of `runner_id` is known to run (in this process).
    fn is_syncing(&self, runner_id: &str) -> bool;

    /// Holds `runner_id`'s mirror for one operation in this process; `None` while a sync or
    /// another operation holds it.
    fn hold(&self, runner_id: &str) -> Option<Hold<'_>>;

    /// The operator's round at `now`: every runner whose last sync is `every` old (zero: every
    /// runner who can be synced) is synced, or queued.
    async fn round(&self, now: Timestamp, every: SignedDuration) -> Result<Round, SiteError>;

    /// The app's SmashRun requests in the hour before `now` (`None`: not known here).
    async fn requests_last_hour(&self, _now: Timestamp) -> Option<u64> {
        None
    }
}

/// The embedded site: syncs run in this process, within the scheduler's limits.
#[async_trait]
impl SyncRequests for Arc<Scheduler> {
    async fn request(
        &self,
        runner_id: &str,
        mode: Option<SyncMode>,
        now: Timestamp,
    ) -> Result<(), SiteError> {
        let (scheduler, runner) = (self.clone(), runner_id.to_owned());
        tokio::spawn(async move {
            let _ = scheduler.sync_one(&runner, mode, now).await;
        });
        Ok(())
    }

    async fn sync_now(
        &self,
        runner_id: &str,
        now: Timestamp,
    ) -> Option<Result<crate::SyncReport, SiteError>> {
        self.sync_one(runner_id, Some(SyncMode::Incremental), now)
            .await
    }

    fn syncs_in_request(&self) -> bool {
        true
    }

    fn is_syncing(&self, runner_id: &str) -> bool {
        Scheduler::is_syncing(self, runner_id)
    }

    fn hold(&self, runner_id: &str) -> Option<Hold<'_>> {
        Scheduler::hold(self, runner_id)
    }

    async fn round(&self, now: Timestamp, every: SignedDuration) -> Result<Round, SiteError> {
        self.round_every(now, every).await
    }

    async fn requests_last_hour(&self, now: Timestamp) -> Option<u64> {
        Some(Scheduler::requests_last_hour(self, now))
    }
}

impl Scheduler {
    /// A scheduler for `site`, with its concurrency limit and app budget.
    pub fn new(site: Site) -> Scheduler {
        let permits = site.config().concurrency;
        let (site, sent) = site.counting_requests();
        Scheduler {
            site,
            limit: Arc::new(Semaphore::new(permits)),
            budget: Mutex::default(),
            sent,
            in_flight: Holds::default(),
            sync_timeout: Duration::from_secs(300),
        }
    }

    /// The site.
    pub fn site(&self) -> &Site {
        &self.site
    }

    /// Whether a sync of this runner is running.
    pub fn is_syncing(&self, runner_id: &str) -> bool {
        self.in_flight.is_held(runner_id)
    }

    /// Holds `runner_id`'s mirror for an operation; `None` while a sync or another operation
    /// holds it.
    pub fn hold(&self, runner_id: &str) -> Option<Hold<'_>> {
        self.in_flight.hold(runner_id)
    }

    fn budget_left(&self, now: Timestamp) -> bool {
        self.requests_last_hour(now) < self.site.config().app_requests_per_hour
    }

    /// The app's SmashRun requests in the hour before `now`, all runners together (each charged
    /// when its sync ends, whether it succeeded or not).
    pub fn requests_last_hour(&self, now: Timestamp) -> u64 {
        self.budget
            .lock()
            .map(|mut b| {
                b.charge(self.sent.load(Ordering::Relaxed), now);
                b.used(now)
            })
            .unwrap_or(u64::MAX)
    }

    /// Syncs one runner within the limits (waiting for a free slot); `None` when a sync of
    /// theirs is already running or the app's budget is spent.
    pub async fn sync_one(
        &self,
        runner_id: &str,
        mode: Option<SyncMode>,
        now: Timestamp,
    ) -> Option<Result<crate::SyncReport, SiteError>> {
        let _hold = self.hold(runner_id)?;
        let _permit = self.limit.acquire().await.ok()?;
        if !self.budget_left(now) {
            return None;
        }
        let result = match tokio::time::timeout(
            self.sync_timeout,
            self.site.sync_runner(runner_id, mode, now),
        )
        .await
        {
            Ok(r) => r,
            Err(_) => Err(SiteError::Internal(format!(
                "the sync took longer than {} s and was stopped",
                self.sync_timeout.as_secs()
            ))),
        };
        if let Ok(mut budget) = self.budget.lock() {
            budget.charge(self.sent.load(Ordering::Relaxed), now);
        }
        Some(result)
    }

    /// One round at `now`: every runner due is synced, at most `concurrency` at once.
    pub async fn round(self: &Arc<Self>, now: Timestamp) -> Result<Round, SiteError> {
        self.round_every(now, self.site.config().sync_every).await
    }

    /// A round in which runners are due once their last sync is `every` old (zero: every
    /// runner who can be synced, as the operator's "sync everyone now").
    pub async fn round_every(
        self: &Arc<Self>,
        now: Timestamp,
        every: SignedDuration,
    ) -> Result<Round, SiteError> {
        let rows = self.site.roster().await?;
        let (due, need_sign_in) = due_order(&rows, now, every);
        let mut round = Round {
            due: due.len(),
            need_sign_in,
            ..Round::default()
        };
        let mut tasks = tokio::task::JoinSet::new();
        for id in due {
            let me = self.clone();
            tasks.spawn(async move { me.sync_one(&id, None, now).await });
        }
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(Some(Ok(report))) => {
                    round.synced += 1;
                    round.requests += report.requests;
                }
                Ok(Some(Err(e))) => {
                    round.failed += 1;
                    tracing::warn!(error = %e, "a runner's sync failed");
                }
                Ok(None) => round.deferred += 1,
                Err(e) => {
                    round.failed += 1;
                    tracing::error!(error = %e, "a sync task was lost");
                }
            }
        }
        self.remind(now, &mut round).await?;
        Ok(round)
    }

    /// The reminder pass of a round: each runner with a reminder time due is synced first when
    /// their mirror is older than [`reminders::SYNC_BEFORE_REMINDER`] (within the same limits
    /// as any sync), then judged and reminded while their mirror is held.
    async fn remind(self: &Arc<Self>, now: Timestamp, round: &mut Round) -> Result<(), SiteError> {
        let rows = self.site.roster().await?;
        let due = reminders::reminders_due(&rows, now);
        round.reminders_due = due.len();
        let mut tasks = tokio::task::JoinSet::new();
        for (runner, health) in due {
            let stale = reminders::sync_before_reminder(health, now);
            let id = runner.id.clone();
            let me = self.clone();
            tasks.spawn(async move {
                if stale && let Some(Err(e)) = me.sync_one(&id, None, now).await {
                    tracing::warn!(runner = %id, error = %e, "the sync before a reminder failed");
                }
                let Some(_hold) = me.hold(&id) else {
                    return Ok(None);
                };
                me.site
                    .remind_runner(&id, now, reminders::SITE_BACKOFF)
                    .await
            });
        }
        while let Some(done) = tasks.join_next().await {
            match done {
                Ok(Ok(Some(reminded))) if reminded.handled => {
                    if matches!(reminded.report.outcome, RemindOutcome::Sent { .. }) {
                        round.reminders_sent += 1;
                    }
                }
                Ok(Ok(_)) => round.reminders_retried += 1,
                Ok(Err(e)) => {
                    round.reminders_retried += 1;
                    tracing::warn!(error = %e, "a runner's reminder failed");
                }
                Err(e) => {
                    round.reminders_retried += 1;
                    tracing::error!(error = %e, "a reminder task was lost");
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn runner(id: &str, created: &str, tokens: bool) -> RunnerAccount {
        RunnerAccount {
            id: id.into(),
            smashrun_id: id.len() as i64,
            user_name: None,
            display_name: None,
            created: at(created),
            time_zone: None,
            rule: None,
            handle: None,
            public: false,
            tokens: tokens.then(|| super::super::Sealed {
                key: "k".into(),
                data: "d".into(),
            }),
            remind_at: None,
            reminder_channels: None,
        }
    }

    fn tried(at_: &str) -> SyncHealth {
        SyncHealth {
            last_attempt: Some(at(at_)),
            ..SyncHealth::default()
        }
    }

    #[test]
    fn new_runners_first_then_the_longest_waiting_and_never_a_dead_token() {
        let now = at("2026-11-29T12:00:00Z");
        let rows = vec![
            (
                runner("recent", "2026-01-01T00:00:00Z", true),
                tried("2026-11-29T11:30:00Z"),
            ),
            (
                runner("waited-long", "2026-01-01T00:00:00Z", true),
                tried("2026-11-29T09:00:00Z"),
            ),
            (
                runner("waited", "2026-01-01T00:00:00Z", true),
                tried("2026-11-29T10:00:00Z"),
            ),
            (
                runner("new-later", "2026-11-29T11:00:00Z", true),
                SyncHealth::default(),
            ),
            (
                runner("new-earlier", "2026-11-29T10:00:00Z", true),
                SyncHealth::default(),
            ),
            (
                runner("signed-out", "2026-01-01T00:00:00Z", false),
                SyncHealth::default(),
            ),
            (
                runner("revoked", "2026-01-01T00:00:00Z", true),
                SyncHealth {
                    token_problem: Some("revoked".into()),
                    ..tried("2026-11-28T00:00:00Z")
                },
            ),
        ];
        let (due, need_sign_in) = due_order(&rows, now, SignedDuration::from_hours(1));
        assert_eq!(due, ["new-earlier", "new-later", "waited-long", "waited"]);
        assert_eq!(need_sign_in, 2);
    }

    #[test]
    fn a_shared_count_slides_over_two_clock_hours() {
        assert_eq!(
            clock_hour(at("2026-11-30T02:59:59Z")),
            at("2026-11-30T02:00:00Z")
        );
        assert_eq!(
            clock_hour(at("2026-11-30T03:00:00Z")),
            at("2026-11-30T03:00:00Z")
        );
        // at the top of the hour the last hour counts whole; a quarter in, three quarters of it
        assert_eq!(sliding_hour(400, 0, at("2026-11-30T03:00:00Z")), 400);
        assert_eq!(sliding_hour(400, 50, at("2026-11-30T03:15:00Z")), 350);
        assert_eq!(sliding_hour(400, 50, at("2026-11-30T03:59:59Z")), 50);
    }

    #[test]
    fn the_app_budget_forgets_requests_older_than_an_hour() {
        let mut budget = AppBudget::default();
        budget.sent.push_back((at("2026-11-29T10:00:00Z"), 200));
        budget.sent.push_back((at("2026-11-29T10:50:00Z"), 30));
        assert_eq!(budget.used(at("2026-11-29T10:55:00Z")), 230);
        assert_eq!(budget.used(at("2026-11-29T11:00:00Z")), 30);
    }

    #[test]
    fn the_app_budget_charges_each_request_sent_once_when_it_is_charged() {
        let mut budget = AppBudget::default();
        budget.charge(3, at("2026-11-29T10:00:00Z"));
        // nothing new since: nothing charged twice
        budget.charge(3, at("2026-11-29T10:10:00Z"));
        budget.charge(10, at("2026-11-29T10:20:00Z"));
        assert_eq!(budget.used(at("2026-11-29T10:30:00Z")), 10);
        assert_eq!(
            budget.sent,
            VecDeque::from([
                (at("2026-11-29T10:00:00Z"), 3),
                (at("2026-11-29T10:20:00Z"), 7)
            ])
        );
        assert_eq!(budget.used(at("2026-11-29T11:05:00Z")), 7);
    }
}
