//! `demo`: the whole product in one command, against an in-process SmashRun sandbox, in its own
//! data folder (never the user's database or tokens).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use jiff::Timestamp;
use myrunstreak_app::queries::{StreakQuery, streak};
use myrunstreak_app::{RunQuery, Settings, SyncMode, SyncRequest};
use myrunstreak_domain::{
    DayPolicy, Distance, analyze, format_duration, format_pace, format_pace_per_km,
};
use smashrun_sandbox::{Client, Sandbox, SandboxConfig};

use crate::login::{LoginOptions, login};
use crate::sync::{Progress, print_report, sync_into};
use crate::{context, streak as streak_cmd};

/// Demo options.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Years of generated running history.
    #[arg(long, default_value_t = 10)]
    pub years: u32,
    /// Seed of the generated runner.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Keep the demo's data in this folder (default: a temporary folder, removed at the end).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Stop after the summary instead of serving the dashboard.
    #[arg(long)]
    pub no_serve: bool,
    /// Where to serve the dashboard (another free port when this one is taken).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub bind: std::net::SocketAddr,
}

/// `demo`.
pub async fn run(args: DemoArgs) -> Result<()> {
    let temp = tempfile::Builder::new()
        .prefix("myrunstreak-demo-")
        .tempdir()
        .context("creating the demo's data folder")?;
    let dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| temp.path().to_owned());
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;

    // the login callback listens on a free loopback port, registered with the sandbox
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let mut config = SandboxConfig {
        years: args.years,
        seed: args.seed,
        auto_approve: true,
        ..SandboxConfig::default()
    };
    config.clients = vec![Client {
        id: "myrunstreak-demo".into(),
        secret: "demo-secret".into(),
        redirect_uris: vec![redirect.clone()],
    }];
    let sandbox = Sandbox::start_on_free_port(config)
        .await
        .context("starting the SmashRun sandbox")?;

    println!(
        "MyRunStreak demo: a SmashRun sandbox with {} years of a generated runner at {}",
        args.years,
        sandbox.base_url()
    );
    println!(
        "Data folder: {} (your own database and tokens are not touched)\n",
        dir.display()
    );

    let vars: BTreeMap<String, String> = [
        ("SMASHRUN_CLIENT_ID", "myrunstreak-demo".to_owned()),
        ("SMASHRUN_CLIENT_SECRET", "demo-secret".to_owned()),
        ("SMASHRUN_REDIRECT_URI", redirect),
        ("SMASHRUN_OAUTH_URL", sandbox.oauth_url()),
        ("SMASHRUN_API_URL", sandbox.api_url()),
        ("DUCKDB_PATH", dir.join("runs.duckdb").display().to_string()),
        (
            "MYRUNSTREAK_TOKEN_FILE",
            dir.join("tokens.json").display().to_string(),
        ),
        ("LOG_LEVEL", "warn".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let settings = Settings::from_vars(&vars)?;

    // the real authorization code flow; the sandbox approves, and a client plays the browser
    let wiring = context::wiring(&settings).await?;
    let oauth = wiring.oauth()?;
    let options = LoginOptions {
        open_browser: false,
        read_stdin: false,
        timeout: Duration::from_secs(30),
        write: false,
    };
    let tokens = login(&oauth, &options, |url| {
        let url = url.to_string();
        tokio::spawn(async move { reqwest::get(url).await });
    })
    .await?;
    wiring.token_store().save(&tokens).await?;
    let user = wiring.whoami().await?;
    println!(
        "Signed in as {} through SmashRun's OAuth flow (tokens in {}).",
        user.display_name(),
        settings.token_file.display()
    );

    let progress = Progress::new(false);
    let request = SyncRequest {
        mode: SyncMode::Full,
        dry_run: false,
        details: None,
        guard: settings.deletion_guard,
        ..SyncRequest::default()
    };
    let report = sync_into(&settings, &request, &progress).await;
    progress.finish();
    print_report(&report?);
    println!();

    let store = wiring.read()?;
    let runs = store.domain_runs()?;
    let response = streak(
        &runs,
        &StreakQuery::from_settings(&settings)?,
        Timestamp::now(),
    )?;
    streak_cmd::print(&response, settings.units);

    let analytics = analyze(&runs, &DayPolicy::LocalClock);
    if let Some(year) = analytics.years.last() {
        let t = &year.totals;
        println!(
            "\n{}: {} runs on {} days, {}, average pace {}",
            year.period,
            t.runs,
            t.run_days,
            settings.units.format(t.distance),
            t.avg_pace_s_per_km
                .and_then(|p| format_pace_per_km(p, settings.units))
                .unwrap_or_else(|| "-".into())
        );
    }
    println!("\nMost recent runs:");
    for r in store.runs(&RunQuery {
        limit: Some(5),
        ..RunQuery::default()
    })? {
        let d = Distance::from_km(r.distance_km).unwrap_or_default();
        let s = r.duration_s.unwrap_or(0.0);
        println!(
            "  {}  {:>9}  {:>8}  {}",
            r.date,
            settings.units.format(d),
            format_duration(s),
            format_pace(s, d, settings.units).unwrap_or_default()
        );
    }
    println!(
        "\nTry it on your own runs: put your SmashRun app's SMASHRUN_CLIENT_ID and SMASHRUN_CLIENT_SECRET in .env, then `myrunstreak auth login` and `myrunstreak sync`."
    );
    drop(store);
    let served = if args.no_serve {
        Ok(())
    } else {
        serve_dashboard(args.bind, &settings).await
    };
    // the sandbox stays up while the dashboard is served: its "Sync now" talks to it
    sandbox.stop().await;
    served
}

/// Serves the demo runner's dashboard until Ctrl-C, on `bind` or, when that is taken, on a free
/// loopback port, and says where.
async fn serve_dashboard(bind: std::net::SocketAddr, settings: &Settings) -> Result<()> {
    let listener = match tokio::net::TcpListener::bind(bind).await {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("{bind} is not free ({e}); serving on another port.");
            tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .context("finding a free loopback port for the dashboard")?
        }
    };
    let addr = listener.local_addr()?;
    println!("\nThe demo runner's dashboard: http://{addr}/  (API under /api/v1; Ctrl-C to stop)");
    crate::serve::serve_until_ctrl_c(listener, crate::serve::config(settings)?).await
}
