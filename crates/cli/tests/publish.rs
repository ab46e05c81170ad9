//! `myrunstreak publish DIR` and `sync --publish DIR` end to end: the real binary, the sandbox
//! for the sync, a real DuckDB file, and the real server (`myrunstreak serve`) to compare with.
//! "Now" is the hidden `--now` test seam where a test needs a fixed instant; nothing sleeps on
//! the wall clock.
//!
//! `streak.ics` is read by the `icalendar` crate's RFC 5545 parser, after our own check of the
//! framing a lenient parser forgives (CRLF, 75-octet lines, escaped text) ([`ics`]); `badge.svg`
//! by `roxmltree`, a conforming XML parser ([`xml_well_formed`]).

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use jiff::civil::{Date, date};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use smashrun_sandbox::Sandbox;

const BIN: &str = env!("CARGO_BIN_EXE_myrunstreak");
const ZONE: &str = "America/New_York";
/// 2026-05-04 20:20 in New York: the runner last ran on 2026-05-03, so today is at risk.
const EVENING: &str = "2026-05-05T00:20:00Z";
/// 2026-05-03 23:30 in New York: that day's run is in, so today is done.
const DONE_LATE: &str = "2026-05-04T03:30:00Z";
/// A note only the runner should ever see.
const NOTE: &str = "PRIVATE zebra note, meet Alex at 5 Elm St";
/// The id of the run that carries it.
const NOTE_RUN_ID: i64 = 987_654_321;

struct World {
    sandbox: Sandbox,
    dir: tempfile::TempDir,
}

impl World {
    /// The sandbox's runner, with a year of runs up to `end`, signed in.
    async fn new(end: Date) -> World {
        let (sandbox, dir) = common::signed_in(end).await;
        World { sandbox, dir }
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        common::control(&self.sandbox, method, path, body).await
    }

    /// The secrets of the token file, which must never be published.
    fn token_strings(&self) -> Vec<String> {
        let raw = std::fs::read_to_string(self.dir.path().join("data/tokens.json")).unwrap();
        let v: Value = serde_json::from_str(&raw).unwrap();
        ["access_token", "refresh_token"]
            .iter()
            .map(|k| v[k].as_str().unwrap().to_owned())
            .collect()
    }

    /// A run on `day` at 06:00 in the zone, with [`NOTE`].
    async fn seed_private_run(&self, day: Date) {
        let start = day
            .at(6, 0, 0, 0)
            .to_zoned_datetime(TimeZone::get(ZONE).unwrap())
            .unwrap()
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string();
        let made = self
            .control(
                reqwest::Method::POST,
                "/runs",
                json!({"activityId": NOTE_RUN_ID, "startDateTimeLocal": start, "distance": 3.0, "notes": NOTE}),
            )
            .await;
        assert_eq!(made["activityId"], NOTE_RUN_ID, "{made}");
    }

    fn cmd(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .arg("--env-file")
            .arg(self.dir.path().join("no.env"))
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SMASHRUN_CLIENT_ID", "e2e")
            .env("SMASHRUN_CLIENT_SECRET", "e2e-secret")
            .env("SMASHRUN_OAUTH_URL", self.sandbox.oauth_url())
            .env("SMASHRUN_API_URL", self.sandbox.api_url())
            .env("DUCKDB_PATH", self.dir.path().join("data/runs.duckdb"))
            .env(
                "MYRUNSTREAK_TOKEN_FILE",
                self.dir.path().join("data/tokens.json"),
            )
            .env("MYRUNSTREAK_TIMEZONE", ZONE)
            .env("LOG_LEVEL", "warn")
            .stdin(Stdio::null());
        for (k, v) in env {
            c.env(k, v);
        }
        c
    }

    async fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = self.cmd(args, env);
        tokio::task::spawn_blocking(move || c.output().unwrap())
            .await
            .unwrap()
    }

    async fn run_ok(&self, args: &[&str]) -> String {
        let out = self.run(args, &[]).await;
        assert!(out.status.success(), "{args:?} failed:\n{}", text(&out));
        String::from_utf8(out.stdout).unwrap()
    }

    /// `publish` into `name` under the test's folder, at `now` (or the clock); the three files.
    async fn publish(&self, name: &str, now: Option<&str>) -> Published {
        let dir = self.dir.path().join(name);
        let dir_s = dir.to_str().unwrap().to_owned();
        let mut args = vec!["publish", dir_s.as_str()];
        if let Some(now) = now {
            args.extend(["--now", now]);
        }
        let out = self.run_ok(&args).await;
        for file in ["status.json", "badge.svg", "streak.ics"] {
            assert!(
                out.contains(&dir.join(file).display().to_string()),
                "publish says what it wrote: {out}"
            );
        }
        Published::read(&dir)
    }
}

/// The three published files.
struct Published {
    status: Value,
    badge: String,
    ics: String,
    /// Everything, as text, to look for what must not be there.
    all: String,
}

impl Published {
    fn read(dir: &Path) -> Published {
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
        let (status, badge, ics) = (read("status.json"), read("badge.svg"), read("streak.ics"));
        let names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(
            names.len(),
            3,
            "no temporary file is left behind: {names:?}"
        );
        Published {
            status: serde_json::from_str(&status).unwrap(),
            all: format!("{status}\n{badge}\n{ics}"),
            badge,
            ics,
        }
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Nothing private: no note, no activity id, no token, no client secret.
fn assert_nothing_private(w: &World, p: &Published) {
    assert!(
        !p.all.contains("zebra") && !p.all.contains("Elm St"),
        "a note leaked"
    );
    assert!(
        !p.all.contains(&NOTE_RUN_ID.to_string()),
        "an activity id leaked"
    );
    assert!(!p.all.contains("e2e-secret"), "the client secret leaked");
    for token in w.token_strings() {
        assert!(!p.all.contains(&token), "a token leaked");
    }
    for key in [
        "notes",
        "activityId",
        "activity_id",
        "latitude",
        "longitude",
        "token",
    ] {
        assert!(!p.all.contains(key), "{key} is not published");
    }
}

/// `time_left_s` counts down with the clock: takes both out of a streak answer, and returns them.
fn without_clock(mut v: Value) -> (Value, Vec<i64>) {
    let mut left = Vec::new();
    for path in [["current", "time_left_s"], ["today", "time_left_s"]] {
        if let Some(o) = v[path[0]].as_object_mut()
            && let Some(t) = o.remove(path[1])
        {
            left.push(t.as_i64().unwrap());
        }
    }
    (v, left)
}

#[tokio::test]
async fn status_json_is_the_api_answer_and_badge_svg_is_the_servers_badge() {
    // today, in the runner's zone, is at risk on the wall clock: the last run was yesterday
    let today = Timestamp::now()
        .to_zoned_datetime(TimeZone::get(ZONE).unwrap())
        .date();
    let yesterday = today.yesterday().unwrap();
    let w = World::new(yesterday).await;
    w.seed_private_run(yesterday).await;
    w.run_ok(&["sync"]).await;

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bind = format!("127.0.0.1:{port}");
    let mut server = w
        .cmd(&["serve", "--bind", &bind], &[])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://{bind}");
    let mut up = false;
    for _ in 0..100 {
        if reqwest::get(format!("{base}/healthz")).await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "myrunstreak serve answers on {base}");

    // the server reads the clock, so publish on the clock too, between two looks at the API
    let get = async |path: &str| reqwest::get(format!("{base}{path}")).await.unwrap();
    let before: Value = get("/api/v1/streak").await.json().await.unwrap();
    let p = w.publish("site", None).await;
    let badge = get("/badge.svg").await;
    assert_eq!(badge.headers()["content-type"], "image/svg+xml");
    let badge = badge.text().await.unwrap();
    let after: Value = get("/api/v1/streak").await.json().await.unwrap();
    let _ = server.kill();
    let _ = server.wait();

    let (api, api_left) = without_clock(before);
    let (published, left) = without_clock(p.status.clone());
    let (later, later_left) = without_clock(after);
    assert_eq!(api, later, "the answer did not change while publishing");
    assert_eq!(published, api, "status.json is /api/v1/streak's answer");
    for (i, t) in left.iter().enumerate() {
        assert!(
            (later_left[i]..=api_left[i]).contains(t),
            "time left {t} lies between the API's {} and {}",
            api_left[i],
            later_left[i]
        );
    }
    assert_eq!(p.status["today"]["state"], "at_risk", "{}", p.status);
    assert!(p.status["last_sync"].is_string());
    assert!(p.status["current"]["days"].as_u64().unwrap() > 0);

    assert_eq!(p.badge, badge, "badge.svg is /badge.svg");
    xml_well_formed(&p.badge);
    let days = p.status["current"]["days"].as_u64().unwrap();
    assert!(p.badge.contains(&format!(">{days} days<")), "{}", p.badge);

    let events = ics(&p.ics);
    assert!(
        events
            .iter()
            .any(|e| e["UID"] == format!("at-risk-{today}@myrunstreak")),
        "today at risk has its event"
    );
    assert_nothing_private(&w, &p);
}

#[tokio::test]
async fn the_feed_validates_keeps_its_uids_and_warns_only_on_an_at_risk_day() {
    let w = World::new(date(2026, 5, 3)).await;
    w.seed_private_run(date(2026, 5, 2)).await;
    w.run_ok(&["sync"]).await;

    // at risk: status.json is `streak --json` at the same instant, the feed has today's event
    let first = w.publish("first", Some(EVENING)).await;
    let streak: Value =
        serde_json::from_str(&w.run_ok(&["streak", "--json", "--now", EVENING]).await).unwrap();
    assert_eq!(
        first.status, streak,
        "status.json is streak --json's answer"
    );
    assert_eq!(first.status["today"]["state"], "at_risk");
    let days = first.status["current"]["days"].as_u64().unwrap();
    assert!(days > 0);
    let events = ics(&first.ics);
    let today: Vec<_> = events
        .iter()
        .filter(|e| e["UID"] == "at-risk-2026-05-04@myrunstreak")
        .collect();
    assert_eq!(today.len(), 1, "{events:?}");
    assert_eq!(today[0]["DTSTART;VALUE=DATE"], "20260504");
    assert_eq!(
        today[0]["SUMMARY"],
        format!("Run today to keep your {days}-day streak")
    );
    // every milestone reached and the next one, on its day
    let start: Date = first.status["current"]["start"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let milestones = &first.status["current"]["milestones"];
    let mut expected: Vec<u64> = milestones["reached"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_u64().unwrap())
        .collect();
    expected.push(milestones["next"].as_u64().unwrap());
    assert!(expected.len() >= 2, "{milestones}");
    for m in &expected {
        let uid = format!("streak-{start}-day-{m}@myrunstreak");
        let e = events
            .iter()
            .find(|e| e["UID"] == uid)
            .unwrap_or_else(|| panic!("{uid} in {events:?}"));
        let day = start
            .checked_add(jiff::Span::new().days(*m as i64 - 1))
            .unwrap();
        assert_eq!(e["DTSTART;VALUE=DATE"], day.strftime("%Y%m%d").to_string());
    }
    assert_eq!(events.len(), expected.len() + 1);

    // published again later: the same events under the same UIDs; only DTSTAMP moved
    let later = (EVENING.parse::<Timestamp>().unwrap() + SignedDuration::from_mins(15)).to_string();
    let second = w.publish("second", Some(&later)).await;
    let uids = |ics_text: &str| -> Vec<String> {
        ics(ics_text).iter().map(|e| e["UID"].clone()).collect()
    };
    assert_eq!(uids(&first.ics), uids(&second.ics));
    let stamps = |ics_text: &str| -> Vec<String> {
        ics(ics_text).iter().map(|e| e["DTSTAMP"].clone()).collect()
    };
    assert!(stamps(&first.ics).iter().all(|s| s == "20260505T002000Z"));
    assert!(stamps(&second.ics).iter().all(|s| s == "20260505T003500Z"));
    let no_stamp = |ics_text: &str| -> String {
        ics_text
            .split("\r\n")
            .filter(|l| !l.starts_with("DTSTAMP:"))
            .collect::<Vec<_>>()
            .join("\r\n")
    };
    assert_eq!(no_stamp(&first.ics), no_stamp(&second.ics));

    // a done day: no "today" event, the same milestones
    let done = w.publish("done", Some(DONE_LATE)).await;
    assert_eq!(done.status["today"]["state"], "done", "{}", done.status);
    let events = ics(&done.ics);
    assert!(
        events.iter().all(|e| !e["UID"].starts_with("at-risk-")),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .all(|e| e["UID"].starts_with(&format!("streak-{start}-day-")))
    );
    assert!(events.len() >= 2);

    for p in [&first, &second, &done] {
        xml_well_formed(&p.badge);
        assert_nothing_private(&w, p);
    }
}

#[tokio::test]
async fn sync_publish_publishes_after_a_sync_and_cant_verify_after_a_failed_one() {
    let w = World::new(date(2026, 5, 3)).await;
    w.seed_private_run(date(2026, 5, 1)).await;
    let site = w.dir.path().join("site");
    let site_s = site.to_str().unwrap();

    let out = w.run(&["sync", "--publish", site_s], &[]).await;
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Synced") && stdout.contains("status.json"),
        "{stdout}"
    );
    let p = Published::read(&site);
    assert!(p.status["last_sync"].is_string(), "{}", p.status);
    assert_ne!(p.status["today"]["state"], "cant_verify", "{}", p.status);
    ics(&p.ics);
    assert_nothing_private(&w, &p);

    // --json keeps stdout for the sync report
    let out = w.run(&["sync", "--json", "--publish", site_s], &[]).await;
    assert!(out.status.success(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["counts"].is_object(), "{report}");

    // SmashRun unreachable: the sync fails (exit 1, and why), and the files say "can't verify"
    let dead = "http://127.0.0.1:9/v1";
    let out = w
        .run(
            &["sync", "--publish", site_s],
            &[("SMASHRUN_API_URL", dead)],
        )
        .await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("status.json"));
    let p = Published::read(&site);
    assert_eq!(p.status["today"]["state"], "cant_verify", "{}", p.status);
    assert_eq!(p.status["today"]["reason"], "sync_failed");
    assert!(
        !p.all.contains("127.0.0.1"),
        "the sync's error is not published: {}",
        p.status
    );
    assert_nothing_private(&w, &p);
}

/// Checks `text`'s framing (RFC 5545 3.1: CRLF, lines of at most 75 octets, escaped text), then
/// parses it with the `icalendar` crate and checks what the feed promises (VERSION 2.0, one
/// PRODID, a unique UID and a UTC DTSTAMP on every event, whole-day dates). Returns the events as
/// maps from property (with its parameters, as written) to value.
fn ics(text: &str) -> Vec<BTreeMap<String, String>> {
    assert!(text.ends_with("\r\n"), "the feed ends with CRLF");
    for l in text[..text.len() - 2].split("\r\n") {
        assert!(
            !l.contains('\n') && !l.contains('\r'),
            "a bare line break in {l:?}"
        );
        assert!(l.len() <= 75, "{l:?} is {} octets, over 75", l.len());
        assert!(!l.is_empty(), "an empty line");
    }
    let unfolded = icalendar::parser::unfold(text);
    // text values escape `\\`, `;` and `,` (RFC 5545 3.3.11); the parser reads them unescaped
    for line in unfolded.lines() {
        let Some(value) = ["SUMMARY:", "DESCRIPTION:"]
            .iter()
            .find_map(|p| line.strip_prefix(p))
        else {
            continue;
        };
        let mut chars = value.chars();
        while let Some(c) = chars.next() {
            assert!(c != ',' && c != ';', "unescaped {c:?} in {line:?}");
            if c == '\\' {
                assert!(
                    matches!(chars.next(), Some('\\' | ';' | ',' | 'n' | 'N')),
                    "a bad escape in {line:?}"
                );
            }
        }
    }
    let calendar = icalendar::parser::read_calendar(&unfolded)
        .unwrap_or_else(|e| panic!("streak.ics does not parse: {e}"));
    let values = |props: &[icalendar::parser::Property<'_>], name: &str| -> Vec<String> {
        props
            .iter()
            .filter(|p| p.name.as_str() == name)
            .map(|p| p.val.as_str().to_owned())
            .collect()
    };
    assert_eq!(values(&calendar.properties, "VERSION"), ["2.0"]);
    assert_eq!(values(&calendar.properties, "CALSCALE"), ["GREGORIAN"]);
    let prodid = values(&calendar.properties, "PRODID");
    assert!(
        prodid.len() == 1 && !prodid[0].is_empty(),
        "one PRODID: {prodid:?}"
    );

    let mut uids = std::collections::BTreeSet::new();
    let mut events = Vec::new();
    for component in &calendar.components {
        assert_eq!(component.name.as_str(), "VEVENT", "only events in the feed");
        assert!(
            component.components.is_empty(),
            "nothing nested in an event"
        );
        let mut event = BTreeMap::new();
        for p in &component.properties {
            let mut key = p.name.as_str().to_owned();
            for param in &p.params {
                key.push(';');
                key.push_str(param.key.as_str());
                if let Some(v) = &param.val {
                    key.push('=');
                    key.push_str(v.as_str());
                }
            }
            let value = p.val.as_str();
            assert!(
                event.insert(key.clone(), value.to_owned()).is_none(),
                "{key} twice"
            );
        }
        let uid = event.get("UID").expect("every event has a UID").clone();
        assert!(uids.insert(uid.clone()), "UID {uid} twice");
        let stamp = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", &event["DTSTAMP"])
            .and_then(|dt| jiff::tz::Offset::UTC.to_timestamp(dt))
            .unwrap_or_else(|e| panic!("DTSTAMP {} is not a UTC date-time: {e}", event["DTSTAMP"]));
        assert!(stamp > Timestamp::UNIX_EPOCH);
        let day = |v: &str| Date::strptime("%Y%m%d", v).unwrap_or_else(|_| panic!("{v} is a date"));
        let start = day(&event["DTSTART;VALUE=DATE"]);
        if let Some(end) = event.get("DTEND;VALUE=DATE") {
            assert_eq!(day(end), start.tomorrow().unwrap(), "one whole day");
        }
        assert!(event.contains_key("SUMMARY"));
        events.push(event);
    }
    events
}

/// Checks that `svg` is well-formed XML (parsed by `roxmltree`) whose one root is `<svg>` in the
/// SVG namespace.
fn xml_well_formed(svg: &str) {
    let doc = roxmltree::Document::parse(svg)
        .unwrap_or_else(|e| panic!("badge.svg is not well-formed XML: {e}\n{svg}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg", "the root element");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg"),
        "the SVG namespace on the root"
    );
    assert!(
        root.descendants()
            .any(|n| n.is_text() && n.text().is_some_and(|t| t.contains("days"))),
        "the badge says how many days"
    );
}
