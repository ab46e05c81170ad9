//! MyRunStreak.com: many runners on one site. Each runner signs in with SmashRun (the OAuth code
//! flow, a fresh `state` bound to the browser, PKCE under the same setting as the CLI), has their
//! own mirror (one DuckDB file per runner, served by the same store code as single-runner mode,
//! so that no query can reach another runner's runs), their own settings and their own sync
//! health, and is kept in step by the [`schedule`]r.
//!
//! The ports: [`AccountBook`] (accounts, sessions, API tokens, logins in progress; DuckDB here,
//! DynamoDB in `myrunstreak-aws`), [`Sealer`] (tokens sealed at rest; AES-256-GCM here, KMS
//! in `myrunstreak-aws`), [`MirrorHome`] (where each runner's mirror is read and written: the
//! data folder here, S3 in `myrunstreak-aws`) and [`schedule::SyncRequests`] (how a page gets a
//! runner synced: the scheduler here, a queue on AWS). Sessions, personal API tokens and login states are random 256-bit
//! values of which only the SHA-256 is stored.

pub mod book;
pub mod mirrors;
pub mod reminders;
pub mod schedule;
pub mod seal;
mod tokens;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
pub use myrunstreak_store::accounts::{
    ApiTokenRecord, PendingLogin, RunnerAccount, Sealed, SessionRecord, SyncHealth,
};
use smashrun_client::{Authorization, Error as ClientError, Scope, Secret};
use thiserror::Error;

pub use book::{AccountBook, DuckAccounts};
pub use mirrors::{
    ChangeError, LocalMirrors, MirrorChange, MirrorError, MirrorHome, MirrorLedger, Recent,
    change_mirror,
};
pub use seal::{KeyOrigin, LocalSealer, SealError, Sealer, hash, random_token};
pub use tokens::SealedTokenStore;

use crate::settings::Settings;
use crate::sync::{SyncError, SyncMode, SyncReport, SyncRequest};
use crate::wiring::{Wiring, WiringError};

/// What the site can fail with; each says what the runner or operator can do.
#[derive(Debug, Error)]
pub enum SiteError {
    /// The callback's `state` is missing, unknown, used already, too old, or from another
    /// browser.
    #[error(
        "this sign-in link is not valid (its state is missing, used, expired or from another browser); start again from the sign-in button"
    )]
    BadState,
    /// SmashRun did not grant access.
    #[error("SmashRun did not grant access: {0}")]
    Denied(String),
    /// Sign-ups are closed.
    #[error(
        "MyRunStreak is full for now ({0} runners); existing runners can still sign in. Please try again later"
    )]
    Full(usize),
    /// A setting given by the runner is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// No such runner (deleted meanwhile).
    #[error("no such runner")]
    NoRunner,
    /// SmashRun could not be asked.
    #[error(transparent)]
    SmashRun(#[from] ClientError),
    /// The accounts could not be read or written.
    #[error(transparent)]
    Store(#[from] myrunstreak_store::StoreError),
    /// Sealing or opening a secret failed.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// Wiring a runner's parts, or their sync, failed.
    #[error(transparent)]
    Wiring(#[from] WiringError),
    /// A runner's mirror could not be read or changed.
    #[error(transparent)]
    Mirror(#[from] MirrorError),
    /// A remote account book (DynamoDB) failed.
    #[error("{0}")]
    Remote(String),
    /// A bug or a lost task.
    #[error("{0}")]
    Internal(String),
}

/// The site's own settings (`.env` names in each field's comment).
#[derive(Clone, Debug)]
pub struct SiteSettings {
    /// `MYRUNSTREAK_SITE_URL`: the public address (default `http://127.0.0.1:8080`).
    pub site_url: String,
    /// `SMASHRUN_REDIRECT_URI` when set, else `{site_url}/auth/callback`.
    pub redirect_uri: String,
    /// `MYRUNSTREAK_SITE_DATA`: the accounts and every runner's mirror (default `./data`).
    pub data_dir: PathBuf,
    /// `MYRUNSTREAK_SITE_KEY`: the key that seals tokens (base64, 32 bytes).
    pub site_key: Option<Secret>,
    /// `MYRUNSTREAK_SITE_KEY_PREVIOUS`: earlier keys, comma-separated, still opening.
    pub previous_keys: Option<Secret>,
    /// `MYRUNSTREAK_SITE_KEY_FILE`: the key file used without `MYRUNSTREAK_SITE_KEY`, kept
    /// outside the data folder (default `~/.config/myrunstreak/site.key`).
    pub key_file: PathBuf,
    /// `MYRUNSTREAK_MAX_RUNNERS`: the cap on sign-ups (default 1000).
    pub max_runners: usize,
    /// `MYRUNSTREAK_ADMIN_TOKEN`: the operator's bearer token for `/admin` (unset: no admin).
    pub admin_token: Option<Secret>,
    /// `MYRUNSTREAK_SITE_ROUTERS`: how many runners' API routers (each with its snapshot in
    /// memory) the site keeps at once, the least recently used dropped first (default: the
    /// sign-up cap, so that every runner stays loaded; 1,000 runners of 500 runs took 170 MB).
    pub max_routers: usize,
    /// `MYRUNSTREAK_SITE_SYNC_EVERY`: how often each runner is synced (default 1 hour).
    pub sync_every: SignedDuration,
    /// `MYRUNSTREAK_SITE_CONCURRENCY`: syncs at once, all runners together (default 4).
    pub concurrency: usize,
    /// `MYRUNSTREAK_APP_REQUESTS_PER_HOUR`: SmashRun requests per hour for the whole app, all
    /// runners' tokens together (default 20000; SmashRun may throttle an app as a whole).
    pub app_requests_per_hour: u64,
    /// How long a session lasts (30 days).
    pub session_lifetime: SignedDuration,
    /// How long a sign-in may take between the button and SmashRun's answer (10 minutes).
    pub login_lifetime: SignedDuration,
}

impl SiteSettings {
    /// The site's settings from `vars`.
    pub fn from_vars(vars: &BTreeMap<String, String>) -> Result<SiteSettings, SiteError> {
        let get = |name: &str| {
            vars.get(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let number = |name: &str, default: u64| -> Result<u64, SiteError> {
            match get(name) {
                None => Ok(default),
                Some(v) => v
                    .parse()
                    .map_err(|_| SiteError::Invalid(format!("{name}={v} is not a whole number"))),
            }
        };
        let site_url = get("MYRUNSTREAK_SITE_URL")
            .unwrap_or_else(|| "http://127.0.0.1:8080".into())
            .trim_end_matches('/')
            .to_owned();
        url::Url::parse(&site_url).map_err(|e| {
            SiteError::Invalid(format!(
                "MYRUNSTREAK_SITE_URL={site_url} is not a URL ({e}); give the site's public address, such as https://myrunstreak.com"
            ))
        })?;
        let redirect_uri =
            get("SMASHRUN_REDIRECT_URI").unwrap_or_else(|| format!("{site_url}/auth/callback"));
        let config_home = get("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| get("HOME").map(|h| Path::new(&h).join(".config")))
            .unwrap_or_else(|| PathBuf::from("."));
        let max_runners = number("MYRUNSTREAK_MAX_RUNNERS", 1000)?;
        let minutes = number("MYRUNSTREAK_SITE_SYNC_EVERY_MINUTES", 60)?;
        Ok(SiteSettings {
            site_url,
            redirect_uri,
            data_dir: get("MYRUNSTREAK_SITE_DATA")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("./data")),
            site_key: get("MYRUNSTREAK_SITE_KEY").map(Secret::new),
            previous_keys: get("MYRUNSTREAK_SITE_KEY_PREVIOUS").map(Secret::new),
            key_file: get("MYRUNSTREAK_SITE_KEY_FILE")
                .map(PathBuf::from)
                .unwrap_or_else(|| config_home.join("myrunstreak").join("site.key")),
            max_runners: max_runners as usize,
            admin_token: get("MYRUNSTREAK_ADMIN_TOKEN").map(Secret::new),
            max_routers: number("MYRUNSTREAK_SITE_ROUTERS", max_runners)?.max(1) as usize,
            sync_every: SignedDuration::from_mins(minutes.max(1) as i64),
            concurrency: number("MYRUNSTREAK_SITE_CONCURRENCY", 4)?.max(1) as usize,
            app_requests_per_hour: number("MYRUNSTREAK_APP_REQUESTS_PER_HOUR", 20_000)?,
            session_lifetime: SignedDuration::from_hours(24 * 30),
            login_lifetime: SignedDuration::from_mins(10),
        })
    }

    /// Whether the site is served over https (its cookies are then `Secure`).
    pub fn https(&self) -> bool {
        url::Url::parse(&self.site_url).is_ok_and(|u| u.scheme() == "https")
    }

    /// The accounts file.
    pub fn accounts_path(&self) -> PathBuf {
        self.data_dir.join("site.duckdb")
    }
}

/// A sign-in begun: where to send the browser, and the nonce its login cookie must carry back.
#[derive(Debug)]
pub struct LoginStart {
    /// SmashRun's authorize URL.
    pub url: url::Url,
    /// The value of the browser's login cookie, which binds the `state` to this browser.
    pub browser_nonce: Secret,
}

/// A finished sign-in.
#[derive(Debug)]
pub struct SignedIn {
    /// The runner.
    pub runner: RunnerAccount,
    /// The new session's id (the cookie's value; only its hash is stored).
    pub session: Secret,
    /// Whether the account was made by this sign-in (its first sync is due at once).
    pub new_account: bool,
}

/// What the SmashRun callback brought.
#[derive(Debug, Default)]
pub struct Callback<'a> {
    /// `state`.
    pub state: Option<&'a str>,
    /// `code`.
    pub code: Option<&'a str>,
    /// `error`.
    pub error: Option<&'a str>,
    /// `error_description`.
    pub error_description: Option<&'a str>,
    /// The login cookie's value.
    pub browser_nonce: Option<&'a str>,
}

/// A runner's settings as they change them on the site.
#[derive(Clone, Debug, Default)]
pub struct RunnerSettings {
    /// IANA zone; empty: each run's own clock.
    pub time_zone: Option<String>,
    /// Streak rule (`MYRUNSTREAK_RULE`'s words); empty: the site's default.
    pub rule: Option<String>,
    /// Public handle; empty: none.
    pub handle: Option<String>,
    /// Whether `/r/{handle}` and the leaderboard show them.
    pub public: bool,
}

/// The many-runner site's use-cases.
#[derive(Clone)]
pub struct Site {
    base: Settings,
    config: SiteSettings,
    book: Arc<dyn AccountBook>,
    sealer: Arc<dyn Sealer>,
    mirrors: Arc<dyn MirrorHome>,
    /// Told of every runner's SmashRun requests (the scheduler's app-wide budget).
    observer: Option<smashrun_client::Observer>,
}

impl std::fmt::Debug for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Site")
            .field("site_url", &self.config.site_url)
            .field("data_dir", &self.config.data_dir)
            .finish()
    }
}

fn tokens_context(runner_id: &str) -> String {
    format!("smashrun-tokens:{runner_id}")
}

fn verifier_context(state_hash: &str) -> String {
    format!("pkce-verifier:{state_hash}")
}

impl Site {
    /// The site over `book` and `sealer`, with the mirrors in its data folder
    /// ([`LocalMirrors`]; see [`Site::with_mirrors`]); `base` holds the app's SmashRun
    /// credentials and the defaults every runner starts from.
    pub fn new(
        base: Settings,
        config: SiteSettings,
        book: Arc<dyn AccountBook>,
        sealer: Arc<dyn Sealer>,
    ) -> Result<Site, SiteError> {
        let mirrors = Arc::new(LocalMirrors::new(&config.data_dir));
        Ok(Site {
            base,
            config,
            book,
            sealer,
            mirrors,
            observer: None,
        })
    }

    /// The same site, with every runner's SmashRun client telling `observer` what it does.
    pub fn with_observer(mut self, observer: smashrun_client::Observer) -> Site {
        self.observer = Some(observer);
        self
    }

    /// The same site with its runners' mirrors in `mirrors` (S3 on AWS).
    pub fn with_mirrors(mut self, mirrors: Arc<dyn MirrorHome>) -> Site {
        self.mirrors = mirrors;
        self
    }

    /// Where the runners' mirrors live.
    pub fn mirrors(&self) -> &Arc<dyn MirrorHome> {
        &self.mirrors
    }

    /// The site's settings.
    pub fn config(&self) -> &SiteSettings {
        &self.config
    }

    /// The account book.
    pub fn book(&self) -> &Arc<dyn AccountBook> {
        &self.book
    }

    /// The app's OAuth client, sending runners back to the site.
    fn oauth(&self) -> Result<smashrun_client::OAuthClient, SiteError> {
        let mut settings = self.base.clone();
        settings.redirect_uri = self.config.redirect_uri.clone();
        let wiring = Wiring::new(
            settings,
            Arc::new(crate::tokens::EnvTokenStore::new(None, None)),
        )?;
        Ok(wiring.oauth()?)
    }

    /// `GET /auth/login`: a fresh `state` (and PKCE verifier, under `SMASHRUN_PKCE`), kept
    /// hashed (and sealed) server-side and bound to a nonce the browser keeps in a cookie.
    pub async fn begin_login(&self, now: Timestamp) -> Result<LoginStart, SiteError> {
        let authorization = self.oauth()?.authorize(&[Scope::ReadActivity]);
        let browser_nonce = random_token()?;
        let state_hash = hash(authorization.state().expose());
        let verifier = match authorization.pkce_verifier() {
            Some(v) => Some(
                self.sealer
                    .seal(v.expose().as_bytes(), &verifier_context(&state_hash))
                    .await?,
            ),
            None => None,
        };
        self.book
            .put_login(&PendingLogin {
                state_hash,
                browser_hash: hash(browser_nonce.expose()),
                verifier,
                created: now,
            })
            .await?;
        Ok(LoginStart {
            url: authorization.url,
            browser_nonce,
        })
    }

    /// `GET /auth/callback`: checks the `state` (known, unused, fresh, this browser's),
    /// exchanges the code, learns who the runner is, makes or updates their account with their
    /// tokens sealed, and opens a session.
    pub async fn finish_login(
        &self,
        callback: &Callback<'_>,
        now: Timestamp,
    ) -> Result<SignedIn, SiteError> {
        let state = callback
            .state
            .filter(|s| !s.is_empty())
            .ok_or(SiteError::BadState)?;
        // taken whatever comes next: a state is good once
        let login = self
            .book
            .take_login(&hash(state))
            .await?
            .ok_or(SiteError::BadState)?;
        let browser = callback.browser_nonce.map(hash).unwrap_or_default();
        let same_browser = !browser.is_empty()
            && aws_lc_rs::constant_time::verify_slices_are_equal(
                browser.as_bytes(),
                login.browser_hash.as_bytes(),
            )
            .is_ok();
        if !same_browser || now.duration_since(login.created) > self.config.login_lifetime {
            return Err(SiteError::BadState);
        }
        if let Some(error) = callback.error {
            let said = format!("{error} {}", callback.error_description.unwrap_or_default());
            return Err(SiteError::Denied(said.trim().to_owned()));
        }
        let code = callback
            .code
            .filter(|c| !c.is_empty())
            .ok_or_else(|| SiteError::Denied("SmashRun sent no code".into()))?;
        let verifier = match &login.verifier {
            Some(sealed) => {
                let plain = self
                    .sealer
                    .open(sealed, &verifier_context(&login.state_hash))
                    .await?;
                Some(Secret::new(String::from_utf8(plain).map_err(|_| {
                    SiteError::Internal("a sealed PKCE verifier is not text".into())
                })?))
            }
            None => None,
        };
        let authorization = Authorization::resume(Secret::new(state.to_owned()), verifier);
        let tokens = self.oauth()?.exchange(&authorization, code, now).await?;
        let me = Wiring::new(
            self.base.clone(),
            Arc::new(crate::tokens::EnvTokenStore::new(
                Some(tokens.access_token.clone()),
                None,
            )),
        )?
        .whoami()
        .await?;

        let (mut runner, new_account) = match self.book.runner_by_smashrun_id(me.id).await? {
            Some(existing) => (existing, false),
            None => {
                let count = self.book.count_runners().await?;
                if count >= self.config.max_runners {
                    return Err(SiteError::Full(count));
                }
                let id = format!("r-{}", &hash(random_token()?.expose())[..20]);
                (
                    RunnerAccount {
                        id,
                        smashrun_id: me.id,
                        user_name: None,
                        display_name: None,
                        created: now,
                        time_zone: self.base.timezone.clone(),
                        rule: None,
                        handle: None,
                        public: false,
                        tokens: None,
                        remind_at: None,
                        reminder_channels: None,
                    },
                    true,
                )
            }
        };
        runner.user_name = me.user_name.clone();
        runner.display_name = [me.first_name.as_deref(), me.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(80)
            .collect::<String>()
            .into();
        if runner.display_name.as_deref() == Some("") {
            runner.display_name = None;
        }
        let plain = serde_json::to_vec(&tokens)
            .map_err(|e| SiteError::Internal(format!("serializing tokens: {e}")))?;
        let sealed = self
            .sealer
            .seal(&plain, &tokens_context(&runner.id))
            .await?;
        runner.tokens = Some(sealed.clone());
        self.book.put_runner(&runner).await?;
        if !new_account {
            self.book.set_tokens(&runner.id, Some(&sealed)).await?;
        }
        if new_account {
            // its first sync is due at once; clear any stale health of a reused id
            self.book
                .put_health(&runner.id, &SyncHealth::default())
                .await?;
        } else {
            // a new sign-in heals a revoked or dead token
            let mut health = self.book.health(&runner.id).await?;
            health.token_problem = None;
            self.book.put_health(&runner.id, &health).await?;
        }
        let session = self.open_session(&runner.id, now).await?;
        Ok(SignedIn {
            runner,
            session,
            new_account,
        })
    }

    async fn open_session(&self, runner_id: &str, now: Timestamp) -> Result<Secret, SiteError> {
        let session = random_token()?;
        self.book
            .put_session(&SessionRecord {
                id_hash: hash(session.expose()),
                runner_id: runner_id.to_owned(),
                created: now,
                expires: now + self.config.session_lifetime,
            })
            .await?;
        Ok(session)
    }

    /// The runner whose session this cookie value is, if it is live at `now`.
    pub async fn session_runner(
        &self,
        session: &str,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, SiteError> {
        self.book.session(&hash(session), now).await
    }

    /// The runner whose personal API token this is.
    pub async fn api_token_runner(&self, token: &str) -> Result<Option<String>, SiteError> {
        Ok(self
            .book
            .api_token(&hash(token))
            .await?
            .map(|t| t.runner_id))
    }

    /// A new personal API token for scripts; its value is shown once and only its hash kept.
    pub async fn create_api_token(
        &self,
        runner_id: &str,
        label: &str,
        now: Timestamp,
    ) -> Result<Secret, SiteError> {
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 60 {
            return Err(SiteError::Invalid(
                "give the token a name of 1 to 60 characters".into(),
            ));
        }
        let token = Secret::new(format!("mrs_{}", random_token()?.expose()));
        self.book
            .put_api_token(&ApiTokenRecord {
                id_hash: hash(token.expose()),
                runner_id: runner_id.to_owned(),
                label: label.to_owned(),
                created: now,
            })
            .await?;
        Ok(token)
    }

    /// A runner's personal API tokens (their labels and creation; the tokens themselves are
    /// kept only as hashes), oldest first.
    pub async fn api_tokens(&self, runner_id: &str) -> Result<Vec<ApiTokenRecord>, SiteError> {
        self.book.api_tokens_of(runner_id).await
    }

    /// Revokes one of a runner's personal API tokens, named by its hash: it stops working at
    /// once. Another runner's token is left alone ([`SiteError::Invalid`]).
    pub async fn revoke_api_token(&self, runner_id: &str, id_hash: &str) -> Result<(), SiteError> {
        if self.book.delete_api_token(runner_id, id_hash).await? {
            Ok(())
        } else {
            Err(SiteError::Invalid(
                "no such token of yours (already revoked?)".into(),
            ))
        }
    }

    /// `POST /auth/logout`: ends this session.
    pub async fn logout(&self, session: &str) -> Result<(), SiteError> {
        self.book.delete_session(&hash(session)).await
    }

    /// The runner with this id.
    pub async fn runner(&self, id: &str) -> Result<RunnerAccount, SiteError> {
        self.book.runner(id).await?.ok_or(SiteError::NoRunner)
    }

    /// Where this runner's mirror lives in the data folder (one DuckDB file per runner), where
    /// a sync writes it: the embedded site's mirror itself, the worker's scratch copy on AWS.
    pub fn mirror_path(&self, runner_id: &str) -> PathBuf {
        self.config
            .data_dir
            .join("runners")
            .join(runner_id)
            .join("runs.duckdb")
    }

    /// The settings of one runner: the site's, with their own mirror, zone and rule.
    pub fn runner_settings(&self, runner: &RunnerAccount) -> Result<Settings, SiteError> {
        let mut settings = self.base.clone();
        settings.duckdb_path = self.mirror_path(&runner.id);
        settings.redirect_uri = self.config.redirect_uri.clone();
        settings.timezone = runner.time_zone.clone();
        if let Some(rule) = &runner.rule {
            settings.rule = rule
                .parse()
                .map_err(|e| SiteError::Invalid(format!("stored rule {rule}: {e}")))?;
        }
        // a runner's API is behind their session, not a shared bearer token
        settings.api_token = None;
        settings.notify_url = None;
        Ok(settings)
    }

    /// One runner's wiring: their settings, and their tokens sealed in the book.
    pub fn wiring(&self, runner: &RunnerAccount) -> Result<Wiring, SiteError> {
        self.wiring_with(runner, self.runner_settings(runner)?)
    }

    /// One runner's wiring with `settings` (theirs, changed).
    fn wiring_with(&self, runner: &RunnerAccount, settings: Settings) -> Result<Wiring, SiteError> {
        let tokens = SealedTokenStore::new(
            runner.id.clone(),
            self.book.clone(),
            self.sealer.clone(),
            tokens_context(&runner.id),
        );
        let wiring = Wiring::new(settings, Arc::new(tokens))?;
        Ok(match &self.observer {
            Some(observer) => wiring.with_observer(observer.clone()),
            None => wiring,
        })
    }

    /// Syncs one runner (`mode`, or as the schedule says: incremental, full weekly) and records
    /// how it went in their health. A revoked or dead token is recorded as such: the runner
    /// must sign in again, and the scheduler leaves them alone until they do.
    pub async fn sync_runner(
        &self,
        runner_id: &str,
        mode: Option<SyncMode>,
        now: Timestamp,
    ) -> Result<SyncReport, SiteError> {
        let runner = self.runner(runner_id).await?;
        let wiring = self.wiring(&runner)?;
        let mut health = self.book.health(runner_id).await?;
        health.last_attempt = Some(now);
        self.book.put_health(runner_id, &health).await?;
        let result: Result<SyncReport, SiteError> = match mode {
            Some(mode) => {
                let request = SyncRequest {
                    mode,
                    guard: wiring.settings().deletion_guard,
                    ..SyncRequest::default()
                };
                wiring.sync(&request, &|_| {}).await
            }
            None => wiring.scheduled_sync().await,
        }
        .map_err(SiteError::from);
        let mut health = self.book.health(runner_id).await?;
        match &result {
            Ok(report) => {
                health.last_success = Some(now);
                if report.mode == SyncMode::Full {
                    health.last_full = Some(now);
                }
                health.last_error = None;
                health.token_problem = None;
                health.requests += report.requests as i64;
                health.runs = report.total_runs as i64;
                health.pending_deletions = report.pending_deletions as i64;
                if let Ok(answer) = wiring.streak_answer(now, None) {
                    health.current_streak = answer.streak.current.days as i64;
                }
            }
            Err(e) => {
                health.last_error = Some(e.to_string());
                if needs_sign_in(e) {
                    health.token_problem = Some(
                        "SmashRun no longer accepts this sign-in (revoked, or a refresh was refused); sign in again".into(),
                    );
                }
            }
        }
        self.book.put_health(runner_id, &health).await?;
        result
    }

    /// Changes a runner's settings after checking each.
    pub async fn update_settings(
        &self,
        runner_id: &str,
        new: RunnerSettings,
    ) -> Result<RunnerAccount, SiteError> {
        let mut runner = self.runner(runner_id).await?;
        let time_zone = new.time_zone.filter(|z| !z.trim().is_empty());
        if let Some(zone) = &time_zone {
            jiff::tz::TimeZone::get(zone.trim()).map_err(|_| {
                SiteError::Invalid(format!(
                    "{zone} is not an IANA time zone; use a name such as Europe/Berlin or America/New_York"
                ))
            })?;
        }
        let rule = new.rule.filter(|r| !r.trim().is_empty());
        if let Some(rule) = &rule {
            rule.trim()
                .parse::<myrunstreak_domain::Rule>()
                .map_err(|e| SiteError::Invalid(format!("streak rule {rule}: {e}")))?;
        }
        let handle = new
            .handle
            .map(|h| h.trim().to_lowercase())
            .filter(|h| !h.is_empty());
        if let Some(handle) = &handle {
            let ok = (3..=30).contains(&handle.len())
                && handle
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !ok {
                return Err(SiteError::Invalid(
                    "a handle is 3 to 30 characters: letters a-z, digits and '-'".into(),
                ));
            }
            if let Some(other) = self.book.runner_by_handle(handle).await?
                && other.id != runner.id
            {
                return Err(SiteError::Invalid(format!(
                    "the handle {handle} is taken; choose another"
                )));
            }
        }
        if new.public && handle.is_none() {
            return Err(SiteError::Invalid(
                "a public page needs a handle: choose one first".into(),
            ));
        }
        runner.time_zone = time_zone.map(|z| z.trim().to_owned());
        runner.rule = rule.map(|r| r.trim().to_owned());
        runner.handle = handle;
        runner.public = new.public;
        self.book.put_runner(&runner).await?;
        Ok(runner)
    }

    /// `Delete my account`: the runner's mirror (every copy, [`MirrorHome::remove`]), tokens,
    /// sessions, API tokens and health.
    pub async fn delete_account(&self, runner_id: &str) -> Result<(), SiteError> {
        // the account goes first: a sync starting meanwhile finds no runner
        self.book.delete_runner(runner_id).await?;
        Ok(self.mirrors.remove(runner_id).await?)
    }

    /// Seals every runner's tokens (and reminder channels) again under the current key (key
    /// rotation's last step); answers how many runners had something resealed.
    pub async fn reseal(&self) -> Result<usize, SiteError> {
        let current = self.sealer.current_key();
        let mut resealed = 0;
        for runner in self.book.runners().await? {
            let reminders = self.reseal_reminders(&runner).await?;
            let tokens = match &runner.tokens {
                Some(sealed) if sealed.key != current => {
                    let context = tokens_context(&runner.id);
                    let plain = self.sealer.open(sealed, &context).await?;
                    let again = self.sealer.seal(&plain, &context).await?;
                    self.book.set_tokens(&runner.id, Some(&again)).await?;
                    true
                }
                _ => false,
            };
            resealed += usize::from(reminders || tokens);
        }
        Ok(resealed)
    }

    /// Every runner with their health, for the operator.
    pub async fn roster(&self) -> Result<Vec<(RunnerAccount, SyncHealth)>, SiteError> {
        self.book.roster().await
    }
}

/// Whether a failed sync means the runner must sign in again.
fn needs_sign_in(e: &SiteError) -> bool {
    let client = match e {
        SiteError::SmashRun(c) => Some(c),
        SiteError::Wiring(WiringError::Sync(SyncError::SmashRun(c))) => Some(c),
        SiteError::Wiring(WiringError::SmashRun(c)) => Some(c),
        _ => None,
    };
    matches!(
        client,
        Some(ClientError::Reauthorize { .. } | ClientError::Unauthorized { .. })
    )
}

/// What bringing a single-runner database into an account did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Adopted {
    /// Ledger entries (manual and imported runs, overrides) brought over.
    pub entries: usize,
    /// Entries left out, each with why (already in the account).
    pub skipped: Vec<String>,
    /// Runs of the file mirrored from SmashRun (they come from SmashRun itself, not the file).
    pub runs_in_file: usize,
    /// How many of those the account's own mirror has.
    pub runs_shared: usize,
}

impl Site {
    /// Brings a single-runner database (`myrunstreak`'s own `runs.duckdb`) into an account: its
    /// ledger (manual and imported runs, overrides) is added to the runner's, and its mirrored
    /// runs are left to SmashRun, which the account already mirrors. The file must be the
    /// runner's: at least half of its mirrored runs must be in their own mirror (so their first
    /// sync must have finished). Nothing is written when the file is refused. The ledger is
    /// changed through [`MirrorHome::write`].
    pub async fn adopt_database(
        &self,
        runner_id: &str,
        file: &Path,
        now: Timestamp,
    ) -> Result<Adopted, SiteError> {
        let runner = self.runner(runner_id).await?;
        let file = file.to_owned();
        change_mirror(self.mirrors.as_ref(), &runner.id, move |mirror| {
            adopt(&file, mirror, now)
        })
        .await
        .map_err(|e| match e {
            ChangeError::Change(e) => e,
            ChangeError::Mirror(MirrorError::Missing) => not_synced_yet(),
            ChangeError::Mirror(e) => e.into(),
        })
    }
}

fn not_synced_yet() -> SiteError {
    SiteError::Invalid(
        "your first sync has not finished yet: bring the database in once it has, so that it can be checked against your SmashRun history".into(),
    )
}

fn adopt(file: &Path, mirror: &Path, now: Timestamp) -> Result<Adopted, SiteError> {
    use myrunstreak_store::{Store, StoreError};
    let old = Store::open_untrusted(file).map_err(|e| match e {
        StoreError::Untrusted { detail, .. } => SiteError::Invalid(format!(
            "that file is not a plain MyRunStreak database ({detail}); nothing was brought in"
        )),
        StoreError::NotDuckDb { .. } | StoreError::Missing { .. } => SiteError::Invalid(
            "that file is not a MyRunStreak database (runs.duckdb); nothing was brought in".into(),
        ),
        StoreError::NewerSchema { found, supported, .. } => SiteError::Invalid(format!(
            "that database is from a newer MyRunStreak (schema {found}, this site knows {supported}); nothing was brought in"
        )),
        other => SiteError::Invalid(format!(
            "that database cannot be read ({other}); nothing was brought in"
        )),
    })?;
    let theirs: Vec<_> = old.domain_runs()?.into_iter().map(|r| r.id).collect();
    let entries = old.ledger()?;
    drop(old);
    if !mirror.exists() {
        return Err(not_synced_yet());
    }
    let mut store = Store::open(mirror, now)?;
    let ours: std::collections::HashSet<_> =
        store.domain_runs()?.into_iter().map(|r| r.id).collect();
    let shared = theirs.iter().filter(|id| ours.contains(id)).count();
    if theirs.is_empty() {
        return Err(SiteError::Invalid(
            "that database has no runs from SmashRun to check it against your history; nothing was brought in".into(),
        ));
    }
    if shared * 2 < theirs.len() {
        return Err(SiteError::Invalid(format!(
            "only {shared} of the {} SmashRun runs in that database are yours on SmashRun: it seems to be another runner's; nothing was brought in",
            theirs.len()
        )));
    }
    let existing: Vec<_> = store.ledger()?.into_iter().map(|e| e.item).collect();
    let mut adopted = Adopted {
        entries: 0,
        skipped: Vec::new(),
        runs_in_file: theirs.len(),
        runs_shared: shared,
    };
    for entry in entries {
        if existing.contains(&entry.item) {
            adopted.skipped.push(format!(
                "entry {} of {}: already in your ledger",
                entry.id, entry.item.date
            ));
            continue;
        }
        match store.add_ledger_entry(&entry.item, entry.created) {
            Ok(_) => adopted.entries += 1,
            Err(
                e @ (StoreError::AlreadyOverridden { .. } | StoreError::AlreadyImported { .. }),
            ) => {
                adopted
                    .skipped
                    .push(format!("entry {} of {}: {e}", entry.id, entry.item.date));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(adopted)
}
