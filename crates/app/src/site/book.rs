//! Where the site keeps its accounts: the [`AccountBook`] port, and [`DuckAccounts`], the
//! embedded one (a DuckDB file of its own, `./data/site.duckdb`). The DynamoDB book of
//! `myrunstreak-aws` is the one for AWS.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use jiff::Timestamp;
use myrunstreak_store::Accounts;
use myrunstreak_store::accounts::{
    ApiTokenRecord, PendingLogin, RunnerAccount, Sealed, SessionRecord, SyncHealth,
};

use super::SiteError;

/// Accounts, sessions, API tokens and logins in progress. Values that must stay secret arrive
/// sealed or hashed; a book stores them as they are.
#[async_trait]
pub trait AccountBook: Send + Sync {
    /// The runner with this id.
    async fn runner(&self, id: &str) -> Result<Option<RunnerAccount>, SiteError>;
    /// The runner who is this SmashRun user.
    async fn runner_by_smashrun_id(&self, id: i64) -> Result<Option<RunnerAccount>, SiteError>;
    /// The runner with this public handle.
    async fn runner_by_handle(&self, handle: &str) -> Result<Option<RunnerAccount>, SiteError>;
    /// Every runner, oldest account first.
    async fn runners(&self) -> Result<Vec<RunnerAccount>, SiteError>;
    /// How many runners there are.
    async fn count_runners(&self) -> Result<usize, SiteError>;
    /// Adds a runner (with their tokens), or updates the identity and settings of the runner
    /// with the same id; an existing runner's tokens change only through
    /// [`AccountBook::set_tokens`] (a settings save must never write back tokens a refresh has
    /// replaced meanwhile). A SmashRun id or handle held by another runner is refused.
    async fn put_runner(&self, runner: &RunnerAccount) -> Result<(), SiteError>;
    /// Replaces a runner's sealed tokens.
    async fn set_tokens(&self, id: &str, tokens: Option<&Sealed>) -> Result<(), SiteError>;
    /// A runner's sync health.
    async fn health(&self, id: &str) -> Result<SyncHealth, SiteError>;
    /// Replaces a runner's sync health.
    async fn put_health(&self, id: &str, health: &SyncHealth) -> Result<(), SiteError>;
    /// Removes a runner with their sessions, API tokens and health.
    async fn delete_runner(&self, id: &str) -> Result<(), SiteError>;
    /// Records a session.
    async fn put_session(&self, session: &SessionRecord) -> Result<(), SiteError>;
    /// The session with this hash, if it has not ended by `now`.
    async fn session(
        &self,
        id_hash: &str,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, SiteError>;
    /// Ends a session.
    async fn delete_session(&self, id_hash: &str) -> Result<(), SiteError>;
    /// Ends every session of a runner.
    async fn delete_sessions_of(&self, runner_id: &str) -> Result<(), SiteError>;
    /// Records a personal API token.
    async fn put_api_token(&self, token: &ApiTokenRecord) -> Result<(), SiteError>;
    /// The personal API token with this hash.
    async fn api_token(&self, id_hash: &str) -> Result<Option<ApiTokenRecord>, SiteError>;
    /// A runner's personal API tokens, oldest first.
    async fn api_tokens_of(&self, runner_id: &str) -> Result<Vec<ApiTokenRecord>, SiteError>;
    /// Revokes a runner's personal API token; whether it was theirs (another runner's token is
    /// left alone).
    async fn delete_api_token(&self, runner_id: &str, id_hash: &str) -> Result<bool, SiteError>;
    /// Records a login in progress.
    async fn put_login(&self, login: &PendingLogin) -> Result<(), SiteError>;
    /// Takes the login with this state hash: it can be taken once.
    async fn take_login(&self, state_hash: &str) -> Result<Option<PendingLogin>, SiteError>;
    /// Forgets ended sessions and logins begun before `logins_since`.
    async fn purge(&self, now: Timestamp, logins_since: Timestamp) -> Result<(), SiteError>;
    /// Every runner with their health, oldest account first (the scheduler's, the fan-out's and
    /// the operator's read of everyone). A remote book reads the healths concurrently.
    async fn roster(&self) -> Result<Vec<(RunnerAccount, SyncHealth)>, SiteError> {
        let mut rows = Vec::new();
        for runner in self.runners().await? {
            let health = self.health(&runner.id).await?;
            rows.push((runner, health));
        }
        Ok(rows)
    }
    /// Adds `requests` the app sent to SmashRun at `at` to the app's count of that clock hour,
    /// where many processes share one count (the workers on AWS). A book that keeps no count
    /// (the embedded one: its one scheduler counts in memory) ignores it.
    async fn charge_app(&self, _at: Timestamp, _requests: u64) -> Result<(), SiteError> {
        Ok(())
    }
    /// The app's requests to SmashRun in the hour before `now`, all tokens together
    /// ([`super::schedule::sliding_hour`] of the clock hours' counts); `None` where the book
    /// keeps no count.
    async fn app_requests(&self, _now: Timestamp) -> Result<Option<u64>, SiteError> {
        Ok(None)
    }
}

/// The embedded book: one DuckDB file, one connection behind a lock, used on blocking threads.
#[derive(Clone)]
pub struct DuckAccounts {
    accounts: Arc<Mutex<Accounts>>,
}

impl std::fmt::Debug for DuckAccounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DuckAccounts")
    }
}

impl DuckAccounts {
    /// Opens (creating) the accounts file.
    pub fn open(path: &Path, now: Timestamp) -> Result<DuckAccounts, SiteError> {
        Ok(DuckAccounts {
            accounts: Arc::new(Mutex::new(Accounts::open(path, now)?)),
        })
    }

    async fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Accounts) -> Result<T, myrunstreak_store::StoreError> + Send + 'static,
    ) -> Result<T, SiteError> {
        let accounts = self.accounts.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = accounts
                .lock()
                .map_err(|_| SiteError::Internal("the accounts lock was poisoned".into()))?;
            f(&mut guard).map_err(SiteError::from)
        })
        .await
        .map_err(|e| SiteError::Internal(e.to_string()))?
    }
}

#[async_trait]
impl AccountBook for DuckAccounts {
    async fn runner(&self, id: &str) -> Result<Option<RunnerAccount>, SiteError> {
        let id = id.to_owned();
        self.call(move |a| a.runner(&id)).await
    }
    async fn runner_by_smashrun_id(&self, id: i64) -> Result<Option<RunnerAccount>, SiteError> {
        self.call(move |a| a.runner_by_smashrun_id(id)).await
    }
    async fn runner_by_handle(&self, handle: &str) -> Result<Option<RunnerAccount>, SiteError> {
        let handle = handle.to_owned();
        self.call(move |a| a.runner_by_handle(&handle)).await
    }
    async fn runners(&self) -> Result<Vec<RunnerAccount>, SiteError> {
        self.call(|a| a.runners()).await
    }
    async fn count_runners(&self) -> Result<usize, SiteError> {
        self.call(|a| a.count_runners()).await
    }
    async fn put_runner(&self, runner: &RunnerAccount) -> Result<(), SiteError> {
        let runner = runner.clone();
        self.call(move |a| a.put_runner(&runner)).await
    }
    async fn set_tokens(&self, id: &str, tokens: Option<&Sealed>) -> Result<(), SiteError> {
        let (id, tokens) = (id.to_owned(), tokens.cloned());
        self.call(move |a| a.set_tokens(&id, tokens.as_ref())).await
    }
    async fn health(&self, id: &str) -> Result<SyncHealth, SiteError> {
        let id = id.to_owned();
        self.call(move |a| a.health(&id)).await
    }
    async fn put_health(&self, id: &str, health: &SyncHealth) -> Result<(), SiteError> {
        let (id, health) = (id.to_owned(), health.clone());
        self.call(move |a| a.put_health(&id, &health)).await
    }
    async fn delete_runner(&self, id: &str) -> Result<(), SiteError> {
        let id = id.to_owned();
        self.call(move |a| a.delete_runner(&id)).await
    }
    async fn put_session(&self, session: &SessionRecord) -> Result<(), SiteError> {
        let session = session.clone();
        self.call(move |a| a.put_session(&session)).await
    }
    async fn session(
        &self,
        id_hash: &str,
        now: Timestamp,
    ) -> Result<Option<SessionRecord>, SiteError> {
        let id_hash = id_hash.to_owned();
        self.call(move |a| a.session(&id_hash, now)).await
    }
    async fn delete_session(&self, id_hash: &str) -> Result<(), SiteError> {
        let id_hash = id_hash.to_owned();
        self.call(move |a| a.delete_session(&id_hash)).await
    }
    async fn delete_sessions_of(&self, runner_id: &str) -> Result<(), SiteError> {
        let runner_id = runner_id.to_owned();
        self.call(move |a| a.delete_sessions_of(&runner_id)).await
    }
    async fn put_api_token(&self, token: &ApiTokenRecord) -> Result<(), SiteError> {
        let token = token.clone();
        self.call(move |a| a.put_api_token(&token)).await
    }
    async fn api_token(&self, id_hash: &str) -> Result<Option<ApiTokenRecord>, SiteError> {
        let id_hash = id_hash.to_owned();
        self.call(move |a| a.api_token(&id_hash)).await
    }
    async fn api_tokens_of(&self, runner_id: &str) -> Result<Vec<ApiTokenRecord>, SiteError> {
        let runner_id = runner_id.to_owned();
        self.call(move |a| a.api_tokens_of(&runner_id)).await
    }
    async fn delete_api_token(&self, runner_id: &str, id_hash: &str) -> Result<bool, SiteError> {
        let (runner_id, id_hash) = (runner_id.to_owned(), id_hash.to_owned());
        self.call(move |a| a.delete_api_token(&runner_id, &id_hash))
            .await
    }
    async fn put_login(&self, login: &PendingLogin) -> Result<(), SiteError> {
        let login = login.clone();
        self.call(move |a| a.put_login(&login)).await
    }
    async fn take_login(&self, state_hash: &str) -> Result<Option<PendingLogin>, SiteError> {
        let state_hash = state_hash.to_owned();
        self.call(move |a| a.take_login(&state_hash)).await
    }
    async fn purge(&self, now: Timestamp, logins_since: Timestamp) -> Result<(), SiteError> {
        self.call(move |a| a.purge(now, logins_since)).await
    }
}
