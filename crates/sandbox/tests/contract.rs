//! Contract tests of the sandbox over real HTTP on loopback: OAuth with every error, paging and
//! the clamp, `fromDate` semantics, deletions, rate limits, faults and determinism.

use std::collections::HashMap;

use jiff::civil::date;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use smashrun_sandbox::{Client, Faults, Sandbox, SandboxConfig};

const REDIRECT: &str = "http://127.0.0.1:9/callback";

fn config() -> SandboxConfig {
    let mut c = SandboxConfig {
        years: 2,
        end: Some(date(2026, 5, 3)),
        ..SandboxConfig::default()
    };
    c.clients.push(Client {
        id: "app".into(),
        secret: "s3cret".into(),
        redirect_uris: vec![REDIRECT.into()],
    });
    c
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

async fn token(sb: &Sandbox) -> String {
    let v: Value = http()
        .post(format!("{}/tokens", sb.control_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["access_token"].as_str().unwrap().to_owned()
}

async fn get(sb: &Sandbox, token: &str, path_and_query: &str) -> reqwest::Response {
    http()
        .get(format!("{}{}", sb.api_url(), path_and_query))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn get_json(sb: &Sandbox, token: &str, path_and_query: &str) -> Value {
    let r = get(sb, token, path_and_query).await;
    assert_eq!(r.status(), StatusCode::OK, "{path_and_query}");
    r.json().await.unwrap()
}

/// Asks for a code; returns the redirect's query parameters.
async fn authorize(sb: &Sandbox, state: &str, approve: bool) -> HashMap<String, String> {
    let client = http();
    let page = client
        .get(format!("{}/authenticate", sb.oauth_url()))
        .query(&[
            ("client_id", "app"),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "read_activity"),
            ("state", state),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Approve") && html.contains("Deny"), "{html}");
    let decision = if approve { "approve" } else { "deny" };
    let answer = client
        .post(format!("{}/authenticate", sb.oauth_url()))
        .form(&[
            ("client_id", "app"),
            ("redirect_uri", REDIRECT),
            ("response_type", "code"),
            ("scope", "read_activity"),
            ("state", state),
            ("decision", decision),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT), "{location}");
    url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

async fn exchange(sb: &Sandbox, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let r = http()
        .post(format!("{}/token", sb.oauth_url()))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

#[tokio::test]
async fn oauth_round_trip_and_every_error() {
    let sb = Sandbox::start_on_free_port(config()).await.unwrap();

    let denied = authorize(&sb, "st-1", false).await;
    assert_eq!(denied["error"], "access_denied");
    assert_eq!(denied["state"], "st-1");

    let q = authorize(&sb, "st-2", true).await;
    assert_eq!(q["state"], "st-2", "state is echoed untouched");
    let code = q["code"].clone();

    // credentials must be in the body
    let r = http()
        .post(format!("{}/token", sb.oauth_url()))
        .basic_auth("app", Some("s3cret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");

    let (status, body) = exchange(
        &sb,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", "app"),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_client"))
    );

    let (status, body) = exchange(
        &sb,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/other"),
            ("client_id", "app"),
            ("client_secret", "s3cret"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "redirect_uri is bound to the code"
    );

    let (status, tokens) = exchange(
        &sb,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", "app"),
            ("client_secret", "s3cret"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 7_257_600);
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();

    let (status, body) = exchange(
        &sb,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", "app"),
            ("client_secret", "s3cret"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant")),
        "codes are single-use"
    );

    // an expired code
    let late = authorize(&sb, "st-3", true).await["code"].clone();
    http()
        .post(format!("{}/clock", sb.control_url()))
        .json(&json!({"advance_s": 601}))
        .send()
        .await
        .unwrap();
    let (status, body) = exchange(
        &sb,
        &[
            ("grant_type", "authorization_code"),
            ("code", &late),
            ("redirect_uri", REDIRECT),
            ("client_id", "app"),
            ("client_secret", "s3cret"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("expired")
    );

    let (status, body) = exchange(
        &sb,
        &[
            ("grant_type", "password"),
            ("client_id", "app"),
            ("client_secret", "s3cret"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("unsupported_grant_type"))
    );

    // the token works, and /v1/auth reports its lifetime
    let me = get_json(&sb, access, "/my/userinfo").await;
    assert_eq!(me["firstName"], "Sam");
    let status: Value = http()
        .get(format!("{}/auth/{access}", sb.api_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let left = status["expires_in"].as_i64().unwrap();
    assert!((7_256_000..=7_257_600).contains(&left), "{left}");

    // refresh: a new access token, a rotated refresh token, the old one dead
    let (status, renewed) = exchange(
        &sb,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", "app"),
            ("client_secret", "s3cret"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{renewed}");
    assert_ne!(renewed["refresh_token"].as_str().unwrap(), refresh);
    let (status, body) = exchange(
        &sb,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("client_id", "app"),
            ("client_secret", "s3cret"),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_grant"))
    );

    // without rotation, the response has no refresh token and the old one keeps working
    http()
        .put(format!("{}/settings", sb.control_url()))
        .json(&json!({"rotate_refresh_tokens": false}))
        .send()
        .await
        .unwrap();
    let current = renewed["refresh_token"].as_str().unwrap();
    for _ in 0..2 {
        let (status, again) = exchange(
            &sb,
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", current),
                ("client_id", "app"),
                ("client_secret", "s3cret"),
            ],
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(again.get("refresh_token").is_none(), "{again}");
    }

    // expired and revoked tokens answer 401
    http()
        .post(format!("{}/tokens/expire", sb.control_url()))
        .json(&json!({"access_token": access}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        get(&sb, access, "/my/userinfo").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let status: Value = http()
        .get(format!("{}/auth/{access}", sb.api_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["expires_in"], 0);
    let fresh = renewed["access_token"].as_str().unwrap();
    http()
        .post(format!("{}/tokens/revoke", sb.control_url()))
        .json(&json!({"access_token": fresh}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        get(&sb, fresh, "/my/userinfo").await.status(),
        StatusCode::UNAUTHORIZED
    );
    sb.stop().await;
}

#[tokio::test]
async fn authorization_requests_are_checked_before_anything_is_shown() {
    let sb = Sandbox::start_on_free_port(config()).await.unwrap();
    let ask = |params: Vec<(&'static str, &'static str)>| {
        let url = format!("{}/authenticate", sb.oauth_url());
        async move { http().get(url).query(&params).send().await.unwrap() }
    };
    let unknown = ask(vec![
        ("client_id", "nobody"),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
    ])
    .await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    let foreign = ask(vec![
        ("client_id", "app"),
        ("redirect_uri", "http://evil.example/cb"),
        ("response_type", "code"),
    ])
    .await;
    assert_eq!(
        foreign.status(),
        StatusCode::BAD_REQUEST,
        "never redirect to an unregistered URI"
    );
    let scope = ask(vec![
        ("client_id", "app"),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "admin"),
    ])
    .await;
    assert_eq!(scope.status(), StatusCode::BAD_REQUEST);

    // the implicit flow gives a personal token in the fragment, without refresh token
    let implicit = ask(vec![
        ("client_id", "client"),
        ("redirect_uri", REDIRECT),
        ("response_type", "token"),
        ("state", "x"),
    ])
    .await;
    assert_eq!(implicit.status(), StatusCode::OK, "consent page first");
    let r = http()
        .post(format!("{}/authenticate", sb.oauth_url()))
        .form(&[
            ("client_id", "client"),
            ("redirect_uri", REDIRECT),
            ("response_type", "token"),
            ("state", "x"),
            ("decision", "approve"),
        ])
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    let fragment: HashMap<String, String> =
        url::form_urlencoded::parse(location.fragment().unwrap().as_bytes())
            .into_owned()
            .collect();
    assert_eq!(fragment["expires_in"], "5184000");
    assert!(!fragment.contains_key("refresh_token"));
    assert_eq!(
        get(&sb, &fragment["access_token"], "/my/userinfo")
            .await
            .status(),
        StatusCode::OK
    );

    // auto-approve redirects at once
    http()
        .put(format!("{}/settings", sb.control_url()))
        .json(&json!({"auto_approve": true}))
        .send()
        .await
        .unwrap();
    let r = ask(vec![
        ("client_id", "app"),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("state", "auto"),
    ])
    .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .contains("state=auto")
    );
    sb.stop().await;
}

#[tokio::test]
async fn paging_clamp_unpaged_listing_and_styles() {
    let sb = Sandbox::start_on_free_port(config()).await.unwrap();
    let t = token(&sb).await;
    let all = get_json(&sb, &t, "/my/activities/search").await;
    let all = all.as_array().unwrap();
    assert!(all.len() > 300, "two years of runs, got {}", all.len());
    let everything = get_json(&sb, &t, "/my/activities").await;
    assert_eq!(everything.as_array().unwrap().len(), all.len());

    // newest first
    let starts: Vec<jiff::Timestamp> = all
        .iter()
        .map(|a| a["startDateTimeLocal"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] >= w[1]));

    // pages of at most 100 that add up to the whole listing; the end is an empty page
    let clamped = get_json(&sb, &t, "/my/activities/search?page=0&count=500").await;
    assert_eq!(
        clamped.as_array().unwrap().len(),
        100,
        "counts above 100 are clamped"
    );
    let mut paged = Vec::new();
    for page in 0.. {
        let chunk = get_json(
            &sb,
            &t,
            &format!("/my/activities/search/ids?page={page}&count=100"),
        )
        .await;
        let chunk = chunk.as_array().unwrap().clone();
        if chunk.is_empty() {
            break;
        }
        paged.extend(chunk);
    }
    let ids: Vec<Value> = all.iter().map(|a| a["activityId"].clone()).collect();
    assert_eq!(paged, ids);

    let briefs = get_json(&sb, &t, "/my/activities/search/briefs?page=0&count=3").await;
    let keys: Vec<&String> = briefs[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["activityId", "startDateTimeLocal", "distance", "duration"]
    );
    let extended = get_json(&sb, &t, "/my/activities/search/extended?page=0&count=3").await;
    assert!(extended[0].get("moonPhase").is_some());
    assert_eq!(
        get(&sb, &t, "/my/activities/search/foo").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&sb, &t, "/my/activities/search?page=zero")
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );

    // one activity in full, splits, 404s
    let id = all[0]["activityId"].as_i64().unwrap();
    let full = get_json(&sb, &t, &format!("/my/activities/{id}")).await;
    assert_eq!(full["activityId"], id);
    if full["hasDetailsGPS"] == 1 {
        let keys = full["recordingKeys"].as_array().unwrap();
        let values = full["recordingValues"].as_array().unwrap();
        assert_eq!(keys.len(), values.len());
        assert!(
            values
                .iter()
                .all(|v| v.as_array().unwrap().len() == values[0].as_array().unwrap().len())
        );
    }
    let km = get_json(&sb, &t, &format!("/my/activities/{id}/splits/km")).await;
    let mi = get_json(&sb, &t, &format!("/my/activities/{id}/splits/mi")).await;
    assert!(km.as_array().unwrap().len() >= mi.as_array().unwrap().len());
    let last = km.as_array().unwrap().last().unwrap();
    assert!(
        (last["distance"].as_f64().unwrap() - all[0]["distance"].as_f64().unwrap()).abs() < 1e-4
    );
    assert_eq!(
        get(&sb, &t, "/my/activities/1").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&sb, &t, &format!("/my/activities/{id}/splits/furlong"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // the access_token parameter works as well as the header
    let r = http()
        .get(format!("{}/my/userinfo?access_token={t}", sb.api_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let stats = get_json(&sb, &t, "/my/stats").await;
    assert_eq!(stats["runCount"].as_u64().unwrap() as usize, all.len());
    assert!(
        get_json(&sb, &t, "/my/stats/2025").await["runCount"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(
        get_json(&sb, &t, "/my/stats/2025/6").await["runCount"]
            .as_u64()
            .unwrap()
            > 0
    );
    sb.stop().await;
}

#[tokio::test]
async fn from_date_returns_an_old_run_edited_today_and_deleted_runs_vanish() {
    let sb = Sandbox::start_on_free_port(config()).await.unwrap();
    let t = token(&sb).await;
    let all = get_json(&sb, &t, "/my/activities/search/ids").await;
    let old = all.as_array().unwrap().last().unwrap().as_i64().unwrap();
    let gone = all[5].as_i64().unwrap();

    let now = jiff::Timestamp::now().as_second();
    let before = get_json(
        &sb,
        &t,
        &format!("/my/activities/search/ids?fromDate={now}"),
    )
    .await;
    assert!(
        before.as_array().unwrap().is_empty(),
        "nothing was updated since now"
    );

    let control = http();
    control
        .patch(format!("{}/runs/{old}", sb.control_url()))
        .json(&json!({"notes": "fixed the distance", "distance": 12.34567}))
        .send()
        .await
        .unwrap();
    let added: Value = control
        .post(format!("{}/runs", sb.control_url()))
        .json(&json!({"startDateTimeLocal": "2026-04-26T07:00:00-04:00", "distance": 8.0}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let late = added["activityId"].as_i64().unwrap();
    let r = control
        .delete(format!("{}/runs/{gone}", sb.control_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);

    let since = get_json(&sb, &t, &format!("/my/activities/search?fromDateUTC={now}")).await;
    let ids: Vec<i64> = since
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["activityId"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        [late, old],
        "newest start first; the deleted run is not listed"
    );
    let edited = &since[1];
    assert_eq!(edited["distance"], 12.34567);
    let keys: Vec<&String> = edited.as_object().unwrap().keys().collect();
    assert_eq!(
        keys.first().map(|k| k.as_str()),
        Some("activityId"),
        "edits keep the key order"
    );

    let after = get_json(&sb, &t, "/my/activities/search/ids").await;
    assert!(!after.as_array().unwrap().contains(&json!(gone)));
    assert_eq!(
        get(&sb, &t, &format!("/my/activities/{gone}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    sb.stop().await;
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let mut c = config();
    c.limits.per_10s = 5;
    c.limits.per_hour = 8;
    let sb = Sandbox::start_on_free_port(c).await.unwrap();
    let t = token(&sb).await;
    for _ in 0..5 {
        assert_eq!(get(&sb, &t, "/my/userinfo").await.status(), StatusCode::OK);
    }
    let r = get(&sb, &t, "/my/userinfo").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&wait), "{wait}");

    // ten seconds later the burst window is free, the hourly one is not
    http()
        .post(format!("{}/clock", sb.control_url()))
        .json(&json!({"advance_s": 11}))
        .send()
        .await
        .unwrap();
    for _ in 0..3 {
        assert_eq!(get(&sb, &t, "/my/userinfo").await.status(), StatusCode::OK);
    }
    let r = get(&sb, &t, "/my/userinfo").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 3000, "the hourly window: {wait}");

    // limits are per token
    let other = token(&sb).await;
    assert_eq!(
        get(&sb, &other, "/my/userinfo").await.status(),
        StatusCode::OK
    );
    let stats: Value = http()
        .get(format!("{}/stats", sb.control_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["rate_limited"], 2);
    assert_eq!(stats["max_per_10s"], 5);
    assert_eq!(stats["max_per_hour"], 8);
    assert_eq!(stats["requests"]["GET /v1/my/userinfo"], 11);
    sb.stop().await;
}

/// Fetches every page, recording what happened to each request.
async fn fault_trace(seed: u64) -> (Vec<String>, String) {
    let mut c = config();
    c.seed = seed;
    c.faults = Faults::all(seed, 0.3);
    c.limits.enabled = false;
    let sb = Sandbox::start_on_free_port(c).await.unwrap();
    let t = token(&sb).await;
    let mut trace = Vec::new();
    for page in 0..60 {
        let sent = http()
            .get(format!(
                "{}/my/activities/search?page={page}&count=10",
                sb.api_url()
            ))
            .bearer_auth(&t)
            .send()
            .await;
        let Ok(r) = sent else {
            trace.push("dropped before the head".to_owned());
            continue;
        };
        let status = r.status();
        let outcome = match r.bytes().await {
            Ok(b) if serde_json::from_slice::<Value>(&b).is_ok() => format!("{status} ok"),
            Ok(_) => format!("{status} truncated"),
            Err(_) => format!("{status} dropped"),
        };
        trace.push(outcome);
    }
    http()
        .put(format!("{}/faults", sb.control_url()))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let data = http()
        .get(format!("{}/my/activities", sb.api_url()))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    sb.stop().await;
    (trace, data)
}

#[tokio::test]
async fn same_seed_same_bytes_and_same_faults() {
    let (trace_a, data_a) = fault_trace(11).await;
    let (trace_b, data_b) = fault_trace(11).await;
    assert_eq!(trace_a, trace_b);
    assert_eq!(data_a, data_b, "byte-identical data");
    for kind in ["500", "429", "truncated", "dropped"] {
        assert!(
            trace_a.iter().any(|t| t.contains(kind)),
            "{kind} never happened in {trace_a:?}"
        );
    }
    let (_, other) = fault_trace(12).await;
    assert_ne!(data_a, other, "another seed, another runner");
}

/// RFC 7636, Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

async fn set_pkce(sb: &Sandbox, mode: &str) -> StatusCode {
    http()
        .put(format!("{}/settings", sb.control_url()))
        .json(&json!({ "pkce": mode }))
        .send()
        .await
        .unwrap()
        .status()
}

/// Goes through the consent page with `extra` authorization parameters and approves; returns the
/// redirect's query parameters.
async fn consent(sb: &Sandbox, state: &str, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut params = vec![
        ("client_id", "app"),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "read_activity"),
        ("state", state),
    ];
    params.extend_from_slice(extra);
    let page = http()
        .get(format!("{}/authenticate", sb.oauth_url()))
        .query(&params)
        .send()
        .await
        .unwrap();
    let status = page.status();
    let location = page
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_owned());
    let location = match location {
        // refused before the consent page
        Some(l) => l,
        None => {
            assert_eq!(status, StatusCode::OK);
            let html = page.text().await.unwrap();
            for (name, value) in extra {
                assert!(
                    html.contains(&format!("name=\"{name}\" value=\"{value}\"")),
                    "the consent form carries {name}: {html}"
                );
            }
            params.push(("decision", "approve"));
            let answer = http()
                .post(format!("{}/authenticate", sb.oauth_url()))
                .form(&params)
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::SEE_OTHER);
            answer.headers()["location"].to_str().unwrap().to_owned()
        }
    };
    assert!(location.starts_with(REDIRECT), "{location}");
    url::Url::parse(&location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

async fn exchange_code(sb: &Sandbox, code: &str, verifier: Option<&str>) -> (StatusCode, Value) {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("client_id", "app"),
        ("client_secret", "s3cret"),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    exchange(sb, &form).await
}

const S256: [(&str, &str); 2] = [
    ("code_challenge", CHALLENGE),
    ("code_challenge_method", "S256"),
];

#[tokio::test]
async fn pkce_is_ignored_by_default() {
    let sb = Sandbox::start_on_free_port(config()).await.unwrap();
    // a challenge is accepted, and a wrong verifier or none at all does not matter
    let q = consent(&sb, "i-1", &S256).await;
    assert_eq!(q["state"], "i-1");
    let (status, body) = exchange_code(&sb, &q["code"], Some("not-the-verifier")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let q = consent(&sb, "i-2", &S256).await;
    let (status, body) = exchange_code(&sb, &q["code"], None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // even the plain method: the server knows nothing of PKCE
    let q = consent(&sb, "i-3", &[("code_challenge", VERIFIER)]).await;
    let (status, body) = exchange_code(&sb, &q["code"], Some(VERIFIER)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["access_token"].is_string());
    sb.stop().await;
}

#[tokio::test]
async fn pkce_enforced_wants_s256_and_the_matching_verifier() {
    let sb = Sandbox::start_on_free_port(config()).await.unwrap();
    assert!(set_pkce(&sb, "sometimes").await.is_client_error());
    assert_eq!(set_pkce(&sb, "enforce").await, StatusCode::NO_CONTENT);

    let q = consent(&sb, "e-1", &S256).await;
    assert_eq!(q["state"], "e-1");
    let code = q["code"].clone();
    for (verifier, says) in [
        (None, "code_verifier is required"),
        (Some("short"), "malformed"),
        (Some(&VERIFIER.replace('d', "D")[..]), "does not match"),
    ] {
        let (status, body) = exchange_code(&sb, &code, verifier).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{verifier:?}");
        assert_eq!(body["error"], "invalid_grant", "{body}");
        assert!(
            body["error_description"].as_str().unwrap().contains(says),
            "{body}"
        );
    }
    let (status, body) = exchange_code(&sb, &code, Some(VERIFIER)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(
        get(&sb, access, "/my/userinfo").await.status(),
        StatusCode::OK
    );

    // no challenge at the authorization: the exchange cannot be proven
    let q = consent(&sb, "e-2", &[]).await;
    let (status, body) = exchange_code(&sb, &q["code"], Some(VERIFIER)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("requires PKCE"),
        "{body}"
    );

    // the plain method (named, or implied by its absence) is refused at the authorization
    for extra in [
        vec![
            ("code_challenge", VERIFIER),
            ("code_challenge_method", "plain"),
        ],
        vec![("code_challenge", VERIFIER)],
    ] {
        let q = consent(&sb, "e-3", &extra).await;
        assert_eq!(q["error"], "invalid_request", "{q:?}");
        assert_eq!(q["state"], "e-3");
        assert!(!q.contains_key("code"));
    }
    sb.stop().await;
}

#[tokio::test]
async fn pkce_rejected_refuses_a_challenge_but_not_a_plain_request() {
    let sb = Sandbox::start_on_free_port(config()).await.unwrap();
    assert_eq!(set_pkce(&sb, "reject").await, StatusCode::NO_CONTENT);
    let q = consent(&sb, "r-1", &S256).await;
    assert_eq!(q["error"], "invalid_request", "{q:?}");
    assert!(q["error_description"].contains("PKCE"), "{q:?}");
    assert_eq!(q["state"], "r-1");
    assert!(!q.contains_key("code"));

    let q = consent(&sb, "r-2", &[]).await;
    let (status, body) = exchange_code(&sb, &q["code"], None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    sb.stop().await;
}
