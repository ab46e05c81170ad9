//! The dashboard: one server-rendered page a runner opens every morning (the badge it links to
//! is `myrunstreak_app::badge`, shared with `myrunstreak publish`).
//! maud escapes every interpolated value, so runner-written notes cannot inject markup.

use jiff::civil::Date;
use jiff::{Span, Timestamp};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use myrunstreak_app::queries::{self, status_line};
use myrunstreak_app::{goals, ledger};
use myrunstreak_domain::{
    DayKind, Distance, DomainError, LedgerKind, Period, RunOrigin, StreakStatus, Units,
    Verdict as DayVerdict, format_duration, format_pace, format_pace_per_km,
};

use crate::{ServerConfig, Snapshot};
use myrunstreak_app::is_stale;

const STYLE: &str = r#"
body{font-family:system-ui,-apple-system,sans-serif;margin:0;background:#f6f7f9;color:#1d232b}
main{max-width:60rem;margin:0 auto;padding:1rem}
section{background:#fff;border-radius:.75rem;padding:1rem 1.25rem;margin:.75rem 0;box-shadow:0 1px 2px #0001}
h1{font-size:1rem;margin:0;color:#5b6675;font-weight:600;text-transform:uppercase;letter-spacing:.05em}
h2{font-size:1rem;margin:0 0 .5rem}
.goal{position:relative;height:.9rem;background:#e6e9ee;border-radius:.45rem;margin:.5rem 0}
.goal .done{height:100%;background:#2f9e62;border-radius:.45rem}
.goal .pace{position:absolute;top:-.25rem;bottom:-.25rem;width:2px;background:#1d232b}
.streak{font-size:4.5rem;font-weight:800;line-height:1.1}
.status{font-size:1.2rem;font-weight:600}
.done{color:#137a3a}.at_risk{color:#b5470b}.none{color:#5b6675}
.warn{background:#fff4e5;border-left:4px solid #f0a000}
svg{max-width:100%;height:auto}
.q{fill:#2ea043}.r{fill:#e3b341}.x{fill:#e4e7eb}.o{fill:#fff;stroke:#8250df;stroke-width:2;stroke-dasharray:2 1}.l{fill:#1a7f37;stroke:#0969da;stroke-width:1.5}
table{border-collapse:collapse;width:100%;font-size:.95rem}
td,th{padding:.3rem .4rem;text-align:left;border-bottom:1px solid #eef0f2}
.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#5b6675;font-size:.9rem}
@media (max-width:40rem){.streak{font-size:3.2rem}.notes{display:none}}
"#;

fn days(n: u32) -> String {
    format!("{n} day{}", if n == 1 { "" } else { "s" })
}

fn ago(seconds: i64) -> String {
    match seconds {
        s if s < 3600 => format!("{} min ago", s / 60),
        s if s < 172_800 => format!("{} h ago", s / 3600),
        s => format!("{} days ago", s / 86_400),
    }
}

/// The dashboard page.
pub fn page(
    s: &Snapshot,
    config: &ServerConfig,
    year: Option<i16>,
    now: Timestamp,
) -> Result<String, DomainError> {
    let units = config.units;
    let streak = queries::streak(&s.runs, &config.query, now)?;
    let ledger = ledger::LedgerResponse::of(s.ledger.clone(), &s.runs);
    let calendar = queries::calendar(&s.runs, &config.query, now, year)?;
    let stats = queries::stats(&s.runs, &config.query, None, None);
    let records = queries::records(&s.runs, &config.query);
    let months: Vec<_> = stats.months.iter().rev().take(12).rev().collect();
    let goals = goals::goals(&s.runs, &config.query, &config.goals, None, now)?;
    let stale = is_stale(s.last_success.as_ref(), now, config.stale_after);
    let c = &streak.current;
    let status_class = match c.status {
        StreakStatus::Done => "done",
        StreakStatus::AtRisk => "at_risk",
        StreakStatus::None => "none",
    };
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "MyRunStreak: " (days(c.days)) }
                style { (PreEscaped(STYLE)) }
            }
            body { main {
                @if !s.exists {
                    section.warn { p { "No runs yet: run " code { "myrunstreak sync" } " to mirror your SmashRun history." } }
                }
                @if stale && s.exists {
                    section.warn id="stale" {
                        @match &s.last_success {
                            Some(last) => p { "Data may be out of date: the last successful sync was " (ago(now.duration_since(last.finished.unwrap_or(last.started)).as_secs())) "." },
                            None => p { "Data may be out of date: no sync has succeeded yet." },
                        }
                    }
                }
                @if let Some(notice) = myrunstreak_app::pending_notice(&s.pending) {
                    section.warn id="pending-deletions" { p { (notice) } }
                }
                section {
                    h1 { "Current streak" }
                    div.streak id="current-streak" { (c.days) }
                    div.status.(status_class)#status { (status_line(&streak, units)) }
                    @if let Some(start) = c.start { p.muted { "since " (start.to_string()) " · rule " (streak.rule.to_string()) " · today is " (streak.as_of.to_string()) } }
                    p id="longest" {
                        "Longest streak: " strong { (days(streak.longest.days)) }
                        @if let (Some(a), Some(b)) = (streak.longest.start, streak.longest.end) { " (" (a.to_string()) " to " (b.to_string()) ")" }
                    }
                    @if !c.milestones.reached.is_empty() {
                        p.muted { "Milestones reached: " (c.milestones.reached.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(", "))
                            " · next: " (c.milestones.next) " days in " (days(c.milestones.days_to_next))
                            @if c.milestones.usrsa_listable { " · USRSA-listable" } }
                    }
                }
                @if let Some(p) = &goals.period {
                    section id="period-streak" {
                        h2 { @match p.rule.period { Period::Month => "Monthly streak", Period::Week { .. } => "Weekly streak" } }
                        div.streak id="period-count" { (p.current.map_or(0, |c| c.periods)) }
                        @for line in goals::period_lines(p, units) { p { (line) } }
                    }
                }
                @if let Some(g) = &goals.year {
                    @let pace = f64::from(g.days_elapsed) / f64::from(g.days_in_year.max(1)) * 100.0;
                    section id="year-goal" {
                        h2 { (g.year) " goal" }
                        div.goal role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow=(format!("{:.0}", g.fraction * 100.0)) {
                            div.done style=(format!("width:{:.1}%", (g.fraction * 100.0).clamp(0.0, 100.0))) {}
                            div.pace title="pace line" style=(format!("left:{pace:.1}%")) {}
                        }
                        @for line in goals::goal_lines(g, units) { p { (line) } }
                    }
                }
                section {
                    h2 { "Calendar " span.muted { (calendar.from.to_string()) " to " (calendar.to.to_string()) } }
                    (heatmap(&calendar, units))
                    p.muted { svg width="10" height="10" { rect.q width="10" height="10" {} } " qualified  "
                              svg width="10" height="10" { rect.r width="10" height="10" {} } " ran, not enough  "
                              svg width="10" height="10" { rect.x width="10" height="10" {} } " rest  "
                              svg width="10" height="10" { rect.o width="10" height="10" {} } " override  "
                              svg width="10" height="10" { rect.q.l width="10" height="10" {} } " ledger run" }
                }
                section {
                    h2 { "Monthly distance" }
                    (month_chart(&months, units))
                }
                section {
                    h2 { "Records" }
                    table { tbody {
                        @if let Some(l) = records.longest_run { tr { td { "Longest run" } td.num { (units.format(l.distance)) } td { (l.date.to_string()) } } }
                        @for p in &records.fastest { tr { td { "Fastest " (p.label) } td.num { (format_pace_per_km(p.pace_s_per_km, units).unwrap_or_default()) } td { (p.run.date.to_string()) } } }
                        @if let Some(p) = &records.biggest_week { tr { td { "Biggest week" } td.num { (units.format(p.totals.distance)) } td { (p.period) } } }
                        @if let Some(p) = &records.biggest_month { tr { td { "Biggest month" } td.num { (units.format(p.totals.distance)) } td { (p.period) } } }
                        @if let Some(p) = &records.biggest_year { tr { td { "Biggest year" } td.num { (units.format(p.totals.distance)) } td { (p.period) } } }
                        @if let Some(b) = records.longest_break { tr { td { "Longest break" } td.num { (days(b.days)) } td { (b.after.to_string()) " to " (b.until.to_string()) } } }
                    } }
                }
                section {
                    h2 { "Recent runs" }
                    table id="recent" { thead { tr { th { "Date" } th.num { "Distance" } th.num { "Time" } th.num { "Pace" } th.notes { "Notes" } } }
                    tbody { @for r in s.stored.iter().filter(|r| !r.deleted).take(10) {
                        @let d = Distance::from_km(r.distance_km).unwrap_or_default();
                        @let secs = r.duration_s.unwrap_or(0.0);
                        tr { td { (r.date.to_string()) } td.num { (units.format(d)) } td.num { (format_duration(secs)) }
                             td.num { (format_pace(secs, d, units).unwrap_or_default()) } td.notes { (r.notes.clone().unwrap_or_default()) } }
                    } } }
                }
                @if !ledger.entries.is_empty() {
                    section id="ledger" {
                        h2 { "Your ledger " span.muted { "runs and days SmashRun lacks, kept apart from the mirror" } }
                        table { thead { tr { th { "Day" } th { "Entry" } th { "Source" } th { "Counted" } } }
                        tbody { @for line in &ledger.entries {
                            @let e = &line.entry;
                            @let source = match &e.item.kind {
                                LedgerKind::Override { .. } => "override".to_owned(),
                                LedgerKind::Run { file: Some(f), .. } => format!("{} file", f.format.as_str()),
                                LedgerKind::Run { file: None, .. } => "manual".to_owned(),
                            };
                            tr data-kind=(if e.item.is_override() { "override" } else { "run" }) {
                                td { (e.item.date.to_string()) }
                                td { (ledger::describe(e, units)) }
                                td { (source) }
                                td { @match (line.duplicate_of, ledger::push_note(e)) {
                                    _ if matches!(&e.item.kind, LedgerKind::Run { file: Some(f), .. } if !f.is_running()) => { "no: not a run" }
                                    (Some(a), _) => { "no: duplicate of SmashRun activity " (a) }
                                    (None, Some(note)) => { (note) }
                                    (None, None) => { "yes" }
                                } }
                            }
                        } } }
                    }
                }
                section.muted id="sync" {
                    @match &s.last_success {
                        Some(l) => { "Last successful sync: " (l.finished.unwrap_or(l.started).strftime("%Y-%m-%d %H:%M UTC").to_string()) " (" (l.mode) "), " (s.runs.len()) " runs stored." }
                        None => { "No successful sync yet." }
                    }
                    " " a href="/api/v1/openapi.json" { "API" } " · " a href="/badge.svg" { "badge" }
                }
            } }
        }
    };
    Ok(markup.into_string())
}

fn heatmap(calendar: &queries::CalendarResponse, units: Units) -> Markup {
    let offset = calendar.from.weekday().to_monday_zero_offset() as usize;
    let weeks = (offset + calendar.days.len()).div_ceil(7);
    let (cell, gap) = (11usize, 2usize);
    let width = weeks * (cell + gap) + 30;
    let height = 7 * (cell + gap);
    html! {
        svg id="heatmap" viewBox=(format!("0 0 {width} {height}")) width=(width) height=(height) role="img" aria-label="calendar of run days" {
            @for (label, row) in [("Mon", 0usize), ("Wed", 2), ("Fri", 4)] {
                text x="0" y=(row * (cell + gap) + 9) font-size="8" fill="#5b6675" { (label) }
            }
            @for (i, day) in calendar.days.iter().enumerate() {
                @let slot = offset + i;
                // an override is drawn hollow, a day with a manual run outlined: the runner's own
                // statements never look like SmashRun's runs
                @let class = match (day.kind, day.ledger_runs > 0) { (DayKind::Override, _) => "day o", (DayKind::Qualified, true) => "day q l", (DayKind::Qualified, false) => "day q", (DayKind::RanNotQualified, true) => "day r l", (DayKind::RanNotQualified, false) => "day r", (DayKind::Rest, _) => "day x" };
                a href=(format!("/days/{}", day.date)) {
                    rect class=(class) data-date=(day.date.to_string()) x=((slot / 7) * (cell + gap) + 30) y=((slot % 7) * (cell + gap)) width=(cell) height=(cell) rx="2" {
                        title { (day.date.to_string()) ": " (if day.kind == DayKind::Override { "counted by an override".to_owned() } else if day.runs == 0 { "rest".to_owned() } else { units.format(day.distance) }) (if day.ledger_runs > 0 { " (ledger run)" } else { "" }) }
                    }
                }
            }
        }
    }
}

/// One day's audit: why it did or did not count, the same answer as `/api/v1/days/{date}`.
/// Notes are the runner's text, shown escaped like everything maud interpolates.
pub fn day_page(
    s: &Snapshot,
    config: &ServerConfig,
    date: Date,
    now: Timestamp,
) -> Result<String, DomainError> {
    let units = config.units;
    let a = queries::day_audit(&s.runs, &s.stored, &config.query, date, now, units)?;
    let verdict_class = match (a.qualifies, a.runs.is_empty()) {
        (true, _) => "done",
        (false, true) => "none",
        (false, false) => "at_risk",
    };
    let clock = match &a.home_zone {
        Some(zone) => format!("days in {zone}"),
        None => "each run's own clock".to_owned(),
    };
    let step = |days: i64| date.checked_add(Span::new().days(days)).ok();
    let markup = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "MyRunStreak: " (date.to_string()) }
                style { (PreEscaped(STYLE)) }
            }
            body { main {
                p.muted {
                    a href="/" { "Dashboard" }
                    @if let Some(d) = step(-1) { " · " a id="previous-day" href=(format!("/days/{d}")) { "← " (d.to_string()) } }
                    @if let Some(d) = step(1) { " · " a id="next-day" href=(format!("/days/{d}")) { (d.to_string()) " →" } }
                }
                section id="day" data-date=(date.to_string()) {
                    h1 { "Why " (date.to_string()) }
                    div.status.(verdict_class) id="verdict" { (if a.verdict == DayVerdict::Override { "Counted by an override" } else if a.qualifies { "Counted" } else { "Did not count" }) }
                    p id="reason" { (a.reason) }
                    p.muted { "rule " (a.rule.to_string()) " · " (clock) @if a.exclude_treadmill { " · treadmill runs excluded" } @if a.exclude_ledger { " · the ledger excluded" } " · today is " (a.as_of.to_string()) }
                }
                section {
                    h2 { "Activities" }
                    @if a.runs.is_empty() {
                        p.muted { "No activity on this day." }
                    } @else {
                        table id="day-runs" {
                            thead { tr { th { "Start (local)" } th { "Offset" } th.num { "Distance" } th.num { "Time" } th { "Counted" } th.notes { "Notes" } } }
                            tbody { @for r in &a.runs {
                                @let start = r.run.start.to_string();
                                @let (wall, offset) = start.split_at(start.len() - 6);
                                tr.(if r.run.counted { "counted" } else { "not-counted" }) data-id=(r.run.id.get()) {
                                    td { (wall.get(..16).unwrap_or(wall).replace('T', " ")) }
                                    td { (offset) }
                                    td.num { (units.format(r.run.distance)) }
                                    td.num { (format_duration(r.run.duration_s)) }
                                    td { @match r.run.not_counted { None => { "yes" } Some(why) => { "no: " (why.describe()) } }
                                         @if let Some(t) = r.activity_type.as_deref().filter(|t| !t.eq_ignore_ascii_case("running")) { " (" (t) ")" }
                                         @if let RunOrigin::Ledger { entry } = r.run.origin { " (ledger entry " (entry) ")" } }
                                    td.notes { (r.notes.clone().unwrap_or_default()) }
                                }
                            } }
                        }
                    }
                    p id="total" { "Total: " (a.threshold.describe(units)) "." }
                }
                @if !a.near_misses.is_empty() {
                    section.warn id="near-misses" { h2 { "Near misses" } ul { @for m in &a.near_misses { li { (m.describe(units)) } } } }
                }
                @if !a.flags.is_empty() {
                    section.warn id="flags" { h2 { "Worth a second look" } ul { @for f in &a.flags { li { (f.describe()) } } } }
                }
                p.muted { a href=(format!("/api/v1/days/{date}")) { "This day as JSON" } }
            } }
        }
    };
    Ok(markup.into_string())
}

fn month_chart(months: &[&myrunstreak_domain::PeriodTotals], units: Units) -> Markup {
    let max = months
        .iter()
        .map(|m| units.value(m.totals.distance))
        .fold(0.0, f64::max)
        .max(1.0);
    let (bar, gap, height) = (36.0, 8.0, 120.0);
    let width = months.len() as f64 * (bar + gap);
    html! {
        svg id="months" viewBox=(format!("0 0 {width} {}", height + 30.0)) width=(width) height=(height + 30.0) role="img" aria-label="distance per month" {
            @for (i, m) in months.iter().enumerate() {
                @let v = units.value(m.totals.distance);
                @let h = v / max * height;
                rect.q x=(i as f64 * (bar + gap)) y=(height - h) width=(bar) height=(h) { title { (m.period) ": " (units.format(m.totals.distance)) } }
                text x=(i as f64 * (bar + gap) + bar / 2.0) y=(height + 12.0) font-size="9" text-anchor="middle" fill="#5b6675" { (m.period.get(5..).unwrap_or("")) }
                text x=(i as f64 * (bar + gap) + bar / 2.0) y=(height + 24.0) font-size="9" text-anchor="middle" { (format!("{v:.0}")) }
            }
        }
    }
}
