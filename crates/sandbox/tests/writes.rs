//! `POST /v1/my/activities` over real HTTP on loopback: the scope, the content type, a bad body,
//! a created activity listed like any other, the three shapes of a success answer, both readings
//! of a repeated `externalId`, and an answer lost after the activity was created.

use jiff::civil::date;
use reqwest::StatusCode;
use serde_json::{Value, json};
use smashrun_sandbox::{Sandbox, SandboxConfig};

async fn sandbox() -> Sandbox {
    let config = SandboxConfig {
        years: 1,
        end: Some(date(2026, 5, 3)),
        ..SandboxConfig::default()
    };
    Sandbox::start_on_free_port(config).await.unwrap()
}

async fn token(sb: &Sandbox, scope: &str) -> String {
    let v: Value = reqwest::Client::new()
        .post(format!("{}/tokens", sb.control_url()))
        .json(&json!({ "scope": scope }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["scope"], scope, "the token answer says its scope");
    v["access_token"].as_str().unwrap().to_owned()
}

fn run(external_id: &str) -> Value {
    json!({
        "startDateTimeLocal": "2026-05-02T06:40:00-04:00",
        "distance": 1.93121,
        "duration": 690,
        "activityType": "running",
        "externalId": external_id,
    })
}

async fn post(sb: &Sandbox, token: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/my/activities", sb.api_url()))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn get(sb: &Sandbox, token: &str, path: &str) -> Value {
    let r = reqwest::Client::new()
        .get(format!("{}{}", sb.api_url(), path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.json().await.unwrap()
}

async fn put_writes(sb: &Sandbox, reading: Value) {
    let r = reqwest::Client::new()
        .put(format!("{}/writes", sb.control_url()))
        .json(&reading)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

/// The live activities carrying `external_id`, from the whole listing.
async fn with_external_id(sb: &Sandbox, token: &str, external_id: &str) -> Vec<Value> {
    get(sb, token, "/my/activities/search")
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["externalId"] == external_id)
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_write_needs_the_scope_json_and_a_readable_body() {
    let sb = sandbox().await;
    let read_only = token(&sb, "read_activity").await;
    let r = post(&sb, &read_only, &run("a")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "insufficient_scope");
    put_writes(&sb, json!({ "missing_scope_status": 401 })).await;
    assert_eq!(
        post(&sb, &read_only, &run("a")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(with_external_id(&sb, &read_only, "a").await.is_empty());

    let writer = token(&sb, "read_activity write_activity").await;
    let form = reqwest::Client::new()
        .post(format!("{}/my/activities", sb.api_url()))
        .bearer_auth(&writer)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("distance=2")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let bad = post(
        &sb,
        &writer,
        &json!({ "startDateTimeLocal": "2026-05-02T06:40:00", "distance": 2.0 }),
    )
    .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let said: Value = bad.json().await.unwrap();
    assert!(
        said["error_description"]
            .as_str()
            .unwrap()
            .contains("with its UTC offset"),
        "{said}"
    );
    let none = reqwest::Client::new()
        .post(format!("{}/my/activities", sb.api_url()))
        .json(&run("a"))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED, "no token at all");
}

#[tokio::test]
async fn a_created_activity_is_listed_like_any_other() {
    let sb = sandbox().await;
    let writer = token(&sb, "read_activity write_activity").await;
    let before: Vec<i64> =
        serde_json::from_value(get(&sb, &writer, "/my/activities/search/ids").await).unwrap();
    let since = jiff::Timestamp::now().as_second() - 5;
    let r = post(&sb, &writer, &run("myrunstreak-ledger-1-7")).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = r.json().await.unwrap();
    let id = created["activityId"].as_i64().unwrap();
    assert_eq!(location, format!("/v1/my/activities/{id}"));
    assert!(!before.contains(&id));
    assert_eq!(created["startDateTimeLocal"], "2026-05-02T06:40:00-04:00");
    assert_eq!(created["distance"], 1.93121);
    assert_eq!(created["duration"], 690.0);
    assert_eq!(created["source"], "manual");
    assert_eq!(created["externalId"], "myrunstreak-ledger-1-7");

    let ids: Vec<i64> =
        serde_json::from_value(get(&sb, &writer, "/my/activities/search/ids").await).unwrap();
    assert_eq!(ids.len(), before.len() + 1);
    assert!(ids.contains(&id));
    let one = get(&sb, &writer, &format!("/my/activities/{id}")).await;
    assert_eq!(one["externalId"], "myrunstreak-ledger-1-7");
    let changes = get(
        &sb,
        &writer,
        &format!("/my/activities/search?fromDateUTC={since}"),
    )
    .await;
    assert!(
        changes
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["activityId"] == id),
        "a creation is a change: {changes}"
    );
    let stats = get(&sb, &writer, "/my/stats").await;
    assert_eq!(stats["runCount"], ids.len());
}

#[tokio::test]
async fn a_success_answers_the_activity_its_bare_id_or_nothing_that_names_it_as_set() {
    let sb = sandbox().await;
    let writer = token(&sb, "read_activity write_activity").await;
    for (shape, external_id) in [("activity", "a-1"), ("id", "a-2"), ("empty", "a-3")] {
        put_writes(&sb, json!({ "answer": shape })).await;
        let answer = post(&sb, &writer, &run(external_id)).await;
        assert_eq!(answer.status(), StatusCode::CREATED, "{shape}");
        let location = answer.headers().get("location").cloned();
        let body = answer.text().await.unwrap();
        let created = with_external_id(&sb, &writer, external_id).await;
        assert_eq!(created.len(), 1, "{shape}: created once");
        let id = created[0]["activityId"].as_i64().unwrap();
        let named = location.is_some_and(|l| l.to_str().unwrap().ends_with(&format!("/{id}")));
        match shape {
            "activity" => {
                let summary: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(summary["activityId"], id);
                assert!(named, "activity: a Location");
            }
            "id" => {
                assert_eq!(body, id.to_string(), "id: the bare number");
                assert!(named, "id: a Location");
            }
            _ => {
                assert!(body.is_empty(), "empty: no body, got {body:?}");
                assert!(!named, "empty: no Location");
            }
        }
    }
}

#[tokio::test]
async fn a_repeated_external_id_is_the_same_activity_or_a_duplicate_as_set() {
    let sb = sandbox().await;
    let writer = token(&sb, "read_activity write_activity").await;
    let first = post(&sb, &writer, &run("x-1")).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = post(&sb, &writer, &run("x-1")).await;
    assert_eq!(
        again.status(),
        StatusCode::OK,
        "same: the existing one answers"
    );
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["activityId"], first["activityId"]);
    assert_eq!(with_external_id(&sb, &writer, "x-1").await.len(), 1);

    put_writes(&sb, json!({ "repeated_external_id": "duplicate" })).await;
    let dup = post(&sb, &writer, &run("x-1")).await;
    assert_eq!(dup.status(), StatusCode::CREATED);
    let dup: Value = dup.json().await.unwrap();
    assert_ne!(dup["activityId"], first["activityId"]);
    assert_eq!(with_external_id(&sb, &writer, "x-1").await.len(), 2);
}

#[tokio::test]
async fn a_lost_answer_still_created_the_activity() {
    let sb = sandbox().await;
    let writer = token(&sb, "read_activity write_activity").await;
    put_writes(&sb, json!({ "lose_answers": 1 })).await;
    let lost = post(&sb, &writer, &run("lost-1")).await;
    assert_eq!(lost.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(with_external_id(&sb, &writer, "lost-1").await.len(), 1);

    put_writes(&sb, json!({ "lose_answers": 1, "lost_as": "drop" })).await;
    let dropped = reqwest::Client::new()
        .post(format!("{}/my/activities", sb.api_url()))
        .bearer_auth(&writer)
        .json(&run("lost-2"))
        .send()
        .await;
    assert!(dropped.is_err(), "no answer at all: {dropped:?}");
    assert_eq!(with_external_id(&sb, &writer, "lost-2").await.len(), 1);

    put_writes(&sb, json!({ "lose_answers": 1, "outage_after_lost": 2 })).await;
    assert_eq!(
        post(&sb, &writer, &run("lost-4")).await.status(),
        StatusCode::BAD_GATEWAY
    );
    for _ in 0..2 {
        let down = reqwest::Client::new()
            .get(format!("{}/my/activities/search", sb.api_url()))
            .bearer_auth(&writer)
            .send()
            .await
            .unwrap();
        assert_eq!(down.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
    assert_eq!(
        with_external_id(&sb, &writer, "lost-4").await.len(),
        1,
        "up again"
    );

    // the fault was used up: the next answer arrives
    let fine = post(&sb, &writer, &run("lost-3")).await;
    assert_eq!(fine.status(), StatusCode::CREATED);
    let reading: Value = reqwest::Client::new()
        .get(format!("{}/writes", sb.control_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reading["lose_answers"], 0);
}
