//! SmashRun's payloads, read the way real histories demand: strict where a run would be
//! meaningless without the field, lenient everywhere else, and never without the raw JSON.

use std::borrow::Cow;
use std::collections::HashMap;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use myrunstreak_domain::{
    ActivityId, AttrSource, Distance, LocalStart, Run, RunAttributes, RunOrigin,
};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// One activity summary: every field of SmashRun's summary object, typed, plus the raw JSON.
/// The fields the streak engine reads are its own; the rest are the domain's declared
/// [`RunAttributes`].
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
    /// `duration`: seconds of moving time, possibly fractional, possibly 0.
    pub duration_s: Option<f64>,
    /// Every other field of the summary the mirror keeps (heart rate, weather, flags...), read
    /// by walking the keys the domain declares; serialized inline, as if declared here.
    #[serde(flatten)]
    pub attributes: RunAttributes,
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
            is_treadmill: self.attributes.is_treadmill.unwrap_or(false)
                || self.attributes.terrain.as_deref() == Some("treadmill"),
            origin: RunOrigin::SmashRun,
        }
    }

    /// Whether SmashRun calls it a run. A missing type is read as running (the only type seen).
    pub fn is_running(&self) -> bool {
        self.attributes
            .activity_type
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

/// Years a date from SmashRun is believed in. A start outside them is rejected (kept raw), an
/// optional instant outside them is dropped: no absurd date reaches the store.
pub const SANE_YEARS: std::ops::RangeInclusive<i16> = 1900..=2200;

/// Most characters of a field's value quoted in a rejection reason.
const SHOWN_CHARS: usize = 60;
/// Most characters of a rejection reason (a value can be megabytes of garbage).
const REASON_CHARS: usize = 300;

/// Parses one activity summary; the error names the activity id and the field. A start written
/// without an offset is kept with UTC assumed (see [`parse_activity_in`]).
pub fn parse_activity(raw: &str) -> Result<Activity, Rejected> {
    parse_activity_in(raw, None)
}

/// Parses one activity summary, reading a start written without an offset
/// (`2026-05-01T07:00:00`) as a wall time in `home` (else UTC): its day is the written date and
/// its offset is marked assumed ([`LocalStart::parse_lenient`]).
///
/// Only `activityId`, `startDateTimeLocal` and `distance` can make it fail; the [`Rejected`]
/// keeps `raw` exactly. Every other field is read leniently (numbers as numbers or numeric
/// strings, flags as 0/1, booleans or words) and is `None` when unreadable, whatever it holds:
/// a number too large for a float, megabytes of non-ASCII garbage, an array. Never panics.
pub fn parse_activity_in(raw: &str, home: Option<&TimeZone>) -> Result<Activity, Rejected> {
    let reject = |id: Option<i64>, reason: String| Rejected {
        activity_id: id,
        reason: clip(&reason, REASON_CHARS),
        raw: raw.to_owned(),
    };
    // each value is kept as its raw text and read on its own: one unreadable value (1e400, say)
    // spoils that field only, not the whole activity
    let fields = match serde_json::from_str::<Fields>(raw) {
        Ok(fields) => fields,
        Err(e) => {
            let reason = match serde_json::from_str::<&RawValue>(raw) {
                Ok(top) => format!("expected a JSON object, got {}", kind(top)),
                Err(_) => format!("not JSON: {e}"),
            };
            return Err(reject(None, reason));
        }
    };
    let get = |k: &str| fields.get(k);
    let id_value = get("activityId");
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
    let start_value = get("startDateTimeLocal");
    let Some(start_local) = start_value.and_then(as_string) else {
        return Err(label(
            "startDateTimeLocal",
            format!("expected a local date-time, got {}", shown(start_value)),
        ));
    };
    let start = LocalStart::parse_lenient(&start_local, home)
        .map_err(|e| label("startDateTimeLocal", e.to_string()))?;
    if !SANE_YEARS.contains(&start.date().year()) {
        return Err(label(
            "startDateTimeLocal",
            format!(
                "the year {} is outside {}..={}",
                start.date().year(),
                SANE_YEARS.start(),
                SANE_YEARS.end()
            ),
        ));
    }
    let distance_value = get("distance");
    let distance = match distance_value.and_then(as_number) {
        Some(km) => Distance::from_km(km).map_err(|e| label("distance", e.to_string()))?,
        None => {
            return Err(label(
                "distance",
                format!(
                    "expected kilometres as a number, got {}",
                    shown(distance_value)
                ),
            ));
        }
    };
    let instant = |k: &str| {
        get(k)
            .and_then(as_string)
            .and_then(|s| parse_utc(&s))
            .filter(|t| SANE_YEARS.contains(&jiff::tz::Offset::UTC.to_datetime(*t).year()))
    };
    Ok(Activity {
        id,
        start_local,
        start,
        distance,
        duration_s: get("duration").and_then(as_number).filter(|d| *d >= 0.0),
        attributes: RunAttributes::read(&fields),
        synced_at: instant("syncDateTimeUTC"),
        created_at: instant("dateCreatedUTC"),
        updated_at: instant("dateUpdatedUTC"),
        raw: raw.to_owned(),
    })
}

/// An activity's values by key, each still raw: the attributes are read from it leniently, by
/// the kind the domain declares for each. Keys are borrowed from the listing unless they hold
/// escapes; of a key written twice the last one counts.
struct Fields<'raw>(HashMap<Cow<'raw, str>, &'raw RawValue, foldhash::fast::RandomState>);

impl<'raw> Fields<'raw> {
    fn get(&self, key: &str) -> Option<&'raw RawValue> {
        self.0.get(key).copied()
    }
}

impl<'de: 'raw, 'raw> Deserialize<'de> for Fields<'raw> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<'raw>(std::marker::PhantomData<&'raw ()>);
        impl<'de: 'raw, 'raw> serde::de::Visitor<'de> for Visit<'raw> {
            type Value = Fields<'raw>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut fields = HashMap::with_capacity_and_hasher(
                    map.size_hint().unwrap_or(48),
                    foldhash::fast::RandomState::default(),
                );
                while let Some((Key(k), v)) = map.next_entry::<Key<'de>, &'de RawValue>()? {
                    fields.insert(k, v);
                }
                Ok(Fields(fields))
            }
        }
        deserializer.deserialize_map(Visit(std::marker::PhantomData))
    }
}

/// An object key, borrowed from the input unless it holds escapes.
#[derive(Deserialize)]
struct Key<'raw>(#[serde(borrow)] Cow<'raw, str>);

impl AttrSource for Fields<'_> {
    fn text(&self, key: &str) -> Option<String> {
        self.get(key).and_then(as_text)
    }

    /// A number rounded to a whole one (calories come as `412.0` too); one that does not fit is
    /// `None`, never saturated.
    fn integer(&self, key: &str) -> Option<i64> {
        self.real(key).and_then(|n| integral_i64(n.round()))
    }

    fn real(&self, key: &str) -> Option<f64> {
        self.get(key).and_then(as_number)
    }

    fn flag(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(as_flag)
    }
}

/// SmashRun's zone-less UTC (`2022-11-09T15:01:40.307`) or an RFC 3339 instant.
pub fn parse_utc(text: &str) -> Option<Timestamp> {
    // SmashRun writes no zone: read that as a civil time in UTC first, without building the
    // error of a failed instant parse
    let writes_zone = text
        .get(10..)
        .is_none_or(|rest| rest.contains(['+', '-', 'Z', 'z', '[']));
    if !writes_zone && let Ok(civil) = text.parse::<DateTime>() {
        return jiff::tz::Offset::UTC.to_timestamp(civil).ok();
    }
    text.parse::<Timestamp>().ok()
}

/// At most `max_chars` characters of `text`, with `…` appended when something was cut. Cuts on a
/// character boundary, so any text (non-ASCII included) is safe.
pub fn clip(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_owned(),
        Some((cut, _)) => {
            let mut clipped = String::with_capacity(cut + '…'.len_utf8());
            clipped.push_str(&text[..cut]);
            clipped.push('…');
            clipped
        }
    }
}

/// `f` as an `i64` when it is a whole number that fits; `None` otherwise (no saturation: a huge
/// float is not silently turned into `i64::MAX`).
pub(crate) fn integral_i64(f: f64) -> Option<i64> {
    // -2^63 and 2^63 are exact in f64; i64 covers [-2^63, 2^63)
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    (f.is_finite() && f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f)).then_some(f as i64)
}

fn kind(v: &RawValue) -> &'static str {
    match v.get().as_bytes().first() {
        Some(b'n') => "null",
        Some(b't' | b'f') => "a boolean",
        Some(b'"') => "a string",
        Some(b'[') => "an array",
        Some(b'{') => "an object",
        _ => "a number",
    }
}

fn shown(v: Option<&RawValue>) -> String {
    match v {
        None => "nothing (the key is missing)".to_owned(),
        Some(v) => format!("{} {}", kind(v), clip(v.get(), SHOWN_CHARS)),
    }
}

/// A JSON string's content; `None` for anything else.
fn as_string(v: &RawValue) -> Option<String> {
    v.get()
        .starts_with('"')
        .then(|| serde_json::from_str::<String>(v.get()).ok())
        .flatten()
}

/// The text a number is read from: a string's content, or the JSON text of anything else.
fn number_text(v: &RawValue) -> Option<Cow<'_, str>> {
    if v.get().starts_with('"') {
        as_string(v).map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(v.get()))
    }
}

pub(crate) fn as_integer(v: &RawValue) -> Option<i64> {
    let text = number_text(v)?;
    let text = text.trim();
    text.parse::<i64>()
        .ok()
        .or_else(|| text.parse::<f64>().ok().and_then(integral_i64))
}

/// A finite number, from a JSON number or a numeric string. A number too large for a float
/// (`1e400`), `NaN`, `inf`, words and garbage are `None`.
pub(crate) fn as_number(v: &RawValue) -> Option<f64> {
    number_text(v)?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
}

fn as_text(v: &RawValue) -> Option<String> {
    match v.get().as_bytes().first()? {
        b'"' => as_string(v),
        // numbers and booleans as written
        b'-' | b'0'..=b'9' | b't' | b'f' => Some(v.get().to_owned()),
        _ => None,
    }
}

fn as_flag(v: &RawValue) -> Option<bool> {
    match v.get() {
        "true" => Some(true),
        "false" => Some(false),
        text if text.starts_with('"') => match as_string(v)?.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => Some(true),
            "0" | "false" | "no" => Some(false),
            _ => None,
        },
        text => text
            .parse::<f64>()
            .ok()
            .filter(|f| !f.is_nan())
            .map(|f| f != 0.0),
    }
}

/// Lenient `deserialize_with` readers for SmashRun's smaller payloads: a field that cannot be
/// read is `None` (or 0 where the field is required) instead of failing the whole answer.
mod lenient {
    use serde::{Deserialize, Deserializer};
    use serde_json::value::RawValue;

    pub fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        let raw = Option::<Box<RawValue>>::deserialize(d)?;
        Ok(raw.as_deref().and_then(super::as_number))
    }

    pub fn f64_or_zero<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(opt_f64(d)?.unwrap_or(0.0))
    }

    pub fn opt_i32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i32>, D::Error> {
        let raw = Option::<Box<RawValue>>::deserialize(d)?;
        Ok(raw
            .as_deref()
            .and_then(super::as_integer)
            .and_then(|n| i32::try_from(n).ok()))
    }

    pub fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        let raw = Option::<Box<RawValue>>::deserialize(d)?;
        Ok(raw.as_deref().and_then(super::as_text))
    }
}

/// The token owner, from `/my/userinfo`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserInfo {
    /// SmashRun's user id.
    pub id: i64,
    /// `userName`.
    #[serde(rename = "userName", default, deserialize_with = "lenient::opt_text")]
    pub user_name: Option<String>,
    /// `firstName`.
    #[serde(rename = "firstName", default, deserialize_with = "lenient::opt_text")]
    pub first_name: Option<String>,
    /// `lastName`.
    #[serde(rename = "lastName", default, deserialize_with = "lenient::opt_text")]
    pub last_name: Option<String>,
    /// `registrationDateUTC`.
    #[serde(
        rename = "registrationDateUTC",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub registration_date_utc: Option<String>,
    /// `unitDistance`.
    #[serde(
        rename = "unitDistance",
        default,
        deserialize_with = "lenient::opt_text"
    )]
    pub unit_distance: Option<String>,
    /// `timeZoneOffsetMinutes`; `None` when it is not a whole number of minutes that fits.
    #[serde(
        rename = "timeZoneOffsetMinutes",
        default,
        deserialize_with = "lenient::opt_i32"
    )]
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

/// One split: cumulative distance (in the split unit) and seconds. Read leniently: a value that
/// is not a finite number is 0 (distance, seconds) or `None` (the rest), so one odd split never
/// fails a run's details.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Split {
    /// Cumulative distance in the unit.
    #[serde(default, deserialize_with = "lenient::f64_or_zero")]
    pub distance: f64,
    /// Cumulative seconds.
    #[serde(default, deserialize_with = "lenient::f64_or_zero")]
    pub seconds: f64,
    /// Speed.
    #[serde(default, deserialize_with = "lenient::opt_f64")]
    pub speed: Option<f64>,
    /// Average heart rate.
    #[serde(rename = "heartRate", default, deserialize_with = "lenient::opt_f64")]
    pub heart_rate: Option<f64>,
    /// Elevation gained.
    #[serde(
        rename = "elevationGain",
        default,
        deserialize_with = "lenient::opt_f64"
    )]
    pub elevation_gain: Option<f64>,
    /// Elevation lost.
    #[serde(
        rename = "elevationLoss",
        default,
        deserialize_with = "lenient::opt_f64"
    )]
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
        assert_eq!(a.attributes.weather_type.as_deref(), Some("volcanicash"));
        assert_eq!(a.attributes.calories, None);
        assert_eq!(a.attributes.is_treadmill, Some(true));
        assert_eq!(
            a.created_at.unwrap().to_string(),
            "2022-11-09T15:01:40.307Z"
        );
        assert_eq!(a.raw, REAL);
        assert!(a.to_run().is_treadmill);
        assert_eq!(a.to_run().start.date().to_string(), "2022-11-09");
    }

    #[test]
    fn attributes_serialize_inline_under_their_field_names() {
        let json = serde_json::to_value(parse_activity(REAL).unwrap()).unwrap();
        let keys: std::collections::BTreeSet<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected: std::collections::BTreeSet<&str> = [
            "id",
            "start_local",
            "start",
            "distance",
            "duration_s",
            "synced_at",
            "created_at",
            "updated_at",
            "raw",
        ]
        .into();
        expected.extend(RunAttributes::FIELDS.iter().map(|f| f.name));
        assert_eq!(keys, expected);
        assert_eq!(json["weather_type"], "volcanicash");
        assert_eq!(json["is_treadmill"], true);
        assert_eq!(json["calories"], serde_json::Value::Null);
    }

    #[test]
    fn duration_zero_and_missing_keys_are_fine() {
        let a = parse_activity(r#"{"activityId":5,"distance":3,"startDateTimeLocal":"2024-01-01T06:00:00+01:00","duration":0}"#).unwrap();
        assert_eq!(a.duration_s, Some(0.0));
        assert_eq!(a.attributes.heart_rate_average, None);
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
            r#"{"activityId":78,"distance":3,"startDateTimeLocal":"2024-13-01T06:00:00"}"#,
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

    #[test]
    fn keys_are_read_as_a_map_reads_them() {
        // an escaped key is the same key; of a key written twice, the last counts
        let a = parse_activity(
            r#"{"activ\u0069tyId":9,"distance":1,"distance":2.5,"startDateTimeLocal":"2024-01-01T06:00:00+01:00"}"#,
        )
        .unwrap();
        assert_eq!(a.id.get(), 9);
        assert_eq!(a.distance.km(), 2.5);
    }

    #[test]
    fn what_is_not_an_object_is_kept_raw_with_what_it_was() {
        let r = parse_activity("[1,2]").unwrap_err();
        assert_eq!(r.reason, "expected a JSON object, got an array");
        assert_eq!(r.raw, "[1,2]");
        let r = parse_activity("{\"activityId\":").unwrap_err();
        assert!(r.reason.starts_with("not JSON: "), "{}", r.reason);
    }

    #[test]
    fn utc_times_are_read_with_and_without_a_zone() {
        let plain = parse_utc("2022-11-09T15:01:40.307").unwrap();
        assert_eq!(plain.to_string(), "2022-11-09T15:01:40.307Z");
        assert_eq!(parse_utc("2022-11-09T16:01:40.307+01:00"), Some(plain));
        assert_eq!(parse_utc("2022-11-09T15:01:40.307Z"), Some(plain));
        assert_eq!(parse_utc("yesterday"), None);
    }

    #[test]
    fn garbage_in_optional_fields_spoils_only_those_fields() {
        let garbage = "ß".repeat(10_000);
        let raw = format!(
            r#"{{"activityId":9,"distance":5.5,"startDateTimeLocal":"2026-05-01T07:00:00-04:00","heartRateAverage":"{garbage}","cadenceMax":1e400,"humidity":[1,2],"calories":1e300,"dateUpdatedUTC":"{garbage}","isRace":"{garbage}","notes":"{garbage}"}}"#
        );
        let a = parse_activity(&raw).unwrap();
        assert_eq!(a.attributes.heart_rate_average, None);
        assert_eq!(a.attributes.cadence_max, None);
        assert_eq!(a.attributes.humidity, None);
        assert_eq!(a.attributes.calories, None, "no saturation to i64::MAX");
        assert_eq!(a.updated_at, None);
        assert_eq!(a.attributes.is_race, None);
        assert_eq!(a.attributes.notes.as_deref(), Some(garbage.as_str()));
        assert_eq!(a.raw, raw);
    }

    #[test]
    fn garbage_in_a_required_field_is_rejected_with_a_short_reason_and_the_raw_text() {
        let garbage = "ß".repeat(10_000);
        for field in ["distance", "startDateTimeLocal", "activityId"] {
            let mut object = serde_json::json!({
                "activityId": 10,
                "distance": 5.5,
                "startDateTimeLocal": "2026-05-01T07:00:00-04:00",
            });
            object[field] = serde_json::json!(garbage);
            let raw = object.to_string();
            let r = parse_activity(&raw).unwrap_err();
            assert_eq!(r.raw, raw, "{field}");
            assert!(r.reason.contains(field), "{field}: {}", r.reason);
            assert!(
                r.reason.chars().count() <= 301,
                "{field}: the reason is clipped"
            );
        }
    }

    #[test]
    fn an_offset_less_start_is_kept_on_its_written_date() {
        let raw = r#"{"activityId":11,"distance":5,"startDateTimeLocal":"2026-05-01T23:30:00"}"#;
        let a = parse_activity(raw).unwrap();
        assert!(a.start.offset_assumed());
        assert_eq!(a.start.date().to_string(), "2026-05-01");
        assert_eq!(a.start.offset(), jiff::tz::Offset::UTC);
        let ny = TimeZone::get("America/New_York").unwrap();
        let a = parse_activity_in(raw, Some(&ny)).unwrap();
        assert_eq!(a.start.date().to_string(), "2026-05-01");
        assert_eq!(a.start.instant().to_string(), "2026-05-02T03:30:00Z");
        assert_eq!(a.to_run().start.date().to_string(), "2026-05-01");
    }

    #[test]
    fn huge_or_fractional_ids_are_not_saturated() {
        for id in ["1e300", "18446744073709551615", "12.5", "-3", "0"] {
            let raw = format!(
                r#"{{"activityId":{id},"distance":5,"startDateTimeLocal":"2026-05-01T07:00:00Z"}}"#
            );
            let r = parse_activity(&raw).unwrap_err();
            assert!(r.reason.contains("activityId"), "{id}: {}", r.reason);
        }
        let a = parse_activity(
            r#"{"activityId":"42","distance":"5.00001","startDateTimeLocal":"2026-05-01T07:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!((a.id.get(), a.distance.cm()), (42, 500_001));
    }

    #[test]
    fn absurd_years_are_rejected() {
        let r = parse_activity(
            r#"{"activityId":12,"distance":5,"startDateTimeLocal":"0001-05-01T07:00:00+00:00"}"#,
        )
        .unwrap_err();
        assert!(r.reason.contains("year"), "{}", r.reason);
    }

    #[test]
    fn clip_cuts_on_character_boundaries() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "abc…");
        assert_eq!(clip("ßßßß", 2), "ßß…");
        assert_eq!(clip("", 0), "");
        assert_eq!(clip("a", 0), "…");
    }

    #[test]
    fn splits_and_userinfo_are_read_leniently() {
        let splits: Vec<Split> = serde_json::from_str(
            r#"[{"distance":"1","seconds":1e400,"speed":"fast","heartRate":null},{"distance":2,"seconds":600.5}]"#,
        )
        .unwrap();
        assert_eq!(splits[0].distance, 1.0);
        assert_eq!(splits[0].seconds, 0.0);
        assert_eq!(splits[0].speed, None);
        assert_eq!(splits[1].seconds, 600.5);
        let user: UserInfo = serde_json::from_str(
            r#"{"id":5,"firstName":7,"timeZoneOffsetMinutes":1e12,"unitDistance":["m"]}"#,
        )
        .unwrap();
        assert_eq!(user.first_name.as_deref(), Some("7"));
        assert_eq!(user.time_zone_offset_minutes, None);
        assert_eq!(user.unit_distance, None);
    }
}
