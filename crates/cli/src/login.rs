//! The authorization code flow from a terminal: a one-shot callback server on 127.0.0.1 at the
//! redirect URI's port and path, the browser (or a pasted answer), `state` checked.
//!
//! Only an answer carrying this login's `state` is accepted, wherever it arrives. The callback
//! server answers anything else with 400 and keeps waiting, so a page the runner happens to visit
//! during the login cannot sign the mirror in to another account. The query of a callback is
//! data, never control: it is parsed into an [`Answer`], and no parameter can switch the check
//! off. The one answer without a `state` is a bare code typed on standard input for the
//! out-of-band redirect, where SmashRun shows the code instead of redirecting.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use axum::Router;
use axum::extract::RawQuery;
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use jiff::Timestamp;
use myrunstreak_app::smashrun::{Authorization, OAuthClient, Scope, TokenSet};
use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc;
use url::Url;

/// The out-of-band redirect: SmashRun shows the code for the user to paste.
pub const OUT_OF_BAND: &str = "urn:ietf:wg:oauth:2.0:oob";

/// How the user answers.
pub struct LoginOptions {
    /// Open the browser (else print the URL and accept a pasted answer).
    pub open_browser: bool,
    /// Accept a pasted redirect URL (or, out of band, a code) on standard input.
    pub read_stdin: bool,
    /// Give up after this long.
    pub timeout: Duration,
    /// Ask for `write_activity` too (to push ledger entries to SmashRun).
    pub write: bool,
}

impl LoginOptions {
    /// The scopes to ask for: `read_activity`, and `write_activity` when asked to write.
    pub fn scopes(&self) -> Vec<Scope> {
        let mut scopes = vec![Scope::ReadActivity];
        if self.write {
            scopes.push(Scope::WriteActivity);
        }
        scopes
    }
}

/// Whether `redirect_uri` is the out-of-band one, where a bare code is the answer.
pub fn is_out_of_band(redirect_uri: &str) -> bool {
    redirect_uri == OUT_OF_BAND
}

/// How SmashRun gives its answer back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Channel {
    /// By redirecting to a URI, with `code` (or `error`) and `state` in its query.
    Redirect,
    /// By showing the code, which the user types: no `state` can come back.
    OutOfBand,
}

/// What a redirect says.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// An authorization code.
    Code(String),
    /// A refusal: `error` and `error_description`.
    Refused {
        error: String,
        description: Option<String>,
    },
}

/// An answer to the authorization request.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    /// SmashRun's redirect (received by the callback server, or pasted whole): what it says,
    /// and the `state` it carried.
    Redirect {
        outcome: Outcome,
        state: Option<String>,
    },
    /// A bare code typed on standard input (the out-of-band flow).
    TypedCode(String),
}

/// Why an answer is not accepted.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// Neither a code nor an error.
    NotAnAnswer,
    /// A parameter that counts appears more than once.
    Repeated(&'static str),
    /// The `state` is missing or is not this login's.
    WrongState,
    /// A bare code where the redirect, with its `state`, is needed.
    BareCode,
}

impl Refusal {
    /// A few words for the terminal when the callback turns a request away.
    fn reason(&self) -> &'static str {
        match self {
            Refusal::NotAnAnswer => "no code or error",
            Refusal::Repeated(_) => "a parameter given twice",
            Refusal::WrongState | Refusal::BareCode => "state missing or wrong",
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::NotAnAnswer => f.write_str(
                "that is not an answer from SmashRun: paste the whole address you were sent back to (it has code= and state= in it)",
            ),
            Refusal::Repeated(key) => write!(
                f,
                "that address has {key}= more than once; paste the address exactly as you were sent back to it"
            ),
            Refusal::WrongState => f.write_str(
                "that answer does not belong to this login (its state is missing or does not match); paste the whole address this login sent you back to",
            ),
            Refusal::BareCode => f.write_str(
                "a code alone cannot be checked against this login: paste the whole address you were sent back to (with its state=), not just the code",
            ),
        }
    }
}

/// The answer in a redirect's query string. Only `code`, `error`, `error_description` and
/// `state` count; anything else is ignored, whatever its name.
fn parse_redirect_query(query: &str) -> Result<Answer, Refusal> {
    let (mut code, mut error, mut description, mut state) = (None, None, None, None);
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let (slot, name) = match key.as_ref() {
            "code" => (&mut code, "code"),
            "error" => (&mut error, "error"),
            "error_description" => (&mut description, "error_description"),
            "state" => (&mut state, "state"),
            _ => continue,
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(Refusal::Repeated(name));
        }
    }
    let outcome = match (error, code) {
        (Some(error), _) => Outcome::Refused { error, description },
        (None, Some(code)) if !code.trim().is_empty() => Outcome::Code(code.trim().to_owned()),
        _ => return Err(Refusal::NotAnAnswer),
    };
    Ok(Answer::Redirect { outcome, state })
}

/// A line typed on standard input: the whole redirect address (or its query), or, for the
/// out-of-band flow only, a bare code. `None` for a blank line.
fn parse_pasted(text: &str, channel: Channel) -> Result<Option<Answer>, Refusal> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let looks_like_address = ["code=", "error=", "state=", "?", "&", "://"]
        .iter()
        .any(|marker| text.contains(marker));
    if looks_like_address {
        let query = text.split_once('?').map_or(text, |(_, q)| q);
        let query = query.split_once('#').map_or(query, |(q, _)| q);
        return parse_redirect_query(query).map(Some);
    }
    match channel {
        Channel::OutOfBand => Ok(Some(Answer::TypedCode(text.to_owned()))),
        Channel::Redirect => Err(Refusal::BareCode),
    }
}

/// Lets through only an answer for this login: a redirect with its `state`, or a typed code for
/// the out-of-band flow.
fn accept(
    answer: Answer,
    authorization: &Authorization,
    channel: Channel,
) -> Result<Answer, Refusal> {
    match &answer {
        Answer::Redirect { state, .. } => authorization
            .verify_state(state.as_deref())
            .map_err(|_| Refusal::WrongState)?,
        Answer::TypedCode(_) if channel == Channel::OutOfBand => {}
        Answer::TypedCode(_) => return Err(Refusal::BareCode),
    }
    Ok(answer)
}

fn page(title: &str, text: &str) -> String {
    format!(
        "<!doctype html><meta charset=utf-8><title>MyRunStreak</title><h1>{title}</h1><p>{text}</p>"
    )
}

/// Runs the flow and returns the tokens. `on_url` is told the authorization URL.
pub async fn login(
    oauth: &OAuthClient,
    options: &LoginOptions,
    on_url: impl FnOnce(&Url),
) -> Result<TokenSet> {
    let authorization = Arc::new(oauth.authorize(&options.scopes()));
    let redirect = oauth.config().redirect_uri.clone();
    let channel = if is_out_of_band(&redirect) {
        Channel::OutOfBand
    } else {
        Channel::Redirect
    };
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
        let expected = authorization.clone();
        let app = Router::new().route(
            &path,
            get(move |RawQuery(query): RawQuery| {
                let sender = sender.clone();
                let expected = expected.clone();
                async move {
                    let answer = parse_redirect_query(query.as_deref().unwrap_or(""))
                        .and_then(|a| accept(a, &expected, Channel::Redirect));
                    match answer {
                        Ok(answer) => {
                            let denied = matches!(
                                answer,
                                Answer::Redirect { outcome: Outcome::Refused { .. }, .. }
                            );
                            // never blocks: the login takes the first answer and stops
                            let _ = sender.try_send(answer);
                            let title = if denied {
                                "Authorization was not granted"
                            } else {
                                "MyRunStreak is connected to SmashRun"
                            };
                            (
                                StatusCode::OK,
                                Html(page(title, "You can close this tab and return to the terminal.")),
                            )
                        }
                        Err(refusal) => {
                            eprintln!(
                                "Ignored a request to the login callback ({}): it is not the answer to this login; still waiting.",
                                refusal.reason()
                            );
                            (
                                StatusCode::BAD_REQUEST,
                                Html(page(
                                    "MyRunStreak did not accept this answer",
                                    "It does not carry the state of the login running in your terminal, so it was ignored and the login is still waiting for SmashRun. If you did not just approve MyRunStreak on SmashRun, close this tab.",
                                )),
                            )
                        }
                    }
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
        let expected = authorization.clone();
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let pasted = parse_pasted(&line, channel)
                    .and_then(|a| a.map(|a| accept(a, &expected, channel)).transpose());
                match pasted {
                    Ok(Some(answer)) => {
                        let _ = sender.send(answer).await;
                        return;
                    }
                    Ok(None) => {}
                    Err(refusal) => eprintln!("Not accepted: {refusal}."),
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
            "no answer from SmashRun within {} s; run `myrunstreak auth login` again (with --no-browser you can paste the whole address you were sent back to)",
            options.timeout.as_secs()
        ),
    };
    // whoever received it checked it; checked again where the code is used
    let code = match accept(answer, &authorization, channel) {
        Err(refusal) => bail!("{refusal}"),
        Ok(Answer::Redirect {
            outcome: Outcome::Refused { error, description },
            ..
        }) => return Err(authorization.refusal(&error, description.as_deref()).into()),
        Ok(
            Answer::Redirect {
                outcome: Outcome::Code(code),
                ..
            }
            | Answer::TypedCode(code),
        ) => code,
    };
    Ok(oauth
        .exchange(&authorization, &code, Timestamp::now())
        .await?)
}

#[cfg(test)]
mod tests {
    use myrunstreak_app::smashrun::{OAuthConfig, Secret};

    use super::*;

    fn redirect(outcome: Outcome, state: Option<&str>) -> Answer {
        Answer::Redirect {
            outcome,
            state: state.map(str::to_owned),
        }
    }

    fn code(c: &str) -> Outcome {
        Outcome::Code(c.to_owned())
    }

    #[test]
    fn a_pasted_address_or_query_is_a_redirect_with_its_state() {
        for channel in [Channel::Redirect, Channel::OutOfBand] {
            for text in [
                "http://localhost:8000/callback?code=abc&state=xyz",
                "  http://127.0.0.1:8000/callback?state=xyz&code=abc#frag \n",
                "?code=abc&state=xyz",
                "code=abc&state=xyz",
            ] {
                assert_eq!(
                    parse_pasted(text, channel),
                    Ok(Some(redirect(code("abc"), Some("xyz")))),
                    "{text}"
                );
            }
        }
        assert_eq!(
            parse_pasted(
                "?error=access_denied&error_description=No+thanks",
                Channel::Redirect
            ),
            Ok(Some(redirect(
                Outcome::Refused {
                    error: "access_denied".into(),
                    description: Some("No thanks".into())
                },
                None
            )))
        );
        assert_eq!(parse_pasted("   ", Channel::Redirect), Ok(None));
    }

    #[test]
    fn a_bare_code_is_an_answer_only_out_of_band() {
        assert_eq!(
            parse_pasted(" abc123 ", Channel::OutOfBand),
            Ok(Some(Answer::TypedCode("abc123".into())))
        );
        assert_eq!(
            parse_pasted("abc123", Channel::Redirect),
            Err(Refusal::BareCode)
        );
    }

    #[test]
    fn no_parameter_is_a_control_flag() {
        // the old bug: pasted_code=1 skipped the state check
        assert_eq!(
            parse_redirect_query("code=X&pasted_code=1"),
            Ok(redirect(code("X"), None))
        );
        assert_eq!(
            parse_pasted(
                "http://localhost:8000/callback?code=X&pasted_code=1",
                Channel::OutOfBand
            ),
            Ok(Some(redirect(code("X"), None))),
            "a pasted address is a redirect even out of band"
        );
        assert_eq!(
            parse_redirect_query("code=X&state=a&state=b"),
            Err(Refusal::Repeated("state"))
        );
        assert_eq!(
            parse_redirect_query("code=X&code=Y&state=a"),
            Err(Refusal::Repeated("code"))
        );
        assert_eq!(parse_redirect_query(""), Err(Refusal::NotAnAnswer));
        assert_eq!(
            parse_redirect_query("state=a&code="),
            Err(Refusal::NotAnAnswer)
        );
        assert_eq!(
            parse_pasted("http://localhost:8000/callback?state=a", Channel::Redirect),
            Err(Refusal::NotAnAnswer)
        );
    }

    fn authorization() -> (Authorization, String) {
        let oauth = OAuthClient::new(
            OAuthConfig {
                oauth_url: "http://127.0.0.1:9/oauth2".into(),
                api_url: "http://127.0.0.1:9/v1".into(),
                client_id: "app".into(),
                client_secret: Secret::new("s"),
                redirect_uri: "http://127.0.0.1:9/callback".into(),
                pkce: false,
            },
            reqwest::Client::new(),
        )
        .unwrap();
        let a = oauth.authorize(&[Scope::ReadActivity]);
        let state = a
            .url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
            .into_owned();
        (a, state)
    }

    #[test]
    fn only_this_logins_state_is_accepted() {
        let (a, state) = authorization();
        let pasted = |text: &str, channel| {
            parse_pasted(text, channel).and_then(|x| x.map(|x| accept(x, &a, channel)).transpose())
        };
        let good = format!("http://127.0.0.1:9/callback?code=abc&state={state}");
        assert_eq!(
            pasted(&good, Channel::Redirect),
            Ok(Some(redirect(code("abc"), Some(&state))))
        );
        for forged in [
            "http://127.0.0.1:9/callback?code=abc&state=forged".to_owned(),
            "http://127.0.0.1:9/callback?code=abc".to_owned(),
            "http://127.0.0.1:9/callback?code=abc&pasted_code=1".to_owned(),
            "?code=abc&state=forged&pasted_code=1&state_ok=1".to_owned(),
            format!("?error=access_denied&state={state}x"),
            format!("?code=abc&state={}", &state[1..]),
        ] {
            for channel in [Channel::Redirect, Channel::OutOfBand] {
                assert_eq!(
                    pasted(&forged, channel),
                    Err(Refusal::WrongState),
                    "{forged}"
                );
            }
        }
        assert_eq!(pasted("abc", Channel::Redirect), Err(Refusal::BareCode));
        assert_eq!(
            pasted("abc", Channel::OutOfBand),
            Ok(Some(Answer::TypedCode("abc".into())))
        );
        // a typed code never passes where a redirect is expected, however it was built
        assert_eq!(
            accept(Answer::TypedCode("abc".into()), &a, Channel::Redirect),
            Err(Refusal::BareCode)
        );
        let messages =
            [Refusal::BareCode, Refusal::WrongState, Refusal::NotAnAnswer].map(|r| r.to_string());
        assert!(
            messages.iter().all(|m| m.contains("whole address")),
            "{messages:?}"
        );
    }
}
