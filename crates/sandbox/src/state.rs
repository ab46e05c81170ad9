//! Everything the sandbox remembers, behind one lock. Handlers hold it briefly and never across
//! an await.

use std::collections::{BTreeMap, HashMap, VecDeque};

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::SandboxConfig;
use crate::generate::{Generated, parse_utc_naive, utc_naive};

/// One activity as the sandbox holds it.
#[derive(Clone, Debug)]
pub struct Activity {
    /// SmashRun's id.
    pub id: i64,
    /// The summary object, keys in SmashRun's order.
    pub summary: Map<String, Value>,
    /// Extra keys of the extended style.
    pub extended: Map<String, Value>,
    /// Start instant, for newest-first ordering (None when the summary has no valid start).
    pub start: Option<Timestamp>,
    /// `dateUpdatedUTC`, for `fromDate`.
    pub updated: Option<Timestamp>,
    /// Soft-deleted: gone from every listing and from `/my/activities/{id}`.
    pub deleted: bool,
}

impl Activity {
    /// An activity from its summary (and extended keys), indexing start and update times.
    pub fn new(id: i64, summary: Map<String, Value>, extended: Map<String, Value>) -> Self {
        let mut a = Activity {
            id,
            summary,
            extended,
            start: None,
            updated: None,
            deleted: false,
        };
        a.reindex();
        a
    }

    /// Re-reads the start and update instants after an edit. A start written without an offset
    /// is read in the runner's home zone (SmashRun knows where its runner lives).
    pub fn reindex(&mut self) {
        self.start = self
            .summary
            .get("startDateTimeLocal")
            .and_then(Value::as_str)
            .and_then(|s| {
                s.parse::<Timestamp>().ok().or_else(|| {
                    let wall = s.parse::<DateTime>().ok()?;
                    let home = TimeZone::get(crate::generate::HOME_ZONE).ok()?;
                    wall.to_zoned_datetime(home).ok().map(|z| z.timestamp())
                })
            });
        self.updated = self
            .summary
            .get("dateUpdatedUTC")
            .and_then(Value::as_str)
            .and_then(parse_utc_naive);
    }

    /// The local calendar date written in `startDateTimeLocal`.
    pub fn local_date(&self) -> Option<jiff::civil::Date> {
        let text = self.summary.get("startDateTimeLocal")?.as_str()?;
        self.start?;
        text.parse::<DateTime>().ok().map(|d| d.date())
    }

    /// Kilometres, when the summary has a numeric distance.
    pub fn km(&self) -> f64 {
        self.summary
            .get("distance")
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
    }

    /// Seconds, when the summary has a numeric duration.
    pub fn seconds(&self) -> f64 {
        self.summary
            .get("duration")
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
    }
}

/// An app registered with the sandbox.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Client {
    /// `client_id`.
    pub id: String,
    /// `client_secret`.
    pub secret: String,
    /// Redirect URIs accepted verbatim.
    pub redirect_uris: Vec<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct Code {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub issued: Timestamp,
    pub used: bool,
    /// The S256 PKCE challenge sent with the authorization, if any.
    pub pkce_challenge: Option<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub client_id: String,
    pub scope: String,
    pub expires: Timestamp,
    pub revoked: bool,
}

/// Rate limits per access token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RateLimits {
    /// Whether limits are enforced.
    pub enabled: bool,
    /// Requests per hour.
    pub per_hour: u32,
    /// Requests per 10 seconds.
    pub per_10s: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            enabled: true,
            per_hour: 250,
            per_10s: 80,
        }
    }
}

/// Request counts, for tests to prove what a client did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Counters {
    /// Requests per route (`GET /v1/my/activities/search`), whatever the answer.
    pub requests: BTreeMap<String, u64>,
    /// Real 429s: requests refused because a client went over a limit.
    pub rate_limited: u64,
    /// Injected faults per kind.
    pub faults: BTreeMap<String, u64>,
    /// The most API requests ever accepted for one token within any hour.
    pub max_per_hour: u32,
    /// The most API requests ever accepted for one token within any 10 seconds.
    pub max_per_10s: u32,
}

pub(crate) struct State {
    pub config: SandboxConfig,
    pub activities: Vec<Activity>,
    pub by_id: HashMap<i64, usize>,
    pub codes: HashMap<String, Code>,
    pub tokens: HashMap<String, Token>,
    pub refresh_tokens: HashMap<String, Token>,
    pub clock_offset: SignedDuration,
    pub windows: HashMap<String, VecDeque<Timestamp>>,
    pub counters: Counters,
    pub request_seq: u64,
    /// API requests still to answer 503 (an outage after a lost answer, [`crate::WriteReading`]).
    pub outage_left: u32,
}

impl State {
    pub fn new(config: SandboxConfig, generated: Vec<Generated>) -> Self {
        let mut state = State {
            config,
            activities: Vec::new(),
            by_id: HashMap::new(),
            codes: HashMap::new(),
            tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            clock_offset: SignedDuration::ZERO,
            windows: HashMap::new(),
            counters: Counters::default(),
            request_seq: 0,
            outage_left: 0,
        };
        for g in generated {
            let id = g
                .summary
                .get("activityId")
                .and_then(Value::as_i64)
                .unwrap_or_else(|| state.next_id());
            state.insert(Activity::new(id, g.summary, g.extended));
        }
        state
    }

    /// The sandbox's clock: real time plus whatever tests advanced it by.
    pub fn now(&self) -> Timestamp {
        Timestamp::now() + self.clock_offset
    }

    pub fn now_naive(&self) -> String {
        utc_naive(self.now(), true)
    }

    pub fn insert(&mut self, activity: Activity) {
        match self.by_id.get(&activity.id) {
            Some(&i) => self.activities[i] = activity,
            None => {
                self.by_id.insert(activity.id, self.activities.len());
                self.activities.push(activity);
            }
        }
    }

    pub fn next_id(&self) -> i64 {
        self.activities
            .iter()
            .map(|a| a.id)
            .max()
            .unwrap_or(10_000_000)
            + 17
    }

    pub fn get(&self, id: i64) -> Option<&Activity> {
        self.by_id.get(&id).map(|&i| &self.activities[i])
    }

    pub fn get_mut(&mut self, id: i64) -> Option<&mut Activity> {
        self.by_id.get(&id).map(|&i| &mut self.activities[i])
    }

    /// Listed activities, newest start first; `from` keeps those updated at or after it.
    pub fn listing(&self, from: Option<Timestamp>) -> Vec<&Activity> {
        let mut list: Vec<&Activity> = self
            .activities
            .iter()
            .filter(|a| !a.deleted)
            .filter(|a| from.is_none_or(|f| a.updated.is_some_and(|u| u >= f)))
            .collect();
        list.sort_by(|a, b| b.start.cmp(&a.start).then(b.id.cmp(&a.id)));
        list
    }

    /// What a listing shows under the current reading: [`State::listing`], less the runs a
    /// glitch hides (the oldest beyond the share shown).
    pub fn listed(&self, from: Option<Timestamp>) -> Vec<&Activity> {
        let reading = &self.config.listing;
        if reading.keep_share.is_none() {
            return self.listing(from);
        }
        let all = self.listing(None);
        let hidden: std::collections::HashSet<i64> = all[reading.shown(all.len())..]
            .iter()
            .map(|a| a.id)
            .collect();
        self.listing(from)
            .into_iter()
            .filter(|a| !hidden.contains(&a.id))
            .collect()
    }

    /// What `/my/stats` counts: every run, or only the listed ones during a glitch.
    pub fn counted(&self) -> Vec<&Activity> {
        if self.config.listing.stats_see_hidden {
            self.listing(None)
        } else {
            self.listed(None)
        }
    }

    pub fn random_token(&self) -> String {
        let mut rng = rand::rng();
        (0..40)
            .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.random_range(0..36)]))
            .collect()
    }

    /// Records an accepted API request for `token` or says how long to wait.
    pub fn admit(&mut self, token: &str) -> Result<(), u64> {
        let now = self.now();
        let limits = self.config.limits.clone();
        let window = self.windows.entry(token.to_owned()).or_default();
        let hour = SignedDuration::from_hours(1);
        let ten = SignedDuration::from_secs(10);
        while window
            .front()
            .is_some_and(|t| now.duration_since(*t) >= hour)
        {
            window.pop_front();
        }
        let in_10s = window
            .iter()
            .rev()
            .take_while(|t| now.duration_since(**t) < ten)
            .count() as u32;
        if limits.enabled {
            let mut wait = SignedDuration::ZERO;
            if window.len() as u32 >= limits.per_hour {
                let idx = window.len() - limits.per_hour as usize;
                wait = wait.max(hour - now.duration_since(window[idx]));
            }
            if in_10s >= limits.per_10s {
                let idx = window.len() - limits.per_10s as usize;
                wait = wait.max(ten - now.duration_since(window[idx]));
            }
            if wait > SignedDuration::ZERO {
                self.counters.rate_limited += 1;
                let secs = wait.as_secs() + i64::from(wait.subsec_nanos() > 0);
                return Err(secs.max(1) as u64);
            }
        }
        window.push_back(now);
        let (per_hour, per_10s) = (window.len() as u32, in_10s + 1);
        self.counters.max_per_hour = self.counters.max_per_hour.max(per_hour);
        self.counters.max_per_10s = self.counters.max_per_10s.max(per_10s);
        Ok(())
    }

    /// The access token is valid now.
    pub fn token_valid(&self, token: &str) -> bool {
        self.tokens
            .get(token)
            .is_some_and(|t| !t.revoked && t.expires > self.now())
    }

    /// The quirks in force for one answer ([`crate::quirks`]).
    pub fn serving(&self) -> crate::quirks::Serving<'_> {
        crate::quirks::Serving::new(&self.config.quirks, self.config.seed, &self.activities)
    }

    pub fn home_zone(&self) -> TimeZone {
        TimeZone::get(crate::generate::HOME_ZONE).unwrap_or(TimeZone::UTC)
    }
}
