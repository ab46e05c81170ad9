//! The REST API under `/v1/my/`: listings, activities, splits, stats and badges, behind a guard
//! that checks the token, enforces the rate limits and injects faults.
//!
//! The guard hands every handler the token's account ([`Caller`]); a handler reads that
//! account and nothing else, so another runner's activity is simply not there (404).

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, MatchedPath, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jiff::Timestamp;
use jiff::civil::Date;
use serde_json::{Map, Value, json};

use crate::faults::Fault;
use crate::state::{Account, Activity, Throttled};
use crate::{Shared, lock};

pub(crate) fn routes(shared: Shared) -> Router<Shared> {
    Router::new()
        .route("/v1/my/userinfo", get(userinfo))
        .route(
            "/v1/my/activities",
            get(all_activities).post(crate::write::create),
        )
        .route("/v1/my/activities/search", get(search_summary))
        .route("/v1/my/activities/search/{style}", get(search_style))
        .route("/v1/my/activities/{id}", get(activity))
        .route("/v1/my/activities/{id}/splits/{unit}", get(splits))
        .route("/v1/my/stats", get(stats_all))
        .route("/v1/my/stats/{year}", get(stats_year))
        .route("/v1/my/stats/{year}/{month}", get(stats_month))
        .route("/v1/my/badges", get(badges))
        .route_layer(middleware::from_fn_with_state(shared, guard))
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "error": code, "error_description": message })),
    )
        .into_response()
}

fn json_bytes(value: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => (
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            bytes,
        )
            .into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            &e.to_string(),
        ),
    }
}

/// The access token of a request: its bearer header, else its `access_token` parameter.
pub(crate) fn bearer(headers: &axum::http::HeaderMap, uri: &axum::http::Uri) -> Option<String> {
    if let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let mut parts = value.splitn(2, ' ');
        if parts
            .next()
            .is_some_and(|s| s.eq_ignore_ascii_case("bearer"))
        {
            return parts.next().map(|t| t.trim().to_owned());
        }
    }
    uri.query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v.into_owned())
    })
}

fn retry_after(seconds: u64, description: &str) -> Response {
    let mut response = error(StatusCode::TOO_MANY_REQUESTS, "rate_limited", description);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// Who is asking: the account of the request's access token, set by the guard.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Caller {
    /// An index into the state's accounts.
    pub account: usize,
}

async fn guard(State(shared): State<Shared>, mut request: Request, next: Next) -> Response {
    let Some(token) = bearer(request.headers(), request.uri()) else {
        return error(StatusCode::UNAUTHORIZED, "unauthorized", "No access token.");
    };
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let key = format!("{} {}", request.method(), route);
    let (fault, latency) = {
        let mut state = lock(&shared);
        let account = match state.tokens.get(&token) {
            Some(t) if state.token_valid(&token) => t.account,
            _ => {
                return error(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "The access token is invalid, expired or revoked.",
                );
            }
        };
        request.extensions_mut().insert(Caller { account });
        *state
            .account_counters(account)
            .requests
            .entry(key)
            .or_default() += 1;
        match state.admit(&token) {
            Ok(()) => {}
            Err(Throttled::Token(wait)) => {
                return retry_after(wait, "Too many requests: slow down.");
            }
            Err(Throttled::App(wait)) => {
                return retry_after(wait, "Too many requests from this app: slow down.");
            }
        }
        if state.outage_left > 0 {
            state.outage_left -= 1;
            *state
                .counters
                .faults
                .entry("outage".to_owned())
                .or_default() += 1;
            *state
                .account_counters(account)
                .faults
                .entry("outage".to_owned())
                .or_default() += 1;
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_error",
                "The sandbox is down for a moment (on purpose).",
            );
        }
        state.request_seq += 1;
        let fault = state.config.faults.decide(state.request_seq);
        if let Some(f) = fault {
            *state
                .counters
                .faults
                .entry(f.name().to_owned())
                .or_default() += 1;
            *state
                .account_counters(account)
                .faults
                .entry(f.name().to_owned())
                .or_default() += 1;
        }
        (fault, state.config.faults.latency_ms)
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    match fault {
        None => next.run(request).await,
        Some(Fault::ServerError(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            error(status, "server_error", "The sandbox failed on purpose.")
        }
        Some(Fault::TooManyRequests) => retry_after(1, "Burst limit: slow down."),
        Some(Fault::Slow) => {
            tokio::time::sleep(Duration::from_secs(2)).await;
            next.run(request).await
        }
        Some(Fault::Truncate) => {
            let (parts, body) = next.run(request).await.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let cut = bytes.slice(..bytes.len() / 2);
            let mut response = Response::from_parts(parts, Body::from(cut));
            response.headers_mut().remove(header::CONTENT_LENGTH);
            response
        }
        Some(Fault::Drop) => {
            let (mut parts, body) = next.run(request).await.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let head = bytes.slice(..bytes.len() / 3);
            parts
                .headers
                .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            Response::from_parts(parts, Body::from_stream(FailingBody::new(head)))
        }
    }
}

/// A body that yields `head` and then fails: the connection is dropped mid-answer.
pub(crate) struct FailingBody {
    head: Option<Bytes>,
    failed: bool,
}

impl FailingBody {
    pub(crate) fn new(head: Bytes) -> Self {
        FailingBody {
            head: Some(head),
            failed: false,
        }
    }
}

impl futures_core::Stream for FailingBody {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        if let Some(head) = self.head.take() {
            return Poll::Ready(Some(Ok(head)));
        }
        if self.failed {
            return Poll::Ready(None);
        }
        self.failed = true;
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "dropped on purpose");
        Poll::Ready(Some(Err(reset)))
    }
}

async fn userinfo(
    State(shared): State<Shared>,
    Extension(caller): Extension<Caller>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let mut state = lock(&shared);
    let id = match state.config.quirks.userinfo_id {
        crate::UserinfoId::Stable => json!(state.accounts[caller.account].user_id),
        crate::UserinfoId::Missing => Value::Null,
        crate::UserinfoId::PerToken => {
            let token = bearer(&headers, &uri).unwrap_or_default();
            let next = 900_000_000 + state.userinfo_ids.len() as i64;
            json!(*state.userinfo_ids.entry(token).or_insert(next))
        }
    };
    let account = &state.accounts[caller.account];
    let registered = account
        .activities
        .iter()
        .filter_map(|a| a.start)
        .min()
        .unwrap_or_else(Timestamp::now);
    let offset = state
        .now()
        .to_zoned_datetime(account.zone.clone())
        .offset()
        .seconds()
        / 60;
    let mut info = json!({
        "id": id,
        "userName": account.user_name,
        "firstName": account.first_name,
        "lastName": account.last_name,
        "registrationDateUTC": crate::generate::utc_naive(registered, true),
        "unitDistance": account.unit_distance,
        "timeZoneOffsetMinutes": offset,
    });
    if id.is_null()
        && let Some(info) = info.as_object_mut()
    {
        info.remove("id");
    }
    json_bytes(&info)
}

async fn all_activities(
    State(shared): State<Shared>,
    Extension(caller): Extension<Caller>,
) -> Response {
    let state = lock(&shared);
    let cap = state.config.listing.unpaged_cap.unwrap_or(usize::MAX);
    let serving = state.serving(caller.account);
    let list: Vec<Cow<'_, Map<String, Value>>> = state.accounts[caller.account]
        .listed(&state.config.listing, None)
        .into_iter()
        .take(cap)
        .map(|a| serving.summary(a))
        .collect();
    json_bytes(&list)
}

#[derive(Clone, Copy)]
enum Style {
    Summary,
    Briefs,
    Ids,
    Extended,
}

async fn search_summary(
    State(shared): State<Shared>,
    Extension(caller): Extension<Caller>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    search(&shared, caller, Style::Summary, &q)
}

async fn search_style(
    State(shared): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(style): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let style = match style.as_str() {
        "briefs" => Style::Briefs,
        "ids" => Style::Ids,
        "extended" => Style::Extended,
        _ => return error(StatusCode::NOT_FOUND, "not_found", "Unknown search style."),
    };
    search(&shared, caller, style, &q)
}

fn number<T: std::str::FromStr>(
    q: &HashMap<String, String>,
    key: &str,
) -> Result<Option<T>, Response> {
    match q.get(key) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            error(
                StatusCode::BAD_REQUEST,
                "bad_request",
                &format!("{key} must be a number"),
            )
        }),
    }
}

fn search(shared: &Shared, caller: Caller, style: Style, q: &HashMap<String, String>) -> Response {
    let parsed = (|| {
        let page: Option<usize> = number(q, "page")?;
        let count: Option<usize> = number(q, "count")?;
        let from_date: Option<i64> = number(q, "fromDate")?;
        let from_utc: Option<i64> = number(q, "fromDateUTC")?;
        Ok::<_, Response>((page, count, from_utc.or(from_date)))
    })();
    let (page, count, from) = match parsed {
        Ok(p) => p,
        Err(response) => return response,
    };
    let state = lock(shared);
    let account = &state.accounts[caller.account];
    let reading = &state.config.listing;
    let from = from.and_then(|s| reading.selects_from(s, &account.zone));
    let list = account.listed(reading, from);
    let selected: &[&Activity] = if page.is_none() && count.is_none() {
        let cap = reading.unpaged_cap.unwrap_or(usize::MAX);
        &list[..cap.min(list.len())]
    } else {
        let asked = count.unwrap_or(state.config.default_count);
        let count = asked.min(state.config.max_count);
        let stride = if reading.offset_by_asked_count {
            asked
        } else {
            count
        };
        let page = if reading.ignore_page {
            0
        } else {
            page.unwrap_or(0)
        };
        let start = page.saturating_mul(stride).min(list.len());
        &list[start..start.saturating_add(count).min(list.len())]
    };
    // what is served may differ from what is stored ([`crate::quirks`])
    let serving = state.serving(caller.account);
    match style {
        Style::Summary => json_bytes(
            &selected
                .iter()
                .map(|a| serving.summary(a))
                .collect::<Vec<_>>(),
        ),
        Style::Ids => json_bytes(&selected.iter().map(|a| a.id).collect::<Vec<_>>()),
        Style::Briefs => json_bytes(
            &selected
                .iter()
                .map(|a| {
                    let summary = serving.summary(a);
                    let mut b = Map::new();
                    for key in ["activityId", "startDateTimeLocal", "distance", "duration"] {
                        if let Some(v) = summary.get(key) {
                            b.insert(key.into(), v.clone());
                        }
                    }
                    b
                })
                .collect::<Vec<_>>(),
        ),
        Style::Extended => json_bytes(
            &selected
                .iter()
                .map(|a| {
                    let mut m = serving.summary(a).into_owned();
                    m.extend(a.parts().1.into_owned());
                    m
                })
                .collect::<Vec<_>>(),
        ),
    }
}

/// A live activity of `account` (another account's id is not found).
fn find<'a>(account: &'a Account, id: &str) -> Option<&'a Activity> {
    let id: i64 = id.parse().ok()?;
    account.get(id).filter(|a| !a.deleted)
}

async fn activity(
    State(shared): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Response {
    let state = lock(&shared);
    let Some(a) = find(&state.accounts[caller.account], &id) else {
        return error(StatusCode::NOT_FOUND, "not_found", "No such activity.");
    };
    let mut full = crate::control::full_activity(a, state.config.seed);
    if let Some(object) = full.as_object_mut() {
        state.serving(caller.account).apply(a.id, object);
    }
    json_bytes(&full)
}

async fn splits(
    State(shared): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path((id, unit)): Path<(String, String)>,
) -> Response {
    let per_km = match unit.as_str() {
        "km" => 1.0,
        "mi" => 1.609_344,
        _ => {
            return error(
                StatusCode::NOT_FOUND,
                "not_found",
                "Splits come in km or mi.",
            );
        }
    };
    let state = lock(&shared);
    let Some(a) = find(&state.accounts[caller.account], &id) else {
        return error(StatusCode::NOT_FOUND, "not_found", "No such activity.");
    };
    let heart_rate = a
        .summary()
        .get("heartRateAverage")
        .cloned()
        .unwrap_or(Value::Null);
    let total = a.km() / per_km;
    let seconds = a.seconds();
    let mut out = Vec::new();
    let mut done = 0.0;
    while done + 1e-9 < total {
        let step = (total - done).min(1.0);
        done += step;
        let wobble = 1.0 + 0.03 * ((done * 7.0).sin());
        let cumulative_s = (seconds * done / total * wobble).min(seconds);
        out.push(json!({
            "distance": (done * 1e5).round() / 1e5,
            "seconds": (cumulative_s * 1e3).round() / 1e3,
            "speed": if seconds > 0.0 { ((total / seconds * 3600.0) * 1e3).round() / 1e3 } else { 0.0 },
            "heartRate": heart_rate,
            "elevationGain": (done * 3.0).round(),
            "elevationLoss": (done * 2.5).round(),
        }));
    }
    json_bytes(&out)
}

async fn stats_all(State(shared): State<Shared>, Extension(caller): Extension<Caller>) -> Response {
    stats(&shared, caller, |_| true)
}

async fn stats_year(
    State(shared): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path(year): Path<i16>,
) -> Response {
    stats(&shared, caller, move |d| d.year() == year)
}

async fn stats_month(
    State(shared): State<Shared>,
    Extension(caller): Extension<Caller>,
    Path((year, month)): Path<(i16, i8)>,
) -> Response {
    stats(&shared, caller, move |d| {
        d.year() == year && d.month() == month
    })
}

/// SmashRun's own counters, computed here independently of MyRunStreak's engine: a streak is
/// consecutive local dates with any run.
fn stats(shared: &Shared, caller: Caller, keep: impl Fn(Date) -> bool) -> Response {
    let state = lock(shared);
    let runs: Vec<(Date, f64, f64)> = state.accounts[caller.account]
        .counted(&state.config.listing)
        .into_iter()
        .filter_map(|a| Some((a.local_date()?, a.km(), a.seconds())))
        .filter(|(d, _, _)| keep(*d))
        .collect();
    let total_km: f64 = runs.iter().map(|r| r.1).sum();
    let timed_km: f64 = runs.iter().filter(|r| r.2 > 0.0).map(|r| r.1).sum();
    let seconds: f64 = runs.iter().filter(|r| r.2 > 0.0).map(|r| r.2).sum();
    let pace = if timed_km > 0.0 {
        let s = (seconds / timed_km).round() as u64;
        format!("{}:{:02}", s / 60, s % 60)
    } else {
        "0:00".to_owned()
    };
    let days: BTreeSet<Date> = runs.iter().map(|r| r.0).collect();
    let (mut best, mut best_end, mut current, mut previous) = (0u32, None, 0u32, None::<Date>);
    let mut longest_break = 0i32;
    for d in &days {
        let consecutive = previous.is_some_and(|p| p.tomorrow().ok() == Some(*d));
        if let Some(p) = previous {
            let gap = d.since(p).map(|s| s.get_days()).unwrap_or(0) - 1;
            longest_break = longest_break.max(gap);
        }
        current = if consecutive { current + 1 } else { 1 };
        if current >= best {
            best = current;
            best_end = Some(*d);
        }
        previous = Some(*d);
    }
    let longest_run = runs.iter().map(|r| r.1).fold(0.0, f64::max);
    json_bytes(&json!({
        "runCount": runs.len(),
        "totalDistance": (total_km * 1e5).round() / 1e5,
        "averagePace": pace,
        "averageRunLength": if runs.is_empty() { 0.0 } else { (total_km / runs.len() as f64 * 1e5).round() / 1e5 },
        "longestRun": longest_run,
        "longestStreak": best,
        "longestStreakDate": best_end.map(|d| d.to_string()),
        "longestBreakBetweenRuns": longest_break,
        "daysRun": days.len(),
    }))
}

async fn badges(State(shared): State<Shared>, Extension(caller): Extension<Caller>) -> Response {
    let state = lock(&shared);
    let days: BTreeSet<Date> = state.accounts[caller.account]
        .listed(&state.config.listing, None)
        .into_iter()
        .filter_map(Activity::local_date)
        .collect();
    let thresholds = [
        (5, "5 days in a row"),
        (10, "10 days in a row"),
        (20, "20 days in a row"),
        (50, "50 days in a row"),
        (100, "100 days in a row"),
        (365, "A year in running"),
    ];
    let mut earned: Vec<Value> = Vec::new();
    let (mut run, mut previous) = (0u32, None::<Date>);
    for d in days {
        run = if previous.is_some_and(|p| p.tomorrow().ok() == Some(d)) {
            run + 1
        } else {
            1
        };
        for (i, (n, name)) in thresholds.iter().enumerate() {
            if run == *n && !earned.iter().any(|b| b["id"] == json!(i + 1)) {
                earned.push(json!({
                    "id": i + 1,
                    "name": name,
                    "requirement": format!("Run {n} days in a row"),
                    "dateEarnedUTC": format!("{d}T23:59:59"),
                }));
            }
        }
        previous = Some(d);
    }
    json_bytes(&earned)
}
