//! Today's verdict: the one judgement of "is my streak safe today?" that the API, the CLI's
//! `streak --json`, the dashboard, `remind` and the published `status.json` all share.
//!
//! It is computed from the streak answer ([`crate::queries::streak`]), the last successful sync,
//! "now" and the staleness limit (`MYRUNSTREAK_STALE_AFTER`, [`crate::Settings::stale_after`]).
//! A qualifying day that is already mirrored is `done` whatever the sync says (a run does not
//! un-happen); anything short of that is `cant_verify` while the mirror cannot be trusted (its
//! last success is older than the limit, or the sync just run failed), because "no run yet"
//! might only mean "not synced yet".

use jiff::{SignedDuration, Timestamp};
use myrunstreak_domain::{Distance, Rule, StreakStatus, Units};
use serde::Serialize;

use crate::queries::StreakResponse;
use crate::views::SyncEntry;

/// The default of `MYRUNSTREAK_STALE_AFTER`: data whose last successful sync is older is stale.
pub const DEFAULT_STALE_AFTER: SignedDuration = SignedDuration::from_hours(36);

/// When the last successful sync finished (or started, if it never recorded an end).
pub fn last_sync_time(last_success: Option<&SyncEntry>) -> Option<Timestamp> {
    last_success.map(|s| s.finished.unwrap_or(s.started))
}

/// Whether data whose last successful sync is `last_success` is stale at `now` under `limit`.
pub fn is_stale(last_success: Option<&SyncEntry>, now: Timestamp, limit: SignedDuration) -> bool {
    last_sync_time(last_success).is_none_or(|t| now.duration_since(t) > limit)
}

/// What today still needs under the rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Need {
    /// A distance: `done_km` of `required_km` so far.
    Distance {
        /// Counted today toward the rule (for `continuous`, 0 until one run is long enough).
        done_km: f64,
        /// The daily minimum.
        required_km: f64,
        /// Still to run.
        remaining_km: f64,
    },
    /// Moving time, in seconds.
    MovingTime {
        /// Counted today.
        done_s: u32,
        /// The daily minimum.
        required_s: u32,
        /// Still to run.
        remaining_s: u32,
    },
    /// Any run at all (rule `any`).
    AnyRun,
}

/// Why a verdict cannot be given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CantVerifyReason {
    /// No sync has ever succeeded.
    NeverSynced,
    /// The last successful sync is older than the staleness limit.
    Stale,
    /// The sync run just before judging failed.
    SyncFailed,
}

/// Today, judged.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Verdict {
    /// Today already qualifies.
    Done,
    /// A live streak, and today does not qualify yet.
    AtRisk {
        /// What is still needed.
        need: Need,
        /// Seconds left until local midnight in the runner's zone.
        time_left_s: i64,
    },
    /// No live streak to lose.
    NoStreak,
    /// The mirror cannot be trusted enough to say.
    CantVerify {
        /// The reason, for a program.
        reason: CantVerifyReason,
        /// The reason, for the runner.
        detail: String,
    },
}

/// `streak`'s answer with today's verdict: what `/api/v1/streak` returns, what `streak --json`
/// prints, and what `status.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StreakAnswer {
    /// The streak (its fields sit at the top level, as before the verdict was added).
    #[serde(flatten)]
    pub streak: StreakResponse,
    /// Today, judged (named `today`: a day audit's `verdict` is another thing).
    pub today: Verdict,
    /// When the last successful sync finished.
    pub last_sync: Option<Timestamp>,
}

/// What is known of the mirror's freshness.
#[derive(Clone, Debug)]
pub struct Freshness<'a> {
    /// The last successful sync.
    pub last_success: Option<&'a SyncEntry>,
    /// The staleness limit.
    pub stale_after: SignedDuration,
    /// The error of a sync just attempted, if it failed.
    pub sync_error: Option<String>,
}

impl<'a> Freshness<'a> {
    /// Only the sync log (no sync attempted now).
    pub fn of(last_success: Option<&'a SyncEntry>, stale_after: SignedDuration) -> Self {
        Freshness {
            last_success,
            stale_after,
            sync_error: None,
        }
    }
}

fn need(streak: &StreakResponse) -> Need {
    let c = &streak.current;
    if c.needs_any_run {
        return Need::AnyRun;
    }
    if let Some(remaining_s) = c.remaining_s {
        let required_s = match streak.rule {
            Rule::MinMovingTime(s) => s,
            _ => remaining_s,
        };
        return Need::MovingTime {
            done_s: required_s.saturating_sub(remaining_s),
            required_s,
            remaining_s,
        };
    }
    let required_km = match streak.rule {
        Rule::MinDistance(d) => d.km(),
        _ => Distance::MILE.km(),
    };
    let remaining_km = c.remaining_km.unwrap_or(required_km);
    Need::Distance {
        done_km: (required_km - remaining_km).max(0.0),
        required_km,
        remaining_km,
    }
}

/// Judges today from the streak answer and what is known of the mirror's freshness at `now`.
pub fn verdict(streak: &StreakResponse, fresh: &Freshness<'_>, now: Timestamp) -> Verdict {
    if streak.current.status == StreakStatus::Done {
        return Verdict::Done;
    }
    if let Some(error) = &fresh.sync_error {
        return Verdict::CantVerify {
            reason: CantVerifyReason::SyncFailed,
            detail: format!("the sync just run failed: {error}"),
        };
    }
    match last_sync_time(fresh.last_success) {
        None => {
            return Verdict::CantVerify {
                reason: CantVerifyReason::NeverSynced,
                detail: "no sync has succeeded yet: run `myrunstreak sync`".into(),
            };
        }
        Some(t) if now.duration_since(t) > fresh.stale_after => {
            return Verdict::CantVerify {
                reason: CantVerifyReason::Stale,
                detail: format!(
                    "the last successful sync was {} ago, more than MYRUNSTREAK_STALE_AFTER={}",
                    hours_minutes(now.duration_since(t).as_secs()),
                    hours_minutes(fresh.stale_after.as_secs())
                ),
            };
        }
        Some(_) => {}
    }
    match streak.current.status {
        StreakStatus::AtRisk => Verdict::AtRisk {
            need: need(streak),
            time_left_s: streak.current.time_left_s.max(0),
        },
        StreakStatus::None | StreakStatus::Done => Verdict::NoStreak,
    }
}

/// The streak answer with its verdict.
pub fn answer(streak: StreakResponse, fresh: &Freshness<'_>, now: Timestamp) -> StreakAnswer {
    StreakAnswer {
        today: verdict(&streak, fresh, now),
        last_sync: last_sync_time(fresh.last_success),
        streak,
    }
}

/// `3 h 40 min`, `12 min`.
pub fn hours_minutes(seconds: i64) -> String {
    let s = seconds.max(0);
    if s >= 3600 {
        format!("{} h {} min", s / 3600, (s / 60) % 60)
    } else {
        format!("{} min", s / 60)
    }
}

/// `1,234`.
pub fn thousands(n: u32) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What today still needs, as a runner reads it: `0.0 of 1.0 mi`, `5 of 20 min`, `any run`.
pub fn need_text(need: &Need, units: Units) -> String {
    match need {
        Need::Distance {
            done_km,
            required_km,
            ..
        } => {
            let value = |km: f64| units.value(Distance::from_km(km).unwrap_or_default());
            format!(
                "{:.1} of {:.1} {}",
                value(*done_km),
                value(*required_km),
                units.label()
            )
        }
        Need::MovingTime {
            done_s, required_s, ..
        } => format!("{} of {} min", done_s / 60, required_s.div_ceil(60)),
        Need::AnyRun => "any run will do".into(),
    }
}

/// One line for the runner: "Streak 1,234 days: today not run yet, 0.0 of 1.0 mi, 3 h 40 min
/// left"; the same words for every channel.
pub fn message(answer: &StreakAnswer, units: Units) -> String {
    let days = answer.streak.current.days;
    let head = format!(
        "Streak {} day{}",
        thousands(days),
        if days == 1 { "" } else { "s" }
    );
    match &answer.today {
        Verdict::Done => format!("{head}: done for today"),
        Verdict::NoStreak => "No current streak: run today to start one".into(),
        Verdict::CantVerify { detail, .. } => format!("{head}: can't verify today ({detail})"),
        Verdict::AtRisk { need, time_left_s } => {
            let run_yet = if answer.streak.current.today_km > 0.0 {
                "today not enough yet"
            } else {
                "today not run yet"
            };
            format!(
                "{head}: {run_yet}, {}, {} left",
                need_text(need, units),
                hours_minutes(*time_left_s)
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queries::{CurrentStreakJson, StreakJson};
    use crate::views::{ChangeCounts, SyncState};
    use jiff::civil::date;
    use myrunstreak_domain::Milestones;

    fn response(status: StreakStatus, days: u32, remaining_km: Option<f64>) -> StreakResponse {
        StreakResponse {
            current: CurrentStreakJson {
                days,
                start: Some(date(2023, 1, 1)),
                end: Some(date(2026, 5, 3)),
                status,
                remaining_km,
                remaining_mi: None,
                remaining_s: None,
                needs_any_run: false,
                time_left_s: 13_200,
                today_km: 0.0,
                milestones: Milestones::for_days(days),
                override_days: Vec::new(),
            },
            longest: StreakJson {
                days,
                start: None,
                end: None,
                distance_km: 0.0,
                runs: 0,
                override_days: Vec::new(),
            },
            rule: Rule::Usrsa,
            as_of: date(2026, 5, 4),
            timezone: "America/New_York".into(),
            qualifying_days: days,
            streak_count: 1,
        }
    }

    fn synced(at: Timestamp) -> SyncEntry {
        SyncEntry {
            sync_id: 1,
            mode: "incremental".into(),
            started: at,
            finished: Some(at),
            status: SyncState::Ok,
            requests: 1,
            counts: ChangeCounts::default(),
            watermark: Some(at),
            error: None,
            pending_deletions: 0,
            listing_note: None,
        }
    }

    const NOW: &str = "2026-05-05T00:20:00Z";

    #[test]
    fn at_risk_says_what_is_needed_and_how_long_is_left() {
        let now: Timestamp = NOW.parse().unwrap();
        let sync = synced(now - SignedDuration::from_hours(1));
        let r = response(StreakStatus::AtRisk, 1234, Some(Distance::MILE.km()));
        let a = answer(
            r,
            &Freshness::of(Some(&sync), SignedDuration::from_hours(6)),
            now,
        );
        assert!(matches!(
            a.today,
            Verdict::AtRisk {
                time_left_s: 13_200,
                ..
            }
        ));
        assert_eq!(
            message(&a, Units::Imperial),
            "Streak 1,234 days: today not run yet, 0.0 of 1.0 mi, 3 h 40 min left"
        );
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["today"]["state"], "at_risk");
        assert_eq!(
            json["current"]["days"], 1234,
            "the streak stays at the top level"
        );
    }

    #[test]
    fn stale_or_failed_syncs_cannot_verify_but_a_done_day_is_done() {
        let now: Timestamp = NOW.parse().unwrap();
        let old = synced(now - SignedDuration::from_hours(7));
        let limit = SignedDuration::from_hours(6);
        let at_risk = response(StreakStatus::AtRisk, 10, Some(1.0));
        let v = verdict(&at_risk, &Freshness::of(Some(&old), limit), now);
        assert!(
            matches!(&v, Verdict::CantVerify { reason: CantVerifyReason::Stale, detail } if detail.contains("7 h 0 min")),
            "{v:?}"
        );
        assert!(matches!(
            verdict(&at_risk, &Freshness::of(None, limit), now),
            Verdict::CantVerify {
                reason: CantVerifyReason::NeverSynced,
                ..
            }
        ));
        let fresh = synced(now - SignedDuration::from_mins(5));
        let failed = Freshness {
            sync_error: Some("SmashRun answered 503".into()),
            ..Freshness::of(Some(&fresh), limit)
        };
        assert!(matches!(
            verdict(&at_risk, &failed, now),
            Verdict::CantVerify {
                reason: CantVerifyReason::SyncFailed,
                ..
            }
        ));
        let done = response(StreakStatus::Done, 10, Some(0.0));
        assert_eq!(verdict(&done, &failed, now), Verdict::Done);
        let none = response(StreakStatus::None, 0, Some(1.0));
        assert_eq!(
            verdict(&none, &Freshness::of(Some(&fresh), limit), now),
            Verdict::NoStreak
        );
        assert!(is_stale(Some(&old), now, limit));
        assert!(!is_stale(Some(&fresh), now, limit));
    }
}
