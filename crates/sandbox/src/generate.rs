//! A seeded, believable runner: years of runs with a long current streak, earlier streaks and
//! gaps, double days, short runs, treadmill and manual entries, runs around local midnight,
//! trips across time zones (and DST at home), late uploads and edits.
//!
//! Every summary has exactly the keys, key order, types and formats of SmashRun's real payload
//! (`shared/docs/smashrun-api.md`): integer flags, 5-decimal kilometres, local times with their
//! offset, zone-less UTC strings. The same seed and end date give byte-identical data.
//!
//! [`generate`] builds every run at once (the first account, byte for byte what it always was);
//! [`drafted`] keeps only each run's draft and builds its JSON when it is asked for, from a
//! random stream of its own, so that a thousand runners cost megabytes rather than gigabytes.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp, ToSpan};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};

/// What to generate.
#[derive(Clone, Debug)]
pub struct GeneratorConfig {
    /// Seed for every random choice.
    pub seed: u64,
    /// Years of history.
    pub years: u32,
    /// The last day of history (the runner's "today"), in the home zone.
    pub end: Date,
    /// Share of activities that are odd but valid: unknown weather, duration 0, missing
    /// optional keys, null calories.
    pub odd_share: f64,
    /// Runs not yet uploaded at this instant do not exist, and edits after it have not happened.
    pub not_after: Option<Timestamp>,
    /// Where the runner lives ([`HOMES`]; the first account lives in New York).
    pub home: &'static Place,
    /// Activity ids count up from here (accounts get ranges of their own).
    pub first_id: i64,
}

/// The first account's home zone: New York, so DST changes twice a year.
pub const HOME_ZONE: &str = "America/New_York";

/// Where activities of the first account start counting.
pub const FIRST_ID: i64 = 10_000_000;

/// A place runs happen: a home or a trip's destination.
#[derive(Debug)]
pub struct Place {
    /// IANA time zone.
    pub zone: &'static str,
    /// City, as the extended style names it.
    pub city: &'static str,
    /// State or region (may be empty).
    pub state: &'static str,
    /// Country.
    pub country: &'static str,
    /// ISO country code.
    pub code: &'static str,
    /// Latitude of a start.
    pub lat: f64,
    /// Longitude of a start.
    pub lon: f64,
}

const HOME: Place = Place {
    zone: HOME_ZONE,
    city: "New York",
    state: "NY",
    country: "United States",
    code: "US",
    lat: 40.7812,
    lon: -73.9665,
};

const TRIPS: [Place; 7] = [
    Place {
        zone: "Europe/London",
        city: "London",
        state: "",
        country: "United Kingdom",
        code: "GB",
        lat: 51.5073,
        lon: -0.1657,
    },
    Place {
        zone: "Europe/Berlin",
        city: "Berlin",
        state: "",
        country: "Germany",
        code: "DE",
        lat: 52.5145,
        lon: 13.3501,
    },
    Place {
        zone: "America/Los_Angeles",
        city: "Los Angeles",
        state: "CA",
        country: "United States",
        code: "US",
        lat: 34.0522,
        lon: -118.2437,
    },
    Place {
        zone: "America/Denver",
        city: "Boulder",
        state: "CO",
        country: "United States",
        code: "US",
        lat: 40.0150,
        lon: -105.2705,
    },
    Place {
        zone: "Asia/Tokyo",
        city: "Tokyo",
        state: "",
        country: "Japan",
        code: "JP",
        lat: 35.6852,
        lon: 139.7528,
    },
    Place {
        zone: "Australia/Sydney",
        city: "Sydney",
        state: "NSW",
        country: "Australia",
        code: "AU",
        lat: -33.8688,
        lon: 151.2093,
    },
    Place {
        zone: "Pacific/Auckland",
        city: "Auckland",
        state: "",
        country: "New Zealand",
        code: "NZ",
        lat: -36.8485,
        lon: 174.7633,
    },
];

/// Where runners live: the first is the first account's home; the others are drawn for the
/// other accounts, several with DST, some south of the equator, some with half-hour offsets.
pub const HOMES: [Place; 10] = [
    HOME,
    Place {
        zone: "Europe/London",
        city: "London",
        state: "",
        country: "United Kingdom",
        code: "GB",
        lat: 51.5073,
        lon: -0.1657,
    },
    Place {
        zone: "Europe/Berlin",
        city: "Berlin",
        state: "",
        country: "Germany",
        code: "DE",
        lat: 52.5145,
        lon: 13.3501,
    },
    Place {
        zone: "America/Los_Angeles",
        city: "Los Angeles",
        state: "CA",
        country: "United States",
        code: "US",
        lat: 34.0522,
        lon: -118.2437,
    },
    Place {
        zone: "America/Chicago",
        city: "Chicago",
        state: "IL",
        country: "United States",
        code: "US",
        lat: 41.8781,
        lon: -87.6298,
    },
    Place {
        zone: "Asia/Tokyo",
        city: "Tokyo",
        state: "",
        country: "Japan",
        code: "JP",
        lat: 35.6852,
        lon: 139.7528,
    },
    Place {
        zone: "Australia/Sydney",
        city: "Sydney",
        state: "NSW",
        country: "Australia",
        code: "AU",
        lat: -33.8688,
        lon: 151.2093,
    },
    Place {
        zone: "Pacific/Auckland",
        city: "Auckland",
        state: "",
        country: "New Zealand",
        code: "NZ",
        lat: -36.8485,
        lon: 174.7633,
    },
    Place {
        zone: "Asia/Kolkata",
        city: "Bengaluru",
        state: "KA",
        country: "India",
        code: "IN",
        lat: 12.9716,
        lon: 77.5946,
    },
    Place {
        zone: "America/Sao_Paulo",
        city: "São Paulo",
        state: "SP",
        country: "Brazil",
        code: "BR",
        lat: -23.5505,
        lon: -46.6333,
    },
];

/// One generated activity: the summary object and the extra keys of the extended style.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The summary, keys in SmashRun's order.
    pub summary: Map<String, Value>,
    /// The keys the extended style adds.
    pub extended: Map<String, Value>,
}

struct Draft {
    start: jiff::ZonedDateTime,
    place: &'static Place,
    km: f64,
    pace: f64,
    treadmill: bool,
    manual: bool,
    race: bool,
    created: Timestamp,
    updated: Timestamp,
    /// Worked out in advance for a run built on demand (its duration is indexed); drawn while
    /// building otherwise, as it always was.
    duration: Option<f64>,
}

/// Generates the runner's whole history, oldest start first.
pub fn generate(config: &GeneratorConfig) -> Vec<Generated> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let drafts = drafts(config, &mut rng);
    drafts
        .iter()
        .map(|(draft, id)| build(draft, *id, config.seed, config.odd_share, &mut rng))
        .collect()
}

/// The runner's history as drafts, oldest start first, each built when it is asked for
/// ([`Drafted::build`]): the same kind of runner as [`generate`]'s, not the same runs.
pub(crate) fn drafted(config: &GeneratorConfig) -> Vec<Drafted> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    drafts(config, &mut rng)
        .into_iter()
        .map(|(mut draft, id)| {
            let mut own = ChaCha8Rng::seed_from_u64(config.seed ^ mix(id) ^ DURATION);
            draft.duration = Some(draw_duration(&draft, &mut own));
            Drafted {
                draft,
                id,
                seed: config.seed,
                odd_share: config.odd_share,
            }
        })
        .collect()
}

// independent random streams of one drafted run
const DURATION: u64 = 0x6475_7261;
const BUILD: u64 = 0x6275_696c;

fn mix(id: i64) -> u64 {
    (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

fn draw_duration(d: &Draft, rng: &mut ChaCha8Rng) -> f64 {
    round_to(d.km * d.pace + rng.random_range(-20.0..20.0), 3).max(60.0)
}

/// A run kept as its draft: about a hundred bytes instead of a few kilobytes of JSON.
pub(crate) struct Drafted {
    draft: Draft,
    id: i64,
    seed: u64,
    odd_share: f64,
}

/// What the sandbox indexes of a run, known without building it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Facts {
    pub start: Timestamp,
    pub local_date: Date,
    pub updated: Option<Timestamp>,
    pub km: f64,
    pub seconds: f64,
    pub external_id: String,
}

impl Drafted {
    /// Its activity id.
    pub(crate) fn id(&self) -> i64 {
        self.id
    }

    /// Its JSON, the same every time.
    pub(crate) fn build(&self) -> Generated {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ mix(self.id) ^ BUILD);
        build(&self.draft, self.id, self.seed, self.odd_share, &mut rng)
    }

    /// What [`Drafted::build`] will say of start, update, distance, duration and externalId.
    pub(crate) fn facts(&self) -> Facts {
        let d = &self.draft;
        let odd = self.odd_share > 0.0 && unit_hash(self.seed, self.id) < self.odd_share;
        Facts {
            start: d.start.timestamp(),
            local_date: d.start.date(),
            updated: parse_utc_naive(&utc_naive(d.updated, true)),
            km: round_to(d.km, 5),
            seconds: if odd && self.id % 4 == 1 {
                0.0
            } else {
                d.duration.unwrap_or(0.0)
            },
            external_id: external_id(d, self.id),
        }
    }
}

fn external_id(d: &Draft, id: i64) -> String {
    if d.manual {
        String::new()
    } else {
        format!("{}", 9_000_000_000i64 + id * 7)
    }
}

/// The drafts of a history and their ids, oldest start first.
fn drafts(config: &GeneratorConfig, rng: &mut ChaCha8Rng) -> Vec<(Draft, i64)> {
    let home = TimeZone::get(config.home.zone).unwrap_or(TimeZone::UTC);
    let first = config
        .end
        .checked_sub(Span::new().years(i64::from(config.years)))
        .unwrap_or(config.end)
        .tomorrow()
        .unwrap_or(config.end);
    let total_days = config.end.since(first).map(|s| s.get_days()).unwrap_or(0) as i64 + 1;
    // the current streak covers the last ~40% of history (at least a month when there is one)
    let streak_days = ((total_days as f64 * 0.4) as i64).max(total_days.min(30));
    let streak_start = config
        .end
        .checked_sub(Span::new().days(streak_days - 1))
        .unwrap_or(first);

    let mut drafts: Vec<Draft> = Vec::new();
    let mut trip: Option<(&'static Place, Date)> = None;
    let mut next_trip = first
        .checked_add((60 + rng.random_range(0..120)).days())
        .unwrap_or(config.end);
    let mut break_until: Option<Date> = None;

    for date in first.series(1.day()).take_while(|d| *d <= config.end) {
        // travel: a trip of 4 to 12 days every few months
        if trip.is_some_and(|(_, until)| date > until) {
            trip = None;
        }
        if trip.is_none() && date >= next_trip {
            let place = &TRIPS[rng.random_range(0..TRIPS.len())];
            let until = date
                .checked_add(rng.random_range(4..13).days())
                .unwrap_or(date);
            trip = Some((place, until));
            next_trip = until
                .checked_add((60 + rng.random_range(0..140)).days())
                .unwrap_or(config.end);
        }
        let place = trip.map_or(config.home, |(p, _)| p);
        let zone = if trip.is_some() {
            TimeZone::get(place.zone).unwrap_or(home.clone())
        } else {
            home.clone()
        };

        let in_streak = date >= streak_start;
        if !in_streak {
            // injuries and lazy spells make the gaps between earlier streaks
            if break_until.is_some_and(|b| date <= b) {
                continue;
            }
            if rng.random_bool(0.006) {
                break_until = date.checked_add(rng.random_range(3..25).days()).ok();
                continue;
            }
            if rng.random_bool(0.12) {
                continue;
            }
        }
        let month = date.month();
        let winter = matches!(month, 12 | 1 | 2);
        let weekend = date.weekday().to_monday_one_offset() >= 6;
        let mut runs_today: Vec<(f64, (i8, i8))> = Vec::new();
        let roll: f64 = rng.random();
        if in_streak && roll < 0.004 {
            // two short runs that add up to a mile: usrsa yes, continuous no
            runs_today.push((
                0.9 + rng.random_range(0.0..0.1),
                (7, rng.random_range(0..50)),
            ));
            runs_today.push((
                0.8 + rng.random_range(0.0..0.1),
                (18, rng.random_range(0..50)),
            ));
        } else if !in_streak && roll < 0.03 {
            // a run shorter than a mile: counts for `any`, not for `usrsa`
            runs_today.push((rng.random_range(0.8..1.55), (7, rng.random_range(0..59))));
        } else {
            let km = if weekend && rng.random_bool(0.55) {
                rng.random_range(14.0..30.0)
            } else {
                rng.random_range(3.2..12.5)
            };
            let slot: f64 = rng.random();
            let time = if slot < 0.04 {
                (23, rng.random_range(30..59)) // just before local midnight
            } else if slot < 0.07 {
                (0, rng.random_range(1..30)) // just after local midnight
            } else if slot < 0.65 {
                (rng.random_range(5..9), rng.random_range(0..59))
            } else if slot < 0.72 {
                (12, rng.random_range(0..45))
            } else {
                (rng.random_range(17..21), rng.random_range(0..59))
            };
            runs_today.push((km, time));
            if rng.random_bool(0.05) && time.0 < 17 {
                runs_today.push((rng.random_range(2.0..5.0), (19, rng.random_range(0..59))));
            }
        }
        for (km, (hour, minute)) in runs_today {
            let second = rng.random_range(0..60);
            let wall = date.at(hour, minute, second, 0);
            let Ok(start) = wall.to_zoned_datetime(zone.clone()) else {
                continue;
            };
            let treadmill = rng.random_bool(if winter { 0.15 } else { 0.04 });
            let manual = !treadmill && rng.random_bool(0.03);
            let race = !treadmill && !manual && rng.random_bool(0.015);
            let (km, pace) = if race {
                let d = [5.0, 10.0, 21.0975, 42.195][rng.random_range(0..4)];
                (
                    d + rng.random_range(0.0..0.15),
                    rng.random_range(235.0..300.0),
                )
            } else {
                (km, rng.random_range(285.0..400.0))
            };
            let finish = start.timestamp() + SignedDuration::from_secs_f64(km * pace);
            // late uploads happen to older runs: one not yet uploaded near today would break the
            // demo runner's current streak
            let recent = config
                .end
                .since(date)
                .map(|s| s.get_days() < 25)
                .unwrap_or(true);
            let late = rng.random_bool(0.03) && !recent;
            let created = finish
                + SignedDuration::from_secs(rng.random_range(60..1800))
                + if late {
                    SignedDuration::from_hours(rng.random_range(24..24 * 20))
                } else {
                    SignedDuration::ZERO
                };
            let updated = if rng.random_bool(0.05) {
                created + SignedDuration::from_mins(rng.random_range(5..60 * 24 * 30))
            } else {
                created
            };
            if config.not_after.is_some_and(|limit| created > limit) {
                continue;
            }
            let updated = if config.not_after.is_some_and(|limit| updated > limit) {
                created
            } else {
                updated
            };
            drafts.push(Draft {
                start,
                place,
                km,
                pace,
                treadmill,
                manual,
                race,
                created,
                updated,
                duration: None,
            });
        }
    }

    // SmashRun numbers activities as they are created, so late uploads get later ids.
    let mut order: Vec<usize> = (0..drafts.len()).collect();
    order.sort_by_key(|&i| (drafts[i].created, i));
    let mut ids = vec![0i64; drafts.len()];
    let mut next_id = config.first_id;
    for i in order {
        next_id += rng.random_range(1..40);
        ids[i] = next_id;
    }
    drafts.into_iter().zip(ids).collect()
}

fn build(d: &Draft, id: i64, seed: u64, odd_share: f64, rng: &mut ChaCha8Rng) -> Generated {
    let gps = !d.treadmill && !d.manual;
    let has_hr = !d.manual && rng.random_bool(0.9);
    let month = d.start.month();
    let (weather, temp): (&str, f64) = if d.treadmill {
        ("indoor", 20.0)
    } else {
        let base = match month {
            12 | 1 | 2 => -2.0,
            3 | 4 | 11 => 9.0,
            5 | 9 | 10 => 17.0,
            _ => 25.0,
        };
        let kinds: &[&str] = if base < 0.0 {
            &[
                "clear",
                "cloudy",
                "snow",
                "partlycloudy",
                "extremecold",
                "blizzard",
            ]
        } else {
            &[
                "clear",
                "partlycloudy",
                "cloudy",
                "drizzle",
                "rain",
                "extremewind",
                "storm",
            ]
        };
        (
            kinds[rng.random_range(0..kinds.len())],
            base + rng.random_range(-6.0..6.0),
        )
    };
    let duration = match d.duration {
        Some(known) => known,
        None => draw_duration(d, rng),
    };
    let km = round_to(d.km, 5);
    let mut s = Map::new();
    s.insert("activityId".into(), json!(id));
    s.insert("activityType".into(), json!("running"));
    s.insert("duration".into(), json!(duration));
    s.insert("distance".into(), json!(km));
    s.insert(
        "calories".into(),
        if d.manual && rng.random_bool(0.5) {
            Value::Null
        } else {
            json!((km * 63.0).round() as i64)
        },
    );
    let notes = if rng.random_bool(0.06) {
        [
            "Easy with Sam & Alex",
            "Tempo 3x2k <felt strong>",
            "Rainy, \"fun\" anyway",
            "Hill repeats",
            "Recovery jog",
        ][rng.random_range(0..5)]
    } else {
        ""
    };
    s.insert("notes".into(), json!(notes));
    s.insert(
        "startDateTimeLocal".into(),
        json!(local_with_offset(&d.start)),
    );
    let source = if d.manual {
        "manual"
    } else {
        ["garmin", "garminhealth", "garminpush", "mapmyrun"][rng.random_range(0..4)]
    };
    s.insert("externalId".into(), json!(external_id(d, id)));
    s.insert("source".into(), json!(source));
    s.insert(
        "appVersion".into(),
        json!(if d.manual { "" } else { "24.1" }),
    );
    s.insert(
        "deviceType".into(),
        json!(if d.manual {
            ""
        } else {
            ["forerunner265", "fenix7", "forerunner955"][rng.random_range(0..3)]
        }),
    );
    s.insert("hasDetails".into(), json!(i32::from(!d.manual)));
    s.insert("hasDetailsGPS".into(), json!(i32::from(gps)));
    if gps {
        s.insert(
            "startLatitude".into(),
            json!(round_to(d.place.lat + rng.random_range(-0.02..0.02), 6)),
        );
        s.insert(
            "startLongitude".into(),
            json!(round_to(d.place.lon + rng.random_range(-0.02..0.02), 6)),
        );
    }
    if has_hr {
        let avg = rng.random_range(128..166);
        s.insert("heartRateMin".into(), json!(avg - rng.random_range(25..50)));
        s.insert("heartRateMax".into(), json!(avg + rng.random_range(8..30)));
        s.insert("heartRateAverage".into(), json!(avg));
        let cad = rng.random_range(164.0..186.0);
        s.insert(
            "cadenceMin".into(),
            json!(round_to(cad - rng.random_range(10.0..40.0), 1)),
        );
        s.insert(
            "cadenceMax".into(),
            json!(round_to(cad + rng.random_range(5.0..20.0), 1)),
        );
        s.insert("cadenceAverage".into(), json!(round_to(cad, 1)));
    }
    if !d.manual {
        s.insert("weatherType".into(), json!(weather));
        s.insert("temperature".into(), json!(round_to(temp, 1)));
        if !d.treadmill {
            s.insert(
                "temperatureApparent".into(),
                json!(round_to(temp - rng.random_range(0.0..4.0), 1)),
            );
            s.insert(
                "temperatureWindChill".into(),
                json!(round_to(temp - rng.random_range(0.0..6.0), 1)),
            );
            s.insert("humidity".into(), json!(rng.random_range(30..96)));
            s.insert(
                "windSpeed".into(),
                json!(round_to(rng.random_range(0.0..35.0), 1)),
            );
        }
    }
    let felt = [
        "great",
        "soso",
        "tired",
        "unstoppable",
        "Unstoppable",
        "none",
        "injured",
    ];
    s.insert(
        "howFelt".into(),
        json!(felt[rng.random_range(0..felt.len())]),
    );
    let terrain = if d.treadmill {
        "treadmill"
    } else {
        [
            "road", "road", "road", "trail", "track", "none", "beach", "snowpack",
        ][rng.random_range(0..8)]
    };
    s.insert("terrain".into(), json!(terrain));
    s.insert("isRace".into(), json!(i32::from(d.race)));
    s.insert("isTreadmill".into(), json!(i32::from(d.treadmill)));
    s.insert(
        "isBadHR".into(),
        json!(i32::from(has_hr && rng.random_bool(0.02))),
    );
    s.insert(
        "isBadElevation".into(),
        json!(i32::from(gps && rng.random_bool(0.02))),
    );
    s.insert(
        "syncDateTimeUTC".into(),
        if d.manual {
            Value::Null
        } else {
            json!(utc_naive(d.created - SignedDuration::from_secs(20), false))
        },
    );
    s.insert("dateCreatedUTC".into(), json!(utc_naive(d.created, true)));
    s.insert("dateUpdatedUTC".into(), json!(utc_naive(d.updated, true)));

    let mut x = Map::new();
    x.insert(
        "speedVariability".into(),
        json!(round_to(rng.random_range(0.4..3.0), 2)),
    );
    let date = d.start.date();
    x.insert(
        "sunriseLocal".into(),
        json!(format!(
            "{date}T0{}:{:02}:00",
            rng.random_range(5..8),
            rng.random_range(0..60)
        )),
    );
    x.insert(
        "sunsetLocal".into(),
        json!(format!(
            "{date}T{}:{:02}:00",
            rng.random_range(16..21),
            rng.random_range(0..60)
        )),
    );
    let moons = [
        "new",
        "waxingcrescent",
        "firstquarter",
        "waxinggibbous",
        "full",
        "waninggibbous",
        "lastquarter",
        "waningcrescent",
    ];
    x.insert(
        "moonPhase".into(),
        json!(moons[rng.random_range(0..moons.len())]),
    );
    if gps {
        let gain = round_to(rng.random_range(5.0..250.0), 1);
        x.insert("elevationGain".into(), json!(gain));
        x.insert("elevationLoss".into(), json!(gain));
        x.insert("elevationAscent".into(), json!(round_to(gain * 1.1, 1)));
        x.insert("elevationDescent".into(), json!(round_to(gain * 1.1, 1)));
        x.insert(
            "elevationMin".into(),
            json!(round_to(rng.random_range(2.0..1600.0), 1)),
        );
        x.insert("elevationNet".into(), json!(0.0));
        x.insert("country".into(), json!(d.place.country));
        x.insert("countryCode".into(), json!(d.place.code));
        x.insert("state".into(), json!(d.place.state));
        x.insert("city".into(), json!(d.place.city));
    }
    x.insert("isCooperTest".into(), json!(0));

    let mut generated = Generated {
        summary: s,
        extended: x,
    };
    if odd_share > 0.0 && unit_hash(seed, id) < odd_share {
        make_odd(&mut generated.summary, id);
    }
    generated
}

/// Turns a valid summary into an odd but valid one, the way real histories are odd.
fn make_odd(s: &mut Map<String, Value>, id: i64) {
    match id % 4 {
        0 => {
            s.insert("weatherType".into(), json!("volcanicash"));
            s.insert("howFelt".into(), json!("meh"));
        }
        1 => {
            s.insert("duration".into(), json!(0));
        }
        2 => {
            for key in [
                "heartRateMin",
                "heartRateMax",
                "heartRateAverage",
                "cadenceMin",
                "cadenceMax",
                "cadenceAverage",
                "temperature",
                "humidity",
                "windSpeed",
                "startLatitude",
                "startLongitude",
                "appVersion",
                "deviceType",
            ] {
                s.shift_remove(key);
            }
        }
        _ => {
            s.insert("calories".into(), Value::Null);
            s.insert("terrain".into(), json!("sand dunes"));
        }
    }
}

/// A stable number in [0, 1) for (seed, id).
pub(crate) fn unit_hash(seed: u64, id: i64) -> f64 {
    let mut x = seed ^ (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 30;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

fn round_to(v: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (v * f).round() / f
}

/// `2022-11-09T09:12:00-05:00`: the wall time where it happened and that place's offset.
pub fn local_with_offset(z: &jiff::ZonedDateTime) -> String {
    let secs = z.offset().seconds();
    let sign = if secs < 0 { '-' } else { '+' };
    let abs = secs.unsigned_abs();
    format!(
        "{}{sign}{:02}:{:02}",
        z.datetime().strftime("%Y-%m-%dT%H:%M:%S"),
        abs / 3600,
        (abs / 60) % 60
    )
}

/// SmashRun's zone-less UTC: `2022-11-09T15:01:40.307`, with 0 to 3 fractional digits.
pub fn utc_naive(t: Timestamp, fraction: bool) -> String {
    let dt: DateTime = t.to_zoned_datetime(TimeZone::UTC).datetime();
    let base = dt.strftime("%Y-%m-%dT%H:%M:%S").to_string();
    let ms = t.subsec_millisecond();
    if !fraction || ms == 0 {
        return base;
    }
    let digits = format!("{ms:03}");
    format!("{base}.{}", digits.trim_end_matches('0'))
}

/// Parses SmashRun's zone-less UTC strings (and RFC 3339 ones, leniently).
pub fn parse_utc_naive(text: &str) -> Option<Timestamp> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Some(t);
    }
    text.parse::<DateTime>()
        .ok()?
        .to_zoned_datetime(TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp())
}
