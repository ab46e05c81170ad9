//! Times the phases of writing a 10,000-run listing into a new file (profiling aid).
use std::time::Instant;

use jiff::Timestamp;
use myrunstreak_domain::{Distance, LocalStart, RunAttributes};
use myrunstreak_store::{RunRow, Store};

fn row(id: i64) -> RunRow {
    let day = jiff::civil::date(2000, 1, 1)
        .checked_add(jiff::Span::new().days(id))
        .unwrap();
    let start = format!("{day}T07:00:00-05:00");
    RunRow {
        activity_id: id,
        start_local: start.clone(),
        start: LocalStart::parse(&start).unwrap(),
        distance: Distance::from_km(5.0).unwrap(),
        duration_s: Some(1500.0),
        attributes: RunAttributes {
            activity_type: Some("running".into()),
            notes: Some("an easy run by the river".into()),
            source: Some("garmin".into()),
            heart_rate_average: Some(150.0),
            ..RunAttributes::default()
        },
        synced_at: None,
        created_at: Some(Timestamp::now()),
        updated_at: Some(Timestamp::now()),
        raw_json: format!(
            r#"{{"activityId":{id},"distance":5.0,"pad":"{}"}}"#,
            "x".repeat(800)
        ),
    }
}

fn main() {
    let n: i64 = std::env::args()
        .nth(1)
        .map_or(10_000, |a| a.parse().unwrap());
    let batch: usize = std::env::args().nth(2).map_or(1000, |a| a.parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let t = Instant::now();
    let mut store = Store::open(dir.path().join("w.duckdb"), Timestamp::now()).unwrap();
    println!("open+migrate {:?}", t.elapsed());
    let rows: Vec<RunRow> = (1..=n).map(row).collect();
    let t = Instant::now();
    for chunk in rows.chunks(batch) {
        store.apply(chunk, &[], Timestamp::now()).unwrap();
    }
    println!("apply {n} in batches of {batch}: {:?}", t.elapsed());
    let t = Instant::now();
    drop(store);
    println!("close {:?}", t.elapsed());
}
