//! The routes. Each handler is registered through `utoipa_axum::routes!`, so the OpenAPI
//! document is generated from the same list the router serves.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use jiff::Timestamp;
use jiff::civil::Date;
use myrunstreak_app::goals;
use myrunstreak_app::ledger::{self, LedgerError, LedgerResponse, LedgerWriteError, NewEntry};
use myrunstreak_app::queries::{self, RunDetail, StreakQuery};
use myrunstreak_app::verdict::{self, Freshness};
use myrunstreak_app::{HeldRun, RunItem, StoreError, SyncEntry, is_stale};
use myrunstreak_domain::{PeriodRule, Rule};
use serde::Serialize;
use subtle::ConstantTimeEq;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::snapshot::LoadError;
use crate::{ApiError, AppState, Snapshot, dashboard};

type Shared = Arc<AppState>;
type Params = Query<HashMap<String, String>>;

#[derive(OpenApi)]
#[openapi(info(
    title = "MyRunStreak API",
    version = "1",
    description = "Your running streak and SmashRun history. Distances are kilometres; dates are run days (the local date where each run started)."
))]
struct ApiDoc;

static OPENAPI: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();

pub(crate) fn router(state: Shared) -> Router {
    let (router, api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(streak))
        .routes(routes!(streaks))
        .routes(routes!(period_streak))
        .routes(routes!(goals))
        .routes(routes!(runs))
        .routes(routes!(run))
        .routes(routes!(stats))
        .routes(routes!(records))
        .routes(routes!(calendar))
        .routes(routes!(day))
        .routes(routes!(sync_status))
        .routes(routes!(start_sync))
        .routes(routes!(ledger, add_to_ledger))
        .routes(routes!(openapi))
        .routes(routes!(healthz))
        .routes(routes!(dashboard_page))
        .routes(routes!(day_page))
        .routes(routes!(badge))
        .routes(routes!(status_json))
        .routes(routes!(streak_ics))
        .with_state(state.clone())
        .split_for_parts();
    let _ = OPENAPI.set(api);
    let mut router = router
        .fallback(|| async {
            ApiError::not_found("no such page or endpoint; see /api/v1/openapi.json")
        })
        .layer(RequestBodyLimitLayer::new(16 * 1024))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ));
    if !state.config.cors_origins.is_empty() {
        let origins: Vec<_> = state
            .config
            .cors_origins
            .iter()
            .filter_map(|o| o.parse().ok())
            .collect();
        router = router.layer(CorsLayer::new().allow_origin(AllowOrigin::list(origins)));
    }
    router
}

/// The snapshot to answer from. While this server syncs, the file is being written: serve the
/// snapshot already loaded rather than open it.
pub(crate) async fn snapshot(state: &AppState) -> Result<Arc<Snapshot>, ApiError> {
    let syncing = state.syncing.try_lock().is_err();
    let result = if syncing {
        Ok(state.snapshot.cached())
    } else {
        state.snapshot.get().await.map(Some)
    };
    match result {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(ApiError::unavailable(
            "the database is being written; try again in a moment",
        )),
        Err(LoadError::Store(StoreError::Locked { .. })) => Err(ApiError::unavailable(
            "the database is in use by a sync; try again in a moment",
        )),
        Err(LoadError::Store(e)) => Err(ApiError::internal(e)),
        Err(LoadError::Task(e)) => Err(ApiError::internal(e)),
    }
}

/// Serves the body `compute` makes through the per-second response cache. The computation runs
/// on a blocking thread, never on the runtime's.
async fn cached_body(
    state: &AppState,
    uri: &Uri,
    snapshot: &Arc<Snapshot>,
    compute: impl FnOnce(&Snapshot) -> Result<(&'static str, Vec<u8>), ApiError> + Send + 'static,
) -> Result<Response, ApiError> {
    let key = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned());
    let second = Timestamp::now().as_second();
    if let Some(hit) = state.responses.get(&key, snapshot, second) {
        return Ok(([(header::CONTENT_TYPE, hit.content_type)], hit.body).into_response());
    }
    let of = snapshot.clone();
    let (content_type, body) = tokio::task::spawn_blocking(move || compute(&of))
        .await
        .map_err(ApiError::internal)??;
    let body = axum::body::Bytes::from(body);
    state
        .responses
        .put(&key, snapshot, second, content_type, body.clone());
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// Serves `compute`'s value as JSON through the per-second response cache.
async fn cached<T: Serialize>(
    state: &AppState,
    uri: &Uri,
    snapshot: &Arc<Snapshot>,
    compute: impl FnOnce(&Snapshot) -> Result<T, ApiError> + Send + 'static,
) -> Result<Response, ApiError> {
    cached_body(state, uri, snapshot, |s| {
        let value = compute(s)?;
        serde_json::to_vec(&value)
            .map(|b| ("application/json", b))
            .map_err(ApiError::internal)
    })
    .await
}

fn date_param(p: &HashMap<String, String>, name: &str) -> Result<Option<Date>, ApiError> {
    p.get(name)
        .map(|v| {
            v.parse::<Date>().map_err(|_| {
                ApiError::bad_request(format!("{name}={v:?} is not a date: use YYYY-MM-DD"))
            })
        })
        .transpose()
}

fn number_param<T: std::str::FromStr>(
    p: &HashMap<String, String>,
    name: &str,
    what: &str,
) -> Result<Option<T>, ApiError> {
    p.get(name)
        .map(|v| {
            v.parse::<T>()
                .map_err(|_| ApiError::bad_request(format!("{name}={v:?} is not {what}")))
        })
        .transpose()
}

/// The query parameters `rule`, `tz`, `as_of` over the server's defaults.
pub(crate) fn streak_query(
    state: &AppState,
    p: &HashMap<String, String>,
) -> Result<StreakQuery, ApiError> {
    let mut query = base_query(state, p)?;
    if let Some(rule) = p.get("rule") {
        query.rule = rule
            .parse::<Rule>()
            .map_err(|e| ApiError::bad_request(format!("rule: {e}")))?;
    }
    Ok(query)
}

#[utoipa::path(get, path = "/api/v1/streak", tag = "streaks",
    params(("rule" = Option<String>, Query, description = "usrsa, continuous, any, or a daily minimum (2km, 1.5mi, 20min)"),
           ("tz" = Option<String>, Query, description = "an IANA zone to anchor run days to"),
           ("as_of" = Option<String>, Query, description = "judge the streak at the end of this day (YYYY-MM-DD)"),
           ("ledger" = Option<bool>, Query, description = "false: leave the runner's ledger (manual runs and overrides) out, the figure from SmashRun's runs only; also on /streaks, /streak/period, /goals, /stats, /records, /calendar and /days")),
    responses((status = 200, description = "The current and longest streak, today's verdict (`today.state`: done, at_risk with what is still needed and the seconds left until local midnight, no_streak, or cant_verify with its reason when the last successful sync is older than MYRUNSTREAK_STALE_AFTER), and the last successful sync (as `myrunstreak streak --json`)"), (status = 400, description = "A bad parameter")))]
async fn streak(
    State(state): State<Shared>,
    uri: Uri,
    Query(p): Params,
) -> Result<Response, ApiError> {
    let q = streak_query(&state, &p)?;
    let s = snapshot(&state).await?;
    let stale_after = state.config.stale_after;
    cached(&state, &uri, &s, move |s| {
        let now = Timestamp::now();
        let streak =
            queries::streak(&s.runs, &q, now).map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok(verdict::answer(
            streak,
            &Freshness::of(s.last_success.as_ref(), stale_after),
            now,
        ))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/streak/period", tag = "streaks",
    params(("rule" = Option<String>, Query, description = "a target per week or month: 20mi/week, 12runs/month, 3runs/week:sunday (default MYRUNSTREAK_PERIOD_STREAK)"),
           ("tz" = Option<String>, Query, description = "as for /streak"), ("as_of" = Option<String>, Query, description = "as for /streak")),
    responses((status = 200, description = "The weekly or monthly streak: current, longest, the period in progress"), (status = 400, description = "A bad parameter, or no rule given or set")))]
async fn period_streak(
    State(state): State<Shared>,
    uri: Uri,
    Query(p): Params,
) -> Result<Response, ApiError> {
    let rule = match p.get("rule") {
        Some(r) => r
            .parse::<PeriodRule>()
            .map_err(|e| ApiError::bad_request(format!("rule: {e}")))?,
        None => state.config.goals.period.ok_or_else(|| {
            ApiError::bad_request("give rule=20mi/week (or set MYRUNSTREAK_PERIOD_STREAK)")
        })?,
    };
    let q = base_query(&state, &p)?;
    let s = snapshot(&state).await?;
    cached(&state, &uri, &s, move |s| {
        goals::period_report(&s.runs, &q, &rule, Timestamp::now())
            .map_err(|e| ApiError::bad_request(e.to_string()))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/goals", tag = "streaks",
    params(("period" = Option<String>, Query, description = "the period streak (default MYRUNSTREAK_PERIOD_STREAK)"),
           ("target" = Option<String>, Query, description = "the year's target: 1000km, 600mi, 300runs (default MYRUNSTREAK_YEAR_GOAL)"),
           ("year" = Option<i16>, Query, description = "the year (default: this one in the runner's zone)"),
           ("tz" = Option<String>, Query, description = "as for /streak"), ("as_of" = Option<String>, Query, description = "as for /streak")),
    responses((status = 200, description = "The period streak and the year's goal with its pace line; each null when not set"), (status = 400, description = "A bad parameter")))]
async fn goals(
    State(state): State<Shared>,
    uri: Uri,
    Query(p): Params,
) -> Result<Response, ApiError> {
    let mut wanted = state.config.goals;
    if let Some(r) = p.get("period") {
        wanted.period = Some(
            r.parse()
                .map_err(|e| ApiError::bad_request(format!("period: {e}")))?,
        );
    }
    if let Some(t) = p.get("target") {
        wanted.year = Some(
            t.parse()
                .map_err(|e| ApiError::bad_request(format!("target: {e}")))?,
        );
    }
    let year: Option<i16> = number_param(&p, "year", "a year")?;
    let q = base_query(&state, &p)?;
    let s = snapshot(&state).await?;
    cached(&state, &uri, &s, move |s| {
        goals::goals(&s.runs, &q, &wanted, year, Timestamp::now())
            .map_err(|e| ApiError::bad_request(e.to_string()))
    })
    .await
}

/// The configured query with only `tz`, `as_of` and `ledger` taken from the parameters (their
/// `rule` is a period rule, not a daily one).
fn base_query(state: &AppState, p: &HashMap<String, String>) -> Result<StreakQuery, ApiError> {
    let ledger: bool = number_param(p, "ledger", "true or false")?.unwrap_or(true);
    Ok(state
        .config
        .query
        .clone()
        .with_overrides(
            None,
            p.get("tz").map(String::as_str),
            date_param(p, "as_of")?,
        )
        .map_err(|e| ApiError::bad_request(format!("tz={e}")))?
        .excluding_ledger(!ledger))
}

#[utoipa::path(get, path = "/api/v1/streaks", tag = "streaks",
    params(("min_days" = Option<u32>, Query, description = "the shortest streak listed (default 2)"),
           ("rule" = Option<String>, Query, description = "as for /streak"), ("tz" = Option<String>, Query, description = "as for /streak"),
           ("as_of" = Option<String>, Query, description = "as for /streak")),
    responses((status = 200, description = "Every streak, longest first"), (status = 400, description = "A bad parameter")))]
async fn streaks(
    State(state): State<Shared>,
    uri: Uri,
    Query(p): Params,
) -> Result<Response, ApiError> {
    let q = streak_query(&state, &p)?;
    let min_days = number_param(&p, "min_days", "a whole number of days")?.unwrap_or(2);
    let s = snapshot(&state).await?;
    cached(&state, &uri, &s, move |s| {
        queries::streak_history(&s.runs, &q, Timestamp::now(), min_days)
            .map_err(|e| ApiError::bad_request(e.to_string()))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/runs", tag = "runs",
    params(("since" = Option<String>, Query, description = "first run day"), ("until" = Option<String>, Query, description = "last run day"),
           ("limit" = Option<usize>, Query, description = "at most this many (default 50, at most 1000)"),
           ("offset" = Option<usize>, Query, description = "skip this many"),
           ("include_deleted" = Option<bool>, Query, description = "runs deleted on SmashRun too")),
    responses((status = 200, description = "Stored runs, newest first (as `myrunstreak runs --json`)"), (status = 400, description = "A bad parameter")))]
async fn runs(
    State(state): State<Shared>,
    Query(p): Params,
) -> Result<Json<Vec<RunItem>>, ApiError> {
    let since = date_param(&p, "since")?;
    let until = date_param(&p, "until")?;
    let limit: usize = number_param(&p, "limit", "a whole number")?.unwrap_or(50);
    if limit == 0 || limit > 1000 {
        return Err(ApiError::bad_request(format!(
            "limit={limit} must be from 1 to 1000"
        )));
    }
    let offset: usize = number_param(&p, "offset", "a whole number")?.unwrap_or(0);
    let deleted: bool = number_param(&p, "include_deleted", "true or false")?.unwrap_or(false);
    let s = snapshot(&state).await?;
    let list = s
        .stored
        .iter()
        .filter(|r| deleted || !r.deleted)
        .filter(|r| since.is_none_or(|d| r.date >= d) && until.is_none_or(|d| r.date <= d))
        .skip(offset)
        .take(limit)
        .cloned()
        .collect();
    Ok(Json(list))
}

#[utoipa::path(get, path = "/api/v1/runs/{id}", tag = "runs", params(("id" = i64, Path, description = "SmashRun's activity id")),
    responses((status = 200, description = "One run with the JSON SmashRun sent for it"), (status = 404, description = "No such run")))]
async fn run(
    State(state): State<Shared>,
    Path(id): Path<String>,
) -> Result<Json<RunDetail>, ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("run id {id:?} is not a number")))?;
    let s = snapshot(&state).await?;
    let run = s
        .stored
        .iter()
        .find(|r| r.activity_id == id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("no run {id} is stored")))?;
    Ok(Json(RunDetail::from(run)))
}

#[utoipa::path(get, path = "/api/v1/stats", tag = "analytics",
    params(("year" = Option<i16>, Query, description = "one year"), ("month" = Option<i8>, Query, description = "one month (1-12) of that year")),
    responses((status = 200, description = "Totals: overall, yearly, monthly, weekly, by weekday"), (status = 400, description = "A bad parameter")))]
async fn stats(
    State(state): State<Shared>,
    uri: Uri,
    Query(p): Params,
) -> Result<Response, ApiError> {
    let q = streak_query(&state, &p)?;
    let year: Option<i16> = number_param(&p, "year", "a year")?;
    let month: Option<i8> = number_param(&p, "month", "a month from 1 to 12")?;
    if month.is_some_and(|m| !(1..=12).contains(&m)) || (month.is_some() && year.is_none()) {
        return Err(ApiError::bad_request(
            "month must be from 1 to 12 and comes with a year",
        ));
    }
    let s = snapshot(&state).await?;
    cached(&state, &uri, &s, move |s| {
        Ok(queries::stats(&s.runs, &q, year, month))
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/records", tag = "analytics", responses((status = 200, description = "Personal records")))]
async fn records(
    State(state): State<Shared>,
    uri: Uri,
    Query(p): Params,
) -> Result<Response, ApiError> {
    let q = streak_query(&state, &p)?;
    let s = snapshot(&state).await?;
    cached(&state, &uri, &s, move |s| Ok(queries::records(&s.runs, &q))).await
}

#[utoipa::path(get, path = "/api/v1/calendar", tag = "analytics",
    params(("year" = Option<i16>, Query, description = "a whole year; default the last 365 days"), ("rule" = Option<String>, Query, description = "as for /streak")),
    responses((status = 200, description = "Per-day distance and qualification"), (status = 400, description = "A bad parameter")))]
async fn calendar(
    State(state): State<Shared>,
    uri: Uri,
    Query(p): Params,
) -> Result<Response, ApiError> {
    let q = streak_query(&state, &p)?;
    let year: Option<i16> = number_param(&p, "year", "a year")?;
    let s = snapshot(&state).await?;
    cached(&state, &uri, &s, move |s| {
        queries::calendar(&s.runs, &q, Timestamp::now(), year)
            .map_err(|e| ApiError::bad_request(e.to_string()))
    })
    .await
}

/// The `{date}` of a day's path, or a 400 that says what a date looks like.
fn path_date(text: &str) -> Result<Date, ApiError> {
    text.parse::<Date>().map_err(|_| {
        ApiError::bad_request(format!(
            "{text:?} is not a date: use YYYY-MM-DD, e.g. 2026-05-03"
        ))
    })
}

#[utoipa::path(get, path = "/api/v1/days/{date}", tag = "streaks",
    params(("date" = String, Path, description = "the run day to explain (YYYY-MM-DD)"),
           ("rule" = Option<String>, Query, description = "as for /streak"), ("tz" = Option<String>, Query, description = "as for /streak"),
           ("as_of" = Option<String>, Query, description = "as for /streak")),
    responses((status = 200, description = "Why the day did or did not count: its runs with local times and offsets, the total against the rule, near-misses, flagged offsets, the verdict and its streak (as `myrunstreak streak why DATE --json`)"),
              (status = 400, description = "A bad date or parameter")))]
async fn day(
    State(state): State<Shared>,
    uri: Uri,
    Path(date): Path<String>,
    Query(p): Params,
) -> Result<Response, ApiError> {
    let date = path_date(&date)?;
    let q = streak_query(&state, &p)?;
    let s = snapshot(&state).await?;
    let units = state.config.units;
    cached(&state, &uri, &s, move |s| {
        queries::day_audit(&s.runs, &s.stored, &q, date, Timestamp::now(), units)
            .map_err(|e| ApiError::bad_request(e.to_string()))
    })
    .await
}

/// `sync/status`.
#[derive(Serialize)]
pub(crate) struct SyncStatusResponse {
    running: bool,
    last_attempt: Option<SyncEntry>,
    last_success: Option<SyncEntry>,
    stale: bool,
    runs: usize,
    /// Runs missing from SmashRun's listing but held back from deletion: they still count.
    pending_deletions: Vec<HeldRun>,
    /// What that means, in words (absent when nothing is pending).
    pending_notice: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/sync/status", tag = "sync", responses((status = 200, description = "Last attempt, last success, counts, error, and whether the data is stale (no success within MYRUNSTREAK_STALE_AFTER, default 36 h)")))]
async fn sync_status(State(state): State<Shared>) -> Result<Json<SyncStatusResponse>, ApiError> {
    let s = snapshot(&state).await?;
    Ok(Json(SyncStatusResponse {
        running: state.syncing.try_lock().is_err(),
        last_attempt: s.syncs.first().cloned(),
        last_success: s.last_success.clone(),
        stale: is_stale(
            s.last_success.as_ref(),
            Timestamp::now(),
            state.config.stale_after,
        ),
        runs: s.runs.len(),
        pending_deletions: s.pending.clone(),
        pending_notice: myrunstreak_app::pending_notice(&s.pending),
    }))
}

fn authorized(state: &AppState, headers: &HeaderMap, what: &str) -> Result<(), ApiError> {
    if state.config.trust_caller {
        return Ok(());
    }
    let Some(expected) = &state.config.api_token else {
        return Err(ApiError::disabled(what));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .unwrap_or("");
    if bool::from(given.as_bytes().ct_eq(expected.expose().as_bytes())) && !given.is_empty() {
        Ok(())
    } else {
        Err(ApiError::unauthorized())
    }
}

#[utoipa::path(post, path = "/api/v1/sync", tag = "sync", security(("bearer" = [])),
    responses((status = 202, description = "An incremental sync started"), (status = 401, description = "Missing or wrong bearer token"),
              (status = 403, description = "Disabled: no MYRUNSTREAK_API_TOKEN"), (status = 409, description = "A sync is already running")))]
async fn start_sync(State(state): State<Shared>, headers: HeaderMap) -> Result<Response, ApiError> {
    authorized(&state, &headers, "POST /api/v1/sync")?;
    let Some(runner) = state.config.sync.clone() else {
        return Err(ApiError::disabled("syncing from this server"));
    };
    let Ok(guard) = state.syncing.clone().try_lock_owned() else {
        return Err(ApiError::conflict(
            "a sync is already running; see /api/v1/sync/status",
        ));
    };
    let background = state.clone();
    tokio::spawn(async move {
        let _guard = guard;
        match runner().await {
            Ok(report) => tracing::info!(
                added = report.counts.added,
                updated = report.counts.updated,
                deleted = report.counts.deleted,
                "sync finished"
            ),
            Err(e) => tracing::error!("sync failed: {e}"),
        }
        background.snapshot.invalidate();
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "status": "started" })),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/ledger", tag = "ledger",
    responses((status = 200, description = "The runner's ledger, by day: manual and imported runs (`kind: run`, with `file` when imported; `duplicate_of` names the SmashRun activity a run duplicates, then not counted on its own) and overrides (`kind: override`, a day counted without a run record, with its reason), each with its `push` to SmashRun (null, or `state` `attempted`, `pushed` or `confirmed`, with `external_id` and `activity_id`), as `myrunstreak ledger --json`")))]
async fn ledger(State(state): State<Shared>) -> Result<Json<LedgerResponse>, ApiError> {
    let s = snapshot(&state).await?;
    Ok(Json(LedgerResponse::of(s.ledger.clone(), &s.runs)))
}

#[utoipa::path(post, path = "/api/v1/ledger", tag = "ledger", security(("bearer" = [])),
    request_body(content = String, content_type = "application/json", description = "`{\"kind\":\"run\",\"date\":\"2026-05-02\",\"distance_km\":1.93,\"duration_s\":690,\"time\":\"06:40\",\"note\":\"...\"}` or `{\"kind\":\"override\",\"date\":\"2026-05-02\",\"reason\":\"watch died\"}`"),
    responses((status = 201, description = "The entry recorded and the day it counts on (as `myrunstreak add --json` / `override --json`)"),
              (status = 400, description = "A bad entry (no reason, no distance, a bad date)"), (status = 401, description = "Missing or wrong bearer token"),
              (status = 403, description = "Disabled: no MYRUNSTREAK_API_TOKEN"), (status = 409, description = "The day is already overridden"),
              (status = 503, description = "The database is in use by a sync")))]
async fn add_to_ledger(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    authorized(&state, &headers, "POST /api/v1/ledger")?;
    let entry: NewEntry = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("a ledger entry: {e}")))?;
    let refused = |e: LedgerError| match e {
        LedgerError::Invalid(e) => ApiError::bad_request(e.to_string()),
        LedgerError::Store(e @ StoreError::AlreadyOverridden { .. }) => {
            ApiError::conflict(e.to_string())
        }
        LedgerError::Store(StoreError::Locked { .. }) => {
            ApiError::unavailable("the database is in use by a sync; try again in a moment")
        }
        LedgerError::Store(e) => ApiError::internal(e),
    };
    let query = state.config.query.clone();
    // where the database is not ours to write in place (AWS), the writer makes it durable
    if let Some(writer) = &state.config.ledger_writer {
        let change = writer
            .record(entry, &query, Timestamp::now())
            .await
            .map_err(|e| match e {
                LedgerWriteError::Ledger(e) => refused(e),
                LedgerWriteError::Unavailable(e) => ApiError::unavailable(e),
            })?;
        state.snapshot.invalidate();
        return Ok((StatusCode::CREATED, Json(change)).into_response());
    }
    // one writer at a time: never while this server syncs
    let Ok(guard) = state.syncing.clone().try_lock_owned() else {
        return Err(ApiError::unavailable(
            "a sync is running; try again in a moment",
        ));
    };
    let path = state.config.db_path.clone();
    let change = tokio::task::spawn_blocking(move || {
        let _guard = guard;
        let now = Timestamp::now();
        ledger::record(&mut ledger::open_book(&path, now)?, entry, &query, now)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(refused)?;
    state.snapshot.invalidate();
    Ok((StatusCode::CREATED, Json(change)).into_response())
}

#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", responses((status = 200, description = "This document")))]
async fn openapi() -> Response {
    match OPENAPI.get() {
        Some(doc) => Json(doc).into_response(),
        None => ApiError::internal("the OpenAPI document was not built").into_response(),
    }
}

#[utoipa::path(get, path = "/healthz", tag = "meta", responses((status = 200, description = "The server is up")))]
async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

#[utoipa::path(get, path = "/", tag = "dashboard", params(("year" = Option<i16>, Query, description = "show this year's calendar")),
    responses((status = 200, description = "The dashboard (HTML)")))]
async fn dashboard_page(
    State(state): State<Shared>,
    uri: Uri,
    Query(p): Params,
) -> Result<Response, ApiError> {
    let year: Option<i16> = number_param(&p, "year", "a year")?;
    let s = snapshot(&state).await?;
    let shared = state.clone();
    cached_body(&state, &uri, &s, move |s| {
        let html = dashboard::page(s, &shared.config, year, Timestamp::now())
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok(("text/html; charset=utf-8", html.into_bytes()))
    })
    .await
}

#[utoipa::path(get, path = "/days/{date}", tag = "dashboard", params(("date" = String, Path, description = "the run day to explain (YYYY-MM-DD)")),
    responses((status = 200, description = "One day's audit (HTML): why it did or did not count"), (status = 400, description = "A bad date")))]
async fn day_page(
    State(state): State<Shared>,
    uri: Uri,
    Path(date): Path<String>,
) -> Result<Response, ApiError> {
    let date = path_date(&date)?;
    let s = snapshot(&state).await?;
    let shared = state.clone();
    cached_body(&state, &uri, &s, move |s| {
        let html = dashboard::day_page(s, &shared.config, date, Timestamp::now())
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok(("text/html; charset=utf-8", html.into_bytes()))
    })
    .await
}

/// One of the published status files (`myrunstreak publish`'s), rendered from the snapshot.
async fn published(state: &Shared, name: &str) -> Result<Response, ApiError> {
    let s = snapshot(state).await?;
    let fresh = Freshness::of(s.last_success.as_ref(), state.config.stale_after);
    let publication = myrunstreak_app::publish::publish(
        &s.runs,
        &state.config.query,
        &fresh,
        Timestamp::now(),
        state.config.units,
    )
    .map_err(ApiError::internal)?;
    let file = publication
        .files
        .into_iter()
        .find(|f| f.name == name)
        .ok_or_else(|| ApiError::internal(format!("no published file {name}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, file.content_type),
            (header::CACHE_CONTROL, file.cache_control),
        ],
        file.body,
    )
        .into_response())
}

#[utoipa::path(get, path = "/status.json", tag = "dashboard", responses((status = 200, description = "The published status: the streak and today's verdict, as `myrunstreak publish` writes it (no private text)")))]
async fn status_json(State(state): State<Shared>) -> Result<Response, ApiError> {
    published(&state, "status.json").await
}

#[utoipa::path(get, path = "/streak.ics", tag = "dashboard", responses((status = 200, description = "The streak as an iCalendar feed, as `myrunstreak publish` writes it")))]
async fn streak_ics(State(state): State<Shared>) -> Result<Response, ApiError> {
    published(&state, "streak.ics").await
}

#[utoipa::path(get, path = "/badge.svg", tag = "dashboard", responses((status = 200, description = "An embeddable streak badge (SVG)")))]
async fn badge(State(state): State<Shared>) -> Result<Response, ApiError> {
    let s = snapshot(&state).await?;
    let response = queries::streak(&s.runs, &state.config.query, Timestamp::now())
        .map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        myrunstreak_app::badge::svg(&response),
    )
        .into_response())
}
