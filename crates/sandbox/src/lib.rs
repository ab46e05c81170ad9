//! A faithful stand-in for SmashRun (it may not depend on any MyRunStreak crate, so that it can
//! never share a misunderstanding with the client it tests): OAuth 2.0, the REST API, rate limits and faults, serving a
//! seeded, believable runner (or many: each account its own SmashRun user, signed in on the
//! consent page or through the control API, every answer made from the token's account only).
//! MyRunStreak is developed, tested, benchmarked and demonstrated
//! against it, because SmashRun itself cannot be reached from here.
//!
//! It is strict where SmashRun is strict (single-use codes bound to their redirect URI, client
//! credentials in the body, 401 for dead tokens, 429 past the rate limits) and can misbehave on
//! purpose, deterministically under a seed. It is **not** a general OAuth server and keeps
//! everything in memory. What it imitates is `shared/docs/smashrun-api.md`; every assumption
//! made there is a setting here.
//!
//! A control API under `/_sandbox/` lets tests stage a runner's week in seconds: add, edit and
//! soft-delete runs, expire or revoke tokens, move the clock, switch faults, read request counts.
//! It is meant for loopback only and has no authentication.
#![warn(missing_docs)]
// Handlers return early with a ready `Response` as the error; boxing it would buy nothing.
#![allow(clippy::result_large_err)]

mod accounts;
mod api;
mod control;
mod faults;
pub mod generate;
mod oauth;
mod pkce;
pub mod quirks;
mod reading;
mod state;
mod write;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{MatchedPath, Request, State as AxumState};
use axum::middleware::{self, Next};
use axum::response::Response;
use jiff::SignedDuration;
use jiff::civil::Date;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use accounts::{FIRST_USER_ID, RunSpread};
pub use faults::Faults;
pub use generate::{GeneratorConfig, HOME_ZONE};
pub use pkce::PkceMode;
pub use quirks::{Quirks, UserinfoId};
pub use reading::ListingReading;
pub use state::{AccountCounters, Client, Counters, RateLimits};
pub use write::{CreatedAnswer, LostAnswer, RepeatedExternalId, WriteReading};

/// The client registered by default, which the demo and tests use.
pub const DEFAULT_CLIENT_ID: &str = "myrunstreak-sandbox";
/// Its secret (a sandbox secret, public on purpose).
pub const DEFAULT_CLIENT_SECRET: &str = "sandbox-secret";
/// SmashRun's access and refresh token lifetime: 12 weeks.
pub const TWELVE_WEEKS: SignedDuration = SignedDuration::from_secs(7_257_600);

/// Everything the sandbox can be told at start; most of it can be changed later through the
/// control API.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Seed for the generated runner and for faults.
    pub seed: u64,
    /// Years of generated history.
    pub years: u32,
    /// The last day of generated history; `None` means today in the runner's home zone.
    pub end: Option<Date>,
    /// Share of generated activities that are odd but valid.
    pub odd_share: f64,
    /// Activity summaries to serve instead of generated ones.
    pub load: Option<Vec<Value>>,
    /// Keep only this many of the most recent generated runs (benchmarks want exact sizes), in
    /// every account.
    pub max_runs: Option<usize>,
    /// How many accounts to serve (at least one). The first is the classic runner, whatever
    /// the count; the others (user, name, home zone, history) are drawn from the seed.
    pub accounts: usize,
    /// Sizes of the accounts after the first, drawn between two bounds; `None`: `max_runs`
    /// (or the whole history) for every account.
    pub runs_spread: Option<RunSpread>,
    /// Registered apps.
    pub clients: Vec<Client>,
    /// Approve every authorization request without showing the consent page.
    pub auto_approve: bool,
    /// Lifetime of access tokens.
    pub access_token_lifetime: SignedDuration,
    /// Lifetime of refresh tokens.
    pub refresh_token_lifetime: SignedDuration,
    /// Lifetime of authorization codes.
    pub code_lifetime: SignedDuration,
    /// Whether a refresh returns a new refresh token (SmashRun does not document it).
    pub rotate_refresh_tokens: bool,
    /// How PKCE is treated (SmashRun's support for it is unknown): ignored by default.
    pub pkce: PkceMode,
    /// Rate limits per token.
    pub limits: RateLimits,
    /// Faults to inject into API answers.
    pub faults: Faults,
    /// Largest page size; larger counts are clamped to it.
    pub max_count: usize,
    /// Page size when `page` is given without `count`.
    pub default_count: usize,
    /// The contested readings of the listing parameters.
    pub listing: ListingReading,
    /// Odd data to serve (offset-less or extreme starts, garbage fields, absurd token
    /// lifetimes): all off by default.
    pub quirks: Quirks,
    /// The contested readings of `POST /my/activities` (a repeated `externalId`, lost answers).
    pub writes: WriteReading,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            seed: 7,
            years: 10,
            end: None,
            odd_share: 0.01,
            load: None,
            max_runs: None,
            accounts: 1,
            runs_spread: None,
            clients: vec![Client {
                id: DEFAULT_CLIENT_ID.into(),
                secret: DEFAULT_CLIENT_SECRET.into(),
                redirect_uris: vec![
                    "http://localhost:8000/callback".into(),
                    "urn:ietf:wg:oauth:2.0:oob".into(),
                ],
            }],
            auto_approve: false,
            access_token_lifetime: TWELVE_WEEKS,
            refresh_token_lifetime: TWELVE_WEEKS,
            code_lifetime: SignedDuration::from_mins(10),
            rotate_refresh_tokens: true,
            pkce: PkceMode::Ignore,
            limits: RateLimits::default(),
            faults: Faults::default(),
            max_count: 100,
            default_count: 10,
            listing: ListingReading::default(),
            quirks: Quirks::default(),
            writes: WriteReading::default(),
        }
    }
}

pub(crate) type Shared = Arc<Mutex<state::State>>;

/// Locks the state; a handler that panicked while holding it leaves it usable.
pub(crate) fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, state::State> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The sandbox's router, with its data generated (or loaded) from `config`.
pub fn router(config: SandboxConfig) -> Router {
    let accounts = accounts::seed(&config);
    let shared: Shared = Arc::new(Mutex::new(state::State::new(config, accounts)));
    Router::new()
        .merge(oauth::routes())
        .merge(api::routes(shared.clone()))
        .merge(control::routes())
        .merge(reading::routes())
        .merge(write::routes())
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            count_requests,
        ))
        .with_state(shared)
}

async fn count_requests(
    AxumState(shared): AxumState<Shared>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let key = format!("{} {}", request.method(), route);
    *lock(&shared).counters.requests.entry(key).or_default() += 1;
    next.run(request).await
}

/// A sandbox serving on a loopback port.
pub struct Sandbox {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Sandbox {
    /// Serves a sandbox built from `config` on `listener` until stopped.
    pub async fn start(config: SandboxConfig, listener: TcpListener) -> std::io::Result<Sandbox> {
        let addr = listener.local_addr()?;
        let app = router(config);
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
        });
        Ok(Sandbox {
            addr,
            shutdown: Some(tx),
            task,
        })
    }

    /// Binds 127.0.0.1 on a free port and serves there.
    pub async fn start_on_free_port(config: SandboxConfig) -> std::io::Result<Sandbox> {
        Sandbox::start(config, TcpListener::bind("127.0.0.1:0").await?).await
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The OAuth base URL (`SMASHRUN_OAUTH_URL`).
    pub fn oauth_url(&self) -> String {
        format!("{}/oauth2", self.base_url())
    }

    /// The REST base URL (`SMASHRUN_API_URL`).
    pub fn api_url(&self) -> String {
        format!("{}/v1", self.base_url())
    }

    /// The control API's base URL.
    pub fn control_url(&self) -> String {
        format!("{}/_sandbox", self.base_url())
    }

    /// Stops serving and waits for open connections to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}
