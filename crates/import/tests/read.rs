//! Each format read from files: real devices' recordings (Garmin fēnix 5 and fēnix 2 FIT files,
//! a Forerunner 410 TCX file; see `data/README.md` for their origin and licence) and small files
//! written for one case each. The expected values of the real files were read independently:
//! the FIT ones with python-fitparse 1.2.0 (and its own CSV of the fēnix 5 records), the TCX one
//! from the XML (python-tcxparser's tests assert the same start and lap times).

use jiff::Timestamp;
use jiff::tz::Offset;
use myrunstreak_domain::{Distance, FileFormat};
use myrunstreak_import::{DistanceFrom, ImportError, ImportedRun, read};

fn file(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn run(name: &str) -> ImportedRun {
    read(&file(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn hours(h: i32) -> Option<Offset> {
    Offset::from_seconds(h * 3600).ok()
}

#[test]
fn a_fenix_5_run_keeps_its_session_summary_and_the_watch_clock() {
    let r = run("garmin-fenix-5-run.fit");
    assert_eq!(r.format, FileFormat::Fit);
    // session start_time 2017-06-11 14:34:09 UTC; activity local_timestamp 07:35:24 for 14:35:24
    assert_eq!(r.start, at("2017-06-11T14:34:09Z"));
    assert_eq!(r.local_offset, hours(-7));
    assert_eq!(
        r.local_start().unwrap().0.to_string(),
        "2017-06-11T07:34:09"
    );
    // session total_distance 157.56 m (the last record's distance is 157.56 too)
    assert_eq!(r.distance, Distance::from_km(0.15756).unwrap());
    assert_eq!(r.distance_from, DistanceFrom::Summary);
    assert_eq!(r.moving_s, Some(56.887));
    assert_eq!(r.elapsed_s, Some(56.887));
    assert_eq!(r.sport.as_deref(), Some("running"));
    assert_eq!(r.sha256.len(), 64);
}

#[test]
fn a_fenix_2_run_of_nine_km_in_central_europe() {
    let r = run("garmin-fenix-2-run.fit");
    // session: start 2015-08-15 14:45:08 UTC, 9008.22 m, 2832 s; local 17:32:46 for 15:32:46 UTC
    assert_eq!(r.start, at("2015-08-15T14:45:08Z"));
    assert_eq!(r.local_offset, hours(2));
    assert_eq!(r.distance, Distance::from_km(9.00822).unwrap());
    assert_eq!(r.moving_s, Some(2832.0));
    assert_eq!(r.elapsed_s, Some(2832.0));
    assert_eq!(r.sport.as_deref(), Some("running"));
}

#[test]
fn a_ride_is_read_with_its_sport() {
    let r = run("garmin-fenix-5-bike.fit");
    assert_eq!(r.start, at("2017-06-12T16:09:22Z"));
    assert_eq!(r.distance, Distance::from_km(0.45952).unwrap());
    assert_eq!(r.sport.as_deref(), Some("cycling"));
    assert!(!r.file("ride.fit").is_running());
}

#[test]
fn a_forerunner_410_tcx_sums_its_laps() {
    let r = run("garmin-forerunner-410-run.tcx");
    assert_eq!(r.format, FileFormat::Tcx);
    assert_eq!(r.start, at("2012-12-26T21:29:53Z"));
    assert_eq!(r.local_offset, None, "TCX times are UTC");
    // laps: 1609.34399414 + 1609.34399414 + 1470.5546875 m; 608.47 + 714.80 + 669.51 s
    assert_eq!(r.distance, Distance::from_km(4.68924267578).unwrap());
    assert_eq!(r.distance_from, DistanceFrom::Summary);
    assert_eq!(r.moving_s, Some(608.47 + 714.80 + 669.51));
    // first lap start 21:29:53 to the last track point 22:03:05
    assert_eq!(r.elapsed_s, Some(1992.0));
    assert_eq!(r.sport.as_deref(), Some("running"));
}

#[test]
fn a_tcx_written_with_an_offset_keeps_the_wall_time() {
    let r = run("lunch-offset.tcx");
    assert_eq!(r.start, at("2026-03-09T11:05:00Z"));
    assert_eq!(r.local_offset, hours(1));
    assert_eq!(
        r.local_start().unwrap().0.to_string(),
        "2026-03-09T12:05:00"
    );
    assert_eq!(r.distance, Distance::from_km(3.3).unwrap());
    assert_eq!(r.moving_s, Some(1200.5));
    assert_eq!(r.elapsed_s, Some(1231.0));
}

#[test]
fn a_gpx_track_is_measured_point_to_point() {
    let r = run("evening-0310utc.gpx");
    assert_eq!(r.format, FileFormat::Gpx);
    assert_eq!(r.start, at("2026-03-10T03:10:00Z"));
    assert_eq!(r.local_offset, None);
    // eleven points along one meridian, 5020 m apart end to end
    assert_eq!(r.distance, Distance::from_km(5.02).unwrap());
    assert_eq!(r.distance_from, DistanceFrom::TrackPoints);
    assert_eq!(r.moving_s, None);
    assert_eq!(r.elapsed_s, Some(1500.0));
    assert_eq!(r.sport.as_deref(), Some("running"));
}

#[test]
fn the_same_bytes_have_the_same_hash_and_others_another() {
    assert_eq!(
        run("garmin-fenix-5-run.fit").sha256,
        run("garmin-fenix-5-run.fit").sha256
    );
    assert_ne!(
        run("garmin-fenix-5-run.fit").sha256,
        run("garmin-fenix-5-bike.fit").sha256
    );
}

#[test]
fn bad_files_say_what_is_wrong() {
    assert_eq!(read(b"hello, world"), Err(ImportError::UnknownFormat));
    assert_eq!(
        read(&file("no-time.gpx")),
        Err(ImportError::NoStart { format: "gpx" })
    );
    let truncated = read(&file("truncated.fit")).unwrap_err();
    assert!(
        matches!(truncated, ImportError::Malformed { format: "fit", .. }),
        "{truncated:?}"
    );
    let mut broken = file("garmin-forerunner-410-run.tcx");
    broken.truncate(5000);
    let err = read(&broken).unwrap_err();
    assert!(
        matches!(err, ImportError::Malformed { format: "tcx", .. }),
        "{err:?}"
    );
    assert!(err.to_string().starts_with("a damaged tcx file: "), "{err}");
    let no_distance = br#"<?xml version="1.0"?><gpx version="1.1" creator="t" xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg><trkpt lat="41.8" lon="-87.6"><time>2026-03-10T03:10:00Z</time></trkpt></trkseg></trk></gpx>"#;
    assert_eq!(
        read(no_distance),
        Err(ImportError::NoDistance { format: "gpx" })
    );
}
