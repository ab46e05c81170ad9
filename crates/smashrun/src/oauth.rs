//! SmashRun's OAuth 2.0: the authorization URL with a fresh `state`, the code exchange, refresh
//! and token status. Built on the `oauth2` crate, with client credentials in the request body
//! (SmashRun never accepted HTTP Basic) and our own reqwest client underneath.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenResponse};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, RedirectUrl, RefreshToken, RequestTokenError, TokenResponse, TokenUrl,
};
use url::Url;

use crate::{Error, Secret, TokenSet};

/// Lifetime assumed when SmashRun does not say: 12 weeks.
const DEFAULT_LIFETIME: SignedDuration = SignedDuration::from_secs(7_257_600);

/// What the OAuth client needs to know.
#[derive(Clone, Debug)]
pub struct OAuthConfig {
    /// `https://secure.smashrun.com/oauth2` or a stand-in.
    pub oauth_url: String,
    /// `https://api.smashrun.com/v1` or a stand-in (for token status).
    pub api_url: String,
    /// The app's client id.
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: Secret,
    /// Where SmashRun sends the user back.
    pub redirect_uri: String,
}

/// A permission to ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Read activities: all MyRunStreak needs.
    ReadActivity,
    /// Write activities.
    WriteActivity,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::ReadActivity => "read_activity",
            Scope::WriteActivity => "write_activity",
        }
    }
}

/// A login in progress: the URL to open and the `state` it must come back with.
#[derive(Debug)]
pub struct Authorization {
    /// Where to send the user.
    pub url: Url,
    state: Secret,
}

impl Authorization {
    /// Checks the `state` of the answer against the one sent.
    pub fn verify_state(&self, returned: Option<&str>) -> Result<(), Error> {
        match returned {
            Some(s) if s == self.state.expose() => Ok(()),
            _ => Err(Error::StateMismatch),
        }
    }
}

type Configured =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

/// SmashRun's OAuth endpoints.
#[derive(Clone, Debug)]
pub struct OAuthClient {
    config: OAuthConfig,
    client: Configured,
    http: reqwest::Client,
}

impl OAuthClient {
    /// A client for `config`, sending with `http`.
    pub fn new(config: OAuthConfig, http: reqwest::Client) -> Result<Self, Error> {
        if config.client_id.trim().is_empty() {
            return Err(Error::Config(
                "no SmashRun client id: register an app at https://api.smashrun.com/register and set SMASHRUN_CLIENT_ID (and SMASHRUN_CLIENT_SECRET) in .env".into(),
            ));
        }
        let base = config.oauth_url.trim_end_matches('/');
        let bad =
            |what: &str, e: url::ParseError| Error::Config(format!("{what} is not a URL: {e}"));
        let client = BasicClient::new(ClientId::new(config.client_id.clone()))
            .set_client_secret(ClientSecret::new(config.client_secret.expose().to_owned()))
            .set_auth_uri(
                AuthUrl::new(format!("{base}/authenticate"))
                    .map_err(|e| bad("SMASHRUN_OAUTH_URL", e))?,
            )
            .set_token_uri(
                TokenUrl::new(format!("{base}/token")).map_err(|e| bad("SMASHRUN_OAUTH_URL", e))?,
            )
            .set_redirect_uri(
                RedirectUrl::new(config.redirect_uri.clone())
                    .map_err(|e| bad("SMASHRUN_REDIRECT_URI", e))?,
            )
            .set_auth_type(AuthType::RequestBody);
        Ok(OAuthClient {
            config,
            client,
            http,
        })
    }

    /// The settings in use.
    pub fn config(&self) -> &OAuthConfig {
        &self.config
    }

    /// The URL to send the user to, with a fresh random `state`.
    pub fn authorize(&self, scopes: &[Scope]) -> Authorization {
        let mut request = self.client.authorize_url(CsrfToken::new_random);
        for scope in scopes {
            request = request.add_scope(oauth2::Scope::new(scope.as_str().to_owned()));
        }
        let (url, state) = request.url();
        Authorization {
            url,
            state: Secret::new(state.secret().clone()),
        }
    }

    /// Exchanges an authorization code for tokens issued at `now`.
    pub async fn exchange(&self, code: &str, now: Timestamp) -> Result<TokenSet, Error> {
        let send = |request| send(self.http.clone(), request);
        let response = self
            .client
            .exchange_code(AuthorizationCode::new(code.trim().to_owned()))
            .request_async(&send)
            .await
            .map_err(|e| self.map_error(e))?;
        Ok(to_token_set(&response, now))
    }

    /// Refreshes `tokens`; a response without a refresh token keeps the old one.
    pub async fn refresh(&self, tokens: &TokenSet, now: Timestamp) -> Result<TokenSet, Error> {
        let Some(refresh) = &tokens.refresh_token else {
            return Err(Error::Reauthorize {
                description: "this token has no refresh token (a personal token?)".into(),
            });
        };
        let send = |request| send(self.http.clone(), request);
        let response = self
            .client
            .exchange_refresh_token(&RefreshToken::new(refresh.expose().to_owned()))
            .request_async(&send)
            .await
            .map_err(|e| self.map_error(e))?;
        Ok(tokens.merged_with_refresh(to_token_set(&response, now)))
    }

    /// Seconds the access token still lives, by SmashRun's `/auth/{token}` (0 = expired).
    pub async fn token_status(&self, access: &Secret) -> Result<i64, Error> {
        let url = format!(
            "{}/auth/{}",
            self.config.api_url.trim_end_matches('/'),
            access.expose()
        );
        // the path holds the token: errors name a placeholder instead
        let path = "/auth/[token]".to_owned();
        let response = self
            .http
            .get(url)
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| Error::Transport {
                method: "GET",
                path: path.clone(),
                base: self.config.api_url.clone(),
                source: e.without_url(),
            })?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| Error::Transport {
            method: "GET",
            path: path.clone(),
            base: self.config.api_url.clone(),
            source: e.without_url(),
        })?;
        if !status.is_success() {
            return Err(Error::Status {
                method: "GET",
                path,
                status: status.as_u16(),
                body: snippet(&bytes),
            });
        }
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| Error::Decode {
                method: "GET",
                path: path.clone(),
                detail: e.to_string(),
                snippet: snippet(&bytes),
            })?;
        Ok(value
            .get("expires_in")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(0))
    }

    fn map_error(
        &self,
        e: RequestTokenError<reqwest::Error, oauth2::basic::BasicErrorResponse>,
    ) -> Error {
        match e {
            RequestTokenError::ServerResponse(r) => {
                let description = r
                    .error_description()
                    .cloned()
                    .unwrap_or_else(|| r.error().to_string());
                match r.error() {
                    BasicErrorResponseType::InvalidGrant => Error::Reauthorize { description },
                    other => Error::OAuth {
                        code: other.to_string(),
                        description,
                    },
                }
            }
            RequestTokenError::Request(source) => Error::Transport {
                method: "POST",
                path: "/token".into(),
                base: self.config.oauth_url.clone(),
                source: source.without_url(),
            },
            RequestTokenError::Parse(e, body) => Error::Decode {
                method: "POST",
                path: "/token".into(),
                detail: e.to_string(),
                snippet: snippet(&body),
            },
            RequestTokenError::Other(message) => Error::OAuth {
                code: "unexpected_response".into(),
                description: message,
            },
        }
    }
}

fn to_token_set(response: &BasicTokenResponse, now: Timestamp) -> TokenSet {
    let lifetime = response
        .expires_in()
        .and_then(|d| SignedDuration::try_from(d).ok())
        .filter(|d| !d.is_zero())
        .unwrap_or(DEFAULT_LIFETIME);
    let mut set = TokenSet::issued(
        Secret::new(response.access_token().secret().clone()),
        response
            .refresh_token()
            .map(|r| Secret::new(r.secret().clone())),
        now,
        lifetime,
    );
    set.scope = response
        .scopes()
        .map(|s| s.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(" "));
    set
}

/// Sends an oauth2 request with reqwest.
async fn send(
    http: reqwest::Client,
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let response = http
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .timeout(Duration::from_secs(30))
        .send()
        .await?;
    let mut builder = oauth2::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let body = response.bytes().await?.to_vec();
    Ok(builder.body(body).unwrap_or_default())
}

pub(crate) fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut s: String = text.chars().take(120).collect();
    if text.chars().count() > 120 {
        s.push('…');
    }
    s
}
