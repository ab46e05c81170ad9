//! End-to-end: ledger runs pushed to SmashRun with the real `myrunstreak` binary, the sandbox
//! over loopback and a real DuckDB file. A sign-in without `write_activity` gets a message that
//! says what to do and the entry stays unpushed; a push creates the activity with the entry's
//! local start, offset, distance and moving time; an answer lost after the activity was created
//! never leads to a second one, whether SmashRun deduplicates `externalId` or not; and after the
//! next sync the day's run is counted once.

mod gap;

use gap::World;
use serde_json::{Value, json};

/// The gap runner ([`gap::world`]), signed in with `scope` (written in the token file when
/// `say_scope`, as `auth login` does when SmashRun says it) and synced once.
async fn world(scope: &str, say_scope: bool) -> World {
    let w = gap::world().await;
    w.seed_tokens(Some(scope), say_scope).await;
    w.run_ok(&["sync"]).await;
    w
}

const WRITE: &str = "read_activity write_activity";

impl World {
    /// The first ledger entry's push (null when never pushed).
    async fn push_of_first(&self) -> Value {
        self.json(&["ledger"]).await["entries"][0]["push"].clone()
    }

    /// The sandbox's live activities whose externalId is the ledger's.
    async fn pushed_activities(&self) -> Vec<Value> {
        self.control(reqwest::Method::GET, "/runs", Value::Null)
            .await
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["deleted"] == false)
            .map(|a| a["summary"].clone())
            .filter(|s| {
                s["externalId"]
                    .as_str()
                    .is_some_and(|e| e.starts_with("myrunstreak-ledger-"))
            })
            .collect()
    }

    /// `POST /v1/my/activities` requests the sandbox has seen.
    async fn posts(&self) -> u64 {
        self.control(reqwest::Method::GET, "/stats", Value::Null)
            .await["requests"]["POST /v1/my/activities"]
            .as_u64()
            .unwrap_or(0)
    }
}

const ADD: [&str; 9] = [
    "add",
    "--date",
    "2026-05-02",
    "--distance",
    "1.2mi",
    "--duration",
    "11:30",
    "--time",
    "06:40",
];

fn add_push() -> Vec<&'static str> {
    let mut args = ADD.to_vec();
    args.push("--push");
    args
}

#[tokio::test]
async fn without_the_write_scope_the_runner_is_told_to_sign_in_with_write_and_the_entry_stays() {
    // SmashRun refuses the write (the token file does not say its scope)
    let w = world("read_activity", false).await;
    let out = w.run(&add_push()).await;
    assert_eq!(out.status.code(), Some(1));
    let (said, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(said.contains("Added ledger entry 1"), "{said}");
    assert!(
        err.contains("ledger entry 1 was not pushed to SmashRun; it stays in the ledger")
            && err.contains("myrunstreak auth login --write"),
        "{err}"
    );
    assert_eq!(w.posts().await, 1);
    assert!(w.pushed_activities().await.is_empty());
    assert_eq!(w.push_of_first().await, Value::Null, "kept, unpushed");
    assert_eq!(w.current(&[]).await, 6, "and it counts");

    // the tokens say they may only read: nothing is sent
    let w = world("read_activity", true).await;
    w.run_ok(&ADD).await;
    let out = w.run(&["ledger", "push", "1"]).await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("allows only \"read_activity\"") && err.contains("auth login --write"),
        "{err}"
    );
    assert_eq!(w.posts().await, 0);
    assert_eq!(w.push_of_first().await, Value::Null);

    // overrides are never pushed, and an unknown entry is said to be unknown
    w.run_ok(&["override", "2026-04-27", "--reason", "watch died"])
        .await;
    let out = w.run(&["ledger", "push", "2"]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ledger entry 2 is an override"), "{err}");
    let out = w.run(&["ledger", "push", "9"]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("there is no ledger entry 9"), "{err}");
}

#[tokio::test]
async fn a_push_creates_the_activity_and_the_next_sync_counts_the_day_once() {
    let w = world(WRITE, true).await;
    assert_eq!(w.current(&[]).await, 1, "05-02 broke the streak");
    let said = w.run_ok(&add_push()).await;
    assert!(
        said.contains("Added ledger entry 1")
            && said.contains("Pushed ledger entry 1 to SmashRun as activity"),
        "{said}"
    );
    let pushed = w.pushed_activities().await;
    assert_eq!(pushed.len(), 1, "{pushed:?}");
    let a = &pushed[0];
    assert_eq!(a["startDateTimeLocal"], "2026-05-02T06:40:00-04:00");
    assert_eq!(a["distance"], 1.93121);
    assert_eq!(a["duration"], 690.0);
    assert_eq!(a["activityType"], "running");
    let push = w.push_of_first().await;
    assert_eq!(push["state"], "pushed");
    assert_eq!(push["activity_id"], a["activityId"]);
    assert_eq!(push["external_id"], a["externalId"]);
    // SmashRun has it, the mirror not yet: the entry counts
    assert_eq!(w.current(&[]).await, 6);
    assert_eq!(w.json(&["stats"]).await["totals"]["runs"], 6);

    // a second push sends nothing
    let again = w.run_ok(&["ledger", "push", "1"]).await;
    assert!(again.contains("already pushed"), "{again}");
    assert_eq!(w.posts().await, 1);

    // the next sync mirrors the activity: the entry is confirmed and the day counted once
    w.run_ok(&["sync"]).await;
    let push = w.push_of_first().await;
    assert_eq!(push["state"], "confirmed");
    let listed = w.run_ok(&["ledger"]).await;
    assert!(listed.contains("mirrored: counted as that run"), "{listed}");
    assert_eq!(w.current(&[]).await, 6);
    assert_eq!(
        w.current(&["--exclude-ledger"]).await,
        6,
        "SmashRun's own run"
    );
    let stats = w.json(&["stats"]).await;
    assert_eq!(stats["totals"]["runs"], 6, "counted once: {stats}");
    let why = w
        .json(&["streak", "why", "2026-05-02", "--as-of", "2026-05-03"])
        .await;
    let runs = why["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1, "{why}");
    assert_eq!(runs[0]["origin"]["kind"], "smash_run");
    // an export writes it once too
    let out = w.dir.path().join("runs.json");
    w.run_ok(&["export", "--format", "json", "--out", out.to_str().unwrap()])
        .await;
    let exported: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(exported.len(), 6, "{exported:?}");
}

/// A push whose success answer does not name the activity (assumption 11: the answer may or may
/// not carry the id) finds it by its `externalId`, and sends nothing twice.
async fn an_answer_without_the_activity(shape: &str) {
    let w = world(WRITE, true).await;
    w.control(reqwest::Method::PUT, "/writes", json!({ "answer": shape }))
        .await;
    let said = w.run_ok(&add_push()).await;
    assert!(
        said.contains("Pushed ledger entry 1 to SmashRun as activity")
            || said.contains("SmashRun already had ledger entry 1"),
        "{shape}: {said}"
    );
    let pushed = w.pushed_activities().await;
    assert_eq!(pushed.len(), 1, "{shape}: {pushed:?}");
    let push = w.push_of_first().await;
    assert_eq!(push["state"], "pushed", "{shape}");
    assert_eq!(push["activity_id"], pushed[0]["activityId"], "{shape}");
    assert_eq!(w.posts().await, 1, "{shape}: sent once");
    w.run_ok(&["sync"]).await;
    assert_eq!(w.push_of_first().await["state"], "confirmed", "{shape}");
    assert_eq!(w.json(&["stats"]).await["totals"]["runs"], 6, "{shape}");
}

#[tokio::test]
async fn a_push_answered_with_the_bare_id_records_that_id() {
    an_answer_without_the_activity("id").await;
}

#[tokio::test]
async fn a_push_answered_with_nothing_that_names_the_activity_finds_it_by_its_external_id() {
    an_answer_without_the_activity("empty").await;
}

/// A push whose answer is lost (the activity created all the same) is found before the retry.
async fn lost_answer_makes_one(mode: &str) {
    let w = world(WRITE, true).await;
    w.control(
        reqwest::Method::PUT,
        "/writes",
        json!({"repeated_external_id": mode, "lose_answers": 1}),
    )
    .await;
    let said = w.run_ok(&add_push()).await;
    assert!(
        said.contains("SmashRun already had ledger entry 1"),
        "{mode}: {said}"
    );
    assert_eq!(w.pushed_activities().await.len(), 1, "{mode}");
    assert_eq!(w.posts().await, 1, "{mode}: found, not sent again");
    assert_eq!(w.push_of_first().await["state"], "pushed");
}

#[tokio::test]
async fn a_lost_answer_makes_one_activity_when_smashrun_answers_the_same() {
    lost_answer_makes_one("same").await;
}

#[tokio::test]
async fn a_lost_answer_makes_one_activity_when_smashrun_would_duplicate() {
    lost_answer_makes_one("duplicate").await;
}

/// A push that ended not knowing (the answer lost, then SmashRun down for the search) leaves
/// the entry attempted; the next `ledger push` finds the activity instead of creating another.
async fn an_unknown_push_is_found_by_the_next(mode: &str) {
    let w = world(WRITE, true).await;
    w.control(
        reqwest::Method::PUT,
        "/writes",
        json!({"repeated_external_id": mode, "lose_answers": 1, "outage_after_lost": 6}),
    )
    .await;
    let out = w.run(&add_push()).await;
    assert_eq!(out.status.code(), Some(1), "{mode}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("it stays in the ledger"), "{mode}: {err}");
    assert_eq!(w.push_of_first().await["state"], "attempted", "{mode}");
    let listed = w.run_ok(&["ledger"]).await;
    assert!(listed.contains("push unconfirmed"), "{listed}");
    assert_eq!(w.current(&[]).await, 6, "{mode}: it still counts");

    let said = w.run_ok(&["ledger", "push", "1"]).await;
    assert!(
        said.contains("SmashRun already had ledger entry 1"),
        "{mode}: {said}"
    );
    assert_eq!(w.posts().await, 1, "{mode}: never sent twice");
    assert_eq!(w.pushed_activities().await.len(), 1, "{mode}");
    w.run_ok(&["sync"]).await;
    assert_eq!(w.push_of_first().await["state"], "confirmed");
    assert_eq!(w.json(&["stats"]).await["totals"]["runs"], 6, "{mode}");
}

#[tokio::test]
async fn an_unknown_push_is_found_by_the_next_when_smashrun_answers_the_same() {
    an_unknown_push_is_found_by_the_next("same").await;
}

#[tokio::test]
async fn an_unknown_push_is_found_by_the_next_when_smashrun_would_duplicate() {
    an_unknown_push_is_found_by_the_next("duplicate").await;
}

#[tokio::test]
async fn import_push_creates_the_imported_run_on_smashrun() {
    let w = world(WRITE, true).await;
    // a GPX file of the missing day: 06:40 in New York is 10:40 UTC, about 2 km
    let gpx = w.dir.path().join("gap.gpx");
    std::fs::write(
        &gpx,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
  <trk><name>gap</name><type>running</type><trkseg>
    <trkpt lat="40.7000" lon="-74.0000"><time>2026-05-02T10:40:00Z</time></trkpt>
    <trkpt lat="40.7090" lon="-74.0000"><time>2026-05-02T10:45:00Z</time></trkpt>
    <trkpt lat="40.7180" lon="-74.0000"><time>2026-05-02T10:50:00Z</time></trkpt>
  </trkseg></trk>
</gpx>"#,
    )
    .unwrap();
    let said = w
        .run_ok(&[
            "import",
            gpx.to_str().unwrap(),
            "--tz",
            "America/New_York",
            "--push",
        ])
        .await;
    assert!(
        said.contains("→ ledger entry 1")
            && said.contains("Pushed ledger entry 1 to SmashRun as activity"),
        "{said}"
    );
    let pushed = w.pushed_activities().await;
    assert_eq!(pushed.len(), 1, "{pushed:?}");
    assert_eq!(pushed[0]["startDateTimeLocal"], "2026-05-02T06:40:00-04:00");
    let km = pushed[0]["distance"].as_f64().unwrap();
    assert!((km - 2.0).abs() < 0.01, "{km}");
    assert_eq!(pushed[0]["duration"], 600.0);
    assert_eq!(w.push_of_first().await["state"], "pushed");

    // the same file again is the same entry: nothing is imported or pushed twice
    let again = w.run_ok(&["import", gpx.to_str().unwrap(), "--push"]).await;
    assert!(
        again.contains("already imported as ledger entry 1"),
        "{again}"
    );
    assert_eq!(w.posts().await, 1);
    // and after the next sync the day counts once, as SmashRun's run
    w.run_ok(&["sync"]).await;
    assert_eq!(w.push_of_first().await["state"], "confirmed");
    assert_eq!(w.current(&["--exclude-ledger"]).await, 6);
    assert_eq!(w.json(&["stats"]).await["totals"]["runs"], 6);
}
