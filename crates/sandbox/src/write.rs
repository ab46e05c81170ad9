//! Writing: `POST /v1/my/activities` creates an activity (scope `write_activity`), and the
//! readings of it that public evidence leaves open, one switch each
//! (`shared/docs/smashrun-api.md`, "Writing").
//!
//! What is known: a JSON body with `startDateTimeLocal` (with its offset), `distance` (km),
//! `duration` (s), `activityType` and `externalId`; 415 without a JSON content type; 401/403
//! without the scope. What is not: the answer's shape ([`CreatedAnswer`]: by default 201 with
//! the created activity's summary, `activityId` included, and a `Location`; or the bare id; or
//! nothing that names the activity), and what a repeated `externalId` does:
//! [`RepeatedExternalId::Same`] answers the existing activity (200) and creates nothing,
//! [`RepeatedExternalId::Duplicate`] creates a second one. `lose_answers` creates the activity
//! and then loses the answer (a 502, or a dropped connection), optionally followed by an outage
//! of a few requests, so that a client's retry, and its search before it, can be tested.
//!
//! A created activity is an activity like any other: it is listed, counted and served by id,
//! with `source` `manual` and its `externalId`, in the token's account (an `externalId` is
//! repeated only within one account).
//!
//! `GET`/`PUT /_sandbox/writes` reads and replaces the reading.

use axum::body::{Body, Bytes};
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::state::Activity;
use crate::{Shared, lock};

/// What a repeated `externalId` does (SmashRun does not document it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepeatedExternalId {
    /// The live activity with that `externalId` is the answer; no second one is created.
    #[default]
    Same,
    /// A second activity is created.
    Duplicate,
}

impl std::str::FromStr for RepeatedExternalId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "same" => Ok(RepeatedExternalId::Same),
            "duplicate" => Ok(RepeatedExternalId::Duplicate),
            other => Err(format!("{other:?}: use same or duplicate")),
        }
    }
}

/// What a successful creation answers (SmashRun does not document it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreatedAnswer {
    /// 201 with the activity's summary (`activityId` included) and a `Location`.
    #[default]
    Activity,
    /// 201 with the new id as a bare JSON number, and a `Location`.
    Id,
    /// 201 with an empty body and no `Location`: nothing names the activity, so the client
    /// must find it (by its `externalId`).
    Empty,
}

impl std::str::FromStr for CreatedAnswer {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "activity" => Ok(CreatedAnswer::Activity),
            "id" => Ok(CreatedAnswer::Id),
            "empty" => Ok(CreatedAnswer::Empty),
            other => Err(format!("{other:?}: use activity, id or empty")),
        }
    }
}

/// How a lost answer is lost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LostAnswer {
    /// A 502 from a gateway in front of the server.
    #[default]
    BadGateway,
    /// The connection drops before the answer (the client sees it closed mid-request).
    Drop,
}

/// How the sandbox treats writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct WriteReading {
    /// What a repeated `externalId` does.
    pub repeated_external_id: RepeatedExternalId,
    /// The next this many creations succeed but their answers are lost.
    pub lose_answers: u32,
    /// How they are lost.
    pub lost_as: LostAnswer,
    /// After a lost answer, the next this many API requests get 503 (the server went down
    /// after creating), so that a client's search for what it created fails too.
    pub outage_after_lost: u32,
    /// The status of a write whose token lacks `write_activity`: 403 (default) or 401.
    pub missing_scope_status: u16,
    /// What a successful creation answers.
    pub answer: CreatedAnswer,
}

impl Default for WriteReading {
    fn default() -> Self {
        WriteReading {
            repeated_external_id: RepeatedExternalId::Same,
            lose_answers: 0,
            lost_as: LostAnswer::BadGateway,
            outage_after_lost: 0,
            missing_scope_status: 403,
            answer: CreatedAnswer::Activity,
        }
    }
}

pub(crate) fn routes() -> Router<Shared> {
    Router::new().route("/_sandbox/writes", get(get_reading).put(put_reading))
}

async fn get_reading(State(shared): State<Shared>) -> Response {
    Json(lock(&shared).config.writes.clone()).into_response()
}

async fn put_reading(State(shared): State<Shared>, Json(reading): Json<WriteReading>) -> Response {
    lock(&shared).config.writes = reading.clone();
    Json(reading).into_response()
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": code, "error_description": message })),
    )
        .into_response()
}

/// An activity to create, as read from the body; the message says what is wrong otherwise.
struct NewActivity {
    start: String,
    distance: f64,
    duration: f64,
    activity_type: String,
    external_id: String,
    notes: String,
}

fn read_body(bytes: &[u8]) -> Result<NewActivity, String> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the body is not JSON: {e}"))?;
    let Value::Object(body) = value else {
        return Err("the body must be a JSON object (one activity)".into());
    };
    let start = body
        .get("startDateTimeLocal")
        .and_then(Value::as_str)
        .filter(|s| s.parse::<Timestamp>().is_ok())
        .ok_or("startDateTimeLocal must be a local date and time with its UTC offset, such as 2026-05-02T06:40:00-04:00")?;
    let distance = body
        .get("distance")
        .and_then(Value::as_f64)
        .filter(|d| d.is_finite() && *d > 0.0)
        .ok_or("distance must be a number of kilometres above zero")?;
    let duration = match body.get("duration") {
        None | Some(Value::Null) => 0.0,
        Some(v) => v
            .as_f64()
            .filter(|d| d.is_finite() && *d >= 0.0)
            .ok_or("duration must be a number of seconds, 0 or more")?,
    };
    let text = |key: &str, default: &str| -> Result<String, String> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(default.to_owned()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(format!("{key} must be a string")),
        }
    };
    Ok(NewActivity {
        start: start.to_owned(),
        distance,
        duration,
        activity_type: text("activityType", "running")?,
        external_id: text("externalId", "")?,
        notes: text("notes", "")?,
    })
}

/// `POST /v1/my/activities`, behind the API guard (a valid token, the rate limits, faults).
pub(crate) async fn create(
    State(shared): State<Shared>,
    Extension(caller): Extension<crate::api::Caller>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = lock(&shared);
    let reading = state.config.writes.clone();
    let token = crate::api::bearer(&headers, &uri).unwrap_or_default();
    let scoped = state
        .tokens
        .get(&token)
        .is_some_and(|t| t.scope.split_whitespace().any(|s| s == "write_activity"));
    if !scoped {
        let status = StatusCode::from_u16(reading.missing_scope_status)
            .ok()
            .filter(|s| s.is_client_error())
            .unwrap_or(StatusCode::FORBIDDEN);
        return error(
            status,
            "insufficient_scope",
            "This token was not granted write_activity.",
        );
    }
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the activity as JSON (Content-Type: application/json).",
        );
    }
    let new = match read_body(&body) {
        Ok(new) => new,
        Err(message) => return error(StatusCode::BAD_REQUEST, "bad_request", &message),
    };
    let existing = (!new.external_id.is_empty()
        && reading.repeated_external_id == RepeatedExternalId::Same)
        .then(|| {
            state.accounts[caller.account]
                .activities
                .iter()
                .find(|a| !a.deleted && a.external_id() == new.external_id)
        })
        .flatten();
    if let Some(a) = existing {
        return (
            StatusCode::OK,
            Json(Value::Object(a.summary().into_owned())),
        )
            .into_response();
    }
    let id = state.next_id();
    let now = state.now_naive();
    let mut summary: Map<String, Value> = crate::control::template(id, &new.start, &now);
    summary.insert("activityType".into(), json!(new.activity_type));
    summary.insert("distance".into(), json!((new.distance * 1e5).round() / 1e5));
    summary.insert("duration".into(), json!(new.duration));
    summary.insert("externalId".into(), json!(new.external_id));
    summary.insert("notes".into(), json!(new.notes));
    summary.insert("calories".into(), Value::Null);
    let home = state.accounts[caller.account].zone.clone();
    let activity = Activity::new(id, summary.clone(), Map::new(), &home);
    state.insert(caller.account, activity);
    if reading.lose_answers > 0 {
        state.config.writes.lose_answers -= 1;
        state.outage_left = reading.outage_after_lost;
        *state
            .counters
            .faults
            .entry("lost_answer".to_owned())
            .or_default() += 1;
        *state
            .account_counters(caller.account)
            .faults
            .entry("lost_answer".to_owned())
            .or_default() += 1;
        return match reading.lost_as {
            LostAnswer::BadGateway => error(
                StatusCode::BAD_GATEWAY,
                "bad_gateway",
                "The gateway lost the answer (on purpose).",
            ),
            LostAnswer::Drop => {
                let mut response = Response::new(Body::from_stream(crate::api::FailingBody::new(
                    Bytes::new(),
                )));
                *response.status_mut() = StatusCode::CREATED;
                response
                    .headers_mut()
                    .insert(header::CONTENT_LENGTH, HeaderValue::from(64u32));
                response
            }
        };
    }
    let mut response = match reading.answer {
        CreatedAnswer::Activity => (StatusCode::CREATED, Json(Value::Object(summary))),
        CreatedAnswer::Id => (StatusCode::CREATED, Json(json!(id))),
        CreatedAnswer::Empty => return StatusCode::CREATED.into_response(),
    }
    .into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/my/activities/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_read_or_refused_with_what_is_wrong() {
        let ok = read_body(
            br#"{"startDateTimeLocal":"2026-05-02T06:40:00-04:00","distance":1.93121,"duration":690,"activityType":"running","externalId":"x-1"}"#,
        )
        .unwrap();
        assert_eq!(
            (
                ok.start.as_str(),
                ok.distance,
                ok.duration,
                ok.external_id.as_str()
            ),
            ("2026-05-02T06:40:00-04:00", 1.93121, 690.0, "x-1")
        );
        for (body, says) in [
            (&b"nope"[..], "not JSON"),
            (b"[]", "JSON object"),
            (
                br#"{"startDateTimeLocal":"2026-05-02T06:40:00","distance":2}"#,
                "UTC offset",
            ),
            (
                br#"{"startDateTimeLocal":"2026-05-02T06:40:00Z","distance":0}"#,
                "distance",
            ),
            (
                br#"{"startDateTimeLocal":"2026-05-02T06:40:00Z","distance":2,"duration":-1}"#,
                "duration",
            ),
            (
                br#"{"startDateTimeLocal":"2026-05-02T06:40:00Z","distance":2,"externalId":7}"#,
                "externalId must be a string",
            ),
        ] {
            let err = read_body(body).err().unwrap();
            assert!(err.contains(says), "{err}");
        }
    }
}
