//! `runs` and `run ID`.

use anyhow::{Result, bail};
use clap::Args;
use jiff::civil::Date;
use myrunstreak_app::RunQuery;
use myrunstreak_app::Settings;
use myrunstreak_app::queries::RunDetail;
use myrunstreak_domain::{Distance, format_duration, format_pace};

use crate::context;

/// Which runs to list.
#[derive(Args, Debug)]
pub struct RunsArgs {
    /// First run day (YYYY-MM-DD).
    #[arg(long)]
    pub since: Option<Date>,
    /// Last run day (YYYY-MM-DD).
    #[arg(long)]
    pub until: Option<Date>,
    /// At most this many.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Print JSON (what the API's /api/v1/runs returns).
    #[arg(long)]
    pub json: bool,
}

/// One run.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// SmashRun's activity id.
    pub id: i64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `runs`.
pub fn list(args: RunsArgs, settings: &Settings) -> Result<()> {
    let store = context::read_store(settings)?;
    let runs = store.runs(&RunQuery {
        since: args.since,
        until: args.until,
        limit: Some(args.limit),
        ..RunQuery::default()
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&runs)?);
        return Ok(());
    }
    if runs.is_empty() {
        println!("No runs stored for that period. Run `myrunstreak sync` first.");
        return Ok(());
    }
    let units = settings.units;
    println!(
        "{:<11} {:<6} {:>10} {:>9} {:>11}  source",
        "date", "start", "distance", "time", "pace"
    );
    for r in &runs {
        let distance = Distance::from_km(r.distance_km).unwrap_or_default();
        let seconds = r.duration_s.unwrap_or(0.0);
        println!(
            "{:<11} {:<6} {:>10} {:>9} {:>11}  {}{}",
            r.date.to_string(),
            r.start_local.get(11..16).unwrap_or(""),
            units.format(distance),
            format_duration(seconds),
            format_pace(seconds, distance, units).unwrap_or_else(|| "-".into()),
            r.source.as_deref().unwrap_or(""),
            if r.is_treadmill { " (treadmill)" } else { "" },
        );
    }
    Ok(())
}

/// `run ID`.
pub fn show(args: RunArgs, settings: &Settings) -> Result<()> {
    let store = context::read_store(settings)?;
    let found = store.runs(&RunQuery {
        activity_id: Some(args.id),
        include_deleted: true,
        ..RunQuery::default()
    })?;
    let Some(run) = found.into_iter().next() else {
        bail!(
            "no run {} is stored; run `myrunstreak sync` if it is new",
            args.id
        );
    };
    let detail = RunDetail::from(run);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&detail)?);
        return Ok(());
    }
    let r = &detail.run;
    let units = settings.units;
    let distance = Distance::from_km(r.distance_km).unwrap_or_default();
    let seconds = r.duration_s.unwrap_or(0.0);
    println!(
        "Run {} on {} (started {}){}",
        r.activity_id,
        r.date,
        r.start_local,
        if r.deleted {
            " — deleted on SmashRun"
        } else {
            ""
        }
    );
    println!(
        "  distance {} ({:.5} km), time {}, pace {}",
        units.format(distance),
        r.distance_km,
        format_duration(seconds),
        format_pace(seconds, distance, units).unwrap_or_else(|| "-".into())
    );
    for (label, value) in [
        ("source", &r.source),
        ("weather", &r.weather_type),
        ("felt", &r.how_felt),
        ("terrain", &r.terrain),
        ("notes", &r.notes),
    ] {
        if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
            println!("  {label}: {v}");
        }
    }
    Ok(())
}
