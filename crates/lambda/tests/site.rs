//! The many-runner site on AWS: the fan-out and the worker with the real AWS SDK against moto's
//! server (DynamoDB, KMS, SQS, S3, Secrets Manager) and the sandbox as SmashRun, its runners
//! signed in through the site's own login (with PKCE, the verifier sealed by KMS); and the site's
//! web function, driven through the same router its binary builds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;

use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use lambda_runtime::{Context, LambdaEvent};
use myrunstreak_app::Settings;
use myrunstreak_app::ledger::{self, NewEntry};
use myrunstreak_app::queries::StreakQuery;
use myrunstreak_app::site::{
    AccountBook, Callback, MirrorChange, MirrorError, MirrorHome, RunnerAccount, Site,
    SiteSettings, SyncHealth,
};
use myrunstreak_aws::{
    AwsOptions, DatabaseObject, DynamoAccounts, KmsSealer, RunnerJob, RunnerQueue, S3Mirrors,
    SdkConfig, dynamodb_client, kms_client, s3_client, sdk_config, secrets_client, sqs_client,
};
use myrunstreak_lambda::{
    FanOut, QueuedSyncs, SiteDeps, Worker, delete_runner_data, handle_fanout, handle_worker,
    runner_key, runner_prefix, site_web_router,
};
use myrunstreak_server::site::site_router_over;
use myrunstreak_testkit::Moto;
use serde_json::{Value, json};
use smashrun_sandbox::{Client, Sandbox, SandboxConfig};
use tower::ServiceExt;

const BUCKET: &str = "myrunstreak-site-data";
const TABLE: &str = "myrunstreak-accounts";

struct Cloud {
    _moto: Moto,
    aws: AwsOptions,
    sdk: SdkConfig,
    sandbox: Sandbox,
    dir: tempfile::TempDir,
    queue_url: String,
    key_arn: String,
    book: Arc<DynamoAccounts>,
}

async fn cloud(accounts: usize) -> Cloud {
    let moto = Moto::start().await;
    let aws = AwsOptions {
        region: "us-east-1".into(),
        endpoint_url: Some(moto.url.clone()),
        static_credentials: Some(("test".into(), "test".into())),
    };
    let mut config = SandboxConfig {
        years: 1,
        end: Some(date(2026, 5, 3)),
        accounts,
        max_runs: Some(30),
        odd_share: 0.0,
        auto_approve: true,
        ..SandboxConfig::default()
    };
    config.clients.push(Client {
        id: "lambda".into(),
        secret: "lambda-secret".into(),
        redirect_uris: vec!["http://127.0.0.1:8080/auth/callback".into()],
    });
    let sandbox = Sandbox::start_on_free_port(config).await.unwrap();

    let sdk = sdk_config(&aws).await;
    let s3 = s3_client(&sdk, &aws);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    // versioned, as Terraform makes it (the SDK's types are not this crate's to name: the
    // request is sent as S3 takes it)
    reqwest::Client::new()
        .put(format!("{}/{BUCKET}?versioning", moto.url))
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(r#"<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>"#)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    secrets_client(&sdk)
        .create_secret()
        .name("myrunstreak/smashrun/client")
        .secret_string(json!({"client_id": "lambda", "client_secret": "lambda-secret"}).to_string())
        .send()
        .await
        .unwrap();
    let book = Arc::new(DynamoAccounts::new(dynamodb_client(&sdk), TABLE));
    book.create_table().await.unwrap();
    let key_arn = kms_client(&sdk)
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    let queue_url = sqs_client(&sdk)
        .create_queue()
        .queue_name("myrunstreak-runners")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    Cloud {
        _moto: moto,
        aws,
        sdk,
        sandbox,
        dir: tempfile::tempdir().unwrap(),
        queue_url,
        key_arn,
        book,
    }
}

impl Cloud {
    fn vars(&self) -> BTreeMap<String, String> {
        [
            ("SMASHRUN_OAUTH_URL", self.sandbox.oauth_url()),
            ("SMASHRUN_API_URL", self.sandbox.api_url()),
            ("SMASHRUN_PKCE", "true".to_owned()),
            ("MYRUNSTREAK_S3_BUCKET", BUCKET.to_owned()),
            (
                "MYRUNSTREAK_CLIENT_SECRET_ID",
                "myrunstreak/smashrun/client".to_owned(),
            ),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("MYRUNSTREAK_ACCOUNTS_TABLE", TABLE.to_owned()),
            ("MYRUNSTREAK_RUNNER_QUEUE_URL", self.queue_url.clone()),
            ("MYRUNSTREAK_KMS_KEY_ID", self.key_arn.clone()),
            (
                "MYRUNSTREAK_WORK_DIR",
                self.dir.path().join("worker").display().to_string(),
            ),
            ("MYRUNSTREAK_SITE_SYNC_EVERY_MINUTES", "60".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    fn deps(&self) -> SiteDeps {
        let mut deps = SiteDeps::from_vars(&self.vars()).unwrap();
        deps.aws = self.aws.clone();
        deps
    }

    /// The site as the web front would run it: the same book and sealer, the app's credentials.
    fn web(&self) -> Site {
        let mut vars = self.vars();
        vars.insert("SMASHRUN_CLIENT_ID".into(), "lambda".into());
        vars.insert("SMASHRUN_CLIENT_SECRET".into(), "lambda-secret".into());
        vars.insert(
            "MYRUNSTREAK_SITE_DATA".into(),
            self.dir.path().join("web").display().to_string(),
        );
        Site::new(
            Settings::from_vars(&vars).unwrap(),
            SiteSettings::from_vars(&vars).unwrap(),
            self.book.clone(),
            Arc::new(KmsSealer::new(kms_client(&self.sdk), &self.key_arn)),
        )
        .unwrap()
    }

    /// The sandbox's accounts (user ids), first account first.
    async fn accounts(&self) -> Vec<i64> {
        let list: Value = reqwest::get(format!("{}/accounts", self.sandbox.control_url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_i64().unwrap())
            .collect()
    }

    /// The sandbox's `account` approves the site at SmashRun's `authorize` URL; where SmashRun
    /// sends the browser back.
    async fn approve(&self, account: i64, authorize: &str) -> reqwest::Url {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        http.post(format!("{}/sign-in-as", self.sandbox.control_url()))
            .json(&json!({ "account": account }))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
        let answer = http.get(authorize).send().await.unwrap();
        assert!(answer.status().is_redirection(), "{}", answer.status());
        reqwest::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap()
    }

    /// Signs the sandbox's `account` in through the site's login; their new account.
    async fn sign_in(&self, web: &Site, account: i64) -> RunnerAccount {
        let start = web.begin_login(Timestamp::now()).await.unwrap();
        let back = self.approve(account, start.url.as_str()).await;
        let param = |name: &str| {
            back.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .unwrap_or_else(|| panic!("no {name} in {back}"))
        };
        let (state, code) = (param("state"), param("code"));
        let signed = web
            .finish_login(
                &Callback {
                    state: Some(&state),
                    code: Some(&code),
                    browser_nonce: Some(start.browser_nonce.expose()),
                    ..Callback::default()
                },
                Timestamp::now(),
            )
            .await
            .unwrap();
        assert!(signed.new_account);
        assert_eq!(signed.runner.smashrun_id, account);
        signed.runner
    }

    /// The ids of the sandbox account's runs.
    async fn sandbox_runs(&self, account: i64) -> BTreeSet<i64> {
        let list: Value = reqwest::get(format!(
            "{}/runs?account={account}",
            self.sandbox.control_url()
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .filter(|r| r["deleted"] != json!(true))
            .map(|r| r["activityId"].as_i64().unwrap())
            .collect()
    }

    fn object(&self, runner_id: &str) -> DatabaseObject {
        DatabaseObject::new(
            s3_client(&self.sdk, &self.aws),
            BUCKET,
            runner_key(runner_id),
        )
    }

    /// The run ids in a runner's object, `None` when there is no object.
    async fn object_runs(&self, runner_id: &str) -> Option<BTreeSet<i64>> {
        let copy = self.dir.path().join(format!("check-{runner_id}.duckdb"));
        let _ = std::fs::remove_file(&copy);
        self.object(runner_id).download(&copy).await.unwrap()?;
        let runs = myrunstreak_app::Mirror::open(&copy)
            .unwrap()
            .domain_runs()
            .unwrap();
        Some(runs.into_iter().map(|r| r.id.get()).collect())
    }

    /// Every message in the queue, as SQS's event for Lambda hands them over.
    async fn take_messages(&self) -> Vec<Value> {
        let template = fixture("sqs-event.json")["Records"][0].clone();
        let sqs = sqs_client(&self.sdk);
        let mut records = Vec::new();
        loop {
            let out = sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .message_system_attribute_names("All".into())
                .send()
                .await
                .unwrap();
            if out.messages().is_empty() {
                return records;
            }
            for m in out.messages() {
                let mut record = template.clone();
                record["messageId"] = json!(m.message_id().unwrap());
                record["receiptHandle"] = json!(m.receipt_handle().unwrap());
                record["body"] = json!(m.body().unwrap());
                record["md5OfBody"] = json!(m.md5_of_body().unwrap());
                let attributes: serde_json::Map<String, Value> = m
                    .attributes()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.as_str().to_owned(), json!(v)))
                    .collect();
                record["attributes"] = Value::Object(attributes);
                records.push(record);
            }
        }
    }

    async fn send(&self, jobs: &[RunnerJob]) {
        let sent = RunnerQueue::new(sqs_client(&self.sdk), &self.queue_url)
            .send(jobs)
            .await;
        assert_eq!(sent.sent, jobs.len(), "{sent:?}");
    }
}

fn fixture(name: &str) -> Value {
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

fn sqs_event(records: Vec<Value>) -> Value {
    let mut event = fixture("sqs-event.json");
    event["Records"] = Value::Array(records);
    event
}

/// The message of `runner_id` among `records`.
fn message_of<'a>(records: &'a [Value], runner_id: &str) -> &'a str {
    records
        .iter()
        .find(|r| {
            serde_json::from_str::<Value>(r["body"].as_str().unwrap())
                .is_ok_and(|b| b["runner_id"] == runner_id)
        })
        .unwrap_or_else(|| panic!("no message of {runner_id}"))["messageId"]
        .as_str()
        .unwrap()
}

fn failures(response: &Value) -> BTreeSet<String> {
    response["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_fan_out_enqueues_exactly_the_runners_due_and_never_a_dead_token() {
    let c = cloud(4).await;
    let web = c.web();
    let accounts = c.accounts().await;
    let mut runners = Vec::new();
    for &account in &accounts {
        runners.push(c.sign_in(&web, account).await);
    }
    let now = Timestamp::now();
    let ids: Vec<&str> = runners.iter().map(|r| r.id.as_str()).collect();
    // 0: never synced; 1: synced ten minutes ago; 2: SmashRun refused their token; 3: synced
    // two hours ago
    let health = |minutes: i64, problem: Option<&str>| SyncHealth {
        last_attempt: Some(now - SignedDuration::from_mins(minutes)),
        last_success: Some(now - SignedDuration::from_mins(minutes)),
        token_problem: problem.map(str::to_owned),
        ..SyncHealth::default()
    };
    c.book.put_health(ids[1], &health(10, None)).await.unwrap();
    c.book
        .put_health(ids[2], &health(600, Some("revoked")))
        .await
        .unwrap();
    c.book.put_health(ids[3], &health(120, None)).await.unwrap();

    let fanout = FanOut::from_deps(&c.deps()).await.unwrap();
    let summary = fanout.run(now).await.unwrap();
    assert_eq!(
        json!(summary),
        json!({"runners": 4, "due": 2, "enqueued": 2, "failed": 0, "need_sign_in": 1, "reminders": 0, "deferred": 0})
    );
    let mut bodies: Vec<Value> = c
        .take_messages()
        .await
        .iter()
        .map(|r| serde_json::from_str(r["body"].as_str().unwrap()).unwrap())
        .collect();
    bodies.sort_by(|a, b| a["runner_id"].as_str().cmp(&b["runner_id"].as_str()));
    let mut expected = vec![
        json!({"runner_id": ids[0], "mode": null}),
        json!({"runner_id": ids[3], "mode": null}),
    ];
    expected.sort_by(|a, b| a["runner_id"].as_str().cmp(&b["runner_id"].as_str()));
    assert_eq!(bodies, expected);

    // the schedule's invocation does the same and answers with the counts
    let answer = handle_fanout(&fanout, invocation(fixture("scheduler-event.json"), "f-1"))
        .await
        .unwrap();
    assert_eq!(answer["enqueued"], 2, "{answer}");
    assert_eq!(c.take_messages().await.len(), 2);

    // a queue that does not take the messages: the invocation fails, so the schedule retries
    let mut deps = c.deps();
    deps.runner_queue_url = Some(format!(
        "{}/123456789012/not-there",
        c.aws.endpoint_url.as_deref().unwrap()
    ));
    let broken = FanOut::from_deps(&deps).await.unwrap();
    let err = handle_fanout(&broken, invocation(fixture("scheduler-event.json"), "f-2"))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("2 of 2 runners due could not be enqueued"),
        "{err}"
    );

    // the workers charged the app's budget to within one sync of its end: one runner waits
    let per_hour = c.deps().site.app_requests_per_hour;
    c.book.charge_app(now, per_hour - 4).await.unwrap();
    assert_eq!(c.book.app_requests(now).await.unwrap(), Some(per_hour - 4));
    let summary = fanout.run(now).await.unwrap();
    assert_eq!(
        (summary.due, summary.enqueued, summary.deferred),
        (2, 1, 1),
        "{summary:?}"
    );
    assert_eq!(
        self::bodies(&c.take_messages().await),
        [json!({"runner_id": ids[0], "mode": null})]
    );
    // two hours later the charge has slid out of the window
    let later = now + SignedDuration::from_mins(121);
    assert_eq!(c.book.app_requests(later).await.unwrap(), Some(0));
}

#[tokio::test]
async fn a_worker_batch_syncs_each_runner_into_their_own_object_and_fails_only_the_failing_message()
{
    let c = cloud(5).await;
    let web = c.web();
    let accounts = c.accounts().await;
    let mut runners = Vec::new();
    for &account in &accounts {
        runners.push(c.sign_in(&web, account).await);
    }
    let [ann, bob, cid, dee, eve] = [0, 1, 2, 3, 4].map(|i| runners[i].id.clone());
    // bob revoked the app on SmashRun
    reqwest::Client::new()
        .post(format!(
            "{}/tokens/revoke?account={}",
            c.sandbox.control_url(),
            accounts[1]
        ))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap();
    // dee's sealed tokens are ann's, copied over: KMS refuses them under dee's context
    let anns = c.book.runner(&ann).await.unwrap().unwrap().tokens;
    c.book.set_tokens(&dee, anns.as_ref()).await.unwrap();
    let jobs: Vec<_> = [&ann, &bob, &cid, &dee, &eve]
        .into_iter()
        .map(|id| RunnerJob {
            runner_id: id.clone(),
            full: false,
            remind: false,
        })
        .collect();
    c.send(&jobs).await;
    // and a message that is no runner job at all
    sqs_client(&c.sdk)
        .send_message()
        .queue_url(&c.queue_url)
        .message_body("{\"runner\": \"../../etc\"}")
        .send()
        .await
        .unwrap();
    // cid deleted their account after their message was queued
    c.book.delete_runner(&cid).await.unwrap();

    let records = c.take_messages().await;
    assert_eq!(records.len(), 6);
    let worker = Worker::from_deps(&c.deps()).await.unwrap();
    let answer = handle_worker(&worker, invocation(sqs_event(records.clone()), "w-1"))
        .await
        .unwrap();
    let bad = records
        .iter()
        .find(|r| r["body"].as_str().unwrap().contains("../../etc"))
        .unwrap()["messageId"]
        .as_str()
        .unwrap();
    assert_eq!(
        failures(&answer),
        BTreeSet::from([message_of(&records, &dee).to_owned(), bad.to_owned()]),
        "{answer}"
    );

    // the two good runners: each their own object, with exactly their own runs
    let ann_runs = c.object_runs(&ann).await.expect("ann's object");
    let eve_runs = c.object_runs(&eve).await.expect("eve's object");
    assert_eq!(ann_runs, c.sandbox_runs(accounts[0]).await);
    assert_eq!(eve_runs, c.sandbox_runs(accounts[4]).await);
    assert_eq!(ann_runs.len(), 30);
    assert!(ann_runs.is_disjoint(&eve_runs));
    assert_ne!(runner_key(&ann), runner_key(&eve));
    let health = c.book.health(&ann).await.unwrap();
    assert_eq!(health.runs, 30);
    assert!(health.last_success.is_some() && health.last_error.is_none());
    // bob: recorded as needing to sign in again, not retried, nothing uploaded
    let health = c.book.health(&bob).await.unwrap();
    assert!(health.token_problem.is_some(), "{health:?}");
    assert_eq!(c.object_runs(&bob).await, None);
    // cid: gone, and nothing of theirs came back
    assert!(c.book.runner(&cid).await.unwrap().is_none());
    assert_eq!(c.book.health(&cid).await.unwrap(), SyncHealth::default());
    assert_eq!(c.object_runs(&cid).await, None);
    // dee: failed (to be retried), recorded, nothing uploaded
    let health = c.book.health(&dee).await.unwrap();
    assert!(
        health.last_error.is_some() && health.token_problem.is_none(),
        "{health:?}"
    );
    assert_eq!(c.object_runs(&dee).await, None);
    // no file of any runner is left in the worker's scratch space
    let scratch = c.dir.path().join("worker/site/runners");
    let left: Vec<_> = std::fs::read_dir(&scratch)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");

    // the same batch delivered again: ann and eve were synced since, so nothing is done twice
    let ann_etag = c.object(&ann).etag().await.unwrap();
    let again = handle_worker(&worker, invocation(sqs_event(records.clone()), "w-2"))
        .await
        .unwrap();
    assert_eq!(failures(&again), failures(&answer));
    assert_eq!(
        c.object(&ann).etag().await.unwrap(),
        ann_etag,
        "not synced twice"
    );
    // a full sync asked for now is done, from ann's object, into it
    c.send(&[RunnerJob {
        runner_id: ann.clone(),
        full: true,
        remind: false,
    }])
    .await;
    let full = handle_worker(
        &worker,
        invocation(sqs_event(c.take_messages().await), "w-3"),
    )
    .await
    .unwrap();
    assert!(failures(&full).is_empty(), "{full}");
    assert_ne!(c.object(&ann).etag().await.unwrap(), ann_etag);
    assert_eq!(c.object_runs(&ann).await.unwrap(), ann_runs);
}

#[tokio::test]
async fn a_worker_that_loses_the_race_for_the_object_fails_the_message_and_keeps_health_honest() {
    let c = cloud(1).await;
    let web = c.web();
    let runner = c.sign_in(&web, c.accounts().await[0]).await;
    let job = RunnerJob {
        runner_id: runner.id.clone(),
        full: false,
        remind: false,
    };
    c.send(std::slice::from_ref(&job)).await;
    let worker = Worker::from_deps(&c.deps()).await.unwrap();
    let first = handle_worker(
        &worker,
        invocation(sqs_event(c.take_messages().await), "w-1"),
    )
    .await
    .unwrap();
    assert!(failures(&first).is_empty(), "{first}");
    let synced = c.book.health(&runner.id).await.unwrap();

    // SmashRun is slow; while the worker syncs, another writer replaces the object
    reqwest::Client::new()
        .put(format!("{}/faults", c.sandbox.control_url()))
        .json(&json!({"latency_ms": 1500}))
        .send()
        .await
        .unwrap();
    c.send(std::slice::from_ref(&job)).await;
    let records = c.take_messages().await;
    let id = records[0]["messageId"].as_str().unwrap().to_owned();
    let other = c.dir.path().join("other.duckdb");
    let etag = c.object(&runner.id).download(&other).await.unwrap();
    // (another content: the same bytes would keep the same ETag)
    std::fs::write(&other, b"another writer's version").unwrap();
    let (answer, ()) = tokio::join!(
        handle_worker(&worker, invocation(sqs_event(records), "w-2")),
        async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            c.object(&runner.id)
                .upload(&other, etag.as_deref())
                .await
                .unwrap();
        }
    );
    let answer = answer.unwrap();
    assert_eq!(failures(&answer), BTreeSet::from([id]), "{answer}");
    let health = c.book.health(&runner.id).await.unwrap();
    assert_eq!(
        health.last_success, synced.last_success,
        "the lost sync is not a success"
    );
    assert!(
        health
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("not saved")),
        "{health:?}"
    );

    // signed out: a message for them is dropped without a sync
    c.book.set_tokens(&runner.id, None).await.unwrap();
    c.send(std::slice::from_ref(&job)).await;
    let answer = handle_worker(
        &worker,
        invocation(sqs_event(c.take_messages().await), "w-3"),
    )
    .await
    .unwrap();
    assert!(failures(&answer).is_empty(), "{answer}");
    assert_eq!(
        c.book.health(&runner.id).await.unwrap().last_attempt,
        health.last_attempt,
        "no sync was attempted"
    );
}

#[tokio::test]
async fn deleting_a_runner_on_aws_leaves_no_item_and_no_object_version_of_theirs() {
    let c = cloud(2).await;
    let web = c.web();
    let accounts = c.accounts().await;
    let gone = c.sign_in(&web, accounts[0]).await;
    let kept = c.sign_in(&web, accounts[1]).await;
    let worker = Worker::from_deps(&c.deps()).await.unwrap();
    for full in [false, true] {
        c.send(&[
            RunnerJob {
                runner_id: gone.id.clone(),
                full,
                remind: false,
            },
            RunnerJob {
                runner_id: kept.id.clone(),
                full,
                remind: false,
            },
        ])
        .await;
        let answer = handle_worker(&worker, invocation(sqs_event(c.take_messages().await), "w"))
            .await
            .unwrap();
        assert!(failures(&answer).is_empty(), "{answer}");
    }
    let s3 = s3_client(&c.sdk, &c.aws);
    let versions = |prefix: String| {
        let s3 = s3.clone();
        async move {
            let out = s3
                .list_object_versions()
                .bucket(BUCKET)
                .prefix(prefix)
                .send()
                .await
                .unwrap();
            out.versions().len() + out.delete_markers().len()
        }
    };
    assert_eq!(versions(runner_prefix(&gone.id)).await, 2);

    let deleted = delete_runner_data(&web, &s3, BUCKET, &gone.id)
        .await
        .unwrap();
    assert_eq!(deleted, 2);
    assert_eq!(versions(runner_prefix(&gone.id)).await, 0);
    assert!(c.book.runner(&gone.id).await.unwrap().is_none());
    assert!(
        c.book
            .runner_by_smashrun_id(accounts[0])
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        versions(runner_prefix(&kept.id)).await,
        2,
        "the other runner keeps theirs"
    );
    assert!(c.object_runs(&kept.id).await.is_some());
    // a message of theirs still in flight is dropped and writes nothing
    c.send(&[RunnerJob {
        runner_id: gone.id.clone(),
        full: false,
        remind: false,
    }])
    .await;
    let answer = handle_worker(&worker, invocation(sqs_event(c.take_messages().await), "w"))
        .await
        .unwrap();
    assert!(failures(&answer).is_empty(), "{answer}");
    assert_eq!(versions(runner_prefix(&gone.id)).await, 0);
}

// ---- the web function: the site's router on AWS ----

/// One answer of the site's router.
struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The value the answer sets for `cookie`.
    fn cookie(&self, cookie: &str) -> String {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix(&format!("{cookie}=")))
            .and_then(|v| v.split(';').next())
            .unwrap_or_else(|| panic!("no {cookie} cookie in {:?}", self.headers))
            .to_owned()
    }
}

/// A request to `router` with the session cookie (and, for a change, the site's own
/// `Origin`, as a browser on the site sends it).
async fn call(
    router: &Router,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: Option<(&str, Vec<u8>)>,
) -> Answer {
    let mut request = axum::http::Request::builder().method(method).uri(path);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    if method != "GET" {
        request = request.header("origin", "http://127.0.0.1:8080");
    }
    let request = match body {
        Some((content_type, bytes)) => request
            .header("content-type", content_type)
            .body(axum::body::Body::from(bytes)),
        None => request.body(axum::body::Body::empty()),
    }
    .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), 64 << 20)
        .await
        .unwrap()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

fn session(value: &str) -> String {
    format!("mrs_session={value}")
}

impl Cloud {
    /// The web function's deps: its own work folder (as another instance would have), the
    /// cached mirrors checked against S3 every `check_every`.
    fn web_deps(&self, name: &str, check_every: Duration) -> SiteDeps {
        let mut deps = self.deps();
        deps.work_dir = self.dir.path().join(name);
        deps.mirror_check_every = check_every;
        deps
    }

    /// The sandbox's `account` signs in through the site's own pages; their session cookie.
    async fn sign_in_on(&self, router: &Router, account: i64) -> String {
        let login = call(router, "GET", "/auth/login", None, None).await;
        assert!(login.status.is_redirection(), "{}", login.text());
        let nonce = login.cookie("mrs_login");
        let authorize = login.headers["location"].to_str().unwrap();
        let back = self.approve(account, authorize).await;
        let callback = format!("/auth/callback?{}", back.query().unwrap());
        let signed = call(
            router,
            "GET",
            &callback,
            Some(&format!("mrs_login={nonce}")),
            None,
        )
        .await;
        assert!(signed.status.is_redirection(), "{}", signed.text());
        session(&signed.cookie("mrs_session"))
    }

    async fn runner_of(&self, account: i64) -> RunnerAccount {
        self.book
            .runner_by_smashrun_id(account)
            .await
            .unwrap()
            .expect("an account for the sandbox's runner")
    }

    /// Another writer (the worker, another instance) records `reason` in the runner's object,
    /// with the conditional upload.
    async fn another_writer(&self, runner_id: &str, reason: &str, date: &str) {
        let copy = self.dir.path().join(format!("writer-{reason}.duckdb"));
        let _ = std::fs::remove_file(&copy);
        let etag = self.object(runner_id).download(&copy).await.unwrap();
        record_override(&copy, reason, date);
        self.object(runner_id)
            .upload(&copy, etag.as_deref())
            .await
            .unwrap();
    }

    async fn versions(&self, runner_id: &str) -> usize {
        let out = s3_client(&self.sdk, &self.aws)
            .list_object_versions()
            .bucket(BUCKET)
            .prefix(runner_prefix(runner_id))
            .send()
            .await
            .unwrap();
        out.versions().len() + out.delete_markers().len()
    }
}

/// Records an override of `date` for `reason` in the database at `path`.
fn record_override(path: &Path, reason: &str, date: &str) {
    let settings = Settings::from_vars(&BTreeMap::new()).unwrap();
    let query = StreakQuery::from_settings(&settings).unwrap();
    let entry: NewEntry =
        serde_json::from_value(json!({"kind": "override", "date": date, "reason": reason}))
            .unwrap();
    let now = Timestamp::now();
    ledger::record(
        &mut ledger::open_book(path, now).unwrap(),
        entry,
        &query,
        now,
    )
    .unwrap();
}

/// Overrides 2026-05-02 ("watch died") through the site's `POST /api/v1/ledger`.
async fn watch_died(router: &Router, cookie: &str) {
    let entry = json!({"kind": "override", "date": "2026-05-02", "reason": "watch died"});
    let body = ("application/json", entry.to_string().into_bytes());
    let made = call(router, "POST", "/api/v1/ledger", Some(cookie), Some(body)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
}

/// The activity ids the site's API answers for this session.
async fn api_runs(router: &Router, cookie: &str) -> BTreeSet<i64> {
    let answer = call(router, "GET", "/api/v1/runs?limit=1000", Some(cookie), None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    answer
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["activity_id"].as_i64().unwrap())
        .collect()
}

/// The reasons of the overrides in the ledger the site's API answers for this session.
async fn api_ledger(router: &Router, cookie: &str) -> BTreeSet<String> {
    let answer = call(router, "GET", "/api/v1/ledger", Some(cookie), None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let mut reasons = BTreeSet::new();
    let text = answer.text();
    for reason in ["other writer", "watch died", "forgot the watch"] {
        if text.contains(reason) {
            reasons.insert(reason.to_owned());
        }
    }
    reasons
}

fn bodies(records: &[Value]) -> Vec<Value> {
    let mut bodies: Vec<Value> = records
        .iter()
        .map(|r| serde_json::from_str(r["body"].as_str().unwrap()).unwrap())
        .collect();
    bodies.sort_by(|a, b| a["runner_id"].as_str().cmp(&b["runner_id"].as_str()));
    bodies
}

#[tokio::test]
async fn the_site_on_lambda_answers_each_runner_from_their_own_object_and_queues_their_syncs() {
    let c = cloud(2).await;
    let accounts = c.accounts().await;
    // this instance's clock, which the test moves on
    let later = Arc::new(AtomicI64::new(0));
    let offset = later.clone();
    let clock = Arc::new(move || {
        Timestamp::now() + SignedDuration::from_secs(offset.load(Ordering::SeqCst))
    });
    let router = site_web_router(&c.web_deps("web-a", Duration::ZERO), clock)
        .await
        .unwrap();
    let ann_cookie = c.sign_in_on(&router, accounts[0]).await;
    let bob_cookie = c.sign_in_on(&router, accounts[1]).await;
    let (ann, bob) = (
        c.runner_of(accounts[0]).await.id,
        c.runner_of(accounts[1]).await.id,
    );
    // sessions are in DynamoDB, as hashes
    let ann_session = ann_cookie.trim_start_matches("mrs_session=");
    let record = c.web().session_runner(ann_session, Timestamp::now()).await;
    assert_eq!(record.unwrap().unwrap().runner_id, ann);

    // each new runner's first sync is one message on the queue, full; nothing synced here
    let first = c.take_messages().await;
    let mut expected = vec![
        json!({"runner_id": ann, "mode": "full"}),
        json!({"runner_id": bob, "mode": "full"}),
    ];
    expected.sort_by(|a, b| a["runner_id"].as_str().cmp(&b["runner_id"].as_str()));
    assert_eq!(bodies(&first), expected);
    assert_eq!(c.object_runs(&ann).await, None);
    let waiting = call(&router, "GET", "/", Some(&ann_cookie), None).await;
    assert!(waiting.text().contains("first-sync"), "{}", waiting.text());

    let worker = Worker::from_deps(&c.deps()).await.unwrap();
    let answer = handle_worker(&worker, invocation(sqs_event(first), "w-1"))
        .await
        .unwrap();
    assert!(failures(&answer).is_empty(), "{answer}");

    // each runner's API answers from their own object only
    let ann_runs = api_runs(&router, &ann_cookie).await;
    let bob_runs = api_runs(&router, &bob_cookie).await;
    assert_eq!(ann_runs.len(), 30);
    assert_eq!(Some(ann_runs.clone()), c.object_runs(&ann).await);
    assert_eq!(Some(bob_runs.clone()), c.object_runs(&bob).await);
    assert_eq!(ann_runs, c.sandbox_runs(accounts[0]).await);
    assert!(ann_runs.is_disjoint(&bob_runs));
    let page = call(&router, "GET", "/", Some(&ann_cookie), None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("account-bar"), "{}", page.text());
    // no session: 401; another runner's run: 404
    let anonymous = call(&router, "GET", "/api/v1/runs", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    let forged = call(
        &router,
        "GET",
        "/api/v1/runs",
        Some("mrs_session=forged"),
        None,
    )
    .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    // ann asks for one of bob's runs, then one of her own
    for (run, expected) in [
        (bob_runs.first().unwrap(), StatusCode::NOT_FOUND),
        (ann_runs.first().unwrap(), StatusCode::OK),
    ] {
        let path = format!("/api/v1/runs/{run}");
        let answer = call(&router, "GET", &path, Some(&ann_cookie), None).await;
        assert_eq!(answer.status, expected, "{path}: {}", answer.text());
    }

    // another instance that checks S3 hourly has read ann's object once
    let hourly = site_web_router(
        &c.web_deps("web-b", Duration::from_secs(3600)),
        Arc::new(Timestamp::now),
    )
    .await
    .unwrap();
    assert!(api_ledger(&hourly, &ann_cookie).await.is_empty());
    // the object changes in S3 (another writer): an instance whose interval has passed (zero
    // here) answers the new data; the hourly one still answers from its copy
    c.another_writer(&ann, "other writer", "2026-05-01").await;
    assert_eq!(
        api_ledger(&router, &ann_cookie).await,
        BTreeSet::from(["other writer".to_owned()])
    );
    assert!(api_ledger(&hourly, &ann_cookie).await.is_empty());

    // a ledger entry made through the site goes into the object, with the other writer's
    watch_died(&router, &ann_cookie).await;
    let both = BTreeSet::from(["other writer".to_owned(), "watch died".to_owned()]);
    assert_eq!(api_ledger(&router, &ann_cookie).await, both);
    let fresh = site_web_router(
        &c.web_deps("web-c", Duration::ZERO),
        Arc::new(Timestamp::now),
    )
    .await
    .unwrap();
    assert_eq!(api_ledger(&fresh, &ann_cookie).await, both, "in S3");
    assert_eq!(api_ledger(&fresh, &bob_cookie).await, BTreeSet::new());

    // her single-runner database brought in through the site: its new entry joins her ledger,
    // in S3, through the same conditional write; what she has already is left out
    let file = c.dir.path().join("single-runner.duckdb");
    c.object(&ann).download(&file).await.unwrap();
    record_override(&file, "forgot the watch", "2026-04-30");
    let bytes = std::fs::read(&file).unwrap();
    let body = Some(("application/octet-stream", bytes));
    let imported = call(&router, "POST", "/account/import", Some(&ann_cookie), body).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.text());
    assert_eq!(imported.json()["entries"], 1, "{}", imported.text());
    assert_eq!(imported.json()["skipped"].as_array().unwrap().len(), 2);
    let all = BTreeSet::from(["other writer", "watch died", "forgot the watch"].map(str::to_owned));
    assert_eq!(api_ledger(&fresh, &ann_cookie).await, all, "in S3");

    // ann changes her zone through another instance: this one believes it within a minute
    let auckland = |answer: Answer| {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
        answer.text().contains("\"Pacific/Auckland\"")
    };
    let streak = call(&router, "GET", "/api/v1/streak", Some(&ann_cookie), None).await;
    assert!(!auckland(streak));
    let saved = call(
        &fresh,
        "POST",
        "/account/settings",
        Some(&ann_cookie),
        Some((
            "application/x-www-form-urlencoded",
            b"time_zone=Pacific%2FAuckland&rule=&handle=".to_vec(),
        )),
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    let streak = call(&router, "GET", "/api/v1/streak", Some(&ann_cookie), None).await;
    assert!(!auckland(streak), "still within the minute");
    later.store(61, Ordering::SeqCst);
    let streak = call(&router, "GET", "/api/v1/streak", Some(&ann_cookie), None).await;
    assert!(auckland(streak), "believed after a minute");

    // "Sync now": one message, for exactly that runner
    let sync = call(&router, "POST", "/account/sync", Some(&ann_cookie), None).await;
    assert!(sync.status.is_redirection(), "{}", sync.text());
    assert_eq!(
        self::bodies(&c.take_messages().await),
        vec![json!({"runner_id": ann, "mode": null})]
    );
    // POST /api/v1/sync does not sync in the request on Lambda
    let inline = call(&router, "POST", "/api/v1/sync", Some(&ann_cookie), None).await;
    assert!(inline.status.is_client_error(), "{}", inline.status);
    assert!(c.take_messages().await.is_empty());

    // an instance that keeps one runner's copy: reading bob's deletes ann's
    let mut deps = c.web_deps("web-d", Duration::ZERO);
    deps.mirror_copies = 1;
    let small = site_web_router(&deps, Arc::new(Timestamp::now))
        .await
        .unwrap();
    let copies = c.dir.path().join("web-d/mirrors");
    assert_eq!(api_runs(&small, &ann_cookie).await, ann_runs);
    assert!(copies.join(&ann).join("runs.duckdb").exists());
    assert_eq!(api_runs(&small, &bob_cookie).await, bob_runs);
    assert!(!copies.join(&ann).exists(), "ann's copy was evicted");
    assert!(copies.join(&bob).join("runs.duckdb").exists());
    assert_eq!(api_runs(&small, &ann_cookie).await, ann_runs);

    // bob deletes his account: every version of his object and his items are gone
    assert!(c.versions(&bob).await > 0);
    let deleted = call(
        &router,
        "POST",
        "/account/delete",
        Some(&bob_cookie),
        Some((
            "application/x-www-form-urlencoded",
            b"confirm=DELETE".to_vec(),
        )),
    )
    .await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.text());
    assert_eq!(c.versions(&bob).await, 0);
    assert!(c.book.runner(&bob).await.unwrap().is_none());
    assert!(
        c.book
            .runner_by_smashrun_id(accounts[1])
            .await
            .unwrap()
            .is_none()
    );
    let bob_session = bob_cookie.trim_start_matches("mrs_session=");
    assert!(
        c.web()
            .session_runner(bob_session, Timestamp::now())
            .await
            .unwrap()
            .is_none()
    );
    // on this instance and on another that still believes his session (for a minute)
    for instance in [&router, &fresh] {
        let after = call(instance, "GET", "/api/v1/runs", Some(&bob_cookie), None).await;
        assert_eq!(after.status, StatusCode::UNAUTHORIZED, "{}", after.text());
    }
    assert!(c.versions(&ann).await > 0, "ann keeps hers");
}

/// The S3 mirrors, with another writer changing the object the first time a change is made
/// (between the download and the upload).
struct Interfering {
    inner: S3Mirrors,
    cloud: Arc<(Cloud, AtomicU32)>,
}

#[async_trait::async_trait]
impl MirrorHome for Interfering {
    fn path(&self, runner_id: &str) -> PathBuf {
        self.inner.path(runner_id)
    }

    fn reload_every(&self) -> Duration {
        self.inner.reload_every()
    }

    async fn readable(&self, runner_id: &str) -> Result<Option<PathBuf>, MirrorError> {
        self.inner.readable(runner_id).await
    }

    async fn write(&self, runner_id: &str, change: MirrorChange) -> Result<(), MirrorError> {
        let (cloud, id) = (self.cloud.clone(), runner_id.to_owned());
        let runtime = tokio::runtime::Handle::current();
        let interfering: MirrorChange = Arc::new(move |path| {
            if cloud.1.fetch_add(1, Ordering::SeqCst) == 0 {
                runtime.block_on(
                    cloud
                        .0
                        .another_writer(&id, "forgot the watch", "2026-04-30"),
                );
            }
            change(path)
        });
        self.inner.write(runner_id, interfering).await
    }

    async fn remove(&self, runner_id: &str) -> Result<(), MirrorError> {
        self.inner.remove(runner_id).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_through_the_site_while_another_writer_changes_the_object_is_made_again_on_a_fresh_copy()
 {
    let c = cloud(1).await;
    let account = c.accounts().await[0];
    let router = site_web_router(
        &c.web_deps("web-a", Duration::ZERO),
        Arc::new(Timestamp::now),
    )
    .await
    .unwrap();
    let cookie = c.sign_in_on(&router, account).await;
    let runner = c.runner_of(account).await.id;
    let worker = Worker::from_deps(&c.deps()).await.unwrap();
    let answer = handle_worker(
        &worker,
        invocation(sqs_event(c.take_messages().await), "w-1"),
    )
    .await
    .unwrap();
    assert!(failures(&answer).is_empty(), "{answer}");

    let sdk = c.sdk.clone();
    let aws = c.aws.clone();
    let queue_url = c.queue_url.clone();
    let web = c.web();
    let shared = Arc::new((c, AtomicU32::new(0)));
    let home = Interfering {
        inner: S3Mirrors::new(
            s3_client(&sdk, &aws),
            BUCKET,
            shared.0.dir.path().join("web-i/mirrors"),
            Duration::ZERO,
            10,
        ),
        cloud: shared.clone(),
    };
    let site = web.with_mirrors(Arc::new(home));
    let syncs = QueuedSyncs::new(
        site.book().clone(),
        RunnerQueue::new(sqs_client(&sdk), queue_url),
        SignedDuration::from_hours(1),
    );
    let interfered = site_router_over(site, Arc::new(syncs), Arc::new(Timestamp::now));
    watch_died(&interfered, &cookie).await;
    assert_eq!(
        shared.1.load(Ordering::SeqCst),
        2,
        "made once, lost to the other writer, made again on a fresh copy"
    );
    // nothing is lost: the other writer's entry and the site's are both in the object
    let both = BTreeSet::from(["forgot the watch".to_owned(), "watch died".to_owned()]);
    assert_eq!(api_ledger(&router, &cookie).await, both);
    let copy = shared.0.dir.path().join("final.duckdb");
    shared.0.object(&runner).download(&copy).await.unwrap();
    let entries = myrunstreak_app::Mirror::open(&copy)
        .unwrap()
        .ledger()
        .unwrap();
    assert_eq!(entries.len(), 2, "{entries:?}");
}

/// Reminders on AWS: the fan-out gives a runner with a reminder due one `remind` message; the
/// worker syncs them first (their mirror is not fresh), judges today at risk, posts once to
/// their ntfy topic and keeps what it did in their health and their object; the same message
/// again sends nothing. The topic is sealed by KMS: no item of the table holds it.
#[tokio::test]
async fn a_reminder_due_on_aws_is_sent_once_by_the_worker_after_a_sync() {
    let c = cloud(2).await;
    let web = c.web();
    let accounts = c.accounts().await;
    let ann = c.sign_in(&web, accounts[0]).await;
    let bob = c.sign_in(&web, accounts[1]).await;

    let got: Arc<std::sync::Mutex<Vec<(String, String)>>> = Arc::default();
    let inbox = got.clone();
    let receiver = Router::new().fallback(
        move |uri: axum::http::Uri, headers: axum::http::HeaderMap, body: String| {
            let inbox = inbox.clone();
            async move {
                let title = headers
                    .get("title")
                    .and_then(|t| t.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                inbox.lock().unwrap().push((format!("{uri} {title}"), body));
                StatusCode::OK
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, receiver).await });
    let topic = "aws-topic-5c1e77";
    web.update_settings(
        &ann.id,
        myrunstreak_app::site::RunnerSettings {
            time_zone: Some("America/New_York".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    web.set_reminders(&ann.id, "20:00", &format!("ntfy+http://{addr}/{topic}"))
        .await
        .unwrap();

    // 2026-05-04 20:20 in New York: ann last ran on the 3rd, so today is at risk
    let now: Timestamp = "2026-05-05T00:20:00Z".parse().unwrap();
    let fanout = FanOut::from_deps(&c.deps()).await.unwrap();
    let summary = fanout.run(now).await.unwrap();
    assert_eq!(summary.reminders, 1, "{summary:?}");
    assert_eq!(
        summary.due, 2,
        "ann's reminder and bob's first sync: {summary:?}"
    );
    let records = c.take_messages().await;
    let bodies = bodies(&records);
    assert!(
        bodies.contains(&json!({"runner_id": ann.id, "mode": null, "remind": true})),
        "{bodies:?}"
    );
    assert!(
        bodies.contains(&json!({"runner_id": bob.id, "mode": null})),
        "{bodies:?}"
    );

    let worker = Worker::from_deps(&c.deps()).await.unwrap();
    let report = worker
        .batch(&sqs_event(records.clone()), now, None)
        .await
        .unwrap();
    assert!(report.failed().is_empty(), "{report:?}");
    let sent = got.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].0.starts_with(&format!("/{topic} Streak at risk")),
        "{sent:?}"
    );
    let health = c.book.health(&ann.id).await.unwrap();
    assert_eq!(
        health.reminded.as_deref(),
        Some("2026-05-04 20:00"),
        "{health:?}"
    );
    assert!(
        health.last_success.is_some(),
        "synced before judging: {health:?}"
    );
    assert_eq!(c.object_runs(&ann.id).await.map(|r| r.len()), Some(30));
    // every request the worker sent is charged to the app's shared count
    let bobs = c.book.health(&bob.id).await.unwrap();
    assert!(health.requests > 0 && bobs.requests > 0);
    assert_eq!(
        c.book.app_requests(now).await.unwrap(),
        Some((health.requests + bobs.requests) as u64)
    );

    // the same message again (SQS delivers at least once), and the next fan-out: nothing more
    let again = worker
        .batch(&sqs_event(records.clone()), now, None)
        .await
        .unwrap();
    assert!(again.failed().is_empty(), "{again:?}");
    let later = fanout
        .run(now + SignedDuration::from_mins(15))
        .await
        .unwrap();
    assert_eq!(later.reminders, 0, "{later:?}");
    assert_eq!(got.lock().unwrap().len(), 1);

    // KMS sealed the topic: no item of the accounts table holds it in the clear
    let items = dynamodb_client(&c.sdk)
        .scan()
        .table_name(TABLE)
        .send()
        .await
        .unwrap();
    let dump = format!("{:?}", items.items());
    assert!(dump.contains(&ann.id) && !dump.contains(topic));
}
