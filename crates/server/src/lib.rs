//! The MyRunStreak HTTP API and web dashboard, as a library.
//!
//! [`router`] builds the one `Router` that `myrunstreak serve`, the tests (on port 0) and the
//! Lambda all serve; [`serve`] runs it on a listener until a shutdown signal. It reads the
//! database through a snapshot that is reloaded when the file changes, never holding the file
//! open between requests (a CLI sync can run beside it).
//!
//! Read endpoints are open (bind to loopback); the one that changes state, `POST /api/v1/sync`,
//! needs `Authorization: Bearer <MYRUNSTREAK_API_TOKEN>` and is disabled when no token is set.
//! No token or secret is ever part of a response.
//!
//! What it may not do: reach the store or the SmashRun client except through `myrunstreak-app`,
//! block the async runtime (snapshots load and answers compute on blocking threads), or hold a
//! lock across a request (the snapshot swaps in atomically; the response cache is sharded).

mod api;
mod cache;
mod dashboard;
mod error;
pub mod site;
mod snapshot;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use myrunstreak_app::SyncReport;
use myrunstreak_app::queries::StreakQuery;
use myrunstreak_app::smashrun::Secret;
use myrunstreak_domain::Units;
use tokio::net::TcpListener;

pub use error::ApiError;
pub use myrunstreak_app::Snapshot;

/// Runs one incremental sync into the database; the shell builds it from its settings.
pub type SyncRunner =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<SyncReport, String>> + Send>> + Send + Sync>;

/// What the server needs to know.
#[derive(Clone)]
pub struct ServerConfig {
    /// The DuckDB file.
    pub db_path: PathBuf,
    /// Default rule, zone and treadmill setting (query parameters override them).
    pub query: StreakQuery,
    /// Units of the dashboard and badge.
    pub units: Units,
    /// The weekly or monthly streak and the year's goal the dashboard shows (and the API's
    /// defaults for them).
    pub goals: myrunstreak_app::Goals,
    /// The bearer token for endpoints that change state; `None` disables them.
    pub api_token: Option<Secret>,
    /// Whoever calls this router was already authenticated as this database's runner (the
    /// many-runner site forwards a signed-in runner's requests): state-changing endpoints then
    /// need no bearer token.
    pub trust_caller: bool,
    /// Origins allowed by CORS; empty means CORS is off.
    pub cors_origins: Vec<String>,
    /// How `POST /api/v1/sync` syncs; `None` disables it.
    pub sync: Option<SyncRunner>,
    /// How often the database file is checked for changes.
    pub reload_every: Duration,
    /// `MYRUNSTREAK_STALE_AFTER`: older data is flagged stale, and today's verdict cannot be
    /// given from it.
    pub stale_after: jiff::SignedDuration,
    /// Where `POST /api/v1/ledger` records an entry when the file is not to be written in place
    /// (the Lambda's conditional write to S3); `None`: into `db_path`.
    pub ledger_writer: Option<std::sync::Arc<dyn myrunstreak_app::ledger::LedgerWriter>>,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("db_path", &self.db_path)
            .field("units", &self.units)
            .field("api_token", &self.api_token.as_ref().map(|_| "[redacted]"))
            .field("cors_origins", &self.cors_origins)
            .finish()
    }
}

/// Shared by every handler.
pub(crate) struct AppState {
    pub config: ServerConfig,
    pub snapshot: snapshot::Cache,
    pub syncing: Arc<tokio::sync::Mutex<()>>,
    pub responses: cache::ResponseCache,
}

/// The router: the JSON API under `/api/v1`, `/healthz`, the dashboard at `/`, `/badge.svg`.
pub fn router(config: ServerConfig) -> Router {
    let state = Arc::new(AppState {
        snapshot: snapshot::Cache::new(config.db_path.clone(), config.reload_every),
        config,
        syncing: Default::default(),
        responses: Default::default(),
    });
    api::router(state)
}

/// Serves `router` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
