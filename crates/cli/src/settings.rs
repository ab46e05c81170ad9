//! Settings are read once: `.env`, then the environment, then flags (flags win).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use myrunstreak_app::Settings;

/// Flags every subcommand accepts.
#[derive(Args, Debug, Default, Clone)]
pub struct GlobalArgs {
    /// The DuckDB file (DUCKDB_PATH).
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Where tokens are kept: file, env or aws (MYRUNSTREAK_TOKEN_STORE).
    #[arg(long, global = true, value_name = "STORE")]
    pub token_store: Option<String>,
    /// The token file of the file store (MYRUNSTREAK_TOKEN_FILE).
    #[arg(long, global = true, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// The .env file to read.
    #[arg(long, global = true, value_name = "PATH", default_value = ".env")]
    pub env_file: PathBuf,
}

/// Merges `.env`, the environment and the flags into settings.
pub fn load(args: &GlobalArgs) -> Result<Settings> {
    Ok(Settings::from_vars(&vars(args)?)?)
}

/// `.env`, then the environment, then the flags, as names and values.
pub fn vars(args: &GlobalArgs) -> Result<BTreeMap<String, String>> {
    let mut vars: BTreeMap<String, String> = BTreeMap::new();
    if args.env_file.exists() {
        let entries = dotenvy::from_path_iter(&args.env_file)
            .with_context(|| format!("reading {}", args.env_file.display()))?;
        for entry in entries {
            let (name, value) = entry.with_context(|| {
                format!("a line of {} is not NAME=value", args.env_file.display())
            })?;
            vars.insert(name, value);
        }
    }
    vars.extend(std::env::vars());
    if let Some(db) = &args.db {
        vars.insert("DUCKDB_PATH".into(), db.display().to_string());
    }
    if let Some(store) = &args.token_store {
        vars.insert("MYRUNSTREAK_TOKEN_STORE".into(), store.clone());
    }
    if let Some(file) = &args.token_file {
        vars.insert("MYRUNSTREAK_TOKEN_FILE".into(), file.display().to_string());
    }
    Ok(vars)
}

/// Human-readable logs on stderr, at LOG_LEVEL.
pub fn init_logging(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_new(&settings.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}
