//! The store against real DuckDB files.

use jiff::Timestamp;
use myrunstreak_domain::{Distance, LocalStart, RunAttributes};
use myrunstreak_store::{
    ExportFormat, RejectedRow, RunFilter, RunRow, Store, StoreError, SyncCounts, SyncOutcome,
    SyncStatus,
};

fn row(id: i64, start: &str, km: f64, raw_extra: &str) -> RunRow {
    RunRow {
        activity_id: id,
        start_local: start.to_owned(),
        start: LocalStart::parse(start).unwrap(),
        distance: Distance::from_km(km).unwrap(),
        duration_s: Some(km * 300.0),
        attributes: RunAttributes {
            activity_type: Some("running".into()),
            notes: Some("<b>notes</b>".into()),
            source: Some("garmin".into()),
            has_details: Some(true),
            has_details_gps: Some(false),
            heart_rate_average: Some(150.0),
            weather_type: Some("volcanicash".into()),
            is_treadmill: Some(false),
            ..RunAttributes::default()
        },
        synced_at: None,
        created_at: Some("2026-05-01T12:00:00Z".parse().unwrap()),
        updated_at: Some("2026-05-01T12:00:00Z".parse().unwrap()),
        raw_json: format!(r#"{{"activityId":{id},"distance":{km}{raw_extra}}}"#),
    }
}

fn now() -> Timestamp {
    "2026-05-03T12:00:00Z".parse().unwrap()
}

#[test]
fn batches_add_update_and_leave_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/runs.duckdb");
    let mut store = Store::open(&path, now()).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        myrunstreak_store::SCHEMA_VERSION
    );
    let first = vec![
        row(1, "2026-05-01T07:00:00-04:00", 5.0, ""),
        row(2, "2026-05-02T23:30:00-07:00", 1.60934, ""),
    ];
    let c = store.apply(&first, &[], now()).unwrap();
    assert_eq!(
        c,
        SyncCounts {
            added: 2,
            ..SyncCounts::default()
        }
    );
    let c = store.apply(&first, &[], now()).unwrap();
    assert_eq!(
        c,
        SyncCounts {
            unchanged: 2,
            ..SyncCounts::default()
        },
        "idempotent"
    );
    let edited = vec![row(
        2,
        "2026-05-02T23:30:00-07:00",
        9.74928,
        r#","notes":"edited""#,
    )];
    let c = store.apply(&edited, &[], now()).unwrap();
    assert_eq!((c.updated, c.added), (1, 0));
    assert_eq!(store.count().unwrap(), 2);

    // exact distances and the local day survive the round trip
    let runs = store.domain_runs().unwrap();
    let two = runs.iter().find(|r| r.id.get() == 2).unwrap();
    assert_eq!(two.distance.cm(), 974_928);
    assert_eq!(two.start.to_string(), "2026-05-02T23:30:00-07:00");
    let listed = store.runs(&RunFilter::default()).unwrap();
    assert_eq!(listed[0].activity_id, 2, "newest first");
    assert_eq!(
        listed[0].date.to_string(),
        "2026-05-02",
        "the local day, not the UTC one"
    );
    assert_eq!(listed[0].distance_km, 9.74928);
    assert_eq!(listed[0].weather_type.as_deref(), Some("volcanicash"));
    let may1 = store
        .runs(&RunFilter {
            until: Some("2026-05-01".parse().unwrap()),
            ..RunFilter::default()
        })
        .unwrap();
    assert_eq!(may1.len(), 1);
    drop(store);

    // reopening keeps everything and migrates nothing
    let store = Store::open(&path, now()).unwrap();
    assert_eq!(store.count().unwrap(), 2);
}

#[test]
fn duplicates_in_one_batch_keep_the_latest_update() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("r.duckdb"), now()).unwrap();
    let old = row(7, "2026-05-01T07:00:00-04:00", 5.0, "");
    let mut new = row(7, "2026-05-01T07:00:00-04:00", 6.0, r#","v":2"#);
    new.updated_at = Some("2026-05-02T00:00:00Z".parse().unwrap());
    let c = store.apply(&[new.clone(), old], &[], now()).unwrap();
    assert_eq!(c.added, 1);
    assert_eq!(
        store.runs(&RunFilter::default()).unwrap()[0].distance_km,
        6.0
    );
}

#[test]
fn deletions_are_marked_and_undone_when_a_run_returns() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("r.duckdb"), now()).unwrap();
    let rows = vec![
        row(1, "2026-05-01T07:00:00-04:00", 5.0, ""),
        row(2, "2026-05-02T07:00:00-04:00", 5.0, ""),
    ];
    store.apply(&rows, &[], now()).unwrap();
    assert_eq!(store.mark_missing_deleted(&[1], now()).unwrap(), 1);
    assert_eq!(
        store.mark_missing_deleted(&[1], now()).unwrap(),
        0,
        "already marked"
    );
    assert_eq!(store.count().unwrap(), 1);
    let all = store
        .runs(&RunFilter {
            include_deleted: true,
            ..RunFilter::default()
        })
        .unwrap();
    assert!(
        all.iter().any(|r| r.activity_id == 2 && r.deleted),
        "kept, marked deleted"
    );
    assert_eq!(store.domain_runs().unwrap().len(), 1);
    let c = store.apply(&rows[1..], &[], now()).unwrap();
    assert_eq!(c.updated, 1, "a deleted run that reappears is undeleted");
    assert_eq!(store.count().unwrap(), 2);
}

#[test]
fn a_full_sync_leaves_the_ledger_unchanged() {
    use jiff::civil::date;
    use myrunstreak_domain::LedgerItem;
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("r.duckdb"), now()).unwrap();
    let offset = jiff::tz::Offset::from_seconds(-4 * 3600).unwrap();
    // ledger ids 1 and 2 share their numbers with SmashRun's runs 1 and 2: nothing may mix them
    let manual = LedgerItem::run(
        date(2026, 5, 2),
        None,
        offset,
        Distance::from_miles(1.2).unwrap(),
        None,
        Some("treadmill".into()),
    )
    .unwrap();
    let over = LedgerItem::override_day(date(2026, 4, 30), offset, "watch died").unwrap();
    store.add_ledger_entry(&manual, now()).unwrap();
    store.add_ledger_entry(&over, now()).unwrap();
    let before = store.ledger().unwrap();
    assert_eq!(before.len(), 2);

    // a full sync: every run written (new, then updated), then reconciled against a complete
    // listing that lacks runs 1 and 2 (held, then confirmed deleted), and a held one cleared
    let rows = vec![
        row(1, "2026-05-01T07:00:00-04:00", 5.0, ""),
        row(2, "2026-05-02T07:00:00-04:00", 5.0, ""),
        row(3, "2026-05-03T07:00:00-04:00", 5.0, ""),
    ];
    store.apply(&rows, &[], now()).unwrap();
    let edited = vec![row(3, "2026-05-03T07:00:00-04:00", 6.0, r#","v":2"#)];
    store.apply(&edited, &[], now()).unwrap();
    store.hold_missing(&[1, 2, 3], now()).unwrap();
    store.clear_missing(&[3]).unwrap();
    assert_eq!(store.mark_missing_deleted(&[3], now()).unwrap(), 2);
    assert_eq!(store.count().unwrap(), 1);
    store.apply(&[], &[], now()).unwrap();

    assert_eq!(
        store.ledger().unwrap(),
        before,
        "the sync never touches the ledger"
    );
    assert_eq!(
        store.domain_runs().unwrap().len(),
        1,
        "the mirror's runs are the mirror's alone"
    );
}

#[test]
fn rejected_runs_are_kept_raw_until_they_read_fine() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("r.duckdb"), now()).unwrap();
    let bad = RejectedRow {
        activity_id: Some(9),
        reason: "activity 9: distance: not a number".into(),
        raw_json: r#"{"activityId":9,"distance":"far"}"#.into(),
    };
    let nameless = RejectedRow {
        activity_id: None,
        reason: "activityId missing".into(),
        raw_json: r#"{"distance":1}"#.into(),
    };
    let c = store
        .apply(
            &[row(1, "2026-05-01T07:00:00-04:00", 5.0, "")],
            &[bad.clone(), nameless.clone()],
            now(),
        )
        .unwrap();
    assert_eq!(c.rejected, 2);
    store.apply(&[], &[bad.clone(), nameless], now()).unwrap();
    let kept = store.rejected().unwrap();
    assert_eq!(kept.len(), 2, "the same rejection is kept once");
    assert!(kept.iter().any(|r| r.raw_json == bad.raw_json));
    store
        .apply(&[row(9, "2026-05-01T07:00:00-04:00", 3.0, "")], &[], now())
        .unwrap();
    assert_eq!(
        store.rejected().unwrap().len(),
        1,
        "fixed on SmashRun, no longer rejected"
    );
}

#[test]
fn a_file_that_is_not_duckdb_is_refused_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.duckdb");
    std::fs::write(&path, b"this is my shopping list, not a database\n").unwrap();
    let err = Store::open(&path, now()).unwrap_err();
    assert!(matches!(err, StoreError::NotDuckDb { .. }), "{err}");
    assert!(err.to_string().contains("left untouched"));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"this is my shopping list, not a database\n"
    );
}

#[test]
fn a_newer_schema_is_refused_and_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.duckdb");
    {
        let conn = duckdb::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE schema_version (version BIGINT, applied_utc TIMESTAMP); INSERT INTO schema_version VALUES (99, now()::TIMESTAMP); CREATE TABLE precious (x INT); INSERT INTO precious VALUES (1);").unwrap();
    }
    let err = Store::open(&path, now()).unwrap_err();
    assert!(
        matches!(err, StoreError::NewerSchema { found: 99, .. }),
        "{err}"
    );
    assert!(matches!(
        Store::open_read_only(&path).unwrap_err(),
        StoreError::NewerSchema { .. }
    ));
    let conn = duckdb::Connection::open(&path).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM precious", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn sync_log_and_interrupted_syncs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.duckdb");
    let store = Store::open(&path, now()).unwrap();
    let id = store.begin_sync("full", now()).unwrap();
    let counts = SyncCounts {
        added: 3,
        ..SyncCounts::default()
    };
    let outcome = SyncOutcome {
        status: SyncStatus::Ok,
        finished: now(),
        counts,
        requests: 2,
        watermark: Some(now()),
        error: None,
    };
    store.finish_sync(id, &outcome).unwrap();
    let running = store.begin_sync("incremental", now()).unwrap();
    drop(store); // killed mid-sync
    let store = Store::open(&path, now()).unwrap();
    let log = store.sync_log(10).unwrap();
    assert_eq!(log[0].sync_id, running);
    assert_eq!(log[0].status, SyncStatus::Interrupted);
    let ok = store.last_success().unwrap().unwrap();
    assert_eq!(
        (ok.sync_id, ok.counts.added, ok.requests, ok.watermark),
        (id, 3, 2, Some(now()))
    );
}

#[test]
fn read_only_opening_and_missing_files() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.duckdb");
    assert!(matches!(
        Store::open_read_only(&path).unwrap_err(),
        StoreError::Missing { .. }
    ));
    let mut store = Store::open(&path, now()).unwrap();
    store
        .apply(&[row(1, "2026-05-01T07:00:00-04:00", 5.0, "")], &[], now())
        .unwrap();
    drop(store);
    let ro = Store::open_read_only(&path).unwrap();
    assert_eq!(ro.count().unwrap(), 1);
}

#[test]
fn exports_with_duckdb_writers() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("r.duckdb"), now()).unwrap();
    store
        .apply(
            &[
                row(1, "2026-05-01T07:00:00-04:00", 5.0, ""),
                row(2, "2026-05-02T07:00:00-04:00", 9.74928, ""),
            ],
            &[],
            now(),
        )
        .unwrap();
    for (format, name) in [
        (ExportFormat::Csv, "runs.csv"),
        (ExportFormat::Parquet, "runs.parquet"),
        (ExportFormat::Json, "runs.json"),
    ] {
        let out = dir.path().join(name);
        assert_eq!(store.export(format, &out, true).unwrap(), 2);
        assert!(std::fs::metadata(&out).unwrap().len() > 50, "{name}");
    }
    let csv = std::fs::read_to_string(dir.path().join("runs.csv")).unwrap();
    assert!(csv.starts_with("activity_id,start_local,run_date"));
    assert!(csv.contains("9.74928"), "{csv}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("runs.json")).unwrap())
            .unwrap();
    assert_eq!(json.as_array().unwrap().len(), 2);

    // the ledger goes into exports, after the same columns, unless left out
    use myrunstreak_domain::LedgerItem;
    let offset = jiff::tz::Offset::from_seconds(-4 * 3600).unwrap();
    let manual = LedgerItem::run(
        jiff::civil::date(2026, 5, 3),
        None,
        offset,
        Distance::from_miles(1.2).unwrap(),
        Some(690.0),
        Some("treadmill at the gym".into()),
    )
    .unwrap();
    let over =
        LedgerItem::override_day(jiff::civil::date(2026, 4, 30), offset, "watch died").unwrap();
    store.add_ledger_entry(&manual, now()).unwrap();
    store.add_ledger_entry(&over, now()).unwrap();
    let with = dir.path().join("with.json");
    assert_eq!(store.export(ExportFormat::Json, &with, true).unwrap(), 4);
    let rows: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&with).unwrap()).unwrap();
    let origins: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["origin"].as_str().unwrap())
        .collect();
    // by run day: the override (04-30), the two SmashRun runs, the manual run (05-03)
    assert_eq!(origins, ["override", "smashrun", "smashrun", "ledger"]);
    assert_eq!(rows[0]["override_reason"], "watch died");
    assert_eq!(rows[3]["notes"], "treadmill at the gym");
    // to the centimetre, as distances are kept
    assert!((rows[3]["distance_km"].as_f64().unwrap() - 1.2 * 1.609344).abs() < 1e-5);
    let csv = dir.path().join("with.csv");
    store.export(ExportFormat::Csv, &csv, true).unwrap();
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert!(
        csv.starts_with("activity_id,start_local,run_date"),
        "the old columns keep their place"
    );
    let without = dir.path().join("without.json");
    assert_eq!(
        store.export(ExportFormat::Json, &without, false).unwrap(),
        2
    );
}

#[test]
fn fingerprints_ignore_when_runs_were_seen() {
    let dir = tempfile::tempdir().unwrap();
    let mut a = Store::open(dir.path().join("a.duckdb"), now()).unwrap();
    let mut b = Store::open(dir.path().join("b.duckdb"), now()).unwrap();
    let rows = vec![row(1, "2026-05-01T07:00:00-04:00", 5.0, "")];
    a.apply(&rows, &[], now()).unwrap();
    b.apply(&rows, &[], "2027-01-01T00:00:00Z".parse().unwrap())
        .unwrap();
    assert_eq!(a.fingerprint().unwrap(), b.fingerprint().unwrap());
    b.mark_missing_deleted(&[], now()).unwrap();
    assert_ne!(a.fingerprint().unwrap(), b.fingerprint().unwrap());
}

#[test]
fn an_assumed_offset_is_stored_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("runs.duckdb"), now()).unwrap();
    let home = jiff::tz::TimeZone::get("America/New_York").unwrap();
    let mut assumed = row(7, "2026-05-01T23:30:00Z", 5.0, "");
    assumed.start_local = "2026-05-01T23:30:00".into();
    assumed.start = LocalStart::parse_lenient("2026-05-01T23:30:00", Some(&home)).unwrap();
    let mut extreme = row(8, "2026-05-02T06:00:00+14:00", 5.0, "");
    extreme.start = LocalStart::parse("2026-05-02T06:00:00+14:00").unwrap();
    store.apply(&[assumed, extreme], &[], now()).unwrap();

    let runs = store.domain_runs().unwrap();
    let by_id = |id: i64| runs.iter().find(|r| r.id.get() == id).unwrap();
    let read = by_id(7).start;
    assert!(read.offset_assumed(), "the flag survives the round trip");
    assert_eq!(read.date().to_string(), "2026-05-01", "the written date");
    assert_eq!(read.instant().to_string(), "2026-05-02T03:30:00Z");
    let far = by_id(8).start;
    assert!(!far.offset_assumed());
    assert!(far.extreme_offset());
    assert_eq!(far.date().to_string(), "2026-05-02");

    let stored = store.runs(&RunFilter::default()).unwrap();
    let flag = |id: i64| {
        let r = stored.iter().find(|r| r.activity_id == id).unwrap();
        (r.offset_assumed, r.date.to_string())
    };
    assert_eq!(flag(7), (true, "2026-05-01".to_owned()));
    assert_eq!(flag(8), (false, "2026-05-02".to_owned()));

    // SmashRun later writes the offset: the flag clears
    let mut fixed = row(7, "2026-05-01T23:30:00-04:00", 5.0, r#","fixed":1"#);
    fixed.start = LocalStart::parse("2026-05-01T23:30:00-04:00").unwrap();
    store.apply(&[fixed], &[], now()).unwrap();
    let runs = store.domain_runs().unwrap();
    let again = runs.iter().find(|r| r.id.get() == 7).unwrap();
    assert!(!again.start.offset_assumed());
}

/// A writer that found the tables empty knows what it added without asking DuckDB; one that
/// opens a file with runs asks. Both count the same.
#[test]
fn a_new_file_s_writer_and_a_reopened_one_count_alike() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.duckdb");
    let one = vec![row(1, "2026-05-01T07:00:00-04:00", 5.0, "")];
    let bad = RejectedRow {
        activity_id: Some(7),
        reason: "activity 7: distance: not a number".into(),
        raw_json: r#"{"activityId":7,"distance":"far"}"#.into(),
    };
    {
        let mut store = Store::open(&path, now()).unwrap();
        assert_eq!(store.apply(&one, &[bad], now()).unwrap().added, 1);
        assert_eq!(store.apply(&one, &[], now()).unwrap().unchanged, 1);
        // the rejected run now reads fine: it is added, and no longer kept as rejected
        let fixed = vec![row(7, "2026-05-02T07:00:00-04:00", 3.0, "")];
        assert_eq!(store.apply(&fixed, &[], now()).unwrap().added, 1);
        assert!(store.rejected().unwrap().is_empty());
    }
    let mut store = Store::open(&path, now()).unwrap();
    let both = vec![
        row(1, "2026-05-01T07:00:00-04:00", 5.0, ""),
        row(7, "2026-05-02T07:00:00-04:00", 3.0, ""),
        row(8, "2026-05-03T07:00:00-04:00", 4.0, ""),
    ];
    let c = store.apply(&both, &[], now()).unwrap();
    assert_eq!((c.added, c.unchanged), (1, 2), "{c:?}");
    assert_eq!(store.count().unwrap(), 3);
}

/// Grouped writes commit once per group, never part of a batch: a group still open when the
/// process ends is lost whole, the groups before it are kept, and the batches of one group
/// see each other's runs.
#[test]
fn grouped_writes_keep_whole_groups_and_see_their_own_batches() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.duckdb");
    let batch = |ids: std::ops::Range<i64>| -> Vec<RunRow> {
        ids.map(|id| row(id, "2026-05-01T07:00:00-04:00", 5.0, ""))
            .collect()
    };
    {
        let mut store = Store::open(&path, now()).unwrap();
        store.group_writes(4);
        assert_eq!(store.apply(&batch(1..3), &[], now()).unwrap().added, 2);
        // the second batch of the group repeats a run of the first: known, not added twice
        let c = store.apply(&batch(2..5), &[], now()).unwrap();
        assert_eq!((c.added, c.unchanged), (2, 1), "{c:?}");
        // 5 runs written: the group was committed; this one opens the next group
        store.apply(&batch(5..6), &[], now()).unwrap();
        assert_eq!(store.count().unwrap(), 5, "its own transaction sees it");
        // ended without settle (a crash): the open group is rolled back
    }
    let mut store = Store::open(&path, now()).unwrap();
    assert_eq!(store.count().unwrap(), 4, "the committed group only");
    store.group_writes(100);
    store.apply(&batch(5..7), &[], now()).unwrap();
    store.settle().unwrap();
    // back to a transaction per batch, and other writes work again after settle
    store.apply(&batch(7..8), &[], now()).unwrap();
    store.mute_reminders_until(None).unwrap();
    drop(store);
    assert_eq!(Store::open(&path, now()).unwrap().count().unwrap(), 7);
}

/// A commit as large as a sync's is checkpointed into the file at once, without going through
/// the write-ahead log; a small one goes to the log, checkpointed when the file is closed.
#[test]
fn a_large_commit_goes_into_the_file_and_a_small_one_into_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runs.duckdb");
    let wal = dir.path().join("runs.duckdb.wal");
    let wal_len = || std::fs::metadata(&wal).map_or(0, |m| m.len());
    let padding = format!(r#","notes":"{}""#, "x".repeat(1000));
    let batch = |ids: std::ops::Range<i64>| -> Vec<RunRow> {
        ids.map(|id| row(id, "2026-05-01T07:00:00-04:00", 5.0, &padding))
            .collect()
    };
    let mut store = Store::open(&path, now()).unwrap();
    store.group_writes(usize::MAX);
    for start in (1..3001).step_by(1000) {
        store
            .apply(&batch(start..start + 1000), &[], now())
            .unwrap();
    }
    store.settle().unwrap();
    assert_eq!(
        wal_len(),
        0,
        "3,000 runs (3 MB) were checkpointed at their commit"
    );
    store.apply(&batch(3001..3002), &[], now()).unwrap();
    assert!(wal_len() > 0, "one run waits in the log");
    drop(store);
    assert_eq!(wal_len(), 0, "and is checkpointed at close");
    assert_eq!(Store::open_read_only(&path).unwrap().count().unwrap(), 3001);
}
