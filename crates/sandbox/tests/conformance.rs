//! Generated summaries checked key by key and type by type against the summary table of
//! `shared/docs/smashrun-api.md`.

use jiff::civil::date;
use serde_json::{Map, Value};
use smashrun_sandbox::generate::{FIRST_ID, GeneratorConfig, HOMES, generate};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Integer,
    Number,
    IntegerOrNull,
    Text,
    TextOrNull,
    Flag,
}

/// The table, in the real payload's key order: (key, kind, always present).
const TABLE: &[(&str, Kind, bool)] = &[
    ("activityId", Kind::Integer, true),
    ("activityType", Kind::Text, true),
    ("duration", Kind::Number, true),
    ("distance", Kind::Number, true),
    ("calories", Kind::IntegerOrNull, true),
    ("notes", Kind::Text, true),
    ("startDateTimeLocal", Kind::Text, true),
    ("externalId", Kind::Text, true),
    ("source", Kind::Text, true),
    ("appVersion", Kind::Text, false),
    ("deviceType", Kind::Text, false),
    ("hasDetails", Kind::Flag, true),
    ("hasDetailsGPS", Kind::Flag, true),
    ("startLatitude", Kind::Number, false),
    ("startLongitude", Kind::Number, false),
    ("heartRateMin", Kind::Number, false),
    ("heartRateMax", Kind::Number, false),
    ("heartRateAverage", Kind::Number, false),
    ("cadenceMin", Kind::Number, false),
    ("cadenceMax", Kind::Number, false),
    ("cadenceAverage", Kind::Number, false),
    ("weatherType", Kind::Text, false),
    ("temperature", Kind::Number, false),
    ("temperatureApparent", Kind::Number, false),
    ("temperatureWindChill", Kind::Number, false),
    ("humidity", Kind::Integer, false),
    ("windSpeed", Kind::Number, false),
    ("howFelt", Kind::Text, true),
    ("terrain", Kind::Text, true),
    ("isRace", Kind::Flag, true),
    ("isTreadmill", Kind::Flag, true),
    ("isBadHR", Kind::Flag, true),
    ("isBadElevation", Kind::Flag, true),
    ("syncDateTimeUTC", Kind::TextOrNull, true),
    ("dateCreatedUTC", Kind::Text, true),
    ("dateUpdatedUTC", Kind::Text, true),
];

fn check_kind(key: &str, kind: Kind, v: &Value) -> Result<(), String> {
    let ok = match kind {
        Kind::Integer => v.is_i64(),
        Kind::Number => v.is_number(),
        Kind::IntegerOrNull => v.is_i64() || v.is_null(),
        Kind::Text => v.is_string(),
        Kind::TextOrNull => v.is_string() || v.is_null(),
        Kind::Flag => v.as_i64().is_some_and(|f| f == 0 || f == 1),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{key} should be {kind:?}, is {v}"))
    }
}

fn decimals(v: &Value) -> usize {
    let text = v.to_string();
    text.split_once('.').map_or(0, |(_, frac)| frac.len())
}

fn zone_less_utc(text: &str, max_fraction: usize) -> bool {
    let (main, fraction) = text.split_once('.').unwrap_or((text, ""));
    main.len() == 19
        && main.parse::<jiff::civil::DateTime>().is_ok()
        && fraction.len() <= max_fraction
        && fraction.chars().all(|c| c.is_ascii_digit())
}

fn conforms(s: &Map<String, Value>) -> Result<(), String> {
    let mut position = 0;
    for (key, value) in s {
        let Some(offset) = TABLE[position..].iter().position(|(k, _, _)| k == key) else {
            return Err(format!("key {key} is unknown or out of order"));
        };
        position += offset;
        check_kind(key, TABLE[position].1, value)?;
        position += 1;
    }
    for (key, _, required) in TABLE {
        if *required && !s.contains_key(*key) {
            return Err(format!("required key {key} is missing"));
        }
    }
    if decimals(&s["distance"]) > 5 {
        return Err(format!(
            "distance {} has more than 5 decimals",
            s["distance"]
        ));
    }
    if decimals(&s["duration"]) > 3 {
        return Err(format!(
            "duration {} has more than 3 decimals",
            s["duration"]
        ));
    }
    let start = s["startDateTimeLocal"].as_str().unwrap();
    if start.len() != 25 || start.parse::<jiff::Timestamp>().is_err() || start.ends_with('Z') {
        return Err(format!(
            "startDateTimeLocal {start} is not a local time with its offset"
        ));
    }
    for key in ["dateCreatedUTC", "dateUpdatedUTC"] {
        let text = s[key].as_str().unwrap();
        if !zone_less_utc(text, 3) {
            return Err(format!(
                "{key} {text} is not zone-less UTC with 0-3 fractional digits"
            ));
        }
    }
    if let Some(sync) = s["syncDateTimeUTC"]
        .as_str()
        .filter(|t| !zone_less_utc(t, 0))
    {
        return Err(format!("syncDateTimeUTC {sync} is not zone-less UTC"));
    }
    Ok(())
}

#[test]
fn every_generated_summary_has_the_real_keys_types_and_formats() {
    let runs = generate(&GeneratorConfig {
        seed: 3,
        years: 10,
        end: date(2026, 5, 3),
        odd_share: 0.01,
        not_after: None,
        home: &HOMES[0],
        first_id: FIRST_ID,
    });
    assert!(runs.len() > 3000, "{}", runs.len());
    for r in &runs {
        if let Err(e) = conforms(&r.summary) {
            panic!(
                "activity {}: {e}\n{}",
                r.summary["activityId"],
                Value::Object(r.summary.clone())
            );
        }
    }
}

#[test]
fn the_history_has_everything_a_real_runner_has() {
    let runs = generate(&GeneratorConfig {
        seed: 5,
        years: 10,
        end: date(2026, 5, 3),
        odd_share: 0.01,
        not_after: None,
        home: &HOMES[0],
        first_id: FIRST_ID,
    });
    let has = |pred: &dyn Fn(&Map<String, Value>) -> bool| runs.iter().any(|r| pred(&r.summary));
    assert!(has(&|s| s["isTreadmill"] == 1), "treadmill runs");
    assert!(
        has(&|s| s["source"] == "manual" && s["externalId"] == ""),
        "manual runs"
    );
    assert!(has(&|s| s["calories"].is_null()), "null calories");
    assert!(has(&|s| s["duration"] == 0), "duration 0");
    assert!(
        has(&|s| s.get("weatherType").is_some_and(|w| w == "volcanicash")),
        "unknown weather"
    );
    assert!(
        has(&|s| s["distance"].as_f64().unwrap() < 1.60934),
        "runs shorter than a mile"
    );
    assert!(
        has(&|s| s["startDateTimeLocal"].as_str().unwrap()[11..13] == *"23"),
        "runs just before midnight"
    );
    assert!(
        has(&|s| s["startDateTimeLocal"].as_str().unwrap()[11..13] == *"00"),
        "runs just after midnight"
    );
    let offsets: std::collections::BTreeSet<&str> = runs
        .iter()
        .map(|r| &r.summary["startDateTimeLocal"].as_str().unwrap()[19..])
        .collect();
    assert!(
        offsets.contains("-05:00") && offsets.contains("-04:00"),
        "DST at home: {offsets:?}"
    );
    assert!(
        offsets.iter().any(|o| o.starts_with('+')),
        "travel east of Greenwich: {offsets:?}"
    );
    // late uploads: created days after the start
    let late = runs.iter().filter(|r| {
        let start: jiff::Timestamp = r.summary["startDateTimeLocal"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let created: jiff::civil::DateTime = r.summary["dateCreatedUTC"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let created = created
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .unwrap()
            .timestamp();
        created.duration_since(start).as_hours() > 48
    });
    assert!(late.count() > 10, "late uploads");
    // ids are not monotonic in start time
    let ids: Vec<i64> = runs
        .iter()
        .map(|r| r.summary["activityId"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).any(|w| w[0] > w[1]));
    // two runs on one local day
    let mut days: Vec<&str> = runs
        .iter()
        .map(|r| &r.summary["startDateTimeLocal"].as_str().unwrap()[..10])
        .collect();
    let total = days.len();
    days.dedup();
    assert!(days.len() < total, "double days");
}

#[test]
fn same_seed_same_bytes() {
    let config = GeneratorConfig {
        seed: 9,
        years: 3,
        end: date(2026, 5, 3),
        odd_share: 0.02,
        not_after: None,
        home: &HOMES[0],
        first_id: FIRST_ID,
    };
    let a: Vec<Value> = generate(&config)
        .into_iter()
        .map(|g| Value::Object(g.summary))
        .collect();
    let b: Vec<Value> = generate(&config)
        .into_iter()
        .map(|g| Value::Object(g.summary))
        .collect();
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
}
