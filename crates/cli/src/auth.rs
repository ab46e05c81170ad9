//! `auth login | status | refresh | logout | token`.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use jiff::{SignedDuration, Timestamp};
use myrunstreak_app::smashrun::{OAuthClient, OAuthConfig, Secret, TokenSet};
use myrunstreak_app::{Settings, TokenStoreKind};

use crate::context;
use crate::login::{LoginOptions, is_out_of_band, login};

/// Token commands.
#[derive(Subcommand, Debug)]
pub enum AuthCommand {
    /// Sign in to SmashRun in your browser and store the tokens.
    Login {
        /// Do not open a browser: print the address, and accept the code or the whole address
        /// you are sent back to, pasted here.
        #[arg(long)]
        no_browser: bool,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
        /// Also ask for permission to add activities (write_activity), to push ledger entries
        /// to SmashRun (`add --push`, `ledger push ID`).
        #[arg(long)]
        write: bool,
    },
    /// Who is signed in, where the tokens are, when they expire and will be refreshed.
    Status,
    /// Refresh the tokens now.
    Refresh,
    /// Remove the stored tokens.
    Logout,
    /// Store a personal token from SmashRun's implicit flow (read from standard input if omitted).
    Token {
        /// The token.
        token: Option<String>,
    },
}

/// Runs an auth command.
pub async fn run(command: AuthCommand, settings: &Settings) -> Result<()> {
    let wiring = context::wiring(settings).await?;
    match command {
        AuthCommand::Login {
            no_browser,
            timeout,
            write,
        } => {
            refuse_env_store(settings, "a login")?;
            let oauth = wiring.oauth()?;
            let store = wiring.token_store();
            let out_of_band = is_out_of_band(&settings.redirect_uri);
            let options = LoginOptions {
                open_browser: !no_browser,
                read_stdin: no_browser,
                timeout: Duration::from_secs(timeout),
                write,
            };
            let asks = if write {
                "read your SmashRun runs and add the ledger's runs you push"
            } else {
                "read your SmashRun runs"
            };
            let tokens = login(&oauth, &options, |url| {
                println!("Open this address to let MyRunStreak {asks}:\n\n  {url}\n");
                if out_of_band {
                    println!("Then paste the code SmashRun shows you here.");
                } else if no_browser {
                    println!(
                        "Then paste the whole address you are sent back to (with its state=) here."
                    );
                }
            })
            .await?;
            store
                .save(&tokens)
                .await
                .with_context(|| format!("saving the tokens in {}", store.describe()))?;
            let user = wiring.whoami().await?;
            println!(
                "Hello, {}! You are signed in to SmashRun.",
                user.display_name()
            );
            println!(
                "Tokens saved in {}; they expire {} and will be refreshed from {}.",
                store.describe(),
                day(tokens.expires_at),
                day(tokens.refresh_due_at())
            );
            match tokens.scope.as_deref() {
                Some(granted)
                    if write && !granted.split_whitespace().any(|s| s == "write_activity") =>
                {
                    println!(
                        "SmashRun granted only {granted:?}: pushing to SmashRun will be refused."
                    )
                }
                Some(granted) => println!("Granted: {granted}."),
                None => {}
            }
            Ok(())
        }
        AuthCommand::Status => {
            if let Some(why) = settings.ignored_env_token() {
                println!("Note: {why}.");
            }
            let store = wiring.token_store();
            let Some(tokens) = store.load().await? else {
                println!(
                    "Not signed in (no tokens in {}). Run `myrunstreak auth login`.",
                    store.describe()
                );
                return Ok(());
            };
            match wiring.whoami().await {
                Ok(user) => println!(
                    "Signed in as {} (SmashRun user {}).",
                    user.display_name(),
                    user.id
                ),
                Err(e) => {
                    println!("Tokens are stored, but SmashRun could not be asked who you are: {e}")
                }
            }
            println!("Token store: {}", store.describe());
            println!("Access token expires: {}", day(tokens.expires_at));
            if let Some(granted) = &tokens.scope {
                println!("Granted: {granted}");
            }
            match &tokens.refresh_token {
                Some(_) => println!("Refresh due: {}", day(tokens.refresh_due_at())),
                None => println!(
                    "No refresh token (a personal token): run `auth login` before it expires."
                ),
            }
            Ok(())
        }
        AuthCommand::Refresh => {
            let fresh = wiring.provider().refresh_now().await?;
            println!("Tokens refreshed; they expire {}.", day(fresh.expires_at));
            Ok(())
        }
        AuthCommand::Logout => {
            let store = wiring.token_store();
            store.clear().await?;
            println!("Removed the local tokens from {}.", store.describe());
            println!(
                "SmashRun has no revoke endpoint: to revoke MyRunStreak's access, visit https://smashrun.com/settings/api"
            );
            Ok(())
        }
        AuthCommand::Token { token } => {
            refuse_env_store(settings, "a personal token")?;
            let token = match token {
                Some(t) => t,
                None => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("reading the token from standard input")?;
                    line
                }
            };
            let token = Secret::new(token.trim());
            if token.is_empty() {
                bail!("no token given: pass it as an argument or on standard input");
            }
            let oauth_config = OAuthConfig {
                oauth_url: settings.oauth_url.clone(),
                api_url: settings.api_url.clone(),
                client_id: "client".into(),
                client_secret: Secret::new(""),
                redirect_uri: settings.redirect_uri.clone(),
                pkce: settings.pkce,
            };
            let oauth = OAuthClient::new(oauth_config, myrunstreak_app::http_client()?)?;
            let left = oauth.token_status(&token).await?;
            if left <= 0 {
                bail!(
                    "SmashRun says this token is expired or unknown; get a new one from SmashRun's implicit flow"
                );
            }
            let tokens = TokenSet::issued(
                token,
                None,
                Timestamp::now(),
                SignedDuration::from_secs(left),
            );
            let store = wiring.token_store();
            store.save(&tokens).await?;
            println!(
                "Personal token stored in {}; it expires {} and cannot be refreshed.",
                store.describe(),
                day(tokens.expires_at)
            );
            Ok(())
        }
    }
}

/// Tokens from the environment cannot be saved: say so before the user goes through a login.
fn refuse_env_store(settings: &Settings, what: &str) -> Result<()> {
    if settings.token_store == TokenStoreKind::Env {
        bail!(
            "tokens come from SMASHRUN_ACCESS_TOKEN (the env store), where {what} cannot be saved; remove SMASHRUN_ACCESS_TOKEN, or set MYRUNSTREAK_TOKEN_STORE=file (or aws), and try again"
        );
    }
    Ok(())
}

fn day(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}
