//! The AWS adapters with the real SDK against moto's server (see myrunstreak-testkit): each test
//! starts its own on a free loopback port and stops it when done.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use myrunstreak_app::remind::{DeliveryError, Mail, Mailer};
use myrunstreak_app::{StoredTokens, TokenStore};
use myrunstreak_aws::{
    AwsOptions, DatabaseObject, S3Error, SecretsManagerTokenStore, SesMailer,
    load_client_credentials, s3_client, sdk_config, secrets_client, ses_client,
};
use myrunstreak_testkit::Moto;
use serde_json::{Value, json};
use smashrun_client::{OAuthClient, OAuthConfig, Secret, TokenProvider, TokenSet};

struct Aws {
    moto: Moto,
    options: AwsOptions,
}

async fn moto() -> Aws {
    let moto = Moto::start().await;
    let options = AwsOptions {
        region: "us-east-1".into(),
        endpoint_url: Some(moto.url.clone()),
        static_credentials: Some(("test".into(), "test".into())),
    };
    Aws { moto, options }
}

fn tokens(access: &str, issued: Timestamp) -> TokenSet {
    TokenSet::issued(
        Secret::new(access),
        Some(Secret::new(format!("{access}-refresh"))),
        issued,
        SignedDuration::from_secs(7_257_600),
    )
}

#[tokio::test]
async fn tokens_round_trip_and_saving_keeps_the_secret_s_other_keys() {
    let m = moto().await;
    let config = sdk_config(&m.options).await;
    let client = secrets_client(&config);
    let store = SecretsManagerTokenStore::new(client.clone(), "myrunstreak/smashrun/tokens");
    assert!(store.load().await.unwrap().is_none(), "no secret yet");

    client
        .create_secret()
        .name("myrunstreak/smashrun/tokens")
        .secret_string(json!({"access_token": "a1", "refresh_token": "r1", "expires_at": "2027-01-01T00:00:00Z", "note": "keep me", "owner": {"name": "Sam"}}).to_string())
        .send()
        .await
        .unwrap();
    let loaded = store.load().await.unwrap().unwrap();
    assert_eq!(loaded.access_token, Secret::new("a1"));
    assert_eq!(loaded.expires_at.to_string(), "2027-01-01T00:00:00Z");

    store.save(&tokens("a2", Timestamp::now())).await.unwrap();
    let raw: Value = serde_json::from_str(
        client
            .get_secret_value()
            .secret_id("myrunstreak/smashrun/tokens")
            .send()
            .await
            .unwrap()
            .secret_string()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(raw["access_token"], "a2");
    assert_eq!(raw["refresh_token"], "a2-refresh");
    assert_eq!(raw["note"], "keep me", "other keys are kept");
    assert_eq!(raw["owner"]["name"], "Sam");
    assert!(
        raw["expires_at"].as_str().unwrap().ends_with('Z'),
        "RFC 3339 UTC"
    );

    store.clear().await.unwrap();
    assert!(store.load().await.unwrap().is_none());
    let raw: Value = serde_json::from_str(
        client
            .get_secret_value()
            .secret_id("myrunstreak/smashrun/tokens")
            .send()
            .await
            .unwrap()
            .secret_string()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(raw["note"], "keep me");
    assert!(!store.describe().contains("a2"));
}

#[tokio::test]
async fn a_token_due_for_refresh_is_refreshed_through_smashrun_and_written_back() {
    let m = moto().await;
    let config = sdk_config(&m.options).await;
    let client = secrets_client(&config);
    client
        .create_secret()
        .name("myrunstreak/smashrun/client")
        .secret_string(json!({"client_id": "lambda", "client_secret": "lambda-secret"}).to_string())
        .send()
        .await
        .unwrap();
    let credentials = load_client_credentials(&client, "myrunstreak/smashrun/client")
        .await
        .unwrap();
    assert_eq!(credentials.client_id, "lambda");

    let mut sandbox_config = smashrun_sandbox::SandboxConfig {
        years: 1,
        ..Default::default()
    };
    sandbox_config.clients.push(smashrun_sandbox::Client {
        id: "lambda".into(),
        secret: "lambda-secret".into(),
        redirect_uris: vec!["http://127.0.0.1:9/cb".into()],
    });
    let sandbox = smashrun_sandbox::Sandbox::start_on_free_port(sandbox_config)
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
    // issued seven weeks ago: past half-life
    let old = Timestamp::now() - SignedDuration::from_hours(24 * 49);
    let set = TokenSet::issued(
        Secret::new(issued["access_token"].as_str().unwrap()),
        Some(Secret::new(issued["refresh_token"].as_str().unwrap())),
        old,
        SignedDuration::from_secs(7_257_600),
    );
    client
        .create_secret()
        .name("tokens")
        .secret_string(json!({"access_token": set.access_token.expose(), "refresh_token": set.refresh_token.as_ref().unwrap().expose(), "expires_at": set.expires_at.to_string(), "issued_at": old.to_string(), "keep": 1}).to_string())
        .send()
        .await
        .unwrap();

    let store = Arc::new(SecretsManagerTokenStore::new(client.clone(), "tokens"));
    let oauth = OAuthClient::new(
        OAuthConfig {
            oauth_url: sandbox.oauth_url(),
            api_url: sandbox.api_url(),
            client_id: credentials.client_id,
            client_secret: credentials.client_secret,
            redirect_uri: "http://127.0.0.1:9/cb".into(),
            pkce: false,
        },
        reqwest::Client::new(),
    )
    .unwrap();
    let provider = StoredTokens::new(store.clone(), Some(oauth), Arc::new(Timestamp::now));
    let fresh = provider.access_token().await.unwrap();
    assert_ne!(fresh, set.access_token, "refreshed at half-life");
    let saved = store.load().await.unwrap().unwrap();
    assert_eq!(saved.access_token, fresh, "written back");
    assert!(saved.refresh_due_at() > Timestamp::now());
    let raw: Value = serde_json::from_str(
        client
            .get_secret_value()
            .secret_id("tokens")
            .send()
            .await
            .unwrap()
            .secret_string()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(raw["keep"], 1);
    sandbox.stop().await;
}

#[tokio::test]
async fn the_database_object_is_only_replaced_by_whoever_read_it_last() {
    let m = moto().await;
    let config = sdk_config(&m.options).await;
    let s3 = s3_client(&config, &m.options);
    s3.create_bucket()
        .bucket("runs-bucket")
        .send()
        .await
        .unwrap();
    let object = DatabaseObject::new(s3, "runs-bucket", "runs.duckdb");
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("runs.duckdb");

    assert_eq!(object.download(&local).await.unwrap(), None);
    assert!(!local.exists());
    std::fs::write(&local, b"version one").unwrap();
    let first = object.upload(&local, None).await.unwrap();
    assert!(
        matches!(
            object.upload(&local, None).await,
            Err(S3Error::Conflict { .. })
        ),
        "it exists now"
    );

    // two writers read the same version
    let a = dir.path().join("a.duckdb");
    let b = dir.path().join("b.duckdb");
    let etag_a = object.download(&a).await.unwrap().unwrap();
    let etag_b = object.download(&b).await.unwrap().unwrap();
    assert_eq!(
        (etag_a.as_str(), std::fs::read(&a).unwrap()),
        (first.as_str(), b"version one".to_vec())
    );
    std::fs::write(&a, b"writer a").unwrap();
    std::fs::write(&b, b"writer b").unwrap();
    let second = object.upload(&a, Some(&etag_a)).await.unwrap();
    let lost = object.upload(&b, Some(&etag_b)).await.unwrap_err();
    assert!(matches!(lost, S3Error::Conflict { .. }), "{lost}");
    assert!(lost.to_string().contains("another writer"));
    let check = dir.path().join("check.duckdb");
    assert_eq!(object.download(&check).await.unwrap().unwrap(), second);
    assert_eq!(
        std::fs::read(&check).unwrap(),
        b"writer a",
        "the winner's update survives"
    );
    assert_eq!(object.etag().await.unwrap(), Some(second));
}

#[tokio::test]
async fn a_reminder_mail_goes_out_only_from_a_verified_sender_and_errors_name_no_address() {
    let m = moto().await;
    let ses = ses_client(&sdk_config(&m.options).await);
    let mailer = SesMailer::new(ses.clone(), "streak@example.com");
    let mail = Mail {
        to: "sam@example.com",
        subject: "Streak at risk",
        text: "Streak 1,234 days: today not run yet",
    };

    // SES refuses a sender it has not verified: not retried, and neither address is in the error
    let refused = mailer.send(&mail).await.unwrap_err();
    assert!(
        matches!(refused, DeliveryError::Unsupported(_)),
        "{refused:?}"
    );
    assert!(!refused.retryable());
    let text = refused.to_string();
    assert!(
        text.contains("MessageRejected") && text.contains("MYRUNSTREAK_MAIL_FROM"),
        "{text}"
    );
    assert!(
        !text.contains("sam@") && !text.contains("streak@"),
        "{text}"
    );
    assert!(m.moto.sent_mail().await.is_empty());

    ses.create_email_identity()
        .email_identity("streak@example.com")
        .send()
        .await
        .unwrap();
    mailer.send(&mail).await.unwrap();
    let sent = m.moto.sent_mail().await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].from, "streak@example.com");
    assert_eq!(sent[0].to, ["sam@example.com"]);
    assert_eq!(sent[0].subject, "Streak at risk");
    assert_eq!(sent[0].body, "Streak 1,234 days: today not run yet");
}
