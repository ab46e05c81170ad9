//! `serve`: the HTTP API and the dashboard.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use myrunstreak_app::queries::StreakQuery;
use myrunstreak_app::{Settings, SyncMode, SyncRequest};
use myrunstreak_server::{ServerConfig, SyncRunner};

use crate::sync::{Progress, sync_into};

/// Where to listen.
#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address and port; loopback by default (read endpoints are open).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
}

/// The server's configuration from the settings.
pub fn config(settings: &Settings) -> Result<ServerConfig> {
    let for_sync = settings.clone();
    let runner: SyncRunner = Arc::new(move || {
        let settings = for_sync.clone();
        Box::pin(async move {
            let request = SyncRequest {
                mode: SyncMode::Incremental,
                dry_run: false,
                details: None,
                guard: settings.deletion_guard,
                ..SyncRequest::default()
            };
            sync_into(&settings, &request, &Progress::new(true))
                .await
                .map_err(|e| format!("{e:#}"))
        })
    });
    Ok(ServerConfig {
        db_path: settings.duckdb_path.clone(),
        query: StreakQuery::from_settings(settings)?,
        units: settings.units,
        goals: myrunstreak_app::Goals::from_settings(settings),
        api_token: settings.api_token.clone(),
        trust_caller: false,
        cors_origins: settings.cors_origins.clone(),
        sync: Some(runner),
        reload_every: Duration::from_secs(1),
        stale_after: settings.stale_after,
        ledger_writer: None,
    })
}

/// Serves on `listener` until Ctrl-C.
pub async fn serve_until_ctrl_c(
    listener: tokio::net::TcpListener,
    config: ServerConfig,
) -> Result<()> {
    let router = myrunstreak_server::router(config);
    myrunstreak_server::serve(listener, router, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("serving")
}

/// `serve`.
pub async fn run(args: ServeArgs, settings: &Settings) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    let addr = listener.local_addr()?;
    println!("MyRunStreak dashboard at http://{addr}/  (API under /api/v1, Ctrl-C to stop)");
    if settings.api_token.is_none() {
        println!("POST /api/v1/sync is disabled: set MYRUNSTREAK_API_TOKEN to enable it.");
    }
    serve_until_ctrl_c(listener, config(settings)?).await
}
