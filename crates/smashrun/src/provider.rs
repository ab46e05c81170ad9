//! The token provider port: where the client gets its access token. The caller owns storage
//! and refresh policy; the client only asks, and asks once more after a 401.

use std::future::Future;
use std::pin::Pin;

use crate::{Error, Secret};

/// A boxed future of a token.
pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<Secret, Error>> + Send + 'a>>;

/// Where the client gets its access token; the caller owns storage and refresh policy.
pub trait TokenProvider: Send + Sync {
    /// The token to send now. An implementation refreshes first when the token is due.
    fn access_token(&self) -> TokenFuture<'_>;
    /// Called once after SmashRun answered 401 to `rejected`: refresh and return the new token,
    /// or [`Error::Reauthorize`] when that is impossible.
    fn refresh(&self, rejected: &Secret) -> TokenFuture<'_>;
}

/// A token that cannot be refreshed (a personal token, or a test).
#[derive(Clone, Debug)]
pub struct StaticToken(pub Secret);

impl TokenProvider for StaticToken {
    fn access_token(&self) -> TokenFuture<'_> {
        let token = self.0.clone();
        Box::pin(async move { Ok(token) })
    }

    fn refresh(&self, _rejected: &Secret) -> TokenFuture<'_> {
        Box::pin(async {
            Err(Error::Reauthorize {
                description: "this token cannot be refreshed".into(),
            })
        })
    }
}
