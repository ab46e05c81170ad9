//! The readings of SmashRun's listing that public evidence leaves open, one switch each, so that
//! a client can be proven right under every one of them (`shared/docs/smashrun-api.md`, "Listing
//! parameters"). The defaults are the documented reading: unpaged means everything, `fromDateUTC`
//! is UTC, `page` is honoured, and every run is listed.
//!
//! `GET`/`PUT /_sandbox/listing` reads and replaces them.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::{Shared, lock};

/// How the sandbox reads the contested listing parameters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListingReading {
    /// The capped reading: a request without `page` and `count` returns only this many (one
    /// public client says the ids listing stops at 100). `None`: everything.
    pub unpaged_cap: Option<usize>,
    /// `fromDate`/`fromDateUTC` are compared in the runner's local time: the seconds given are
    /// read as a wall clock in the home zone (west of UTC that asks for less than was meant).
    pub from_date_local: bool,
    /// The server ignores `page` and answers the first page every time.
    pub ignore_page: bool,
    /// The server starts page `n` at `n` times the *asked* `count` even when it returns fewer
    /// (its page cap is lower): the runs in between are never listed.
    pub offset_by_asked_count: bool,
    /// A glitch: listings show only this share of the runs (the newest), though none was
    /// deleted. `None`: every run.
    pub keep_share: Option<f64>,
    /// During such a glitch, `/my/stats` still counts every run (so `runCount` disagrees with
    /// the listing); otherwise it counts what is listed.
    pub stats_see_hidden: bool,
}

impl ListingReading {
    /// The instant a `fromDate` value selects from, under this reading.
    pub(crate) fn selects_from(&self, seconds: i64, home: &TimeZone) -> Option<Timestamp> {
        let given = Timestamp::from_second(seconds).ok()?;
        if !self.from_date_local {
            return Some(given);
        }
        // the seconds are a local wall clock: 12:00 "local" in New York is 16:00 or 17:00 UTC
        let wall = given.to_zoned_datetime(TimeZone::UTC).datetime();
        wall.to_zoned_datetime(home.clone())
            .ok()
            .map(|z| z.timestamp())
    }

    /// How many of `total` runs a listing shows (the newest first).
    pub(crate) fn shown(&self, total: usize) -> usize {
        match self.keep_share {
            Some(share) if share.is_finite() => {
                ((total as f64) * share.clamp(0.0, 1.0)).round() as usize
            }
            _ => total,
        }
    }
}

pub(crate) fn routes() -> Router<Shared> {
    Router::new().route("/_sandbox/listing", get(get_reading).put(put_reading))
}

async fn get_reading(State(shared): State<Shared>) -> Response {
    Json(lock(&shared).config.listing.clone()).into_response()
}

async fn put_reading(
    State(shared): State<Shared>,
    Json(reading): Json<ListingReading>,
) -> Response {
    lock(&shared).config.listing = reading.clone();
    Json(reading).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_from_date_west_of_utc_starts_later() {
        let reading = ListingReading {
            from_date_local: true,
            ..ListingReading::default()
        };
        let ny = TimeZone::get("America/New_York").unwrap();
        let noon: Timestamp = "2026-05-01T12:00:00Z".parse().unwrap();
        let read = reading.selects_from(noon.as_second(), &ny).unwrap();
        assert_eq!(read.to_string(), "2026-05-01T16:00:00Z");
        let utc = ListingReading::default();
        assert_eq!(utc.selects_from(noon.as_second(), &ny), Some(noon));
    }

    #[test]
    fn a_glitch_shows_a_share() {
        let r = ListingReading {
            keep_share: Some(0.25),
            ..ListingReading::default()
        };
        assert_eq!(r.shown(100), 25);
        assert_eq!(ListingReading::default().shown(100), 100);
    }
}
