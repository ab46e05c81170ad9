//! `doctor`: with the runner's own token, probes how SmashRun behaves on the points the sync
//! depends on and that public evidence leaves open (`shared/docs/smashrun-api.md`): does the
//! unpaged listing return everything, what page size is honoured, is `fromDateUTC` read as UTC,
//! does `/my/stats` `runCount` equal the full listing. A handful of requests, public endpoints
//! only. What it finds is kept as [`ListingHints`] for later syncs, which still verify every
//! listing: a hint saves requests, it never replaces a check.

use jiff::{SignedDuration, Timestamp};
use myrunstreak_store::{Store, StoreError};
use serde::Serialize;
use smashrun_client::{Error as ClientError, SmashRunClient};

use crate::sync::{ListingHints, TYPICAL_PAGE_SIZES};

/// How SmashRun reads `fromDateUTC`, as far as one probe can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FromDateReading {
    /// As a UTC instant (the documented reading).
    Utc,
    /// As a local wall clock west of UTC: it asks for less than was meant.
    LocalWest,
    /// As a local wall clock east of UTC: it asks for more than was meant.
    LocalEast,
    /// Could not be told apart (no runs, no update times, or an account at UTC+0).
    Unknown,
}

/// What the doctor found.
#[derive(Clone, Debug, Serialize)]
pub struct DoctorReport {
    /// SmashRun's own count of the runner's runs.
    pub run_count: Option<u64>,
    /// How many ids the unpaged listing returned.
    pub unpaged_listed: Option<u64>,
    /// Whether the unpaged listing returned everything (`None`: could not tell).
    pub unpaged_complete: Option<bool>,
    /// Items on a first page when 100 were asked for.
    pub first_page: Option<u64>,
    /// The page size honoured, when below what was asked for.
    pub page_cap: Option<usize>,
    /// How many ids a complete listing has (read page by page only when the unpaged one was in
    /// doubt).
    pub complete_listing: Option<u64>,
    /// Whether `runCount` equals the complete listing.
    pub run_count_matches: Option<bool>,
    /// How `fromDateUTC` is read.
    pub from_date: FromDateReading,
    /// The account's offset from UTC now, in minutes (from `/my/userinfo`).
    pub offset_minutes: Option<i32>,
    /// Requests the probe took.
    pub requests: u64,
    /// The findings in words.
    pub findings: Vec<String>,
    /// What later syncs will use as a hint.
    pub hints: ListingHints,
}

/// Why the doctor could not finish.
#[derive(Debug, thiserror::Error)]
pub enum DoctorError {
    /// SmashRun could not be asked at all.
    #[error(transparent)]
    SmashRun(#[from] ClientError),
    /// The findings could not be kept.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Probes SmashRun through `client` and, when `store` is given, keeps the hints there.
pub async fn diagnose(
    client: &SmashRunClient,
    store: Option<&Store>,
) -> Result<DoctorReport, DoctorError> {
    let before = client.requests();
    let mut findings = Vec::new();
    let offset_minutes = client.user_info().await?.time_zone_offset_minutes;
    let run_count = client.run_count().await?;
    let unpaged = client.unpaged_ids().await.ok().map(|ids| ids.len());
    let asked = client.config().page_size;
    let first = client
        .page(smashrun_client::ListingStyle::Summary, 0, asked, None)
        .await?;
    let first_page = first.len();

    let unpaged_complete = match (unpaged, run_count) {
        (Some(n), Some(c)) if n as u64 == c && !TYPICAL_PAGE_SIZES.contains(&n) => Some(true),
        (Some(n), Some(c)) if (n as u64) < c => Some(false),
        _ => None,
    };
    let mut complete_listing = unpaged_complete
        .and_then(|ok| ok.then_some(unpaged))
        .flatten();
    if unpaged_complete != Some(true) {
        // settle it page by page: the only way to know what "everything" is
        let paged = client.paged_ids(first_page.clamp(1, asked)).await?;
        if paged.complete {
            complete_listing = Some(paged.items.len());
        } else if let Some(problem) = paged.problem {
            findings.push(problem);
        }
    }
    let unpaged_complete = match (unpaged, complete_listing) {
        (Some(n), Some(all)) => Some(n >= all),
        _ => unpaged_complete,
    };
    let page_cap = (first_page > 0
        && first_page < asked
        && complete_listing.is_some_and(|all| all > first_page))
    .then_some(first_page);

    match (unpaged, unpaged_complete) {
        (Some(n), Some(true)) => findings.push(format!(
            "the unpaged listing returned everything ({n} runs): one request is enough"
        )),
        (Some(n), Some(false)) => findings.push(format!(
            "the unpaged listing returned {n} of {}: it is capped, so syncs page from the start",
            complete_listing.map_or("more".to_owned(), |c| c.to_string())
        )),
        (None, _) => findings.push("the unpaged listing failed: syncs will page".into()),
        (Some(n), None) => findings.push(format!(
            "the unpaged listing returned {n}; whether that is everything could not be told"
        )),
    }
    match page_cap {
        Some(cap) => findings.push(format!(
            "pages hold at most {cap} runs though {asked} were asked for: syncs ask for {cap}"
        )),
        None => findings.push(format!(
            "a page of {asked} was honoured ({first_page} runs on the first)"
        )),
    }
    let run_count_matches = match (run_count, complete_listing) {
        (Some(c), Some(all)) => Some(c == all as u64),
        _ => None,
    };
    match (run_count, complete_listing, run_count_matches) {
        (Some(c), Some(_), Some(true)) => findings.push(format!(
            "/my/stats runCount ({c}) equals the full listing: it can verify an unpaged answer"
        )),
        (Some(c), Some(all), Some(false)) => findings.push(format!(
            "/my/stats runCount ({c}) differs from the full listing ({all}): syncs page to be sure, and never delete on that count's word"
        )),
        _ => findings.push("runCount could not be compared with a full listing".into()),
    }

    // fromDateUTC: the newest update, asked for a minute before and a minute after it
    let newest = first
        .activities
        .iter()
        .filter_map(|a| a.updated_at.map(|t| (t, a.id)))
        .max();
    let from_date = match (newest, offset_minutes) {
        (_, Some(0)) | (None, _) => FromDateReading::Unknown,
        (Some((updated, id)), _) => {
            let minute = SignedDuration::from_mins(1);
            let lists = |since: Timestamp| async move {
                let listing = client.unpaged_listing(Some(since)).await?;
                Ok::<bool, ClientError>(listing.activities.iter().any(|a| a.id == id))
            };
            match (
                lists(updated - minute).await?,
                lists(updated + minute).await?,
            ) {
                (true, false) => FromDateReading::Utc,
                (false, _) => FromDateReading::LocalWest,
                (true, true) => FromDateReading::LocalEast,
            }
        }
    };
    findings.push(match from_date {
        FromDateReading::Utc => "fromDateUTC is read as UTC".to_owned(),
        FromDateReading::LocalWest => "fromDateUTC is read as local time west of UTC: syncs already look back 27 hours, which covers it".to_owned(),
        FromDateReading::LocalEast => "fromDateUTC is read as local time east of UTC: harmless, syncs see a little more".to_owned(),
        FromDateReading::Unknown => "how fromDateUTC is read could not be told (no update times, or an account at UTC)".to_owned(),
    });

    let hints = ListingHints {
        unpaged_capped: unpaged_complete == Some(false) || unpaged.is_none(),
        page_cap,
    };
    if let Some(store) = store {
        let text = serde_json::to_string(&hints).unwrap_or_default();
        store.set_meta(ListingHints::META_KEY, &text)?;
    }
    Ok(DoctorReport {
        run_count,
        unpaged_listed: unpaged.map(|n| n as u64),
        unpaged_complete,
        first_page: Some(first_page as u64),
        page_cap,
        complete_listing: complete_listing.map(|n| n as u64),
        run_count_matches,
        from_date,
        offset_minutes,
        requests: client.requests() - before,
        findings,
        hints,
    })
}
