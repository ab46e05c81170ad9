//! Listings of activities and ids: the parsed answer ([`Listing`]), the unpaged request with its
//! fallback to pages, the paged ones, and the window of run days.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde_json::value::RawValue;

use crate::{Activity, Error, Event, Paged, Rejected, SmashRunClient, parse_activity_in};

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

impl SmashRunClient {
    /// Parses a listing body with this client's home zone ([`parse_listing`]).
    fn listing_parser(&self) -> impl Fn(&[u8]) -> Result<Listing, String> + Copy + '_ {
        let home = self.config().home_zone.as_ref();
        move |bytes: &[u8]| parse_listing(bytes, home).map_err(|e| e.to_string())
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
            self.config().request_timeout,
            self.config().retry.max_attempts,
            self.listing_parser(),
        )
        .await
    }

    /// The most recent activity, if any.
    pub async fn latest_activity(&self) -> Result<Option<Activity>, Error> {
        let page = self.page(ListingStyle::Summary, 0, 1, None).await?;
        Ok(page.activities.into_iter().next())
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
        if self.config().unpaged {
            match self.unpaged_listing(since).await {
                Ok(all) => return Ok(all),
                Err(e) => self.fall_back(e)?,
            }
        }
        Ok(self
            .paged_listing(since, self.config().page_size)
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
            self.config().unpaged_timeout,
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
            self.config().unpaged_timeout,
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

    /// The ids of every listed activity: one unpaged request where possible, else page by page.
    /// Unverified: a sync checks the size against [`SmashRunClient::run_count`].
    pub async fn all_ids(&self) -> Result<Vec<i64>, Error> {
        if self.config().unpaged {
            match self.unpaged_ids().await {
                Ok(all) => return Ok(all),
                Err(e) => self.fall_back(e)?,
            }
        }
        Ok(self.paged_ids(self.config().page_size).await?.items)
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
            self.config().page_size,
            self.listing_parser(),
            Listing::len,
            take,
        )
        .await
    }
}

/// Parses a listing (a JSON array of activity summaries) item by item, reading offset-less
/// starts in `home` ([`parse_activity_in`]). Every item ends up either in `activities` or in
/// `rejected` (raw, with the reason), in the order received: one bad activity never hides the
/// others. Fails only when the body is not a JSON array. Never panics.
pub fn parse_listing(bytes: &[u8], home: Option<&TimeZone>) -> Result<Listing, serde_json::Error> {
    // borrowed from the body: no second copy of a listing that can be tens of megabytes
    let items: Vec<&RawValue> = serde_json::from_slice(bytes)?;
    // sized once: growing by doubling would hold two copies of a large listing for a moment
    let mut listing = Listing {
        activities: Vec::with_capacity(items.len()),
        rejected: Vec::new(),
    };
    for item in items {
        match parse_activity_in(item.get(), home) {
            Ok(a) => listing.activities.push(a),
            Err(r) => listing.rejected.push(r),
        }
    }
    Ok(listing)
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
