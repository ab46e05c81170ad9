//! The one place where settings become working parts: settings → token store → refreshing token
//! provider → SmashRun client → store. Every shell (CLI, HTTP server, Lambda) builds a [`Wiring`]
//! and asks it for what it needs, instead of wiring the pieces itself.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use myrunstreak_store::{Store, StoreError};
use smashrun_client::{
    ClientConfig, Error as ClientError, OAuthClient, OAuthConfig, Observer, Secret, SmashRunClient,
    UserInfo,
};
use thiserror::Error;

use crate::doctor::{DoctorError, DoctorReport, diagnose};
use crate::mirror::Mirror;
use crate::publish::{Publication, PublishError, publish};
use crate::push::{PushError, PushReport, push};
use crate::queries::{StreakQuery, streak};
use crate::remind::{
    Backoff, Channel, DeliveryError, HttpNotifier, Mailer, RemindReport, RemindRequest,
};
use crate::settings::{Settings, TokenStoreKind};
use crate::sync::{
    SyncError, SyncEvent, SyncMode, SyncReport, SyncRequest, first_sync, scheduled_mode, sync,
};
use crate::tokens::{EnvTokenStore, FileTokenStore, StoredTokens, TokenStore};
use crate::verdict::{Freshness, StreakAnswer, answer};
use crate::views::SyncEntry;
use myrunstreak_domain::Run;

/// What wiring can fail with.
#[derive(Debug, Error)]
pub enum WiringError {
    /// The HTTP client could not be built (TLS set-up).
    #[error("building the HTTP client: {0}")]
    Http(String),
    /// The settings name a token store that needs more than they give.
    #[error("{0}")]
    Settings(String),
    /// SmashRun's OAuth or API.
    #[error(transparent)]
    SmashRun(#[from] ClientError),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A sync failed.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// The doctor failed.
    #[error(transparent)]
    Doctor(#[from] DoctorError),
    /// The streak could not be judged.
    #[error(transparent)]
    Domain(#[from] myrunstreak_domain::DomainError),
    /// The published files could not be rendered or written.
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// The notifier could not be built.
    #[error(transparent)]
    Notify(#[from] DeliveryError),
    /// A ledger entry was not pushed to SmashRun.
    #[error(transparent)]
    Push(#[from] PushError),
}

/// What `remind` needs besides the settings.
#[derive(Clone, Debug)]
pub struct RemindOptions {
    /// "Now" (the shell reads the clock).
    pub now: Timestamp,
    /// Sync first (else judge the mirror as it is, `--no-sync`).
    pub sync_first: bool,
    /// Only for a configured time that is due (`--at-due`).
    pub at_due: bool,
    /// Retries of a failed delivery.
    pub backoff: Backoff,
}

/// Why `remind` needs `MYRUNSTREAK_TIMEZONE`.
pub const REMIND_NEEDS_ZONE: &str = "reminders need your IANA time zone: set MYRUNSTREAK_TIMEZONE, e.g. MYRUNSTREAK_TIMEZONE=America/New_York (a fixed UTC offset would be an hour off across daylight-saving changes, and each run's own clock says nothing about tonight's midnight)";

/// The HTTP client every SmashRun request goes through.
pub fn http_client() -> Result<reqwest::Client, WiringError> {
    reqwest::Client::builder()
        .user_agent(concat!("myrunstreak/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| WiringError::Http(e.to_string()))
}

/// The token store the settings name when it is a local one (file or environment); `None` for
/// AWS Secrets Manager, which the shell builds from `myrunstreak-aws`.
pub fn local_token_store(settings: &Settings) -> Result<Option<Arc<dyn TokenStore>>, WiringError> {
    Ok(match settings.token_store {
        TokenStoreKind::File => Some(Arc::new(FileTokenStore::new(
            &settings.token_file,
            settings.allow_insecure_token_file,
        ))),
        TokenStoreKind::Env => {
            if settings.access_token.is_none() {
                return Err(WiringError::Settings(
                    "MYRUNSTREAK_TOKEN_STORE=env but SMASHRUN_ACCESS_TOKEN is not set".into(),
                ));
            }
            Some(Arc::new(EnvTokenStore::new(
                settings.access_token.clone(),
                settings.refresh_token.clone(),
            )))
        }
        TokenStoreKind::Aws => None,
    })
}

/// Settings, tokens and the HTTP client, wired once; everything else is asked of it.
#[derive(Clone)]
pub struct Wiring {
    settings: Settings,
    tokens: Arc<dyn TokenStore>,
    http: reqwest::Client,
    observer: Option<Observer>,
    mailer: Option<Arc<dyn Mailer>>,
}

impl std::fmt::Debug for Wiring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wiring")
            .field("settings", &self.settings)
            .field("tokens", &self.tokens.describe())
            .finish()
    }
}

impl Wiring {
    /// Wires `settings` with the token store `tokens`.
    pub fn new(settings: Settings, tokens: Arc<dyn TokenStore>) -> Result<Wiring, WiringError> {
        Ok(Wiring {
            settings,
            tokens,
            http: http_client()?,
            observer: None,
            mailer: None,
        })
    }

    /// Wires `settings` with the local token store they name (file or environment).
    pub fn local(settings: Settings) -> Result<Wiring, WiringError> {
        let tokens = local_token_store(&settings)?.ok_or_else(|| {
            WiringError::Settings(
                "MYRUNSTREAK_TOKEN_STORE=aws needs the AWS token store; this command wires only local ones".into(),
            )
        })?;
        Wiring::new(settings, tokens)
    }

    /// The OAuth client's credentials from elsewhere than the settings (the Lambda reads them
    /// from Secrets Manager).
    pub fn with_client_credentials(mut self, client_id: String, client_secret: Secret) -> Self {
        self.settings.client_id = client_id;
        self.settings.client_secret = client_secret;
        self
    }

    /// Reminders to `mailto:` channels are sent by `mailer` (the shell builds the SES one when
    /// `MYRUNSTREAK_MAIL_FROM` is set).
    pub fn with_mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// Every SmashRun request and retry is also told to `observer` (progress lines).
    pub fn with_observer(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Where the runner's tokens are kept.
    pub fn token_store(&self) -> &Arc<dyn TokenStore> {
        &self.tokens
    }

    /// The OAuth client, or an error that says how to register an app.
    pub fn oauth(&self) -> Result<OAuthClient, WiringError> {
        let config = OAuthConfig {
            oauth_url: self.settings.oauth_url.clone(),
            api_url: self.settings.api_url.clone(),
            client_id: self.settings.client_id.clone(),
            client_secret: self.settings.client_secret.clone(),
            redirect_uri: self.settings.redirect_uri.clone(),
            pkce: self.settings.pkce,
        };
        Ok(OAuthClient::new(config, self.http.clone())?)
    }

    /// Tokens from the store, refreshed through OAuth when a client id is configured.
    pub fn provider(&self) -> Arc<StoredTokens> {
        Arc::new(StoredTokens::new(
            self.tokens.clone(),
            self.oauth().ok(),
            Arc::new(Timestamp::now),
        ))
    }

    /// The SmashRun client: the real [`crate::ports::RunSource`].
    pub fn source(&self) -> SmashRunClient {
        let config = ClientConfig::new(self.settings.api_url.clone())
            .with_home_zone(self.settings.home_zone());
        let client = SmashRunClient::new(self.http.clone(), config, self.provider());
        match &self.observer {
            Some(o) => client.with_observer(o.clone()),
            None => client,
        }
    }

    /// Who the tokens belong to.
    pub async fn whoami(&self) -> Result<UserInfo, WiringError> {
        Ok(self.source().user_info().await?)
    }

    /// The mirror, opened for writing (migrated first).
    pub fn open_store(&self, now: Timestamp) -> Result<Store, WiringError> {
        Ok(Store::open(&self.settings.duckdb_path, now)?)
    }

    /// The mirror, opened for reading.
    pub fn read(&self) -> Result<Mirror, WiringError> {
        Ok(Mirror::open(&self.settings.duckdb_path)?)
    }

    /// Opens the mirror for writing and syncs it as `request` says.
    pub async fn sync(
        &self,
        request: &SyncRequest,
        progress: &(dyn Fn(SyncEvent) + Send + Sync),
    ) -> Result<SyncReport, WiringError> {
        let path = &self.settings.duckdb_path;
        let window = matches!(request.mode, SyncMode::Window { .. });
        if !request.dry_run && !window && !path.exists() {
            // a new file: SmashRun is asked while the file is created and migrated
            let (path, now) = (path.clone(), Timestamp::now());
            let open = async move {
                tokio::task::spawn_blocking(move || Store::open(&path, now))
                    .await
                    .map_err(|_| SyncError::Stopped("creating the database"))?
                    .map_err(SyncError::from)
            };
            let (_store, report) =
                first_sync(open, &self.source(), request, &Timestamp::now, progress).await?;
            return Ok(report);
        }
        let mut store = self.open_store(Timestamp::now())?;
        Ok(sync(
            &mut store,
            &self.source(),
            request,
            &Timestamp::now,
            progress,
        )
        .await?)
    }

    /// A scheduled sync: incremental, or full when the last full one is a week old
    /// ([`crate::sync::FULL_EVERY`]).
    pub async fn scheduled_sync(&self) -> Result<SyncReport, WiringError> {
        let mut store = self.open_store(Timestamp::now())?;
        let request = SyncRequest {
            mode: scheduled_mode(&store.sync_log(200)?, Timestamp::now()),
            guard: self.settings.deletion_guard,
            ..SyncRequest::default()
        };
        Ok(sync(
            &mut store,
            &self.source(),
            &request,
            &Timestamp::now,
            &|_| {},
        )
        .await?)
    }

    /// The runner's IANA zone, required by reminders.
    pub fn reminder_zone(&self) -> Result<jiff::tz::TimeZone, WiringError> {
        self.settings
            .home_zone()
            .filter(|z| z.iana_name().is_some())
            .ok_or_else(|| WiringError::Settings(REMIND_NEEDS_ZONE.into()))
    }

    /// The streak answer with today's verdict at `now`, from the mirror as it is; `sync_error` is
    /// the error of a sync just attempted.
    pub fn streak_answer(
        &self,
        now: Timestamp,
        sync_error: Option<String>,
    ) -> Result<StreakAnswer, WiringError> {
        let (runs, last, query) = self.judged()?;
        let fresh = self.freshness(last.as_ref(), sync_error);
        Ok(answer(streak(&runs, &query, now)?, &fresh, now))
    }

    /// `remind`: syncs (unless told not to), judges today in the runner's zone, and sends one
    /// reminder to every channel when today is at risk and this reminder time was not sent yet.
    pub async fn remind(&self, options: &RemindOptions) -> Result<RemindReport, WiringError> {
        let zone = self.reminder_zone()?;
        let channels = match &self.settings.notify_url {
            Some(url) => Channel::parse_list(url.expose())
                .map_err(|e| WiringError::Settings(format!("MYRUNSTREAK_NOTIFY_URL: {e}")))?,
            None => Vec::new(),
        };
        let sync_error = if options.sync_first {
            let request = SyncRequest {
                guard: self.settings.deletion_guard,
                ..SyncRequest::default()
            };
            match self.sync(&request, &|_| {}).await {
                Ok(_) => None,
                Err(e) => {
                    tracing::warn!(error = %e, "the sync before the reminder failed");
                    Some(e.to_string())
                }
            }
        } else {
            None
        };
        let answer = self.streak_answer(options.now, sync_error)?;
        let mut store = self.open_store(options.now)?;
        let request = RemindRequest {
            at_due: options.at_due,
            times: self.settings.remind_at.clone(),
            channels,
            backoff: options.backoff,
            units: self.settings.units,
        };
        let local = options.now.to_zoned_datetime(zone);
        let notifier = HttpNotifier::new()?.with_mailer(self.mailer.clone());
        Ok(crate::remind::remind(&mut store, &notifier, &answer, &local, &request).await?)
    }

    /// The published status at `now`, from the mirror as it is (see [`crate::publish`]);
    /// `sync_error` is the error of a sync just attempted, which makes today "can't verify" but is
    /// itself not published.
    pub fn publication(
        &self,
        now: Timestamp,
        sync_error: Option<String>,
    ) -> Result<Publication, WiringError> {
        let (runs, last, query) = self.judged()?;
        let fresh = self.freshness(last.as_ref(), sync_error);
        Ok(publish(&runs, &query, &fresh, now, self.settings.units)?)
    }

    /// What today is judged from: the mirror's runs and last good sync, and the settings' query.
    fn judged(&self) -> Result<(Vec<Run>, Option<SyncEntry>, StreakQuery), WiringError> {
        let mirror = self.read()?;
        let query = StreakQuery::from_settings(&self.settings)?;
        Ok((mirror.domain_runs()?, mirror.last_success()?, query))
    }

    /// How fresh the mirror is, with the staleness setting.
    fn freshness<'a>(
        &self,
        last_success: Option<&'a SyncEntry>,
        sync_error: Option<String>,
    ) -> Freshness<'a> {
        Freshness {
            last_success,
            stale_after: self.settings.stale_after,
            sync_error,
        }
    }

    /// Mutes reminders through `until` (inclusive), or unmutes them.
    pub fn mute_reminders(
        &self,
        until: Option<jiff::civil::Date>,
        now: Timestamp,
    ) -> Result<(), WiringError> {
        Ok(self.open_store(now)?.mute_reminders_until(until)?)
    }

    /// Pushes ledger entry `id` to SmashRun at `now` ([`crate::push`]). The scope the stored
    /// tokens were granted, when they say, is checked before anything is sent.
    pub async fn push(&self, id: i64, now: Timestamp) -> Result<PushReport, WiringError> {
        // unreadable tokens are the client's to report, with its own advice
        let granted = match self.tokens.load().await {
            Ok(Some(tokens)) => tokens.scope,
            _ => None,
        };
        let mut store = self.open_store(now)?;
        let pause = |retry: u32| Duration::from_millis(250u64 << retry.min(4));
        Ok(push(
            &mut store,
            &self.source(),
            id,
            granted.as_deref(),
            now,
            pause,
        )
        .await?)
    }

    /// Probes SmashRun's contested readings; keeps the findings as hints unless `save` is false.
    pub async fn doctor(&self, save: bool) -> Result<DoctorReport, WiringError> {
        let store = if save {
            Some(self.open_store(Timestamp::now())?)
        } else {
            None
        };
        Ok(diagnose(&self.source(), store.as_ref()).await?)
    }
}
