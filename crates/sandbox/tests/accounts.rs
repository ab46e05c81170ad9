//! Many runners over real HTTP on loopback: who signs in (the consent page's choice, or
//! `sign-in-as` with auto-approve), every answer from the token's own account, limits per
//! token and per app, counts per account, and clear errors for accounts that do not exist.

use std::collections::{BTreeSet, HashMap};

use jiff::civil::date;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use smashrun_sandbox::{Client, FIRST_USER_ID, Sandbox, SandboxConfig};

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const RUNS: usize = 40;

fn config(accounts: usize) -> SandboxConfig {
    let mut c = SandboxConfig {
        years: 2,
        end: Some(date(2026, 5, 3)),
        max_runs: Some(RUNS),
        accounts,
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

async fn control(
    sb: &Sandbox,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let r = http()
        .request(method, format!("{}{}", sb.control_url(), path))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn control_get(sb: &Sandbox, path: &str) -> (StatusCode, Value) {
    let r = http()
        .get(format!("{}{}", sb.control_url(), path))
        .send()
        .await
        .unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The user ids of the accounts, in order.
async fn account_ids(sb: &Sandbox) -> Vec<i64> {
    let (status, list) = control_get(sb, "/accounts").await;
    assert_eq!(status, StatusCode::OK);
    list.as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect()
}

async fn token_for(sb: &Sandbox, body: Value) -> String {
    let (status, v) = control(sb, reqwest::Method::POST, "/tokens", body).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["access_token"].as_str().unwrap().to_owned()
}

async fn get(sb: &Sandbox, token: &str, path: &str) -> reqwest::Response {
    http()
        .get(format!("{}{}", sb.api_url(), path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn get_json(sb: &Sandbox, token: &str, path: &str) -> Value {
    let r = get(sb, token, path).await;
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.json().await.unwrap()
}

async fn ids(sb: &Sandbox, token: &str) -> BTreeSet<i64> {
    get_json(sb, token, "/my/activities/search/ids")
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect()
}

fn authorize_query() -> [(&'static str, &'static str); 5] {
    [
        ("client_id", "app"),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", "read_activity"),
        ("state", "st"),
    ]
}

fn code_of(answer: &reqwest::Response) -> String {
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let location = answer.headers()["location"].to_str().unwrap();
    let q: HashMap<String, String> = url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(q["state"], "st");
    q["code"].clone()
}

/// Exchanges `form` at the token endpoint: the access and the refresh token.
async fn tokens(sb: &Sandbox, form: &[(&str, &str)]) -> (String, String) {
    let mut form = form.to_vec();
    form.extend([("client_id", "app"), ("client_secret", "s3cret")]);
    let r = http()
        .post(format!("{}/token", sb.oauth_url()))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    (
        v["access_token"].as_str().unwrap().to_owned(),
        v["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn exchange(sb: &Sandbox, code: &str) -> (String, String) {
    tokens(
        sb,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await
}

#[tokio::test]
async fn two_runners_sign_in_and_each_sees_only_their_own_runs() {
    let sb = Sandbox::start_on_free_port(config(3)).await.unwrap();
    let accounts = account_ids(&sb).await;
    assert_eq!(accounts.len(), 3);
    assert_eq!(accounts[0], FIRST_USER_ID);
    let (b, c) = (accounts[1], accounts[2]);

    // B chooses itself on the consent page, which offers every account (the first chosen)
    let page = http()
        .get(format!("{}/authenticate", sb.oauth_url()))
        .query(&authorize_query())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"<select name="account""#), "{page}");
    for id in &accounts {
        assert!(page.contains(&format!(r#"value="{id}""#)), "{id}: {page}");
    }
    assert!(
        page.contains(&format!(r#"value="{FIRST_USER_ID}" selected"#)),
        "{page}"
    );
    let mut form: Vec<(&str, String)> = authorize_query()
        .iter()
        .map(|(k, v)| (*k, (*v).to_owned()))
        .collect();
    form.push(("decision", "approve".into()));
    form.push(("account", b.to_string()));
    let answer = http()
        .post(format!("{}/authenticate", sb.oauth_url()))
        .form(&form)
        .send()
        .await
        .unwrap();
    let (token_b, _) = exchange(&sb, &code_of(&answer)).await;

    // C is signed in for the site: sign-in-as, then auto-approve
    let (status, said) = control(
        &sb,
        reqwest::Method::POST,
        "/sign-in-as",
        json!({ "account": c }),
    )
    .await;
    assert_eq!(
        (status, said["account"].as_i64()),
        (StatusCode::OK, Some(c))
    );
    let (status, _) = control(
        &sb,
        reqwest::Method::PUT,
        "/settings",
        json!({ "auto_approve": true }),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let answer = http()
        .get(format!("{}/authenticate", sb.oauth_url()))
        .query(&authorize_query())
        .send()
        .await
        .unwrap();
    let (token_c, refresh_c) = exchange(&sb, &code_of(&answer)).await;

    // who they are
    let info_b = get_json(&sb, &token_b, "/my/userinfo").await;
    let info_c = get_json(&sb, &token_c, "/my/userinfo").await;
    assert_eq!(info_b["id"].as_i64(), Some(b));
    assert_eq!(info_c["id"].as_i64(), Some(c));
    assert_ne!(info_b["userName"], info_c["userName"]);
    let (_, listed) = control_get(&sb, "/accounts").await;
    assert_eq!(listed[1]["userName"], info_b["userName"]);
    assert_eq!(listed[2]["firstName"], info_c["firstName"]);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["runCount"] == RUNS)
    );

    // their runs: as many as seeded, none shared, the same as the control API says
    let (mine_b, mine_c) = (ids(&sb, &token_b).await, ids(&sb, &token_c).await);
    assert_eq!((mine_b.len(), mine_c.len()), (RUNS, RUNS));
    assert!(mine_b.is_disjoint(&mine_c));
    let (_, runs_c) = control_get(&sb, &format!("/runs?account={c}")).await;
    let control_c: BTreeSet<i64> = runs_c
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["activityId"].as_i64().unwrap())
        .collect();
    assert_eq!(control_c, mine_c);
    let (_, runs_first) = control_get(&sb, "/runs").await;
    assert!(
        runs_first
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["account"] == FIRST_USER_ID
                && !mine_b.contains(&r["activityId"].as_i64().unwrap()))
    );
    let paged = get_json(&sb, &token_b, "/my/activities/search?page=0&count=100").await;
    assert_eq!(paged.as_array().unwrap().len(), RUNS);
    let stats = get_json(&sb, &token_c, "/my/stats").await;
    assert_eq!(stats["runCount"], RUNS);

    // another runner's activity is not there
    let theirs = *mine_c.iter().next().unwrap();
    let ours = *mine_b.iter().next().unwrap();
    for path in [
        format!("/my/activities/{theirs}"),
        format!("/my/activities/{theirs}/splits/km"),
    ] {
        assert_eq!(
            get(&sb, &token_b, &path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    assert_eq!(
        get(&sb, &token_b, &format!("/my/activities/{ours}"))
            .await
            .status(),
        StatusCode::OK
    );

    // a refresh keeps the account
    let (refreshed, _) = tokens(
        &sb,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh_c),
        ],
    )
    .await;
    assert_eq!(
        get_json(&sb, &refreshed, "/my/userinfo").await["id"].as_i64(),
        Some(c)
    );
    assert_eq!(ids(&sb, &refreshed).await, mine_c);
    sb.stop().await;
}

#[tokio::test]
async fn writes_and_staged_runs_go_to_one_account() {
    let sb = Sandbox::start_on_free_port(config(2)).await.unwrap();
    let accounts = account_ids(&sb).await;
    let (a, b) = (accounts[0], accounts[1]);
    let write = "read_activity write_activity";
    let token_a = token_for(&sb, json!({ "scope": write })).await;
    let token_b = token_for(&sb, json!({ "scope": write, "account": b })).await;
    assert_eq!(
        get_json(&sb, &token_a, "/my/userinfo").await["id"].as_i64(),
        Some(a)
    );

    let run = json!({
        "startDateTimeLocal": "2026-05-02T06:40:00-04:00", "distance": 5.0, "duration": 1500,
        "activityType": "running", "externalId": "same-watch-1",
    });
    let mut created = Vec::new();
    for token in [&token_b, &token_a] {
        let r = http()
            .post(format!("{}/my/activities", sb.api_url()))
            .bearer_auth(token)
            .json(&run)
            .send()
            .await
            .unwrap();
        // the same externalId in another account is another activity
        assert_eq!(r.status(), StatusCode::CREATED);
        created.push(
            r.json::<Value>().await.unwrap()["activityId"]
                .as_i64()
                .unwrap(),
        );
    }
    assert_ne!(created[0], created[1]);
    let (mine_a, mine_b) = (ids(&sb, &token_a).await, ids(&sb, &token_b).await);
    assert_eq!((mine_a.len(), mine_b.len()), (RUNS + 1, RUNS + 1));
    assert!(mine_b.contains(&created[0]) && !mine_a.contains(&created[0]));

    // staged through the control API: ?account= or an account field, the first without
    let staged = json!({ "startDateTimeLocal": "2026-05-03T07:00:00+01:00", "distance": 8.0 });
    let (status, v) = control(
        &sb,
        reqwest::Method::POST,
        &format!("/runs?account={b}"),
        staged.clone(),
    )
    .await;
    assert_eq!(
        (status, v["account"].as_i64()),
        (StatusCode::CREATED, Some(b))
    );
    assert!(v["summary"].get("account").is_none());
    let staged_b = v["activityId"].as_i64().unwrap();
    let mut in_body = staged.clone();
    in_body["account"] = json!(b);
    let (_, v) = control(&sb, reqwest::Method::POST, "/runs", in_body).await;
    assert_eq!(v["account"].as_i64(), Some(b));
    let (_, v) = control(&sb, reqwest::Method::POST, "/runs", staged).await;
    assert_eq!(v["account"].as_i64(), Some(a));
    assert_eq!(ids(&sb, &token_b).await.len(), RUNS + 3);
    assert_eq!(ids(&sb, &token_a).await.len(), RUNS + 2);

    // a run's id finds its account; naming another account does not
    let path = format!("/runs/{staged_b}");
    let (status, _) = control(
        &sb,
        reqwest::Method::PATCH,
        &format!("{path}?account={a}"),
        json!({ "distance": 9.0 }),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, v) = control(
        &sb,
        reqwest::Method::PATCH,
        &path,
        json!({ "distance": 9.0 }),
    )
    .await;
    assert_eq!(
        (status, v["summary"]["distance"].as_f64()),
        (StatusCode::OK, Some(9.0))
    );
    let one = get_json(&sb, &token_b, &format!("/my/activities/{staged_b}")).await;
    assert_eq!(one["distance"].as_f64(), Some(9.0));
    let (status, _) = control(&sb, reqwest::Method::DELETE, &path, Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!ids(&sb, &token_b).await.contains(&staged_b));
    // an edited generated run is served as edited
    let generated = *mine_b.iter().find(|id| **id != created[0]).unwrap();
    let (status, _) = control(
        &sb,
        reqwest::Method::PATCH,
        &format!("/runs/{generated}?account={b}"),
        json!({ "notes": "edited" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let one = get_json(&sb, &token_b, &format!("/my/activities/{generated}")).await;
    assert_eq!(one["notes"], "edited");
    // a taken id cannot be staged in another account
    let (status, v) = control(
        &sb,
        reqwest::Method::POST,
        "/runs",
        json!({ "activityId": generated, "distance": 3.0 }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");

    // revoking "all" revokes one account's tokens (the first without one)
    let (_, v) = control(
        &sb,
        reqwest::Method::POST,
        &format!("/tokens/revoke?account={b}"),
        json!({}),
    )
    .await;
    assert_eq!(v["changed"], 2);
    assert_eq!(
        get(&sb, &token_b, "/my/userinfo").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(&sb, &token_a, "/my/userinfo").await.status(),
        StatusCode::OK
    );
    sb.stop().await;
}

#[tokio::test]
async fn limits_are_per_token_and_optionally_per_app() {
    let mut c = config(2);
    c.limits.per_10s = 5;
    c.limits.per_hour = 1_000;
    let sb = Sandbox::start_on_free_port(c).await.unwrap();
    let accounts = account_ids(&sb).await;
    let (a, b) = (accounts[0], accounts[1]);
    let token_a = token_for(&sb, json!({})).await;
    let token_b = token_for(&sb, json!({ "account": b })).await;

    // one runner's exhausted token leaves the other alone
    for _ in 0..5 {
        assert_eq!(
            get(&sb, &token_a, "/my/userinfo").await.status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        get(&sb, &token_a, "/my/userinfo").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    for _ in 0..5 {
        assert_eq!(
            get(&sb, &token_b, "/my/userinfo").await.status(),
            StatusCode::OK
        );
    }

    // an app-wide limit: all the tokens of one client id together
    let limits = json!({ "enabled": true, "per_hour": 1000, "per_10s": 5, "app_per_10s": 6 });
    let (status, _) = control(&sb, reqwest::Method::PUT, "/limits", limits).await;
    assert_eq!(status, StatusCode::OK);
    let (_, said) = control_get(&sb, "/limits").await;
    assert_eq!(
        (said["app_per_10s"].as_u64(), said["app_per_hour"].is_null()),
        (Some(6), true)
    );
    control(
        &sb,
        reqwest::Method::POST,
        "/clock",
        json!({ "advance_s": 11 }),
    )
    .await;
    for _ in 0..3 {
        for token in [&token_a, &token_b] {
            assert_eq!(
                get(&sb, token, "/my/userinfo").await.status(),
                StatusCode::OK
            );
        }
    }
    let another_b = token_for(&sb, json!({ "account": b })).await;
    for token in [&token_a, &token_b, &another_b] {
        let r = get(&sb, token, "/my/userinfo").await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        let wait: u64 = r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=10).contains(&wait), "{wait}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "rate_limited");
    }
    // another app is not throttled by this one
    let (status, _) = control(
        &sb,
        reqwest::Method::POST,
        "/clients",
        json!({ "id": "other", "secret": "x", "redirect_uris": [] }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let other_app = token_for(&sb, json!({ "client_id": "other", "account": b })).await;
    assert_eq!(
        get(&sb, &other_app, "/my/userinfo").await.status(),
        StatusCode::OK
    );

    // counted per account
    let (_, stats) = control_get(&sb, "/stats").await;
    assert_eq!(stats["rate_limited"], 4);
    let (per_a, per_b) = (
        &stats["accounts"][a.to_string()],
        &stats["accounts"][b.to_string()],
    );
    assert_eq!(
        (
            per_a["rate_limited"].as_u64(),
            per_b["rate_limited"].as_u64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(per_a["requests"]["GET /v1/my/userinfo"], 5 + 1 + 3 + 1);
    assert_eq!(per_b["requests"]["GET /v1/my/userinfo"], 5 + 3 + 2 + 1);
    assert_eq!(
        (per_a["max_per_10s"].as_u64(), per_b["max_per_10s"].as_u64()),
        (Some(5), Some(5))
    );

    // off again: the app's tokens pass
    let limits = json!({ "enabled": true, "per_hour": 1000, "per_10s": 5 });
    control(&sb, reqwest::Method::PUT, "/limits", limits).await;
    assert_eq!(
        get(&sb, &token_a, "/my/userinfo").await.status(),
        StatusCode::OK
    );

    // a limit of 0 refuses every request, and the sandbox stays up
    let limits = json!({ "enabled": true, "per_hour": 0, "per_10s": 0, "app_per_hour": 0 });
    control(&sb, reqwest::Method::PUT, "/limits", limits).await;
    let r = get(&sb, &token_b, "/my/userinfo").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "3600");
    let (status, _) = control_get(&sb, "/accounts").await;
    assert_eq!(status, StatusCode::OK);
    sb.stop().await;
}

#[tokio::test]
async fn requests_are_counted_per_account() {
    let mut c = config(3);
    c.limits.enabled = false;
    let sb = Sandbox::start_on_free_port(c).await.unwrap();
    let accounts = account_ids(&sb).await;
    let (a, b, idle) = (accounts[0], accounts[1], accounts[2]);
    let token_a = token_for(&sb, json!({})).await;
    let token_b = token_for(&sb, json!({ "account": b })).await;
    for _ in 0..3 {
        get(&sb, &token_a, "/my/userinfo").await;
    }
    for _ in 0..2 {
        get(&sb, &token_b, "/my/activities/search?page=0&count=5").await;
    }
    get(&sb, &token_b, "/my/activities/1").await; // a 404 is a request too

    let (_, all) = control_get(&sb, "/stats").await;
    assert_eq!(all["requests"]["GET /v1/my/userinfo"], 3);
    let per_a = &all["accounts"][a.to_string()];
    assert_eq!(per_a["requests"]["GET /v1/my/userinfo"], 3);
    assert!(
        per_a["requests"]
            .get("GET /v1/my/activities/search")
            .is_none()
    );
    assert!(all["accounts"].get(idle.to_string()).is_none(), "{all}");
    let (status, only_b) = control_get(&sb, &format!("/stats?account={b}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(only_b["requests"]["GET /v1/my/activities/search"], 2);
    assert_eq!(only_b["requests"]["GET /v1/my/activities/{id}"], 1);
    assert_eq!(only_b, all["accounts"][b.to_string()]);
    let (_, nothing) = control_get(&sb, &format!("/stats?account={idle}")).await;
    assert_eq!(nothing["requests"], json!({}));

    control(&sb, reqwest::Method::POST, "/stats/reset", json!({})).await;
    let (_, all) = control_get(&sb, "/stats").await;
    assert_eq!(all["accounts"], json!({}));
    sb.stop().await;
}

#[tokio::test]
async fn accounts_that_do_not_exist_are_clear_errors() {
    let sb = Sandbox::start_on_free_port(config(2)).await.unwrap();
    let bad = [
        ("/runs?account=abc", StatusCode::BAD_REQUEST),
        ("/runs?account=42", StatusCode::NOT_FOUND),
        ("/runs?account=", StatusCode::BAD_REQUEST),
        (
            "/runs?account=99999999999999999999999",
            StatusCode::BAD_REQUEST,
        ),
        ("/stats?account=-1", StatusCode::NOT_FOUND),
    ];
    for (path, expected) in bad {
        let (status, v) = control_get(&sb, path).await;
        assert_eq!(status, expected, "{path}");
        assert!(v["error_description"].as_str().is_some(), "{path}: {v}");
    }
    for body in [
        json!({ "account": 42 }),
        json!({ "account": "x" }),
        json!({ "account": [1] }),
    ] {
        let (status, v) = control(&sb, reqwest::Method::POST, "/tokens", body.clone()).await;
        assert!(
            status == StatusCode::NOT_FOUND || status == StatusCode::BAD_REQUEST,
            "{body}"
        );
        assert!(v["error"].is_string(), "{body}: {v}");
    }
    let (status, v) = control(
        &sb,
        reqwest::Method::POST,
        "/sign-in-as",
        json!({ "account": 42 }),
    )
    .await;
    assert_eq!(
        (status, v["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let r = http()
        .post(format!("{}/sign-in-as", sb.control_url()))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "bad_request");
    let (_, still) = control_get(&sb, "/sign-in-as").await;
    assert_eq!(still["account"].as_i64(), Some(FIRST_USER_ID));

    // the consent form with an account that is not one
    for account in ["42", "abc"] {
        let mut form: Vec<(&str, &str)> = authorize_query().to_vec();
        form.extend([("decision", "approve"), ("account", account)]);
        let r = http()
            .post(format!("{}/authenticate", sb.oauth_url()))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{account}");
    }
    sb.stop().await;
}

#[tokio::test]
async fn the_first_account_is_the_sandbox_as_it_was() {
    let single = Sandbox::start_on_free_port(config(1)).await.unwrap();
    let many = Sandbox::start_on_free_port(config(4)).await.unwrap();
    let (t1, t4) = (
        token_for(&single, json!({})).await,
        token_for(&many, json!({})).await,
    );
    for path in [
        "/my/activities/search/extended",
        "/my/userinfo",
        "/my/stats",
    ] {
        let (one, four) = (get(&single, &t1, path).await, get(&many, &t4, path).await);
        assert_eq!(
            one.text().await.unwrap(),
            four.text().await.unwrap(),
            "{path}"
        );
    }
    assert_eq!(account_ids(&single).await, vec![FIRST_USER_ID]);
    // the others are drawn from the seed: the same again, others under another seed
    let again = Sandbox::start_on_free_port(config(4)).await.unwrap();
    let (_, listed) = control_get(&many, "/accounts").await;
    let (_, listed_again) = control_get(&again, "/accounts").await;
    assert_eq!(listed, listed_again);
    let token = token_for(&again, json!({ "account": listed[3]["id"] })).await;
    let token_many = token_for(&many, json!({ "account": listed[3]["id"] })).await;
    let path = "/my/activities/search/extended";
    assert_eq!(
        get(&many, &token_many, path).await.text().await.unwrap(),
        get(&again, &token, path).await.text().await.unwrap()
    );
    let mut other = config(4);
    other.seed = 8;
    let reseeded = Sandbox::start_on_free_port(other).await.unwrap();
    let (_, listed_other) = control_get(&reseeded, "/accounts").await;
    assert_eq!(listed_other[0], listed[0]);
    assert_ne!(listed_other[1]["userName"], listed[1]["userName"]);
    for sb in [single, many, again, reseeded] {
        sb.stop().await;
    }
}

#[tokio::test]
async fn userinfo_s_id_is_stable_missing_or_new_for_each_token_as_set() {
    let sb = Sandbox::start_on_free_port(config(2)).await.unwrap();
    let first = account_ids(&sb).await[0];
    let (one, two) = (
        token_for(&sb, json!({})).await,
        token_for(&sb, json!({})).await,
    );
    let id = async |token: &str| {
        get_json(&sb, token, "/my/userinfo")
            .await
            .get("id")
            .cloned()
    };
    assert_eq!(id(&one).await, Some(json!(first)), "stable by default");
    assert_eq!(id(&two).await, Some(json!(first)));

    let set = async |reading: &str| {
        let (status, _) = control(
            &sb,
            reqwest::Method::PUT,
            "/settings",
            json!({ "userinfo_id": reading }),
        )
        .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    };
    set("missing").await;
    assert_eq!(id(&one).await, None, "missing: no id key");
    let info = get_json(&sb, &one, "/my/userinfo").await;
    assert!(
        info["userName"].is_string(),
        "the rest is still there: {info}"
    );

    set("per_token").await;
    let (a, b) = (id(&one).await.unwrap(), id(&two).await.unwrap());
    assert_ne!(a, b, "a new id for each token");
    assert_ne!(a, json!(first));
    assert_eq!(id(&one).await.unwrap(), a, "the same token keeps its id");

    set("stable").await;
    assert_eq!(id(&two).await, Some(json!(first)));
}
