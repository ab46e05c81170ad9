//! The many-runner site's engines on AWS: the **fan-out** (an EventBridge Scheduler schedule →
//! the runners due, by the application's `due_order` → one SQS message each) and the
//! **worker** (SQS → for each message, that runner's own DuckDB object checked out of S3,
//! synced by `Site::sync_runner`, uploaded only if the object still has the ETag it was read
//! with). The worker answers with a partial batch failure (`batchItemFailures`), so one
//! runner's failure is retried alone and never fails the others; its reserved concurrency is
//! the site's global limit on syncs at once.
//!
//! What a message comes to:
//! - synced and uploaded: done;
//! - a `remind` message: synced first when the runner's mirror is older than 15 minutes (a failed
//!   sync does not stop the reminder, which then says the day cannot be verified), the reminder
//!   judged and sent by `Site::remind_runner`, the object uploaded; a reminder time already
//!   handled (a duplicate message) sends nothing;
//! - the runner is gone (deleted meanwhile): dropped, and nothing of theirs is written again (an
//!   upload that raced the deletion is removed after it);
//! - already synced since the message was sent (a duplicate queued while the workers were
//!   busy): dropped;
//! - SmashRun refused the runner's sign-in: recorded in their health (the fan-out leaves them
//!   alone until they sign in again) and dropped, since a retry cannot help; so is a message for
//!   a runner without tokens;
//! - anything else (SmashRun or AWS failing, a lost race for the object, a message that is not
//!   a runner job): reported as failed, so SQS retries it and, after `maxReceiveCount` tries,
//!   moves it to the dead-letter queue, whose alarm calls the operator.
//!
//! Each runner's object is `runners/{runner id}/runs.duckdb`: one unit per tenant, and the IAM
//! policy lets the worker reach nothing else of the bucket.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, anyhow, bail};
use jiff::{SignedDuration, Timestamp};
use myrunstreak_app::Settings;
use myrunstreak_app::SyncMode;
use myrunstreak_app::site::reminders::{SITE_BACKOFF, reminders_due, sync_before_reminder};
use myrunstreak_app::site::schedule::{REQUESTS_PER_SYNC, due_order};
use myrunstreak_app::site::{AccountBook, Site, SiteError, SiteSettings, SyncHealth};
use myrunstreak_aws::{
    AwsOptions, DatabaseObject, DynamoAccounts, KmsSealer, RunnerJob, RunnerQueue, S3Client,
    S3Error, SdkConfig, delete_runner_objects, dynamodb_client, kms_client,
    load_client_credentials, plausible_runner_id, s3_client, sdk_config, secrets_client,
    sqs_client,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use myrunstreak_aws::{runner_key, runner_prefix};

/// What the site's functions need, read once from the function's environment.
#[derive(Clone, Debug)]
pub struct SiteDeps {
    /// The app's settings (SmashRun's URLs, the bucket, the client secret's id, defaults).
    pub settings: Settings,
    /// The site's settings (`MYRUNSTREAK_SITE_SYNC_EVERY_MINUTES`, ...).
    pub site: SiteSettings,
    /// Where AWS is.
    pub aws: AwsOptions,
    /// `MYRUNSTREAK_ACCOUNTS_TABLE`: the DynamoDB table of the accounts.
    pub accounts_table: Option<String>,
    /// `MYRUNSTREAK_RUNNER_QUEUE_URL`: the SQS queue of runners to sync.
    pub runner_queue_url: Option<String>,
    /// `MYRUNSTREAK_KMS_KEY_ID`: the KMS key that seals the runners' tokens.
    pub kms_key_id: Option<String>,
    /// `MYRUNSTREAK_WORK_DIR`: scratch space (`/tmp/myrunstreak` by default).
    pub work_dir: PathBuf,
    /// `MYRUNSTREAK_MIRROR_CHECK_SECONDS`: how often the web function checks a cached mirror
    /// against S3 (default 30 s; 0: on every request).
    pub mirror_check_every: Duration,
    /// `MYRUNSTREAK_MIRROR_COPIES`: how many runners' mirrors the web function keeps in its
    /// work folder (default 50; the least recently read are deleted first).
    pub mirror_copies: usize,
    /// `MYRUNSTREAK_ADMIN_TOKEN_SECRET_ID`: the secret (field `admin_token`) with the
    /// operator's bearer token for `/admin`, read at cold start (unset: no `/admin`, unless
    /// `MYRUNSTREAK_ADMIN_TOKEN` is set).
    pub admin_token_secret_id: Option<String>,
}

impl SiteDeps {
    /// From the function's environment `vars` (the binary reads it once, at cold start).
    pub fn from_vars(vars: &BTreeMap<String, String>) -> Result<SiteDeps> {
        let get = |name: &str| {
            vars.get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let settings = Settings::from_vars(vars)?;
        let site = SiteSettings::from_vars(vars)?;
        let aws = AwsOptions {
            region: settings.aws_region.clone(),
            endpoint_url: settings.aws_endpoint_url.clone(),
            static_credentials: None,
        };
        let number = |name: &str, default: u64| -> Result<u64> {
            get(name).map_or(Ok(default), |v| {
                v.parse()
                    .map_err(|_| anyhow!("{name}={v} is not a whole number"))
            })
        };
        Ok(SiteDeps {
            settings,
            site,
            aws,
            accounts_table: get("MYRUNSTREAK_ACCOUNTS_TABLE"),
            runner_queue_url: get("MYRUNSTREAK_RUNNER_QUEUE_URL"),
            kms_key_id: get("MYRUNSTREAK_KMS_KEY_ID"),
            work_dir: get("MYRUNSTREAK_WORK_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/tmp/myrunstreak")),
            mirror_check_every: Duration::from_secs(number(
                "MYRUNSTREAK_MIRROR_CHECK_SECONDS",
                30,
            )?),
            mirror_copies: number("MYRUNSTREAK_MIRROR_COPIES", 50)?.max(1) as usize,
            admin_token_secret_id: get("MYRUNSTREAK_ADMIN_TOKEN_SECRET_ID"),
        })
    }

    pub(crate) fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str> {
        value.as_deref().ok_or_else(|| {
            anyhow!("{name} is not set (Terraform sets it: deploy/terraform/site.tf)")
        })
    }

    /// The site over the accounts in DynamoDB and tokens sealed by KMS, with the app's SmashRun
    /// credentials from Secrets Manager; its data folder is `data_dir` (the mirrors are there
    /// until [`Site::with_mirrors`] says otherwise).
    pub(crate) async fn site(&self, config: &SdkConfig, data_dir: PathBuf) -> Result<Site> {
        let table = SiteDeps::required(&self.accounts_table, "MYRUNSTREAK_ACCOUNTS_TABLE")?;
        let key = SiteDeps::required(&self.kms_key_id, "MYRUNSTREAK_KMS_KEY_ID")?;
        let credentials =
            load_client_credentials(&secrets_client(config), &self.settings.client_secret_id)
                .await?;
        let mut settings = self.settings.clone();
        settings.client_id = credentials.client_id;
        settings.client_secret = credentials.client_secret;
        let mut site_settings = self.site.clone();
        site_settings.data_dir = data_dir;
        Ok(Site::new(
            settings,
            site_settings,
            Arc::new(DynamoAccounts::new(dynamodb_client(config), table)),
            Arc::new(KmsSealer::new(kms_client(config), key)),
        )?)
    }
}

/// What a fan-out did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FanOutSummary {
    /// Runners of the site.
    pub runners: usize,
    /// Runners due now.
    pub due: usize,
    /// Messages SQS took.
    pub enqueued: usize,
    /// Runners due whose message SQS did not take.
    pub failed: usize,
    /// Runners left alone until they sign in again.
    pub need_sign_in: usize,
    /// Runners with a reminder due (their messages say `remind`).
    pub reminders: usize,
    /// Runners due but left for a later fan-out: the app's hourly budget had no room for them.
    pub deferred: usize,
}

/// The fan-out: who is due, one message each, within the app's hourly request budget.
pub struct FanOut {
    book: Arc<dyn AccountBook>,
    queue: RunnerQueue,
    every: SignedDuration,
    budget: Option<u64>,
}

impl std::fmt::Debug for FanOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FanOut")
            .field("queue", &self.queue.url())
            .field("every", &self.every)
            .finish()
    }
}

impl FanOut {
    /// The fan-out over `book`, sending to `queue`, each runner synced `every`.
    pub fn new(book: Arc<dyn AccountBook>, queue: RunnerQueue, every: SignedDuration) -> FanOut {
        FanOut {
            book,
            queue,
            every,
            budget: None,
        }
    }

    /// The same fan-out, enqueueing no more than the app's budget of `per_hour` requests has
    /// room for: the requests the workers charged to the book over the last hour, and
    /// [`REQUESTS_PER_SYNC`] for each message. The rest wait for a later fan-out (reminders
    /// first, then syncs in their fair order).
    pub fn with_budget(mut self, per_hour: u64) -> FanOut {
        self.budget = Some(per_hour);
        self
    }

    /// The app's requests in the last hour, as the workers charged them.
    pub async fn app_requests(&self, now: Timestamp) -> Result<Option<u64>, SiteError> {
        self.book.app_requests(now).await
    }

    /// The fan-out the settings describe (the accounts table and the queue).
    pub async fn from_deps(deps: &SiteDeps) -> Result<FanOut> {
        let config = sdk_config(&deps.aws).await;
        let table = SiteDeps::required(&deps.accounts_table, "MYRUNSTREAK_ACCOUNTS_TABLE")?;
        let queue = SiteDeps::required(&deps.runner_queue_url, "MYRUNSTREAK_RUNNER_QUEUE_URL")?;
        Ok(FanOut::new(
            Arc::new(DynamoAccounts::new(dynamodb_client(&config), table)),
            RunnerQueue::new(sqs_client(&config), queue),
            deps.site.sync_every,
        )
        .with_budget(deps.site.app_requests_per_hour))
    }

    /// Every runner with their health, the ones due at `now` (the application's fair order:
    /// never synced first, then the longest waiting; a dead token is never due), one message
    /// each.
    pub async fn run(&self, now: Timestamp) -> Result<FanOutSummary, SiteError> {
        self.run_every(now, self.every).await
    }

    /// [`FanOut::run`] with runners due once their last sync is `every` old (zero: every
    /// runner who can be synced, the operator's "sync everyone now").
    pub async fn run_every(
        &self,
        now: Timestamp,
        every: SignedDuration,
    ) -> Result<FanOutSummary, SiteError> {
        let rows = self.book.roster().await?;
        let (due, need_sign_in) = due_order(&rows, now, every);
        // a runner with a reminder due gets one message, which syncs them first if need be
        let reminders: Vec<String> = reminders_due(&rows, now)
            .into_iter()
            .map(|(runner, _)| runner.id.clone())
            .collect();
        let syncs = due.iter().filter(|id| !reminders.contains(id));
        let mut jobs: Vec<_> = reminders
            .iter()
            .map(|id| (id, true))
            .chain(syncs.map(|id| (id, false)))
            .map(|(id, remind)| RunnerJob {
                runner_id: id.clone(),
                full: false,
                remind,
            })
            .collect();
        let due = jobs.len();
        if let Some(per_hour) = self.budget {
            let used = self.book.app_requests(now).await?.unwrap_or(0);
            let room = per_hour.saturating_sub(used) / REQUESTS_PER_SYNC;
            jobs.truncate(usize::try_from(room).unwrap_or(usize::MAX));
            if jobs.len() < due {
                tracing::warn!(
                    used,
                    per_hour,
                    deferred = due - jobs.len(),
                    "the app's hourly request budget is nearly spent: runners wait for a later fan-out"
                );
            }
        }
        let sent = self.queue.send(&jobs).await;
        for failed in &sent.failed {
            tracing::error!(runner = %failed.runner_id, code = %failed.code, "SQS did not take a runner's message");
        }
        Ok(FanOutSummary {
            runners: rows.len(),
            due,
            deferred: due - jobs.len(),
            reminders: reminders.len(),
            enqueued: sent.sent,
            failed: sent.failed.len(),
            need_sign_in,
        })
    }
}

/// The fan-out function's handler: any event (the schedule's) runs one fan-out. A message SQS
/// did not take makes the invocation an error, so the schedule retries and the alarm fires (a
/// runner enqueued twice is synced once: the worker drops the duplicate).
pub async fn handle_fanout(
    fanout: &FanOut,
    event: lambda_runtime::LambdaEvent<Value>,
) -> Result<Value, lambda_runtime::Error> {
    let request_id = event.context.request_id.clone();
    let summary = fanout.run(Timestamp::now()).await.map_err(|e| {
        tracing::error!(request_id = %request_id, "fan-out failed: {e}");
        lambda_runtime::Error::from(format!("fan-out failed: {e}"))
    })?;
    let answer = json!(summary);
    tracing::info!(request_id = %request_id, summary = %answer, "fan-out done");
    if summary.failed > 0 {
        return Err(format!(
            "{} of {} runners due could not be enqueued: {answer}",
            summary.failed, summary.due
        )
        .into());
    }
    Ok(answer)
}

/// What became of one message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Synced and uploaded.
    Synced {
        /// Runs in their mirror now.
        total_runs: u64,
        /// Requests sent to SmashRun.
        requests: u64,
    },
    /// The runner was deleted meanwhile: nothing of theirs was written.
    Gone,
    /// A sync finished well after the message was sent: nothing left to do.
    AlreadySynced,
    /// SmashRun refused the runner's sign-in (recorded in their health), or they have no
    /// tokens: not retried, nothing to do until they sign in again.
    NeedsSignIn,
    /// A reminder job: the runner's reminder time was judged (after a sync when their mirror
    /// was not fresh), and what became of it is in their health.
    Reminded {
        /// The reminder time (`YYYY-MM-DD HH:MM`, local).
        key: String,
        /// Whether it is handled; if not, the next fan-out tries again.
        handled: bool,
        /// Whether the runner was synced first.
        synced: bool,
    },
    /// A reminder job with no reminder due any more (handled by an earlier message).
    NothingDue,
}

/// One record of SQS's event for Lambda (the fields the worker reads).
#[derive(Debug, Deserialize)]
struct SqsRecord {
    #[serde(rename = "messageId")]
    message_id: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    attributes: HashMap<String, Value>,
}

#[derive(Debug, Deserialize)]
struct SqsEvent {
    #[serde(rename = "Records")]
    records: Vec<SqsRecord>,
}

impl SqsRecord {
    /// When SQS took the message (`SentTimestamp`, epoch milliseconds).
    fn sent(&self) -> Option<Timestamp> {
        let millis = match self.attributes.get("SentTimestamp")? {
            Value::String(text) => text.parse::<i64>().ok()?,
            Value::Number(number) => number.as_i64()?,
            _ => return None,
        };
        Timestamp::from_millisecond(millis).ok()
    }
}

/// What a worker invocation did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BatchReport {
    /// Each message's id with its outcome, or the error it failed with.
    pub outcomes: Vec<(String, Result<Outcome, String>)>,
}

impl BatchReport {
    /// The ids of the messages that failed (to be retried).
    pub fn failed(&self) -> Vec<&str> {
        self.outcomes
            .iter()
            .filter(|(_, o)| o.is_err())
            .map(|(id, _)| id.as_str())
            .collect()
    }

    /// Lambda's partial batch response: `{"batchItemFailures": [{"itemIdentifier": id}]}`.
    pub fn response(&self) -> Value {
        let failures: Vec<Value> = self
            .failed()
            .into_iter()
            .map(|id| json!({ "itemIdentifier": id }))
            .collect();
        json!({ "batchItemFailures": failures })
    }
}

/// Removes a folder however its work ends.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn clear(folder: &Path) -> Result<()> {
    match std::fs::remove_dir_all(folder) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("clearing {}", folder.display())),
    }
    std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))
}

/// The worker: one runner per message, each into their own object.
pub struct Worker {
    site: Site,
    s3: S3Client,
    bucket: String,
    /// Requests the runners' clients sent, and how many of them the book was charged.
    sent: Arc<AtomicU64>,
    charged: AtomicU64,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("bucket", &self.bucket)
            .field("scratch", &self.site.config().data_dir)
            .finish()
    }
}

/// Time kept back at the end of an invocation: a record is not started with less than this
/// left, and a sync is stopped this long before Lambda's deadline, so that the answer (with
/// what failed) always gets out.
const MARGIN: Duration = Duration::from_secs(20);

impl Worker {
    /// The worker over `site` (whose data folder is its scratch space: each runner's mirror
    /// is checked out at `site.mirror_path(id)` for the time of their sync), with the bucket
    /// of the runners' objects.
    pub fn new(site: Site, s3: S3Client, bucket: impl Into<String>) -> Worker {
        let (site, sent) = site.counting_requests();
        Worker {
            site,
            s3,
            bucket: bucket.into(),
            sent,
            charged: AtomicU64::new(0),
        }
    }

    /// Charges the app's shared count with the requests sent since the last charge (a failed
    /// sync's too). A count that cannot be written is logged: the sync itself went well.
    async fn charge(&self, now: Timestamp) {
        let total = self.sent.load(Ordering::Relaxed);
        let before = self.charged.swap(total, Ordering::Relaxed);
        let requests = total.saturating_sub(before);
        if let Err(e) = self.book().charge_app(now, requests).await {
            tracing::warn!(requests, error = %e, "the app's request count was not charged");
        }
    }

    /// The worker the settings describe: the accounts in DynamoDB, tokens sealed by KMS, the
    /// app's SmashRun credentials from Secrets Manager, the bucket.
    pub async fn from_deps(deps: &SiteDeps) -> Result<Worker> {
        let config = sdk_config(&deps.aws).await;
        let bucket = SiteDeps::required(&deps.settings.s3_bucket, "MYRUNSTREAK_S3_BUCKET")?;
        let site = deps.site(&config, deps.work_dir.join("site")).await?;
        Ok(Worker::new(site, s3_client(&config, &deps.aws), bucket))
    }

    fn book(&self) -> &Arc<dyn AccountBook> {
        self.site.book()
    }

    async fn gone(&self, runner_id: &str) -> Result<bool> {
        Ok(self.book().runner(runner_id).await?.is_none())
    }

    /// Syncs the runner of `job` into their object (see the module's documentation for what
    /// each outcome means); `sent` is when the message was sent.
    pub async fn sync(
        &self,
        job: &RunnerJob,
        sent: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Outcome> {
        let id = job.runner_id.as_str();
        if !plausible_runner_id(id) {
            bail!("the message names no runner of this site");
        }
        let Some(runner) = self.book().runner(id).await? else {
            return Ok(Outcome::Gone);
        };
        if runner.tokens.is_none() {
            // signed out (or never signed in): nothing to sync with until they sign in
            return Ok(Outcome::NeedsSignIn);
        }
        let before = self.book().health(id).await?;
        let done = if job.full {
            before.last_full
        } else {
            before.last_success
        };
        if let (Some(done), Some(sent)) = (done, sent)
            && done >= sent
            && !job.remind
        {
            return Ok(Outcome::AlreadySynced);
        }

        let local = self.site.mirror_path(id);
        let folder = local
            .parent()
            .ok_or_else(|| anyhow!("a runner's mirror has no folder"))?
            .to_owned();
        clear(&folder)?;
        let _scratch = Scratch(folder);
        let object = DatabaseObject::new(self.s3.clone(), &self.bucket, runner_key(id));
        let etag = object.download(&local).await?;

        let mode = job.full.then_some(SyncMode::Full);
        let sync_first = !job.remind || sync_before_reminder(&before, now);
        let report = match sync_first.then(|| self.site.sync_runner(id, mode, now)) {
            None => None,
            Some(sync) => match sync.await {
                Ok(report) => Some(report),
                Err(e) => {
                    if matches!(e, SiteError::NoRunner) || self.gone(id).await? {
                        return Ok(Outcome::Gone);
                    }
                    if job.remind {
                        // the reminder is judged all the same: a mirror too old to tell says so
                        tracing::warn!(runner = %id, error = %e, "the sync before a reminder failed");
                        None
                    } else if self.book().health(id).await?.token_problem.is_some() {
                        tracing::warn!(runner = %id, "SmashRun refused the runner's sign-in: they must sign in again");
                        return Ok(Outcome::NeedsSignIn);
                    } else {
                        return Err(anyhow::Error::from(e).context("the sync failed"));
                    }
                }
            },
        };
        let reminded = if job.remind {
            self.site.remind_runner(id, now, SITE_BACKOFF).await?
        } else {
            None
        };
        if self.gone(id).await? {
            return Ok(Outcome::Gone);
        }
        let outcome = match (reminded, report) {
            (Some(reminded), report) => Outcome::Reminded {
                key: reminded.key,
                handled: reminded.handled,
                synced: report.is_some(),
            },
            (None, Some(report)) => Outcome::Synced {
                total_runs: report.total_runs,
                requests: report.requests,
            },
            // nothing changed: nothing to upload
            (None, None) => return Ok(Outcome::NothingDue),
        };
        if let Err(e) = object.upload(&local, etag.as_deref()).await {
            self.unrecord_success(id, &before, &e).await;
            return Err(anyhow::Error::from(e).context("the synced mirror was not saved"));
        }
        // deleted while the upload was on its way: take it back
        if self.gone(id).await? {
            delete_runner_objects(&self.s3, &self.bucket, &runner_prefix(id)).await?;
            return Ok(Outcome::Gone);
        }
        Ok(outcome)
    }

    /// A sync whose mirror could not be saved did not finish well: its health says so, and a
    /// retry of the message is not taken for a duplicate.
    async fn unrecord_success(&self, id: &str, before: &SyncHealth, e: &S3Error) {
        let result = async {
            let mut health = self.book().health(id).await?;
            health.last_success = before.last_success;
            health.last_full = before.last_full;
            health.last_error = Some(format!("the synced mirror was not saved: {e}"));
            self.book().put_health(id, &health).await
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(runner = %id, "the health could not be corrected: {e}");
        }
    }

    /// Every record of SQS's `event`, one after the other, each within what is left before
    /// `deadline`; the report says what became of each.
    pub async fn batch(
        &self,
        event: &Value,
        now: Timestamp,
        deadline: Option<SystemTime>,
    ) -> Result<BatchReport> {
        let event: SqsEvent = serde_json::from_value(event.clone()).map_err(|_| {
            anyhow!("the event is not an SQS event for Lambda (Records with messageId)")
        })?;
        let mut report = BatchReport::default();
        for record in &event.records {
            let left = deadline.map(|d| {
                d.duration_since(SystemTime::now())
                    .unwrap_or_default()
                    .saturating_sub(MARGIN)
            });
            let outcome = match (RunnerJob::parse(&record.body), left) {
                (Err(e), _) => Err(e.to_string()),
                (Ok(_), Some(left)) if left.is_zero() => {
                    Err("not started: the invocation's time is up; retried later".into())
                }
                (Ok(job), left) => {
                    let work = self.sync(&job, record.sent(), now);
                    let result = match left {
                        Some(left) => tokio::time::timeout(left, work).await.unwrap_or_else(|_| {
                            Err(anyhow!("stopped before the invocation's deadline"))
                        }),
                        None => work.await,
                    };
                    self.charge(now).await;
                    match &result {
                        Ok(outcome) => {
                            tracing::info!(message = %record.message_id, runner = %job.runner_id, outcome = %json!(outcome), "runner done")
                        }
                        Err(e) => {
                            tracing::error!(message = %record.message_id, runner = %job.runner_id, "runner failed: {e:#}")
                        }
                    }
                    result.map_err(|e| format!("{e:#}"))
                }
            };
            report.outcomes.push((record.message_id.clone(), outcome));
        }
        Ok(report)
    }
}

/// The worker function's handler: SQS's batch in, Lambda's partial batch response out (the ids
/// of the messages that failed). An event that is not SQS's is the invocation's error, and SQS
/// retries the whole batch.
pub async fn handle_worker(
    worker: &Worker,
    event: lambda_runtime::LambdaEvent<Value>,
) -> Result<Value, lambda_runtime::Error> {
    let request_id = event.context.request_id.clone();
    let deadline = (event.context.deadline > 0)
        .then(|| SystemTime::UNIX_EPOCH + Duration::from_millis(event.context.deadline));
    let report = worker
        .batch(&event.payload, Timestamp::now(), deadline)
        .await
        .map_err(|e| {
            tracing::error!(request_id = %request_id, "worker failed: {e:#}");
            lambda_runtime::Error::from(format!("{e:#}"))
        })?;
    tracing::info!(
        request_id = %request_id,
        records = report.outcomes.len(),
        failed = report.failed().len(),
        "batch done"
    );
    Ok(report.response())
}

/// "Delete my account" on AWS: the runner's account and everything of theirs in the account
/// book first (a sync starting meanwhile finds no runner), then every version of every object
/// under their prefix. Returns how many object versions were deleted.
pub async fn delete_runner_data(
    site: &Site,
    s3: &S3Client,
    bucket: &str,
    runner_id: &str,
) -> Result<usize> {
    if !plausible_runner_id(runner_id) {
        bail!("{runner_id:?} is not a runner id of this site");
    }
    site.delete_account(runner_id).await?;
    Ok(delete_runner_objects(s3, bucket, &runner_prefix(runner_id)).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_partial_batch_response_names_only_the_failed_messages() {
        let report = BatchReport {
            outcomes: vec![
                (
                    "m-1".into(),
                    Ok(Outcome::Synced {
                        total_runs: 3,
                        requests: 2,
                    }),
                ),
                ("m-2".into(), Err("boom".into())),
                ("m-3".into(), Ok(Outcome::Gone)),
            ],
        };
        assert_eq!(
            report.response(),
            json!({"batchItemFailures": [{"itemIdentifier": "m-2"}]})
        );
        assert_eq!(
            BatchReport::default().response(),
            json!({"batchItemFailures": []})
        );
    }

    #[test]
    fn sqs_s_sent_timestamp_is_read_as_epoch_milliseconds() {
        let record: SqsRecord = serde_json::from_value(json!({
            "messageId": "m", "body": "{}", "attributes": {"SentTimestamp": "1764417600000"}
        }))
        .unwrap();
        assert_eq!(record.sent(), Some("2025-11-29T12:00:00Z".parse().unwrap()));
    }
}
