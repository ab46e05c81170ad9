//! The authorization code flow from a terminal: a one-shot callback server on 127.0.0.1 at the
//! redirect URI's port and path, the browser (or a pasted code or URL), `state` checked.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use axum::Router;
use axum::extract::Query;
use axum::response::Html;
use axum::routing::get;
use jiff::Timestamp;
use smashrun_client::{Error as ClientError, OAuthClient, Scope, TokenSet};
use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc;
use url::Url;

/// How the user answers.
pub struct LoginOptions {
    /// Open the browser (else print the URL and accept a pasted answer).
    pub open_browser: bool,
    /// Accept a pasted code or redirect URL on standard input.
    pub read_stdin: bool,
    /// Give up after this long.
    pub timeout: Duration,
}

type Answer = HashMap<String, String>;

/// Runs the flow and returns the tokens. `on_url` is told the authorization URL.
pub async fn login(
    oauth: &OAuthClient,
    options: &LoginOptions,
    on_url: impl FnOnce(&Url),
) -> Result<TokenSet> {
    let authorization = oauth.authorize(&[Scope::ReadActivity]);
    let redirect = oauth.config().redirect_uri.clone();
    let (tx, mut rx) = mpsc::channel::<Answer>(4);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();

    let server = if redirect.starts_with("http://") || redirect.starts_with("https://") {
        let url = Url::parse(&redirect)
            .with_context(|| format!("SMASHRUN_REDIRECT_URI {redirect} is not a URL"))?;
        let host = url.host_str().unwrap_or_default();
        if !["localhost", "127.0.0.1", "[::1]"].contains(&host) || url.scheme() != "http" {
            bail!(
                "SMASHRUN_REDIRECT_URI must be http://localhost:PORT/PATH (or 127.0.0.1) to receive the answer here; it is {redirect}"
            );
        }
        let port = url.port().unwrap_or(80);
        let path = url.path().to_owned();
        let sender = tx.clone();
        let app = Router::new().route(
            &path,
            get(move |Query(answer): Query<Answer>| {
                let sender = sender.clone();
                async move {
                    let denied = answer.contains_key("error");
                    let _ = sender.send(answer).await;
                    Html(if denied {
                        "<!doctype html><meta charset=utf-8><title>MyRunStreak</title><h1>Authorization was not granted</h1><p>You can close this tab and return to the terminal.</p>"
                    } else {
                        "<!doctype html><meta charset=utf-8><title>MyRunStreak</title><h1>MyRunStreak is connected to SmashRun</h1><p>You can close this tab and return to the terminal.</p>"
                    })
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .with_context(|| format!("cannot listen on 127.0.0.1:{port} for the login callback; free that port, or register and set another SMASHRUN_REDIRECT_URI"))?;
        Some(tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        }))
    } else {
        None
    };

    if options.read_stdin || server.is_none() {
        let sender = tx.clone();
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(answer) = parse_pasted(line.trim()) {
                    let _ = sender.send(answer).await;
                    return;
                }
            }
        });
    }
    drop(tx);

    on_url(&authorization.url);
    if let Some(e) = options
        .open_browser
        .then(|| open::that(authorization.url.as_str()).err())
        .flatten()
    {
        eprintln!("Could not open a browser ({e}); open the address above yourself.");
    }

    let answer = tokio::time::timeout(options.timeout, rx.recv()).await;
    let _ = stop.send(());
    if let Some(server) = server {
        let _ = server.await;
    }
    let answer = match answer {
        Ok(Some(a)) => a,
        Ok(None) => bail!("no answer arrived; run `myrunstreak auth login` again"),
        Err(_) => bail!(
            "no answer from SmashRun within {} s; run `myrunstreak auth login` again (with --no-browser you can paste the code or the whole address you were sent back to)",
            options.timeout.as_secs()
        ),
    };
    if let Some(error) = answer.get("error") {
        let description = answer.get("error_description").cloned().unwrap_or_default();
        return Err(ClientError::Denied(format!("{error} {description}").trim().to_owned()).into());
    }
    // a bare pasted code has no state to check (the out-of-band flow); a redirect always does
    if !answer.contains_key("pasted_code") {
        authorization.verify_state(answer.get("state").map(String::as_str))?;
    }
    let code = answer
        .get("code")
        .ok_or_else(|| anyhow!("the answer has no authorization code"))?;
    Ok(oauth.exchange(code, Timestamp::now()).await?)
}

/// A pasted redirect URL, query string or bare code.
fn parse_pasted(text: &str) -> Option<Answer> {
    if text.is_empty() {
        return None;
    }
    if text.contains("code=") || text.contains("error=") {
        let query = text.split_once('?').map_or(text, |(_, q)| q);
        let answer: Answer = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        return (answer.contains_key("code") || answer.contains_key("error")).then_some(answer);
    }
    Some(HashMap::from([
        ("code".to_owned(), text.to_owned()),
        ("pasted_code".to_owned(), "1".to_owned()),
    ]))
}

#[cfg(test)]
mod tests {
    use super::parse_pasted;

    #[test]
    fn pasted_answers() {
        let a = parse_pasted("http://localhost:8000/callback?code=abc&state=xyz").unwrap();
        assert_eq!((a["code"].as_str(), a["state"].as_str()), ("abc", "xyz"));
        let b = parse_pasted("abc123").unwrap();
        assert_eq!(b["code"], "abc123");
        assert!(parse_pasted("").is_none());
        let c = parse_pasted("?error=access_denied").unwrap();
        assert_eq!(c["error"], "access_denied");
    }
}
