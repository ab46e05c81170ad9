//! Properties of the streak engine that must hold for any history.

mod common;

use common::{horizon, may, run_on};
use jiff::Span;
use myrunstreak_domain::{Rule, Run, StreakRules, audit_day, day_totals, streaks};
use proptest::prelude::*;

/// Up to 120 runs over the 90 days before 2026-05-03, of 0 to 4 km.
fn history() -> impl Strategy<Value = Vec<Run>> {
    prop::collection::vec((0i64..90, 0u32..400_000), 0..120).prop_map(|items| {
        items
            .into_iter()
            .enumerate()
            .map(|(i, (back, cm))| {
                let day = may(3).checked_sub(Span::new().days(back)).unwrap();
                run_on(i as i64 + 1, day, f64::from(cm) / 1e5)
            })
            .collect()
    })
}

fn rules(rule: Rule) -> StreakRules {
    StreakRules {
        rule,
        ..StreakRules::default()
    }
}

proptest! {
    #[test]
    fn order_of_runs_changes_nothing(runs in history(), seed in any::<u64>()) {
        let mut shuffled = runs.clone();
        // a deterministic shuffle driven by the seed
        let n = shuffled.len();
        for i in (1..n).rev() {
            let j = (seed.wrapping_mul(6364136223846793005).wrapping_add(i as u64) % (i as u64 + 1)) as usize;
            shuffled.swap(i, j);
        }
        let h = horizon(may(3));
        prop_assert_eq!(streaks(&runs, &rules(Rule::Usrsa), &h), streaks(&shuffled, &rules(Rule::Usrsa), &h));
    }

    #[test]
    fn adding_a_run_never_shortens_the_longest_streak(runs in history(), back in 0i64..90, cm in 0u32..400_000) {
        let h = horizon(may(3));
        let before = streaks(&runs, &rules(Rule::Usrsa), &h).longest.map_or(0, |s| s.days);
        let mut more = runs.clone();
        more.push(run_on(10_000, may(3).checked_sub(Span::new().days(back)).unwrap(), f64::from(cm) / 1e5));
        let after = streaks(&more, &rules(Rule::Usrsa), &h).longest.map_or(0, |s| s.days);
        prop_assert!(after >= before);
    }

    #[test]
    fn current_never_exceeds_longest(runs in history()) {
        for rule in [Rule::Usrsa, Rule::Continuous, Rule::Any] {
            let r = streaks(&runs, &rules(rule), &horizon(may(3)));
            prop_assert!(r.current.days <= r.longest.map_or(0, |s| s.days));
        }
    }

    #[test]
    fn streak_days_are_the_qualifying_days(runs in history()) {
        for rule in [Rule::Usrsa, Rule::Continuous, Rule::Any] {
            let r = streaks(&runs, &rules(rule), &horizon(may(3)));
            let qualifying = day_totals(&runs, &rules(rule), None)
                .values()
                .filter(|d| rule.qualifies(d))
                .count() as u32;
            prop_assert_eq!(r.streaks.iter().map(|s| s.days).sum::<u32>(), qualifying);
            prop_assert_eq!(r.qualifying_days, qualifying);
        }
    }

    #[test]
    fn the_audit_of_any_day_agrees_with_the_streaks(runs in history(), back in 0i64..95) {
        let h = horizon(may(3));
        let day = may(3).checked_sub(Span::new().days(back)).unwrap();
        for rule in [Rule::Usrsa, Rule::Continuous, Rule::Any] {
            let report = streaks(&runs, &rules(rule), &h);
            let audit = audit_day(&runs, day, &rules(rule), &h);
            let streak = report.streaks.iter().find(|s| s.start <= day && day <= s.end).copied();
            prop_assert_eq!(audit.qualifies, streak.is_some());
            prop_assert_eq!(audit.streak, streak);
            let counted = audit.runs.iter().filter(|r| r.counted).count() as u32;
            prop_assert_eq!(counted, audit.totals.runs);
        }
    }

    #[test]
    fn any_counts_at_least_usrsa_and_usrsa_at_least_continuous(runs in history()) {
        let h = horizon(may(3));
        let days = |rule| streaks(&runs, &rules(rule), &h).qualifying_days;
        let (any, usrsa, continuous) = (days(Rule::Any), days(Rule::Usrsa), days(Rule::Continuous));
        prop_assert!(any >= usrsa && usrsa >= continuous, "{any} {usrsa} {continuous}");
        let longest = |rule| streaks(&runs, &rules(rule), &h).longest.map_or(0, |s| s.days);
        prop_assert!(longest(Rule::Any) >= longest(Rule::Usrsa));
        prop_assert!(longest(Rule::Usrsa) >= longest(Rule::Continuous));
    }
}
