//! Where tokens live, and the [`TokenProvider`] that refreshes them at half-life and saves them
//! back.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use jiff::Timestamp;
use smashrun_client::{
    Error as ClientError, OAuthClient, Secret, TokenFuture, TokenProvider, TokenSet,
};
use thiserror::Error;
use tokio::sync::Mutex;

/// What a token store can fail with.
#[derive(Debug, Error)]
pub enum TokenStoreError {
    /// The token file can be read by others: refuse to use it.
    #[error(
        "{path} can be read by other users (mode {mode:o}); run `chmod 600 {path}`, or set MYRUNSTREAK_ALLOW_INSECURE_TOKEN_FILE=true to use it anyway"
    )]
    Insecure {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The stored tokens are not readable.
    #[error(
        "the tokens in {place} are unreadable ({detail}); run `myrunstreak auth login` to store new ones"
    )]
    Corrupt {
        /// Where.
        place: String,
        /// What was wrong.
        detail: String,
    },
    /// This store cannot save.
    #[error("{0}")]
    ReadOnly(String),
    /// File system trouble.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was attempted.
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A remote store (Secrets Manager) failed.
    #[error("{0}")]
    Remote(String),
}

/// A place to keep a runner's tokens.
///
/// Implementations must never log or put in an error the token values themselves.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// The stored tokens, or `None` when there are none.
    async fn load(&self) -> Result<Option<TokenSet>, TokenStoreError>;
    /// Replaces the stored tokens (and nothing else stored beside them).
    async fn save(&self, tokens: &TokenSet) -> Result<(), TokenStoreError>;
    /// Removes the stored tokens.
    async fn clear(&self) -> Result<(), TokenStoreError>;
    /// Where the tokens are, for messages (`file ./data/tokens.json`).
    fn describe(&self) -> String;
}

/// Tokens in a JSON file, written atomically (temporary file, fsync, rename) with mode 0600.
#[derive(Clone, Debug)]
pub struct FileTokenStore {
    path: PathBuf,
    allow_insecure: bool,
}

impl FileTokenStore {
    /// A store at `path`; `allow_insecure` loads a file others can read.
    pub fn new(path: impl Into<PathBuf>, allow_insecure: bool) -> Self {
        FileTokenStore {
            path: path.into(),
            allow_insecure,
        }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[async_trait]
impl TokenStore for FileTokenStore {
    async fn load(&self) -> Result<Option<TokenSet>, TokenStoreError> {
        let meta = match std::fs::metadata(&self.path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(TokenStoreError::Io {
                    action: "reading",
                    path: self.path.clone(),
                    source,
                });
            }
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 && !self.allow_insecure {
                return Err(TokenStoreError::Insecure {
                    path: self.path.clone(),
                    mode,
                });
            }
        }
        let _ = meta;
        let text = std::fs::read_to_string(&self.path).map_err(|source| TokenStoreError::Io {
            action: "reading",
            path: self.path.clone(),
            source,
        })?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| TokenStoreError::Corrupt {
                place: self.path.display().to_string(),
                detail: format!("line {} column {}", e.line(), e.column()),
            })
    }

    async fn save(&self, tokens: &TokenSet) -> Result<(), TokenStoreError> {
        let io = |action, source| TokenStoreError::Io {
            action,
            path: self.path.clone(),
            source,
        };
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| io("creating the folder of", e))?;
        let json = serde_json::to_vec_pretty(tokens)
            .map_err(|e| io("encoding", std::io::Error::other(e)))?;
        let mut file = tempfile::Builder::new()
            .prefix(".tokens-")
            .permissions(private())
            .tempfile_in(dir)
            .map_err(|e| io("creating a temporary file beside", e))?;
        file.write_all(&json).map_err(|e| io("writing", e))?;
        file.as_file().sync_all().map_err(|e| io("flushing", e))?;
        file.persist(&self.path)
            .map_err(|e| io("replacing", e.error))?;
        Ok(())
    }

    async fn clear(&self) -> Result<(), TokenStoreError> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(TokenStoreError::Io {
                action: "removing",
                path: self.path.clone(),
                source,
            }),
        }
    }

    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }
}

#[cfg(unix)]
fn private() -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::Permissions::from_mode(0o600)
}

#[cfg(not(unix))]
fn private() -> std::fs::Permissions {
    std::fs::File::open(".")
        .and_then(|f| f.metadata())
        .map(|m| m.permissions())
        .expect("current folder")
}

/// Tokens from `SMASHRUN_ACCESS_TOKEN` / `SMASHRUN_REFRESH_TOKEN`: read-only.
#[derive(Clone, Debug)]
pub struct EnvTokenStore {
    access: Option<Secret>,
    refresh: Option<Secret>,
}

impl EnvTokenStore {
    /// A store holding what the environment said.
    pub fn new(access: Option<Secret>, refresh: Option<Secret>) -> Self {
        EnvTokenStore { access, refresh }
    }
}

#[async_trait]
impl TokenStore for EnvTokenStore {
    async fn load(&self) -> Result<Option<TokenSet>, TokenStoreError> {
        // the environment says nothing of expiry: assume a fresh 12-week token, never refreshed early
        Ok(self.access.clone().map(|access| TokenSet {
            access_token: access,
            refresh_token: self.refresh.clone(),
            expires_at: Timestamp::now() + jiff::SignedDuration::from_secs(7_257_600),
            issued_at: None,
            scope: None,
        }))
    }

    async fn save(&self, _tokens: &TokenSet) -> Result<(), TokenStoreError> {
        Err(TokenStoreError::ReadOnly(
            "tokens from the environment cannot be saved: the refreshed token lives only in this process; use MYRUNSTREAK_TOKEN_STORE=file or aws to keep it".into(),
        ))
    }

    async fn clear(&self) -> Result<(), TokenStoreError> {
        Err(TokenStoreError::ReadOnly(
            "remove SMASHRUN_ACCESS_TOKEN and SMASHRUN_REFRESH_TOKEN from your environment or .env"
                .into(),
        ))
    }

    fn describe(&self) -> String {
        "environment (SMASHRUN_ACCESS_TOKEN)".into()
    }
}

/// The client's [`TokenProvider`]: loads from a store, refreshes when due (half-life) or after a
/// 401, and saves refreshed tokens back. The clock is a function so tests can move it.
pub struct StoredTokens {
    store: Arc<dyn TokenStore>,
    oauth: Option<OAuthClient>,
    current: Mutex<Option<TokenSet>>,
    now: Arc<dyn Fn() -> Timestamp + Send + Sync>,
}

impl StoredTokens {
    /// Tokens from `store`, refreshed through `oauth` (without it, tokens are never refreshed).
    pub fn new(
        store: Arc<dyn TokenStore>,
        oauth: Option<OAuthClient>,
        now: Arc<dyn Fn() -> Timestamp + Send + Sync>,
    ) -> Self {
        StoredTokens {
            store,
            oauth,
            current: Mutex::new(None),
            now,
        }
    }

    /// The token set in use (loading it if needed).
    pub async fn current(&self) -> Result<TokenSet, ClientError> {
        let mut guard = self.current.lock().await;
        if guard.is_none() {
            *guard = Some(self.load().await?);
        }
        Ok(guard.clone().expect("loaded above"))
    }

    async fn load(&self) -> Result<TokenSet, ClientError> {
        match self.store.load().await {
            Ok(Some(t)) => Ok(t),
            Ok(None) => Err(ClientError::Reauthorize {
                description: format!("no tokens in {}", self.store.describe()),
            }),
            Err(e) => Err(ClientError::Config(e.to_string())),
        }
    }

    /// Refreshes now, whatever the half-life says, and saves the result.
    pub async fn refresh_now(&self) -> Result<TokenSet, ClientError> {
        let mut guard = self.current.lock().await;
        let tokens = match guard.take() {
            Some(t) => t,
            None => self.load().await?,
        };
        let fresh = self.refreshed(&tokens).await;
        match fresh {
            Ok(f) => {
                *guard = Some(f.clone());
                Ok(f)
            }
            Err(e) => {
                *guard = Some(tokens);
                Err(e)
            }
        }
    }

    async fn refreshed(&self, tokens: &TokenSet) -> Result<TokenSet, ClientError> {
        let Some(oauth) = &self.oauth else {
            return Err(ClientError::Reauthorize {
                description: "no SmashRun client credentials to refresh with".into(),
            });
        };
        let fresh = oauth.refresh(tokens, (self.now)()).await?;
        if let Err(e) = self.store.save(&fresh).await {
            tracing::warn!(store = %self.store.describe(), "refreshed tokens could not be saved: {e}");
        } else {
            tracing::info!(store = %self.store.describe(), expires_at = %fresh.expires_at, "SmashRun tokens refreshed and saved");
        }
        Ok(fresh)
    }
}

impl TokenProvider for StoredTokens {
    fn access_token(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            let tokens = self.current().await?;
            let now = (self.now)();
            if tokens.needs_refresh(now) && self.oauth.is_some() {
                match self.refresh_now().await {
                    Ok(fresh) => return Ok(fresh.access_token),
                    // not fatal while the access token still lives: try again next time
                    Err(e) if !tokens.is_expired(now) => {
                        tracing::warn!("refresh at half-life failed, using the current token: {e}")
                    }
                    Err(e) => return Err(e),
                }
            }
            if tokens.is_expired(now) && tokens.refresh_token.is_none() {
                return Err(ClientError::Reauthorize {
                    description: format!("the token expired at {}", tokens.expires_at),
                });
            }
            Ok(tokens.access_token)
        })
    }

    fn refresh(&self, rejected: &Secret) -> TokenFuture<'_> {
        let rejected = rejected.clone();
        Box::pin(async move {
            // another request may have refreshed already
            let current = self.current().await?;
            if current.access_token != rejected {
                return Ok(current.access_token);
            }
            Ok(self.refresh_now().await?.access_token)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> TokenSet {
        TokenSet::issued(
            Secret::new("acc"),
            Some(Secret::new("ref")),
            Timestamp::now(),
            jiff::SignedDuration::from_hours(10),
        )
    }

    #[tokio::test]
    async fn file_store_writes_0600_atomically_and_refuses_open_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/tokens.json");
        let store = FileTokenStore::new(&path, false);
        assert!(store.load().await.unwrap().is_none());
        store.save(&tokens()).await.unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
            assert_eq!(
                store.load().await.unwrap().unwrap().access_token,
                Secret::new("acc")
            );
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let err = store.load().await.unwrap_err().to_string();
            assert!(err.contains("chmod 600"), "{err}");
            assert!(
                FileTokenStore::new(&path, true)
                    .load()
                    .await
                    .unwrap()
                    .is_some()
            );
        }
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");
        store.clear().await.unwrap();
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn corrupt_file_says_how_to_recover_without_echoing_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        std::fs::write(&path, "{\"access_token\": \"sekrit\"").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let err = FileTokenStore::new(&path, false)
            .load()
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("auth login") && !err.contains("sekrit"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn env_store_cannot_save() {
        let store = EnvTokenStore::new(Some(Secret::new("a")), None);
        assert!(store.load().await.unwrap().is_some());
        let err = store.save(&tokens()).await.unwrap_err().to_string();
        assert!(err.contains("cannot be saved"), "{err}");
    }
}
