//! A SmashRun API client that survives the real network: OAuth 2.0 (authorization code flow,
//! refresh at half-life), every REST endpoint MyRunStreak uses, a rate budget that stays under
//! SmashRun's limits, and bounded retries of 5xx, 429, dropped connections and truncated bodies.
//!
//! It does **not** store anything: tokens come from a [`TokenProvider`] and go back to the
//! caller, activities are returned with their raw JSON for the caller to keep. It knows nothing
//! of databases, never reads the environment or a settings file (a [`ClientConfig`] is passed
//! in), and computes no streaks: what a run is, and which of SmashRun's fields are kept
//! ([`RunAttributes`](myrunstreak_domain::RunAttributes)), is the domain's to say.
//!
//! Activities are parsed the way real histories demand: `activityId`, `startDateTimeLocal` and
//! `distance` strictly (a start without an offset is kept on its written date, its offset marked
//! assumed); everything else leniently (unknown enum strings kept, ints or floats, missing keys,
//! garbage read as missing). One bad activity is returned as a [`Rejected`] with its raw JSON and
//! the reason; it never hides the others. Nothing the server sends can make the client panic.
//!
//! One module per concern: the request loop and single resources (`client`), listings
//! (`listing`), the paging loop (`paging`), retries (`retry`), progress events (`events`), the
//! token port (`provider`), OAuth (`oauth`), tokens (`tokens`), the rate budget (`budget`).
#![warn(missing_docs)]

mod budget;
mod client;
mod error;
mod events;
mod listing;
mod models;
mod oauth;
mod paging;
mod provider;
mod retry;
mod secret;
mod tokens;
mod write;

pub use budget::RateBudget;
pub use client::{ClientConfig, SmashRunClient};
pub use error::Error;
pub use events::{Event, Observer, WaitReason};
pub use listing::{Listing, ListingStyle, RawListing, parse_listing};
pub use models::{
    Activity, Rejected, SANE_YEARS, Split, SplitUnit, UserInfo, clip, parse_activity,
    parse_activity_in, parse_utc,
};
pub use oauth::{Authorization, OAuthClient, OAuthConfig, Scope};
pub use paging::{MAX_PAGES, Paged};
pub use provider::{StaticToken, TokenFuture, TokenProvider};
pub use retry::{RetryPolicy, parse_retry_after};
pub use secret::Secret;
pub use tokens::{TokenSet, token_lifetime};
pub use write::{NewActivity, created_id};
