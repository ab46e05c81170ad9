//! Creating activities against the sandbox over loopback: the typed refusals (a missing scope,
//! a body SmashRun will not take, with its own message), the id read from the answer, and the
//! activity found again by its `externalId`.

use std::sync::Arc;

use jiff::civil::date;
use jiff::tz::Offset;
use myrunstreak_domain::{Distance, LocalStart};
use serde_json::{Value, json};
use smashrun_client::{
    ClientConfig, Error, NewActivity, RateBudget, Secret, SmashRunClient, StaticToken,
};
use smashrun_sandbox::{Sandbox, SandboxConfig};

async fn client(sandbox: &Sandbox, scope: &str) -> SmashRunClient {
    let token: Value = reqwest::Client::new()
        .post(format!("{}/tokens", sandbox.control_url()))
        .json(&json!({ "scope": scope }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    SmashRunClient::new(
        reqwest::Client::new(),
        ClientConfig::new(sandbox.api_url()),
        Arc::new(StaticToken(Secret::new(
            token["access_token"].as_str().unwrap(),
        ))),
    )
    .with_budget(Arc::new(RateBudget::unlimited()))
}

fn run(km: f64, external_id: &str) -> NewActivity {
    NewActivity::running(
        LocalStart::new(
            date(2026, 5, 2).at(6, 40, 0, 0),
            Offset::from_seconds(-4 * 3600).unwrap(),
        ),
        Distance::from_km(km).unwrap(),
        Some(690.0),
        external_id,
    )
}

#[tokio::test]
async fn refusals_are_typed_and_a_created_activity_is_found_by_its_external_id() {
    let sandbox = Sandbox::start_on_free_port(SandboxConfig {
        years: 1,
        end: Some(date(2026, 5, 3)),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let reader = client(&sandbox, "read_activity").await;
    let err = reader.create_activity(&run(2.0, "t-1")).await.unwrap_err();
    assert!(
        matches!(err, Error::MissingScope { status: 403, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("auth login --write"), "{err}");
    assert!(!err.outcome_unknown());

    let writer = client(&sandbox, "read_activity write_activity").await;
    let err = writer.create_activity(&run(0.0, "t-1")).await.unwrap_err();
    match &err {
        Error::WriteRefused {
            status: 400,
            message,
        } => {
            assert!(message.contains("distance must be"), "{message}")
        }
        other => panic!("{other}"),
    }
    assert_eq!(
        writer
            .find_by_external_id("t-1", date(2026, 5, 2))
            .await
            .unwrap(),
        None
    );

    let id = writer.create_activity(&run(2.0, "t-1")).await.unwrap();
    assert!(id.is_some());
    assert_eq!(
        writer
            .find_by_external_id("t-1", date(2026, 5, 2))
            .await
            .unwrap(),
        id
    );
    assert_eq!(
        writer
            .find_by_external_id("t-1", date(2026, 4, 20))
            .await
            .unwrap(),
        None,
        "only around its day"
    );
    let full = writer.activity(id.unwrap()).await.unwrap();
    assert_eq!(full["startDateTimeLocal"], "2026-05-02T06:40:00-04:00");
}
