//! Paging against the sandbox's contested readings: a listing ends on an empty page only, a
//! page cap below the asked size does not end it early, and a server that ignores `page` is
//! noticed instead of looped on.

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::civil::date;
use serde_json::{Value, json};
use smashrun_client::{ClientConfig, RateBudget, Secret, SmashRunClient, StaticToken};
use smashrun_sandbox::{ListingReading, Sandbox, SandboxConfig};

async fn start(max_count: usize, reading: ListingReading) -> (Sandbox, SmashRunClient) {
    let mut config = SandboxConfig {
        years: 2,
        end: Some(date(2026, 5, 3)),
        max_count,
        listing: reading,
        ..SandboxConfig::default()
    };
    config.limits.enabled = false;
    let sandbox = Sandbox::start_on_free_port(config).await.unwrap();
    let token: Value = reqwest::Client::new()
        .post(format!("{}/tokens", sandbox.control_url()))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client = SmashRunClient::new(
        reqwest::Client::new(),
        ClientConfig::new(sandbox.api_url()),
        Arc::new(StaticToken(Secret::new(
            token["access_token"].as_str().unwrap(),
        ))),
    )
    .with_budget(Arc::new(RateBudget::unlimited()));
    (sandbox, client)
}

#[tokio::test]
async fn a_page_cap_below_the_asked_size_does_not_end_the_listing() {
    let (sandbox, client) = start(40, ListingReading::default()).await;
    let everything: BTreeSet<i64> = client.unpaged_ids().await.unwrap().into_iter().collect();
    assert!(everything.len() > 200);
    let paged = client.paged_ids(100).await.unwrap();
    assert!(paged.complete, "{:?}", paged.problem);
    assert_eq!(paged.pages, everything.len().div_ceil(40) + 1);
    assert_eq!(paged.items.into_iter().collect::<BTreeSet<_>>(), everything);
    let listing = client.paged_listing(None, 100).await.unwrap();
    assert_eq!(listing.items.activities.len(), everything.len());
    let window = client
        .window(Some(date(2025, 6, 1)), Some(date(2026, 5, 3)))
        .await
        .unwrap();
    assert!(window.complete);
    assert!(
        window.items.activities.len() > 40,
        "more than the first short page"
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn the_capped_unpaged_reading_returns_one_page_and_paging_gets_the_rest() {
    let reading = ListingReading {
        unpaged_cap: Some(100),
        ..ListingReading::default()
    };
    let (sandbox, client) = start(100, reading).await;
    let unpaged = client.unpaged_ids().await.unwrap();
    assert_eq!(unpaged.len(), 100);
    let count = client.run_count().await.unwrap().unwrap();
    let paged = client.paged_ids(100).await.unwrap();
    assert!(paged.complete);
    assert_eq!(
        paged.items.len() as u64,
        count,
        "paging finds what runCount counts"
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn a_server_that_ignores_page_is_noticed_on_the_second_page() {
    let reading = ListingReading {
        ignore_page: true,
        ..ListingReading::default()
    };
    let (sandbox, client) = start(100, reading).await;
    let paged = client.paged_ids(100).await.unwrap();
    assert!(!paged.complete);
    assert_eq!(paged.pages, 2);
    assert_eq!(paged.items.len(), 100, "the first page only, once");
    assert!(paged.problem.unwrap().contains("ignore `page`"));
    let window = client.window(Some(date(2020, 1, 1)), None).await.unwrap();
    assert!(!window.complete, "a window cannot be complete either");
    assert_eq!(client.requests(), 4);
    sandbox.stop().await;
}
