//! Published status: the three files a runner can put on any static host (or, later, S3) for
//! others and for their own phone: `status.json`, `badge.svg` and the iCalendar feed
//! `streak.ics`.
//!
//! They are rendered from the same streak answer as `/api/v1/streak` ([`StreakAnswer`]), so
//! `status.json` *is* that answer and `badge.svg` *is* `/badge.svg`. Nothing private goes in: the
//! answer holds counts, dates, the rule, the zone and today's verdict, never a note, a coordinate,
//! an activity or account id or a token. The one free text that could carry something else, the
//! error of a sync just run (which may quote SmashRun's answer), is replaced by a fixed sentence
//! before anything is rendered.
//!
//! Every event of the feed has a UID derived from what it is (a milestone of the streak that began
//! on a date, or "today at risk" on a date), never from the clock, so a calendar subscribed to the
//! feed updates its events instead of piling up copies as the feed is re-published.
//!
//! Each file carries its content type and cache header as data ([`PublishedFile`]), for an
//! object-store publisher; [`Publication::write_to`] writes them to a directory atomically.

use std::io::Write;
use std::path::{Path, PathBuf};

use jiff::civil::Date;
use jiff::{Span, Timestamp};
use myrunstreak_domain::{DomainError, Run, Units};
use serde::Serialize;
use thiserror::Error;

use crate::badge;
use crate::queries::{StreakQuery, streak};
use crate::verdict::{Freshness, StreakAnswer, Verdict, answer, need_text, thousands};

/// The name of the status file.
pub const STATUS_JSON: &str = "status.json";
/// The name of the badge.
pub const BADGE_SVG: &str = "badge.svg";
/// The name of the calendar feed.
pub const STREAK_ICS: &str = "streak.ics";

/// Short enough that a stale "at risk" does not linger; the server's `/badge.svg` says the same.
pub const CACHE_CONTROL: &str = "public, max-age=300";

/// What stands in the published verdict for the error of a failed sync, which stays private.
pub const PUBLIC_SYNC_ERROR: &str = "the reason is in the runner's own log";

/// What publishing can fail with.
#[derive(Debug, Error)]
pub enum PublishError {
    /// The streak could not be judged (a bad zone or date).
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// The status could not be serialized.
    #[error("serializing {STATUS_JSON}: {0}")]
    Json(#[from] serde_json::Error),
    /// A file could not be written.
    #[error("writing {path}: {source}")]
    Write {
        /// The file (or directory) that could not be written.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// One published file: its name, how to serve it, and its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PublishedFile {
    /// The file name (also the object key's last part).
    pub name: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its `Cache-Control`.
    pub cache_control: &'static str,
    /// The contents.
    #[serde(skip)]
    pub body: Vec<u8>,
}

/// The three files, and the answer they were rendered from.
#[derive(Clone, Debug, PartialEq)]
pub struct Publication {
    /// The (public) streak answer: what `status.json` holds.
    pub answer: StreakAnswer,
    /// `status.json`, `badge.svg`, `streak.ics`, in that order.
    pub files: Vec<PublishedFile>,
}

/// Publishes the streak of `runs` under `query` at `now`, judged with `fresh` (the last sync, and
/// the error of a sync just run, which is not published).
pub fn publish(
    runs: &[Run],
    query: &StreakQuery,
    fresh: &Freshness<'_>,
    now: Timestamp,
    units: Units,
) -> Result<Publication, PublishError> {
    let public = Freshness {
        sync_error: fresh
            .sync_error
            .as_ref()
            .map(|_| PUBLIC_SYNC_ERROR.to_owned()),
        ..fresh.clone()
    };
    render(answer(streak(runs, query, now)?, &public, now), now, units)
}

/// Renders the three files from a streak answer (already public) at `now`.
pub fn render(
    answer: StreakAnswer,
    now: Timestamp,
    units: Units,
) -> Result<Publication, PublishError> {
    let mut status = serde_json::to_vec_pretty(&answer)?;
    status.push(b'\n');
    let files = vec![
        PublishedFile {
            name: STATUS_JSON,
            content_type: "application/json",
            cache_control: CACHE_CONTROL,
            body: status,
        },
        PublishedFile {
            name: BADGE_SVG,
            content_type: "image/svg+xml",
            cache_control: CACHE_CONTROL,
            body: badge::svg(&answer.streak).into_bytes(),
        },
        PublishedFile {
            name: STREAK_ICS,
            content_type: "text/calendar; charset=utf-8",
            cache_control: CACHE_CONTROL,
            body: calendar(&answer, now, units).into_bytes(),
        },
    ];
    Ok(Publication { answer, files })
}

impl Publication {
    /// Writes every file into `dir` (created if missing), each atomically: a temporary file in
    /// the same directory, flushed, then renamed over the old one, so a web server or a
    /// subscribed calendar never reads half a file. Returns the paths written.
    pub fn write_to(&self, dir: &Path) -> Result<Vec<PathBuf>, PublishError> {
        let failed = |path: &Path| {
            let path = path.to_owned();
            move |source| PublishError::Write { path, source }
        };
        std::fs::create_dir_all(dir).map_err(failed(dir))?;
        let mut written = Vec::with_capacity(self.files.len());
        for file in &self.files {
            let path = dir.join(file.name);
            let mut tmp = tempfile::Builder::new()
                .prefix(&format!(".{}.", file.name))
                .suffix(".tmp")
                .tempfile_in(dir)
                .map_err(failed(&path))?;
            tmp.write_all(&file.body).map_err(failed(&path))?;
            tmp.as_file().sync_all().map_err(failed(&path))?;
            // A temporary file is private (0600); a published one is for everyone to read.
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                tmp.as_file()
                    .set_permissions(std::fs::Permissions::from_mode(0o644))
                    .map_err(failed(&path))?;
            }
            tmp.persist(&path).map_err(|e| failed(&path)(e.error))?;
            written.push(path);
        }
        Ok(written)
    }
}

/// The iCalendar feed (RFC 5545): one all-day event per milestone the current streak has reached
/// and for the next one, and one for today while today is at risk.
pub fn calendar(answer: &StreakAnswer, now: Timestamp, units: Units) -> String {
    let mut ics = Ics::default();
    ics.line("BEGIN:VCALENDAR");
    ics.line("VERSION:2.0");
    ics.line("PRODID:-//MyRunStreak//Running streak//EN");
    ics.line("CALSCALE:GREGORIAN");
    ics.line("METHOD:PUBLISH");
    ics.line("X-WR-CALNAME:Running streak");
    ics.line("REFRESH-INTERVAL;VALUE=DURATION:PT1H");
    ics.line("X-PUBLISHED-TTL:PT1H");
    let stamp = now.strftime("%Y%m%dT%H%M%SZ").to_string();
    for event in events(answer, units) {
        ics.line("BEGIN:VEVENT");
        ics.line(&format!("UID:{}", event.uid));
        ics.line(&format!("DTSTAMP:{stamp}"));
        ics.line(&format!("DTSTART;VALUE=DATE:{}", ics_date(event.date)));
        if let Ok(next) = event.date.tomorrow() {
            ics.line(&format!("DTEND;VALUE=DATE:{}", ics_date(next)));
        }
        ics.line(&format!("SUMMARY:{}", escape_text(&event.summary)));
        ics.line(&format!("DESCRIPTION:{}", escape_text(&event.description)));
        ics.line("TRANSP:TRANSPARENT");
        ics.line("END:VEVENT");
    }
    ics.line("END:VCALENDAR");
    ics.0
}

/// One all-day event of the feed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Event {
    uid: String,
    date: Date,
    summary: String,
    description: String,
}

fn events(answer: &StreakAnswer, units: Units) -> Vec<Event> {
    let c = &answer.streak.current;
    let mut events = Vec::new();
    if let Some(start) = c.start.filter(|_| c.days > 0) {
        let day_of = |m: u32| start.checked_add(Span::new().days(i64::from(m) - 1)).ok();
        for &m in &c.milestones.reached {
            if let Some(date) = day_of(m) {
                events.push(Event {
                    uid: milestone_uid(start, m),
                    date,
                    summary: format!("{}-day running streak", thousands(m)),
                    description: format!(
                        "Day {} of the running streak that began on {start}.",
                        thousands(m)
                    ),
                });
            }
        }
        let next = c.milestones.next;
        if let Some(date) = day_of(next) {
            events.push(Event {
                uid: milestone_uid(start, next),
                date,
                summary: format!("Next milestone: {}-day running streak", thousands(next)),
                description: format!(
                    "In {} more day{}, if the streak that began on {start} goes on.",
                    thousands(c.milestones.days_to_next),
                    if c.milestones.days_to_next == 1 {
                        ""
                    } else {
                        "s"
                    }
                ),
            });
        }
    }
    if let Verdict::AtRisk { need, .. } = &answer.today {
        let today = answer.streak.as_of;
        events.push(Event {
            uid: format!("at-risk-{today}@myrunstreak"),
            date: today,
            summary: format!("Run today to keep your {}-day streak", thousands(c.days)),
            description: format!(
                "Today's run is still missing ({} so far); the streak ends at midnight ({}).",
                need_text(need, units),
                answer.streak.timezone
            ),
        });
    }
    events
}

/// The UID of milestone `m` of the streak that began on `start`: the same whether the milestone
/// is still ahead or reached, so the event updates in place.
fn milestone_uid(start: Date, m: u32) -> String {
    format!("streak-{start}-day-{m}@myrunstreak")
}

fn ics_date(d: Date) -> String {
    d.strftime("%Y%m%d").to_string()
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Content lines, CRLF-terminated and folded at 75 octets (RFC 5545 §3.1) without splitting a
/// UTF-8 character.
#[derive(Default)]
struct Ics(String);

impl Ics {
    fn line(&mut self, line: &str) {
        let mut room = 75;
        let mut used = 0;
        for c in line.chars() {
            if used + c.len_utf8() > room {
                self.0.push_str("\r\n ");
                room = 74;
                used = 0;
            }
            self.0.push(c);
            used += c.len_utf8();
        }
        self.0.push_str("\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queries::{CurrentStreakJson, StreakJson, StreakResponse};
    use jiff::civil::date;
    use myrunstreak_domain::{Milestones, Rule, StreakStatus};

    fn at_risk(days: u32) -> StreakAnswer {
        StreakAnswer {
            streak: StreakResponse {
                current: CurrentStreakJson {
                    days,
                    start: Some(date(2023, 1, 1)),
                    end: Some(date(2026, 5, 3)),
                    status: StreakStatus::AtRisk,
                    remaining_km: Some(1.609344),
                    remaining_mi: Some(1.0),
                    remaining_s: None,
                    needs_any_run: false,
                    time_left_s: 13_200,
                    today_km: 0.0,
                    milestones: Milestones::for_days(days),
                    override_days: Vec::new(),
                },
                longest: StreakJson {
                    days,
                    start: Some(date(2023, 1, 1)),
                    end: Some(date(2026, 5, 3)),
                    distance_km: 9000.0,
                    runs: days,
                    override_days: Vec::new(),
                },
                rule: Rule::Usrsa,
                as_of: date(2026, 5, 4),
                timezone: "America/New_York".into(),
                qualifying_days: days,
                streak_count: 1,
            },
            today: Verdict::AtRisk {
                need: crate::verdict::Need::Distance {
                    done_km: 0.0,
                    required_km: 1.609344,
                    remaining_km: 1.609344,
                },
                time_left_s: 13_200,
            },
            last_sync: None,
        }
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_a_character() {
        let mut ics = Ics::default();
        let long = format!("SUMMARY:{}", "é".repeat(100));
        ics.line(&long);
        let lines: Vec<&str> = ics.0.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert!(lines.len() > 1);
        assert!(lines.iter().all(|l| l.len() <= 75), "{lines:?}");
        assert!(lines[1..].iter().all(|l| l.starts_with(' ')));
        let unfolded: String = lines
            .iter()
            .enumerate()
            .map(|(i, l)| if i == 0 { *l } else { &l[1..] })
            .collect();
        assert_eq!(unfolded, long);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape_text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }

    #[test]
    fn milestones_fall_on_their_days_with_uids_that_ignore_the_clock() {
        let a = at_risk(1219);
        let early: Timestamp = "2026-05-04T22:00:00Z".parse().unwrap();
        let late: Timestamp = "2026-05-05T03:00:00Z".parse().unwrap();
        let e = events(&a, Units::Imperial);
        let thousand = e.iter().find(|e| e.uid.contains("-day-1000@")).unwrap();
        assert_eq!(thousand.date, date(2025, 9, 26));
        assert_eq!(thousand.summary, "1,000-day running streak");
        let next = e.iter().find(|e| e.uid.contains("-day-1460@")).unwrap();
        assert_eq!(next.date, date(2026, 12, 30));
        assert!(next.summary.starts_with("Next milestone"));
        assert!(e.iter().any(|e| e.uid == "at-risk-2026-05-04@myrunstreak"));
        let uids = |t| {
            calendar(&a, t, Units::Imperial)
                .lines()
                .filter(|l| l.starts_with("UID:"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(uids(early), uids(late));
        assert!(calendar(&a, early, Units::Imperial).contains("SUMMARY:1\\,000-day"));
    }

    #[test]
    fn a_failed_sync_is_published_without_its_error() {
        let now: Timestamp = "2026-05-05T00:20:00Z".parse().unwrap();
        let fresh = Freshness {
            last_success: None,
            stale_after: crate::DEFAULT_STALE_AFTER,
            sync_error: Some(
                "GET https://api.smashrun.com/v1/my/activities/10067674 token=abc".into(),
            ),
        };
        let query = StreakQuery {
            rule: Rule::Usrsa,
            timezone: Some(jiff::tz::TimeZone::UTC),
            exclude_treadmill: false,
            as_of: None,
            exclude_ledger: false,
        };
        let p = publish(&[], &query, &fresh, now, Units::Imperial).unwrap();
        let text: String = p
            .files
            .iter()
            .map(|f| String::from_utf8_lossy(&f.body).into_owned())
            .collect();
        assert!(text.contains("sync_failed"), "{text}");
        assert!(
            !text.contains("10067674") && !text.contains("abc") && !text.contains("smashrun.com")
        );
    }
}
