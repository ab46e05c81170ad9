//! The test world: a sandbox, a DuckDB file synced from it, and the router served on port 0.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::date;
use myrunstreak_app::queries::StreakQuery;
use myrunstreak_app::{SyncMode, SyncRequest, sync};
use myrunstreak_domain::{Rule, Units};
use myrunstreak_server::{ServerConfig, SyncRunner, router, serve};
use myrunstreak_store::Store;
use serde_json::{Value, json};
use smashrun_client::{ClientConfig, Secret, SmashRunClient, StaticToken};
use smashrun_sandbox::{Sandbox, SandboxConfig};

pub const API_TOKEN: &str = "s3cret-api-token";

pub struct World {
    pub sandbox: Sandbox,
    pub _dir: tempfile::TempDir,
    pub db: std::path::PathBuf,
    pub base: String,
    pub client: Arc<SmashRunClient>,
}

pub async fn start(config: ServerConfig) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(serve(listener, router(config), std::future::pending()));
    format!("http://{addr}")
}

pub fn server_config(
    w_db: &std::path::Path,
    token: Option<&str>,
    runner: Option<SyncRunner>,
) -> ServerConfig {
    ServerConfig {
        db_path: w_db.to_owned(),
        query: StreakQuery {
            rule: Rule::Usrsa,
            timezone: None,
            exclude_treadmill: false,
            as_of: None,
            exclude_ledger: false,
        },
        units: Units::Imperial,
        goals: myrunstreak_app::Goals::default(),
        api_token: token.map(Secret::new),
        trust_caller: false,
        cors_origins: vec![],
        sync: runner,
        reload_every: Duration::from_millis(0),
        stale_after: myrunstreak_app::DEFAULT_STALE_AFTER,
        ledger_writer: None,
    }
}

pub async fn world() -> World {
    world_ending(Some(date(2026, 5, 3))).await
}

/// A world whose history ends on `end` (today when `None`).
pub async fn world_ending(end: Option<jiff::civil::Date>) -> World {
    let config = SandboxConfig {
        years: 3,
        end,
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start_on_free_port(config).await.unwrap();
    let http = reqwest::Client::new();
    http.post(format!("{}/runs", sandbox.control_url()))
        .json(&{
            // a runner's note with markup in it, among the recent runs (sandbox "now" when the
            // history ends today)
            let mut run =
                json!({"distance": 3.0, "notes": "<script>document.title='PWNED'</script> & more"});
            if end.is_some() {
                run["startDateTimeLocal"] = json!("2026-05-02T07:00:00-04:00");
            }
            run
        })
        .send()
        .await
        .unwrap();
    let token: Value = http
        .post(format!("{}/tokens", sandbox.control_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client = Arc::new(SmashRunClient::new(
        http,
        ClientConfig::new(sandbox.api_url()),
        Arc::new(StaticToken(Secret::new(
            token["access_token"].as_str().unwrap(),
        ))),
    ));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("runs.duckdb");
    let mut store = Store::open(&db, Timestamp::now()).unwrap();
    sync(
        &mut store,
        &client,
        &SyncRequest {
            mode: SyncMode::Full,
            dry_run: false,
            details: None,
            ..SyncRequest::default()
        },
        &Timestamp::now,
        &|_| {},
    )
    .await
    .unwrap();
    drop(store);
    let runner_client = client.clone();
    let runner_db = db.clone();
    let runner: SyncRunner = Arc::new(move || {
        let client = runner_client.clone();
        let db = runner_db.clone();
        Box::pin(async move {
            let mut store = Store::open(&db, Timestamp::now()).map_err(|e| e.to_string())?;
            let request = SyncRequest {
                mode: SyncMode::Incremental,
                dry_run: false,
                details: None,
                ..SyncRequest::default()
            };
            sync(&mut store, &client, &request, &Timestamp::now, &|_| {})
                .await
                .map_err(|e| e.to_string())
        })
    });
    let base = start(server_config(&db, Some(API_TOKEN), Some(runner))).await;
    World {
        sandbox,
        _dir: dir,
        db,
        base,
        client,
    }
}
