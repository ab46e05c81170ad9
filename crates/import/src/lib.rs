//! Activity files (GPX, TCX, FIT) read into an [`ImportedRun`] for the runner's ledger.
//!
//! This crate only parses: it turns a file's bytes into a start instant (and the local wall time
//! with its offset when the file carries one), a distance, durations, the sport the file names and
//! a content hash. Which day the run lands on, and whether it duplicates a mirrored run, is the
//! application's business (it knows the runner's zone and the mirror). It is not a general reader
//! of these formats: laps, heart rate, routes without times and courses are left aside.
//!
//! The format is told from the bytes, not the file name: a FIT file has `.FIT` in its header, a
//! GPX file a `<gpx` root, a TCX file a `<TrainingCenterDatabase` root.
//!
//! - **GPX** (the georust `gpx` crate): the start is the first track point's time (else the
//!   metadata's time); the distance is summed over the track points (haversine), since GPX has no
//!   summary; the elapsed time runs from the first timed point to the last; the sport is the first
//!   track's `<type>`. GPX times are read as UTC instants (the crate keeps no offset).
//! - **TCX** (`roxmltree`): the start is the first lap's `StartTime` (else the activity's `Id`,
//!   else the first track point's time); the distance is the sum of the laps' `DistanceMeters`,
//!   else the last track point's cumulative `DistanceMeters`, else summed over positions; the
//!   moving time is the sum of the laps' `TotalTimeSeconds`; the sport is the activity's `Sport`.
//!   A time written with a non-zero offset keeps its wall time and offset.
//! - **FIT** (`fitparser`): the start is the first session's `start_time` (else the first
//!   record's timestamp); the distance is the sum of the sessions' `total_distance`, else the last
//!   record's cumulative `distance`, else summed over positions; moving time is the sessions'
//!   `total_timer_time`, elapsed `total_elapsed_time`; the sport is the session's (or the sport
//!   message's) `sport`. When the activity message has both `timestamp` and `local_timestamp`,
//!   their difference is the offset of the runner's clock, and the start keeps that wall time.
//!
//! A file with no start time or no distance is refused ([`ImportError::NoStart`],
//! [`ImportError::NoDistance`]); a file that does not parse is [`ImportError::Malformed`].
//! Nothing in a file makes this crate panic: the FIT decoder is run under `catch_unwind`.

#![warn(missing_docs)]

use jiff::tz::Offset;
use jiff::{Timestamp, civil::DateTime};
use myrunstreak_domain::{Distance, FileFormat, ImportedFile};
use sha2::{Digest, Sha256};

mod fit;
mod geo;
mod gpx_file;
mod tcx;

/// What went wrong reading one file.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ImportError {
    /// The bytes are none of the formats read here.
    #[error(
        "not a GPX, TCX or FIT file (no FIT header, no <gpx> or <TrainingCenterDatabase> root)"
    )]
    UnknownFormat,
    /// The file is of a known format but does not parse.
    #[error("a damaged {format} file: {detail}")]
    Malformed {
        /// The format it claims to be.
        format: &'static str,
        /// What the parser said.
        detail: String,
    },
    /// No start time anywhere in the file.
    #[error(
        "the {format} file has no start time (no timed point, lap or session), so it has no day"
    )]
    NoStart {
        /// The format.
        format: &'static str,
    },
    /// No distance anywhere in the file, or zero.
    #[error(
        "the {format} file has no distance (no summary and fewer than two positions), so it is no run"
    )]
    NoDistance {
        /// The format.
        format: &'static str,
    },
}

/// Where the distance came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DistanceFrom {
    /// The file's own summary (TCX laps, FIT sessions) or the device's cumulative distance.
    Summary,
    /// Summed over the track's positions (haversine).
    TrackPoints,
}

/// One run read from a file.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedRun {
    /// The format.
    pub format: FileFormat,
    /// The start instant.
    pub start: Timestamp,
    /// The offset of the runner's clock at the start, when the file carries it (FIT's
    /// `local_timestamp`, an XML time with a non-zero offset); `None` when it has only UTC times.
    pub local_offset: Option<Offset>,
    /// How far.
    pub distance: Distance,
    /// Where the distance came from.
    pub distance_from: DistanceFrom,
    /// Moving (timer) time in seconds, when the file gives it.
    pub moving_s: Option<f64>,
    /// Elapsed time in seconds, from the file's summary or from its first and last timed points.
    pub elapsed_s: Option<f64>,
    /// The sport the file names, lowercase (`running`, `cycling`, `biking`, ...); `None` when it
    /// names none or a generic one (`generic`, `other`).
    pub sport: Option<String>,
    /// SHA-256 of the bytes, lowercase hex.
    pub sha256: String,
}

impl ImportedRun {
    /// The local wall time of the start with its offset, when the file carries the offset.
    pub fn local_start(&self) -> Option<(DateTime, Offset)> {
        self.local_offset
            .map(|offset| (offset.to_datetime(self.start), offset))
    }

    /// The duration a ledger entry keeps: moving time, else elapsed time.
    pub fn duration_s(&self) -> Option<f64> {
        self.moving_s.or(self.elapsed_s)
    }

    /// The file as the ledger records it, named `name`.
    pub fn file(&self, name: &str) -> ImportedFile {
        ImportedFile {
            format: self.format,
            name: name.to_owned(),
            sha256: self.sha256.clone(),
            sport: self.sport.clone(),
        }
    }
}

/// Which format the bytes are, if any.
pub fn detect(bytes: &[u8]) -> Option<FileFormat> {
    if bytes.len() >= 12 && &bytes[8..12] == b".FIT" {
        return Some(FileFormat::Fit);
    }
    // the root element is near the top, after the XML declaration and perhaps comments
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
    if head.contains("<TrainingCenterDatabase") {
        Some(FileFormat::Tcx)
    } else if head.contains("<gpx") {
        Some(FileFormat::Gpx)
    } else {
        None
    }
}

/// Reads one run from a file's bytes.
pub fn read(bytes: &[u8]) -> Result<ImportedRun, ImportError> {
    let format = detect(bytes).ok_or(ImportError::UnknownFormat)?;
    let parsed = match format {
        FileFormat::Gpx => gpx_file::read(bytes)?,
        FileFormat::Tcx => tcx::read(bytes)?,
        FileFormat::Fit => fit::read(bytes)?,
    };
    let name = format.as_str();
    let start = parsed.start.ok_or(ImportError::NoStart { format: name })?;
    let (distance, distance_from) = parsed
        .distance
        .filter(|(m, _)| m.is_finite() && *m > 0.0)
        .ok_or(ImportError::NoDistance { format: name })?;
    let distance = Distance::from_km(distance / 1000.0)
        .map_err(|_| ImportError::NoDistance { format: name })?;
    if distance <= Distance::ZERO {
        return Err(ImportError::NoDistance { format: name });
    }
    let seconds = |s: Option<f64>| s.filter(|s| s.is_finite() && *s >= 0.0);
    Ok(ImportedRun {
        format,
        start,
        local_offset: parsed.local_offset.filter(|o| *o != Offset::UTC),
        distance,
        distance_from,
        moving_s: seconds(parsed.moving_s),
        elapsed_s: seconds(parsed.elapsed_s),
        sport: parsed.sport.and_then(|s| sport(&s)),
        sha256: hex(&Sha256::digest(bytes)),
    })
}

/// What a format's reader found, before the checks every format shares.
#[derive(Debug, Default)]
struct Parsed {
    start: Option<Timestamp>,
    local_offset: Option<Offset>,
    /// Metres, and where they came from.
    distance: Option<(f64, DistanceFrom)>,
    moving_s: Option<f64>,
    elapsed_s: Option<f64>,
    sport: Option<String>,
}

/// A sport as a file names it, lowercase; generic names say nothing.
fn sport(name: &str) -> Option<String> {
    let name = name.trim().to_ascii_lowercase();
    match name.as_str() {
        "" | "generic" | "other" | "all" => None,
        _ => Some(name),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An XML time (`xsd:dateTime`): the instant, and the offset when one other than UTC is written.
/// A time with no offset at all is read as UTC, as GPX and TCX say their times are.
fn xml_time(text: &str) -> Option<(Timestamp, Option<Offset>)> {
    let text = text.trim();
    if let Ok(zoned) = text.parse::<Timestamp>() {
        // an offset is there: is it other than zero?
        let pieces = jiff::fmt::temporal::Pieces::parse(text).ok()?;
        let offset = match pieces.offset() {
            Some(jiff::fmt::temporal::PiecesOffset::Numeric(n)) => Some(n.offset()),
            _ => None,
        };
        return Some((zoned, offset.filter(|o| *o != Offset::UTC)));
    }
    let wall: DateTime = text.parse().ok()?;
    Some((Offset::UTC.to_timestamp(wall).ok()?, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_times_keep_an_offset_other_than_utc() {
        let (t, o) = xml_time("2026-03-09T21:10:00-05:00").unwrap();
        assert_eq!(t.to_string(), "2026-03-10T02:10:00Z");
        assert_eq!(o, Some(Offset::from_seconds(-5 * 3600).unwrap()));
        let (t, o) = xml_time("2012-12-26T21:29:53Z").unwrap();
        assert_eq!(
            (t.to_string(), o),
            ("2012-12-26T21:29:53Z".to_owned(), None)
        );
        let (t, o) = xml_time("2012-12-26T21:29:53.5").unwrap();
        assert_eq!(
            (t.to_string(), o),
            ("2012-12-26T21:29:53.5Z".to_owned(), None)
        );
        assert_eq!(xml_time("yesterday"), None);
    }

    #[test]
    fn generic_sports_say_nothing() {
        assert_eq!(sport(" Running "), Some("running".into()));
        assert_eq!(sport("Other"), None);
        assert_eq!(sport("generic"), None);
    }
}
