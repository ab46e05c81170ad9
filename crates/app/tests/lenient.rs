//! Issue 11, "Never wrongly break a streak", against the sandbox and real DuckDB files: odd data
//! from SmashRun (starts without an offset, `+14:00` and `-12:00` far from the date line, long
//! non-ASCII garbage in numeric fields and in `distance`, absurd token lifetimes) loses no run,
//! moves no run to another day and panics nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::civil::{Date, DateTime, date};
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp};
use myrunstreak_app::queries::{StreakQuery, streak};
use myrunstreak_app::{FileTokenStore, StoredTokens, SyncMode, SyncRequest, TokenStore, sync};
use myrunstreak_domain::{Rule, Run};
use myrunstreak_store::Store;
use serde_json::{Value, json};
use smashrun_client::{
    ClientConfig, OAuthClient, OAuthConfig, Scope, Secret, SmashRunClient, StaticToken, TokenSet,
};
use smashrun_sandbox::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, Sandbox, SandboxConfig};

const END: Date = date(2026, 5, 3);

async fn sandbox(years: u32, seed: u64) -> Sandbox {
    let config = SandboxConfig {
        years,
        seed,
        end: Some(END),
        ..SandboxConfig::default()
    };
    Sandbox::start_on_free_port(config).await.unwrap()
}

async fn control_token(sb: &Sandbox) -> String {
    let token: Value = reqwest::Client::new()
        .post(format!("{}/tokens", sb.control_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    token["access_token"].as_str().unwrap().to_owned()
}

/// Switches sandbox settings (quirks among them) through the control API.
async fn settings(sb: &Sandbox, body: Value) {
    let status = reqwest::Client::new()
        .put(format!("{}/settings", sb.control_url()))
        .json(&body)
        .send()
        .await
        .unwrap()
        .status();
    assert!(
        status.is_success(),
        "PUT /_sandbox/settings {body}: {status}"
    );
}

/// Every summary the REST API serves now (quirks applied), as SmashRun would send it.
async fn served(sb: &Sandbox) -> Vec<Value> {
    reqwest::Client::new()
        .get(format!("{}/my/activities/search", sb.api_url()))
        .bearer_auth(control_token(sb).await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

struct Mirror {
    store: Store,
    _dir: tempfile::TempDir,
}

/// A full sync of the sandbox into a fresh database, reading offset-less starts in `home`.
async fn mirror(sb: &Sandbox, home: Option<TimeZone>) -> Mirror {
    let client = SmashRunClient::new(
        reqwest::Client::new(),
        ClientConfig::new(sb.api_url()).with_home_zone(home),
        Arc::new(StaticToken(Secret::new(control_token(sb).await))),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("runs.duckdb"), Timestamp::now()).unwrap();
    let request = SyncRequest {
        mode: SyncMode::Full,
        ..SyncRequest::default()
    };
    sync(&mut store, &client, &request, &Timestamp::now, &|_| {})
        .await
        .unwrap();
    Mirror { store, _dir: dir }
}

fn by_id(runs: Vec<Run>) -> BTreeMap<i64, Run> {
    runs.into_iter().map(|r| (r.id.get(), r)).collect()
}

fn written(summary: &Value) -> (i64, String) {
    let start = summary["startDateTimeLocal"].as_str().unwrap();
    (summary["activityId"].as_i64().unwrap(), start.to_owned())
}

fn usrsa(timezone: Option<TimeZone>) -> StreakQuery {
    StreakQuery {
        rule: Rule::Usrsa,
        timezone,
        exclude_treadmill: false,
        as_of: Some(END),
        exclude_ledger: false,
    }
}

/// No run lost: what is stored plus what is kept raw is what SmashRun served.
fn assert_nothing_lost(m: &Mirror, served: &[Value]) {
    let stored = m.store.count().unwrap();
    let rejected = m.store.rejected().unwrap().len() as u64;
    assert_eq!(
        stored + rejected,
        served.len() as u64,
        "{stored} stored + {rejected} rejected"
    );
}

#[tokio::test]
async fn offset_less_starts_are_kept_on_their_written_date_with_and_without_a_home_zone() {
    let sb = sandbox(3, 11).await;
    let clean = mirror(&sb, None).await;
    settings(&sb, json!({ "offsetless_share": 0.1 })).await;
    let served = served(&sb).await;
    let offsetless: Vec<(i64, String)> = served
        .iter()
        .map(written)
        .filter(|(_, start)| start.len() == 19)
        .collect();
    assert!(
        offsetless.len() > 30,
        "the mode serves offset-less starts: {}",
        offsetless.len()
    );

    let new_york = TimeZone::get("America/New_York").unwrap();
    let clean_runs = by_id(clean.store.domain_runs().unwrap());
    for home in [None, Some(new_york.clone())] {
        let m = mirror(&sb, home.clone()).await;
        assert_nothing_lost(&m, &served);
        assert!(m.store.rejected().unwrap().is_empty(), "none rejected");
        let runs = by_id(m.store.domain_runs().unwrap());
        for (id, start) in &offsetless {
            let run = &runs[id];
            assert!(run.start.offset_assumed(), "{id} {start}");
            assert_eq!(
                run.start.date().to_string(),
                start[..10],
                "{id}: the written date"
            );
            assert_eq!(
                run.start.date(),
                clean_runs[id].start.date(),
                "{id}: the same day as before"
            );
            let wall: DateTime = start.parse().unwrap();
            assert_eq!(run.start.wall(), wall);
            let expected = match &home {
                None => Offset::UTC,
                Some(zone) => zone
                    .to_ambiguous_timestamp(wall)
                    .compatible()
                    .map_or(Offset::UTC, |t| zone.to_offset(t)),
            };
            // in a DST gap the offset before the gap is used; everywhere else the zone's
            if !home
                .as_ref()
                .is_some_and(|z| z.to_ambiguous_timestamp(wall).is_ambiguous())
            {
                assert_eq!(run.start.offset(), expected, "{id} {start} in {home:?}");
            }
        }
        let listed = m.store.runs(&Default::default()).unwrap();
        let flagged = listed.iter().filter(|r| r.offset_assumed).count();
        assert_eq!(
            flagged,
            offsetless.len(),
            "StoredRun says which offsets are assumed"
        );
        for r in listed.iter().filter(|r| r.offset_assumed) {
            assert_eq!(r.date.to_string(), r.start_local[..10]);
        }
        // nothing moved across a day: the streak is the one the clean mirror counts
        let all: Vec<Run> = runs.into_values().collect();
        let clean_all: Vec<Run> = clean_runs.values().cloned().collect();
        let now = Timestamp::now();
        assert_eq!(
            streak(&all, &usrsa(None), now).unwrap(),
            streak(&clean_all, &usrsa(None), now).unwrap(),
        );
    }
}

#[tokio::test]
async fn runs_at_plus_fourteen_and_minus_twelve_stay_on_their_written_date() {
    let sb = sandbox(3, 12).await;
    let clean = mirror(&sb, None).await;
    settings(&sb, json!({ "extreme_offset_share": 0.1 })).await;
    let served = served(&sb).await;
    let east: Vec<(i64, String)> = served
        .iter()
        .map(written)
        .filter(|(_, s)| s.ends_with("+14:00"))
        .collect();
    let west: Vec<(i64, String)> = served
        .iter()
        .map(written)
        .filter(|(_, s)| s.ends_with("-12:00"))
        .collect();
    assert!(
        east.len() > 20 && !west.is_empty(),
        "{} at +14:00, {} at -12:00",
        east.len(),
        west.len()
    );

    let m = mirror(&sb, None).await;
    assert_nothing_lost(&m, &served);
    assert!(m.store.rejected().unwrap().is_empty(), "none dropped");
    let runs = by_id(m.store.domain_runs().unwrap());
    let clean_runs = by_id(clean.store.domain_runs().unwrap());
    for (id, start) in east.iter().chain(&west) {
        let run = &runs[id];
        assert!(run.start.extreme_offset(), "{id} {start}");
        assert!(!run.start.offset_assumed());
        assert_eq!(
            run.start.date().to_string(),
            start[..10],
            "{id}: the written date"
        );
        assert_eq!(run.start.date(), clean_runs[id].start.date());
        assert_eq!(run.distance, clean_runs[id].distance);
    }
    let stored = m.store.runs(&Default::default()).unwrap();
    for r in &stored {
        assert_eq!(r.date.to_string(), r.start_local[..10], "{}", r.activity_id);
    }
    let all: Vec<Run> = runs.into_values().collect();
    let clean_all: Vec<Run> = clean_runs.into_values().collect();
    let now = Timestamp::now();
    assert_eq!(
        streak(&all, &usrsa(None), now).unwrap(),
        streak(&clean_all, &usrsa(None), now).unwrap(),
        "the streak by each run's local clock is unchanged"
    );
}

#[tokio::test]
async fn garbage_fields_stop_no_run_and_an_unreadable_distance_is_kept_raw() {
    let sb = sandbox(3, 13).await;
    let clean = mirror(&sb, None).await;
    settings(
        &sb,
        json!({ "garbage_share": 0.1, "garbage_distance_runs": 1 }),
    )
    .await;
    let served = served(&sb).await;
    let garbage: Vec<&Value> = served
        .iter()
        .filter(|s| s["heartRateAverage"].is_string() || s["duration"].is_string())
        .collect();
    assert!(garbage.len() > 30, "{} runs with garbage", garbage.len());
    assert!(
        garbage.iter().any(|s| s["heartRateAverage"]
            .as_str()
            .is_some_and(|t| t.chars().count() == 10_000)),
        "10,000 characters of garbage"
    );
    let bad: Vec<&Value> = served
        .iter()
        .filter(|s| s["distance"].is_string())
        .collect();
    assert_eq!(bad.len(), 1, "one run with a garbage distance");
    let bad_id = bad[0]["activityId"].as_i64().unwrap();

    let m = mirror(&sb, None).await;
    assert_nothing_lost(&m, &served);
    let rejected = m.store.rejected().unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].activity_id, Some(bad_id));
    assert!(
        rejected[0].reason.contains("distance"),
        "{}",
        rejected[0].reason
    );
    let raw: Value = serde_json::from_str(&rejected[0].raw_json).unwrap();
    assert_eq!(&raw, bad[0], "kept raw exactly as served");
    assert!(rejected[0].raw_json.contains(&"ß".repeat(10_000)));

    let runs = by_id(m.store.domain_runs().unwrap());
    let clean_runs = by_id(clean.store.domain_runs().unwrap());
    assert!(!runs.contains_key(&bad_id));
    let stored = m.store.runs(&Default::default()).unwrap();
    for s in garbage.iter().filter(|s| s["activityId"] != json!(bad_id)) {
        let id = s["activityId"].as_i64().unwrap();
        let run = &runs[&id];
        assert_eq!(run.start.date(), clean_runs[&id].start.date(), "{id}");
        assert_eq!(run.distance, clean_runs[&id].distance, "{id}");
        let row = stored.iter().find(|r| r.activity_id == id).unwrap();
        assert_eq!(row.heart_rate_average, None, "garbage reads as missing");
        assert!(row.raw_json.contains('ß'), "the raw JSON is kept as served");
    }
    // every other run is exactly as in the clean mirror
    for (id, clean_run) in clean_runs.iter().filter(|(id, _)| **id != bad_id) {
        assert_eq!(runs[id].start, clean_run.start, "{id}");
        assert_eq!(runs[id].distance, clean_run.distance, "{id}");
    }

    // switched off, the run reads again and leaves the rejected list
    settings(
        &sb,
        json!({ "garbage_share": 0.0, "garbage_distance_runs": 0 }),
    )
    .await;
    let again = mirror(&sb, None).await;
    assert!(again.store.rejected().unwrap().is_empty());
    assert_eq!(again.store.count().unwrap(), clean.store.count().unwrap());
}

fn oauth(sb: &Sandbox) -> OAuthClient {
    OAuthClient::new(
        OAuthConfig {
            oauth_url: sb.oauth_url(),
            api_url: sb.api_url(),
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: Secret::new(DEFAULT_CLIENT_SECRET),
            redirect_uri: "http://localhost:8000/callback".into(),
            pkce: false,
        },
        reqwest::Client::new(),
    )
    .unwrap()
}

/// A whole login: the consent (auto-approved), the code from the redirect, the exchange.
async fn login(oauth: &OAuthClient, now: Timestamp) -> TokenSet {
    let authorization = oauth.authorize(&[Scope::ReadActivity]);
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = no_redirects
        .get(authorization.url.clone())
        .send()
        .await
        .unwrap();
    let location = response.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let url = url::Url::parse(&location).unwrap();
    let code = url
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("no code in {location}"));
    oauth.exchange(&authorization, &code, now).await.unwrap()
}

#[tokio::test]
async fn absurd_token_lifetimes_log_in_and_refresh_with_a_sane_expiry() {
    let sb = sandbox(1, 14).await;
    settings(&sb, json!({ "auto_approve": true })).await;
    let oauth = oauth(&sb);
    let now: Timestamp = "2026-05-03T12:00:00Z".parse().unwrap();
    let twelve_weeks = now + TokenSet::MAX_LIFETIME;
    for (claimed, expected) in [
        (json!(1e30), twelve_weeks),
        (json!(i64::MAX), twelve_weeks),
        (json!(u64::MAX), twelve_weeks),
        (json!("9999999999999999999999"), twelve_weeks),
        (json!(3600.5), now + SignedDuration::from_millis(3_600_500)),
        (json!("soon"), twelve_weeks),
        (json!(-5), now),
    ] {
        settings(&sb, json!({ "token_expires_in": claimed })).await;
        let tokens = login(&oauth, now).await;
        assert_eq!(tokens.expires_at, expected, "login, expires_in {claimed}");
        assert!(tokens.refresh_token.is_some());
        let refreshed = oauth.refresh(&tokens, now).await.unwrap();
        assert_eq!(
            refreshed.expires_at, expected,
            "refresh, expires_in {claimed}"
        );
        // the token status claims it too, and a personal token made from it is sane
        let left = oauth.token_status(&refreshed.access_token).await.unwrap();
        let personal = TokenSet::issued(
            refreshed.access_token.clone(),
            None,
            now,
            SignedDuration::from_secs(left),
        );
        assert!(personal.expires_at >= now && personal.expires_at <= twelve_weeks);
    }
    assert_eq!(
        oauth
            .token_status(&login(&oauth, now).await.access_token)
            .await
            .unwrap(),
        -5,
        "the status says what the server said"
    );

    // the refreshing token provider saves a sane expiry, and the client works with it
    settings(&sb, json!({ "token_expires_in": 1e30 })).await;
    let dir = tempfile::tempdir().unwrap();
    let file = FileTokenStore::new(dir.path().join("tokens.json"), false);
    let real_now = Timestamp::now();
    file.save(&login(&oauth, real_now).await).await.unwrap();
    let provider = Arc::new(StoredTokens::new(
        Arc::new(file.clone()),
        Some(oauth.clone()),
        Arc::new(Timestamp::now),
    ));
    let fresh = provider.refresh_now().await.unwrap();
    let saved = file.load().await.unwrap().unwrap();
    assert_eq!(saved.expires_at, fresh.expires_at);
    assert!(saved.expires_at <= Timestamp::now() + TokenSet::MAX_LIFETIME);
    assert!(saved.expires_at > real_now);
    let client = SmashRunClient::new(
        reqwest::Client::new(),
        ClientConfig::new(sb.api_url()),
        provider,
    );
    assert_eq!(client.user_info().await.unwrap().id, 1_234_567);

    // switched off, the real lifetime is said again
    settings(&sb, json!({ "token_expires_in": null })).await;
    assert_eq!(login(&oauth, now).await.expires_at, twelve_weeks);
    settings(&sb, json!({ "access_token_lifetime_s": 3600 })).await;
    assert_eq!(
        login(&oauth, now).await.expires_at,
        now + SignedDuration::from_hours(1)
    );
}
