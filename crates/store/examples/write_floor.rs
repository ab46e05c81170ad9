//! DuckDB's own floor for the write phase of a first sync (issue 13): how long appending the runs
//! of an existing mirror, already laid out as Arrow batches, into a new file and committing them
//! takes, with nothing of ours around it, and the same without the runs' raw JSON.
//!
//! `cargo run --release -p myrunstreak-store --example write_floor -- <mirror.duckdb> [times]`
//!
//! The mirror is read only. Each attempt makes a new file with the current schema
//! ([`Store::open`]) and writes with the writer's settings ([`Store::writer_config`]).
use std::time::Instant;

use duckdb::{Connection, arrow::record_batch::RecordBatch};
use jiff::Timestamp;
use myrunstreak_store::Store;

/// What an attempt appends: the runs as they are, or with every raw JSON replaced by `{}`.
#[derive(Clone, Copy)]
enum Runs {
    AsTheyAre,
    WithoutRawJson,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mirror = args
        .next()
        .ok_or("usage: write_floor <mirror.duckdb> [times]")?;
    let times: usize = args.next().map_or(Ok(9), |a| a.parse())?;
    for runs in [Runs::AsTheyAre, Runs::WithoutRawJson] {
        let mut appends = Vec::new();
        let mut commits = Vec::new();
        let mut count = 0;
        for _ in 0..times {
            let (n, append, commit) = attempt(&mirror, runs)?;
            count = n;
            appends.push(append);
            commits.push(commit);
        }
        let label = match runs {
            Runs::AsTheyAre => "runs as they are",
            Runs::WithoutRawJson => "runs without their raw JSON",
        };
        let (append, commit) = (median(&mut appends), median(&mut commits));
        println!(
            "{count} {label}: append {append:.1} ms + commit {commit:.1} ms = {:.1} ms (medians of {times})",
            append + commit
        );
    }
    Ok(())
}

/// One new file: the runs appended and committed; their number and the two phases' milliseconds.
fn attempt(mirror: &str, runs: Runs) -> Result<(usize, f64, f64), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("floor.duckdb");
    drop(Store::open(&path, Timestamp::now())?);
    let conn = Connection::open_with_flags(&path, Store::writer_config()?)?;
    let batches = read_runs(&conn, mirror, runs)?;
    let count = batches.iter().map(RecordBatch::num_rows).sum();
    conn.execute_batch("BEGIN TRANSACTION")?;
    let started = Instant::now();
    {
        let mut appender = conn.appender("runs")?;
        for batch in batches {
            appender.append_record_batch(batch)?;
        }
        appender.flush()?;
    }
    let append = started.elapsed().as_secs_f64() * 1000.0;
    let started = Instant::now();
    conn.execute_batch("COMMIT")?;
    let commit = started.elapsed().as_secs_f64() * 1000.0;
    Ok((count, append, commit))
}

/// The mirror's runs as Arrow batches in the new file's column order, read before the clock starts.
fn read_runs(
    conn: &Connection,
    mirror: &str,
    runs: Runs,
) -> Result<Vec<RecordBatch>, Box<dyn std::error::Error>> {
    let quoted = mirror.replace('\'', "''");
    conn.execute(&format!("ATTACH '{quoted}' AS mirror (READ_ONLY)"), [])?;
    let columns = match runs {
        Runs::AsTheyAre => "*",
        Runs::WithoutRawJson => "* REPLACE ('{}' AS raw_json)",
    };
    let mut stmt = conn.prepare(&format!(
        "SELECT {columns} FROM mirror.runs ORDER BY activity_id"
    ))?;
    let batches = stmt.query_arrow([])?.collect();
    drop(stmt);
    conn.execute_batch("DETACH mirror")?;
    Ok(batches)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
