//! The Lambda shells: the daily sync (EventBridge) and the API (API Gateway HTTP API, payload
//! v2) of the one-runner deployment, and the many-runner site's fan-out and worker ([`site`]:
//! EventBridge Scheduler → SQS → one runner's object per message) and its web function
//! ([`web`]: API Gateway → the site's router over DynamoDB, KMS, S3 and the queue). All reuse the application
//! layer; this crate only wires AWS to it.
//!
//! The sync downloads the DuckDB file from S3 with its ETag, syncs (incremental, or full once a
//! week to reconcile deletions), and uploads only if the object still has that ETag: of two
//! overlapping invocations, the second to finish fails cleanly instead of overwriting the first.
//! Every failure is returned as an error, so Lambda reports it, EventBridge retries and alarms
//! fire; it is never a success with an error inside.
//!
//! What it may not do: reach the store or the SmashRun client except through `myrunstreak-app`,
//! or decide policy (when a sync is full is `myrunstreak_app::scheduled_mode`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use jiff::Timestamp;
use myrunstreak_app::ledger::LedgerWriter;
use myrunstreak_app::queries::StreakQuery;
use myrunstreak_app::remind::{Backoff, RemindOutcome};
use myrunstreak_app::site::{MirrorHome, MirrorLedger};
use myrunstreak_app::wiring::RemindOptions;
use myrunstreak_app::{Settings, TokenStore, Wiring};
use myrunstreak_aws::{
    AwsOptions, DatabaseObject, S3Mirrors, SecretsManagerTokenStore, SesMailer, StatusPrefix,
    load_client_credentials, load_secret_field, s3_client, sdk_config, secrets_client, ses_client,
};
use myrunstreak_server::ServerConfig;
use serde_json::{Value, json};

pub mod site;
pub mod web;

pub use site::{
    BatchReport, FanOut, FanOutSummary, Outcome, SiteDeps, Worker, delete_runner_data,
    handle_fanout, handle_worker, runner_key, runner_prefix,
};
pub use web::{QueuedSyncs, site_web_router};

/// What both functions need.
#[derive(Clone, Debug)]
pub struct Deps {
    /// The settings (from the function's environment).
    pub settings: Settings,
    /// Where AWS is.
    pub aws: AwsOptions,
    /// A scratch folder (`/tmp` on Lambda).
    pub work_dir: PathBuf,
}

impl Deps {
    /// From the function's environment, read once at cold start.
    pub fn from_env() -> Result<Deps> {
        let vars = std::env::vars().collect();
        let settings = Settings::from_vars(&vars)?;
        let aws = AwsOptions {
            region: settings.aws_region.clone(),
            endpoint_url: settings.aws_endpoint_url.clone(),
            static_credentials: None,
        };
        let work_dir = std::env::var("MYRUNSTREAK_WORK_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from("/tmp/myrunstreak"));
        Ok(Deps {
            settings,
            aws,
            work_dir,
        })
    }

    fn bucket(&self) -> Result<&str> {
        self.settings
            .s3_bucket
            .as_deref()
            .ok_or_else(|| anyhow!("MYRUNSTREAK_S3_BUCKET is not set"))
    }
}

/// JSON logs with the request id, for CloudWatch.
pub fn init_json_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .without_time()
        .try_init();
}

/// The runner's DuckDB file checked out of S3 into the work folder, with the ETag it had, and
/// the wiring over it: what the sync and the reminder change is uploaded back only if the
/// object still has that ETag.
struct Checkout {
    object: DatabaseObject,
    local: PathBuf,
    etag: Option<String>,
    wiring: Wiring,
    /// Where the status files go, if anywhere.
    status: Option<StatusPrefix>,
}

impl Checkout {
    async fn new(deps: &Deps) -> Result<Checkout> {
        let config = sdk_config(&deps.aws).await;
        let secrets = secrets_client(&config);
        let object = DatabaseObject::new(
            s3_client(&config, &deps.aws),
            deps.bucket()?,
            deps.settings.s3_key.clone(),
        );
        std::fs::create_dir_all(&deps.work_dir)
            .with_context(|| format!("creating {}", deps.work_dir.display()))?;
        let local = deps.work_dir.join("runs.duckdb");
        let _ = std::fs::remove_file(&local);
        let _ = std::fs::remove_file(local.with_extension("duckdb.wal"));
        let etag = object.download(&local).await?;

        let credentials =
            load_client_credentials(&secrets, &deps.settings.client_secret_id).await?;
        let mut settings = deps.settings.clone();
        settings.duckdb_path = local.clone();
        if let Some(id) = &deps.settings.notify_secret_id {
            settings.notify_url = Some(load_secret_field(&secrets, id, "notify_url").await?);
        }
        let store: Arc<dyn TokenStore> = Arc::new(SecretsManagerTokenStore::new(
            secrets,
            deps.settings.tokens_secret_id.clone(),
        ));
        let mut wiring = Wiring::new(settings, store)?
            .with_client_credentials(credentials.client_id, credentials.client_secret);
        if let Some(from) = &deps.settings.mail_from {
            wiring = wiring.with_mailer(Arc::new(SesMailer::new(ses_client(&config), from)));
        }
        let status = deps.settings.status_bucket.as_ref().map(|bucket| {
            StatusPrefix::new(
                s3_client(&config, &deps.aws),
                bucket,
                &deps.settings.status_prefix,
            )
        });
        Ok(Checkout {
            object,
            local,
            etag,
            wiring,
            status,
        })
    }

    /// Uploads the file, conditional on the ETag it was downloaded with; the new ETag. Then,
    /// when a status bucket is set, publishes the runner's status files from it.
    async fn upload(&self) -> Result<String> {
        let etag = self
            .object
            .upload(&self.local, self.etag.as_deref())
            .await?;
        if let Some(status) = &self.status {
            let publication = self.wiring.publication(Timestamp::now(), None)?;
            for file in publication.files {
                status
                    .put(file.name, file.body, file.content_type, file.cache_control)
                    .await?;
            }
            tracing::info!(key = %status.key("status.json"), "status published");
        }
        Ok(etag)
    }
}

/// The scheduled sync: S3 → DuckDB in the work folder → sync → S3 (conditional on the ETag).
pub async fn scheduled_sync(deps: &Deps, request_id: &str) -> Result<Value> {
    let span = tracing::info_span!("sync", request_id);
    let _enter = span.enter();
    let checkout = Checkout::new(deps).await?;
    // incremental, or full when the last full sync is a week old: the application's policy
    let report = checkout.wiring.scheduled_sync().await?;
    let new_etag = checkout.upload().await?;
    let summary = json!({
        "mode": report.mode,
        "counts": report.counts,
        "requests": report.requests,
        "total_runs": report.total_runs,
        "rejected": report.rejected.len(),
        "etag": new_etag,
    });
    tracing::info!(summary = %summary, "sync uploaded");
    Ok(summary)
}

/// The scheduled reminder (EventBridge Scheduler, at the runner's local reminder times):
/// S3 → DuckDB → sync → remind for the latest reminder time that is due (`remind --at-due`) →
/// S3. The reminders sent are remembered in the file, so they are uploaded too: a retried or
/// repeated invocation never sends twice. A reminder that cannot verify today is an error.
pub async fn scheduled_remind(deps: &Deps, request_id: &str, now: Timestamp) -> Result<Value> {
    let span = tracing::info_span!("remind", request_id);
    let _enter = span.enter();
    let checkout = Checkout::new(deps).await?;
    let options = RemindOptions {
        now,
        sync_first: true,
        at_due: true,
        backoff: Backoff::default(),
    };
    let report = checkout.wiring.remind(&options).await?;
    let new_etag = checkout.upload().await?;
    let summary = json!({
        "day": report.day,
        "today": report.today,
        "outcome": report.outcome,
        "etag": new_etag,
    });
    tracing::info!(summary = %summary, "reminder judged");
    if matches!(report.outcome, RemindOutcome::CantVerify) {
        return Err(anyhow!(
            "cannot verify today's streak: {}",
            summary["today"]
        ));
    }
    Ok(summary)
}

/// The runner id the one-runner API asks its [`S3Mirrors::one`] for (any would do).
const THE_RUNNER: &str = "runner";

async fn refresh_first(
    State(home): State<Arc<S3Mirrors>>,
    request: Request,
    next: Next,
) -> Response {
    if let Err(e) = home.readable(THE_RUNNER).await {
        tracing::warn!("serving the cached database; S3 could not be checked: {e}");
    }
    next.run(request).await
}

/// The API's router: the same as `myrunstreak serve`, over a read-only copy of the S3 object
/// cached in the work folder by ETag (checked at most once per `check_every`). With
/// `MYRUNSTREAK_API_TOKEN_SECRET_ID`, the one change it makes (behind that bearer token) is
/// `POST /api/v1/ledger`, through the sync's own conditional write (download with the ETag,
/// record, upload only if the object still has that ETag, again from a fresh copy when another
/// writer got there first: [`S3Mirrors`], as the site's); it never syncs and never reads
/// SmashRun's tokens.
pub async fn api_router(deps: &Deps, check_every: Duration) -> Result<Router> {
    let config = sdk_config(&deps.aws).await;
    let api_token = match &deps.settings.api_token_secret_id {
        Some(id) => Some(load_secret_field(&secrets_client(&config), id, "api_token").await?),
        None => None,
    };
    std::fs::create_dir_all(&deps.work_dir)?;
    let home = Arc::new(S3Mirrors::one(
        s3_client(&config, &deps.aws),
        deps.bucket()?,
        deps.settings.s3_key.clone(),
        deps.work_dir.join("snapshot"),
        check_every,
    ));
    let server = ServerConfig {
        db_path: home.path(THE_RUNNER),
        query: StreakQuery::from_settings(&deps.settings)?,
        units: deps.settings.units,
        goals: myrunstreak_app::Goals::from_settings(&deps.settings),
        ledger_writer: api_token.as_ref().map(|_| {
            Arc::new(MirrorLedger::new(home.clone(), THE_RUNNER)) as Arc<dyn LedgerWriter>
        }),
        api_token,
        trust_caller: false,
        cors_origins: deps.settings.cors_origins.clone(),
        sync: None,
        reload_every: home.reload_every(),
        stale_after: deps.settings.stale_after,
    };
    Ok(myrunstreak_server::router(server)
        .layer(middleware::from_fn_with_state(home, refresh_first)))
}

/// The sync function's handler: an event (EventBridge's scheduled event, or Scheduler's input)
/// runs one sync, or with `"action": "remind"` the reminder; every failure is the
/// invocation's error.
pub async fn handle_sync(
    deps: &Deps,
    event: lambda_runtime::LambdaEvent<Value>,
) -> Result<Value, lambda_runtime::Error> {
    let request_id = event.context.request_id.clone();
    let source = event
        .payload
        .get("detail-type")
        .and_then(Value::as_str)
        .unwrap_or("direct invocation")
        .to_owned();
    let action = event.payload.get("action").and_then(Value::as_str);
    tracing::info!(request_id = %request_id, source = %source, action = ?action, "sync invoked");
    let result = match action {
        None | Some("sync") => scheduled_sync(deps, &request_id).await,
        Some("remind") => scheduled_remind(deps, &request_id, Timestamp::now()).await,
        Some(other) => Err(anyhow!(
            "unknown action {other:?}: the event's \"action\" is \"sync\" (the default) or \"remind\""
        )),
    };
    result.map_err(|e| {
        tracing::error!(request_id = %request_id, "{} failed: {e:#}", action.unwrap_or("sync"));
        lambda_runtime::Error::from(format!("{e:#}"))
    })
}
