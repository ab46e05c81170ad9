//! Both handlers with real event documents, the real AWS SDK against moto's server, and the
//! sandbox as SmashRun.

use std::path::Path;
use std::time::Duration;

use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use lambda_runtime::{Context, LambdaEvent};
use myrunstreak_app::Settings;
use myrunstreak_aws::{
    AwsOptions, DatabaseObject, s3_client, sdk_config, secrets_client, ses_client,
};
use myrunstreak_lambda::{Deps, api_router, handle_sync, scheduled_remind};
use myrunstreak_testkit::Moto;
use serde_json::{Value, json};
use smashrun_sandbox::{Client, Sandbox, SandboxConfig};
use tower::ServiceExt;

struct Cloud {
    moto: Moto,
    aws: AwsOptions,
    sandbox: Sandbox,
    dir: tempfile::TempDir,
}

async fn cloud() -> Cloud {
    let moto = Moto::start().await;
    let url = moto.url.clone();
    let aws = AwsOptions {
        region: "us-east-1".into(),
        endpoint_url: Some(url),
        static_credentials: Some(("test".into(), "test".into())),
    };
    let mut config = SandboxConfig {
        years: 2,
        end: Some(date(2026, 5, 3)),
        ..SandboxConfig::default()
    };
    config.clients.push(Client {
        id: "lambda".into(),
        secret: "lambda-secret".into(),
        redirect_uris: vec!["http://localhost:8000/callback".into()],
    });
    let sandbox = Sandbox::start_on_free_port(config).await.unwrap();

    let sdk = sdk_config(&aws).await;
    s3_client(&sdk, &aws)
        .create_bucket()
        .bucket("myrunstreak-data")
        .send()
        .await
        .unwrap();
    let secrets = secrets_client(&sdk);
    secrets
        .create_secret()
        .name("myrunstreak/smashrun/client")
        .secret_string(json!({"client_id": "lambda", "client_secret": "lambda-secret"}).to_string())
        .send()
        .await
        .unwrap();
    let issued: Value = reqwest::Client::new()
        .post(format!("{}/tokens", sandbox.control_url()))
        .json(&json!({"client_id": "lambda"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let seven_weeks_ago = Timestamp::now() - SignedDuration::from_hours(24 * 49);
    secrets
        .create_secret()
        .name("myrunstreak/smashrun/tokens")
        .secret_string(
            json!({
                "access_token": issued["access_token"], "refresh_token": issued["refresh_token"],
                "expires_at": (seven_weeks_ago + SignedDuration::from_secs(7_257_600)).to_string(),
                "issued_at": seven_weeks_ago.to_string(), "rotation_owner": "ops@example.com"
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    Cloud {
        moto,
        aws,
        sandbox,
        dir: tempfile::tempdir().unwrap(),
    }
}

impl Cloud {
    fn deps(&self, work: &str) -> Deps {
        self.deps_with(work, &[])
    }

    fn deps_with(&self, work: &str, extra: &[(&str, String)]) -> Deps {
        let vars = [
            ("SMASHRUN_OAUTH_URL", self.sandbox.oauth_url()),
            ("SMASHRUN_API_URL", self.sandbox.api_url()),
            ("MYRUNSTREAK_S3_BUCKET", "myrunstreak-data".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
        ]
        .into_iter()
        .chain(extra.iter().cloned())
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        Deps {
            settings: Settings::from_vars(&vars).unwrap(),
            aws: self.aws.clone(),
            work_dir: self.dir.path().join(work),
        }
    }

    /// One scheduled sync from the work folder `work`, as request `id`; its summary.
    async fn scheduled_sync(&self, work: &str, id: &str) -> Value {
        handle_sync(
            &self.deps(work),
            invocation(event("scheduled-event.json"), id),
        )
        .await
        .unwrap()
    }

    async fn object(&self) -> DatabaseObject {
        let sdk = sdk_config(&self.aws).await;
        DatabaseObject::new(
            s3_client(&sdk, &self.aws),
            "myrunstreak-data",
            "runs.duckdb",
        )
    }
}

fn event(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn invocation(payload: Value, id: &str) -> LambdaEvent<Value> {
    let mut context = Context::default();
    context.request_id = id.to_owned();
    LambdaEvent::new(payload, context)
}

#[tokio::test]
async fn the_scheduled_sync_mirrors_into_s3_and_writes_refreshed_tokens_back() {
    let c = cloud().await;
    let status = [("MYRUNSTREAK_STATUS_BUCKET", "myrunstreak-data".to_owned())];
    let summary = handle_sync(
        &c.deps_with("a", &status),
        invocation(event("scheduled-event.json"), "req-1"),
    )
    .await
    .unwrap();

    // the status files are published beside it, each with its content type and cache header
    let sdk = sdk_config(&c.aws).await;
    let s3 = s3_client(&sdk, &c.aws);
    for (key, content_type) in [
        ("status/status.json", "application/json"),
        ("status/badge.svg", "image/svg+xml"),
        ("status/streak.ics", "text/calendar; charset=utf-8"),
    ] {
        let object = s3
            .get_object()
            .bucket("myrunstreak-data")
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(object.content_type(), Some(content_type), "{key}");
        assert!(
            object
                .cache_control()
                .is_some_and(|c| c.contains("max-age")),
            "{key}"
        );
        let body = object.body.collect().await.unwrap().into_bytes();
        if key.ends_with(".json") {
            let status: Value = serde_json::from_slice(&body).unwrap();
            assert!(
                status["current"]["days"].is_u64() && status["today"]["state"].is_string(),
                "{status}"
            );
        }
    }
    assert_eq!(summary["mode"]["mode"], "full", "{summary}");
    let runs = summary["total_runs"].as_u64().unwrap();
    assert!(runs > 600);

    // the object in S3 is a DuckDB file with those runs
    let copy = c.dir.path().join("check.duckdb");
    let etag = c.object().await.download(&copy).await.unwrap().unwrap();
    assert_eq!(etag, summary["etag"].as_str().unwrap());
    assert_eq!(
        myrunstreak_app::Mirror::open(&copy)
            .unwrap()
            .domain_runs()
            .unwrap()
            .len() as u64,
        runs
    );

    // the token past half-life was refreshed and written back, other keys kept
    let sdk = sdk_config(&c.aws).await;
    let secret: Value = serde_json::from_str(
        secrets_client(&sdk)
            .get_secret_value()
            .secret_id("myrunstreak/smashrun/tokens")
            .send()
            .await
            .unwrap()
            .secret_string()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(secret["rotation_owner"], "ops@example.com");
    let issued: Timestamp = secret["issued_at"].as_str().unwrap().parse().unwrap();
    assert!(
        Timestamp::now().duration_since(issued) < SignedDuration::from_mins(5),
        "refreshed: {secret}"
    );

    // the next day's run is incremental, from the uploaded file
    let again = c.scheduled_sync("b", "req-2").await;
    assert_eq!(again["mode"]["mode"], "incremental", "{again}");
    assert_eq!(again["counts"]["added"], 0);
    assert_ne!(again["etag"], summary["etag"]);
}

#[tokio::test]
async fn two_overlapping_syncs_never_lose_an_update() {
    let c = cloud().await;
    c.scheduled_sync("seed", "seed").await;
    // both read the same version; SmashRun is slow, so they overlap
    reqwest::Client::new()
        .put(format!("{}/faults", c.sandbox.control_url()))
        .json(&json!({"latency_ms": 700}))
        .send()
        .await
        .unwrap();
    let (deps_a, deps_b) = (c.deps("a"), c.deps("b"));
    let (a, b) = tokio::join!(
        handle_sync(&deps_a, invocation(event("scheduled-event.json"), "a")),
        handle_sync(&deps_b, invocation(event("scheduled-event.json"), "b")),
    );
    let (won, lost) = match (a, b) {
        (Ok(w), Err(l)) | (Err(l), Ok(w)) => (w, l),
        (a, b) => panic!("exactly one must win: {a:?} / {b:?}"),
    };
    assert!(lost.to_string().contains("another writer"), "{lost}");
    assert_eq!(
        c.object().await.etag().await.unwrap().as_deref(),
        won["etag"].as_str(),
        "the winner's upload stands"
    );
}

#[tokio::test]
async fn a_failing_sync_is_a_handler_error() {
    let c = cloud().await;
    reqwest::Client::new()
        .post(format!("{}/tokens/revoke", c.sandbox.control_url()))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let err = handle_sync(
        &c.deps("a"),
        invocation(event("scheduled-event.json"), "req-x"),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("auth login") || err.to_string().contains("SmashRun"),
        "{err}"
    );
    assert_eq!(
        c.object().await.etag().await.unwrap(),
        None,
        "nothing uploaded"
    );
}

async fn api_call(router: &axum::Router, name: &str) -> (u16, Value) {
    api_request(router, event(name)).await
}

/// API Gateway's v2 event `event` through `router`: the status and the JSON answer.
async fn api_request(router: &axum::Router, event: Value) -> (u16, Value) {
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let (parts, body) = request.into_parts();
    let request = axum::http::Request::from_parts(parts, axum::body::Body::from(body.to_vec()));
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn the_api_answers_api_gateway_v2_requests_from_the_s3_copy() {
    let c = cloud().await;
    c.scheduled_sync("sync", "seed").await;
    let router = api_router(&c.deps("api"), Duration::from_secs(60))
        .await
        .unwrap();
    let (status, body) = api_call(&router, "apigw-v2-streak.json").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["rule"], "any");
    assert_eq!(body["as_of"], "2026-05-03");
    assert!(body["longest"]["days"].as_u64().unwrap() > 100, "{body}");
    // the API cannot change anything
    let (status, body) = api_call(&router, "apigw-v2-post-sync.json").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "disabled");
}

/// `method path` as API Gateway hands it over, with a bearer token and a JSON body.
fn api_event(method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
    let mut e = event("apigw-v2-post-sync.json");
    e["rawPath"] = json!(path);
    e["requestContext"]["http"]["path"] = json!(path);
    e["requestContext"]["http"]["method"] = json!(method);
    e["headers"]["authorization"] = json!(format!("Bearer {token}"));
    if let Some(body) = body {
        e["headers"]["content-type"] = json!("application/json");
        e["body"] = json!(body.to_string());
    }
    e
}

#[tokio::test]
async fn a_ledger_entry_posted_to_the_api_is_written_to_s3_and_kept_by_the_next_sync() {
    let c = cloud().await;
    c.scheduled_sync("sync", "seed").await;
    let etag = c.object().await.etag().await.unwrap();
    // the API's bearer token is a secret of its own, as Terraform keeps it
    secrets_client(&sdk_config(&c.aws).await)
        .create_secret()
        .name("myrunstreak/api-token")
        .secret_string(json!({ "api_token": "t0ken-abc" }).to_string())
        .send()
        .await
        .unwrap();
    let with_token = [(
        "MYRUNSTREAK_API_TOKEN_SECRET_ID",
        "myrunstreak/api-token".to_owned(),
    )];
    let router = api_router(&c.deps_with("api", &with_token), Duration::from_secs(60))
        .await
        .unwrap();
    let entry = json!({"kind": "override", "date": "2026-05-01", "reason": "watch died"});

    let (status, body) = api_request(
        &router,
        api_event("POST", "/api/v1/ledger", "wrong", Some(entry.clone())),
    )
    .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(
        c.object().await.etag().await.unwrap(),
        etag,
        "nothing written"
    );

    let (status, body) = api_request(
        &router,
        api_event("POST", "/api/v1/ledger", "t0ken-abc", Some(entry.clone())),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["entry"]["kind"], "override");
    assert_eq!(body["day"], "2026-05-01");
    assert_ne!(
        c.object().await.etag().await.unwrap(),
        etag,
        "written to S3, conditionally on the ETag it read"
    );
    // the same container reads it back at once (its cached copy was expired by the write)
    let (status, body) = api_request(&router, api_event("GET", "/api/v1/ledger", "", None)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["entries"][0]["reason"], "watch died", "{body}");
    // a second override of that day is refused, and nothing is written
    let etag = c.object().await.etag().await.unwrap();
    let (status, body) = api_request(
        &router,
        api_event("POST", "/api/v1/ledger", "t0ken-abc", Some(entry)),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(c.object().await.etag().await.unwrap(), etag);

    // the next sync starts from the object with the entry and keeps it; a fresh API container
    // without the token still reads it (and still cannot write)
    c.scheduled_sync("sync-2", "after").await;
    let fresh = api_router(&c.deps("api-2"), Duration::from_secs(60))
        .await
        .unwrap();
    let (_, body) = api_request(&fresh, api_event("GET", "/api/v1/ledger", "", None)).await;
    assert_eq!(body["entries"].as_array().unwrap().len(), 1, "{body}");
    let (status, _) = api_request(
        &fresh,
        api_event(
            "POST",
            "/api/v1/ledger",
            "t0ken-abc",
            Some(json!({"kind": "override", "date": "2026-04-30", "reason": "x"})),
        ),
    )
    .await;
    assert_eq!(status, 403, "no token configured: writes are disabled");
}

/// A local webhook: every POST body it receives.
async fn webhook() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let kept = kept.clone();
            async move {
                kept.lock().unwrap().push(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn the_scheduled_reminder_sends_once_even_from_a_fresh_container() {
    let c = cloud().await;
    let (hook, seen) = webhook().await;
    // the channel's URL is a secret of its own, as Terraform keeps it
    let sdk = sdk_config(&c.aws).await;
    secrets_client(&sdk)
        .create_secret()
        .name("myrunstreak/notify")
        .secret_string(
            json!({ "notify_url": format!("{hook}, mailto:sam@example.com") }).to_string(),
        )
        .send()
        .await
        .unwrap();
    // and a mail through SES, from a sender verified there
    ses_client(&sdk)
        .create_email_identity()
        .email_identity("streak@example.com")
        .send()
        .await
        .unwrap();
    let settings = [
        ("MYRUNSTREAK_TIMEZONE", "America/New_York".to_owned()),
        ("MYRUNSTREAK_REMIND_AT", "18:00,21:00".to_owned()),
        (
            "MYRUNSTREAK_NOTIFY_SECRET_ID",
            "myrunstreak/notify".to_owned(),
        ),
        ("MYRUNSTREAK_MAIL_FROM", "streak@example.com".to_owned()),
    ];
    // the history ends on 2026-05-03: at 20:20 in New York the next evening, today is at risk
    let evening: Timestamp = "2026-05-04T20:20:00-04:00".parse().unwrap();
    let first = scheduled_remind(&c.deps_with("a", &settings), "remind-1", evening)
        .await
        .unwrap();
    assert_eq!(first["today"]["state"], "at_risk", "{first}");
    assert_eq!(first["outcome"]["outcome"], "sent", "{first}");
    assert_eq!(first["outcome"]["slot"], "18:00", "{first}");
    let message = {
        let got = seen.lock().unwrap();
        assert_eq!(got.len(), 1, "one message");
        got[0]["message"].as_str().unwrap().to_owned()
    };
    assert!(message.contains("today not run yet"), "{message}");
    let mail = c.moto.sent_mail().await;
    assert_eq!(mail.len(), 1, "one mail: {mail:?}");
    assert_eq!(mail[0].to, ["sam@example.com"]);
    assert_eq!(mail[0].body, message, "the mail says what the webhook got");
    // a new container (an empty work folder) fifteen minutes later: what was sent came back
    // from S3 with the file, so nothing is sent twice
    let later = scheduled_remind(
        &c.deps_with("b", &settings),
        "remind-2",
        evening + SignedDuration::from_mins(15),
    )
    .await
    .unwrap();
    assert_eq!(later["outcome"]["outcome"], "already_sent", "{later}");
    assert_eq!(seen.lock().unwrap().len(), 1, "still one message");
    assert_eq!(c.moto.sent_mail().await.len(), 1, "still one mail");

    // an event asking for something else is an error that names what exists
    let err = handle_sync(
        &c.deps_with("c", &settings),
        invocation(json!({"action": "dance"}), "req-x"),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("\"remind\""), "{err}");
}
