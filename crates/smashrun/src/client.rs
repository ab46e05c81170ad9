//! The REST client: every request goes through the rate budget, carries the current token, and
//! is retried within bounds when the network or SmashRun fails.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rand::Rng;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::oauth::snippet;
use crate::{
    Activity, Error, RateBudget, Rejected, Secret, Split, SplitUnit, UserInfo, parse_activity_in,
};

/// A boxed future of a token.
pub type TokenFuture<'a> = Pin<Box<dyn Future<Output = Result<Secret, Error>> + Send + 'a>>;

/// Where the client gets its access token; the caller owns storage and refresh policy.
pub trait TokenProvider: Send + Sync {
    /// The token to send now. An implementation refreshes first when the token is due.
    fn access_token(&self) -> TokenFuture<'_>;
    /// Called once after SmashRun answered 401 to `rejected`: refresh and return the new token,
    /// or [`Error::Reauthorize`] when that is impossible.
    fn refresh(&self, rejected: &Secret) -> TokenFuture<'_>;
}

/// A token that cannot be refreshed (a personal token, or a test).
#[derive(Clone, Debug)]
pub struct StaticToken(pub Secret);

impl TokenProvider for StaticToken {
    fn access_token(&self) -> TokenFuture<'_> {
        let token = self.0.clone();
        Box::pin(async move { Ok(token) })
    }

    fn refresh(&self, _rejected: &Secret) -> TokenFuture<'_> {
        Box::pin(async {
            Err(Error::Reauthorize {
                description: "this token cannot be refreshed".into(),
            })
        })
    }
}

/// Why the client is waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitReason {
    /// Our own budget is spent for the moment.
    Budget,
    /// SmashRun answered 429.
    RateLimited,
    /// Backing off before retrying a failure.
    Retry,
}

/// Something a progress display may want to say.
#[derive(Clone, Debug)]
pub enum Event {
    /// Waiting before the next request.
    Waiting {
        /// Why.
        reason: WaitReason,
        /// For how long.
        wait: Duration,
        /// The request that waits.
        path: String,
    },
    /// A request failed and will be tried again.
    Retrying {
        /// Attempts so far.
        attempt: u32,
        /// The request.
        path: String,
        /// What went wrong.
        cause: String,
    },
    /// The unpaged listing failed; paging instead.
    FallingBackToPaging {
        /// What went wrong.
        cause: String,
    },
}

/// A callback that sees every [`Event`].
pub type Observer = Arc<dyn Fn(&Event) + Send + Sync>;

/// How failures are retried.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts per request for 5xx, timeouts, dropped connections and truncated bodies.
    pub max_attempts: u32,
    /// First backoff delay; doubled each time, with jitter.
    pub base_delay: Duration,
    /// Longest backoff delay.
    pub max_delay: Duration,
    /// How many 429s one request may wait out.
    pub max_rate_limit_waits: u32,
    /// Longest single wait honoured for `Retry-After`.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_rate_limit_waits: 10,
            max_wait: Duration::from_secs(3600),
        }
    }
}

/// How the client talks to the API.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// `https://api.smashrun.com/v1` or a stand-in.
    pub api_url: String,
    /// Timeout of one ordinary request.
    pub request_timeout: Duration,
    /// Timeout of the unpaged full listing before falling back to paging.
    pub unpaged_timeout: Duration,
    /// Retries.
    pub retry: RetryPolicy,
    /// Page size when paging (SmashRun's maximum is believed to be 100).
    pub page_size: usize,
    /// Try the unpaged request for full listings (SmashRun's operators prefer it).
    pub unpaged: bool,
    /// The runner's home zone (`MYRUNSTREAK_TIMEZONE`): a start written without an offset is
    /// read as a wall time there; without one, UTC is assumed. Either way its day is the date
    /// written.
    pub home_zone: Option<TimeZone>,
}

impl ClientConfig {
    /// Defaults for `api_url`.
    pub fn new(api_url: impl Into<String>) -> Self {
        ClientConfig {
            api_url: api_url.into(),
            request_timeout: Duration::from_secs(30),
            unpaged_timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            page_size: 100,
            unpaged: true,
            home_zone: None,
        }
    }

    /// The same, reading offset-less starts in `zone` (see [`ClientConfig::home_zone`]).
    pub fn with_home_zone(mut self, zone: Option<TimeZone>) -> Self {
        self.home_zone = zone;
        self
    }
}

/// Activities from a listing: those that parsed, and those kept raw with a reason.
#[derive(Clone, Debug, Default)]
pub struct Listing {
    /// Parsed activities, in SmashRun's order (newest first).
    pub activities: Vec<Activity>,
    /// Activities that could not be read.
    pub rejected: Vec<Rejected>,
}

impl Listing {
    /// Number of items, parsed or not.
    pub fn len(&self) -> usize {
        self.activities.len() + self.rejected.len()
    }

    /// Whether there is nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn extend(&mut self, other: Listing) {
        self.activities.extend(other.activities);
        self.rejected.extend(other.rejected);
    }
}

/// What explicit paging gave, and whether the server said that was everything.
#[derive(Clone, Debug, Default)]
pub struct Paged<T> {
    /// The items of every page read.
    pub items: T,
    /// Requests it took (pages read, the final empty one included).
    pub pages: usize,
    /// Paging ended on an empty page: SmashRun's own end-of-listing signal. A short page is not
    /// one (a server may cap pages below what was asked for).
    pub complete: bool,
    /// Why the listing is not known to be complete, when it is not.
    pub problem: Option<String>,
}

/// Most pages one listing may take: at a page size of 10, a history of 100,000 runs.
pub const MAX_PAGES: usize = 10_000;

/// The listing styles of `/my/activities/search`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListingStyle {
    /// Summaries.
    Summary,
    /// Summaries plus the extended fields.
    Extended,
}

/// The SmashRun REST API.
pub struct SmashRunClient {
    http: reqwest::Client,
    config: ClientConfig,
    tokens: Arc<dyn TokenProvider>,
    budget: Arc<RateBudget>,
    observer: Option<Observer>,
    requests: AtomicU64,
}

impl SmashRunClient {
    /// A client for `config` using `tokens`, with SmashRun's rate budget.
    pub fn new(
        http: reqwest::Client,
        config: ClientConfig,
        tokens: Arc<dyn TokenProvider>,
    ) -> Self {
        SmashRunClient {
            http,
            config,
            tokens,
            budget: Arc::new(RateBudget::smashrun()),
            observer: None,
            requests: AtomicU64::new(0),
        }
    }

    /// Uses another budget (shared between clients of one token, or unlimited in tests).
    pub fn with_budget(mut self, budget: Arc<RateBudget>) -> Self {
        self.budget = budget;
        self
    }

    /// Reports waits, retries and fallbacks to `observer`.
    pub fn with_observer(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// How this client talks to the API.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The rate budget in use.
    pub fn budget(&self) -> &RateBudget {
        &self.budget
    }

    /// Requests sent so far (every attempt counts).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn emit(&self, event: Event) {
        if let Some(observer) = &self.observer {
            observer(&event);
        }
    }

    /// Parses a listing body with this client's home zone ([`parse_listing`]).
    fn listing_parser(&self) -> impl Fn(&[u8]) -> Result<Listing, String> + Copy + '_ {
        let home = self.config.home_zone.as_ref();
        move |bytes: &[u8]| parse_listing(bytes, home).map_err(|e| e.to_string())
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let policy = &self.config.retry;
        let exp = policy
            .base_delay
            .saturating_mul(1 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(policy.max_delay);
        // jitter without `mul_f64`, which panics when the product does not fit a Duration
        Duration::try_from_secs_f64(capped.as_secs_f64() * rand::rng().random_range(0.5..1.0))
            .unwrap_or(capped)
    }

    async fn sleep(&self, reason: WaitReason, wait: Duration, path: &str) {
        self.emit(Event::Waiting {
            reason,
            wait,
            path: path.to_owned(),
        });
        tokio::time::sleep(wait).await;
    }

    async fn wait_for_budget(&self, path: &str) {
        loop {
            match self.budget.try_acquire(tokio::time::Instant::now()) {
                Ok(()) => return,
                Err(wait) => self.sleep(WaitReason::Budget, wait, path).await,
            }
        }
    }

    /// GETs `path`, parses the body with `parse`, and retries what deserves retrying.
    async fn fetch<T>(
        &self,
        path: &str,
        query: &[(&str, String)],
        timeout: Duration,
        max_attempts: u32,
        parse: impl Fn(&[u8]) -> Result<T, String>,
    ) -> Result<T, Error> {
        let url = format!("{}{}", self.config.api_url.trim_end_matches('/'), path);
        let (mut failures, mut limited, mut refreshed) = (0u32, 0u32, false);
        let mut token = self.tokens.access_token().await?;
        loop {
            self.wait_for_budget(path).await;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let sent = self
                .http
                .get(&url)
                .query(query)
                .bearer_auth(token.expose())
                .timeout(timeout)
                .send()
                .await;
            let failure = match sent {
                Err(e) => Failure::Transport(e),
                Ok(response) => {
                    let status = response.status();
                    match status {
                        s if s.is_success() => match response.bytes().await {
                            Err(e) => Failure::Transport(e),
                            Ok(bytes) => match parse(&bytes) {
                                Ok(value) => return Ok(value),
                                Err(detail) => Failure::Decode(detail, snippet(&bytes)),
                            },
                        },
                        StatusCode::UNAUTHORIZED if !refreshed => {
                            refreshed = true;
                            token = self.tokens.refresh(&token).await?;
                            continue;
                        }
                        StatusCode::UNAUTHORIZED => {
                            return Err(Error::Unauthorized {
                                method: "GET",
                                path: path.to_owned(),
                            });
                        }
                        StatusCode::NOT_FOUND => {
                            return Err(Error::NotFound {
                                method: "GET",
                                path: path.to_owned(),
                            });
                        }
                        StatusCode::TOO_MANY_REQUESTS => {
                            limited += 1;
                            let retry_after = response
                                .headers()
                                .get(reqwest::header::RETRY_AFTER)
                                .and_then(|v| v.to_str().ok())
                                .and_then(|v| parse_retry_after(v, Timestamp::now()));
                            if limited > self.config.retry.max_rate_limit_waits {
                                return Err(Error::RateLimited {
                                    method: "GET",
                                    path: path.to_owned(),
                                    retry_after,
                                });
                            }
                            let wait = retry_after
                                .unwrap_or_else(|| self.backoff(limited))
                                .min(self.config.retry.max_wait);
                            self.sleep(WaitReason::RateLimited, wait, path).await;
                            continue;
                        }
                        s if s.is_server_error() || s == StatusCode::REQUEST_TIMEOUT => {
                            let body = response
                                .bytes()
                                .await
                                .map(|b| snippet(&b))
                                .unwrap_or_default();
                            Failure::Status(s.as_u16(), body)
                        }
                        s => {
                            let body = response
                                .bytes()
                                .await
                                .map(|b| snippet(&b))
                                .unwrap_or_default();
                            return Err(Error::Status {
                                method: "GET",
                                path: path.to_owned(),
                                status: s.as_u16(),
                                body,
                            });
                        }
                    }
                }
            };
            failures += 1;
            if failures >= max_attempts {
                return Err(failure.into_error(path, &self.config.api_url));
            }
            self.emit(Event::Retrying {
                attempt: failures,
                path: path.to_owned(),
                cause: failure.describe(),
            });
            let wait = self.backoff(failures);
            self.sleep(WaitReason::Retry, wait, path).await;
        }
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, Error> {
        self.fetch(
            path,
            query,
            self.config.request_timeout,
            self.config.retry.max_attempts,
            |b| serde_json::from_slice(b).map_err(|e| e.to_string()),
        )
        .await
    }

    /// The token owner.
    pub async fn user_info(&self) -> Result<UserInfo, Error> {
        self.get_json("/my/userinfo", &[]).await
    }

    /// One page of activities, optionally only those created or updated since an instant.
    pub async fn page(
        &self,
        style: ListingStyle,
        page: usize,
        count: usize,
        updated_since: Option<Timestamp>,
    ) -> Result<Listing, Error> {
        let mut query = vec![("page", page.to_string()), ("count", count.to_string())];
        if let Some(since) = updated_since {
            query.push(("fromDateUTC", since.as_second().to_string()));
        }
        let path = match style {
            ListingStyle::Summary => "/my/activities/search",
            ListingStyle::Extended => "/my/activities/search/extended",
        };
        self.fetch(
            path,
            &query,
            self.config.request_timeout,
            self.config.retry.max_attempts,
            self.listing_parser(),
        )
        .await
    }

    /// Every activity, in one unpaged request where possible, else page by page.
    pub async fn all_activities(&self) -> Result<Listing, Error> {
        self.listing(None).await
    }

    /// Every activity created or updated at or after `since` (SmashRun's `fromDateUTC`): what an
    /// incremental sync needs, late uploads of old runs included.
    pub async fn updated_since(&self, since: Timestamp) -> Result<Listing, Error> {
        self.listing(Some(since)).await
    }

    async fn listing(&self, since: Option<Timestamp>) -> Result<Listing, Error> {
        if self.config.unpaged {
            match self.unpaged_listing(since).await {
                Ok(all) => return Ok(all),
                Err(e) => self.fall_back(e)?,
            }
        }
        Ok(self
            .paged_listing(since, self.config.page_size)
            .await?
            .items)
    }

    /// The listing in one unpaged request (two attempts at most: a slow or broken unpaged answer
    /// is better replaced by pages). Whether SmashRun answers it whole or only its first 100 is
    /// contested: the caller verifies the answer.
    pub async fn unpaged_listing(&self, since: Option<Timestamp>) -> Result<Listing, Error> {
        let query = since_query(since);
        self.fetch(
            "/my/activities/search",
            &query,
            self.config.unpaged_timeout,
            2,
            self.listing_parser(),
        )
        .await
    }

    /// The listing page by page, `page_size` at a time, until an empty page.
    pub async fn paged_listing(
        &self,
        since: Option<Timestamp>,
        page_size: usize,
    ) -> Result<Paged<Listing>, Error> {
        self.paged(
            "/my/activities/search",
            &since_query(since),
            page_size,
            self.listing_parser(),
            Listing::len,
            |all, chunk| {
                all.extend(chunk);
                false
            },
        )
        .await
    }

    /// Every id in one unpaged request (see [`SmashRunClient::unpaged_listing`]).
    pub async fn unpaged_ids(&self) -> Result<Vec<i64>, Error> {
        self.fetch(
            "/my/activities/search/ids",
            &[],
            self.config.unpaged_timeout,
            2,
            parse_ids,
        )
        .await
    }

    /// Every id, page by page until an empty page.
    pub async fn paged_ids(&self, page_size: usize) -> Result<Paged<Vec<i64>>, Error> {
        self.paged(
            "/my/activities/search/ids",
            &[],
            page_size,
            parse_ids,
            Vec::len,
            |all: &mut Vec<i64>, chunk| {
                all.extend(chunk);
                false
            },
        )
        .await
    }

    /// SmashRun's own count of the runner's runs (`/my/stats` `runCount`), an independent check
    /// of a listing's size; `None` when the answer has no such number.
    pub async fn run_count(&self) -> Result<Option<u64>, Error> {
        let stats = self.stats(None, None).await?;
        Ok(stats.get("runCount").and_then(Value::as_u64))
    }

    /// Which failures of an unpaged request are worth paging for; the others are returned.
    fn fall_back(&self, e: Error) -> Result<(), Error> {
        if !e.worth_paging() {
            return Err(e);
        }
        self.emit(Event::FallingBackToPaging {
            cause: e.to_string(),
        });
        Ok(())
    }

    /// Everything at `path`, page by page. It ends on an empty page only: a short page is no
    /// proof of the end, since a server may cap pages below `page_size`. A server that answers
    /// two pages alike ignores `page`: paging stops there with the listing marked incomplete
    /// instead of looping. At most [`MAX_PAGES`] pages. `take` adds a page to what is kept and
    /// says whether the caller has all it wants (a window's start passed): that ends the listing
    /// complete too.
    async fn paged<T: Default>(
        &self,
        path: &str,
        query: &[(&str, String)],
        page_size: usize,
        parse: impl Fn(&[u8]) -> Result<T, String> + Copy,
        len: impl Fn(&T) -> usize,
        mut take: impl FnMut(&mut T, T) -> bool,
    ) -> Result<Paged<T>, Error> {
        let size = page_size.max(1);
        let mut all = T::default();
        let mut previous: Option<u64> = None;
        for page in 0..MAX_PAGES {
            let mut paged = query.to_vec();
            paged.extend([("page", page.to_string()), ("count", size.to_string())]);
            let (chunk, digest) = self
                .fetch(
                    path,
                    &paged,
                    self.config.request_timeout,
                    self.config.retry.max_attempts,
                    |bytes| parse(bytes).map(|t| (t, digest(bytes))),
                )
                .await?;
            let n = len(&chunk);
            if n == 0 {
                return Ok(Paged {
                    items: all,
                    pages: page + 1,
                    complete: true,
                    problem: None,
                });
            }
            if previous == Some(digest) {
                return Ok(Paged {
                    items: all,
                    pages: page + 1,
                    complete: false,
                    problem: Some(format!(
                        "SmashRun answered page {page} with the same {n} items as page {}: it seems to ignore `page`, so the listing may be incomplete",
                        page - 1
                    )),
                });
            }
            previous = Some(digest);
            if take(&mut all, chunk) {
                return Ok(Paged {
                    items: all,
                    pages: page + 1,
                    complete: true,
                    problem: None,
                });
            }
        }
        Ok(Paged {
            items: all,
            pages: MAX_PAGES,
            complete: false,
            problem: Some(format!(
                "stopped after {MAX_PAGES} pages of {size} without reaching an empty page"
            )),
        })
    }

    /// Activities whose run date (the local date of their start) is within `since..=until`,
    /// paging newest first and stopping once past `since`: SmashRun has no date filter.
    pub async fn activities_between(
        &self,
        since: Option<Date>,
        until: Option<Date>,
    ) -> Result<Listing, Error> {
        Ok(self.window(since, until).await?.items)
    }

    /// [`SmashRunClient::activities_between`], saying whether the window was read whole: paging
    /// ends on an empty page or once a page is past the window's start, and a server that
    /// ignores `page` leaves the window incomplete.
    pub async fn window(
        &self,
        since: Option<Date>,
        until: Option<Date>,
    ) -> Result<Paged<Listing>, Error> {
        let in_window = |d: Date| since.is_none_or(|s| d >= s) && until.is_none_or(|u| d <= u);
        let take = |kept: &mut Listing, chunk: Listing| {
            // pages are ordered by instant; local dates may disagree by a day across zones
            let past_window = since.is_some_and(|s| {
                chunk
                    .activities
                    .last()
                    .is_some_and(|a| a.start.date() < s.yesterday().unwrap_or(s))
            });
            kept.activities.extend(
                chunk
                    .activities
                    .into_iter()
                    .filter(|a| in_window(a.start.date())),
            );
            kept.rejected.extend(chunk.rejected);
            past_window
        };
        self.paged(
            "/my/activities/search",
            &[],
            self.config.page_size,
            self.listing_parser(),
            Listing::len,
            take,
        )
        .await
    }

    /// The ids of every listed activity: one unpaged request where possible, else page by page.
    /// Unverified: a sync checks the size against [`SmashRunClient::run_count`].
    pub async fn all_ids(&self) -> Result<Vec<i64>, Error> {
        if self.config.unpaged {
            match self.unpaged_ids().await {
                Ok(all) => return Ok(all),
                Err(e) => self.fall_back(e)?,
            }
        }
        Ok(self.paged_ids(self.config.page_size).await?.items)
    }

    /// Brief objects (`activityId`, `startDateTimeLocal`, `distance`, `duration`) of one page.
    pub async fn briefs(&self, page: usize, count: usize) -> Result<Vec<Value>, Error> {
        self.get_json(
            "/my/activities/search/briefs",
            &[("page", page.to_string()), ("count", count.to_string())],
        )
        .await
    }

    /// The most recent activity, if any.
    pub async fn latest_activity(&self) -> Result<Option<Activity>, Error> {
        let page = self.page(ListingStyle::Summary, 0, 1, None).await?;
        Ok(page.activities.into_iter().next())
    }

    /// One activity in SmashRun's full format (recording arrays, laps, ...), as raw JSON.
    pub async fn activity(&self, id: i64) -> Result<Value, Error> {
        self.get_json(&format!("/my/activities/{id}"), &[]).await
    }

    /// The splits of one activity.
    pub async fn splits(&self, id: i64, unit: SplitUnit) -> Result<Vec<Split>, Error> {
        self.get_json(
            &format!("/my/activities/{id}/splits/{}", unit.as_str()),
            &[],
        )
        .await
    }

    /// SmashRun's own statistics: all time, a year, or a month of a year.
    pub async fn stats(&self, year: Option<i16>, month: Option<i8>) -> Result<Value, Error> {
        let path = match (year, month) {
            (Some(y), Some(m)) => format!("/my/stats/{y}/{m}"),
            (Some(y), None) => format!("/my/stats/{y}"),
            _ => "/my/stats".to_owned(),
        };
        self.get_json(&path, &[]).await
    }
}

fn since_query(since: Option<Timestamp>) -> Vec<(&'static str, String)> {
    since
        .map(|s| ("fromDateUTC", s.as_second().to_string()))
        .into_iter()
        .collect()
}

fn parse_ids(bytes: &[u8]) -> Result<Vec<i64>, String> {
    serde_json::from_slice::<Vec<i64>>(bytes).map_err(|e| e.to_string())
}

/// A fingerprint of a page's bytes, to notice a server answering two pages alike.
fn digest(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

/// How long a `Retry-After` header asks to wait, read at `now`: whole or fractional seconds
/// (`120`, `1.5`), or an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`; one already past asks for
/// no wait). A value too large for a [`Duration`] is [`Duration::MAX`] (the caller caps waits).
/// Negative numbers, `NaN`, infinities and anything else are `None`: the caller backs off
/// exponentially instead. Never panics.
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0)
            .then(|| Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX));
    }
    let at = jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(value)
        .ok()?;
    let wait = at.duration_since(now);
    Some(if wait.is_negative() {
        Duration::ZERO
    } else {
        wait.unsigned_abs()
    })
}

/// Parses a listing (a JSON array of activity summaries) item by item, reading offset-less
/// starts in `home` ([`parse_activity_in`]). Every item ends up either in `activities` or in
/// `rejected` (raw, with the reason), in the order received: one bad activity never hides the
/// others. Fails only when the body is not a JSON array. Never panics.
pub fn parse_listing(bytes: &[u8], home: Option<&TimeZone>) -> Result<Listing, serde_json::Error> {
    // borrowed from the body: no second copy of a listing that can be tens of megabytes
    let items: Vec<&RawValue> = serde_json::from_slice(bytes)?;
    let mut listing = Listing::default();
    for item in items {
        match parse_activity_in(item.get(), home) {
            Ok(a) => listing.activities.push(a),
            Err(r) => listing.rejected.push(r),
        }
    }
    Ok(listing)
}

enum Failure {
    Transport(reqwest::Error),
    Status(u16, String),
    Decode(String, String),
}

impl Failure {
    fn describe(&self) -> String {
        match self {
            Failure::Transport(e) => format!("network: {}", error_chain(e)),
            Failure::Status(s, _) => format!("status {s}"),
            Failure::Decode(d, _) => format!("bad JSON: {d}"),
        }
    }

    fn into_error(self, path: &str, base: &str) -> Error {
        let path = path.to_owned();
        match self {
            Failure::Transport(source) => Error::Transport {
                method: "GET",
                path,
                base: base.to_owned(),
                source: source.without_url(),
            },
            Failure::Status(status, body) => Error::Status {
                method: "GET",
                path,
                status,
                body,
            },
            Failure::Decode(detail, snippet) => Error::Decode {
                method: "GET",
                path,
                detail,
                snippet,
            },
        }
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
