//! MyRunStreak.com: the many-runner web site over [`myrunstreak_app::site`].
//!
//! Every runner's `/api/v1`, dashboard, day pages and badge are the single-runner [`router`]
//! over that runner's own DuckDB file, built once per runner and reached only through the
//! caller's session (or personal API token): no URL names a runner, so no URL reaches another
//! runner's data. Without a session those paths answer 401.
//!
//! What the site does not assume: that a runner's mirror is a file it may write (it reads a
//! copy kept fresh by the site's [`myrunstreak_app::site::MirrorHome`] and changes it only
//! through that), or that a sync runs in this process (it asks
//! [`myrunstreak_app::site::schedule::SyncRequests`]; on AWS that is a message to the worker's
//! queue). The runners' routers are kept for the `max_routers` most recently seen runners, and
//! a router is checked against the runner's settings at least once a minute (another instance
//! may have changed them).
//!
//! Sessions are opaque random ids in an `HttpOnly`, `SameSite=Lax` cookie (`Secure` behind
//! https), stored server-side as hashes, expiring and revocable. A state-changing request made
//! with the cookie must come from the site's own origin (`Origin`, else `Sec-Fetch-Site`);
//! scripts use a personal API token instead, which carries no ambient authority.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use axum::Router;
use axum::body::Body;
use axum::extract::{Form, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use jiff::Timestamp;
use jiff::civil::Date;
use maud::{DOCTYPE, Markup, html};
use myrunstreak_app::queries::StreakQuery;
use myrunstreak_app::site::reminders::ReminderView;
use myrunstreak_app::site::schedule::{Scheduler, SyncRequests};
use myrunstreak_app::site::{
    ApiTokenRecord, Callback, MirrorError, MirrorLedger, Recent, RunnerAccount, RunnerSettings,
    Site, SiteError, SyncHealth,
};
use myrunstreak_app::{ExportFormat, Goals, Mirror, SyncMode};
use serde::Deserialize;
use tower::ServiceExt;

use crate::{ApiError, ServerConfig, SyncRunner, router};

const SESSION_COOKIE: &str = "mrs_session";
const LOGIN_COOKIE: &str = "mrs_login";

/// The clock the site reads ("now" is an input: tests pass their own).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The site's state.
struct SiteState {
    site: Site,
    syncs: Arc<dyn SyncRequests>,
    clock: Clock,
    /// The single-runner routers of the runners seen last, each built on first use.
    routers: Mutex<Recent<BuiltRouter>>,
    /// Live sessions by hash: runner id and expiry (the book is asked on a miss).
    sessions: RwLock<HashMap<String, (String, Timestamp)>>,
    /// `scheme://host[:port]` of `MYRUNSTREAK_SITE_URL`.
    origin: String,
    secure: bool,
    /// Databases being brought in (one at a time: each is opened and read whole).
    imports: tokio::sync::Semaphore,
}

type Shared = Arc<SiteState>;

/// The embedded site's router (see [`site_router_over`]): the mirrors in the data folder, syncs
/// in this process by `scheduler`.
pub fn site_router(scheduler: Arc<Scheduler>, clock: Clock) -> Router {
    let site = scheduler.site().clone();
    site_router_over(site, Arc::new(scheduler), clock)
}

/// The site's router over `site` (its book, sealer and mirrors), with syncs asked of `syncs`:
/// the landing page, sign-in, the signed-in runner's own pages and API, account settings, the
/// operator's `/admin`, public pages of runners who opted in.
pub fn site_router_over(site: Site, syncs: Arc<dyn SyncRequests>, clock: Clock) -> Router {
    let config = site.config().clone();
    let origin = url::Url::parse(&config.site_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| config.site_url.clone());
    let state = Arc::new(SiteState {
        site,
        syncs,
        clock,
        routers: Mutex::new(Recent::new(config.max_routers)),
        sessions: RwLock::default(),
        origin,
        secure: config.https(),
        imports: tokio::sync::Semaphore::new(1),
    });
    Router::new()
        .route("/", get(home))
        .route("/healthz", get(|| async { "ok" }))
        .route("/auth/login", get(login))
        .route("/auth/callback", get(callback))
        .route("/auth/logout", post(logout))
        .route("/account", get(account_page))
        .route("/account/settings", post(save_settings))
        .route("/account/reminders", post(save_reminders))
        .route("/account/reminders/mute", post(mute_reminders))
        .route("/account/tokens", post(create_token))
        .route("/account/tokens/revoke", post(revoke_token))
        .route("/account/sync", post(sync_now))
        .route("/account/delete", post(delete_account))
        .route("/account/export/{format}", get(export))
        .route("/admin", get(admin))
        .route("/admin/round", post(admin_round))
        .route("/leaderboard", get(leaderboard))
        .route("/r/{handle}", get(public_page))
        .route("/r/{handle}/{file}", get(public_file))
        .fallback(runner_pages)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(64 * 1024))
        // a single-runner database may be large
        .merge(
            Router::new()
                .route("/account/import", post(import_database))
                .layer(axum::extract::DefaultBodyLimit::disable())
                .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_IMPORT)),
        )
        .with_state(state)
}

// ---- who is asking ----

#[derive(Clone, Debug)]
enum Caller {
    /// A browser with a session cookie (the hash of its id).
    Session { runner: String, hash: String },
    /// A script with a personal API token.
    Token { runner: String },
}

impl Caller {
    fn runner(&self) -> &str {
        match self {
            Caller::Session { runner, .. } | Caller::Token { runner } => runner,
        }
    }
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

async fn caller(state: &SiteState, headers: &HeaderMap) -> Result<Option<Caller>, ApiError> {
    let site = &state.site;
    let now = (state.clock)();
    if let Some(token) = bearer(headers).filter(|t| t.starts_with("mrs_")) {
        return Ok(site
            .api_token_runner(token)
            .await
            .map_err(internal)?
            .map(|runner| Caller::Token { runner }));
    }
    let Some(session) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let hash = myrunstreak_app::site::hash(session);
    if let Ok(cache) = state.sessions.read()
        && let Some((runner, expires)) = cache.get(&hash)
        && *expires > now
    {
        return Ok(Some(Caller::Session {
            runner: runner.clone(),
            hash,
        }));
    }
    let Some(record) = site.session_runner(session, now).await.map_err(internal)? else {
        return Ok(None);
    };
    // a minute at most: a sign-out or deletion elsewhere (or one racing this lookup) is
    // believed within a minute even if this entry outlived it
    if let Ok(mut cache) = state.sessions.write() {
        let until = record.expires.min(now + jiff::SignedDuration::from_mins(1));
        cache.insert(hash.clone(), (record.runner_id.clone(), until));
    }
    Ok(Some(Caller::Session {
        runner: record.runner_id,
        hash,
    }))
}

/// A state-changing request made with the session cookie must come from this site.
fn same_origin(state: &SiteState, headers: &HeaderMap) -> bool {
    match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        Some(origin) => origin == state.origin,
        None => headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == "same-origin"),
    }
}

async fn signed_in(
    state: &SiteState,
    headers: &HeaderMap,
    method: &Method,
) -> Result<Caller, Response> {
    let caller = caller(state, headers)
        .await
        .map_err(IntoResponse::into_response)?
        .ok_or_else(|| unauthorized().into_response())?;
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && matches!(caller, Caller::Session { .. }) && !same_origin(state, headers) {
        return Err((
            StatusCode::FORBIDDEN,
            axum::Json(serde_json::json!({"error": {"code": "cross_origin", "message": "this request did not come from this site's own pages; use the site, or a personal API token for scripts"}})),
        )
            .into_response());
    }
    Ok(caller)
}

/// The account's own pages and actions are for the signed-in browser: a personal API token
/// reaches `/api/v1` and the runner's pages, not the account (it cannot make tokens, change
/// settings, bring in a database or delete the account).
async fn signed_in_browser(
    state: &SiteState,
    headers: &HeaderMap,
    method: &Method,
) -> Result<Caller, Response> {
    match signed_in(state, headers, method).await? {
        caller @ Caller::Session { .. } => Ok(caller),
        Caller::Token { .. } => Err((
            StatusCode::FORBIDDEN,
            axum::Json(serde_json::json!({"error": {"code": "browser_only", "message": "personal API tokens reach /api/v1 only; sign in on the site for your account"}})),
        )
            .into_response()),
    }
}

fn busy() -> Response {
    ApiError::conflict("a sync or another change of your data is running; try again in a minute")
        .into_response()
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        axum::Json(serde_json::json!({"error": {"code": "unauthorized", "message": "sign in at /auth/login (or send Authorization: Bearer <a personal API token>)"}})),
    )
        .into_response()
}

fn internal(e: SiteError) -> ApiError {
    match e {
        SiteError::Invalid(m) => ApiError::bad_request(m),
        SiteError::NoRunner => ApiError::not_found("no such runner"),
        other => ApiError::internal(other),
    }
}

fn set_cookie(state: &SiteState, name: &str, value: &str, path: &str, max_age: i64) -> HeaderValue {
    let secure = if state.secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

// ---- pages ----

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d232b}main{max-width:46rem;margin:0 auto;padding:1rem}section{background:#fff;border-radius:.75rem;padding:1rem 1.25rem;margin:.75rem 0}.warn{background:#fff4e5;border-left:4px solid #f0a000}.muted{color:#5b6675;font-size:.9rem}a.button,button{background:#2f9e62;color:#fff;border:0;border-radius:.4rem;padding:.55rem 1rem;font-size:1rem;text-decoration:none;cursor:pointer}table{border-collapse:collapse;width:100%}td,th{padding:.3rem;text-align:left;border-bottom:1px solid #eef0f2}";

/// Sends the chosen file as the request body (a form cannot send a raw body).
const IMPORT_SCRIPT: &str = "document.getElementById('import-button').onclick=async()=>{const f=document.getElementById('import-file').files[0];const out=document.getElementById('import-result');if(!f){out.textContent='Choose a file first.';return;}const r=await fetch('/account/import',{method:'POST',body:f,headers:{'Content-Type':'application/octet-stream'}});const j=await r.json().catch(()=>({}));out.textContent=r.ok?`Brought over ${j.entries} ledger entries (${j.skipped.length} already there).`:((j.error&&j.error.message)||'That did not work.');};";

fn page(title: &str, body: Markup) -> Response {
    let html = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                style { (maud::PreEscaped(STYLE)) }
            }
            body { main { (body) } }
        }
    };
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html.into_string(),
    )
        .into_response()
}

fn error_page(status: StatusCode, message: &str) -> Response {
    let mut r = page(
        "MyRunStreak",
        html! { section.warn { h2 { "Something is not right" } p { (message) } p { a href="/" { "Back to MyRunStreak" } } } },
    );
    *r.status_mut() = status;
    r
}

/// The bar above a signed-in runner's pages: who they are, their sync's health, the links.
fn account_bar(runner: &RunnerAccount, health: &SyncHealth, syncing: bool) -> Markup {
    html! {
        section #account-bar {
            p {
                "Signed in as " strong #runner-name { (runner.display_name.as_deref().or(runner.user_name.as_deref()).unwrap_or("a runner")) }
                " · " a href="/account" { "Account" }
                " · " form method="post" action="/auth/logout" style="display:inline" { button type="submit" { "Sign out" } }
            }
            @if let Some(problem) = &health.token_problem {
                p.warn #sign-in-again { (problem) " " a href="/auth/login" { "Sign in with SmashRun again" } }
            }
            @if syncing {
                p.muted #syncing { "A sync is running; this page shows what is mirrored so far." }
            }
            @if let Some(error) = health.last_error.as_ref().filter(|_| health.token_problem.is_none()) {
                p.muted #sync-error { "The last sync failed: " (error) }
            }
        }
    }
}

async fn home(State(state): State<Shared>, request: Request) -> Response {
    match caller(&state, request.headers()).await {
        Ok(Some(_)) => runner_pages(State(state), request).await,
        Ok(None) => page(
            "MyRunStreak",
            html! {
                section {
                    h2 { "MyRunStreak" }
                    p { "Your running streak, counted by the official rules, from your own SmashRun history." }
                    p { a.button #sign-in href="/auth/login" { "Sign in with SmashRun" } }
                    p.muted { a href="/leaderboard" { "Leaderboard" } }
                }
            },
        ),
        Err(e) => e.into_response(),
    }
}

async fn login(State(state): State<Shared>) -> Response {
    let site = &state.site;
    match site.begin_login((state.clock)()).await {
        Ok(start) => {
            let mut r = Redirect::to(start.url.as_str()).into_response();
            r.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(
                    &state,
                    LOGIN_COOKIE,
                    start.browser_nonce.expose(),
                    "/auth",
                    600,
                ),
            );
            r
        }
        Err(e) => {
            tracing::error!(error = %e, "a sign-in could not start");
            error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Signing in cannot start right now; please try again in a moment.",
            )
        }
    }
}

#[derive(Debug, Deserialize)]
struct CallbackQuery {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let site = &state.site;
    let now = (state.clock)();
    let answer = Callback {
        state: q.state.as_deref(),
        code: q.code.as_deref(),
        error: q.error.as_deref(),
        error_description: q.error_description.as_deref(),
        browser_nonce: cookie(&headers, LOGIN_COOKIE),
    };
    match site.finish_login(&answer, now).await {
        Ok(signed) => {
            let runner = signed.runner.id.clone();
            forget_router(&state, &runner);
            let needs_first_sync = signed.new_account
                || !matches!(site.mirrors().readable(&runner).await, Ok(Some(_)));
            if needs_first_sync
                && let Err(e) = state
                    .syncs
                    .request(&runner, Some(SyncMode::Full), now)
                    .await
            {
                // the schedule will get to them; the sign-in itself went well
                tracing::error!(error = %e, "a new runner's first sync could not be asked for");
            }
            let mut r = Redirect::to("/").into_response();
            let cookies = r.headers_mut();
            cookies.append(
                header::SET_COOKIE,
                set_cookie(
                    &state,
                    SESSION_COOKIE,
                    signed.session.expose(),
                    "/",
                    site.config().session_lifetime.as_secs(),
                ),
            );
            cookies.append(
                header::SET_COOKIE,
                set_cookie(&state, LOGIN_COOKIE, "", "/auth", 0),
            );
            r
        }
        Err(e @ (SiteError::BadState | SiteError::Denied(_))) => {
            error_page(StatusCode::BAD_REQUEST, &e.to_string())
        }
        Err(e @ SiteError::Full(_)) => error_page(StatusCode::FORBIDDEN, &e.to_string()),
        Err(e) => {
            tracing::error!(error = %e, "a sign-in could not finish");
            error_page(
                StatusCode::BAD_GATEWAY,
                "SmashRun could not be asked to finish your sign-in; please try again.",
            )
        }
    }
}

async fn logout(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let caller = match signed_in_browser(&state, &headers, &Method::POST).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let (Caller::Session { hash, .. }, Some(session)) =
        (&caller, cookie(&headers, SESSION_COOKIE))
    {
        if let Ok(mut cache) = state.sessions.write() {
            cache.remove(hash);
        }
        if let Err(e) = state.site.logout(session).await {
            return ApiError::internal(e).into_response();
        }
    }
    let mut r = Redirect::to("/").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, "", "/", 0),
    );
    r
}

/// Drops a runner's router, so that the next request builds it afresh (their settings or file
/// changed, or their account is gone).
fn forget_router(state: &SiteState, runner_id: &str) {
    if let Ok(mut routers) = state.routers.lock() {
        routers.remove(runner_id);
    }
}

/// A runner's router, with the settings it was built for and when they were last compared.
struct BuiltRouter {
    router: Router,
    settings: String,
    checked: Timestamp,
}

/// What of a runner's account their router is built from (their zone and rule).
fn router_settings(runner: &RunnerAccount) -> String {
    format!("{:?}|{:?}", runner.time_zone, runner.rule)
}

/// How long a router is used without comparing its settings with the runner's (a change made
/// through another instance of the site is believed within this).
const ROUTER_CHECK: jiff::SignedDuration = jiff::SignedDuration::from_mins(1);

/// The runner's router if it is built and was compared with their settings within a minute
/// (now the most recently used).
fn cached_router(state: &SiteState, runner_id: &str) -> Option<Router> {
    let now = (state.clock)();
    let mut routers = state.routers.lock().ok()?;
    routers
        .get(runner_id)
        .filter(|built| now.duration_since(built.checked) < ROUTER_CHECK)
        .map(|built| built.router.clone())
}

/// The runner's own single-runner router, built on first use (or when their settings changed),
/// over the readable copy of their mirror; its ledger writes go through the mirrors' write.
fn runner_router(state: &SiteState, runner: &RunnerAccount) -> Result<Router, ApiError> {
    let settings_now = router_settings(runner);
    if let Ok(mut routers) = state.routers.lock()
        && let Some(built) = routers.get(&runner.id)
        && built.settings == settings_now
    {
        built.checked = (state.clock)();
        return Ok(built.router.clone());
    }
    let site = &state.site;
    let settings = site.runner_settings(runner).map_err(internal)?;
    let sync: Option<SyncRunner> = state.syncs.syncs_in_request().then(|| {
        let syncs = state.syncs.clone();
        let id = runner.id.clone();
        let clock = state.clock.clone();
        let sync: SyncRunner = Arc::new(move || {
            let (syncs, id, clock) = (syncs.clone(), id.clone(), clock.clone());
            Box::pin(async move {
                match syncs.sync_now(&id, clock()).await {
                    Some(Ok(report)) => Ok(report),
                    Some(Err(e)) => Err(e.to_string()),
                    None => Err("a sync of yours is already running, or the site's SmashRun budget is spent for this hour; try again later".into()),
                }
            })
        });
        sync
    });
    let config = ServerConfig {
        db_path: site.mirrors().path(&runner.id),
        query: StreakQuery::from_settings(&settings)
            .map_err(|e| ApiError::bad_request(e.to_string()))?,
        units: settings.units,
        goals: Goals::from_settings(&settings),
        api_token: None,
        trust_caller: true,
        cors_origins: Vec::new(),
        sync,
        reload_every: site.mirrors().reload_every(),
        stale_after: settings.stale_after,
        ledger_writer: Some(Arc::new(MirrorLedger::new(
            site.mirrors().clone(),
            runner.id.clone(),
        ))),
    };
    let built = router(config);
    if let Ok(mut routers) = state.routers.lock() {
        let entry = BuiltRouter {
            router: built.clone(),
            settings: settings_now,
            checked: (state.clock)(),
        };
        routers.insert(runner.id.clone(), entry);
    }
    Ok(built)
}

/// Everything else: the signed-in runner's own dashboard, day pages, badge and `/api/v1`.
async fn runner_pages(State(state): State<Shared>, mut request: Request) -> Response {
    let caller = match signed_in(&state, request.headers(), request.method()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let site = &state.site;
    let is_page = request.method() == Method::GET && !request.uri().path().starts_with("/api/");
    // the runner's copy is made fresh first (a file on one machine: nothing to do)
    let mirrored = match site.mirrors().readable(caller.runner()).await {
        Ok(found) => found.is_some(),
        Err(e) => {
            tracing::warn!(error = %e, "answering from the copy at hand; the mirror could not be checked");
            true
        }
    };
    // the API's fast path: a runner whose router is built (their account and mirror exist;
    // deleting the account drops it) needs no further lookup. A mirror gone meanwhile (the
    // account deleted through another instance) drops it here too.
    let cached = if mirrored {
        cached_router(&state, caller.runner())
    } else {
        forget_router(&state, caller.runner());
        None
    };
    let (inner, runner) = match cached {
        Some(inner) if !is_page => (inner, None),
        _ => {
            let runner = match site.runner(caller.runner()).await {
                Ok(r) => r,
                Err(SiteError::NoRunner) => return unauthorized(),
                Err(e) => return ApiError::internal(e).into_response(),
            };
            if is_page && !mirrored {
                let health = site.book().health(&runner.id).await.unwrap_or_default();
                let mut r = page(
                    "MyRunStreak: your first sync",
                    html! {
                        (account_bar(&runner, &health, false))
                        section #first-sync {
                            h2 { "Your first sync is running" }
                            p { "MyRunStreak is copying your SmashRun history. This page refreshes by itself." }
                        }
                    },
                );
                r.headers_mut()
                    .insert(header::REFRESH, HeaderValue::from_static("3"));
                return r;
            }
            match runner_router(&state, &runner) {
                Ok(inner) => (inner, Some(runner)),
                Err(e) => return e.into_response(),
            }
        }
    };
    // a write (a ledger entry) holds the mirror against a scheduled sync; a sync holds it itself
    let writes = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) && request.uri().path() != "/api/v1/sync";
    let _hold = if writes {
        match state.syncs.hold(caller.runner()) {
            Some(hold) => Some(hold),
            None => return busy(),
        }
    } else {
        None
    };
    // the inner router needs neither the cookie nor the token
    request.headers_mut().remove(header::COOKIE);
    request.headers_mut().remove(header::AUTHORIZATION);
    let mut response = match inner.oneshot(request).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    // one runner's answer at a URL every runner shares: never kept by a shared cache
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::VARY,
        HeaderValue::from_static("Cookie, Authorization"),
    );
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let Some(runner) = runner.filter(|_| is_page && html) else {
        return response;
    };
    let health = site.book().health(&runner.id).await.unwrap_or_default();
    let syncing = state.syncs.is_syncing(&runner.id);
    let bar = account_bar(&runner, &health, syncing).into_string();
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 8 * 1024 * 1024).await else {
        return error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the page could not be read",
        );
    };
    let text = String::from_utf8_lossy(&bytes).replacen("<main>", &format!("<main>{bar}"), 1);
    let mut parts = parts;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::ETAG);
    Response::from_parts(parts, Body::from(text))
}

// ---- the account ----

async fn account_page(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let caller = match signed_in_browser(&state, &headers, &Method::GET).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    account_page_of(&state, caller.runner(), None).await
}

/// The account page of `runner_id`, with `notice` at its top.
async fn account_page_of(state: &SiteState, runner_id: &str, notice: Option<Markup>) -> Response {
    let site = &state.site;
    let runner = match site.runner(runner_id).await {
        Ok(r) => r,
        Err(_) => return unauthorized(),
    };
    let health = site.book().health(&runner.id).await.unwrap_or_default();
    let tokens = site.api_tokens(&runner.id).await.unwrap_or_default();
    let syncing = state.syncs.is_syncing(&runner.id);
    let reminders = match site.reminder_view(&runner).await {
        Ok(view) => view,
        Err(e) => {
            tracing::error!(runner = %runner.id, error = %e, "the reminder channels could not be opened");
            ReminderView::default()
        }
    };
    let muted = site
        .reminders_muted_until(&runner.id)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(runner = %runner.id, error = %e, "the reminders' mute could not be read");
            None
        });
    account_view(
        &runner,
        &health,
        &tokens,
        (&reminders, muted),
        syncing,
        notice,
    )
}

fn account_view(
    runner: &RunnerAccount,
    health: &SyncHealth,
    tokens: &[ApiTokenRecord],
    (reminders, muted): (&ReminderView, Option<Date>),
    syncing: bool,
    notice: Option<Markup>,
) -> Response {
    let when = |t: Option<Timestamp>| {
        t.map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| "never".into())
    };
    page(
        "MyRunStreak: your account",
        html! {
            (account_bar(runner, health, syncing))
            @if let Some(n) = notice { section #notice { (n) } }
            section #health {
                h2 { "Your sync" }
                table {
                    tr { th { "Last attempt" } td #last-attempt { (when(health.last_attempt)) } }
                    tr { th { "Last success" } td #last-success { (when(health.last_success)) } }
                    tr { th { "Runs mirrored" } td #runs { (health.runs) } }
                    tr { th { "Requests to SmashRun" } td { (health.requests) } }
                    tr { th { "Deletions waiting for you" } td #pending { (health.pending_deletions) } }
                }
                @if health.pending_deletions > 0 {
                    p.warn { "SmashRun no longer lists some of your runs; they still count until you confirm. See the dashboard." }
                }
                form method="post" action="/account/sync" { button type="submit" { "Sync now" } }
            }
            section #settings {
                h2 { "Settings" }
                form method="post" action="/account/settings" {
                    p { label { "Time zone (IANA) " input name="time_zone" value=(runner.time_zone.clone().unwrap_or_default()) placeholder="Europe/Berlin"; } }
                    p { label { "Streak rule " input name="rule" value=(runner.rule.clone().unwrap_or_default()) placeholder="any run (default), or e.g. 1.6km"; } }
                    p { label { "Public handle " input name="handle" value=(runner.handle.clone().unwrap_or_default()); } }
                    p { label { input type="checkbox" name="public" value="on" checked[runner.public]; " Show my streak at /r/<handle> and on the leaderboard" } }
                    button type="submit" { "Save" }
                }
            }
            section #reminders {
                h2 { "Reminders" }
                p.muted { "When your streak is at risk at one of your times (in your time zone), MyRunStreak posts to your ntfy topic or webhook, once per time and day." }
                @if reminders.channels.is_empty() {
                    p #reminder-state { "Off." }
                } @else {
                    p #reminder-state { "At " (reminders.times) " to " (reminders.channels.join(", ")) "." }
                }
                @if let Some(note) = &health.reminder_note { p #reminder-note.muted { "Last: " (note) } }
                form method="post" action="/account/reminders" {
                    p { label { "Times " input name="times" value=(reminders.times) placeholder="18:00,21:00"; } }
                    p { label { "Send to " input name="channels" value="" placeholder=(if reminders.channels.is_empty() { "ntfy://ntfy.sh/your-topic or https://…" } else { "(kept; type new ones to replace them)" }); } }
                    button type="submit" { "Save reminders" } " "
                    button type="submit" name="off" value="on" { "Turn off" }
                }
                @if let Some(until) = muted {
                    p #reminder-mute { "Muted up to and including " (until) "." }
                    form method="post" action="/account/reminders/mute" { button type="submit" name="unmute" value="on" { "Unmute" } }
                } @else if !reminders.channels.is_empty() {
                    form method="post" action="/account/reminders/mute" {
                        label { "Resting? Mute through " input type="date" name="until"; } " "
                        button type="submit" { "Mute" }
                    }
                }
            }
            section #tokens {
                h2 { "Personal API tokens" }
                p.muted { "For scripts: send " code { "Authorization: Bearer <token>" } " to /api/v1. The token is shown once." }
                form method="post" action="/account/tokens" { input name="label" placeholder="name, e.g. my-watch-face"; " " button type="submit" { "Create a token" } }
                @if !tokens.is_empty() {
                    ul #token-list {
                        @for t in tokens {
                            li {
                                (t.label) " · created " (when(Some(t.created))) " "
                                form.inline method="post" action="/account/tokens/revoke" {
                                    input type="hidden" name="token" value=(t.id_hash);
                                    button type="submit" { "Revoke" }
                                }
                            }
                        }
                    }
                }
            }
            section #data {
                h2 { "Your data" }
                p { a href="/account/export/duckdb" { "DuckDB file" } " · " a href="/account/export/csv" { "CSV" } " · " a href="/account/export/parquet" { "Parquet" } }
            }
            section #import {
                h2 { "Bring your MyRunStreak database" }
                p.muted { "The runs.duckdb of the single-runner MyRunStreak: its ledger (manual and imported runs, overrides) joins yours; your runs come from SmashRun as always." }
                input #import-file type="file" accept=".duckdb";
                " " button #import-button type="button" { "Bring it in" }
                p #import-result {}
                script { (maud::PreEscaped(IMPORT_SCRIPT)) }
            }
            section #delete {
                h2 { "Delete my account" }
                p.muted { "Removes your mirror, your tokens and your sessions from MyRunStreak. Your runs stay on SmashRun." }
                form method="post" action="/account/delete" { label { "Type DELETE to confirm " input name="confirm"; } " " button type="submit" { "Delete my account" } }
            }
        },
    )
}

#[derive(Debug, Deserialize)]
struct SettingsForm {
    time_zone: Option<String>,
    rule: Option<String>,
    handle: Option<String>,
    public: Option<String>,
}

async fn save_settings(
    State(state): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<SettingsForm>,
) -> Response {
    let caller = match signed_in_browser(&state, &headers, &Method::POST).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let site = &state.site;
    let result = site
        .update_settings(
            caller.runner(),
            RunnerSettings {
                time_zone: form.time_zone,
                rule: form.rule,
                handle: form.handle,
                public: form.public.is_some(),
            },
        )
        .await;
    match result {
        Ok(runner) => {
            forget_router(&state, &runner.id);
            account_page_of(&state, &runner.id, Some(html! { p { "Saved." } })).await
        }
        Err(SiteError::Invalid(m)) => error_page(StatusCode::BAD_REQUEST, &m),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct RemindersForm {
    #[serde(default)]
    times: String,
    /// Empty: keep the channels saved (they are never shown, so never sent back).
    #[serde(default)]
    channels: String,
    off: Option<String>,
}

/// `POST /account/reminders`: the runner's reminder times and channels (sealed at once).
async fn save_reminders(
    State(state): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<RemindersForm>,
) -> Response {
    let caller = match signed_in_browser(&state, &headers, &Method::POST).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let site = &state.site;
    let result = if form.off.is_some() {
        site.set_reminders(caller.runner(), "", "").await
    } else if form.channels.trim().is_empty() {
        site.change_reminder_times(caller.runner(), &form.times)
            .await
    } else {
        site.set_reminders(caller.runner(), &form.times, &form.channels)
            .await
    };
    match result {
        Ok(runner) => {
            account_page_of(&state, &runner.id, Some(html! { p { "Reminders saved." } })).await
        }
        Err(SiteError::Invalid(m)) => error_page(StatusCode::BAD_REQUEST, &m),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct MuteForm {
    #[serde(default)]
    until: String,
    unmute: Option<String>,
}

/// `POST /account/reminders/mute`: no reminders through a day (`until`), or again (`unmute`).
async fn mute_reminders(
    State(state): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<MuteForm>,
) -> Response {
    let caller = match signed_in_browser(&state, &headers, &Method::POST).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let until = match (form.unmute.is_some(), form.until.trim()) {
        (true, _) => None,
        (false, text) => match text.parse::<Date>() {
            Ok(day) => Some(day),
            Err(_) => {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "give the last day to mute as a date, such as 2026-12-24",
                );
            }
        },
    };
    let runner = caller.runner().to_owned();
    let Some(_hold) = state.syncs.hold(&runner) else {
        return busy();
    };
    match state
        .site
        .mute_reminders(&runner, until, (state.clock)())
        .await
    {
        Ok(()) => {
            let notice = match until {
                Some(day) => html! { p { "Reminders muted up to and including " (day) "." } },
                None => html! { p { "Reminders unmuted." } },
            };
            account_page_of(&state, &runner, Some(notice)).await
        }
        Err(SiteError::Invalid(m)) => error_page(StatusCode::BAD_REQUEST, &m),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    label: String,
}

async fn create_token(
    State(state): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    let caller = match signed_in_browser(&state, &headers, &Method::POST).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let site = &state.site;
    match site
        .create_api_token(caller.runner(), &form.label, (state.clock)())
        .await
    {
        Ok(token) => {
            let mut r = page(
                "MyRunStreak: your new token",
                html! { section { h2 { "Your new API token" } p { "Copy it now: it is not shown again." } pre #token { (token.expose()) } p { a href="/account" { "Back" } } } },
            );
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(SiteError::Invalid(m)) => error_page(StatusCode::BAD_REQUEST, &m),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct RevokeForm {
    /// The token's hash, as the account page lists it.
    token: String,
}

/// `POST /account/tokens/revoke`: one of the runner's personal API tokens stops working at once.
async fn revoke_token(
    State(state): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<RevokeForm>,
) -> Response {
    let caller = match signed_in_browser(&state, &headers, &Method::POST).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    match state
        .site
        .revoke_api_token(caller.runner(), &form.token)
        .await
    {
        Ok(()) => {
            account_page_of(
                &state,
                caller.runner(),
                Some(html! { p { "Token revoked." } }),
            )
            .await
        }
        Err(SiteError::Invalid(m)) => error_page(StatusCode::BAD_REQUEST, &m),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

async fn sync_now(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let caller = match signed_in_browser(&state, &headers, &Method::POST).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let now = (state.clock)();
    if let Err(e) = state.syncs.request(caller.runner(), None, now).await {
        return ApiError::internal(e).into_response();
    }
    Redirect::to("/account").into_response()
}

/// The largest database `POST /account/import` takes.
const MAX_IMPORT: usize = 64 * 1024 * 1024;

/// `POST /account/import`: the body is a single-runner `runs.duckdb`; its ledger is brought
/// into the account (see [`myrunstreak_app::site::Site::adopt_database`]).
async fn import_database(State(state): State<Shared>, request: Request) -> Response {
    // who is asking first, then the body: a stranger's upload is never read
    let caller = match signed_in_browser(&state, request.headers(), &Method::POST).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let runner = caller.runner().to_owned();
    let Ok(_one_at_a_time) = state.imports.try_acquire() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "30")],
            "another database is being brought in; try again in a moment",
        )
            .into_response();
    };
    let Some(_hold) = state.syncs.hold(&runner) else {
        return busy();
    };
    let body = match axum::body::to_bytes(request.into_body(), MAX_IMPORT).await {
        Ok(b) => b,
        Err(_) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("a database to bring in is at most {} MiB", MAX_IMPORT >> 20),
            )
                .into_response();
        }
    };
    let Ok(dir) = tempfile::tempdir() else {
        return ApiError::internal("no temporary folder").into_response();
    };
    let file = dir.path().join("uploaded.duckdb");
    if let Err(e) = tokio::fs::write(&file, &body).await {
        return ApiError::internal(e).into_response();
    }
    match state
        .site
        .adopt_database(&runner, &file, (state.clock)())
        .await
    {
        Ok(adopted) => {
            // the next request reads the file afresh
            forget_router(&state, &runner);
            axum::Json(adopted).into_response()
        }
        Err(SiteError::Invalid(m)) => ApiError::bad_request(m).into_response(),
        // another writer (a sync elsewhere) kept changing the mirror: nothing was written
        Err(SiteError::Mirror(e @ MirrorError::Busy { .. })) => {
            ApiError::unavailable(e.to_string()).into_response()
        }
        Err(e) => ApiError::internal(e).into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct DeleteForm {
    confirm: String,
}

async fn delete_account(
    State(state): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<DeleteForm>,
) -> Response {
    let caller = match signed_in_browser(&state, &headers, &Method::POST).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if form.confirm.trim() != "DELETE" {
        return error_page(
            StatusCode::BAD_REQUEST,
            "Type DELETE in the box to confirm; nothing was deleted.",
        );
    }
    let runner = caller.runner().to_owned();
    let Some(_hold) = state.syncs.hold(&runner) else {
        return error_page(
            StatusCode::CONFLICT,
            "A sync of yours is running; try again in a minute. Nothing was deleted.",
        );
    };
    if let Err(e) = state.site.delete_account(&runner).await {
        return ApiError::internal(e).into_response();
    }
    forget_router(&state, &runner);
    if let Ok(mut cache) = state.sessions.write() {
        cache.retain(|_, (r, _)| *r != runner);
    }
    let mut r = page(
        "MyRunStreak: account deleted",
        html! { section #deleted { h2 { "Your account is deleted" } p { "Your mirror, tokens and sessions are gone from MyRunStreak." } } },
    );
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, "", "/", 0),
    );
    r
}

async fn export(
    State(state): State<Shared>,
    headers: HeaderMap,
    Path(format): Path<String>,
) -> Response {
    let caller = match signed_in(&state, &headers, &Method::GET).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let runner = caller.runner().to_owned();
    let mirrors = state.site.mirrors().clone();
    if state.syncs.is_syncing(&runner) {
        return ApiError::conflict("a sync of yours is running; download again in a minute")
            .into_response();
    }
    let nothing_yet =
        || ApiError::not_found("nothing mirrored yet; your first sync has not finished");
    let path = match mirrors.readable(&runner).await {
        Ok(Some(path)) => path,
        Ok(None) => return nothing_yet().into_response(),
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let (content_type, file_name, format) = match format.as_str() {
        "duckdb" => ("application/octet-stream", "runs.duckdb", None),
        "csv" => (
            "text/csv; charset=utf-8",
            "runs.csv",
            Some(ExportFormat::Csv),
        ),
        "parquet" => (
            "application/vnd.apache.parquet",
            "runs.parquet",
            Some(ExportFormat::Parquet),
        ),
        _ => return ApiError::bad_request("the format is duckdb, csv or parquet").into_response(),
    };
    let bytes = match format {
        // the file itself, as its home has it
        None => match mirrors.export(&runner).await {
            Ok(Some(bytes)) => Ok(Ok(bytes)),
            Ok(None) => return nothing_yet().into_response(),
            Err(e) => Ok(Err(e.to_string())),
        },
        Some(format) => {
            tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
                let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
                let out = dir.path().join("export");
                Mirror::open(&path)
                    .and_then(|m| m.export(format, &out, true))
                    .map_err(|e| e.to_string())?;
                std::fs::read(&out).map_err(|e| e.to_string())
            })
            .await
        }
    };
    match bytes {
        Ok(Ok(bytes)) => (
            [
                (header::CONTENT_TYPE, content_type.to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{file_name}\""),
                ),
                (header::CACHE_CONTROL, "no-store".to_owned()),
            ],
            bytes,
        )
            .into_response(),
        Ok(Err(e)) => ApiError::internal(e).into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

// ---- the operator ----

/// The operator's bearer token, checked in constant time.
fn operator(state: &SiteState, headers: &HeaderMap) -> Result<(), Box<Response>> {
    let Some(expected) = &state.site.config().admin_token else {
        return Err(Box::new(ApiError::disabled("/admin").into_response()));
    };
    let given = bearer(headers).unwrap_or("");
    let ok = !given.is_empty()
        && bool::from(subtle::ConstantTimeEq::ct_eq(
            given.as_bytes(),
            expected.expose().as_bytes(),
        ));
    if ok {
        Ok(())
    } else {
        Err(Box::new((StatusCode::UNAUTHORIZED, axum::Json(serde_json::json!({"error": {"code": "unauthorized", "message": "send Authorization: Bearer <MYRUNSTREAK_ADMIN_TOKEN>"}}))).into_response()))
    }
}

#[derive(Debug, Deserialize)]
struct RoundQuery {
    all: Option<bool>,
}

/// `POST /admin/round[?all=true]`: one scheduler round now (with `all`, every runner who can
/// be synced, whenever they last were), answering what it did and how long it took.
async fn admin_round(
    State(state): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<RoundQuery>,
) -> Response {
    if let Err(r) = operator(&state, &headers) {
        return *r;
    }
    let every = if q.all.unwrap_or(false) {
        jiff::SignedDuration::ZERO
    } else {
        state.site.config().sync_every
    };
    let started = std::time::Instant::now();
    match state.syncs.round((state.clock)(), every).await {
        Ok(round) => axum::Json(serde_json::json!({
            "round": round,
            "seconds": started.elapsed().as_secs_f64(),
        }))
        .into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

async fn admin(State(state): State<Shared>, headers: HeaderMap) -> Response {
    if let Err(r) = operator(&state, &headers) {
        return *r;
    }
    let site = &state.site;
    let roster = match site.roster().await {
        Ok(r) => r,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let runners: Vec<_> = roster
        .iter()
        .map(|(r, h)| {
            serde_json::json!({
                "id": r.id,
                "user_name": r.user_name,
                "created": r.created,
                "signed_in": r.tokens.is_some(),
                "last_attempt": h.last_attempt,
                "last_success": h.last_success,
                "last_error": h.last_error,
                "token_problem": h.token_problem,
                "requests": h.requests,
                "runs": h.runs,
                "syncing": state.syncs.is_syncing(&r.id),
            })
        })
        .collect();
    let app_requests = state.syncs.requests_last_hour((state.clock)()).await;
    axum::Json(serde_json::json!({
        "runners": runners,
        "count": roster.len(),
        "max_runners": site.config().max_runners,
        "app_requests_per_hour": site.config().app_requests_per_hour,
        "app_requests_last_hour": app_requests,
        "requests": roster.iter().map(|(_, h)| h.requests).sum::<i64>(),
    }))
    .into_response()
}

// ---- public pages (opt-in) ----

async fn public_runner(state: &SiteState, handle: &str) -> Option<RunnerAccount> {
    let runner = state
        .site
        .book()
        .runner_by_handle(&handle.to_lowercase())
        .await
        .ok()??;
    runner.public.then_some(runner)
}

async fn public_page(State(state): State<Shared>, Path(handle): Path<String>) -> Response {
    let Some(runner) = public_runner(&state, &handle).await else {
        return error_page(StatusCode::NOT_FOUND, "No public page has that name.");
    };
    let health = state
        .site
        .book()
        .health(&runner.id)
        .await
        .unwrap_or_default();
    let handle = runner.handle.clone().unwrap_or_default();
    page(
        &format!("{handle} on MyRunStreak"),
        html! {
            section #public {
                h2 { (handle) }
                p { "Current streak: " strong #public-streak { (health.current_streak) } " days" }
                p { img src=(format!("/r/{handle}/badge.svg")) alt="streak badge"; }
                p.muted { a href=(format!("/r/{handle}/status.json")) { "status.json" } " · " a href=(format!("/r/{handle}/streak.ics")) { "calendar feed" } }
                p.muted { a href="/leaderboard" { "Leaderboard" } }
            }
        },
    )
}

/// `/r/{handle}/badge.svg`, `status.json` and `streak.ics`: an opted-in runner's published
/// files, as their own single-runner server renders them.
async fn public_file(
    State(state): State<Shared>,
    Path((handle, file)): Path<(String, String)>,
) -> Response {
    if !["badge.svg", "status.json", "streak.ics"].contains(&file.as_str()) {
        return ApiError::not_found("a public page has badge.svg, status.json and streak.ics")
            .into_response();
    }
    let Some(runner) = public_runner(&state, &handle).await else {
        return ApiError::not_found("no public page has that name").into_response();
    };
    let inner = match runner_router(&state, &runner) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let request = Request::get(format!("/{file}"))
        .body(Body::empty())
        .unwrap_or_default();
    match inner.oneshot(request).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

async fn leaderboard(State(state): State<Shared>) -> Response {
    let roster = state.site.roster().await.unwrap_or_default();
    let mut rows: Vec<_> = roster
        .into_iter()
        .filter(|(r, _)| r.public && r.handle.is_some())
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.1.current_streak));
    page(
        "MyRunStreak leaderboard",
        html! {
            section #leaderboard {
                h2 { "Current streaks" }
                p.muted { "Only runners who chose to be shown." }
                table { tbody {
                    @for (r, h) in &rows {
                        @let handle = r.handle.clone().unwrap_or_default();
                        tr { td { a href=(format!("/r/{handle}")) { (handle) } } td { (h.current_streak) " days" } }
                    }
                } }
            }
        },
    )
}
