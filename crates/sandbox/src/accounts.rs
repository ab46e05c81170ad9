//! The runners the sandbox serves: one account by default, as many as asked for with
//! [`SandboxConfig::accounts`], each its own SmashRun user with its own history.
//!
//! The first account is the sandbox's classic runner, byte for byte (user 1234567 in New York,
//! [`crate::generate::generate`] under the sandbox's seed, `--runs`, `--load`): a sandbox with
//! one account is the sandbox as it always was. The others are drawn from the seed: a user id,
//! a name, a home zone and a history of their own, kept as drafts and built when served
//! ([`crate::generate`]), so that a thousand runners fit in little memory and start in moments.
//! Their activity ids come from ranges of their own; ids are unique across accounts.

use jiff::tz::TimeZone;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::SandboxConfig;
use crate::generate::{self, FIRST_ID, GeneratorConfig, HOMES, Place};
use crate::state::{Account, Activity};

/// The first account's SmashRun user id.
pub const FIRST_USER_ID: i64 = 1_234_567;

/// How many runs each account after the first has: drawn between `min` and `max`, most of
/// them near `min` (log-uniform: many runners with a few hundred runs, a few with thousands).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSpread {
    /// The fewest runs an account has.
    pub min: usize,
    /// The most runs an account has.
    pub max: usize,
}

impl std::str::FromStr for RunSpread {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (min, max) = s
            .split_once("..")
            .ok_or_else(|| format!("{s:?}: write MIN..MAX, such as 50..3000"))?;
        let number = |t: &str| {
            t.trim()
                .parse::<usize>()
                .map_err(|_| format!("{t:?} is not a number of runs"))
        };
        let (min, max) = (number(min)?, number(max)?);
        if min > max {
            return Err(format!("{min} is more than {max}"));
        }
        Ok(RunSpread { min, max })
    }
}

impl RunSpread {
    fn draw(&self, rng: &mut ChaCha8Rng) -> usize {
        if self.max <= self.min {
            return self.min;
        }
        let (low, high) = ((self.min.max(1) as f64).ln(), (self.max as f64 + 1.0).ln());
        let drawn = rng.random_range(low..high).exp().floor() as usize;
        drawn.clamp(self.min, self.max)
    }
}

/// Who a runner is.
pub(crate) struct Identity {
    pub user_id: i64,
    pub user_name: String,
    pub first_name: String,
    pub last_name: String,
    pub home: &'static Place,
    pub unit_distance: &'static str,
}

/// First names and the ASCII of them that goes into a `userName`.
const FIRST_NAMES: [(&str, &str); 24] = [
    ("Ana", "ana"),
    ("Ben", "ben"),
    ("Chloé", "chloe"),
    ("Dmitri", "dmitri"),
    ("Emeka", "emeka"),
    ("Fatima", "fatima"),
    ("Grace", "grace"),
    ("Hiroshi", "hiroshi"),
    ("Inês", "ines"),
    ("José", "jose"),
    ("Kirsten", "kirsten"),
    ("Liam", "liam"),
    ("Mei", "mei"),
    ("Noah", "noah"),
    ("Olivia", "olivia"),
    ("Priya", "priya"),
    ("Quinn", "quinn"),
    ("Rafael", "rafael"),
    ("Søren", "soren"),
    ("Tomás", "tomas"),
    ("Uma", "uma"),
    ("Valentina", "valentina"),
    ("Wiremu", "wiremu"),
    ("Zoë", "zoe"),
];

const LAST_NAMES: [(&str, &str); 24] = [
    ("Adeyemi", "adeyemi"),
    ("Bergström", "bergstrom"),
    ("Castillo", "castillo"),
    ("Dubois", "dubois"),
    ("Eriksen", "eriksen"),
    ("Fernández", "fernandez"),
    ("García", "garcia"),
    ("Hoffmann", "hoffmann"),
    ("Ivanova", "ivanova"),
    ("Jensen", "jensen"),
    ("Kowalski", "kowalski"),
    ("Lee", "lee"),
    ("Müller", "muller"),
    ("Nakamura", "nakamura"),
    ("O'Brien", "obrien"),
    ("Patel", "patel"),
    ("Quispe", "quispe"),
    ("Rossi", "rossi"),
    ("Silva", "silva"),
    ("Tanaka", "tanaka"),
    ("Ueda", "ueda"),
    ("van Dijk", "vandijk"),
    ("Walker", "walker"),
    ("Zhang", "zhang"),
];

// an independent random stream for identities and sizes
const IDENTITIES: u64 = 0x6964_656e;

/// The runners of a sandbox seeded with `seed`: the classic runner first.
pub(crate) fn identities(seed: u64, count: usize) -> Vec<Identity> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ IDENTITIES);
    let mut all = vec![Identity {
        user_id: FIRST_USER_ID,
        user_name: "sandbox.runner".into(),
        first_name: "Sam".into(),
        last_name: "Sandbox".into(),
        home: &HOMES[0],
        unit_distance: "m",
    }];
    for k in 1..count.max(1) {
        let (first, first_ascii) = FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())];
        let (last, last_ascii) = LAST_NAMES[rng.random_range(0..LAST_NAMES.len())];
        all.push(Identity {
            // ranges of 1000 apart, so ids never collide
            user_id: FIRST_USER_ID + 1_000 * k as i64 + rng.random_range(1..1_000),
            user_name: format!("{first_ascii}.{last_ascii}.{k}"),
            first_name: first.into(),
            last_name: last.into(),
            home: &HOMES[rng.random_range(0..HOMES.len())],
            unit_distance: if rng.random_bool(0.3) { "mi" } else { "m" },
        });
    }
    all
}

/// Every account of `config`, its runs generated (or loaded, for the first).
pub(crate) fn seed(config: &SandboxConfig) -> Vec<Account> {
    let now = jiff::Timestamp::now();
    let identities = identities(config.seed, config.accounts);
    let mut sizes = ChaCha8Rng::seed_from_u64(config.seed ^ IDENTITIES ^ 1);
    identities
        .into_iter()
        .enumerate()
        .map(|(k, identity)| {
            let zone = TimeZone::get(identity.home.zone).unwrap_or(TimeZone::UTC);
            // With an explicit end date the data depends on the seed alone; ending today, it
            // also leaves out what has not happened yet.
            let generator = GeneratorConfig {
                seed: config.seed,
                years: config.years,
                end: config
                    .end
                    .unwrap_or_else(|| now.to_zoned_datetime(zone.clone()).date()),
                odd_share: config.odd_share,
                not_after: config.end.is_none().then_some(now),
                home: identity.home,
                first_id: FIRST_ID,
            };
            let activities = if k == 0 {
                first_runs(config, &generator, &zone)
            } else {
                let wanted = match config.runs_spread {
                    Some(spread) => Some(spread.draw(&mut sizes)),
                    None => config.max_runs,
                };
                other_runs(k, wanted, generator)
            };
            Account::new(identity, activities)
        })
        .collect()
}

/// The classic runner's runs, exactly as the sandbox has always made them.
fn first_runs(
    config: &SandboxConfig,
    generator: &GeneratorConfig,
    zone: &TimeZone,
) -> Vec<Activity> {
    let mut runs: Vec<generate::Generated> = match &config.load {
        Some(list) => list
            .iter()
            .filter_map(|v| v.as_object().cloned())
            .map(|summary| generate::Generated {
                summary,
                extended: Default::default(),
            })
            .collect(),
        None => generate::generate(generator),
    };
    if let Some(max) = config.max_runs {
        // generated runs come oldest first
        let surplus = runs.len().saturating_sub(max);
        runs.drain(..surplus);
    }
    let mut activities: Vec<Activity> = Vec::with_capacity(runs.len());
    let mut index = std::collections::HashMap::new();
    let mut top: Option<i64> = None;
    for g in runs {
        // a loaded summary without an id gets the next free one, as a staged run would
        let id = g
            .summary
            .get("activityId")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or_else(|| top.unwrap_or(FIRST_ID) + 17);
        top = Some(top.map_or(id, |t| t.max(id)));
        let activity = Activity::new(id, g.summary, g.extended, zone);
        match index.get(&id) {
            Some(&i) => activities[i] = activity,
            None => {
                index.insert(id, activities.len());
                activities.push(activity);
            }
        }
    }
    activities
}

/// The runs of account `k` (not the first): its own seed, home and id range; `wanted` of them
/// (the most recent) when asked, else its whole history.
fn other_runs(k: usize, wanted: Option<usize>, base: GeneratorConfig) -> Vec<Activity> {
    let mut generator = GeneratorConfig {
        seed: base.seed ^ (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        first_id: FIRST_ID * (k as i64 + 1),
        ..base
    };
    // a runner runs a little under once a day: generate the years needed, not all of them
    let all_years = generator.years;
    if let Some(n) = wanted {
        generator.years = all_years.min(n as u32 / 300 + 1);
    }
    let mut runs = generate::drafted(&generator);
    if wanted.is_some_and(|n| runs.len() < n) && generator.years < all_years {
        generator.years = all_years;
        runs = generate::drafted(&generator);
    }
    if let Some(n) = wanted {
        let surplus = runs.len().saturating_sub(n);
        runs.drain(..surplus);
    }
    runs.into_iter().map(Activity::drafted).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_the_classic_runner_then_distinct_runners_from_the_seed() {
        let a = identities(7, 300);
        assert_eq!(a[0].user_id, FIRST_USER_ID);
        assert_eq!(a[0].user_name, "sandbox.runner");
        let ids: std::collections::HashSet<i64> = a.iter().map(|i| i.user_id).collect();
        let names: std::collections::HashSet<&str> =
            a.iter().map(|i| i.user_name.as_str()).collect();
        assert_eq!((ids.len(), names.len()), (300, 300));
        let zones: std::collections::HashSet<&str> = a.iter().map(|i| i.home.zone).collect();
        assert!(zones.len() >= 5, "{zones:?}");
        let again = identities(7, 300);
        assert!(
            a.iter()
                .zip(&again)
                .all(|(x, y)| x.user_name == y.user_name)
        );
        assert_ne!(identities(8, 2)[1].user_name, a[1].user_name);
        for home in &HOMES {
            assert!(TimeZone::get(home.zone).is_ok(), "{}", home.zone);
        }
    }

    #[test]
    fn a_spread_is_parsed_and_drawn_within_its_bounds() {
        let spread: RunSpread = "50..3000".parse().unwrap();
        assert_eq!(spread, RunSpread { min: 50, max: 3000 });
        assert!("3000..50".parse::<RunSpread>().is_err());
        assert!("many".parse::<RunSpread>().is_err());
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let drawn: Vec<usize> = (0..2000).map(|_| spread.draw(&mut rng)).collect();
        assert!(drawn.iter().all(|n| (50..=3000).contains(n)));
        let small = drawn.iter().filter(|n| **n < 400).count();
        // log-uniform: about half below 400 (a uniform draw would put an eighth there)
        assert!(small > 800 && drawn.iter().any(|n| *n > 2000), "{small}");
    }

    #[test]
    fn a_drafted_run_is_indexed_as_its_json_says() {
        let config = GeneratorConfig {
            seed: 11,
            years: 2,
            end: jiff::civil::date(2026, 5, 3),
            odd_share: 0.2,
            not_after: None,
            home: &HOMES[8],
            first_id: FIRST_ID * 3,
        };
        let zone = TimeZone::get(HOMES[8].zone).unwrap();
        let runs = generate::drafted(&config);
        assert!(runs.len() > 400, "{}", runs.len());
        for run in runs {
            let built = run.build();
            assert_eq!(
                built.summary,
                run.build().summary,
                "built the same every time"
            );
            let drafted = Activity::drafted(run);
            let stored = Activity::new(drafted.id, built.summary, built.extended, &zone);
            assert_eq!(
                (
                    drafted.start,
                    drafted.updated,
                    drafted.local_date(),
                    drafted.km(),
                    drafted.seconds(),
                    drafted.external_id()
                ),
                (
                    stored.start,
                    stored.updated,
                    stored.local_date(),
                    stored.km(),
                    stored.seconds(),
                    stored.external_id()
                ),
                "activity {}",
                drafted.id
            );
        }
    }
}
