//! Nothing SmashRun sends can panic the client or lose a run: properties over activity
//! summaries, listings, token responses and `Retry-After` values, garbage included.

use std::time::Duration;

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use myrunstreak_domain::LocalStart;
use proptest::prelude::*;
use smashrun_client::{
    TokenSet, clip, parse_activity, parse_activity_in, parse_listing, parse_retry_after,
    token_lifetime,
};

/// The optional keys of a summary that hold numbers, flags or instants.
const NUMERIC_KEYS: [&str; 26] = [
    "duration",
    "calories",
    "hasDetails",
    "hasDetailsGPS",
    "startLatitude",
    "startLongitude",
    "heartRateMin",
    "heartRateMax",
    "heartRateAverage",
    "cadenceMin",
    "cadenceMax",
    "cadenceAverage",
    "temperature",
    "temperatureApparent",
    "temperatureWindChill",
    "humidity",
    "windSpeed",
    "isRace",
    "isTreadmill",
    "isBadHR",
    "isBadElevation",
    "syncDateTimeUTC",
    "dateCreatedUTC",
    "dateUpdatedUTC",
    "activityType",
    "notes",
];

/// Text a careless or broken server might put anywhere: short words, numbers in words, long runs
/// of one non-ASCII character (up to 12,000 of them), and mixed scripts.
fn garbage() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,40}",
        "[0-9eE.+-]{0,30}",
        (
            prop::sample::select(vec!['ß', '€', '😀', 'ü', '\u{0}', '"', '\\', 'a', '中']),
            1usize..12_000
        )
            .prop_map(|(c, n)| c.to_string().repeat(n)),
        Just("NaN".to_owned()),
        Just("Infinity".to_owned()),
        Just("-inf".to_owned()),
    ]
}

/// The JSON text of any value, numbers a float cannot hold (`1e400`) included.
fn raw_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        (any::<bool>(), 1u32..9, 300u32..5000)
            .prop_map(|(neg, m, e)| format!("{}{m}e{e}", if neg { "-" } else { "" })),
        "[1-9][0-9]{24,59}",
        garbage().prop_map(|s| serde_json::to_string(&s).unwrap()),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(("[a-z]{1,6}", inner), 0..4).prop_map(|kv| {
                let fields: Vec<String> = kv
                    .into_iter()
                    .map(|(k, v)| format!("{}:{v}", serde_json::to_string(&k).unwrap()))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

fn object(fields: &[(String, String)]) -> String {
    let parts: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}:{v}", serde_json::to_string(k).unwrap()))
        .collect();
    format!("{{{}}}", parts.join(","))
}

/// A written start: a wall time in 1990..2100, with an offset from −12:00 to +14:00 or none.
fn start() -> impl Strategy<Value = (String, Date, Option<i32>)> {
    (
        1990i16..2100,
        1i8..=12,
        1i8..=28,
        0i8..24,
        0i8..60,
        prop::option::of(prop_oneof![
            (-48i32..=56).prop_map(|q| q * 15 * 60),
            Just(14 * 3600),
            Just(-12 * 3600),
        ]),
    )
        .prop_map(|(y, mo, d, h, mi, offset)| {
            let date = jiff::civil::date(y, mo, d);
            let wall = date
                .at(h, mi, 0, 0)
                .strftime("%Y-%m-%dT%H:%M:%S")
                .to_string();
            let text = match offset {
                None => wall,
                Some(s) => {
                    let sign = if s < 0 { '-' } else { '+' };
                    let a = s.unsigned_abs();
                    format!("{wall}{sign}{:02}:{:02}", a / 3600, (a / 60) % 60)
                }
            };
            (text, date, offset)
        })
}

fn zones() -> impl Strategy<Value = Option<TimeZone>> {
    prop::option::of(
        prop::sample::select(vec![
            "America/New_York",
            "Pacific/Kiritimati",
            "Pacific/Apia",
            "Etc/GMT+12",
            "Asia/Kolkata",
            "Australia/Lord_Howe",
            "Europe/London",
        ])
        .prop_map(|name| TimeZone::get(name).unwrap()),
    )
}

/// A valid summary with every optional numeric key set to anything at all.
fn summary_with_garbage() -> impl Strategy<Value = (String, i64, Date, i64)> {
    (
        1i64..i64::MAX,
        start(),
        0u32..100_000_000,
        prop::collection::vec(
            (prop::sample::select(NUMERIC_KEYS.to_vec()), raw_value()),
            0..12,
        ),
    )
        .prop_map(|(id, (text, date, _), cm, extra)| {
            let mut fields = vec![
                ("activityId".to_owned(), id.to_string()),
                (
                    "startDateTimeLocal".to_owned(),
                    serde_json::to_string(&text).unwrap(),
                ),
                (
                    "distance".to_owned(),
                    format!("{}.{:05}", cm / 100_000, cm % 100_000),
                ),
            ];
            fields.extend(extra.into_iter().map(|(k, v)| (k.to_owned(), v)));
            (object(&fields), id, date, i64::from(cm))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_text_parses_or_is_rejected_raw(text in prop_oneof![garbage(), ".*", raw_value()]) {
        match parse_activity(&text) {
            Ok(a) => prop_assert_eq!(&a.raw, &text),
            Err(r) => {
                prop_assert_eq!(&r.raw, &text);
                prop_assert!(r.reason.chars().count() <= 301, "{}", r.reason);
            }
        }
    }

    #[test]
    fn any_object_parses_or_is_rejected_raw(
        fields in prop::collection::vec(
            (
                prop_oneof![
                    prop::sample::select(NUMERIC_KEYS.to_vec()).prop_map(str::to_owned),
                    Just("activityId".to_owned()),
                    Just("distance".to_owned()),
                    Just("startDateTimeLocal".to_owned()),
                    ".{0,8}",
                ],
                raw_value(),
            ),
            0..16,
        ),
        home in zones(),
    ) {
        let text = object(&fields);
        match parse_activity_in(&text, home.as_ref()) {
            Ok(a) => {
                prop_assert_eq!(&a.raw, &text);
                prop_assert!(a.id.get() > 0);
                prop_assert!((0..=100_000_000_000).contains(&a.distance.cm()));
            }
            Err(r) => prop_assert_eq!(&r.raw, &text),
        }
    }

    #[test]
    fn garbage_in_optional_fields_never_rejects_a_run(
        (text, id, date, cm) in summary_with_garbage(),
        home in zones(),
    ) {
        let a = parse_activity_in(&text, home.as_ref()).map_err(|r| r.reason);
        prop_assert!(a.is_ok(), "{:?}", a);
        let a = a.unwrap();
        prop_assert_eq!(a.id.get(), id);
        prop_assert_eq!(a.start.date(), date, "the written date");
        prop_assert_eq!(a.to_run().start.date(), date);
        prop_assert_eq!(a.distance.cm(), cm);
        prop_assert_eq!(&a.raw, &text);
        for v in [a.attributes.heart_rate_average, a.attributes.cadence_max, a.attributes.temperature, a.duration_s].into_iter().flatten() {
            prop_assert!(v.is_finite());
        }
    }

    #[test]
    fn garbage_in_a_required_field_rejects_with_the_raw_text(
        (_, id, _, _) in summary_with_garbage(),
        field in prop::sample::select(vec!["activityId", "distance", "startDateTimeLocal"]),
        value in prop_oneof![
            garbage().prop_map(|s| serde_json::to_string(&s).unwrap()),
            Just("null".to_owned()),
            Just("1e400".to_owned()),
            Just("-5".to_owned()),
            Just("[]".to_owned()),
        ],
    ) {
        let mut fields = vec![
            ("activityId".to_owned(), id.to_string()),
            ("startDateTimeLocal".to_owned(), "\"2026-05-01T07:00:00-04:00\"".to_owned()),
            ("distance".to_owned(), "5.0".to_owned()),
        ];
        for f in &mut fields {
            if f.0 == field {
                f.1 = value.clone();
            }
        }
        let text = object(&fields);
        match parse_activity(&text) {
            // a garbage string can be a number in words ("12"), which is fine
            Ok(a) => prop_assert_eq!(&a.raw, &text),
            Err(r) => {
                prop_assert_eq!(&r.raw, &text);
                prop_assert!(r.reason.contains(field), "{}", r.reason);
                prop_assert!(r.reason.chars().count() <= 301);
            }
        }
    }

    #[test]
    fn starts_keep_their_written_date_whatever_the_offset((text, date, offset) in start(), home in zones()) {
        let s = LocalStart::parse_lenient(&text, home.as_ref()).unwrap();
        prop_assert_eq!(s.date(), date);
        prop_assert_eq!(s.offset_assumed(), offset.is_none());
        match offset {
            Some(seconds) => {
                prop_assert_eq!(s.offset().seconds(), seconds);
                prop_assert_eq!(s.extreme_offset(), seconds <= -11 * 3600 || seconds >= 13 * 3600);
            }
            None => {
                let expected = match &home {
                    None => jiff::tz::Offset::UTC,
                    Some(zone) => {
                        let wall: DateTime = text.parse().unwrap();
                        zone.to_ambiguous_zoned_datetime(wall).compatible().unwrap().offset()
                    }
                };
                // compatible disambiguation: in a gap, the offset before it (and so a later wall)
                let wall: DateTime = text.parse().unwrap();
                prop_assert_eq!(s.wall(), wall);
                prop_assert!(
                    s.offset() == expected || home.as_ref().is_some_and(|z| z.to_ambiguous_timestamp(wall).is_ambiguous()),
                    "{} in {:?}: {:?} vs {:?}", text, home, s.offset(), expected
                );
            }
        }
    }

    #[test]
    fn lenient_start_parsing_never_panics(text in prop_oneof![garbage(), ".*", "[0-9T:+Z -]{0,30}"], home in zones()) {
        if let Ok(s) = LocalStart::parse_lenient(&text, home.as_ref()) {
            let _ = (s.instant(), s.extreme_offset(), s.to_string());
        }
    }

    #[test]
    fn every_listed_item_is_parsed_or_rejected(
        items in prop::collection::vec(
            prop_oneof![
                summary_with_garbage().prop_map(|s| s.0),
                raw_value(),
                garbage().prop_map(|s| serde_json::to_string(&s).unwrap()),
            ],
            0..30,
        ),
        home in zones(),
    ) {
        let body = format!("[{}]", items.join(","));
        let listing = parse_listing(body.as_bytes(), home.as_ref()).unwrap();
        prop_assert_eq!(listing.len(), items.len(), "none lost");
        let mut seen: Vec<&str> = listing
            .activities
            .iter()
            .map(|a| a.raw.as_str())
            .chain(listing.rejected.iter().map(|r| r.raw.as_str()))
            .collect();
        let mut sent: Vec<&str> = items.iter().map(String::as_str).collect();
        seen.sort_unstable();
        sent.sort_unstable();
        prop_assert_eq!(seen, sent, "each item kept exactly as sent");
    }

    #[test]
    fn a_listing_that_is_not_an_array_is_an_error_not_a_panic(body in prop_oneof![garbage(), raw_value()]) {
        if !body.trim_start().starts_with('[') {
            prop_assert!(parse_listing(body.as_bytes(), None).is_err());
        } else {
            let _ = parse_listing(body.as_bytes(), None);
        }
    }

    #[test]
    fn token_lifetimes_are_sane_whatever_expires_in_says(raw in prop_oneof![raw_value(), any::<f64>().prop_map(|f| serde_json::to_string(&f.to_string()).unwrap())]) {
        let lifetime = token_lifetime(Some(&raw));
        prop_assert!(lifetime >= SignedDuration::ZERO && lifetime <= TokenSet::MAX_LIFETIME);
        let now: Timestamp = "2026-05-03T12:00:00Z".parse().unwrap();
        let body = format!(r#"{{"access_token":"a","token_type":"Bearer","refresh_token":"r","expires_in":{raw}}}"#);
        let set = TokenSet::from_token_response(body.as_bytes(), now).unwrap();
        prop_assert_eq!(set.expires_at, now + lifetime);
        prop_assert!(set.refresh_due_at() <= set.expires_at);
        let text = raw.trim_matches('"');
        if let Ok(n) = text.trim().parse::<f64>() {
            if n < 0.0 {
                prop_assert!(set.is_expired(now), "negative is expired: {}", raw);
            } else if n > 7_257_600.0 {
                prop_assert_eq!(lifetime, TokenSet::MAX_LIFETIME, "clamped: {}", raw);
            } else if n > 0.0 {
                prop_assert!((lifetime.as_secs_f64() - n).abs() < 1e-6, "{} -> {:?}", raw, lifetime);
            }
        }
    }

    #[test]
    fn huge_token_lifetimes_from_any_instant_never_overflow(seconds in any::<i64>(), at in any::<i64>()) {
        let now = Timestamp::from_second(at % 253_402_207_200).unwrap_or(Timestamp::UNIX_EPOCH);
        let set = TokenSet::issued(
            smashrun_client::Secret::new("a"),
            None,
            now,
            SignedDuration::from_secs(seconds),
        );
        prop_assert!(set.expires_at >= now);
        prop_assert!(set.expires_at.duration_since(now) <= TokenSet::MAX_LIFETIME);
        let _ = (set.refresh_due_at(), set.needs_refresh(now), set.is_expired(now));
    }

    #[test]
    fn retry_after_in_seconds(seconds in any::<u64>(), fraction in 0u32..1000) {
        let now = Timestamp::UNIX_EPOCH;
        prop_assert_eq!(parse_retry_after(&seconds.to_string(), now), Some(Duration::from_secs(seconds)));
        prop_assert_eq!(parse_retry_after(&format!(" {seconds} "), now), Some(Duration::from_secs(seconds)));
        let text = format!("{}.{fraction:03}", seconds % 100_000);
        let expected = (seconds % 100_000) as f64 + f64::from(fraction) / 1000.0;
        let wait = parse_retry_after(&text, now).unwrap();
        prop_assert!((wait.as_secs_f64() - expected).abs() < 1e-6, "{} -> {:?}", text, wait);
        prop_assert_eq!(parse_retry_after(&format!("-{}", seconds.max(1)), now), None);
    }

    #[test]
    fn retry_after_as_an_http_date(at in 0i64..4_000_000_000, now in 0i64..4_000_000_000) {
        let at = Timestamp::from_second(at).unwrap();
        let now = Timestamp::from_second(now).unwrap();
        let header = jiff::fmt::rfc2822::DateTimePrinter::new().timestamp_to_rfc9110_string(&at).unwrap();
        let expected = if at > now { at.duration_since(now).unsigned_abs() } else { Duration::ZERO };
        prop_assert_eq!(parse_retry_after(&header, now), Some(expected), "{}", header);
    }

    #[test]
    fn retry_after_never_panics(text in prop_oneof![garbage(), raw_value(), "[0-9]{20,400}", "-?[0-9]{1,5}e[0-9]{1,4}"]) {
        let now: Timestamp = "2026-05-03T12:00:00Z".parse().unwrap();
        let wait = parse_retry_after(&text, now);
        match text.trim().parse::<f64>() {
            // a number: honoured (a huge one is capped by the client's policy), unless negative
            Ok(f) if f.is_finite() && f >= 0.0 => prop_assert!(wait.is_some(), "{}", text),
            Ok(_) => prop_assert!(wait.is_none(), "{}", text),
            // garbage, or an HTTP date
            Err(_) => {}
        }
    }

    #[test]
    fn clip_is_a_prefix_on_a_character_boundary(text in prop_oneof![garbage(), ".*"], max in 0usize..200) {
        let clipped = clip(&text, max);
        let body = clipped.strip_suffix('…').filter(|_| text.chars().count() > max).unwrap_or(&clipped);
        prop_assert!(text.starts_with(body));
        prop_assert!(body.chars().count() <= max);
        if text.chars().count() <= max {
            prop_assert_eq!(&clipped, &text);
        } else {
            prop_assert!(clipped.ends_with('…'));
            prop_assert_eq!(body.chars().count(), max);
        }
    }
}
