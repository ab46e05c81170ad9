//! MyRunStreak.com's web function, behind API Gateway (HTTP API, payload v2): the same
//! [`site_router_over`] as `myrunstreak site`, over the accounts in DynamoDB (sessions
//! included), tokens sealed by KMS, and the runners' mirrors in S3 ([`S3Mirrors`]: a bounded
//! cache of copies in the work folder, fresh by ETag; every change, a ledger entry or a database
//! brought in, through the same conditional write as the worker's sync). It never syncs: "Sync
//! now" and a new runner's first sync are messages on the runners' queue ([`QueuedSyncs`]),
//! which the worker takes; `POST /api/v1/sync` of a runner's API is off.

use std::sync::Arc;

use anyhow::Result;
use async_trait::async_trait;
use axum::Router;
use jiff::{SignedDuration, Timestamp};
use myrunstreak_app::SyncMode;
use myrunstreak_app::site::schedule::{Hold, Holds, Round, SyncRequests};
use myrunstreak_app::site::{AccountBook, SiteError};
use myrunstreak_aws::{
    RunnerJob, RunnerQueue, S3Mirrors, load_secret_field, s3_client, sdk_config, secrets_client,
    sqs_client,
};
use myrunstreak_server::site::{Clock, site_router_over};

use crate::site::{FanOut, SiteDeps};

/// Syncs asked of the runners' queue: one message per request, taken by the worker.
pub struct QueuedSyncs {
    queue: RunnerQueue,
    fanout: FanOut,
    holds: Holds,
}

impl std::fmt::Debug for QueuedSyncs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueuedSyncs")
            .field("queue", &self.queue.url())
            .finish()
    }
}

impl QueuedSyncs {
    /// Requests sent to `queue`; the operator's rounds find the runners due in `book`.
    pub fn new(book: Arc<dyn AccountBook>, queue: RunnerQueue, every: SignedDuration) -> Self {
        QueuedSyncs {
            fanout: FanOut::new(book, queue.clone(), every),
            queue,
            holds: Holds::default(),
        }
    }

    /// The same, with the operator's rounds within the app's hourly budget
    /// ([`FanOut::with_budget`]).
    pub fn with_budget(mut self, per_hour: u64) -> Self {
        self.fanout = self.fanout.with_budget(per_hour);
        self
    }
}

#[async_trait]
impl SyncRequests for QueuedSyncs {
    async fn request(
        &self,
        runner_id: &str,
        mode: Option<SyncMode>,
        _now: Timestamp,
    ) -> Result<(), SiteError> {
        let job = RunnerJob {
            runner_id: runner_id.to_owned(),
            full: mode == Some(SyncMode::Full),
            remind: false,
        };
        let sent = self.queue.send(std::slice::from_ref(&job)).await;
        match sent.failed.first() {
            None => Ok(()),
            Some(failed) => Err(SiteError::Remote(format!(
                "the queue of runners to sync did not take the request ({})",
                failed.code
            ))),
        }
    }

    async fn sync_now(
        &self,
        _runner_id: &str,
        _now: Timestamp,
    ) -> Option<Result<myrunstreak_app::SyncReport, SiteError>> {
        None
    }

    fn syncs_in_request(&self) -> bool {
        false
    }

    fn is_syncing(&self, _runner_id: &str) -> bool {
        // the worker's syncs are elsewhere; its upload is conditional, so a change made here
        // meanwhile is never lost (one of the two writers starts again from a fresh copy)
        false
    }

    fn hold(&self, runner_id: &str) -> Option<Hold<'_>> {
        self.holds.hold(runner_id)
    }

    async fn round(&self, now: Timestamp, every: SignedDuration) -> Result<Round, SiteError> {
        let summary = self.fanout.run_every(now, every).await?;
        Ok(Round {
            due: summary.due,
            failed: summary.failed,
            need_sign_in: summary.need_sign_in,
            queued: summary.enqueued,
            reminders_due: summary.reminders,
            deferred: summary.deferred,
            ..Round::default()
        })
    }

    async fn requests_last_hour(&self, now: Timestamp) -> Option<u64> {
        match self.fanout.app_requests(now).await {
            Ok(count) => count,
            Err(e) => {
                tracing::warn!(error = %e, "the app's request count could not be read");
                None
            }
        }
    }
}

/// The site's router as the web function serves it, reading the clock with `clock`.
pub async fn site_web_router(deps: &SiteDeps, clock: Clock) -> Result<Router> {
    let config = sdk_config(&deps.aws).await;
    let bucket = SiteDeps::required(&deps.settings.s3_bucket, "MYRUNSTREAK_S3_BUCKET")?;
    let queue = SiteDeps::required(&deps.runner_queue_url, "MYRUNSTREAK_RUNNER_QUEUE_URL")?;
    let mut deps = deps.clone();
    if let Some(id) = &deps.admin_token_secret_id {
        // a secret without a value (as Terraform makes it) leaves /admin off; the site serves
        match load_secret_field(&secrets_client(&config), id, "admin_token").await {
            Ok(token) => deps.site.admin_token = Some(token),
            Err(e) => tracing::warn!(error = %e, "no operator token: /admin is off"),
        }
    }
    let mirrors = S3Mirrors::new(
        s3_client(&config, &deps.aws),
        bucket,
        deps.work_dir.join("mirrors"),
        deps.mirror_check_every,
        deps.mirror_copies,
    );
    let site = deps
        .site(&config, deps.work_dir.join("site"))
        .await?
        .with_mirrors(Arc::new(mirrors));
    let syncs = QueuedSyncs::new(
        site.book().clone(),
        RunnerQueue::new(sqs_client(&config), queue),
        deps.site.sync_every,
    )
    .with_budget(deps.site.app_requests_per_hour);
    Ok(site_router_over(site, Arc::new(syncs), clock))
}
