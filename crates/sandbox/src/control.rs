//! The control API under `/_sandbox/`: stage runs, expire or revoke tokens, move the clock,
//! switch faults and limits, read request counts. Also builds the full activity format.
//!
//! Accounts: `GET /_sandbox/accounts` lists them, `/_sandbox/sign-in-as` chooses who signs in
//! when an authorization does not say. What touches one runner's runs or tokens takes an
//! optional account, `?account=<user id>` or an `account` field in its JSON body, and works on
//! the first account without it, as it did when there was only one. A run named by its id is
//! found in whichever account holds it unless an account is given.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::SignedDuration;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::generate::local_with_offset;
use crate::state::{Activity, Client, RateLimits, State as SandboxState, Token};
use crate::{Faults, PkceMode, Shared, lock};

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/_sandbox/runs", get(list_runs).post(add_run))
        .route(
            "/_sandbox/runs/{id}",
            get(get_run).patch(edit_run).delete(delete_run),
        )
        .route("/_sandbox/tokens", get(list_tokens).post(issue_tokens))
        .route("/_sandbox/tokens/expire", post(expire_tokens))
        .route("/_sandbox/tokens/revoke", post(revoke_tokens))
        .route("/_sandbox/clock", post(advance_clock))
        .route("/_sandbox/faults", get(get_faults).put(put_faults))
        .route("/_sandbox/limits", get(get_limits).put(put_limits))
        .route("/_sandbox/settings", axum::routing::put(put_settings))
        .route("/_sandbox/clients", post(add_client))
        .route("/_sandbox/stats", get(stats))
        .route("/_sandbox/accounts", get(list_accounts))
        .route("/_sandbox/sign-in-as", get(get_sign_in_as).post(sign_in_as))
        .route("/_sandbox/stats/reset", post(reset_stats))
}

fn not_found(id: i64) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": "not_found", "error_description": format!("no run {id}") })),
    )
        .into_response()
}

fn bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": "bad_request", "error_description": message })),
    )
        .into_response()
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": code, "error_description": message })),
    )
        .into_response()
}

/// The `account` a request names, in its query or (else) in its JSON body: `None` when it
/// names none; a 400 or 404 answer when it names one that is not a user id of an account.
fn named_account(
    state: &SandboxState,
    query: Option<&str>,
    body: Option<&Value>,
) -> Result<Option<usize>, Response> {
    let from_query = query.and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "account")
            .map(|(_, v)| Value::String(v.into_owned()))
    });
    let Some(given) = from_query.or_else(|| body.cloned()) else {
        return Ok(None);
    };
    let id = match &given {
        Value::Number(n) => n.as_i64(),
        Value::String(text) => text.trim().parse::<i64>().ok(),
        _ => None,
    };
    let Some(id) = id else {
        return Err(bad_request(&format!(
            "account must be a user id (an integer), not {given}"
        )));
    };
    match state.by_user.get(&id) {
        Some(&account) => Ok(Some(account)),
        None => Err(error(
            StatusCode::NOT_FOUND,
            "not_found",
            &format!("no account {id}"),
        )),
    }
}

/// The account a request names, else the first.
fn account_or_first(
    state: &SandboxState,
    query: Option<&str>,
    body: Option<&Value>,
) -> Result<usize, Response> {
    named_account(state, query, body).map(|a| a.unwrap_or(0))
}

fn describe(a: &Activity, account: i64) -> Value {
    json!({ "activityId": a.id, "account": account, "deleted": a.deleted, "summary": a.summary() })
}

async fn list_runs(State(shared): State<Shared>, RawQuery(query): RawQuery) -> Response {
    let state = lock(&shared);
    let account = match account_or_first(&state, query.as_deref(), None) {
        Ok(a) => &state.accounts[a],
        Err(response) => return response,
    };
    Json(
        account
            .activities
            .iter()
            .map(|a| describe(a, account.user_id))
            .collect::<Vec<_>>(),
    )
    .into_response()
}

/// The account holding run `id`: the one named (which must hold it), else whichever does.
fn holder(
    state: &SandboxState,
    id: i64,
    query: Option<&str>,
    body: Option<&Value>,
) -> Result<usize, Response> {
    match named_account(state, query, body)? {
        Some(account) if state.accounts[account].by_id.contains_key(&id) => Ok(account),
        Some(_) => Err(not_found(id)),
        None => state.owner_of(id).ok_or_else(|| not_found(id)),
    }
}

async fn get_run(
    State(shared): State<Shared>,
    Path(id): Path<i64>,
    RawQuery(query): RawQuery,
) -> Response {
    let state = lock(&shared);
    let account = match holder(&state, id, query.as_deref(), None) {
        Ok(a) => &state.accounts[a],
        Err(response) => return response,
    };
    account.get(id).map_or_else(
        || not_found(id),
        |a| Json(describe(a, account.user_id)).into_response(),
    )
}

/// The keys of a summary in SmashRun's order, with a manual run's values.
pub(crate) fn template(id: i64, start: &str, now: &str) -> Map<String, Value> {
    let value = json!({
        "activityId": id, "activityType": "running", "duration": 1800.0, "distance": 5.0,
        "calories": 315, "notes": "", "startDateTimeLocal": start, "externalId": "",
        "source": "manual", "appVersion": "", "deviceType": "", "hasDetails": 0, "hasDetailsGPS": 0,
        "howFelt": "none", "terrain": "road", "isRace": 0, "isTreadmill": 0, "isBadHR": 0,
        "isBadElevation": 0, "syncDateTimeUTC": null, "dateCreatedUTC": now, "dateUpdatedUTC": now,
    });
    match value {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

#[derive(Deserialize)]
struct NewRun {
    /// Stored exactly as given (for malformed runs).
    raw: Option<Value>,
    #[serde(flatten)]
    fields: Map<String, Value>,
}

async fn add_run(
    State(shared): State<Shared>,
    RawQuery(query): RawQuery,
    Json(mut body): Json<NewRun>,
) -> Response {
    let mut state = lock(&shared);
    // `account` says where the run goes; SmashRun's summaries have no such key
    let named = body.fields.remove("account");
    let account = match account_or_first(&state, query.as_deref(), named.as_ref()) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let id = body
        .raw
        .as_ref()
        .and_then(|r| r.get("activityId"))
        .or_else(|| body.fields.get("activityId"))
        .and_then(Value::as_i64)
        .unwrap_or_else(|| state.next_id());
    if state.owner_of(id).is_some_and(|holder| holder != account) {
        return error(
            StatusCode::CONFLICT,
            "conflict",
            &format!("run {id} belongs to another account; activity ids are unique"),
        );
    }
    let home = state.accounts[account].zone.clone();
    let summary = match body.raw {
        Some(Value::Object(raw)) => raw,
        Some(_) => return bad_request("raw must be a JSON object"),
        None => {
            let now = state.now_naive();
            let start = local_with_offset(&state.now().to_zoned_datetime(home.clone()));
            let mut summary = template(id, &start, &now);
            for (k, v) in body.fields {
                summary.insert(k, v);
            }
            summary.insert("activityId".into(), json!(id));
            summary
        }
    };
    let activity = Activity::new(id, summary, Map::new(), &home);
    let described = describe(&activity, state.accounts[account].user_id);
    state.insert(account, activity);
    (StatusCode::CREATED, Json(described)).into_response()
}

async fn edit_run(
    State(shared): State<Shared>,
    Path(id): Path<i64>,
    RawQuery(query): RawQuery,
    Json(mut fields): Json<Map<String, Value>>,
) -> Response {
    let mut state = lock(&shared);
    let named = fields.remove("account");
    let account = match holder(&state, id, query.as_deref(), named.as_ref()) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let now = state.now_naive();
    let account = &mut state.accounts[account];
    let (home, user) = (account.zone.clone(), account.user_id);
    let Some(a) = account.get_mut(id) else {
        return not_found(id);
    };
    let explicit_update = fields.contains_key("dateUpdatedUTC");
    a.edit(&home, |summary| {
        for (k, v) in fields {
            summary.insert(k, v);
        }
        if !explicit_update {
            summary.insert("dateUpdatedUTC".into(), json!(now));
        }
    });
    Json(describe(a, user)).into_response()
}

async fn delete_run(
    State(shared): State<Shared>,
    Path(id): Path<i64>,
    RawQuery(query): RawQuery,
) -> Response {
    let mut state = lock(&shared);
    let account = match holder(&state, id, query.as_deref(), None) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let now = state.now_naive();
    let account = &mut state.accounts[account];
    let home = account.zone.clone();
    let Some(a) = account.get_mut(id) else {
        return not_found(id);
    };
    a.deleted = true;
    a.edit(&home, |summary| {
        summary.insert("dateUpdatedUTC".into(), json!(now));
    });
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct IssueTokens {
    client_id: Option<String>,
    scope: Option<String>,
    expires_in: Option<i64>,
    /// The user id of the account the tokens are for; the first account without it.
    account: Option<Value>,
}

async fn issue_tokens(
    State(shared): State<Shared>,
    RawQuery(query): RawQuery,
    body: Option<Json<IssueTokens>>,
) -> Response {
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let mut state = lock(&shared);
    let account = match account_or_first(&state, query.as_deref(), body.account.as_ref()) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let client_id = body.client_id.unwrap_or_else(|| {
        state
            .config
            .clients
            .first()
            .map(|c| c.id.clone())
            .unwrap_or_default()
    });
    let scope = body.scope.unwrap_or_else(|| "read_activity".into());
    let now = state.now();
    let lifetime = body
        .expires_in
        .map(SignedDuration::from_secs)
        .unwrap_or(state.config.access_token_lifetime);
    let (access, refresh) = (state.random_token(), state.random_token());
    let scope_said = scope.clone();
    let refresh_lifetime = state.config.refresh_token_lifetime;
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
    state.refresh_tokens.insert(
        refresh.clone(),
        Token {
            client_id,
            scope,
            expires: now + refresh_lifetime,
            revoked: false,
            account,
        },
    );
    let user = state.accounts[account].user_id;
    Json(json!({ "access_token": access, "refresh_token": refresh, "token_type": "Bearer", "expires_in": lifetime.as_secs(), "scope": scope_said, "account": user })).into_response()
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WhichTokens {
    access_token: Option<String>,
    refresh_token: Option<String>,
    /// Without a token named: the account whose tokens change (the first without it).
    account: Option<Value>,
}

fn change_tokens(
    shared: &Shared,
    query: Option<&str>,
    which: WhichTokens,
    revoke: bool,
) -> Response {
    let mut state = lock(shared);
    let account = match account_or_first(&state, query, which.account.as_ref()) {
        Ok(a) => a,
        Err(response) => return response,
    };
    let past = state.now() - SignedDuration::from_secs(1);
    // a token named is changed whatever its account; "all" means all of one account's
    let all = which.access_token.is_none() && which.refresh_token.is_none();
    let mut changed = 0;
    let apply = |t: &mut Token| {
        if revoke {
            t.revoked = true
        } else {
            t.expires = past
        }
    };
    for (key, t) in state.tokens.iter_mut() {
        if (all && t.account == account) || which.access_token.as_deref() == Some(key) {
            apply(t);
            changed += 1;
        }
    }
    // expiring "all" expires access tokens only: refresh stays possible, as when 12 weeks pass
    // for an access token that was refreshed; revoking all kills refresh tokens too
    for (key, t) in state.refresh_tokens.iter_mut() {
        if (all && revoke && t.account == account) || which.refresh_token.as_deref() == Some(key) {
            apply(t);
            changed += 1;
        }
    }
    Json(json!({ "changed": changed })).into_response()
}

async fn expire_tokens(
    State(shared): State<Shared>,
    RawQuery(query): RawQuery,
    body: Option<Json<WhichTokens>>,
) -> Response {
    let which = body.map(|Json(b)| b).unwrap_or_default();
    change_tokens(&shared, query.as_deref(), which, false)
}

async fn revoke_tokens(
    State(shared): State<Shared>,
    RawQuery(query): RawQuery,
    body: Option<Json<WhichTokens>>,
) -> Response {
    let which = body.map(|Json(b)| b).unwrap_or_default();
    change_tokens(&shared, query.as_deref(), which, true)
}

#[derive(Deserialize)]
struct Advance {
    advance_s: i64,
}

async fn advance_clock(State(shared): State<Shared>, Json(body): Json<Advance>) -> Response {
    let mut state = lock(&shared);
    state.clock_offset += SignedDuration::from_secs(body.advance_s);
    let now = state.now();
    Json(json!({ "now": now.to_string() })).into_response()
}

async fn get_faults(State(shared): State<Shared>) -> Response {
    Json(lock(&shared).config.faults.clone()).into_response()
}

async fn put_faults(State(shared): State<Shared>, Json(faults): Json<Faults>) -> Response {
    lock(&shared).config.faults = faults.clone();
    Json(faults).into_response()
}

async fn get_limits(State(shared): State<Shared>) -> Response {
    Json(lock(&shared).config.limits.clone()).into_response()
}

async fn put_limits(State(shared): State<Shared>, Json(limits): Json<RateLimits>) -> Response {
    lock(&shared).config.limits = limits.clone();
    Json(limits).into_response()
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Settings {
    auto_approve: Option<bool>,
    rotate_refresh_tokens: Option<bool>,
    /// `ignore`, `enforce` or `reject`.
    pkce: Option<PkceMode>,
    access_token_lifetime_s: Option<i64>,
    refresh_token_lifetime_s: Option<i64>,
    code_lifetime_s: Option<i64>,
    max_count: Option<usize>,
    /// Odd data ([`crate::Quirks`]): shares from 0 to 1.
    offsetless_share: Option<f64>,
    extreme_offset_share: Option<f64>,
    garbage_share: Option<f64>,
    garbage_distance_runs: Option<usize>,
    /// Any JSON to claim as `expires_in`; `null` claims the real lifetime again.
    #[serde(deserialize_with = "present")]
    token_expires_in: Option<Value>,
    /// `stable`, `missing` or `per_token` ([`crate::UserinfoId`]).
    userinfo_id: Option<crate::UserinfoId>,
}

/// A key that is present, `null` included (`Some(Value::Null)`); absent keys are `None`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

async fn put_settings(State(shared): State<Shared>, Json(s): Json<Settings>) -> Response {
    let mut state = lock(&shared);
    let c = &mut state.config;
    if let Some(v) = s.auto_approve {
        c.auto_approve = v;
    }
    if let Some(v) = s.rotate_refresh_tokens {
        c.rotate_refresh_tokens = v;
    }
    if let Some(v) = s.pkce {
        c.pkce = v;
    }
    if let Some(v) = s.access_token_lifetime_s {
        c.access_token_lifetime = SignedDuration::from_secs(v);
    }
    if let Some(v) = s.refresh_token_lifetime_s {
        c.refresh_token_lifetime = SignedDuration::from_secs(v);
    }
    if let Some(v) = s.code_lifetime_s {
        c.code_lifetime = SignedDuration::from_secs(v);
    }
    if let Some(v) = s.max_count {
        c.max_count = v;
    }
    let share = |v: f64| v.clamp(0.0, 1.0);
    if let Some(v) = s.offsetless_share {
        c.quirks.offsetless_share = share(v);
    }
    if let Some(v) = s.extreme_offset_share {
        c.quirks.extreme_offset_share = share(v);
    }
    if let Some(v) = s.garbage_share {
        c.quirks.garbage_share = share(v);
    }
    if let Some(v) = s.garbage_distance_runs {
        c.quirks.garbage_distance_runs = v;
    }
    if let Some(v) = s.token_expires_in {
        c.quirks.token_expires_in = (!v.is_null()).then_some(v);
    }
    if let Some(v) = s.userinfo_id {
        c.quirks.userinfo_id = v;
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn add_client(State(shared): State<Shared>, Json(client): Json<Client>) -> Response {
    let mut state = lock(&shared);
    state.config.clients.retain(|c| c.id != client.id);
    state.config.clients.push(client);
    StatusCode::CREATED.into_response()
}

/// Every token issued for an account (`?account=<user id>`, else the first), access and
/// refresh, revoked or not: for tests that check a client never stores them in the clear.
async fn list_tokens(State(shared): State<Shared>, RawQuery(query): RawQuery) -> Response {
    let state = lock(&shared);
    let account = match account_or_first(&state, query.as_deref(), None) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let of = |map: &std::collections::HashMap<String, Token>| -> Vec<String> {
        let mut values: Vec<String> = map
            .iter()
            .filter(|(_, t)| t.account == account)
            .map(|(v, _)| v.clone())
            .collect();
        values.sort();
        values
    };
    Json(json!({
        "access_tokens": of(&state.tokens),
        "refresh_tokens": of(&state.refresh_tokens),
    }))
    .into_response()
}

/// Every count, with a breakdown per account; `?account=<user id>`: that account's counts.
async fn stats(State(shared): State<Shared>, RawQuery(query): RawQuery) -> Response {
    let state = lock(&shared);
    match named_account(&state, query.as_deref(), None) {
        Err(response) => response,
        Ok(None) => Json(state.counters.clone()).into_response(),
        Ok(Some(account)) => {
            let user = state.accounts[account].user_id;
            let counts = state.counters.accounts.get(&user).cloned();
            Json(counts.unwrap_or_default()).into_response()
        }
    }
}

async fn reset_stats(State(shared): State<Shared>) -> Response {
    let mut state = lock(&shared);
    state.counters = Default::default();
    state.windows.clear();
    state.app_windows.clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn list_accounts(State(shared): State<Shared>) -> Response {
    let state = lock(&shared);
    let list: Vec<Value> = state
        .accounts
        .iter()
        .map(|a| {
            json!({
                "id": a.user_id,
                "userName": a.user_name,
                "firstName": a.first_name,
                "lastName": a.last_name,
                "timeZone": a.zone_name,
                "unitDistance": a.unit_distance,
                "runCount": a.run_count(),
            })
        })
        .collect();
    Json(list).into_response()
}

fn signing_in(state: &SandboxState) -> Response {
    let a = &state.accounts[state.sign_in_as];
    Json(json!({ "account": a.user_id, "userName": a.user_name })).into_response()
}

async fn get_sign_in_as(State(shared): State<Shared>) -> Response {
    signing_in(&lock(&shared))
}

/// `{"account": <user id>}`: the account that signs in from now on when an authorization
/// does not choose one.
async fn sign_in_as(State(shared): State<Shared>, body: Bytes) -> Response {
    let named = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(mut fields)) => fields.remove("account"),
        _ => None,
    };
    let Some(named) = named else {
        return bad_request(r#"send {"account": <user id>} as JSON"#);
    };
    let mut state = lock(&shared);
    match named_account(&state, None, Some(&named)) {
        Ok(Some(account)) => {
            state.sign_in_as = account;
            signing_in(&state)
        }
        Ok(None) => bad_request(r#"send {"account": <user id>} as JSON"#),
        Err(response) => response,
    }
}

/// The full format of one activity: summary, extended keys and, for recorded runs, recording
/// arrays, laps and pauses, generated deterministically from the activity's id.
pub(crate) fn full_activity(a: &Activity, seed: u64) -> Value {
    let (summary, extended) = a.parts();
    let mut full = summary.into_owned();
    full.extend(extended.into_owned());
    let has_details = full.get("hasDetails").and_then(Value::as_i64) == Some(1);
    let gps = full.get("hasDetailsGPS").and_then(Value::as_i64) == Some(1);
    if has_details {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ a.id as u64);
        let (seconds, km) = (a.seconds().max(1.0), a.km());
        let points = ((seconds / 10.0) as usize).clamp(2, 2000);
        let mut keys = vec!["clock", "duration", "distance", "heartRate", "cadence"];
        if gps {
            keys.extend(["latitude", "longitude", "elevation"]);
        }
        let lat0 = full
            .get("startLatitude")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        let lon0 = full
            .get("startLongitude")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        let mut values: Vec<Vec<Value>> = vec![Vec::with_capacity(points); keys.len()];
        for i in 0..points {
            let f = i as f64 / (points - 1) as f64;
            let t = (seconds * f * 10.0).round() / 10.0;
            values[0].push(json!(t));
            values[1].push(json!(t));
            values[2].push(json!((km * f * 1e5).round() / 1e5));
            values[3].push(json!(rng.random_range(120..175)));
            values[4].push(json!(rng.random_range(160..190)));
            if gps {
                let fix = rng.random_bool(0.995);
                values[5].push(if fix {
                    json!(lat0 + f * 0.01)
                } else {
                    json!(-1)
                });
                values[6].push(if fix {
                    json!(lon0 + f * 0.01)
                } else {
                    json!(-1)
                });
                values[7].push(json!(
                    (rng.random_range(10.0..40.0f64) * 10.0).round() / 10.0
                ));
            }
        }
        let laps: Vec<Value> = (1..=(km.floor() as i64).max(1))
            .map(|l| json!({ "lapType": "general", "endDuration": (seconds * l as f64 / km.max(1.0)).min(seconds), "endDistance": (l as f64).min(km) }))
            .collect();
        full.insert("recordingKeys".into(), json!(keys));
        full.insert("recordingValues".into(), json!(values));
        full.insert("pauseIndexes".into(), json!([]));
        full.insert("laps".into(), json!(laps));
        full.insert("songs".into(), json!([]));
        full.insert("heartRateRecovery".into(), json!(rng.random_range(15..40)));
    }
    Value::Object(full)
}
