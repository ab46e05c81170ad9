//! SmashRun's OAuth 2.0: the authorization URL with a fresh `state` (and, when asked for, a PKCE
//! S256 challenge), the code exchange, refresh and token status. Built on the `oauth2` crate,
//! with client credentials in the request body (SmashRun never accepted HTTP Basic) and our own
//! reqwest client underneath.
//!
//! PKCE is off unless [`OAuthConfig::pkce`] says otherwise: nobody knows whether SmashRun
//! tolerates it, and a server that refused it would break every login.

use std::time::Duration;

use jiff::Timestamp;
use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
    BasicTokenIntrospectionResponse,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError,
    StandardRevocableToken, TokenUrl,
};
use url::Url;

use crate::tokens::{TokenAnswer, TokenStatus};
use crate::{Error, Secret, TokenSet};

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
    /// Send a PKCE (S256) challenge with the authorization and its verifier with the exchange.
    pub pkce: bool,
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

/// A login in progress: the URL to open, the `state` it must come back with and, with PKCE, the
/// verifier that [`OAuthClient::exchange`] sends with its code.
#[derive(Debug)]
pub struct Authorization {
    /// Where to send the user.
    pub url: Url,
    state: Secret,
    pkce_verifier: Option<Secret>,
}

impl Authorization {
    /// A login begun by another request (a web site keeps the `state` and the verifier
    /// server-side between sending the browser to SmashRun and its coming back), resumed to
    /// exchange the code. Its `url` is `about:blank`: it is not sent anywhere again.
    pub fn resume(state: Secret, pkce_verifier: Option<Secret>) -> Self {
        Authorization {
            url: Url::parse("about:blank").expect("a valid URL"),
            state,
            pkce_verifier,
        }
    }

    /// The `state` this login sent, to be kept (hashed) until the answer comes back.
    pub fn state(&self) -> &Secret {
        &self.state
    }

    /// The PKCE verifier, when the login sent a challenge, to be kept (sealed) until the code
    /// comes back.
    pub fn pkce_verifier(&self) -> Option<&Secret> {
        self.pkce_verifier.as_ref()
    }

    /// Checks the `state` of the answer against the one sent, in constant time.
    pub fn verify_state(&self, returned: Option<&str>) -> Result<(), Error> {
        match returned {
            Some(s) if constant_time_eq(s.as_bytes(), self.state.expose().as_bytes()) => Ok(()),
            _ => Err(Error::StateMismatch),
        }
    }

    /// Whether this authorization carries a PKCE challenge.
    pub fn uses_pkce(&self) -> bool {
        self.pkce_verifier.is_some()
    }

    /// The error for a redirect that came back with `error=` instead of a code. When this login
    /// sent a PKCE challenge and the server called the request invalid, it says that PKCE is the
    /// likely cause and how to turn it off.
    pub fn refusal(&self, error: &str, description: Option<&str>) -> Error {
        let said = format!("{error} {}", description.unwrap_or_default())
            .trim()
            .to_owned();
        if self.uses_pkce() && error == "invalid_request" {
            return Error::Denied(format!(
                "{said}; this login sent a PKCE challenge (SMASHRUN_PKCE=true), which the server may not support: set SMASHRUN_PKCE=false and log in again"
            ));
        }
        Error::Denied(said)
    }
}

/// Compares without stopping at the first difference, so that the time taken does not tell an
/// attacker how much of a guessed `state` was right. (The length is not secret.)
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// The `oauth2` client with our lenient token answer ([`TokenAnswer`]) in place of its own.
type Unconfigured = oauth2::Client<
    BasicErrorResponse,
    TokenAnswer,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
>;

/// [`Unconfigured`] with its authorization and token URLs set.
type Configured = oauth2::Client<
    BasicErrorResponse,
    TokenAnswer,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

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
        let client = Unconfigured::new(ClientId::new(config.client_id.clone()))
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

    /// The URL to send the user to, with a fresh random `state` and, if the settings ask for
    /// PKCE, a fresh S256 challenge.
    pub fn authorize(&self, scopes: &[Scope]) -> Authorization {
        let mut request = self.client.authorize_url(CsrfToken::new_random);
        for scope in scopes {
            request = request.add_scope(oauth2::Scope::new(scope.as_str().to_owned()));
        }
        let mut pkce_verifier = None;
        if self.config.pkce {
            let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
            request = request.set_pkce_challenge(challenge);
            pkce_verifier = Some(Secret::new(verifier.secret().clone()));
        }
        let (url, state) = request.url();
        Authorization {
            url,
            state: Secret::new(state.secret().clone()),
            pkce_verifier,
        }
    }

    /// Exchanges a code that came back for `authorization` for tokens issued at `now`; sends
    /// the PKCE verifier when the authorization carried a challenge.
    pub async fn exchange(
        &self,
        authorization: &Authorization,
        code: &str,
        now: Timestamp,
    ) -> Result<TokenSet, Error> {
        let send = |request| send(self.http.clone(), request);
        let mut request = self
            .client
            .exchange_code(AuthorizationCode::new(code.trim().to_owned()));
        if let Some(verifier) = &authorization.pkce_verifier {
            request =
                request.set_pkce_verifier(PkceCodeVerifier::new(verifier.expose().to_owned()));
        }
        let response = request.request_async(&send).await.map_err(|e| {
            match self.map_error(e) {
                // a server that insists on PKCE, asked without it: say which setting fixes it
                Error::Reauthorize { description }
                    if !authorization.uses_pkce() && mentions_pkce(&description) =>
                {
                    Error::Reauthorize {
                        description: format!(
                            "{}; the server seems to require PKCE: set SMASHRUN_PKCE=true",
                            description.trim_end_matches('.')
                        ),
                    }
                }
                other => other,
            }
        })?;
        Ok(response.to_token_set(now))
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
        Ok(tokens.merged_with_refresh(response.to_token_set(now)))
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
        let answer: TokenStatus = serde_json::from_slice(&bytes).map_err(|e| Error::Decode {
            method: "GET",
            path: path.clone(),
            detail: e.to_string(),
            snippet: snippet(&bytes),
        })?;
        Ok(answer.seconds_left())
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
            // the answer of the token endpoint may hold tokens, so neither its text nor the
            // parser's message (which can quote a value) goes into the error: only where it broke
            RequestTokenError::Parse(e, _body) => Error::Decode {
                method: "POST",
                path: "/token".into(),
                detail: format!("unexpected token answer at `{}`", e.path()),
                snippet: "[withheld: a token answer may hold tokens]".into(),
            },
            RequestTokenError::Other(message) => Error::OAuth {
                code: "unexpected_response".into(),
                description: message,
            },
        }
    }
}

fn mentions_pkce(description: &str) -> bool {
    let d = description.to_ascii_lowercase();
    d.contains("pkce") || d.contains("code_verifier") || d.contains("code verifier")
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn client(pkce: bool) -> OAuthClient {
        let config = OAuthConfig {
            oauth_url: "http://127.0.0.1:9/oauth2".into(),
            api_url: "http://127.0.0.1:9/v1".into(),
            client_id: "app".into(),
            client_secret: Secret::new("s3cret"),
            redirect_uri: "http://127.0.0.1:9/callback".into(),
            pkce,
        };
        OAuthClient::new(config, reqwest::Client::new()).unwrap()
    }

    fn query(a: &Authorization) -> HashMap<String, String> {
        a.url.query_pairs().into_owned().collect()
    }

    #[test]
    fn pkce_only_when_asked_for() {
        let off = client(false).authorize(&[Scope::ReadActivity]);
        assert!(!off.uses_pkce());
        assert!(!query(&off).contains_key("code_challenge"));
        assert!(!query(&off).contains_key("code_challenge_method"));

        let on = client(true).authorize(&[Scope::ReadActivity]);
        let q = query(&on);
        assert!(on.uses_pkce());
        assert_eq!(q["code_challenge_method"], "S256");
        // base64url of a SHA-256 digest, unpadded
        assert_eq!(q["code_challenge"].len(), 43);
        let verifier = on.pkce_verifier.as_ref().unwrap().expose();
        assert!((43..=128).contains(&verifier.len()));
        assert_ne!(q["code_challenge"], verifier, "S256, never plain");
        let other = client(true).authorize(&[Scope::ReadActivity]);
        assert_ne!(query(&other)["code_challenge"], q["code_challenge"]);
    }

    #[test]
    fn state_is_compared_whole() {
        let a = client(false).authorize(&[Scope::ReadActivity]);
        let state = query(&a)["state"].clone();
        assert!(a.verify_state(Some(&state)).is_ok());
        assert!(a.verify_state(None).is_err());
        assert!(a.verify_state(Some("")).is_err());
        assert!(a.verify_state(Some(&state[..state.len() - 1])).is_err());
        assert!(a.verify_state(Some(&format!("{state}x"))).is_err());
        let mut flipped = state.clone().into_bytes();
        flipped[0] ^= 1;
        assert!(
            a.verify_state(Some(&String::from_utf8(flipped).unwrap()))
                .is_err()
        );
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
    }

    #[test]
    fn a_refused_pkce_request_says_how_to_turn_pkce_off() {
        let on = client(true).authorize(&[Scope::ReadActivity]);
        let e = on
            .refusal("invalid_request", Some("PKCE is not supported."))
            .to_string();
        assert!(e.contains("SMASHRUN_PKCE=false"), "{e}");
        let off = client(false).authorize(&[Scope::ReadActivity]);
        let e = off.refusal("invalid_request", None).to_string();
        assert!(!e.contains("PKCE"), "{e}");
        let denied = on.refusal("access_denied", Some("The user denied access."));
        assert!(matches!(&denied, Error::Denied(d) if d.contains("access_denied")));
        assert!(!denied.to_string().contains("PKCE"));
    }
}
