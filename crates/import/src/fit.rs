//! FIT, read with `fitparser`. The summary (session) is preferred to the records, and the
//! activity message's `local_timestamp` gives the offset of the runner's clock.

use std::panic::{AssertUnwindSafe, catch_unwind};

use fitparser::de::{FitObject, FitStreamProcessor};
use fitparser::profile::MesgNum;
use fitparser::{FitDataRecord, Value};
use jiff::Timestamp;
use jiff::tz::Offset;

use crate::{DistanceFrom, ImportError, Parsed, geo};

const FORMAT: &str = "fit";

/// FIT times count seconds from 1989-12-31T00:00:00 (UTC, or local for `local_timestamp`).
const FIT_EPOCH_S: i64 = 631_065_600;

/// The activity message's global number, and its `local_timestamp` field.
const ACTIVITY: u16 = 34;
const LOCAL_TIMESTAMP: u8 = 5;

/// Degrees per semicircle (FIT positions are 2^31 semicircles per 180°).
const DEGREES_PER_SEMICIRCLE: f64 = 180.0 / 2_147_483_648.0;

fn malformed(detail: impl std::fmt::Display) -> ImportError {
    ImportError::Malformed {
        format: FORMAT,
        detail: detail.to_string(),
    }
}

fn field<'r>(record: &'r FitDataRecord, name: &str) -> Option<&'r Value> {
    record
        .fields()
        .iter()
        .find(|f| f.name() == name)
        .map(|f| f.value())
}

fn float(record: &FitDataRecord, name: &str) -> Option<f64> {
    field(record, name)
        .and_then(|v| TryInto::<f64>::try_into(v.clone()).ok())
        .filter(|v| v.is_finite())
}

/// A UTC time field as an instant (fitparser's conversion of a UTC field keeps the instant).
fn instant(record: &FitDataRecord, name: &str) -> Option<Timestamp> {
    match field(record, name)? {
        Value::Timestamp(t) => Timestamp::from_second(t.timestamp()).ok(),
        _ => None,
    }
}

fn text(record: &FitDataRecord, name: &str) -> Option<String> {
    match field(record, name)? {
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// The decoded messages, and the raw `local_timestamp` of the activity message (fitparser turns a
/// local time into an instant in the machine's own zone, so it is read before decoding).
fn decode(mut bytes: &[u8]) -> Result<(Vec<FitDataRecord>, Option<i64>), ImportError> {
    let mut processor = FitStreamProcessor::new();
    let mut records = Vec::new();
    let mut local = None;
    while !bytes.is_empty() {
        let (rest, object) = processor.deserialize_next(bytes).map_err(malformed)?;
        match object {
            FitObject::Crc(..) => processor.reset(),
            FitObject::Header(..) | FitObject::DefinitionMessage(..) => {}
            FitObject::DataMessage(message) => {
                if message.global_message_number() == ACTIVITY {
                    local = local.or_else(|| {
                        let raw = message.fields().get(&LOCAL_TIMESTAMP)?;
                        TryInto::<i64>::try_into(raw.clone()).ok()
                    });
                }
                records.push(processor.decode_message(message).map_err(malformed)?);
            }
        }
        bytes = rest;
    }
    Ok((records, local))
}

/// The offset of the runner's clock: local time minus UTC at one moment, to the quarter hour
/// (clocks are a second or two apart); none beyond ±14 hours, which no zone has.
fn offset(local_fit_s: i64, utc: Timestamp) -> Option<Offset> {
    let difference = FIT_EPOCH_S + local_fit_s - utc.as_second();
    let quarters = (difference as f64 / 900.0).round() as i64;
    let seconds = i32::try_from(quarters * 900).ok()?;
    (seconds.abs() <= 14 * 3600)
        .then(|| Offset::from_seconds(seconds).ok())
        .flatten()
}

pub(crate) fn read(bytes: &[u8]) -> Result<Parsed, ImportError> {
    let (records, local) = catch_unwind(AssertUnwindSafe(|| decode(bytes)))
        .map_err(|_| malformed("the FIT decoder gave up on this file"))??;
    let of = |kind: MesgNum| records.iter().filter(move |r| r.kind() == kind);
    let sessions: Vec<&FitDataRecord> = of(MesgNum::Session).collect();
    let points: Vec<&FitDataRecord> = of(MesgNum::Record).collect();

    let start = sessions
        .iter()
        .filter_map(|s| instant(s, "start_time"))
        .min()
        .or_else(|| points.iter().find_map(|r| instant(r, "timestamp")));

    let sum = |name: &str| -> Option<f64> {
        let values: Vec<f64> = sessions.iter().filter_map(|s| float(s, name)).collect();
        (!values.is_empty()).then(|| values.iter().sum())
    };
    let cumulative = points
        .iter()
        .filter_map(|r| float(r, "distance"))
        .fold(None, |max: Option<f64>, d| {
            Some(max.map_or(d, |m| m.max(d)))
        });
    let positions = points.iter().filter_map(|r| {
        Some((
            float(r, "position_lat")? * DEGREES_PER_SEMICIRCLE,
            float(r, "position_long")? * DEGREES_PER_SEMICIRCLE,
        ))
    });
    let distance = match sum("total_distance").filter(|m| *m > 0.0) {
        Some(m) => Some((m, DistanceFrom::Summary)),
        None => match cumulative.filter(|m| *m > 0.0) {
            Some(m) => Some((m, DistanceFrom::Summary)),
            None => geo::track_m(positions).map(|m| (m, DistanceFrom::TrackPoints)),
        },
    };

    let activity_utc = of(MesgNum::Activity).find_map(|a| instant(a, "timestamp"));
    let local_offset = match (local, activity_utc) {
        (Some(local), Some(utc)) => offset(local, utc),
        _ => None,
    };
    let sport = sessions
        .iter()
        .find_map(|s| text(s, "sport"))
        .or_else(|| of(MesgNum::Sport).find_map(|s| text(s, "sport")));
    Ok(Parsed {
        start,
        local_offset,
        distance,
        moving_s: sum("total_timer_time"),
        elapsed_s: sum("total_elapsed_time"),
        sport,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_offset_is_rounded_to_the_quarter_hour() {
        let utc: Timestamp = "2017-06-11T14:35:24Z".parse().unwrap();
        let local = utc.as_second() - FIT_EPOCH_S - 7 * 3600 + 2;
        assert_eq!(offset(local, utc), Offset::from_seconds(-7 * 3600).ok());
        let india = utc.as_second() - FIT_EPOCH_S + 5 * 3600 + 1800;
        assert_eq!(
            offset(india, utc),
            Offset::from_seconds(5 * 3600 + 1800).ok()
        );
        assert_eq!(offset(utc.as_second() - FIT_EPOCH_S + 20 * 3600, utc), None);
    }
}
