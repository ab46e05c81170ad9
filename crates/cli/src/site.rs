//! `site`: MyRunStreak.com for many runners, on one machine: the accounts and every runner's
//! mirror under `./data` (`MYRUNSTREAK_SITE_DATA`), tokens sealed with the site key, a scheduler
//! keeping every runner in step.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use jiff::Timestamp;
use myrunstreak_app::Settings;
use myrunstreak_app::site::schedule::Scheduler;
use myrunstreak_app::site::{DuckAccounts, KeyOrigin, LocalSealer, Site, SiteSettings};

/// Where to listen, and what else to do.
#[derive(Args, Debug)]
pub struct SiteArgs {
    /// Address and port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Seconds between the scheduler's rounds (each syncs the runners due).
    #[arg(long, default_value_t = 60)]
    pub tick_seconds: u64,
    /// Something other than serving.
    #[command(subcommand)]
    pub action: Option<SiteAction>,
}

/// The site's maintenance commands.
#[derive(Subcommand, Debug)]
pub enum SiteAction {
    /// Seal every runner's tokens again under the current key: the last step of a key
    /// rotation (MYRUNSTREAK_SITE_KEY new, MYRUNSTREAK_SITE_KEY_PREVIOUS the old one).
    Reseal,
}

/// The site from the settings: accounts file, sealer, scheduler.
pub fn build(settings: &Settings, vars: &BTreeMap<String, String>) -> Result<Arc<Scheduler>> {
    let config = SiteSettings::from_vars(vars)?;
    let (sealer, origin) = LocalSealer::load(
        config.site_key.as_ref(),
        config.previous_keys.as_ref(),
        &config.key_file,
    )?;
    if config.key_file.starts_with(&config.data_dir) && origin != KeyOrigin::Environment {
        anyhow::bail!(
            "the site key file {} is inside the data folder {}: a copy of the data would carry the key that opens it. Set MYRUNSTREAK_SITE_KEY_FILE to a path outside it",
            config.key_file.display(),
            config.data_dir.display()
        );
    }
    match &origin {
        KeyOrigin::Generated(path) => println!(
            "Generated the site key in {} (mode 0600). Back it up apart from ./data: without it no runner's tokens open.",
            path.display()
        ),
        KeyOrigin::File(path) => tracing::info!(file = %path.display(), "site key loaded"),
        KeyOrigin::Environment => tracing::info!("site key from MYRUNSTREAK_SITE_KEY"),
    }
    let book = DuckAccounts::open(&config.accounts_path(), Timestamp::now())
        .with_context(|| format!("opening {}", config.accounts_path().display()))?;
    let site = Site::new(settings.clone(), config, Arc::new(book), Arc::new(sealer))?;
    Ok(Arc::new(Scheduler::new(site)))
}

/// `site`.
pub async fn run(
    args: SiteArgs,
    settings: &Settings,
    vars: &BTreeMap<String, String>,
) -> Result<()> {
    let scheduler = build(settings, vars)?;
    if let Some(SiteAction::Reseal) = args.action {
        let n = scheduler.site().reseal().await?;
        println!("Resealed the tokens of {n} runner(s) under the current key.");
        return Ok(());
    }
    if settings.client_id.is_empty() {
        anyhow::bail!(
            "the site signs runners in with SmashRun: set SMASHRUN_CLIENT_ID and SMASHRUN_CLIENT_SECRET (register an app at https://smashrun.com/settings/api)"
        );
    }
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    let config = scheduler.site().config().clone();
    println!(
        "MyRunStreak.com at {} (listening on {}); SmashRun sends runners back to {}",
        config.site_url,
        listener.local_addr()?,
        config.redirect_uri
    );
    let rounds = scheduler.clone();
    let tick = Duration::from_secs(args.tick_seconds.max(1));
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(tick);
        loop {
            interval.tick().await;
            let now = Timestamp::now();
            let book = rounds.site().book().clone();
            if let Err(e) = book
                .purge(now, now - rounds.site().config().login_lifetime)
                .await
            {
                tracing::warn!(error = %e, "purging ended sessions failed");
            }
            match rounds.round(now).await {
                Ok(round) if round.due > 0 => tracing::info!(?round, "scheduled round"),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "a scheduled round failed"),
            }
        }
    });
    let router = myrunstreak_server::site::site_router(scheduler, Arc::new(Timestamp::now));
    myrunstreak_server::serve(listener, router, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("serving")
}
