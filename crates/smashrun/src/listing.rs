//! Listings of activities and ids: the parsed answer ([`Listing`]), the unpaged request with its
//! fallback to pages, the paged ones, and the window of run days.

use bytes::Bytes;
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

    /// [`Self::listing_parser`] for a whole body.
    fn body_parser(&self) -> impl Fn(&Bytes) -> Result<Listing, String> + Copy + '_ {
        let parse = self.listing_parser();
        move |bytes: &Bytes| parse(bytes)
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
            self.body_parser(),
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
        Ok(self.unpaged_raw(since).await?.parse_all())
    }

    /// [`SmashRunClient::unpaged_listing`] as it arrived: the body and where each item is in
    /// it, parsed a batch at a time by whoever writes it ([`RawListing::into_chunks`]), so that a
    /// long history is never held parsed all at once.
    pub async fn unpaged_raw(&self, since: Option<Timestamp>) -> Result<RawListing, Error> {
        let query = since_query(since);
        let home = self.config().home_zone.clone();
        self.fetch(
            "/my/activities/search",
            &query,
            self.config().unpaged_timeout,
            2,
            |bytes: &Bytes| RawListing::new(bytes.clone(), home.clone()).map_err(|e| e.to_string()),
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
            |b: &Bytes| parse_ids(b),
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
    Ok(parse_items(items.iter().map(|i| i.get()), home))
}

/// Each item parsed into `activities` or kept raw in `rejected`, in order.
fn parse_items<'a>(
    items: impl ExactSizeIterator<Item = &'a str>,
    home: Option<&TimeZone>,
) -> Listing {
    // sized once: growing by doubling would hold two copies of a large listing for a moment
    let mut listing = Listing {
        activities: Vec::with_capacity(items.len()),
        rejected: Vec::new(),
    };
    for item in items {
        match parse_activity_in(item, home) {
            Ok(a) => listing.activities.push(a),
            Err(r) => listing.rejected.push(r),
        }
    }
    listing
}

/// A listing as it arrived: the body, checked to be a JSON array, and where each item is in
/// it. Its activities are parsed a batch at a time ([`RawListing::into_chunks`]): a long history is
/// held as its bytes (about a kilobyte a run), never parsed all at once.
#[derive(Clone, Debug)]
pub struct RawListing {
    body: Bytes,
    /// Byte offset and length of each item in `body`.
    items: Vec<(usize, usize)>,
    home: Option<TimeZone>,
}

impl RawListing {
    /// The listing in `body`, whose offset-less starts are read in `home`. Fails only when the
    /// body is not a JSON array.
    pub fn new(body: impl Into<Bytes>, home: Option<TimeZone>) -> Result<Self, serde_json::Error> {
        let body = body.into();
        let items = {
            let raw: Vec<&RawValue> = serde_json::from_slice(&body)?;
            let base = body.as_ptr() as usize;
            raw.iter()
                .map(|item| (item.get().as_ptr() as usize - base, item.get().len()))
                .collect()
        };
        Ok(RawListing { body, items, home })
    }

    /// Number of items, readable or not.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there is nothing.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// The items in `range` (clamped to the listing), parsed as [`parse_listing`] does.
    pub fn parse(&self, range: std::ops::Range<usize>) -> Listing {
        let end = range.end.min(self.items.len());
        let start = range.start.min(end);
        let text = |&(at, len): &(usize, usize)| {
            // each span is a whole JSON value that serde_json read from this UTF-8 body
            std::str::from_utf8(&self.body[at..at + len]).unwrap_or_default()
        };
        parse_items(self.items[start..end].iter().map(text), self.home.as_ref())
    }

    /// Every item, parsed.
    pub fn parse_all(&self) -> Listing {
        self.parse(0..self.items.len())
    }

    /// The items `size` at a time (at least one), each batch parsed when it is reached; the
    /// listing goes with the iterator and is freed after the last batch.
    pub fn into_chunks(self, size: usize) -> impl Iterator<Item = Listing> + Send {
        let size = size.max(1);
        (0..self.items.len())
            .step_by(size)
            .map(move |start| self.parse(start..start + size))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn body(n: i64) -> Vec<u8> {
        let mut items: Vec<String> = (1..=n)
            .map(|id| {
                format!(
                    r#"{{"activityId":{id},"distance":5,"startDateTimeLocal":"2024-01-{:02}T07:00:00-05:00"}}"#,
                    id % 28 + 1
                )
            })
            .collect();
        // one unreadable activity in the middle, kept raw
        items.insert(3, r#"{"activityId":99,"distance":"far"}"#.into());
        format!("[{}]", items.join(",\n ")).into_bytes()
    }

    #[test]
    fn a_raw_listing_parses_batch_by_batch_what_the_whole_parse_reads() {
        let bytes = body(10);
        let raw = RawListing::new(bytes.clone(), None).unwrap();
        assert_eq!(raw.len(), 11);
        let whole = parse_listing(&bytes, None).unwrap();
        let batches: Vec<Listing> = raw.clone().into_chunks(4).collect();
        assert_eq!(
            batches.iter().map(Listing::len).collect::<Vec<_>>(),
            [4, 4, 3]
        );
        let ids = |l: &Listing| l.activities.iter().map(|a| a.id.get()).collect::<Vec<_>>();
        let batched: Vec<i64> = batches.iter().flat_map(ids).collect();
        assert_eq!(batched, ids(&whole));
        let rejected: Vec<&Rejected> = batches.iter().flat_map(|b| &b.rejected).collect();
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].raw, r#"{"activityId":99,"distance":"far"}"#);
        assert_eq!(raw.parse_all().activities.len(), 10);
        assert!(
            raw.parse(20..30).is_empty(),
            "a range past the end is empty"
        );
    }

    #[test]
    fn a_raw_listing_is_a_json_array_or_an_error() {
        assert!(RawListing::new(&b"{\"activityId\":1}"[..], None).is_err());
        assert!(RawListing::new(&b"[1, 2"[..], None).is_err());
        let empty = RawListing::new(&b"[]"[..], None).unwrap();
        assert!(empty.is_empty() && empty.into_chunks(10).next().is_none());
    }
}
