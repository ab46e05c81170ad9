//! End-to-end: `myrunstreak import` with the real binary, the sandbox over loopback and a real
//! DuckDB file. A run at 03:10 UTC lands on the evening before in Chicago; a FIT file keeps its
//! watch's clock; a gap is bridged by an imported run and `--exclude-ledger` gives the mirror-only
//! figure back; an import that duplicates a mirrored run is counted once, also when the mirrored
//! run arrives in a later sync; the same file twice is one entry; a corrupt file is reported and
//! the others still import; a full sync leaves the imported entries as they were.

mod gap;

use std::path::{Path, PathBuf};

use gap::World;
use serde_json::{Value, json};

/// The gap runner ([`gap::world`]), in kilometres.
async fn world() -> World {
    let mut w = gap::world().await;
    w.env.push(("MYRUNSTREAK_UNITS", "metric"));
    w
}

/// The import crate's sample files (see its `tests/data/README.md`).
fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../import/tests/data")
        .join(name)
}

/// A GPX run of `km` along one meridian, starting at `start` (UTC, `YYYY-MM-DDTHH:MM:SSZ`), its
/// points a minute apart.
fn gpx(start: &str, km: f64) -> String {
    let start: jiff::Timestamp = start.parse().unwrap();
    let degrees_per_m = 180.0 / (std::f64::consts::PI * 6_371_008.8);
    let points: String = (0..=10)
        .map(|i| {
            let lat = 40.70 + km * 1000.0 * f64::from(i) / 10.0 * degrees_per_m;
            let t = start + jiff::SignedDuration::from_secs(60 * i64::from(i));
            format!("<trkpt lat=\"{lat:.8}\" lon=\"-74.0\"><time>{t}</time></trkpt>\n")
        })
        .collect();
    format!(
        "<?xml version=\"1.0\"?>\n<gpx version=\"1.1\" creator=\"test\" xmlns=\"http://www.topografix.com/GPX/1/1\">\
         <trk><type>running</type><trkseg>\n{points}</trkseg></trk></gpx>\n"
    )
}

impl World {
    fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        path.display().to_string()
    }

    /// The totals of `stats`, with `extra` flags.
    async fn totals(&self, extra: &[&str]) -> Value {
        let mut args = vec!["stats"];
        args.extend_from_slice(extra);
        self.json(&args).await["totals"].clone()
    }
}

#[tokio::test]
async fn a_run_lands_on_the_day_of_its_zone_or_of_its_own_clock() {
    let w = world().await;
    let evening = sample("evening-0310utc.gpx");
    let evening = evening.to_str().unwrap();
    // 03:10 UTC is 22:10 the evening before in Chicago (CDT, −05:00, since 03-08)
    let said = w
        .run_ok(&["import", evening, "--tz", "America/Chicago"])
        .await;
    assert!(
        said.contains(
            "evening-0310utc.gpx: 5.02 km on 2026-03-09 (Mon), 22:10 -05:00 (America/Chicago) → ledger entry 1"
        ),
        "{said}"
    );
    let ledger = w.json(&["ledger"]).await;
    let entry = &ledger["entries"][0];
    assert_eq!(entry["date"], "2026-03-09");
    assert_eq!(entry["time"], "22:10:00");
    assert_eq!(entry["utc_offset_s"], -5 * 3600);
    assert_eq!(entry["file"]["format"], "gpx");
    assert_eq!(entry["file"]["name"], "evening-0310utc.gpx");
    assert_eq!(entry["file"]["sport"], "running");
    assert_eq!(entry["duplicate_of"], Value::Null);

    // without --tz, the runner's zone setting reads the same instant: Tokyo's next noon
    let copy = w.file("tokyo.gpx", gpx("2026-03-10T03:10:00Z", 3.0));
    let out = w
        .run_with(
            &["import", &copy, "--json"],
            &[("MYRUNSTREAK_TIMEZONE", "Asia/Tokyo")],
        )
        .await;
    assert!(out.status.success(), "{out:?}");
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["files"][0]["status"], "imported", "{j}");
    assert_eq!(j["files"][0]["day"], "2026-03-10");
    assert_eq!(j["files"][0]["start"], "2026-03-10T12:10:00+09:00");
    assert_eq!(j["files"][0]["zone"], "Asia/Tokyo");
    assert_eq!(j["failed"], 0);

    // a FIT file carries the watch's own clock, which wins over --tz; a ride is kept, not a run
    let fit = sample("garmin-fenix-5-run.fit");
    let bike = sample("garmin-fenix-5-bike.fit");
    let said = w
        .run_ok(&[
            "import",
            fit.to_str().unwrap(),
            bike.to_str().unwrap(),
            "--tz",
            "Asia/Tokyo",
        ])
        .await;
    assert!(
        said.contains(
            "garmin-fenix-5-run.fit: 0.16 km on 2017-06-11 (Sun), 07:34 -07:00 (the file's clock) → ledger entry 3"
        ),
        "{said}"
    );
    assert!(
        said.contains("garmin-fenix-5-bike.fit: 0.46 km on 2017-06-12 (Mon), 09:09 -07:00")
            && said.contains("its sport is cycling: kept, not counted as a run"),
        "{said}"
    );
    let listed = w.run_ok(&["ledger"]).await;
    assert!(
        listed.contains("cycling of 0.46 km, not counted as a run")
            && listed.contains("from garmin-fenix-5-bike.fit (fit)"),
        "{listed}"
    );
    // the ride is no run day; the run is
    let days = w.totals(&[]).await["run_days"].as_u64().unwrap();
    assert_eq!(days, 3, "03-09, 03-10 and 2017-06-11; not the ride's day");
}

#[tokio::test]
async fn an_import_bridges_a_gap_and_a_duplicate_counts_once_even_when_mirrored_later() {
    let w = world().await;
    w.seed_tokens(None, false).await;
    w.run_ok(&["sync"]).await;
    assert_eq!(w.current(&[]).await, 1, "05-02 broke the streak");

    // the missing day (07:10 in New York), a corrupt file, and a copy of 05-03's run
    let gap = w.file("gap.gpx", gpx("2026-05-02T11:10:00Z", 4.0));
    let broken = w.file("broken.fit", b"\x0e\x10\x00\x00\x10\x00\x00\x00.FITgarbage");
    let truncated = w.file(
        "cut.tcx",
        &std::fs::read(sample("garmin-forerunner-410-run.tcx")).unwrap()[..4000],
    );
    let twin = w.file("twin.gpx", gpx("2026-05-03T11:03:00Z", 5.1));
    let out = w
        .run_with(&["import", &gap, &broken, &truncated, &twin], &[])
        .await;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "gap.gpx: 4.00 km on 2026-05-02 (Sat), 07:10 -04:00 (UTC-04:00) → ledger entry 1"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("twin.gpx: 5.10 km on 2026-05-03 (Sun), 07:03 -04:00")
            && stdout.contains("→ ledger entry 2; a duplicate of SmashRun activity 104"),
        "{stdout}"
    );
    assert!(
        stderr.contains("broken.fit: not imported: a damaged fit file"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cut.tcx: not imported: a damaged tcx file"),
        "{stderr}"
    );
    assert!(
        stderr.contains("2 of 4 files could not be imported"),
        "{stderr}"
    );

    // the gap is bridged; the mirror alone is still broken
    assert_eq!(w.current(&[]).await, 6);
    assert_eq!(w.current(&["--exclude-ledger"]).await, 1);
    // the twin is not counted: five mirrored runs and the gap's, 29 km
    let totals = w.totals(&[]).await;
    assert_eq!(totals["runs"], 6, "{totals}");
    assert_eq!(totals["run_days"], 6);
    assert_eq!(totals["distance"], 29.0);
    assert_eq!(w.totals(&["--exclude-ledger"]).await["runs"], 5);
    let why = w
        .json(&["streak", "why", "2026-05-03", "--as-of", "2026-05-03"])
        .await;
    assert_eq!(why["runs"].as_array().unwrap().len(), 1, "{why}");
    let ledger = w.json(&["ledger"]).await;
    assert_eq!(ledger["entries"][0]["duplicate_of"], Value::Null);
    assert_eq!(ledger["entries"][1]["duplicate_of"], 104);
    let listed = w.run_ok(&["ledger"]).await;
    assert!(
        listed.contains("duplicate of SmashRun activity 104, not counted twice"),
        "{listed}"
    );
    // an export counts the day once too
    let export = w.dir.path().join("runs.json");
    w.run_ok(&[
        "export",
        "--format",
        "json",
        "--out",
        export.to_str().unwrap(),
    ])
    .await;
    let rows: Vec<Value> = serde_json::from_slice(&std::fs::read(&export).unwrap()).unwrap();
    assert_eq!(
        rows.len(),
        6,
        "five mirrored runs and the gap's, not the twin"
    );

    // the same file again: no second entry
    let said = w.run_ok(&["import", &gap]).await;
    assert!(
        said.contains("gap.gpx: already imported as ledger entry 1"),
        "{said}"
    );
    assert_eq!(
        w.json(&["ledger"]).await["entries"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // SmashRun gets the gap's run later (07:12, 4.05 km): the next sync mirrors it, and the day
    // still counts one run
    let late = w
        .control(
            reqwest::Method::POST,
            "/runs",
            json!({"startDateTimeLocal": "2026-05-02T07:12:00-04:00", "distance": 4.05}),
        )
        .await;
    let late_id = late["activityId"].as_i64().unwrap();
    w.run_ok(&["sync", "--full"]).await;
    let ledger = w.json(&["ledger"]).await;
    assert_eq!(ledger["entries"][0]["duplicate_of"], late_id, "{ledger}");
    let totals = w.totals(&[]).await;
    assert_eq!(
        totals["runs"], 6,
        "six mirrored runs, no ledger run: {totals}"
    );
    assert_eq!(totals["distance"], 29.05);
    assert_eq!(w.current(&[]).await, 6);
    assert_eq!(
        w.current(&["--exclude-ledger"]).await,
        6,
        "the mirror has it now"
    );

    // a full sync leaves the imported entries as they were
    let before = w.json(&["ledger"]).await;
    w.run_ok(&["sync", "--full"]).await;
    assert_eq!(w.json(&["ledger"]).await, before);
}
