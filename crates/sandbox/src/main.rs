//! `smashrun-sandbox`: a faithful SmashRun stand-in on loopback.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;
use smashrun_sandbox::{Client, DEFAULT_CLIENT_ID, Faults, PkceMode, Sandbox, SandboxConfig};

/// Serve a SmashRun sandbox: OAuth, REST, rate limits and faults, with a seeded runner.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Address to bind; loopback by default.
    #[arg(long, default_value = "127.0.0.1")]
    bind: std::net::IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8001)]
    port: u16,
    /// Seed for the generated runner and for faults.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Years of generated history.
    #[arg(long, default_value_t = 10)]
    years: u32,
    /// Last day of generated history (YYYY-MM-DD); today in New York by default.
    #[arg(long)]
    end: Option<jiff::civil::Date>,
    /// Share of API requests that fail on purpose (500/503, dropped, truncated, 429), 0 to 1.
    #[arg(long, default_value_t = 0.0)]
    faults: f64,
    /// Latency added to every API answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Serve only this many of the most recent generated runs, in every account.
    #[arg(long, visible_alias = "runs-per-account", value_name = "N")]
    runs: Option<usize>,
    /// How many accounts (runners) to serve; the first is the classic runner (user 1234567),
    /// the others are drawn from the seed.
    #[arg(long, default_value_t = 1, value_name = "N")]
    accounts: usize,
    /// Sizes of the accounts after the first: drawn between MIN and MAX runs, most near MIN
    /// (e.g. 50..3000); overrides --runs for them.
    #[arg(long, value_name = "MIN..MAX")]
    runs_spread: Option<smashrun_sandbox::RunSpread>,
    /// Share of odd but valid activities (unknown weather, duration 0, missing keys).
    #[arg(long, default_value_t = 0.01)]
    odd: f64,
    /// Serve the activity summaries in this JSON file (an array) instead of generated ones.
    #[arg(long)]
    load: Option<PathBuf>,
    /// Approve authorization requests without showing the consent page.
    #[arg(long)]
    auto_approve: bool,
    /// PKCE: ignore (accept and ignore it, as a server without PKCE does), enforce (S256
    /// required) or reject (refuse authorization requests that carry a code_challenge).
    #[arg(long, default_value = "ignore", value_name = "MODE")]
    pkce: PkceMode,
    /// Turn the rate limits off.
    #[arg(long)]
    no_rate_limits: bool,
    /// Requests per hour per token.
    #[arg(long, default_value_t = 250)]
    per_hour: u32,
    /// Requests per 10 seconds per token.
    #[arg(long, default_value_t = 80)]
    per_10s: u32,
    /// Requests per hour of all the tokens of one app together (off by default).
    #[arg(long, value_name = "N")]
    app_per_hour: Option<u32>,
    /// Requests per 10 seconds of all the tokens of one app together (off by default).
    #[arg(long, value_name = "N")]
    app_per_10s: Option<u32>,
    /// Client id of the registered app.
    #[arg(long, default_value = DEFAULT_CLIENT_ID)]
    client_id: String,
    /// Client secret of the registered app.
    #[arg(long, default_value = smashrun_sandbox::DEFAULT_CLIENT_SECRET)]
    client_secret: String,
    /// Redirect URIs of the registered app (repeatable).
    #[arg(long = "redirect-uri", default_values_t = ["http://localhost:8000/callback".to_owned(), "urn:ietf:wg:oauth:2.0:oob".to_owned()])]
    redirect_uris: Vec<String>,
    /// The capped reading: unpaged listings return only this many.
    #[arg(long, value_name = "N")]
    unpaged_cap: Option<usize>,
    /// Largest page size honoured (SmashRun's is believed to be 100).
    #[arg(long, default_value_t = 100, value_name = "N")]
    page_cap: usize,
    /// Read `fromDate`/`fromDateUTC` as local time in the runner's zone, not UTC.
    #[arg(long)]
    from_date_local: bool,
    /// Share of runs served with a start without its UTC offset, 0 to 1.
    #[arg(long, default_value_t = 0.0, value_name = "SHARE")]
    offsetless: f64,
    /// Share of runs served with +14:00 (a quarter of them -12:00) as their offset, 0 to 1.
    #[arg(long, default_value_t = 0.0, value_name = "SHARE")]
    extreme_offsets: f64,
    /// Share of runs served with non-ASCII garbage in their numeric fields, 0 to 1.
    #[arg(long, default_value_t = 0.0, value_name = "SHARE")]
    garbage: f64,
    /// How many of the runs with garbage also get garbage in `distance` (unreadable).
    #[arg(long, default_value_t = 0, value_name = "N")]
    garbage_distance_runs: usize,
    /// What a repeated externalId does on POST /my/activities: same (the existing activity is
    /// the answer) or duplicate (a second one is created).
    #[arg(long, default_value = "same", value_name = "MODE")]
    repeated_external_id: smashrun_sandbox::RepeatedExternalId,
    /// What a successful POST /my/activities answers: activity (201 with the summary), id (the
    /// bare id) or empty (nothing that names the activity).
    #[arg(long, default_value = "activity", value_name = "SHAPE")]
    created_answer: smashrun_sandbox::CreatedAnswer,
    /// What /my/userinfo says as the runner's id: stable (their own), missing (no id) or
    /// per-token (a new one for each access token).
    #[arg(long, default_value = "stable", value_name = "READING")]
    userinfo_id: smashrun_sandbox::UserinfoId,
    /// JSON the token endpoint claims as `expires_in` (e.g. 1e30 or 9223372036854775807).
    #[arg(long, value_name = "JSON")]
    token_expires_in: Option<String>,
}

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    let load = match &args.load {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let value: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", path.display()))?;
            let list = value.as_array().cloned().with_context(|| {
                format!(
                    "{} must hold a JSON array of activity summaries",
                    path.display()
                )
            })?;
            Some(list)
        }
        None => None,
    };
    let mut config = SandboxConfig {
        seed: args.seed,
        years: args.years,
        end: args.end,
        odd_share: args.odd,
        load,
        max_runs: args.runs,
        accounts: args.accounts.max(1),
        runs_spread: args.runs_spread,
        clients: vec![Client {
            id: args.client_id,
            secret: args.client_secret,
            redirect_uris: args.redirect_uris,
        }],
        auto_approve: args.auto_approve,
        pkce: args.pkce,
        faults: Faults {
            latency_ms: args.latency_ms,
            ..Faults::all(args.seed, args.faults)
        },
        ..SandboxConfig::default()
    };
    config.quirks = smashrun_sandbox::Quirks {
        offsetless_share: args.offsetless.clamp(0.0, 1.0),
        extreme_offset_share: args.extreme_offsets.clamp(0.0, 1.0),
        garbage_share: args.garbage.clamp(0.0, 1.0),
        garbage_distance_runs: args.garbage_distance_runs,
        token_expires_in: match &args.token_expires_in {
            Some(text) => Some(
                serde_json::from_str(text)
                    .with_context(|| format!("--token-expires-in {text:?} is not JSON"))?,
            ),
            None => None,
        },
        userinfo_id: args.userinfo_id,
    };
    config.writes.repeated_external_id = args.repeated_external_id;
    config.writes.answer = args.created_answer;
    config.listing.unpaged_cap = args.unpaged_cap;
    config.listing.from_date_local = args.from_date_local;
    config.max_count = args.page_cap;
    config.limits.enabled = !args.no_rate_limits;
    config.limits.per_hour = args.per_hour;
    config.limits.per_10s = args.per_10s;
    config.limits.app_per_hour = args.app_per_hour;
    config.limits.app_per_10s = args.app_per_10s;
    let accounts = config.accounts;
    let addr = SocketAddr::new(args.bind, args.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let seeding = std::time::Instant::now();
    let sandbox = Sandbox::start(config, listener).await?;
    let seeded = seeding.elapsed().as_secs_f64();
    println!("SmashRun sandbox listening on {}", sandbox.base_url());
    println!("  SMASHRUN_OAUTH_URL={}", sandbox.oauth_url());
    println!("  SMASHRUN_API_URL={}", sandbox.api_url());
    println!("  control API: {}/", sandbox.control_url());
    println!("  accounts: {accounts} (seeded in {seeded:.2} s; GET /_sandbox/accounts lists them)");
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    sandbox.stop().await;
    Ok(())
}
