use std::time::Duration;

use thiserror::Error;

/// What can go wrong talking to SmashRun. Every variant about a request names the method and
/// the path (never the token) so that a log line says where it happened.
#[derive(Debug, Error)]
pub enum Error {
    /// The token was refused even after one refresh: the user must log in again.
    #[error(
        "{method} {path}: SmashRun refused the access token (401) even after a refresh; run `myrunstreak auth login`"
    )]
    Unauthorized {
        /// HTTP method.
        method: &'static str,
        /// Path under the API base.
        path: String,
    },
    /// SmashRun said the grant is dead (code expired or reused, refresh token expired or revoked).
    #[error(
        "SmashRun no longer accepts this authorization ({description}); run `myrunstreak auth login` to authorize again"
    )]
    Reauthorize {
        /// SmashRun's explanation.
        description: String,
    },
    /// The OAuth server answered with another error.
    #[error("SmashRun's OAuth server answered {code}: {description}")]
    OAuth {
        /// `invalid_client`, ...
        code: String,
        /// SmashRun's explanation.
        description: String,
    },
    /// The `state` that came back is not the one sent: the answer is not for this login.
    #[error("the authorization answer's state does not match this login; start `auth login` again")]
    StateMismatch,
    /// The user refused, or SmashRun refused, the authorization.
    #[error("authorization was not granted: {0}")]
    Denied(String),
    /// Still rate limited after the allowed waits.
    #[error(
        "{method} {path}: still rate limited by SmashRun after waiting; last Retry-After {retry_after:?}"
    )]
    RateLimited {
        /// HTTP method.
        method: &'static str,
        /// Path under the API base.
        path: String,
        /// The last wait asked for.
        retry_after: Option<Duration>,
    },
    /// No such activity, style or endpoint.
    #[error("{method} {path}: not found (404)")]
    NotFound {
        /// HTTP method.
        method: &'static str,
        /// Path under the API base.
        path: String,
    },
    /// Any other unexpected status, after retries where retrying made sense.
    #[error("{method} {path}: SmashRun answered {status}: {body}")]
    Status {
        /// HTTP method.
        method: &'static str,
        /// Path under the API base.
        path: String,
        /// The status code.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// The network failed (connect, timeout, reset), after retries.
    #[error("{method} {path}: could not reach SmashRun at {base}: {source}")]
    Transport {
        /// HTTP method.
        method: &'static str,
        /// Path under the API base.
        path: String,
        /// The server's base URL.
        base: String,
        /// What failed.
        #[source]
        source: reqwest::Error,
    },
    /// The body was not the JSON expected, after retries (a truncated body, usually).
    #[error("{method} {path}: the answer is not valid JSON ({detail}); it began with {snippet:?}")]
    Decode {
        /// HTTP method.
        method: &'static str,
        /// Path under the API base.
        path: String,
        /// What the parser said.
        detail: String,
        /// The start of the body.
        snippet: String,
    },
    /// SmashRun refused a write for want of the `write_activity` scope (403, or a 401 that a
    /// refreshed token did not cure).
    #[error(
        "SmashRun refused to create the activity ({status}: {message}): this sign-in may only read; run `myrunstreak auth login --write` to allow writing"
    )]
    MissingScope {
        /// 401 or 403.
        status: u16,
        /// SmashRun's explanation.
        message: String,
    },
    /// SmashRun refused a write for what it carried (400, 415, 422, ...): sending it again would
    /// not help.
    #[error("SmashRun refused to create the activity ({status}): {message}")]
    WriteRefused {
        /// The status code.
        status: u16,
        /// SmashRun's explanation.
        message: String,
    },
    /// A setting is missing or wrong.
    #[error("{0}")]
    Config(String),
}

impl Error {
    /// Whether the user has to log in again to fix this.
    pub fn needs_login(&self) -> bool {
        matches!(self, Error::Unauthorized { .. } | Error::Reauthorize { .. })
    }

    /// Whether a write that failed this way may nevertheless have been done: the request may
    /// have reached SmashRun and only the answer was lost (a dropped connection, a 5xx, a
    /// timeout). The caller looks before it tries again.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            Error::Transport { .. } | Error::Decode { .. } | Error::Status { .. }
        )
    }

    /// Whether an unpaged listing that failed this way is worth replacing by pages: a broken,
    /// slow or refused whole answer may come through page by page; a dead token or a rate limit
    /// will not.
    pub fn worth_paging(&self) -> bool {
        matches!(
            self,
            Error::Transport { .. } | Error::Decode { .. } | Error::Status { .. }
        )
    }
}
