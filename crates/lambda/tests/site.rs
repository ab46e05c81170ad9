//! The many-runner site on AWS: the fan-out and the worker with the real AWS SDK against moto's
//! server (DynamoDB, KMS, SQS, S3, Secrets Manager) and the sandbox as SmashRun, its runners
//! signed in through the site's own login (with PKCE, the verifier sealed by KMS).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jiff::civil::date;
use jiff::{SignedDuration, Timestamp};
use lambda_runtime::{Context, LambdaEvent};
use myrunstreak_app::Settings;
use myrunstreak_app::site::{AccountBook, Callback, RunnerAccount, Site, SiteSettings, SyncHealth};
use myrunstreak_aws::{
    AwsOptions, DatabaseObject, DynamoAccounts, KmsSealer, RunnerJob, RunnerQueue, SdkConfig,
    dynamodb_client, kms_client, s3_client, sdk_config, secrets_client, sqs_client,
};
use myrunstreak_lambda::{
    FanOut, SiteDeps, Worker, delete_runner_data, handle_fanout, handle_worker, runner_key,
    runner_prefix,
};
use myrunstreak_testkit::Moto;
use serde_json::{Value, json};
use smashrun_sandbox::{Client, Sandbox, SandboxConfig};

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

    /// Signs the sandbox's `account` in through the site's login; their new account.
    async fn sign_in(&self, web: &Site, account: i64) -> RunnerAccount {
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
        let start = web.begin_login(Timestamp::now()).await.unwrap();
        let answer = http.get(start.url.as_str()).send().await.unwrap();
        assert!(answer.status().is_redirection(), "{}", answer.status());
        let back = reqwest::Url::parse(answer.headers()["location"].to_str().unwrap()).unwrap();
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
        json!({"runners": 4, "due": 2, "enqueued": 2, "failed": 0, "need_sign_in": 1})
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
            },
            RunnerJob {
                runner_id: kept.id.clone(),
                full,
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
    }])
    .await;
    let answer = handle_worker(&worker, invocation(sqs_event(c.take_messages().await), "w"))
        .await
        .unwrap();
    assert!(failures(&answer).is_empty(), "{answer}");
    assert_eq!(versions(runner_prefix(&gone.id)).await, 0);
}
