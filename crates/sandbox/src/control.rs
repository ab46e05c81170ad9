//! The control API under `/_sandbox/`: stage runs, expire or revoke tokens, move the clock,
//! switch faults and limits, read request counts. Also builds the full activity format.

use axum::extract::{Path, State};
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
use crate::state::{Activity, Client, RateLimits, Token};
use crate::{Faults, PkceMode, Shared, lock};

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/_sandbox/runs", get(list_runs).post(add_run))
        .route(
            "/_sandbox/runs/{id}",
            get(get_run).patch(edit_run).delete(delete_run),
        )
        .route("/_sandbox/tokens", post(issue_tokens))
        .route("/_sandbox/tokens/expire", post(expire_tokens))
        .route("/_sandbox/tokens/revoke", post(revoke_tokens))
        .route("/_sandbox/clock", post(advance_clock))
        .route("/_sandbox/faults", get(get_faults).put(put_faults))
        .route("/_sandbox/limits", get(get_limits).put(put_limits))
        .route("/_sandbox/settings", axum::routing::put(put_settings))
        .route("/_sandbox/clients", post(add_client))
        .route("/_sandbox/stats", get(stats))
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

fn describe(a: &Activity) -> Value {
    json!({ "activityId": a.id, "deleted": a.deleted, "summary": a.summary })
}

async fn list_runs(State(shared): State<Shared>) -> Response {
    let state = lock(&shared);
    Json(state.activities.iter().map(describe).collect::<Vec<_>>()).into_response()
}

async fn get_run(State(shared): State<Shared>, Path(id): Path<i64>) -> Response {
    let state = lock(&shared);
    state
        .get(id)
        .map_or_else(|| not_found(id), |a| Json(describe(a)).into_response())
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

async fn add_run(State(shared): State<Shared>, Json(body): Json<NewRun>) -> Response {
    let mut state = lock(&shared);
    let id = body
        .raw
        .as_ref()
        .and_then(|r| r.get("activityId"))
        .or_else(|| body.fields.get("activityId"))
        .and_then(Value::as_i64)
        .unwrap_or_else(|| state.next_id());
    let summary = match body.raw {
        Some(Value::Object(raw)) => raw,
        Some(_) => return bad_request("raw must be a JSON object"),
        None => {
            let now = state.now_naive();
            let start = local_with_offset(&state.now().to_zoned_datetime(state.home_zone()));
            let mut summary = template(id, &start, &now);
            for (k, v) in body.fields {
                summary.insert(k, v);
            }
            summary.insert("activityId".into(), json!(id));
            summary
        }
    };
    let activity = Activity::new(id, summary, Map::new());
    let described = describe(&activity);
    state.insert(activity);
    (StatusCode::CREATED, Json(described)).into_response()
}

async fn edit_run(
    State(shared): State<Shared>,
    Path(id): Path<i64>,
    Json(fields): Json<Map<String, Value>>,
) -> Response {
    let mut state = lock(&shared);
    let now = state.now_naive();
    let Some(a) = state.get_mut(id) else {
        return not_found(id);
    };
    let explicit_update = fields.contains_key("dateUpdatedUTC");
    for (k, v) in fields {
        a.summary.insert(k, v);
    }
    if !explicit_update {
        a.summary.insert("dateUpdatedUTC".into(), json!(now));
    }
    a.reindex();
    Json(describe(a)).into_response()
}

async fn delete_run(State(shared): State<Shared>, Path(id): Path<i64>) -> Response {
    let mut state = lock(&shared);
    let now = state.now_naive();
    let Some(a) = state.get_mut(id) else {
        return not_found(id);
    };
    a.deleted = true;
    a.summary.insert("dateUpdatedUTC".into(), json!(now));
    a.reindex();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct IssueTokens {
    client_id: Option<String>,
    scope: Option<String>,
    expires_in: Option<i64>,
}

async fn issue_tokens(State(shared): State<Shared>, body: Option<Json<IssueTokens>>) -> Response {
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let mut state = lock(&shared);
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
        },
    );
    state.refresh_tokens.insert(
        refresh.clone(),
        Token {
            client_id,
            scope,
            expires: now + refresh_lifetime,
            revoked: false,
        },
    );
    Json(json!({ "access_token": access, "refresh_token": refresh, "token_type": "Bearer", "expires_in": lifetime.as_secs(), "scope": scope_said })).into_response()
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WhichTokens {
    access_token: Option<String>,
    refresh_token: Option<String>,
}

fn change_tokens(shared: &Shared, which: WhichTokens, revoke: bool) -> Response {
    let mut state = lock(shared);
    let past = state.now() - SignedDuration::from_secs(1);
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
        if all || which.access_token.as_deref() == Some(key) {
            apply(t);
            changed += 1;
        }
    }
    // expiring "all" expires access tokens only: refresh stays possible, as when 12 weeks pass
    // for an access token that was refreshed; revoking all kills refresh tokens too
    for (key, t) in state.refresh_tokens.iter_mut() {
        if (all && revoke) || which.refresh_token.as_deref() == Some(key) {
            apply(t);
            changed += 1;
        }
    }
    Json(json!({ "changed": changed })).into_response()
}

async fn expire_tokens(State(shared): State<Shared>, body: Option<Json<WhichTokens>>) -> Response {
    change_tokens(&shared, body.map(|Json(b)| b).unwrap_or_default(), false)
}

async fn revoke_tokens(State(shared): State<Shared>, body: Option<Json<WhichTokens>>) -> Response {
    change_tokens(&shared, body.map(|Json(b)| b).unwrap_or_default(), true)
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
    StatusCode::NO_CONTENT.into_response()
}

async fn add_client(State(shared): State<Shared>, Json(client): Json<Client>) -> Response {
    let mut state = lock(&shared);
    state.config.clients.retain(|c| c.id != client.id);
    state.config.clients.push(client);
    StatusCode::CREATED.into_response()
}

async fn stats(State(shared): State<Shared>) -> Response {
    Json(lock(&shared).counters.clone()).into_response()
}

async fn reset_stats(State(shared): State<Shared>) -> Response {
    let mut state = lock(&shared);
    state.counters = Default::default();
    state.windows.clear();
    StatusCode::NO_CONTENT.into_response()
}

/// The full format of one activity: summary, extended keys and, for recorded runs, recording
/// arrays, laps and pauses, generated deterministically from the activity's id.
pub(crate) fn full_activity(a: &Activity, seed: u64) -> Value {
    let mut full = a.summary.clone();
    full.extend(a.extended.clone());
    let has_details = a.summary.get("hasDetails").and_then(Value::as_i64) == Some(1);
    let gps = a.summary.get("hasDetailsGPS").and_then(Value::as_i64) == Some(1);
    if has_details {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ a.id as u64);
        let (seconds, km) = (a.seconds().max(1.0), a.km());
        let points = ((seconds / 10.0) as usize).clamp(2, 2000);
        let mut keys = vec!["clock", "duration", "distance", "heartRate", "cadence"];
        if gps {
            keys.extend(["latitude", "longitude", "elevation"]);
        }
        let lat0 = a
            .summary
            .get("startLatitude")
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        let lon0 = a
            .summary
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
