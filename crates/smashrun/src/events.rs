//! What the client reports while it works (requests sent, waits, retries, fallbacks), for a
//! progress display and for budgets wider than one client.

use std::sync::Arc;
use std::time::Duration;

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
    /// A request is sent (every attempt, a retry included): what an app-wide budget counts.
    Sent {
        /// The request.
        path: String,
    },
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
