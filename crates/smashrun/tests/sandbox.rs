//! The client against the sandbox over loopback.

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use jiff::civil::date;
use serde_json::{Value, json};
use smashrun_client::{
    ClientConfig, Error, Listing, OAuthClient, OAuthConfig, RateBudget, Scope, Secret,
    SmashRunClient, StaticToken, TokenFuture, TokenProvider, TokenSet,
};
use smashrun_sandbox::{Client, Faults, Sandbox, SandboxConfig};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

fn sandbox_config(years: u32) -> SandboxConfig {
    let mut c = SandboxConfig {
        years,
        end: Some(date(2026, 5, 3)),
        auto_approve: true,
        ..SandboxConfig::default()
    };
    c.clients.push(Client {
        id: "app".into(),
        secret: "s3cret".into(),
        redirect_uris: vec![REDIRECT.into()],
    });
    c
}

fn oauth(sb: &Sandbox) -> OAuthClient {
    oauth_with_pkce(sb, false)
}

fn oauth_with_pkce(sb: &Sandbox, pkce: bool) -> OAuthClient {
    let config = OAuthConfig {
        oauth_url: sb.oauth_url(),
        api_url: sb.api_url(),
        client_id: "app".into(),
        client_secret: Secret::new("s3cret"),
        redirect_uri: REDIRECT.into(),
        pkce,
    };
    OAuthClient::new(config, reqwest::Client::new()).unwrap()
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Follows the authorization URL the way a browser would; returns the callback's parameters.
async fn approve(url: &url::Url) -> HashMap<String, String> {
    let r = no_redirects().get(url.as_str()).send().await.unwrap();
    let location = r.headers()["location"].to_str().unwrap();
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

async fn control(sb: &Sandbox, method: reqwest::Method, path: &str, body: Value) -> Value {
    let r = reqwest::Client::new()
        .request(method, format!("{}{}", sb.control_url(), path))
        .json(&body)
        .send()
        .await
        .unwrap();
    r.json().await.unwrap_or(Value::Null)
}

async fn sandbox_token(sb: &Sandbox) -> Secret {
    let v = control(sb, reqwest::Method::POST, "/tokens", json!({})).await;
    Secret::new(v["access_token"].as_str().unwrap())
}

fn client(sb: &Sandbox, tokens: Arc<dyn TokenProvider>, unpaged: bool) -> SmashRunClient {
    let mut config = ClientConfig::new(sb.api_url());
    config.unpaged = unpaged;
    config.retry.base_delay = std::time::Duration::from_millis(20);
    SmashRunClient::new(reqwest::Client::new(), config, tokens)
}

#[tokio::test]
async fn the_whole_oauth_flow() {
    let sb = Sandbox::start_on_free_port(sandbox_config(1))
        .await
        .unwrap();
    let oauth = oauth(&sb);
    let login = oauth.authorize(&[Scope::ReadActivity]);
    let q: HashMap<String, String> = login.url.query_pairs().into_owned().collect();
    assert_eq!(q["scope"], "read_activity");
    assert_eq!(q["response_type"], "code");
    assert!(q["state"].len() >= 16, "a fresh random state");
    assert_ne!(
        q["state"],
        oauth
            .authorize(&[Scope::ReadActivity])
            .url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
    );

    let back = approve(&login.url).await;
    assert!(matches!(
        login.verify_state(Some("forged")),
        Err(Error::StateMismatch)
    ));
    assert!(matches!(
        login.verify_state(None),
        Err(Error::StateMismatch)
    ));
    login
        .verify_state(back.get("state").map(String::as_str))
        .unwrap();

    let now = Timestamp::now();
    let tokens = oauth.exchange(&login, &back["code"], now).await.unwrap();
    assert!(tokens.refresh_token.is_some());
    assert_eq!(tokens.expires_at.duration_since(now).as_secs(), 7_257_600);
    assert_eq!(
        tokens.refresh_due_at().duration_since(now).as_secs(),
        7_257_600 / 2
    );

    // reused code: invalid_grant, which means "log in again"
    let reused = oauth
        .exchange(&login, &back["code"], now)
        .await
        .unwrap_err();
    assert!(matches!(reused, Error::Reauthorize { .. }), "{reused}");
    assert!(reused.to_string().contains("auth login"));

    // expired code
    let late_login = oauth.authorize(&[Scope::ReadActivity]);
    let late = approve(&late_login.url).await;
    control(
        &sb,
        reqwest::Method::POST,
        "/clock",
        json!({"advance_s": 601}),
    )
    .await;
    let expired = oauth
        .exchange(&late_login, &late["code"], now)
        .await
        .unwrap_err();
    assert!(matches!(expired, Error::Reauthorize { .. }), "{expired}");

    // refresh with a rotated refresh token
    let api = client(
        &sb,
        Arc::new(StaticToken(tokens.access_token.clone())),
        true,
    );
    assert_eq!(api.user_info().await.unwrap().display_name(), "Sam");
    let refreshed = oauth.refresh(&tokens, now).await.unwrap();
    assert_ne!(refreshed.access_token, tokens.access_token);
    assert_ne!(refreshed.refresh_token, tokens.refresh_token);

    // refresh without a new refresh token keeps the one we had
    control(
        &sb,
        reqwest::Method::PUT,
        "/settings",
        json!({"rotate_refresh_tokens": false}),
    )
    .await;
    let kept = oauth.refresh(&refreshed, now).await.unwrap();
    assert_eq!(kept.refresh_token, refreshed.refresh_token);
    let again = oauth.refresh(&kept, now).await.unwrap();
    assert_eq!(again.refresh_token, refreshed.refresh_token);
    assert!(oauth.token_status(&again.access_token).await.unwrap() > 7_000_000);

    // a dead refresh token asks for a new login; a bad secret is invalid_client
    control(&sb, reqwest::Method::POST, "/tokens/revoke", json!({})).await;
    assert!(matches!(
        oauth.refresh(&again, now).await.unwrap_err(),
        Error::Reauthorize { .. }
    ));
    let mut bad = oauth.config().clone();
    bad.client_secret = Secret::new("nope");
    let err = OAuthClient::new(bad, reqwest::Client::new())
        .unwrap()
        .refresh(&again, now)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::OAuth { code, .. } if code == "invalid_client"),
        "{err}"
    );
    assert!(!err.to_string().contains("nope"), "no secret in errors");
    sb.stop().await;
}

#[tokio::test]
async fn a_missing_client_id_says_how_to_register() {
    let config = OAuthConfig {
        oauth_url: "http://127.0.0.1:9/oauth2".into(),
        api_url: String::new(),
        client_id: " ".into(),
        client_secret: Secret::new(""),
        redirect_uri: REDIRECT.into(),
        pkce: false,
    };
    let err = OAuthClient::new(config, reqwest::Client::new())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("SMASHRUN_CLIENT_ID") && err.contains("register"),
        "{err}"
    );
}

/// Refreshes through the sandbox, and expires every access token on its n-th use.
struct ExpiringProvider {
    oauth: OAuthClient,
    tokens: Mutex<TokenSet>,
    uses: AtomicUsize,
    expire_on: usize,
    control: String,
    refreshes: AtomicUsize,
}

impl TokenProvider for ExpiringProvider {
    fn access_token(&self) -> TokenFuture<'_> {
        Box::pin(async move {
            if self.uses.fetch_add(1, Ordering::SeqCst) + 1 == self.expire_on {
                reqwest::Client::new()
                    .post(format!("{}/tokens/expire", self.control))
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap();
            }
            Ok(self.tokens.lock().unwrap().access_token.clone())
        })
    }

    fn refresh(&self, _rejected: &Secret) -> TokenFuture<'_> {
        Box::pin(async move {
            let current = self.tokens.lock().unwrap().clone();
            let fresh = self.oauth.refresh(&current, Timestamp::now()).await?;
            *self.tokens.lock().unwrap() = fresh.clone();
            self.refreshes.fetch_add(1, Ordering::SeqCst);
            Ok(fresh.access_token)
        })
    }
}

#[tokio::test]
async fn an_access_token_expiring_mid_listing_is_refreshed_once() {
    let sb = Sandbox::start_on_free_port(sandbox_config(2))
        .await
        .unwrap();
    let oauth = oauth(&sb);
    let login = oauth.authorize(&[Scope::ReadActivity]);
    let code = approve(&login.url).await["code"].clone();
    let tokens = oauth
        .exchange(&login, &code, Timestamp::now())
        .await
        .unwrap();
    let provider = Arc::new(ExpiringProvider {
        oauth,
        tokens: Mutex::new(tokens),
        uses: AtomicUsize::new(0),
        expire_on: 4,
        control: sb.control_url(),
        refreshes: AtomicUsize::new(0),
    });
    let api = client(&sb, provider.clone(), false);
    let paged = api.all_activities().await.unwrap();
    assert_eq!(provider.refreshes.load(Ordering::SeqCst), 1);
    let whole = client(&sb, Arc::new(StaticToken(sandbox_token(&sb).await)), true)
        .all_activities()
        .await
        .unwrap();
    assert_eq!(ids(&paged), ids(&whole));
    sb.stop().await;
}

#[tokio::test]
async fn a_revoked_token_is_an_error_that_asks_for_login() {
    let sb = Sandbox::start_on_free_port(sandbox_config(1))
        .await
        .unwrap();
    let t = sandbox_token(&sb).await;
    control(&sb, reqwest::Method::POST, "/tokens/revoke", json!({})).await;
    let err = client(&sb, Arc::new(StaticToken(t.clone())), true)
        .user_info()
        .await
        .unwrap_err();
    assert!(err.needs_login(), "{err}");
    assert!(!err.to_string().contains(t.expose()));
    sb.stop().await;
}

fn api_observer(count: Arc<AtomicUsize>) -> smashrun_client::Observer {
    Arc::new(move |_e| {
        count.fetch_add(1, Ordering::SeqCst);
    })
}

fn ids(listing: &Listing) -> BTreeSet<i64> {
    listing
        .activities
        .iter()
        .map(|a| a.id.get())
        .chain(listing.rejected.iter().filter_map(|r| r.activity_id))
        .collect()
}

async fn counters(sb: &Sandbox) -> Value {
    reqwest::get(format!("{}/stats", sb.control_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn listings_under_faults_return_exactly_the_same_runs_within_the_limits() {
    let sb = Sandbox::start_on_free_port(sandbox_config(10))
        .await
        .unwrap();
    let t = sandbox_token(&sb).await;
    let clean = client(&sb, Arc::new(StaticToken(t.clone())), true)
        .all_activities()
        .await
        .unwrap();
    assert!(clean.len() >= 3000, "{}", clean.len());
    assert!(clean.rejected.is_empty(), "{:?}", clean.rejected.first());

    let faults = Faults {
        server_errors: true,
        drops: true,
        truncations: true,
        bursts_429: true,
        ..Faults::all(3, 0.1)
    };
    control(
        &sb,
        reqwest::Method::PUT,
        "/faults",
        serde_json::to_value(&faults).unwrap(),
    )
    .await;
    control(&sb, reqwest::Method::POST, "/stats/reset", json!({})).await;
    let waits = Arc::new(AtomicUsize::new(0));
    let seen = waits.clone();
    let api =
        client(&sb, Arc::new(StaticToken(t.clone())), true).with_observer(Arc::new(move |_e| {
            seen.fetch_add(1, Ordering::SeqCst);
        }));
    let faulty = api.all_activities().await.unwrap();
    assert_eq!(ids(&faulty), ids(&clean));
    assert_eq!(faulty.activities, clean.activities, "the same content too");
    let all_ids = api.all_ids().await.unwrap();
    assert_eq!(all_ids.into_iter().collect::<BTreeSet<_>>(), ids(&clean));

    // forced paging under faults: ~35 requests, some of them failing
    let paged = client(&sb, Arc::new(StaticToken(t.clone())), false)
        .with_observer(api_observer(waits.clone()));
    let listing = paged.all_activities().await.unwrap();
    assert_eq!(listing.activities, clean.activities);
    let c = counters(&sb).await;
    assert_eq!(c["rate_limited"], 0, "never over SmashRun's limits: {c}");
    assert!(c["max_per_10s"].as_u64().unwrap() <= 80, "{c}");
    let injected: u64 = c["faults"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert!(injected >= 1, "faults happened: {c}");
    assert!(waits.load(Ordering::SeqCst) > 0, "retries were reported");
    sb.stop().await;
}

#[tokio::test]
async fn the_budget_keeps_a_burst_under_the_limit() {
    let mut config = sandbox_config(1);
    config.limits.per_10s = 10;
    let sb = Sandbox::start_on_free_port(config).await.unwrap();
    let t = sandbox_token(&sb).await;
    let budget = Arc::new(RateBudget::new(&[
        (8, std::time::Duration::from_secs(2)),
        (9, std::time::Duration::from_secs(10)),
    ]));
    let waited = Arc::new(AtomicUsize::new(0));
    let w = waited.clone();
    let api = client(&sb, Arc::new(StaticToken(t)), true)
        .with_budget(budget)
        .with_observer(Arc::new(move |e| {
            if let smashrun_client::Event::Waiting {
                reason: smashrun_client::WaitReason::Budget,
                ..
            } = e
            {
                w.fetch_add(1, Ordering::SeqCst);
            }
        }));
    // 10 requests with a budget of 9 per 10 s: the tenth waits instead of earning a 429
    let started = std::time::Instant::now();
    for _ in 0..10 {
        api.user_info().await.unwrap();
    }
    assert!(waited.load(Ordering::SeqCst) >= 1);
    assert!(started.elapsed() >= std::time::Duration::from_secs(5));
    assert_eq!(counters(&sb).await["rate_limited"], 0);
    sb.stop().await;
}

#[tokio::test]
async fn a_429_is_waited_out_for_its_retry_after() {
    let mut config = sandbox_config(1);
    config.limits.per_10s = 3;
    let sb = Sandbox::start_on_free_port(config).await.unwrap();
    let t = sandbox_token(&sb).await;
    let waits = Arc::new(Mutex::new(Vec::new()));
    let w = waits.clone();
    let api = client(&sb, Arc::new(StaticToken(t)), true)
        .with_budget(Arc::new(RateBudget::unlimited()))
        .with_observer(Arc::new(move |e| {
            if let smashrun_client::Event::Waiting {
                reason: smashrun_client::WaitReason::RateLimited,
                wait,
                ..
            } = e
            {
                w.lock().unwrap().push(*wait);
            }
        }));
    for _ in 0..4 {
        api.user_info().await.unwrap();
    }
    let waits = waits.lock().unwrap().clone();
    assert_eq!(waits.len(), 1, "{waits:?}");
    assert!(
        waits[0] >= std::time::Duration::from_secs(1)
            && waits[0] <= std::time::Duration::from_secs(10)
    );
    sb.stop().await;
}

#[tokio::test]
async fn a_full_listing_costs_one_request_or_a_page_per_hundred() {
    let sb = Sandbox::start_on_free_port(sandbox_config(3))
        .await
        .unwrap();
    let t = sandbox_token(&sb).await;
    let unpaged = client(&sb, Arc::new(StaticToken(t.clone())), true);
    let all = unpaged.all_activities().await.unwrap();
    assert_eq!(unpaged.requests(), 1);
    let n = all.len() as u64;
    let paged = client(&sb, Arc::new(StaticToken(t)), false);
    let same = paged.all_activities().await.unwrap();
    assert_eq!(same.len() as u64, n);
    assert!(
        paged.requests() <= n.div_ceil(100) + 1,
        "{} requests for {n} runs",
        paged.requests()
    );
    let c = counters(&sb).await;
    assert_eq!(
        c["requests"]["GET /v1/my/activities/search"]
            .as_u64()
            .unwrap(),
        1 + paged.requests()
    );
    sb.stop().await;
}

#[tokio::test]
async fn windows_by_run_date_and_updates_since_an_instant() {
    let sb = Sandbox::start_on_free_port(sandbox_config(3))
        .await
        .unwrap();
    let t = sandbox_token(&sb).await;
    let api = client(&sb, Arc::new(StaticToken(t)), true);
    let all = api.all_activities().await.unwrap();
    let april = api
        .activities_between(Some(date(2026, 4, 1)), Some(date(2026, 4, 30)))
        .await
        .unwrap();
    let expected: BTreeSet<i64> = all
        .activities
        .iter()
        .filter(|a| a.start.date() >= date(2026, 4, 1) && a.start.date() <= date(2026, 4, 30))
        .map(|a| a.id.get())
        .collect();
    assert_eq!(ids(&april), expected);
    assert!(
        api.requests() < 6,
        "stopped paging once past the window: {}",
        api.requests()
    );

    // an old run edited now comes back in an incremental listing
    let old = all.activities.last().unwrap().id.get();
    let mark = Timestamp::now();
    control(
        &sb,
        reqwest::Method::PATCH,
        &format!("/runs/{old}"),
        json!({"notes": "edited"}),
    )
    .await;
    let updated = api
        .updated_since(mark - jiff::SignedDuration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(ids(&updated), BTreeSet::from([old]));
    assert_eq!(
        updated.activities[0].attributes.notes.as_deref(),
        Some("edited")
    );

    let latest = api.latest_activity().await.unwrap().unwrap();
    assert_eq!(latest.id, all.activities[0].id);
    let full = api.activity(latest.id.get()).await.unwrap();
    assert_eq!(full["activityId"], latest.id.get());
    let splits = api
        .splits(latest.id.get(), smashrun_client::SplitUnit::Km)
        .await
        .unwrap();
    assert!(!splits.is_empty());
    assert!(matches!(
        api.activity(1).await.unwrap_err(),
        Error::NotFound { .. }
    ));
    let stats = api.stats(Some(2025), None).await.unwrap();
    assert!(stats["runCount"].as_u64().unwrap() > 0);
    assert_eq!(api.briefs(0, 5).await.unwrap().len(), 5);
    sb.stop().await;
}

#[tokio::test]
async fn every_run_of_ten_years_and_every_odd_one_parses() {
    let mut config = sandbox_config(10);
    config.odd_share = 0.05;
    let sb = Sandbox::start_on_free_port(config).await.unwrap();
    let t = sandbox_token(&sb).await;
    // a malformed one is kept raw and reported, the others are untouched
    control(&sb, reqwest::Method::POST, "/runs", json!({"raw": {"activityId": 42, "distance": "far", "startDateTimeLocal": "2026-05-01T07:00:00-04:00"}})).await;
    let api = client(&sb, Arc::new(StaticToken(t.clone())), true);
    let listing = api.all_activities().await.unwrap();
    let listed: Vec<i64> = api.all_ids().await.unwrap();
    assert_eq!(listing.len(), listed.len());
    assert_eq!(listing.rejected.len(), 1);
    assert_eq!(listing.rejected[0].activity_id, Some(42));
    assert!(listing.rejected[0].reason.contains("distance"));
    let odd = listing
        .activities
        .iter()
        .filter(|a| {
            a.duration_s == Some(0.0)
                || a.attributes.weather_type.as_deref() == Some("volcanicash")
                || a.attributes.calories.is_none()
        })
        .count();
    assert!(odd > 20, "{odd}");
    sb.stop().await;
}

async fn set_pkce_mode(sb: &Sandbox, mode: &str) {
    control(
        sb,
        reqwest::Method::PUT,
        "/settings",
        json!({ "pkce": mode }),
    )
    .await;
}

/// Logs in with the client (PKCE on or off) against the sandbox in `mode`; the tokens, or the
/// error: a refusal at the authorization or a failed exchange.
async fn login_with(sb: &Sandbox, pkce: bool, mode: &str) -> Result<TokenSet, Error> {
    set_pkce_mode(sb, mode).await;
    let oauth = oauth_with_pkce(sb, pkce);
    let login = oauth.authorize(&[Scope::ReadActivity]);
    assert_eq!(login.uses_pkce(), pkce);
    let back = approve(&login.url).await;
    login.verify_state(back.get("state").map(String::as_str))?;
    if let Some(error) = back.get("error") {
        return Err(login.refusal(error, back.get("error_description").map(String::as_str)));
    }
    oauth
        .exchange(&login, &back["code"], Timestamp::now())
        .await
}

async fn works(sb: &Sandbox, tokens: TokenSet) {
    let api = client(sb, Arc::new(StaticToken(tokens.access_token)), true);
    assert_eq!(api.user_info().await.unwrap().display_name(), "Sam");
}

#[tokio::test]
async fn pkce_on_works_where_pkce_is_ignored_or_enforced_and_says_so_where_refused() {
    let sb = Sandbox::start_on_free_port(sandbox_config(1))
        .await
        .unwrap();
    for mode in ["ignore", "enforce"] {
        let tokens = login_with(&sb, true, mode)
            .await
            .unwrap_or_else(|e| panic!("PKCE on against {mode}: {e}"));
        works(&sb, tokens).await;
    }
    let refused = login_with(&sb, true, "reject").await.unwrap_err();
    assert!(matches!(&refused, Error::Denied(_)), "{refused:?}");
    let said = refused.to_string();
    assert!(
        said.contains("invalid_request") && said.contains("SMASHRUN_PKCE=false"),
        "{said}"
    );
    sb.stop().await;
}

#[tokio::test]
async fn pkce_off_works_everywhere_but_where_it_is_enforced() {
    let sb = Sandbox::start_on_free_port(sandbox_config(1))
        .await
        .unwrap();
    for mode in ["ignore", "reject"] {
        let tokens = login_with(&sb, false, mode)
            .await
            .unwrap_or_else(|e| panic!("PKCE off against {mode}: {e}"));
        works(&sb, tokens).await;
    }
    let refused = login_with(&sb, false, "enforce").await.unwrap_err();
    // invalid_grant: SmashRun no longer accepts this authorization
    let Error::Reauthorize { description } = &refused else {
        panic!("expected invalid_grant, got {refused:?}");
    };
    assert!(description.contains("requires PKCE"), "{description}");
    assert!(
        refused.to_string().contains("SMASHRUN_PKCE=true"),
        "{refused}"
    );
    sb.stop().await;
}
