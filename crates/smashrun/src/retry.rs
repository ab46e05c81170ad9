//! When and how a failed request is tried again: the policy, the backoff, what a 429's
//! `Retry-After` asks for, and the failures worth another attempt (transport errors, 5xx and
//! 408, bodies that did not parse) with the error each becomes when attempts run out.

use std::time::Duration;

use jiff::Timestamp;
use rand::Rng;

use crate::Error;

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

impl RetryPolicy {
    /// How long to wait before attempt `attempt + 1`: the base delay doubled per attempt, capped,
    /// with jitter (half to all of it).
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(self.max_delay);
        // jitter without `mul_f64`, which panics when the product does not fit a Duration
        Duration::try_from_secs_f64(capped.as_secs_f64() * rand::rng().random_range(0.5..1.0))
            .unwrap_or(capped)
    }
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

/// A failure worth another attempt.
pub(crate) enum Failure {
    Transport(reqwest::Error),
    Status(u16, String),
    Decode(String, String),
}

impl Failure {
    /// For [`Event::Retrying`](crate::Event::Retrying).
    pub(crate) fn describe(&self) -> String {
        match self {
            Failure::Transport(e) => format!("network: {}", error_chain(e)),
            Failure::Status(s, _) => format!("status {s}"),
            Failure::Decode(d, _) => format!("bad JSON: {d}"),
        }
    }

    /// The error to return once attempts run out.
    pub(crate) fn into_error(self, path: &str, base: &str) -> Error {
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
