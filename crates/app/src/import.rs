//! `import FILE...`: runs from GPX, TCX and FIT files into the runner's ledger.
//!
//! Each file is read on its own (`myrunstreak-import`) and recorded as a ledger run; one bad file
//! is reported with what was wrong and never stops the others. The run's day:
//!
//! - a file that carries the runner's clock (FIT's `local_timestamp`, an XML time written with an
//!   offset) keeps that wall time and offset;
//! - a file with only UTC times is read in the zone given (`--tz`), else in the runner's zone as
//!   the streak sees it (the home zone setting, else the clock of the most recent mirrored run,
//!   else UTC).
//!
//! The same bytes imported again are recognised by their SHA-256 and make no second entry. A run
//! that duplicates a mirrored SmashRun run is recorded, said to be a duplicate, and not counted
//! on its own ([`crate::ledger::with_ledger`]); a run of another sport (a ride) is recorded and
//! does not count as a run. Pushing to SmashRun (`--push`) is not done here.

use std::path::Path;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::{Offset, TimeZone};
use myrunstreak_domain::{LedgerEntry, LedgerItem, LocalStart, duplicate_of};
use myrunstreak_store::StoreError;
use serde::Serialize;

use crate::ledger::{LedgerBook, LedgerError, change};
use crate::queries::{StreakQuery, runner_zone};

/// Files larger than this are refused unread: a day's run is well under it even as GPX.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// What became of one file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FileOutcome {
    /// The file as given.
    pub file: String,
    /// Imported, already there, or failed.
    #[serde(flatten)]
    pub result: FileResult,
}

/// What became of one file.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum FileResult {
    /// A new ledger entry.
    Imported(Box<Imported>),
    /// The same bytes are in the ledger already: no second entry.
    AlreadyImported {
        /// The entry they were imported as.
        entry: i64,
    },
    /// The file could not be read or recorded.
    Failed {
        /// What was wrong, and what to do.
        error: String,
    },
}

/// A run recorded from a file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Imported {
    /// The new entry.
    pub entry: LedgerEntry,
    /// The day it counts on under the runner's rules.
    pub day: Date,
    /// Its start: local wall time with its offset.
    pub start: LocalStart,
    /// Where the offset came from: `file` (the file's own clock), or the zone's name.
    pub zone: String,
    /// Whether it counts as a run (`false` for another sport, such as cycling).
    pub counts_as_run: bool,
    /// The SmashRun activity it duplicates: then it is not counted on its own.
    pub duplicate_of: Option<i64>,
}

/// `import --json`: every file's outcome, in the order given.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImportResponse {
    /// One per file.
    pub files: Vec<FileOutcome>,
    /// How many failed.
    pub failed: usize,
}

/// Where an import takes a UTC-only file's day from.
#[derive(Clone, Debug)]
pub struct ImportZone {
    zone: Option<TimeZone>,
}

impl ImportZone {
    /// `--tz NAME`; `None` for the runner's zone.
    pub fn new(name: Option<&str>) -> Result<Self, crate::queries::UnknownZone> {
        let zone = name
            .filter(|n| !n.is_empty())
            .map(|n| {
                TimeZone::get(n).map_err(|_| crate::queries::UnknownZone { name: n.to_owned() })
            })
            .transpose()?;
        Ok(ImportZone { zone })
    }
}

fn zone_name(zone: &TimeZone, offset: Offset) -> String {
    zone.iana_name()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("UTC{}", offset_text(offset)))
}

/// An offset as a runner reads it next to a wall time: `-05:00`, `+05:30`.
pub fn offset_text(offset: Offset) -> String {
    let s = offset.seconds();
    let sign = if s < 0 { '-' } else { '+' };
    let s = s.unsigned_abs();
    format!("{sign}{:02}:{:02}", s / 3600, s % 3600 / 60)
}

/// Imports the file at `path` (its name is what is recorded).
pub fn import_path(
    book: &mut impl LedgerBook,
    path: &Path,
    zone: &ImportZone,
    query: &StreakQuery,
    now: Timestamp,
) -> FileOutcome {
    let shown = path.display().to_string();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| shown.clone());
    let bytes = std::fs::metadata(path)
        .and_then(|m| {
            if m.len() > MAX_FILE_BYTES {
                Err(std::io::Error::other(format!(
                    "{} bytes, more than the {MAX_FILE_BYTES} an activity file has",
                    m.len()
                )))
            } else {
                std::fs::read(path)
            }
        })
        .map_err(|e| format!("cannot read it: {e}"));
    let result = match bytes {
        Ok(bytes) => import_bytes(book, &name, &bytes, zone, query, now),
        Err(error) => FileResult::Failed { error },
    };
    FileOutcome {
        file: shown,
        result,
    }
}

/// Imports the bytes of one file named `name`.
pub fn import_bytes(
    book: &mut impl LedgerBook,
    name: &str,
    bytes: &[u8],
    zone: &ImportZone,
    query: &StreakQuery,
    now: Timestamp,
) -> FileResult {
    match record(book, name, bytes, zone, query, now) {
        Ok(result) => result,
        Err(error) => FileResult::Failed { error },
    }
}

fn record(
    book: &mut impl LedgerBook,
    name: &str,
    bytes: &[u8],
    zone: &ImportZone,
    query: &StreakQuery,
    now: Timestamp,
) -> Result<FileResult, String> {
    let run = myrunstreak_import::read(bytes).map_err(|e| e.to_string())?;
    let store = |e: StoreError| format!("the ledger refused it: {e}");
    let (wall, offset, zone_label) = match run.local_start() {
        Some((wall, offset)) => (wall, offset, "file".to_owned()),
        None => {
            let tz = match &zone.zone {
                Some(tz) => tz.clone(),
                None => runner_zone(&book.runs().map_err(store)?, query, now),
            };
            let offset = tz.to_offset(run.start);
            (
                offset.to_datetime(run.start),
                offset,
                zone_name(&tz, offset),
            )
        }
    };
    let item = LedgerItem::imported(wall, offset, run.distance, run.duration_s(), run.file(name))
        .map_err(|e| e.to_string())?;
    let entry = match book.add(&item, now) {
        Ok(entry) => entry,
        Err(StoreError::AlreadyImported { entry, .. }) => {
            return Ok(FileResult::AlreadyImported { entry });
        }
        Err(e) => return Err(store(e)),
    };
    let duplicate = duplicate_of(&entry, &book.mirrored().map_err(store)?).map(|a| a.get());
    let counts_as_run = entry.item.file().is_none_or(|f| f.is_running());
    let changed = change(entry, query).map_err(|e: LedgerError| e.to_string())?;
    Ok(FileResult::Imported(Box::new(Imported {
        start: changed.entry.item.start(),
        day: changed.day,
        entry: changed.entry,
        zone: zone_label,
        counts_as_run,
        duplicate_of: duplicate,
    })))
}

/// Imports every file in `paths`, in order; one that fails does not stop the others.
pub fn import_paths(
    book: &mut impl LedgerBook,
    paths: &[impl AsRef<Path>],
    zone: &ImportZone,
    query: &StreakQuery,
    now: Timestamp,
) -> ImportResponse {
    let files: Vec<FileOutcome> = paths
        .iter()
        .map(|p| import_path(book, p.as_ref(), zone, query, now))
        .collect();
    ImportResponse {
        failed: files
            .iter()
            .filter(|f| matches!(f.result, FileResult::Failed { .. }))
            .count(),
        files,
    }
}
