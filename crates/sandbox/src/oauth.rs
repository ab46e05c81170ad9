//! `/oauth2/authenticate`, `/oauth2/token` and `/v1/auth/{token}`, as SmashRun answers them.
//!
//! The consent page is also where a runner says who they are: it offers every account (a
//! `<select name="account">` of user ids), and the decision signs in as the one chosen. Without
//! a choice (auto-approve, or a form that sends none) the account set through
//! `/_sandbox/sign-in-as` signs in, the first by default. Codes and tokens are bound to the
//! account they were issued for, and a refresh keeps it.

use std::collections::HashMap;

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use jiff::SignedDuration;
use maud::{DOCTYPE, Markup, html};
use serde_json::json;
use url::Url;

use crate::pkce::{s256_challenge, well_formed_verifier};
use crate::state::{Code, Token};
use crate::{PkceMode, Shared, lock};

/// The client id of SmashRun's implicit flow for personal tokens.
const IMPLICIT_CLIENT: &str = "client";
/// Lifetime of a personal token from the implicit flow: about 60 days.
const IMPLICIT_LIFETIME: SignedDuration = SignedDuration::from_hours(24 * 60);
const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";
const SCOPES: [&str; 2] = ["read_activity", "write_activity"];

pub(crate) fn routes() -> axum::Router<Shared> {
    Router::new()
        .route("/oauth2/authenticate", get(authenticate).post(decide))
        .route("/oauth2/token", axum::routing::post(token))
        .route("/v1/auth/{token}", get(token_status))
}

type Params = HashMap<String, String>;

fn page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · SmashRun sandbox" }
                style { "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}button{font-size:1.1rem;padding:.5rem 1.2rem;margin-right:.5rem}" }
            }
            body { h1 { (title) } (body) }
        }
    }
}

fn bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(page("Cannot authorize", html! { p { (message) } }).into_string()),
    )
        .into_response()
}

/// What an authorization request must carry, checked before anything is shown.
struct Request {
    client_id: String,
    redirect_uri: String,
    response_type: String,
    scope: String,
    state: Option<String>,
    /// `code_challenge`, as sent.
    code_challenge: Option<String>,
    /// `code_challenge_method`, as sent.
    code_challenge_method: Option<String>,
}

fn validate(shared: &Shared, p: &Params) -> Result<Request, Response> {
    let client_id = p.get("client_id").cloned().unwrap_or_default();
    let response_type = p.get("response_type").cloned().unwrap_or_default();
    let redirect_uri = p.get("redirect_uri").cloned().unwrap_or_default();
    let scope = p
        .get("scope")
        .cloned()
        .unwrap_or_else(|| "read_activity".into());
    if let Some(bad) = scope
        .split(' ')
        .find(|s| !s.is_empty() && !SCOPES.contains(s))
    {
        return Err(bad_request(&format!("Unknown scope {bad:?}.")));
    }
    match response_type.as_str() {
        "code" => {
            let state = lock(shared);
            let Some(client) = state.config.clients.iter().find(|c| c.id == client_id) else {
                return Err(bad_request("Unknown client_id."));
            };
            if !client.redirect_uris.contains(&redirect_uri) {
                return Err(bad_request(
                    "redirect_uri is not registered for this client.",
                ));
            }
        }
        "token" if client_id == IMPLICIT_CLIENT => {}
        "token" => {
            return Err(bad_request(
                "The implicit flow is only for client_id=client.",
            ));
        }
        _ => return Err(bad_request("response_type must be code or token.")),
    }
    Ok(Request {
        client_id,
        redirect_uri,
        response_type,
        scope,
        state: p.get("state").cloned(),
        code_challenge: p.get("code_challenge").cloned(),
        code_challenge_method: p.get("code_challenge_method").cloned(),
    })
}

/// Why the PKCE parameters of an authorization request are refused under `mode`, if they are.
fn pkce_refusal(mode: PkceMode, request: &Request) -> Option<&'static str> {
    let challenge = request.code_challenge.as_deref()?;
    match mode {
        PkceMode::Ignore => None,
        PkceMode::Reject => Some("PKCE (code_challenge) is not supported."),
        // RFC 7636 §4.3: an absent method means plain
        PkceMode::Enforce => match request.code_challenge_method.as_deref() {
            Some("S256") if challenge.len() == 43 => None,
            Some("S256") => Some("code_challenge is not an S256 challenge."),
            _ => Some("Only the S256 code_challenge_method is supported."),
        },
    }
}

/// Refuses the request the way an OAuth server does once the redirect URI is trusted: back to
/// the app with `error=invalid_request` (a page for the out-of-band flow, which has no redirect).
fn refuse(request: &Request, description: &str) -> Response {
    if request.redirect_uri.is_empty() || request.redirect_uri == OOB {
        return bad_request(description);
    }
    let mut params = vec![
        ("error", "invalid_request".to_owned()),
        ("error_description", description.to_owned()),
    ];
    if let Some(s) = &request.state {
        params.push(("state", s.clone()));
    }
    redirect_with(
        &request.redirect_uri,
        &params,
        request.response_type == "token",
    )
}

async fn authenticate(State(shared): State<Shared>, Query(p): Query<Params>) -> Response {
    let request = match validate(&shared, &p) {
        Ok(r) => r,
        Err(response) => return response,
    };
    let (auto_approve, pkce) = {
        let state = lock(&shared);
        (state.config.auto_approve, state.config.pkce)
    };
    if let Some(why) = pkce_refusal(pkce, &request) {
        return refuse(&request, why);
    }
    if auto_approve {
        return approve(&shared, &request, None);
    }
    let mut hidden = vec![
        ("client_id", request.client_id.as_str()),
        ("redirect_uri", request.redirect_uri.as_str()),
        ("response_type", request.response_type.as_str()),
        ("scope", request.scope.as_str()),
        ("state", request.state.as_deref().unwrap_or("")),
    ];
    // the consent form carries PKCE through to the decision
    for (name, value) in [
        ("code_challenge", &request.code_challenge),
        ("code_challenge_method", &request.code_challenge_method),
    ] {
        if let Some(v) = value {
            hidden.push((name, v.as_str()));
        }
    }
    let (accounts, chosen): (Vec<(i64, String)>, i64) = {
        let state = lock(&shared);
        let accounts = state
            .accounts
            .iter()
            .map(|a| {
                let label = format!("{} ({} {})", a.user_name, a.first_name, a.last_name);
                (a.user_id, label)
            })
            .collect();
        (accounts, state.accounts[state.sign_in_as].user_id)
    };
    let body = html! {
        p { "The app " strong { (request.client_id) } " asks to " strong { (request.scope.replace('_', " ")) } "." }
        form method="post" action="/oauth2/authenticate" {
            @for (name, value) in hidden { input type="hidden" name=(name) value=(value); }
            p {
                label for="account" { "Sign in as " }
                select name="account" id="account" {
                    @for (id, label) in &accounts {
                        option value=(id) selected[*id == chosen] { (label) }
                    }
                }
            }
            button type="submit" name="decision" value="approve" id="approve" { "Approve" }
            button type="submit" name="decision" value="deny" id="deny" { "Deny" }
        }
    };
    Html(page("Authorize access", body).into_string()).into_response()
}

async fn decide(State(shared): State<Shared>, Form(p): Form<Params>) -> Response {
    let request = match validate(&shared, &p) {
        Ok(r) => r,
        Err(response) => return response,
    };
    let pkce = lock(&shared).config.pkce;
    if let Some(why) = pkce_refusal(pkce, &request) {
        return refuse(&request, why);
    }
    if p.get("decision").map(String::as_str) == Some("approve") {
        let chosen = match p.get("account") {
            None => None,
            Some(text) => {
                let state = lock(&shared);
                match text.trim().parse::<i64>() {
                    Ok(id) => match state.by_user.get(&id) {
                        Some(&account) => Some(account),
                        None => return bad_request(&format!("There is no account {id}.")),
                    },
                    Err(_) => return bad_request("account must be a user id (a number)."),
                }
            }
        };
        return approve(&shared, &request, chosen);
    }
    let mut params = vec![
        ("error", "access_denied".to_owned()),
        ("error_description", "The user denied access.".to_owned()),
    ];
    if let Some(s) = &request.state {
        params.push(("state", s.clone()));
    }
    redirect_with(&request.redirect_uri, &params, false)
}

/// Issues a code (or an implicit token) for `account`, or for the sign-in-as account.
fn approve(shared: &Shared, request: &Request, account: Option<usize>) -> Response {
    let mut state = lock(shared);
    let account = account.unwrap_or(state.sign_in_as);
    let now = state.now();
    if request.response_type == "token" {
        let access = state.random_token();
        state.tokens.insert(
            access.clone(),
            Token {
                client_id: request.client_id.clone(),
                scope: request.scope.clone(),
                expires: now + IMPLICIT_LIFETIME,
                revoked: false,
                account,
            },
        );
        let mut params = vec![
            ("access_token", access),
            ("token_type", "Bearer".to_owned()),
            ("expires_in", IMPLICIT_LIFETIME.as_secs().to_string()),
        ];
        if let Some(s) = &request.state {
            params.push(("state", s.clone()));
        }
        if request.redirect_uri.is_empty() || request.redirect_uri == OOB {
            let token = params[0].1.clone();
            return Html(
                page(
                    "Your personal token",
                    html! { p { "Paste this token into your app:" } pre id="token" { (token) } },
                )
                .into_string(),
            )
            .into_response();
        }
        return redirect_with(&request.redirect_uri, &params, true);
    }
    let code = state.random_token();
    state.codes.insert(
        code.clone(),
        Code {
            client_id: request.client_id.clone(),
            redirect_uri: request.redirect_uri.clone(),
            scope: request.scope.clone(),
            issued: now,
            used: false,
            pkce_challenge: request.code_challenge.clone(),
            account,
        },
    );
    drop(state);
    if request.redirect_uri == OOB {
        return Html(
            page(
                "Your authorization code",
                html! { p { "Paste this code into your app:" } pre id="code" { (code) } },
            )
            .into_string(),
        )
        .into_response();
    }
    let mut params = vec![("code", code)];
    if let Some(s) = &request.state {
        params.push(("state", s.clone()));
    }
    redirect_with(&request.redirect_uri, &params, false)
}

fn redirect_with(redirect_uri: &str, params: &[(&str, String)], fragment: bool) -> Response {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return bad_request("redirect_uri is not a URL.");
    };
    if fragment {
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
            .finish();
        url.set_fragment(Some(&encoded));
    } else {
        url.query_pairs_mut()
            .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
    }
    Redirect::to(url.as_str()).into_response()
}

fn token_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

async fn token(State(shared): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The body must be application/x-www-form-urlencoded.",
        );
    }
    let p: Params = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let (Some(client_id), Some(secret)) = (p.get("client_id"), p.get("client_secret")) else {
        // SmashRun wants credentials in the body; HTTP Basic was never seen working.
        return token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client_id and client_secret are required in the request body.",
        );
    };
    let mut state = lock(&shared);
    if !state
        .config
        .clients
        .iter()
        .any(|c| &c.id == client_id && &c.secret == secret)
    {
        return token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Unknown client or wrong secret.",
        );
    }
    let now = state.now();
    let (scope, account) = match p.get("grant_type").map(String::as_str) {
        Some("authorization_code") => {
            let (Some(code), Some(redirect_uri)) = (p.get("code"), p.get("redirect_uri")) else {
                return token_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "code and redirect_uri are required.",
                );
            };
            let lifetime = state.config.code_lifetime;
            let pkce = state.config.pkce;
            let Some(entry) = state.codes.get_mut(code) else {
                return token_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Unknown authorization code.",
                );
            };
            if entry.used {
                return token_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "The authorization code was already used.",
                );
            }
            if now.duration_since(entry.issued) > lifetime {
                return token_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "The authorization code expired.",
                );
            }
            if &entry.client_id != client_id || &entry.redirect_uri != redirect_uri {
                return token_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "The code was issued to another client or redirect_uri.",
                );
            }
            if pkce == PkceMode::Enforce {
                let verifier = p.get("code_verifier");
                let problem = match (&entry.pkce_challenge, verifier) {
                    (None, _) => Some(
                        "This server requires PKCE: the authorization request had no S256 code_challenge.",
                    ),
                    (Some(_), None) => Some("code_verifier is required (PKCE)."),
                    (Some(_), Some(v)) if !well_formed_verifier(v) => {
                        Some("code_verifier is malformed (PKCE).")
                    }
                    (Some(c), Some(v)) if &s256_challenge(v) != c => {
                        Some("code_verifier does not match the code_challenge (PKCE).")
                    }
                    _ => None,
                };
                if let Some(description) = problem {
                    return token_error(StatusCode::BAD_REQUEST, "invalid_grant", description);
                }
            }
            entry.used = true;
            (entry.scope.clone(), entry.account)
        }
        Some("refresh_token") => {
            let Some(refresh) = p.get("refresh_token") else {
                return token_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "refresh_token is required.",
                );
            };
            let Some(entry) = state.refresh_tokens.get(refresh) else {
                return token_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Unknown refresh token.",
                );
            };
            if entry.revoked || entry.expires <= now || &entry.client_id != client_id {
                return token_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "The refresh token is expired or revoked.",
                );
            }
            let granted = (entry.scope.clone(), entry.account);
            if state.config.rotate_refresh_tokens {
                state.refresh_tokens.remove(refresh);
            }
            granted
        }
        Some(other) => {
            return token_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                &format!("grant_type {other:?} is not supported."),
            );
        }
        None => {
            return token_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "grant_type is required.",
            );
        }
    };
    let refreshing = p.get("grant_type").map(String::as_str) == Some("refresh_token");
    let access = state.random_token();
    let lifetime = state.config.access_token_lifetime;
    state.tokens.insert(
        access.clone(),
        Token {
            client_id: client_id.clone(),
            scope: scope.clone(),
            expires: now + lifetime,
            revoked: false,
            account,
        },
    );
    let mut body = json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": lifetime.as_secs(),
        // the scopes granted, as OAuth 2.0 servers commonly say (RFC 6749 5.1)
        "scope": scope.clone(),
    });
    if !refreshing || state.config.rotate_refresh_tokens {
        let refresh = state.random_token();
        let refresh_lifetime = state.config.refresh_token_lifetime;
        state.refresh_tokens.insert(
            refresh.clone(),
            Token {
                client_id: client_id.clone(),
                scope,
                expires: now + refresh_lifetime,
                revoked: false,
                account,
            },
        );
        body["refresh_token"] = json!(refresh);
    }
    // a quirk: claim an absurd lifetime (the token still lives its real one)
    if let Some(claimed) = &state.config.quirks.token_expires_in {
        body["expires_in"] = claimed.clone();
    }
    Json(body).into_response()
}

async fn token_status(State(shared): State<Shared>, Path(token): Path<String>) -> Response {
    let state = lock(&shared);
    let now = state.now();
    let left = state
        .tokens
        .get(&token)
        .filter(|t| !t.revoked)
        .map_or(0, |t| t.expires.duration_since(now).as_secs().max(0));
    match &state.config.quirks.token_expires_in {
        // a quirk: claim an absurd lifetime for a live token (a dead one stays 0)
        Some(claimed) if left > 0 => Json(json!({ "expires_in": claimed })).into_response(),
        _ => Json(json!({ "expires_in": left })).into_response(),
    }
}
