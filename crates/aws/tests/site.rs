//! The many-runner site's AWS adapters against moto's server: the DynamoDB account book, the KMS
//! sealer, the SQS runner queue and the removal of a runner's object versions.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use jiff::{SignedDuration, Timestamp};
use myrunstreak_app::TokenStore;
use myrunstreak_app::site::{
    AccountBook, ApiTokenRecord, PendingLogin, RunnerAccount, SealError, Sealed, SealedTokenStore,
    Sealer, SessionRecord, SiteError, SyncHealth,
};
use myrunstreak_aws::{
    AwsOptions, DynamoAccounts, KmsSealer, RunnerJob, RunnerQueue, delete_runner_objects,
    dynamodb_client, kms_client, s3_client, sdk_config, sqs_client,
};
use myrunstreak_testkit::Moto;
use serde_json::Value;
use smashrun_client::{Secret, TokenSet};

struct Aws {
    moto: Moto,
    config: aws_config::SdkConfig,
    options: AwsOptions,
}

async fn moto() -> Aws {
    let moto = Moto::start().await;
    let options = AwsOptions {
        region: "us-east-1".into(),
        endpoint_url: Some(moto.url.clone()),
        static_credentials: Some(("test".into(), "test".into())),
    };
    let config = sdk_config(&options).await;
    Aws {
        moto,
        config,
        options,
    }
}

impl Aws {
    async fn book(&self) -> DynamoAccounts {
        let book = DynamoAccounts::new(dynamodb_client(&self.config), "myrunstreak-accounts");
        book.create_table().await.unwrap();
        book
    }

    async fn sealer(&self) -> KmsSealer {
        let key = kms_client(&self.config)
            .create_key()
            .description("site tokens")
            .send()
            .await
            .unwrap();
        let arn = key.key_metadata().unwrap().arn().unwrap().to_owned();
        KmsSealer::new(kms_client(&self.config), arn)
    }

    /// Every item of the table, as moto holds it.
    async fn items(&self, book: &DynamoAccounts) -> Vec<HashMap<String, AttributeValue>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = dynamodb_client(&self.config)
                .scan()
                .table_name(book.table())
                .set_exclusive_start_key(start)
                .send()
                .await
                .unwrap();
            items.extend(out.items.unwrap_or_default());
            start = out.last_evaluated_key;
            if start.is_none() {
                return items;
            }
        }
    }
}

fn at(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn runner(id: &str, smashrun_id: i64, created: &str) -> RunnerAccount {
    RunnerAccount {
        id: id.into(),
        smashrun_id,
        user_name: Some(format!("user{smashrun_id}")),
        display_name: Some("Sam Runner".into()),
        created: at(created),
        time_zone: Some("Europe/Berlin".into()),
        rule: None,
        handle: None,
        public: false,
        tokens: Some(Sealed {
            key: "k1".into(),
            data: "00ff".into(),
        }),
        remind_at: None,
        reminder_channels: None,
    }
}

/// Every string anywhere in an attribute.
fn strings(attribute: &AttributeValue, out: &mut Vec<String>) {
    match attribute {
        AttributeValue::S(s) | AttributeValue::N(s) => out.push(s.clone()),
        AttributeValue::L(list) => list.iter().for_each(|a| strings(a, out)),
        AttributeValue::M(map) => map.iter().for_each(|(k, a)| {
            out.push(k.clone());
            strings(a, out)
        }),
        _ => {}
    }
}

fn item_text(item: &HashMap<String, AttributeValue>) -> String {
    let mut out = Vec::new();
    for (k, v) in item {
        out.push(k.clone());
        strings(v, &mut out);
    }
    out.join("\n")
}

#[tokio::test]
async fn runners_are_unique_by_smashrun_user_and_handle_and_found_through_their_claims() {
    let aws = moto().await;
    let book = aws.book().await;
    assert_eq!(book.count_runners().await.unwrap(), 0);
    let mut sam = runner("r-sam", 1, "2026-03-01T00:00:00Z");
    sam.handle = Some("sam".into());
    book.put_runner(&sam).await.unwrap();
    book.put_runner(&runner("r-kim", 2, "2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    book.put_runner(&runner("r-lee", 3, "2026-02-01T12:00:00.5Z"))
        .await
        .unwrap();

    assert_eq!(book.runner("r-sam").await.unwrap(), Some(sam.clone()));
    assert_eq!(book.runner("r-nobody").await.unwrap(), None);
    assert_eq!(
        book.runner_by_smashrun_id(2).await.unwrap().unwrap().id,
        "r-kim"
    );
    assert_eq!(
        book.runner_by_handle("sam").await.unwrap(),
        Some(sam.clone())
    );
    assert_eq!(book.runner_by_handle("kim").await.unwrap(), None);
    // oldest account first
    let ids: Vec<_> = book
        .runners()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, ["r-kim", "r-lee", "r-sam"]);
    assert_eq!(book.count_runners().await.unwrap(), 3);

    // one account per SmashRun user, one runner per handle
    let err = book
        .put_runner(&runner("r-again", 1, "2026-04-01T00:00:00Z"))
        .await
        .unwrap_err();
    assert!(matches!(err, SiteError::Invalid(_)), "{err}");
    assert!(
        book.runner("r-again").await.unwrap().is_none(),
        "nothing half-written"
    );
    let mut kim = book.runner("r-kim").await.unwrap().unwrap();
    kim.handle = Some("sam".into());
    let err = book.put_runner(&kim).await.unwrap_err();
    assert!(err.to_string().contains("the handle sam is taken"), "{err}");

    // a new handle frees the old one
    sam.handle = Some("sammy".into());
    book.put_runner(&sam).await.unwrap();
    assert_eq!(book.runner_by_handle("sam").await.unwrap(), None);
    book.put_runner(&kim).await.unwrap();
    assert_eq!(
        book.runner_by_handle("sam").await.unwrap().unwrap().id,
        "r-kim"
    );
    assert_eq!(
        book.runner_by_handle("sammy").await.unwrap().unwrap().id,
        "r-sam"
    );
    // replacing a runner keeps one of them
    assert_eq!(book.count_runners().await.unwrap(), 3);

    // the lookup reads the claim item, not a scan of the runners: without it, nothing is found
    dynamodb_client(&aws.config)
        .delete_item()
        .table_name(book.table())
        .key("pk", AttributeValue::S("SMASHRUN#2".into()))
        .key("sk", AttributeValue::S("UNIQUE".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(book.runner_by_smashrun_id(2).await.unwrap(), None);
    assert!(book.runner("r-kim").await.unwrap().is_some());
}

#[tokio::test]
async fn health_sessions_and_api_tokens_belong_to_a_runner_who_exists() {
    let aws = moto().await;
    let book = aws.book().await;
    book.put_runner(&runner("r-a", 1, "2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    let now = at("2026-11-29T12:00:00Z");

    assert_eq!(book.health("r-a").await.unwrap(), SyncHealth::default());
    let health = SyncHealth {
        last_attempt: Some(now),
        last_error: Some("refused".into()),
        requests: 7,
        current_streak: 400,
        ..SyncHealth::default()
    };
    book.put_health("r-a", &health).await.unwrap();
    assert_eq!(book.health("r-a").await.unwrap(), health);
    // nothing is written for a runner who is not (or no longer) there
    assert!(matches!(
        book.put_health("r-gone", &health).await,
        Err(SiteError::NoRunner)
    ));
    assert_eq!(book.health("r-gone").await.unwrap(), SyncHealth::default());
    assert!(matches!(
        book.set_tokens("r-gone", None).await,
        Err(SiteError::NoRunner)
    ));

    let session = SessionRecord {
        id_hash: "s1".into(),
        runner_id: "r-a".into(),
        created: now,
        expires: now + SignedDuration::from_secs(3600) + SignedDuration::from_millis(300),
    };
    book.put_session(&session).await.unwrap();
    assert_eq!(
        book.session("s1", now).await.unwrap(),
        Some(session.clone())
    );
    assert_eq!(
        book.session("s1", session.expires).await.unwrap(),
        None,
        "ended"
    );
    assert!(matches!(
        book.put_session(&SessionRecord {
            runner_id: "r-gone".into(),
            id_hash: "s9".into(),
            ..session.clone()
        })
        .await,
        Err(SiteError::NoRunner)
    ));
    // the session carries DynamoDB's TTL: epoch seconds, never before its end
    let items = aws.items(&book).await;
    let stored = items
        .iter()
        .find(|i| i["pk"] == AttributeValue::S("SESSION#s1".into()))
        .unwrap();
    assert_eq!(
        stored["expires"],
        AttributeValue::N((session.expires.as_second() + 1).to_string())
    );
    let ttl = dynamodb_client(&aws.config)
        .describe_time_to_live()
        .table_name(book.table())
        .send()
        .await
        .unwrap();
    let ttl = ttl.time_to_live_description().unwrap();
    assert_eq!(ttl.attribute_name(), Some("expires"));

    book.put_session(&SessionRecord {
        id_hash: "s2".into(),
        ..session.clone()
    })
    .await
    .unwrap();
    book.delete_session("s1").await.unwrap();
    assert_eq!(book.session("s1", now).await.unwrap(), None);
    assert!(book.session("s2", now).await.unwrap().is_some());
    book.delete_sessions_of("r-a").await.unwrap();
    assert_eq!(book.session("s2", now).await.unwrap(), None);
    assert!(
        !aws.items(&book)
            .await
            .iter()
            .any(|i| item_text(i).contains("SESSION#")),
        "sessions and their pointers are gone"
    );

    let token = ApiTokenRecord {
        id_hash: "t1".into(),
        runner_id: "r-a".into(),
        label: "my script".into(),
        created: now,
    };
    book.put_api_token(&token).await.unwrap();
    assert_eq!(book.api_token("t1").await.unwrap(), Some(token.clone()));
    assert_eq!(book.api_token("t2").await.unwrap(), None);
    assert!(book.put_api_token(&token).await.is_err(), "made once");

    // listed for their runner only, revoked by them only
    let later = ApiTokenRecord {
        id_hash: "t0".into(),
        label: "another".into(),
        created: now + jiff::SignedDuration::from_secs(1),
        ..token.clone()
    };
    book.put_api_token(&later).await.unwrap();
    assert_eq!(
        book.api_tokens_of("r-a").await.unwrap(),
        vec![token.clone(), later.clone()],
        "oldest first"
    );
    assert_eq!(book.api_tokens_of("r-b").await.unwrap(), vec![]);
    assert!(
        !book.delete_api_token("r-b", "t1").await.unwrap(),
        "not r-b's"
    );
    assert_eq!(book.api_token("t1").await.unwrap(), Some(token.clone()));
    assert!(book.delete_api_token("r-a", "t1").await.unwrap());
    assert_eq!(book.api_token("t1").await.unwrap(), None);
    assert!(!book.delete_api_token("r-a", "t1").await.unwrap(), "once");
    assert_eq!(book.api_tokens_of("r-a").await.unwrap(), vec![later]);
    assert!(
        !aws.items(&book)
            .await
            .iter()
            .any(|i| item_text(i).contains("APITOKEN#t1")),
        "the token and its pointer are gone"
    );
}

#[tokio::test]
async fn a_login_is_taken_once_even_by_two_callbacks_at_the_same_moment() {
    let aws = moto().await;
    let book = Arc::new(aws.book().await);
    let now = at("2026-11-29T12:00:00Z");
    let login = PendingLogin {
        state_hash: "st".into(),
        browser_hash: "br".into(),
        verifier: Some(Sealed {
            key: "k".into(),
            data: "abcd".into(),
        }),
        created: now,
    };
    book.put_login(&login).await.unwrap();
    assert!(
        book.put_login(&login).await.is_err(),
        "a state is begun once"
    );
    assert_eq!(book.take_login("st").await.unwrap(), Some(login.clone()));
    assert_eq!(book.take_login("st").await.unwrap(), None, "taken once");

    for round in 0..5 {
        let state = format!("race-{round}");
        book.put_login(&PendingLogin {
            state_hash: state.clone(),
            ..login.clone()
        })
        .await
        .unwrap();
        let (a, b) = tokio::join!(book.take_login(&state), book.take_login(&state));
        let taken = [a.unwrap(), b.unwrap()]
            .into_iter()
            .filter(Option::is_some)
            .count();
        assert_eq!(taken, 1, "round {round}");
    }

    // purge forgets ended sessions and old logins, and keeps the rest
    book.put_runner(&runner("r-a", 1, "2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    for (hash, hours) in [("ended", -1), ("live", 1)] {
        book.put_session(&SessionRecord {
            id_hash: hash.into(),
            runner_id: "r-a".into(),
            created: now - SignedDuration::from_hours(2),
            expires: now + SignedDuration::from_hours(hours),
        })
        .await
        .unwrap();
    }
    for (hash, minutes) in [("old", 30), ("fresh", 1)] {
        book.put_login(&PendingLogin {
            state_hash: hash.into(),
            created: now - SignedDuration::from_mins(minutes),
            ..login.clone()
        })
        .await
        .unwrap();
    }
    book.purge(now, now - SignedDuration::from_mins(10))
        .await
        .unwrap();
    let left = aws
        .items(&book)
        .await
        .iter()
        .map(item_text)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        !left.contains("SESSION#ended") && !left.contains("LOGIN#old"),
        "{left}"
    );
    assert!(
        left.contains("SESSION#live") && left.contains("LOGIN#fresh"),
        "{left}"
    );
}

#[tokio::test]
async fn deleting_a_runner_removes_every_item_of_theirs_and_frees_their_smashrun_user() {
    let aws = moto().await;
    let book = aws.book().await;
    let now = at("2026-11-29T12:00:00Z");
    for (id, smashrun_id, handle) in [("r-a", 1, "ann"), ("r-b", 2, "bob")] {
        let mut r = runner(id, smashrun_id, "2026-01-01T00:00:00Z");
        r.handle = Some(handle.into());
        book.put_runner(&r).await.unwrap();
        book.put_health(id, &SyncHealth::default()).await.unwrap();
        for n in 0..3 {
            book.put_session(&SessionRecord {
                id_hash: format!("{id}-s{n}"),
                runner_id: id.into(),
                created: now,
                expires: now + SignedDuration::from_hours(1),
            })
            .await
            .unwrap();
        }
        book.put_api_token(&ApiTokenRecord {
            id_hash: format!("{id}-t"),
            runner_id: id.into(),
            label: "script".into(),
            created: now,
        })
        .await
        .unwrap();
    }
    let before = aws.items(&book).await.len();

    book.delete_runner("r-a").await.unwrap();
    let items = aws.items(&book).await;
    let of_a: Vec<_> = items
        .iter()
        .map(item_text)
        .filter(|t| t.contains("r-a") || t.contains("SMASHRUN#1") || t.contains("HANDLE#ann"))
        .collect();
    assert!(of_a.is_empty(), "left of r-a: {of_a:#?}");
    // r-a had a runner, health, two claims, 3 sessions and a token, each with a pointer but
    // the claims and health: 4 + 2 * 4
    assert_eq!(before - items.len(), 12);
    assert!(book.runner("r-b").await.unwrap().is_some());
    assert!(book.session("r-b-s0", now).await.unwrap().is_some());
    assert_eq!(
        book.runner_by_handle("bob").await.unwrap().unwrap().id,
        "r-b"
    );
    assert_eq!(book.count_runners().await.unwrap(), 1);
    // deleting again is fine, and the SmashRun user and handle may sign up anew
    book.delete_runner("r-a").await.unwrap();
    let mut again = runner("r-new", 1, "2026-12-01T00:00:00Z");
    again.handle = Some("ann".into());
    book.put_runner(&again).await.unwrap();
    assert_eq!(
        book.runner_by_smashrun_id(1).await.unwrap().unwrap().id,
        "r-new"
    );
}

#[tokio::test]
async fn kms_seals_bound_to_a_context_and_no_plaintext_token_reaches_dynamodb() {
    let aws = moto().await;
    let book: Arc<DynamoAccounts> = Arc::new(aws.book().await);
    let sealer = Arc::new(aws.sealer().await);

    let sealed = sealer
        .seal(b"a very secret value", "smashrun-tokens:r-a")
        .await
        .unwrap();
    assert_eq!(sealed.key, sealer.current_key());
    assert!(sealed.key.starts_with("arn:aws:kms:"), "{}", sealed.key);
    assert!(!sealed.data.contains("secret"));
    assert_eq!(
        sealer.open(&sealed, "smashrun-tokens:r-a").await.unwrap(),
        b"a very secret value"
    );
    // moved onto another runner: KMS refuses it
    let moved = sealer
        .open(&sealed, "smashrun-tokens:r-b")
        .await
        .unwrap_err();
    assert!(matches!(moved, SealError::Corrupt(_)), "{moved}");
    // altered: refused too
    let mut altered = sealed.clone();
    altered.data.replace_range(
        80..82,
        if &altered.data[80..82] == "00" {
            "01"
        } else {
            "00"
        },
    );
    assert!(sealer.open(&altered, "smashrun-tokens:r-a").await.is_err());
    let garbage = Sealed {
        key: sealed.key.clone(),
        data: "not hex".into(),
    };
    assert!(matches!(
        sealer.open(&garbage, "smashrun-tokens:r-a").await,
        Err(SealError::Corrupt(_))
    ));
    // a key that does not exist: an error that names the key, not the value
    let lost = KmsSealer::new(
        kms_client(&aws.config),
        "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000",
    );
    let err = lost.seal(b"a very secret value", "x").await.unwrap_err();
    assert!(!err.to_string().contains("secret value"), "{err}");

    // a runner's tokens saved through the site's token store: sealed in DynamoDB
    book.put_runner(&runner("r-a", 1, "2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    let store = SealedTokenStore::new(
        "r-a".into(),
        book.clone(),
        sealer.clone(),
        "smashrun-tokens:r-a".into(),
    );
    let tokens = TokenSet::issued(
        Secret::new("ACCESS-plaintext-3f9a"),
        Some(Secret::new("REFRESH-plaintext-77c1")),
        at("2026-11-29T12:00:00Z"),
        SignedDuration::from_hours(24 * 84),
    );
    store.save(&tokens).await.unwrap();
    assert_eq!(store.load().await.unwrap(), Some(tokens.clone()));
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    for item in aws.items(&book).await {
        let text = item_text(&item);
        for secret in ["ACCESS-plaintext-3f9a", "REFRESH-plaintext-77c1"] {
            assert!(!text.contains(secret), "plaintext token in {text}");
            assert!(!text.contains(&hex(secret)), "hex of a token in {text}");
        }
    }
    // the runner's sealed tokens copied onto another runner do not open there
    let stored = book.runner("r-a").await.unwrap().unwrap().tokens.unwrap();
    book.put_runner(&RunnerAccount {
        tokens: Some(stored),
        ..runner("r-b", 2, "2026-01-01T00:00:00Z")
    })
    .await
    .unwrap();
    let thief = SealedTokenStore::new(
        "r-b".into(),
        book.clone(),
        sealer.clone(),
        "smashrun-tokens:r-b".into(),
    );
    let err = thief.load().await.unwrap_err();
    assert!(!err.to_string().contains("plaintext"), "{err}");
    // clearing forgets them
    store.clear().await.unwrap();
    assert_eq!(store.load().await.unwrap(), None);
}

#[tokio::test]
async fn the_runner_queue_sends_one_message_per_runner_in_batches_of_ten() {
    let aws = moto().await;
    let sqs = sqs_client(&aws.config);
    let url = sqs
        .create_queue()
        .queue_name("runners")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    let queue = RunnerQueue::new(sqs.clone(), &url);
    let jobs: Vec<_> = (0..23)
        .map(|i| RunnerJob {
            runner_id: format!("r-{i}"),
            full: i == 5,
            remind: false,
        })
        .collect();
    let report = queue.send(&jobs).await;
    assert_eq!(report.sent, 23);
    assert!(report.failed.is_empty(), "{report:?}");

    let mut bodies = Vec::new();
    loop {
        let out = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        if out.messages().is_empty() {
            break;
        }
        for m in out.messages() {
            bodies.push(serde_json::from_str::<Value>(m.body().unwrap()).unwrap());
        }
    }
    bodies.sort_by_key(|b| {
        b["runner_id"].as_str().unwrap()[2..]
            .parse::<u32>()
            .unwrap()
    });
    assert_eq!(bodies.len(), 23);
    assert_eq!(
        bodies[0],
        serde_json::json!({"runner_id": "r-0", "mode": null})
    );
    assert_eq!(
        bodies[5],
        serde_json::json!({"runner_id": "r-5", "mode": "full"})
    );
    assert_eq!(bodies[22]["runner_id"], "r-22");

    // a queue that is not there: every job is reported, with SQS's code, and nothing panics
    let gone = RunnerQueue::new(sqs, format!("{}/123456789012/not-there", aws.moto.url));
    let report = gone.send(&jobs[..12]).await;
    assert_eq!(report.sent, 0);
    assert_eq!(report.failed.len(), 12);
    assert_eq!(report.failed[11].runner_id, "r-11");
    assert!(report.failed.iter().all(|f| !f.code.is_empty()));
}

#[tokio::test]
async fn deleting_a_runner_s_objects_leaves_no_version_and_no_delete_marker() {
    let aws = moto().await;
    let s3 = s3_client(&aws.config, &aws.options);
    s3.create_bucket().bucket("site-data").send().await.unwrap();
    s3.put_bucket_versioning()
        .bucket("site-data")
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let put = |key: &'static str, body: &'static str| {
        let s3 = s3.clone();
        async move {
            s3.put_object()
                .bucket("site-data")
                .key(key)
                .body(body.as_bytes().to_vec().into())
                .send()
                .await
                .unwrap();
        }
    };
    for version in ["one", "two", "three"] {
        put("runners/r-1/runs.duckdb", version).await;
    }
    put("runners/r-1/notes.txt", "x").await;
    s3.delete_object()
        .bucket("site-data")
        .key("runners/r-1/notes.txt")
        .send()
        .await
        .unwrap();
    put("runners/r-10/runs.duckdb", "another runner").await;

    let versions = |prefix: &'static str| {
        let s3 = s3.clone();
        async move {
            let out = s3
                .list_object_versions()
                .bucket("site-data")
                .prefix(prefix)
                .send()
                .await
                .unwrap();
            out.versions().len() + out.delete_markers().len()
        }
    };
    assert_eq!(versions("runners/r-1/").await, 5);
    for bad in ["", "/", "runners/r-1"] {
        assert!(
            delete_runner_objects(&s3, "site-data", bad).await.is_err(),
            "{bad:?}"
        );
    }
    assert_eq!(
        delete_runner_objects(&s3, "site-data", "runners/r-1/")
            .await
            .unwrap(),
        5
    );
    assert_eq!(versions("runners/r-1/").await, 0, "no version, no marker");
    assert_eq!(
        versions("runners/r-10/").await,
        1,
        "the other runner's object stays"
    );
    assert_eq!(
        delete_runner_objects(&s3, "site-data", "runners/r-1/")
            .await
            .unwrap(),
        0
    );
}
