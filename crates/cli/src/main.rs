//! `myrunstreak`: your SmashRun history in DuckDB and your running streak.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use smashrun_sandbox::{Sandbox, SandboxConfig};

/// Your SmashRun history on your own machine, and your running streak by the official rules.
#[derive(Parser, Debug)]
#[command(name = "myrunstreak", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start a SmashRun sandbox with a generated runner (the whole product comes in later steps).
    Demo,
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo => {
            let config = SandboxConfig {
                auto_approve: true,
                ..SandboxConfig::default()
            };
            let sandbox = Sandbox::start_on_free_port(config)
                .await
                .context("starting the SmashRun sandbox")?;
            println!(
                "SmashRun sandbox with ten years of a generated runner at {}",
                sandbox.base_url()
            );
            println!("Press Ctrl-C to stop.");
            tokio::signal::ctrl_c().await?;
            sandbox.stop().await;
        }
    }
    Ok(())
}
