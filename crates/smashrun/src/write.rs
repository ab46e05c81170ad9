//! Creating an activity (`POST /my/activities`, scope `write_activity`), and finding one by its
//! `externalId`.
//!
//! A POST is not idempotent, so it is sent **once**: the client waits out a 429 and refreshes a
//! token after a 401 (SmashRun did not take the request either way), and returns every other
//! failure. Whether a failed POST created the activity is then unknown
//! ([`Error::outcome_unknown`]); the caller finds out with [`SmashRunClient::find_by_external_id`]
//! before it tries again, so that a retry never creates a second activity, whatever SmashRun does
//! with a repeated `externalId`.
//!
//! What the POST answers is undocumented: the id is read from the body when it is there (a bare
//! number, or an object with `activityId` or `id`, or an activity under `activity`); otherwise
//! the answer is "created, id unknown", and the caller finds it by its `externalId`.

use jiff::Timestamp;
use jiff::civil::Date;
use myrunstreak_domain::{Distance, LocalStart};
use reqwest::StatusCode;
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::oauth::snippet;
use crate::{Error, SmashRunClient, WaitReason, parse_retry_after};

/// An activity to create: the body of `POST /my/activities`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NewActivity {
    /// Local wall time with its UTC offset (`2026-05-02T06:40:00-04:00`).
    #[serde(rename = "startDateTimeLocal")]
    pub start: LocalStart,
    /// Kilometres at SmashRun's precision (5 decimals).
    #[serde(serialize_with = "kilometres")]
    pub distance: Distance,
    /// Seconds of moving time; left out when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// `running`.
    #[serde(rename = "activityType")]
    pub activity_type: String,
    /// A stable id of our own, so that the activity can be found again (and a retry recognised).
    #[serde(rename = "externalId")]
    pub external_id: String,
}

impl NewActivity {
    /// A run.
    pub fn running(
        start: LocalStart,
        distance: Distance,
        duration: Option<f64>,
        external_id: impl Into<String>,
    ) -> Self {
        NewActivity {
            start,
            distance,
            duration,
            activity_type: "running".into(),
            external_id: external_id.into(),
        }
    }
}

fn kilometres<S: Serializer>(distance: &Distance, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(distance.km())
}

/// The id an answer to a POST carries, if any (see the module docs for the shapes read).
pub fn created_id(body: &[u8]) -> Option<i64> {
    fn id_of(v: &Value) -> Option<i64> {
        match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .filter(|id| *id > 0)
    }
    let value: Value = serde_json::from_slice(body).ok()?;
    match &value {
        Value::Object(o) => ["activityId", "id"]
            .iter()
            .find_map(|k| o.get(*k).and_then(id_of))
            .or_else(|| {
                o.get("activity")
                    .and_then(|a| a.get("activityId"))
                    .and_then(id_of)
            }),
        other => id_of(other),
    }
}

/// SmashRun's explanation in an error body: `error_description`, `message` or `error`, else the
/// start of the body.
fn explanation(body: &[u8]) -> String {
    let said = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        ["error_description", "message", "Message", "error"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_owned))
    });
    said.filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| snippet(body))
}

const PATH: &str = "/my/activities";

impl SmashRunClient {
    /// Creates `activity`; returns its id when the answer says it. Sent once (see the module
    /// docs): a 403, or a 401 that a refreshed token does not cure, is [`Error::MissingScope`];
    /// another 4xx is [`Error::WriteRefused`] with SmashRun's message; a 5xx, a dropped
    /// connection or an unreadable answer leave the outcome unknown.
    pub async fn create_activity(&self, activity: &NewActivity) -> Result<Option<i64>, Error> {
        let url = format!("{}{PATH}", self.config().api_url.trim_end_matches('/'));
        let body = serde_json::to_vec(activity).map_err(|e| Error::Config(e.to_string()))?;
        let transport = |source: reqwest::Error| Error::Transport {
            method: "POST",
            path: PATH.to_owned(),
            base: self.config().api_url.clone(),
            source: source.without_url(),
        };
        let (mut limited, mut refreshed) = (0u32, false);
        let mut token = self.tokens.access_token().await?;
        loop {
            self.wait_for_budget(PATH).await;
            self.count_request(PATH);
            let response = self
                .http
                .post(&url)
                .bearer_auth(token.expose())
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .timeout(self.config().request_timeout)
                .send()
                .await
                .map_err(transport)?;
            let status = response.status();
            if status.is_success() {
                let answer = response.bytes().await.map_err(transport)?;
                return Ok(created_id(&answer));
            }
            match status {
                StatusCode::UNAUTHORIZED if !refreshed => {
                    refreshed = true;
                    token = self.tokens.refresh(&token).await?;
                    continue;
                }
                StatusCode::TOO_MANY_REQUESTS => {
                    limited += 1;
                    let retry_after = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| parse_retry_after(v, Timestamp::now()));
                    if limited > self.config().retry.max_rate_limit_waits {
                        return Err(Error::RateLimited {
                            method: "POST",
                            path: PATH.to_owned(),
                            retry_after,
                        });
                    }
                    let wait = retry_after
                        .unwrap_or_else(|| self.config().retry.backoff(limited))
                        .min(self.config().retry.max_wait);
                    self.pause(WaitReason::RateLimited, wait, PATH).await;
                    continue;
                }
                _ => {}
            }
            let answer = response.bytes().await.unwrap_or_default();
            return Err(match status {
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => Error::MissingScope {
                    status: status.as_u16(),
                    message: explanation(&answer),
                },
                s if s.is_client_error() && s != StatusCode::REQUEST_TIMEOUT => {
                    Error::WriteRefused {
                        status: s.as_u16(),
                        message: explanation(&answer),
                    }
                }
                s => Error::Status {
                    method: "POST",
                    path: PATH.to_owned(),
                    status: s.as_u16(),
                    body: snippet(&answer),
                },
            });
        }
    }

    /// The id of the live activity carrying `external_id` among the runner's activities of the
    /// days around `day` (the day before to the day after), if any; the lowest id when there
    /// are several.
    pub async fn find_by_external_id(
        &self,
        external_id: &str,
        day: Date,
    ) -> Result<Option<i64>, Error> {
        let window = self
            .window(day.yesterday().ok(), day.tomorrow().ok())
            .await?;
        Ok(window
            .items
            .activities
            .iter()
            .filter(|a| a.attributes.external_id.as_deref() == Some(external_id))
            .map(|a| a.id.get())
            .min())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use jiff::tz::Offset;

    #[test]
    fn the_body_has_smashruns_keys_units_and_the_offset() {
        let start = LocalStart::new(
            date(2026, 5, 2).at(6, 40, 0, 0),
            Offset::from_seconds(-4 * 3600).unwrap(),
        );
        let run = NewActivity::running(
            start,
            Distance::from_miles(1.2).unwrap(),
            Some(690.0),
            "myrunstreak-ledger-1-1777700000",
        );
        let body: Value = serde_json::to_value(&run).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "startDateTimeLocal": "2026-05-02T06:40:00-04:00",
                "distance": 1.93121,
                "duration": 690.0,
                "activityType": "running",
                "externalId": "myrunstreak-ledger-1-1777700000",
            })
        );
        let untimed = NewActivity {
            duration: None,
            ..run
        };
        let body: Value = serde_json::to_value(&untimed).unwrap();
        assert!(body.get("duration").is_none(), "{body}");
    }

    #[test]
    fn the_id_is_read_from_any_shape_that_carries_one() {
        assert_eq!(created_id(br#"{"activityId":42,"distance":2.0}"#), Some(42));
        assert_eq!(created_id(br#"{"id":"43"}"#), Some(43));
        assert_eq!(created_id(br#"{"activity":{"activityId":44}}"#), Some(44));
        assert_eq!(created_id(b"45"), Some(45));
        for nothing in [
            &b""[..],
            b"{}",
            b"null",
            b"true",
            br#"{"activityId":0}"#,
            b"<html>",
        ] {
            assert_eq!(created_id(nothing), None, "{nothing:?}");
        }
    }

    #[test]
    fn smashruns_message_is_kept() {
        assert_eq!(
            explanation(
                br#"{"error":"bad_request","error_description":"distance must be a number"}"#
            ),
            "distance must be a number"
        );
        assert_eq!(explanation(br#"{"Message":"No."}"#), "No.");
        assert_eq!(explanation(b"plain words"), "plain words");
    }
}
