//! Streaks and all analytics over 50 years of daily runs (18,250 runs).
//! Target (issue 5): under 5 ms. Run: `cargo bench --release -p myrunstreak-domain`.

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::civil::date;
use jiff::tz::TimeZone;
use myrunstreak_domain::{
    ActivityId, DayPolicy, Distance, Horizon, LocalStart, Run, StreakRules, analyze, streaks,
};

fn fifty_years() -> Vec<Run> {
    let first = date(1976, 1, 1);
    (0..18_250)
        .map(|i| {
            let day = first.checked_add(jiff::Span::new().days(i)).unwrap();
            Run {
                id: ActivityId::new(i + 1).unwrap(),
                start: LocalStart::parse(&format!("{day}T06:30:00-05:00")).unwrap(),
                distance: Distance::from_cm(300_000 + (i * 7919) % 900_000),
                duration_s: 1500.0 + (i % 600) as f64,
                is_running: true,
                is_treadmill: i % 13 == 0,
                origin: myrunstreak_domain::RunOrigin::SmashRun,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let runs = fifty_years();
    let now = "2025-12-20T18:00:00Z".parse().unwrap();
    let horizon = Horizon::at(now, &TimeZone::fixed(jiff::tz::offset(-5))).unwrap();
    let rules = StreakRules::default();
    c.bench_function("streaks+analytics 18250 runs", |b| {
        b.iter(|| {
            let report = streaks(std::hint::black_box(&runs), &rules, &horizon);
            let analytics = analyze(&runs, &DayPolicy::LocalClock);
            (report.current.days, analytics.all_time.runs)
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
