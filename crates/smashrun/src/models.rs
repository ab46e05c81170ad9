//! SmashRun's payloads, read the way real histories demand: strict where a run would be
//! meaningless without the field, lenient everywhere else, and never without the raw JSON.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use myrunstreak_domain::{ActivityId, Distance, LocalStart, Run};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One activity summary: every field of SmashRun's summary object, typed, plus the raw JSON.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Activity {
    /// `activityId`.
    pub id: ActivityId,
    /// `startDateTimeLocal`, exactly as written.
    pub start_local: String,
    /// `startDateTimeLocal`, parsed: local wall time and offset.
    pub start: LocalStart,
    /// `distance` at SmashRun's precision.
    pub distance: Distance,
    /// `activityType` (`running` in every real sample).
    pub activity_type: Option<String>,
    /// `duration`: seconds of moving time, possibly fractional, possibly 0.
    pub duration_s: Option<f64>,
    /// `calories`.
    pub calories: Option<i64>,
    /// `notes`: the runner's text, untrusted.
    pub notes: Option<String>,
    /// `externalId`.
    pub external_id: Option<String>,
    /// `source`.
    pub source: Option<String>,
    /// `appVersion`.
    pub app_version: Option<String>,
    /// `deviceType`.
    pub device_type: Option<String>,
    /// `hasDetails`.
    pub has_details: Option<bool>,
    /// `hasDetailsGPS`.
    pub has_details_gps: Option<bool>,
    /// `startLatitude`.
    pub start_latitude: Option<f64>,
    /// `startLongitude`.
    pub start_longitude: Option<f64>,
    /// `heartRateMin`.
    pub heart_rate_min: Option<f64>,
    /// `heartRateMax`.
    pub heart_rate_max: Option<f64>,
    /// `heartRateAverage`.
    pub heart_rate_average: Option<f64>,
    /// `cadenceMin` (steps per minute).
    pub cadence_min: Option<f64>,
    /// `cadenceMax`.
    pub cadence_max: Option<f64>,
    /// `cadenceAverage`.
    pub cadence_average: Option<f64>,
    /// `weatherType`, kept whatever it says.
    pub weather_type: Option<String>,
    /// `temperature` (°C).
    pub temperature: Option<f64>,
    /// `temperatureApparent`.
    pub temperature_apparent: Option<f64>,
    /// `temperatureWindChill`.
    pub temperature_wind_chill: Option<f64>,
    /// `humidity` (percent).
    pub humidity: Option<f64>,
    /// `windSpeed` (km/h).
    pub wind_speed: Option<f64>,
    /// `howFelt`, kept whatever it says.
    pub how_felt: Option<String>,
    /// `terrain`, kept whatever it says.
    pub terrain: Option<String>,
    /// `isRace`.
    pub is_race: Option<bool>,
    /// `isTreadmill`.
    pub is_treadmill: Option<bool>,
    /// `isBadHR`.
    pub is_bad_hr: Option<bool>,
    /// `isBadElevation`.
    pub is_bad_elevation: Option<bool>,
    /// `syncDateTimeUTC`.
    pub synced_at: Option<Timestamp>,
    /// `dateCreatedUTC`.
    pub created_at: Option<Timestamp>,
    /// `dateUpdatedUTC`.
    pub updated_at: Option<Timestamp>,
    /// The object exactly as received.
    pub raw: String,
}

impl Activity {
    /// What the streak engine needs of this activity.
    pub fn to_run(&self) -> Run {
        Run {
            id: self.id,
            start: self.start,
            distance: self.distance,
            duration_s: self.duration_s.unwrap_or(0.0),
            is_running: self.is_running(),
            is_treadmill: self.is_treadmill.unwrap_or(false)
                || self.terrain.as_deref() == Some("treadmill"),
        }
    }

    /// Whether SmashRun calls it a run. A missing type is read as running (the only type seen).
    pub fn is_running(&self) -> bool {
        self.activity_type
            .as_deref()
            .is_none_or(|t| t.eq_ignore_ascii_case("running"))
    }
}

/// An activity that could not be read, kept raw with the reason.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rejected {
    /// Its id, when at least that could be read.
    pub activity_id: Option<i64>,
    /// What was wrong, naming the field.
    pub reason: String,
    /// The object exactly as received.
    pub raw: String,
}

/// Parses one activity summary; the error names the activity id and the field.
pub fn parse_activity(raw: &str) -> Result<Activity, Rejected> {
    let reject = |id: Option<i64>, reason: String| Rejected {
        activity_id: id,
        reason,
        raw: raw.to_owned(),
    };
    let object: Map<String, Value> = match serde_json::from_str(raw) {
        Ok(Value::Object(o)) => o,
        Ok(other) => {
            return Err(reject(
                None,
                format!("expected a JSON object, got {}", kind(&other)),
            ));
        }
        Err(e) => return Err(reject(None, format!("not JSON: {e}"))),
    };
    let id_value = object.get("activityId");
    let id_number = id_value.and_then(as_integer);
    let Some(id) = id_number.and_then(|n| ActivityId::new(n).ok()) else {
        return Err(reject(
            id_number,
            format!(
                "activityId: expected a positive integer, got {}",
                shown(id_value)
            ),
        ));
    };
    let label = |field: &str, problem: String| {
        reject(Some(id.get()), format!("activity {id}: {field}: {problem}"))
    };
    let start_local = match object.get("startDateTimeLocal") {
        Some(Value::String(s)) => s.clone(),
        other => {
            return Err(label(
                "startDateTimeLocal",
                format!(
                    "expected a local date-time with offset, got {}",
                    shown(other)
                ),
            ));
        }
    };
    let start =
        LocalStart::parse(&start_local).map_err(|e| label("startDateTimeLocal", e.to_string()))?;
    let distance = match object.get("distance").and_then(as_number) {
        Some(km) => Distance::from_km(km).map_err(|e| label("distance", e.to_string()))?,
        None => {
            return Err(label(
                "distance",
                format!(
                    "expected kilometres as a number, got {}",
                    shown(object.get("distance"))
                ),
            ));
        }
    };
    let text = |k: &str| object.get(k).and_then(as_text);
    let number = |k: &str| object.get(k).and_then(as_number);
    let flag = |k: &str| object.get(k).and_then(as_flag);
    let instant = |k: &str| object.get(k).and_then(Value::as_str).and_then(parse_utc);
    Ok(Activity {
        id,
        start_local,
        start,
        distance,
        activity_type: text("activityType"),
        duration_s: number("duration").filter(|d| *d >= 0.0),
        calories: object
            .get("calories")
            .and_then(as_number)
            .map(|c| c.round() as i64),
        notes: text("notes"),
        external_id: text("externalId"),
        source: text("source"),
        app_version: text("appVersion"),
        device_type: text("deviceType"),
        has_details: flag("hasDetails"),
        has_details_gps: flag("hasDetailsGPS"),
        start_latitude: number("startLatitude"),
        start_longitude: number("startLongitude"),
        heart_rate_min: number("heartRateMin"),
        heart_rate_max: number("heartRateMax"),
        heart_rate_average: number("heartRateAverage"),
        cadence_min: number("cadenceMin"),
        cadence_max: number("cadenceMax"),
        cadence_average: number("cadenceAverage"),
        weather_type: text("weatherType"),
        temperature: number("temperature"),
        temperature_apparent: number("temperatureApparent"),
        temperature_wind_chill: number("temperatureWindChill"),
        humidity: number("humidity"),
        wind_speed: number("windSpeed"),
        how_felt: text("howFelt"),
        terrain: text("terrain"),
        is_race: flag("isRace"),
        is_treadmill: flag("isTreadmill"),
        is_bad_hr: flag("isBadHR"),
        is_bad_elevation: flag("isBadElevation"),
        synced_at: instant("syncDateTimeUTC"),
        created_at: instant("dateCreatedUTC"),
        updated_at: instant("dateUpdatedUTC"),
        raw: raw.to_owned(),
    })
}

/// SmashRun's zone-less UTC (`2022-11-09T15:01:40.307`) or an RFC 3339 instant.
pub fn parse_utc(text: &str) -> Option<Timestamp> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Some(t);
    }
    let civil: DateTime = text.parse().ok()?;
    civil
        .to_zoned_datetime(TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn shown(v: Option<&Value>) -> String {
    match v {
        None => "nothing (the key is missing)".to_owned(),
        Some(v) => {
            let mut text = v.to_string();
            if text.len() > 60 {
                text.truncate(60);
                text.push('…');
            }
            format!("{} {text}", kind(v))
        }
    }
}

fn as_integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok().filter(|f: &f64| f.is_finite()),
        _ => None,
    }
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn as_flag(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_f64().map(|f| f != 0.0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => Some(true),
            "0" | "false" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// The token owner, from `/my/userinfo`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserInfo {
    /// SmashRun's user id.
    pub id: i64,
    /// `userName`.
    #[serde(rename = "userName", default)]
    pub user_name: Option<String>,
    /// `firstName`.
    #[serde(rename = "firstName", default)]
    pub first_name: Option<String>,
    /// `lastName`.
    #[serde(rename = "lastName", default)]
    pub last_name: Option<String>,
    /// `registrationDateUTC`.
    #[serde(rename = "registrationDateUTC", default)]
    pub registration_date_utc: Option<String>,
    /// `unitDistance`.
    #[serde(rename = "unitDistance", default)]
    pub unit_distance: Option<String>,
    /// `timeZoneOffsetMinutes`.
    #[serde(rename = "timeZoneOffsetMinutes", default)]
    pub time_zone_offset_minutes: Option<i32>,
}

impl UserInfo {
    /// The name to greet the user with.
    pub fn display_name(&self) -> String {
        match (&self.first_name, &self.user_name) {
            (Some(first), _) if !first.is_empty() => first.clone(),
            (_, Some(user)) if !user.is_empty() => user.clone(),
            _ => format!("runner {}", self.id),
        }
    }
}

/// A split unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SplitUnit {
    /// Kilometres.
    Km,
    /// Miles.
    Mi,
}

impl SplitUnit {
    /// `km` or `mi`, as in the URL.
    pub fn as_str(self) -> &'static str {
        match self {
            SplitUnit::Km => "km",
            SplitUnit::Mi => "mi",
        }
    }
}

/// One split: cumulative distance (in the split unit) and seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Split {
    /// Cumulative distance in the unit.
    pub distance: f64,
    /// Cumulative seconds.
    pub seconds: f64,
    /// Speed.
    #[serde(default)]
    pub speed: Option<f64>,
    /// Average heart rate.
    #[serde(rename = "heartRate", default)]
    pub heart_rate: Option<f64>,
    /// Elevation gained.
    #[serde(rename = "elevationGain", default)]
    pub elevation_gain: Option<f64>,
    /// Elevation lost.
    #[serde(rename = "elevationLoss", default)]
    pub elevation_loss: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL: &str = r#"{"activityId":123,"activityType":"running","duration":2836.895,"distance":9.74928,"calories":null,"notes":"","startDateTimeLocal":"2022-11-09T09:12:00-05:00","externalId":"","source":"manual","hasDetails":0,"hasDetailsGPS":0,"weatherType":"volcanicash","howFelt":"meh","terrain":"sand","isRace":0,"isTreadmill":1,"isBadHR":0,"isBadElevation":0,"syncDateTimeUTC":null,"dateCreatedUTC":"2022-11-09T15:01:40.307","dateUpdatedUTC":"2022-11-09T15:01:40"}"#;

    #[test]
    fn keeps_odd_values_and_the_raw_text() {
        let a = parse_activity(REAL).unwrap();
        assert_eq!(a.id.get(), 123);
        assert_eq!(a.distance.cm(), 974_928);
        assert_eq!(a.weather_type.as_deref(), Some("volcanicash"));
        assert_eq!(a.calories, None);
        assert_eq!(a.is_treadmill, Some(true));
        assert_eq!(
            a.created_at.unwrap().to_string(),
            "2022-11-09T15:01:40.307Z"
        );
        assert_eq!(a.raw, REAL);
        assert!(a.to_run().is_treadmill);
        assert_eq!(a.to_run().start.date().to_string(), "2022-11-09");
    }

    #[test]
    fn duration_zero_and_missing_keys_are_fine() {
        let a = parse_activity(r#"{"activityId":5,"distance":3,"startDateTimeLocal":"2024-01-01T06:00:00+01:00","duration":0}"#).unwrap();
        assert_eq!(a.duration_s, Some(0.0));
        assert_eq!(a.heart_rate_average, None);
        assert!(a.is_running());
    }

    #[test]
    fn rejections_name_the_activity_and_the_field() {
        let r = parse_activity(r#"{"activityId":77,"distance":"far","startDateTimeLocal":"2024-01-01T06:00:00+01:00"}"#).unwrap_err();
        assert_eq!(r.activity_id, Some(77));
        assert!(
            r.reason.contains("activity 77") && r.reason.contains("distance"),
            "{}",
            r.reason
        );
        let r = parse_activity(
            r#"{"activityId":78,"distance":3,"startDateTimeLocal":"2024-01-01T06:00:00"}"#,
        )
        .unwrap_err();
        assert!(r.reason.contains("startDateTimeLocal"), "{}", r.reason);
        let r = parse_activity(r#"{"distance":3}"#).unwrap_err();
        assert!(
            r.reason.contains("activityId") && r.reason.contains("missing"),
            "{}",
            r.reason
        );
        assert_eq!(r.raw, r#"{"distance":3}"#);
    }
}
