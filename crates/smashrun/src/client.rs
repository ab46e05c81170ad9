//! The REST client: every request goes through the rate budget, carries the current token, and
//! is retried within bounds when the network or SmashRun fails (`fetch`, the one request
//! loop). Listings and paging add to [`SmashRunClient`] in their own modules; the
//! single resources (user, stats, one activity, splits) are here.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::oauth::snippet;
use crate::retry::Failure;
use crate::{
    Error, Event, Observer, RateBudget, RetryPolicy, Split, SplitUnit, TokenProvider, UserInfo,
    WaitReason, parse_retry_after,
};

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

/// The SmashRun REST API.
pub struct SmashRunClient {
    pub(crate) http: reqwest::Client,
    config: ClientConfig,
    pub(crate) tokens: Arc<dyn TokenProvider>,
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

    pub(crate) fn emit(&self, event: Event) {
        if let Some(observer) = &self.observer {
            observer(&event);
        }
    }

    /// Counts one request sent to `path` (every attempt counts), and tells the observer.
    pub(crate) fn count_request(&self, path: &str) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.emit(Event::Sent {
            path: path.to_owned(),
        });
    }

    pub(crate) async fn pause(&self, reason: WaitReason, wait: Duration, path: &str) {
        self.emit(Event::Waiting {
            reason,
            wait,
            path: path.to_owned(),
        });
        tokio::time::sleep(wait).await;
    }

    pub(crate) async fn wait_for_budget(&self, path: &str) {
        loop {
            match self.budget.try_acquire(tokio::time::Instant::now()) {
                Ok(()) => return,
                Err(wait) => self.pause(WaitReason::Budget, wait, path).await,
            }
        }
    }

    /// GETs `path`, parses the body with `parse`, and retries what deserves retrying.
    pub(crate) async fn fetch<T>(
        &self,
        path: &str,
        query: &[(&str, String)],
        timeout: Duration,
        max_attempts: u32,
        parse: impl Fn(&Bytes) -> Result<T, String>,
    ) -> Result<T, Error> {
        let url = format!("{}{}", self.config.api_url.trim_end_matches('/'), path);
        let (mut failures, mut limited, mut refreshed) = (0u32, 0u32, false);
        let mut token = self.tokens.access_token().await?;
        loop {
            self.wait_for_budget(path).await;
            self.count_request(path);
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
                                .unwrap_or_else(|| self.config.retry.backoff(limited))
                                .min(self.config.retry.max_wait);
                            self.pause(WaitReason::RateLimited, wait, path).await;
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
            let wait = self.config.retry.backoff(failures);
            self.pause(WaitReason::Retry, wait, path).await;
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
            |b: &Bytes| serde_json::from_slice(b).map_err(|e| e.to_string()),
        )
        .await
    }

    /// The token owner.
    pub async fn user_info(&self) -> Result<UserInfo, Error> {
        self.get_json("/my/userinfo", &[]).await
    }

    /// SmashRun's own count of the runner's runs (`/my/stats` `runCount`), an independent check
    /// of a listing's size; `None` when the answer has no such number.
    pub async fn run_count(&self) -> Result<Option<u64>, Error> {
        let stats = self.stats(None, None).await?;
        Ok(stats.get("runCount").and_then(Value::as_u64))
    }

    /// Brief objects (`activityId`, `startDateTimeLocal`, `distance`, `duration`) of one page.
    pub async fn briefs(&self, page: usize, count: usize) -> Result<Vec<Value>, Error> {
        self.get_json(
            "/my/activities/search/briefs",
            &[("page", page.to_string()), ("count", count.to_string())],
        )
        .await
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
