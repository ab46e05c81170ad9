//! API contract tests over real HTTP: the router on port 0, a real DuckDB file synced from the
//! sandbox.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{API_TOKEN, server_config, start, world};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn get(base: &str, path: &str) -> (StatusCode, String) {
    let r = reqwest::get(format!("{base}{path}")).await.unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn get_json(base: &str, path: &str) -> Value {
    let (status, body) = get(base, path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    assert!(!body.contains(API_TOKEN), "no token in {path}");
    serde_json::from_str(&body).unwrap()
}

async fn error(base: &str, path: &str, expected: StatusCode) -> Value {
    let (status, body) = get(base, path).await;
    assert_eq!(status, expected, "{path}: {body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert!(
        v["error"]["code"].is_string() && v["error"]["message"].is_string(),
        "{body}"
    );
    v
}

#[tokio::test]
async fn every_read_endpoint_answers() {
    let w = world().await;
    let b = &w.base;
    let streak = get_json(b, "/api/v1/streak?as_of=2026-05-03").await;
    for key in ["current", "longest", "rule", "as_of"] {
        assert!(streak.get(key).is_some(), "{streak}");
    }
    for key in ["days", "start", "end", "status", "remaining_km"] {
        assert!(streak["current"].get(key).is_some(), "{streak}");
    }
    assert_eq!(streak["as_of"], "2026-05-03");
    // today's verdict and the last sync ride along (a day that qualifies is done)
    assert_eq!(streak["today"]["state"], "done", "{streak}");
    assert!(streak["last_sync"].is_string(), "{streak}");
    let openapi = get_json(b, "/api/v1/openapi.json").await;
    let described = openapi["paths"]["/api/v1/streak"]["get"]["responses"]["200"]["description"]
        .as_str()
        .unwrap_or_default();
    assert!(described.contains("MYRUNSTREAK_STALE_AFTER"), "{described}");
    let any = get_json(
        b,
        "/api/v1/streak?as_of=2026-05-03&rule=any&tz=America/New_York",
    )
    .await;
    assert!(any["qualifying_days"].as_u64() >= streak["qualifying_days"].as_u64());
    let streaks = get_json(b, "/api/v1/streaks?min_days=5").await;
    assert!(
        streaks["streaks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["days"].as_u64().unwrap() >= 5)
    );

    let runs = get_json(b, "/api/v1/runs?limit=5").await;
    assert_eq!(runs.as_array().unwrap().len(), 5);
    let page2 = get_json(b, "/api/v1/runs?limit=5&offset=5").await;
    assert_ne!(runs[0]["activity_id"], page2[0]["activity_id"]);
    let april = get_json(
        b,
        "/api/v1/runs?since=2026-04-01&until=2026-04-30&limit=1000",
    )
    .await;
    assert!(
        april
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["date"].as_str().unwrap().starts_with("2026-04"))
    );
    let id = runs[0]["activity_id"].as_i64().unwrap();
    let one = get_json(b, &format!("/api/v1/runs/{id}")).await;
    assert_eq!(one["raw"]["activityId"], id);

    let stats = get_json(b, "/api/v1/stats").await;
    assert!(stats["totals"]["runs"].as_u64().unwrap() > 900);
    assert!(!stats["weeks"].as_array().unwrap().is_empty());
    let month = get_json(b, "/api/v1/stats?year=2025&month=6").await;
    assert_eq!(month["months"].as_array().unwrap().len(), 1);
    assert!(get_json(b, "/api/v1/records").await["longest_run"].is_object());
    let cal = get_json(b, "/api/v1/calendar").await;
    assert_eq!(cal["days"].as_array().unwrap().len(), 365);
    assert_eq!(
        get_json(b, "/api/v1/calendar?year=2024").await["days"]
            .as_array()
            .unwrap()
            .len(),
        366
    );
    let status = get_json(b, "/api/v1/sync/status").await;
    assert_eq!(status["last_success"]["mode"], "full");
    assert_eq!(status["stale"], false);
    assert_eq!(get_json(b, "/healthz").await["status"], "ok");

    let (s, badge) = get(b, "/badge.svg").await;
    assert_eq!(s, StatusCode::OK);
    assert!(badge.starts_with("<svg") && badge.contains("streak"));

    let (s, html) = get(b, "/").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        html.matches("class=\"day ").count(),
        365,
        "a heatmap of the last 365 days"
    );
    assert_eq!(
        html.matches("<a href=\"/days/").count(),
        365,
        "each heatmap day links to its audit"
    );
    let last = cal["to"].as_str().unwrap();
    assert!(
        html.contains(&format!("<a href=\"/days/{last}\">")),
        "{last}"
    );
    assert!(
        html.contains("&lt;script&gt;document.title='PWNED'&lt;/script&gt; &amp; more"),
        "notes are escaped"
    );
    assert!(!html.contains("<script>document.title"));
    assert!(!html.contains(API_TOKEN));
}

#[tokio::test]
async fn a_day_s_audit_lists_its_runs_and_agrees_with_the_calendar() {
    let w = world().await;
    let b = &w.base;
    let cal = get_json(b, "/api/v1/calendar?year=2026").await;
    let days = cal["days"].as_array().unwrap();
    // the day of the runner's note (a 3 km run at 07:00 -04:00), and every day of April
    let day = get_json(b, "/api/v1/days/2026-05-02").await;
    assert_eq!(day["date"], "2026-05-02");
    assert_eq!(day["rule"], "usrsa");
    let runs = day["runs"].as_array().unwrap();
    let noted = runs
        .iter()
        .find(|r| r["notes"].as_str().is_some_and(|n| n.contains("PWNED")))
        .expect("the run with the note");
    assert_eq!(noted["start"], "2026-05-02T07:00:00-04:00");
    assert_eq!(noted["utc_offset_s"], -4 * 3600);
    assert_eq!(noted["distance"], 3.0);
    assert_eq!(noted["counted"], true);
    assert_eq!(day["verdict"], "qualified");
    assert_eq!(day["threshold"]["measure"], "day_distance");
    assert_eq!(day["threshold"]["minimum"]["km"], 1.60934);
    assert!(day["reason"].as_str().unwrap().starts_with("Counted: "));
    for d in days
        .iter()
        .filter(|d| d["date"].as_str().unwrap().starts_with("2026-04"))
    {
        let date = d["date"].as_str().unwrap();
        let audit = get_json(b, &format!("/api/v1/days/{date}")).await;
        assert_eq!(audit["qualifies"], d["qualified"], "{date}: {audit}");
        assert_eq!(audit["totals"]["distance"], d["distance"], "{date}");
        assert_eq!(audit["totals"]["runs"], d["runs"], "{date}");
        assert_eq!(
            audit["streak"].is_object(),
            d["qualified"] == true,
            "{date}"
        );
    }
    // under another rule, given as for /streak
    let any = get_json(b, "/api/v1/days/2026-05-02?rule=any&as_of=2026-05-03").await;
    assert_eq!(any["rule"], "any");
    assert_eq!(any["threshold"]["measure"], "any_run");
    assert_eq!(any["as_of"], "2026-05-03");

    // the day's page shows the same audit, the runner's note as text
    let (s, html) = get(b, "/days/2026-05-02").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("id=\"day-runs\""), "{html}");
    assert!(html.contains("Counted: "), "the reason");
    assert!(html.contains("&lt;script&gt;document.title='PWNED'&lt;/script&gt; &amp; more"));
    assert!(!html.contains("<script>document.title"));
}

#[tokio::test]
async fn errors_have_the_right_status_and_say_what_was_wrong() {
    let w = world().await;
    let b = &w.base;
    let e = error(
        b,
        "/api/v1/streak?as_of=2026-02-30",
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(e["error"]["message"].as_str().unwrap().contains("as_of"));
    let e = error(b, "/api/v1/streak?rule=fast", StatusCode::BAD_REQUEST).await;
    assert!(e["error"]["message"].as_str().unwrap().contains("rule"));
    error(b, "/api/v1/streak?tz=Mars/Olympus", StatusCode::BAD_REQUEST).await;
    error(b, "/api/v1/runs?since=yesterday", StatusCode::BAD_REQUEST).await;
    error(b, "/api/v1/runs?limit=0", StatusCode::BAD_REQUEST).await;
    error(
        b,
        "/api/v1/stats?month=13&year=2025",
        StatusCode::BAD_REQUEST,
    )
    .await;
    error(b, "/api/v1/runs/not-a-number", StatusCode::BAD_REQUEST).await;
    let e = error(b, "/api/v1/days/2026-02-30", StatusCode::BAD_REQUEST).await;
    let message = e["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("2026-02-30") && message.contains("YYYY-MM-DD"),
        "{message}"
    );
    error(b, "/api/v1/days/yesterday", StatusCode::BAD_REQUEST).await;
    error(
        b,
        "/api/v1/days/2026-05-02?rule=fast",
        StatusCode::BAD_REQUEST,
    )
    .await;
    error(b, "/days/not-a-date", StatusCode::BAD_REQUEST).await;
    error(b, "/api/v1/runs/1", StatusCode::NOT_FOUND).await;
    error(b, "/api/v2/nothing", StatusCode::NOT_FOUND).await;

    let http = reqwest::Client::new();
    let post = |token: Option<&'static str>| {
        let mut r = http.post(format!("{b}/api/v1/sync"));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    assert_eq!(post(None).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let wrong = post(Some("s3cret-api-tokeN")).await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(!wrong.text().await.unwrap().contains(API_TOKEN));
    let big = http
        .post(format!("{b}/api/v1/sync"))
        .bearer_auth(API_TOKEN)
        .body(vec![b'x'; 64 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // one sync at a time: slow SmashRun down, start one, the next gets 409
    http.put(format!("{}/faults", w.sandbox.control_url()))
        .json(&json!({"latency_ms": 1500}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        post(Some(API_TOKEN)).await.unwrap().status(),
        StatusCode::ACCEPTED
    );
    let busy = post(Some(API_TOKEN)).await.unwrap();
    assert_eq!(busy.status(), StatusCode::CONFLICT);
    assert_eq!(get_json(b, "/api/v1/sync/status").await["running"], true);
    for _ in 0..100 {
        if get_json(b, "/api/v1/sync/status").await["running"] == false {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = get_json(b, "/api/v1/sync/status").await;
    assert_eq!(status["running"], false);
    assert_eq!(status["last_success"]["mode"], "incremental", "{status}");
    let _ = &w.client;

    // without a configured token, changing state is disabled, not open
    let open = start(server_config(&w.db, None, None)).await;
    let r = reqwest::Client::new()
        .post(format!("{open}/api/v1/sync"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "disabled"
    );
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_the_router_serves() {
    let w = world().await;
    let doc = get_json(&w.base, "/api/v1/openapi.json").await;
    let paths: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let served = [
        ("get", "/api/v1/streak"),
        ("get", "/api/v1/streaks"),
        ("get", "/api/v1/streak/period"),
        ("get", "/api/v1/goals"),
        ("get", "/api/v1/runs"),
        ("get", "/api/v1/runs/{id}"),
        ("get", "/api/v1/stats"),
        ("get", "/api/v1/records"),
        ("get", "/api/v1/calendar"),
        ("get", "/api/v1/days/{date}"),
        ("get", "/api/v1/sync/status"),
        ("post", "/api/v1/sync"),
        ("get", "/api/v1/ledger"),
        ("post", "/api/v1/ledger"),
        ("get", "/api/v1/openapi.json"),
        ("get", "/healthz"),
        ("get", "/"),
        ("get", "/days/{date}"),
        ("get", "/badge.svg"),
        ("get", "/status.json"),
        ("get", "/streak.ics"),
    ];
    assert_eq!(
        paths,
        served
            .iter()
            .map(|(_, p)| p.to_string())
            .collect::<BTreeSet<_>>()
    );
    for (method, path) in served {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} documented"
        );
        // and the router really serves it (anything but 404/405)
        let url = format!(
            "{}{}",
            w.base,
            path.replace("{id}", "1").replace("{date}", "2026-05-03")
        );
        let status = reqwest::Client::new()
            .request(method.to_uppercase().parse().unwrap(), url)
            .send()
            .await
            .unwrap()
            .status();
        assert!(
            status != StatusCode::METHOD_NOT_ALLOWED
                && (status != StatusCode::NOT_FOUND || path.contains("{id}")),
            "{method} {path}: {status}"
        );
    }
    // the published status is the streak's answer, as `myrunstreak publish` writes it
    let status = get_json(&w.base, "/status.json").await;
    let streak = get_json(&w.base, "/api/v1/streak").await;
    assert_eq!(status["current"], streak["current"], "{status}");
    assert_eq!(status["today"], streak["today"]);
}

#[tokio::test]
async fn a_missing_database_is_an_empty_dashboard_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let base = start(server_config(&dir.path().join("none.duckdb"), None, None)).await;
    let (status, html) = get(&base, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("myrunstreak sync"));
    assert_eq!(
        get_json(&base, "/api/v1/streak").await["current"]["days"],
        0
    );
}

#[tokio::test]
async fn goals_and_period_streaks_add_up_the_runs_the_api_lists() {
    let w = world().await;
    let b = &w.base;
    // every running activity of 2026 up to the judged day, as the runs endpoint lists them
    let listed = get_json(
        b,
        "/api/v1/runs?since=2026-01-01&until=2026-05-03&limit=1000",
    )
    .await;
    let dates: Vec<String> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["deleted"].as_bool().unwrap())
        .filter(|r| {
            r["activity_type"]
                .as_str()
                .is_none_or(|t| t.eq_ignore_ascii_case("running"))
        })
        .map(|r| r["date"].as_str().unwrap().to_owned())
        .collect();
    assert!(dates.len() > 50, "a seeded year has runs: {}", dates.len());

    let goals = get_json(
        b,
        "/api/v1/goals?period=3runs/week&target=300runs&as_of=2026-05-03",
    )
    .await;
    let year = &goals["year"];
    assert_eq!(year["year"], 2026);
    assert_eq!(year["done"]["runs"], dates.len());
    // 2026-05-03 is the 123rd day of a 365-day year; the pace line is 300 runs times 123/365
    assert_eq!(year["days_elapsed"], 123);
    assert_eq!(year["days_left"], 365 - 122);
    let pace = year["pace_line"]["runs"].as_f64().unwrap();
    assert!((pace - 300.0 * 123.0 / 365.0).abs() < 1e-6, "{pace}");
    let ahead = dates.len() as f64 > pace;
    assert_eq!(year["standing"], if ahead { "ahead" } else { "behind" });

    // the ISO week in progress: Monday 2026-04-27 to Sunday 2026-05-03
    let week = &goals["period"]["current_period"];
    assert_eq!(week["start"], "2026-04-27");
    assert_eq!(week["end"], "2026-05-03");
    let this_week = dates.iter().filter(|d| d.as_str() >= "2026-04-27").count();
    assert_eq!(week["done"]["runs"], this_week);
    assert_eq!(week["qualifies"], this_week >= 3);

    // one serializer: /streak/period answers exactly the period part of /goals
    let period = get_json(b, "/api/v1/streak/period?rule=3runs/week&as_of=2026-05-03").await;
    assert_eq!(period, goals["period"]);

    // nothing asked and nothing set: say what to give
    let e = error(b, "/api/v1/streak/period", StatusCode::BAD_REQUEST).await;
    let message = e["error"]["message"].as_str().unwrap();
    assert!(message.contains("rule=20mi/week"), "{message}");
    let e = error(b, "/api/v1/goals?target=lots", StatusCode::BAD_REQUEST).await;
    let message = e["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("target") && message.contains("lots"),
        "{message}"
    );
    let none = get_json(b, "/api/v1/goals").await;
    assert_eq!(none, json!({"period": null, "year": null}));
}
