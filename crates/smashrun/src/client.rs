//! The REST client: every request goes through the rate budget, carries the current token, and
//! is retried within bounds when the network or SmashRun fails.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use rand::Rng;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::oauth::snippet;
use crate::{
    Activity, Error, RateBudget, Rejected, Secret, Split, SplitUnit, UserInfo, parse_activity,
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
        }
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

    fn backoff(&self, attempt: u32) -> Duration {
        let policy = &self.config.retry;
        let exp = policy
            .base_delay
            .saturating_mul(1 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(policy.max_delay);
        capped.mul_f64(rand::rng().random_range(0.5..1.0))
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
                                .and_then(|v| v.trim().parse::<u64>().ok())
                                .map(Duration::from_secs);
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
            parse_listing,
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
        let query: Vec<(&str, String)> = since
            .map(|s| ("fromDateUTC", s.as_second().to_string()))
            .into_iter()
            .collect();
        self.everything(
            "/my/activities/search",
            &query,
            parse_listing,
            Listing::len,
            Listing::extend,
        )
        .await
    }

    /// Everything at `path`: one unpaged request where possible (two attempts at most: a slow or
    /// broken unpaged answer is better replaced by pages), else page by page until a short page.
    async fn everything<T: Default>(
        &self,
        path: &str,
        query: &[(&str, String)],
        parse: impl Fn(&[u8]) -> Result<T, String> + Copy,
        len: impl Fn(&T) -> usize,
        extend: impl Fn(&mut T, T),
    ) -> Result<T, Error> {
        if self.config.unpaged {
            match self
                .fetch(path, query, self.config.unpaged_timeout, 2, parse)
                .await
            {
                Ok(all) => return Ok(all),
                Err(
                    e @ (Error::Transport { .. } | Error::Decode { .. } | Error::Status { .. }),
                ) => {
                    self.emit(Event::FallingBackToPaging {
                        cause: e.to_string(),
                    });
                }
                Err(e) => return Err(e),
            }
        }
        let size = self.config.page_size;
        let mut all = T::default();
        for page in 0.. {
            let mut paged = query.to_vec();
            paged.extend([("page", page.to_string()), ("count", size.to_string())]);
            let chunk = self
                .fetch(
                    path,
                    &paged,
                    self.config.request_timeout,
                    self.config.retry.max_attempts,
                    parse,
                )
                .await?;
            let short = len(&chunk) < size;
            extend(&mut all, chunk);
            if short {
                break;
            }
        }
        Ok(all)
    }

    /// Activities whose run date (the local date of their start) is within `since..=until`,
    /// paging newest first and stopping once past `since`: SmashRun has no date filter.
    pub async fn activities_between(
        &self,
        since: Option<Date>,
        until: Option<Date>,
    ) -> Result<Listing, Error> {
        let mut kept = Listing::default();
        for page in 0.. {
            let chunk = self
                .page(ListingStyle::Summary, page, self.config.page_size, None)
                .await?;
            let short = chunk.len() < self.config.page_size;
            // pages are ordered by instant; local dates may disagree by a day across zones
            let past_window = since.is_some_and(|s| {
                chunk
                    .activities
                    .last()
                    .is_some_and(|a| a.start.date() < s.yesterday().unwrap_or(s))
            });
            let in_window = |d: Date| since.is_none_or(|s| d >= s) && until.is_none_or(|u| d <= u);
            kept.activities.extend(
                chunk
                    .activities
                    .into_iter()
                    .filter(|a| in_window(a.start.date())),
            );
            kept.rejected.extend(chunk.rejected);
            if short || past_window {
                break;
            }
        }
        Ok(kept)
    }

    /// The ids of every listed activity: what reconciling deletions needs.
    pub async fn all_ids(&self) -> Result<Vec<i64>, Error> {
        let parse = |b: &[u8]| serde_json::from_slice::<Vec<i64>>(b).map_err(|e| e.to_string());
        self.everything(
            "/my/activities/search/ids",
            &[],
            parse,
            Vec::len,
            |all: &mut Vec<i64>, chunk| all.extend(chunk),
        )
        .await
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

/// Parses a listing item by item: one bad activity is kept raw and never hides the others.
fn parse_listing(bytes: &[u8]) -> Result<Listing, String> {
    // borrowed from the body: no second copy of a listing that can be tens of megabytes
    let items: Vec<&RawValue> = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let mut listing = Listing::default();
    for item in items {
        match parse_activity(item.get()) {
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
