//! One runner's SmashRun tokens, sealed in the site's account book: the [`TokenStore`] a
//! runner's [`crate::Wiring`] refreshes and saves through, like any other.

use std::sync::Arc;

use async_trait::async_trait;
use smashrun_client::TokenSet;

use super::{AccountBook, Sealer};
use crate::tokens::{TokenStore, TokenStoreError};

/// A runner's tokens, sealed (bound to the runner) in the account book.
pub struct SealedTokenStore {
    runner_id: String,
    book: Arc<dyn AccountBook>,
    sealer: Arc<dyn Sealer>,
    context: String,
}

impl SealedTokenStore {
    /// The store of `runner_id`'s tokens, sealed with `context` as associated data.
    pub fn new(
        runner_id: String,
        book: Arc<dyn AccountBook>,
        sealer: Arc<dyn Sealer>,
        context: String,
    ) -> Self {
        SealedTokenStore {
            runner_id,
            book,
            sealer,
            context,
        }
    }

    fn remote(e: impl std::fmt::Display) -> TokenStoreError {
        TokenStoreError::Remote(e.to_string())
    }
}

#[async_trait]
impl TokenStore for SealedTokenStore {
    async fn load(&self) -> Result<Option<TokenSet>, TokenStoreError> {
        let runner = self
            .book
            .runner(&self.runner_id)
            .await
            .map_err(Self::remote)?;
        let Some(sealed) = runner.and_then(|r| r.tokens) else {
            return Ok(None);
        };
        let plain = self
            .sealer
            .open(&sealed, &self.context)
            .await
            .map_err(Self::remote)?;
        serde_json::from_slice(&plain)
            .map(Some)
            .map_err(|e| TokenStoreError::Corrupt {
                place: self.describe(),
                detail: format!("not a token set after opening: {}", e.classify_name()),
            })
    }

    async fn save(&self, tokens: &TokenSet) -> Result<(), TokenStoreError> {
        let plain = serde_json::to_vec(tokens).map_err(Self::remote)?;
        let sealed = self
            .sealer
            .seal(&plain, &self.context)
            .await
            .map_err(Self::remote)?;
        self.book
            .set_tokens(&self.runner_id, Some(&sealed))
            .await
            .map_err(Self::remote)
    }

    async fn clear(&self) -> Result<(), TokenStoreError> {
        self.book
            .set_tokens(&self.runner_id, None)
            .await
            .map_err(Self::remote)
    }

    fn describe(&self) -> String {
        format!("the site's sealed tokens of runner {}", self.runner_id)
    }
}

trait ClassifyName {
    fn classify_name(&self) -> &'static str;
}

impl ClassifyName for serde_json::Error {
    /// The kind of error only: serde's message may quote the (secret) input.
    fn classify_name(&self) -> &'static str {
        match self.classify() {
            serde_json::error::Category::Io => "an I/O error",
            serde_json::error::Category::Syntax => "invalid JSON",
            serde_json::error::Category::Data => "unexpected fields",
            serde_json::error::Category::Eof => "cut short",
        }
    }
}
