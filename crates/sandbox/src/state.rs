//! Everything the sandbox remembers, behind one lock. Handlers hold it briefly and never across
//! an await.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, VecDeque};

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::accounts::Identity;
use crate::generate::{Drafted, parse_utc_naive, utc_naive};
use crate::{ListingReading, SandboxConfig};

/// A JSON object of an activity, borrowed when stored and built when drafted.
pub type Json<'a> = Cow<'a, Map<String, Value>>;

/// One activity as the sandbox holds it.
pub struct Activity {
    /// SmashRun's id.
    pub id: i64,
    body: Body,
    /// Start instant, for newest-first ordering (None when the summary has no valid start).
    pub start: Option<Timestamp>,
    /// `dateUpdatedUTC`, for `fromDate`.
    pub updated: Option<Timestamp>,
    /// Soft-deleted: gone from every listing and from `/my/activities/{id}`.
    pub deleted: bool,
    local_date: Option<Date>,
    km: f64,
    seconds: f64,
    external_id: String,
}

enum Body {
    /// Its JSON (summary and extended keys): loaded, staged, written, edited, or generated for
    /// the first account.
    Stored(Box<(Map<String, Value>, Map<String, Value>)>),
    /// Built from its draft whenever it is served (the other accounts' generated runs).
    Drafted(Drafted),
}

impl Activity {
    /// An activity from its summary (and extended keys), indexing start and update times; a
    /// start without an offset is read in `home`.
    pub fn new(
        id: i64,
        summary: Map<String, Value>,
        extended: Map<String, Value>,
        home: &TimeZone,
    ) -> Self {
        let mut a = Activity {
            id,
            body: Body::Stored(Box::new((summary, extended))),
            start: None,
            updated: None,
            deleted: false,
            local_date: None,
            km: 0.0,
            seconds: 0.0,
            external_id: String::new(),
        };
        a.reindex(home);
        a
    }

    /// A generated run kept as its draft, indexed from what its JSON will say.
    pub(crate) fn drafted(run: Drafted) -> Self {
        let facts = run.facts();
        Activity {
            id: run.id(),
            body: Body::Drafted(run),
            start: Some(facts.start),
            updated: facts.updated,
            deleted: false,
            local_date: Some(facts.local_date),
            km: facts.km,
            seconds: facts.seconds,
            external_id: facts.external_id,
        }
    }

    /// The summary object, keys in SmashRun's order.
    pub fn summary(&self) -> Json<'_> {
        match &self.body {
            Body::Stored(parts) => Cow::Borrowed(&parts.0),
            Body::Drafted(run) => Cow::Owned(run.build().summary),
        }
    }

    /// The summary and the keys the extended style adds.
    pub fn parts(&self) -> (Json<'_>, Json<'_>) {
        match &self.body {
            Body::Stored(parts) => (Cow::Borrowed(&parts.0), Cow::Borrowed(&parts.1)),
            Body::Drafted(run) => {
                let built = run.build();
                (Cow::Owned(built.summary), Cow::Owned(built.extended))
            }
        }
    }

    /// Changes the summary (a drafted run is stored from then on) and re-indexes it.
    pub fn edit(&mut self, home: &TimeZone, change: impl FnOnce(&mut Map<String, Value>)) {
        if let Body::Drafted(run) = &self.body {
            let built = run.build();
            self.body = Body::Stored(Box::new((built.summary, built.extended)));
        }
        if let Body::Stored(parts) = &mut self.body {
            change(&mut parts.0);
        }
        self.reindex(home);
    }

    /// Re-reads the start and update instants, distance, duration and `externalId` of a
    /// stored summary. A start written without an offset is read in the runner's home zone
    /// (SmashRun knows where its runner lives).
    fn reindex(&mut self, home: &TimeZone) {
        let Body::Stored(parts) = &self.body else {
            return;
        };
        let summary = &parts.0;
        let start_text = summary.get("startDateTimeLocal").and_then(Value::as_str);
        self.start = start_text.and_then(|s| {
            s.parse::<Timestamp>().ok().or_else(|| {
                let wall = s.parse::<DateTime>().ok()?;
                wall.to_zoned_datetime(home.clone())
                    .ok()
                    .map(|z| z.timestamp())
            })
        });
        self.local_date = start_text
            .filter(|_| self.start.is_some())
            .and_then(|s| s.parse::<DateTime>().ok())
            .map(|d| d.date());
        self.updated = summary
            .get("dateUpdatedUTC")
            .and_then(Value::as_str)
            .and_then(parse_utc_naive);
        let number = |key: &str| summary.get(key).and_then(Value::as_f64).unwrap_or(0.0);
        self.km = number("distance");
        self.seconds = number("duration");
        self.external_id = summary
            .get("externalId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
    }

    /// The local calendar date written in `startDateTimeLocal`.
    pub fn local_date(&self) -> Option<Date> {
        self.local_date
    }

    /// Kilometres, when the summary has a numeric distance.
    pub fn km(&self) -> f64 {
        self.km
    }

    /// Seconds, when the summary has a numeric duration.
    pub fn seconds(&self) -> f64 {
        self.seconds
    }

    /// `externalId` (`""` when it has none).
    pub fn external_id(&self) -> &str {
        &self.external_id
    }
}

/// One SmashRun account: who the runner is and their runs. Every `/v1/my/` answer is made from
/// the account of the token, and nothing else.
pub(crate) struct Account {
    pub user_id: i64,
    pub user_name: String,
    pub first_name: String,
    pub last_name: String,
    /// The IANA name of the home zone.
    pub zone_name: &'static str,
    pub zone: TimeZone,
    pub unit_distance: &'static str,
    pub activities: Vec<Activity>,
    pub by_id: HashMap<i64, usize>,
}

impl Account {
    pub fn new(identity: Identity, activities: Vec<Activity>) -> Self {
        let zone = TimeZone::get(identity.home.zone).unwrap_or(TimeZone::UTC);
        let by_id = activities
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id, i))
            .collect();
        Account {
            user_id: identity.user_id,
            user_name: identity.user_name,
            first_name: identity.first_name,
            last_name: identity.last_name,
            zone_name: identity.home.zone,
            zone,
            unit_distance: identity.unit_distance,
            activities,
            by_id,
        }
    }

    fn insert(&mut self, activity: Activity) {
        match self.by_id.get(&activity.id) {
            Some(&i) => self.activities[i] = activity,
            None => {
                self.by_id.insert(activity.id, self.activities.len());
                self.activities.push(activity);
            }
        }
    }

    pub fn get(&self, id: i64) -> Option<&Activity> {
        self.by_id.get(&id).map(|&i| &self.activities[i])
    }

    pub fn get_mut(&mut self, id: i64) -> Option<&mut Activity> {
        self.by_id.get(&id).map(|&i| &mut self.activities[i])
    }

    /// Runs not deleted.
    pub fn run_count(&self) -> usize {
        self.activities.iter().filter(|a| !a.deleted).count()
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

    /// What a listing shows under `reading`: [`Account::listing`], less the runs a glitch
    /// hides (the oldest beyond the share shown).
    pub fn listed(&self, reading: &ListingReading, from: Option<Timestamp>) -> Vec<&Activity> {
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
    pub fn counted(&self, reading: &ListingReading) -> Vec<&Activity> {
        if reading.stats_see_hidden {
            self.listing(None)
        } else {
            self.listed(reading, None)
        }
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
    /// The account that signed in (an index into [`State::accounts`]).
    pub account: usize,
}

#[derive(Clone, Debug)]
pub(crate) struct Token {
    pub client_id: String,
    pub scope: String,
    pub expires: Timestamp,
    pub revoked: bool,
    /// The account it was issued for (an index into [`State::accounts`]); a refresh keeps it.
    pub account: usize,
}

/// Rate limits: per access token, and optionally per app (every token of one client id).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RateLimits {
    /// Whether limits are enforced (all of them).
    pub enabled: bool,
    /// Requests per hour per token.
    pub per_hour: u32,
    /// Requests per 10 seconds per token.
    pub per_10s: u32,
    /// Requests per hour of all the tokens of one app together; `None`: no such limit.
    #[serde(default)]
    pub app_per_hour: Option<u32>,
    /// Requests per 10 seconds of all the tokens of one app together; `None`: no such limit.
    #[serde(default)]
    pub app_per_10s: Option<u32>,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            enabled: true,
            per_hour: 250,
            per_10s: 80,
            app_per_hour: None,
            app_per_10s: None,
        }
    }
}

impl RateLimits {
    fn app_limited(&self) -> bool {
        self.app_per_hour.is_some() || self.app_per_10s.is_some()
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
    /// The same counts per account (by user id) for the API requests (`/v1/my/...`) made with
    /// its valid tokens; accounts that made none are absent.
    pub accounts: BTreeMap<i64, AccountCounters>,
}

/// [`Counters`] of one account.
#[derive(Clone, Debug, Default, Serialize)]
pub struct AccountCounters {
    /// API requests per route, whatever the answer (a 429 and an injected fault included).
    pub requests: BTreeMap<String, u64>,
    /// Its requests refused by a rate limit (its token's, or its app's).
    pub rate_limited: u64,
    /// Faults injected into its answers, per kind.
    pub faults: BTreeMap<String, u64>,
    /// The most API requests ever accepted for one of its tokens within any hour.
    pub max_per_hour: u32,
    /// The most API requests ever accepted for one of its tokens within any 10 seconds.
    pub max_per_10s: u32,
}

/// Why a request was refused by a rate limit, and for how many seconds.
pub(crate) enum Throttled {
    /// The token's own limit.
    Token(u64),
    /// The app's limit (all its tokens together).
    App(u64),
}

pub(crate) struct State {
    pub config: SandboxConfig,
    pub accounts: Vec<Account>,
    /// Account index by user id.
    pub by_user: HashMap<i64, usize>,
    /// Who signs in when an authorization does not choose (auto-approve, a form without a
    /// choice): set through `/_sandbox/sign-in-as`, the first account by default.
    pub sign_in_as: usize,
    /// The highest activity id of any account: ids are unique across accounts.
    pub max_id: i64,
    pub codes: HashMap<String, Code>,
    pub tokens: HashMap<String, Token>,
    pub refresh_tokens: HashMap<String, Token>,
    pub clock_offset: SignedDuration,
    /// Accepted requests of the last hour per access token.
    pub windows: HashMap<String, VecDeque<Timestamp>>,
    /// Accepted requests of the last hour per client id (kept while an app limit is set).
    pub app_windows: HashMap<String, VecDeque<Timestamp>>,
    pub counters: Counters,
    pub request_seq: u64,
    /// API requests still to answer 503 (an outage after a lost answer, [`crate::WriteReading`]).
    pub outage_left: u32,
    /// The ids `/v1/my/userinfo` gave each access token under [`crate::UserinfoId::PerToken`].
    pub userinfo_ids: HashMap<String, i64>,
}

const HOUR: SignedDuration = SignedDuration::from_hours(1);
const TEN_SECONDS: SignedDuration = SignedDuration::from_secs(10);

/// How long until one more request fits in `window` under `per_hour` and `per_10s` (zero: now).
fn wait_for(
    window: &VecDeque<Timestamp>,
    now: Timestamp,
    per_hour: Option<u32>,
    per_10s: Option<u32>,
) -> SignedDuration {
    let mut wait = SignedDuration::ZERO;
    for (limit, span) in [(per_hour, HOUR), (per_10s, TEN_SECONDS)] {
        let Some(limit) = limit.map(|l| l as usize) else {
            continue;
        };
        let inside = window
            .iter()
            .rev()
            .take_while(|t| now.duration_since(**t) < span)
            .count();
        if inside < limit {
            continue;
        }
        // the request `limit` places back must leave the span; a limit of 0 refuses everything
        wait = wait.max(if limit == 0 {
            span
        } else {
            span - now.duration_since(window[window.len() - limit])
        });
    }
    wait
}

fn forget_before_the_hour(window: &mut VecDeque<Timestamp>, now: Timestamp) {
    while window
        .front()
        .is_some_and(|t| now.duration_since(*t) >= HOUR)
    {
        window.pop_front();
    }
}

fn whole_seconds(wait: SignedDuration) -> u64 {
    let secs = wait.as_secs() + i64::from(wait.subsec_nanos() > 0);
    secs.max(1) as u64
}

impl State {
    pub fn new(config: SandboxConfig, accounts: Vec<Account>) -> Self {
        let by_user = accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.user_id, i))
            .collect();
        let max_id = accounts
            .iter()
            .flat_map(|a| a.activities.iter().map(|r| r.id))
            .max()
            .unwrap_or(crate::generate::FIRST_ID);
        State {
            config,
            accounts,
            by_user,
            sign_in_as: 0,
            max_id,
            codes: HashMap::new(),
            tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            clock_offset: SignedDuration::ZERO,
            windows: HashMap::new(),
            app_windows: HashMap::new(),
            counters: Counters::default(),
            request_seq: 0,
            outage_left: 0,
            userinfo_ids: HashMap::new(),
        }
    }

    /// The sandbox's clock: real time plus whatever tests advanced it by.
    pub fn now(&self) -> Timestamp {
        Timestamp::now() + self.clock_offset
    }

    pub fn now_naive(&self) -> String {
        utc_naive(self.now(), true)
    }

    /// Stores `activity` in `account`, replacing the one with its id.
    pub fn insert(&mut self, account: usize, activity: Activity) {
        self.max_id = self.max_id.max(activity.id);
        self.accounts[account].insert(activity);
    }

    /// A fresh activity id, above every account's.
    pub fn next_id(&self) -> i64 {
        self.max_id + 17
    }

    /// The account that holds activity `id`.
    pub fn owner_of(&self, id: i64) -> Option<usize> {
        self.accounts.iter().position(|a| a.by_id.contains_key(&id))
    }

    pub fn random_token(&self) -> String {
        let mut rng = rand::rng();
        (0..40)
            .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.random_range(0..36)]))
            .collect()
    }

    /// The counters of one account.
    pub fn account_counters(&mut self, account: usize) -> &mut AccountCounters {
        let user = self.accounts[account].user_id;
        self.counters.accounts.entry(user).or_default()
    }

    /// Records an accepted API request for `token` or says which limit refused it and how long
    /// to wait.
    pub fn admit(&mut self, token: &str) -> Result<(), Throttled> {
        let now = self.now();
        let Some((client, account)) = self
            .tokens
            .get(token)
            .map(|t| (t.client_id.clone(), t.account))
        else {
            return Ok(());
        };
        let limits = self.config.limits.clone();
        let user = self.accounts[account].user_id;
        let window = self.windows.entry(token.to_owned()).or_default();
        forget_before_the_hour(window, now);
        let app = limits
            .app_limited()
            .then(|| self.app_windows.entry(client).or_default());
        if limits.enabled {
            let refusal = match wait_for(window, now, Some(limits.per_hour), Some(limits.per_10s)) {
                wait if wait > SignedDuration::ZERO => Some(Throttled::Token(whole_seconds(wait))),
                _ => app.as_deref().and_then(|app| {
                    let wait = wait_for(app, now, limits.app_per_hour, limits.app_per_10s);
                    (wait > SignedDuration::ZERO).then(|| Throttled::App(whole_seconds(wait)))
                }),
            };
            if let Some(refusal) = refusal {
                self.counters.rate_limited += 1;
                self.counters.accounts.entry(user).or_default().rate_limited += 1;
                return Err(refusal);
            }
        }
        window.push_back(now);
        let per_hour = window.len() as u32;
        let per_10s = window
            .iter()
            .rev()
            .take_while(|t| now.duration_since(**t) < TEN_SECONDS)
            .count() as u32;
        if let Some(app) = app {
            forget_before_the_hour(app, now);
            app.push_back(now);
        }
        let counters = &mut self.counters;
        counters.max_per_hour = counters.max_per_hour.max(per_hour);
        counters.max_per_10s = counters.max_per_10s.max(per_10s);
        let mine = counters.accounts.entry(user).or_default();
        mine.max_per_hour = mine.max_per_hour.max(per_hour);
        mine.max_per_10s = mine.max_per_10s.max(per_10s);
        Ok(())
    }

    /// The access token is valid now.
    pub fn token_valid(&self, token: &str) -> bool {
        self.tokens
            .get(token)
            .is_some_and(|t| !t.revoked && t.expires > self.now())
    }

    /// The quirks in force for one answer about `account` ([`crate::quirks`]).
    pub fn serving(&self, account: usize) -> crate::quirks::Serving<'_> {
        crate::quirks::Serving::new(
            &self.config.quirks,
            self.config.seed,
            &self.accounts[account].activities,
        )
    }
}
