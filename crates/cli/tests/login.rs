//! Signing in, with the real `myrunstreak` binary against the sandbox over loopback: the login
//! accepts only the answer that carries its own `state`, and an access token in the environment
//! is used unless another token store was chosen.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use jiff::civil::date;
use serde_json::{Value, json};
use smashrun_sandbox::{Sandbox, SandboxConfig};

const BIN: &str = env!("CARGO_BIN_EXE_myrunstreak");
const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";
/// A bound on how long a test waits for the binary to say something; never a pause.
const PATIENCE: Duration = Duration::from_secs(60);

struct World {
    sandbox: Sandbox,
    dir: tempfile::TempDir,
    redirect: String,
}

/// A sandbox that approves at once, with a client registered through the control API for
/// `redirect` (`None`: a loopback callback on a free port).
async fn world(redirect: Option<&str>) -> World {
    let redirect = redirect.map_or_else(
        || {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            format!("http://127.0.0.1:{port}/callback")
        },
        str::to_owned,
    );
    let sandbox = Sandbox::start_on_free_port(SandboxConfig {
        years: 1,
        end: Some(date(2026, 5, 3)),
        auto_approve: true,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/clients", sandbox.control_url()))
        .json(&json!({"id": "login-test", "secret": "login-secret", "redirect_uris": [redirect]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    World {
        sandbox,
        dir: tempfile::tempdir().unwrap(),
        redirect,
    }
}

impl World {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .arg("--env-file")
            .arg(self.dir.path().join("no.env"))
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SMASHRUN_CLIENT_ID", "login-test")
            .env("SMASHRUN_CLIENT_SECRET", "login-secret")
            .env("SMASHRUN_REDIRECT_URI", &self.redirect)
            .env("SMASHRUN_OAUTH_URL", self.sandbox.oauth_url())
            .env("SMASHRUN_API_URL", self.sandbox.api_url())
            .env("DUCKDB_PATH", self.dir.path().join("data/runs.duckdb"))
            .env(
                "MYRUNSTREAK_TOKEN_FILE",
                self.dir.path().join("data/tokens.json"),
            )
            .env("LOG_LEVEL", "warn")
            .stdin(Stdio::null());
        c
    }

    /// The scope kept with the stored tokens (null when none).
    fn stored_scope(&self) -> Value {
        let text = std::fs::read_to_string(self.dir.path().join("data/tokens.json")).unwrap();
        serde_json::from_str::<Value>(&text).unwrap()["scope"].clone()
    }

    async fn output(&self, mut c: Command) -> Output {
        tokio::task::spawn_blocking(move || c.output().unwrap())
            .await
            .unwrap()
    }

    async fn run_ok(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let mut c = self.cmd(args);
        c.envs(env.iter().copied());
        let out = self.output(c).await;
        assert!(
            out.status.success(),
            "{args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `auth login --no-browser`, running, with its lines arriving on channels.
    fn start_login(&self) -> Login {
        self.start_login_with(&[])
    }

    /// [`World::start_login`] with `extra` arguments.
    fn start_login_with(&self, extra: &[&str]) -> Login {
        let mut args = vec!["auth", "login", "--no-browser", "--timeout", "120"];
        args.extend_from_slice(extra);
        let mut child = self
            .cmd(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = lines_of(child.stdout.take().unwrap());
        let stderr = lines_of(child.stderr.take().unwrap());
        let mut login = Login {
            child,
            stdin,
            stdout,
            stderr,
            url: String::new(),
        };
        login.url = login
            .stdout_until(|l| l.trim().starts_with("http"))
            .trim()
            .to_owned();
        login
    }
}

fn lines_of(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

struct Login {
    child: Child,
    stdin: ChildStdin,
    stdout: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
    /// The authorization address the login printed.
    url: String,
}

fn until(lines: &mpsc::Receiver<String>, what: &str, wanted: impl Fn(&str) -> bool) -> String {
    let mut seen = Vec::new();
    loop {
        match lines.recv_timeout(PATIENCE) {
            Ok(line) if wanted(&line) => return line,
            Ok(line) => seen.push(line),
            Err(e) => panic!("no {what} line as expected ({e}); saw {seen:#?}"),
        }
    }
}

impl Login {
    fn stdout_until(&self, wanted: impl Fn(&str) -> bool) -> String {
        until(&self.stdout, "stdout", wanted)
    }

    fn stderr_until(&self, wanted: impl Fn(&str) -> bool) -> String {
        until(&self.stderr, "stderr", wanted)
    }

    fn paste(&mut self, text: &str) {
        writeln!(self.stdin, "{text}").unwrap();
        self.stdin.flush().unwrap();
    }

    fn query(&self) -> Vec<(String, String)> {
        url::Url::parse(&self.url)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect()
    }

    fn state(&self) -> String {
        self.query()
            .into_iter()
            .find(|(k, _)| k == "state")
            .unwrap()
            .1
    }

    /// The authorization address with another `state`: what an attacker's own login looks like.
    fn with_state(&self, state: &str) -> String {
        let mut url = url::Url::parse(&self.url).unwrap();
        let pairs: Vec<(String, String)> = self
            .query()
            .into_iter()
            .map(|(k, v)| {
                if k == "state" {
                    (k, state.to_owned())
                } else {
                    (k, v)
                }
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        url.to_string()
    }

    /// Waits for the login to end; its exit status and the rest of its standard output.
    async fn finish(mut self) -> (bool, String) {
        drop(self.stdin);
        tokio::task::spawn_blocking(move || {
            let status = self.child.wait().unwrap();
            let rest: Vec<String> = self.stdout.iter().collect();
            (status.success(), rest.join("\n"))
        })
        .await
        .unwrap()
    }
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A real code for the same app and redirect URI, from a login the attacker started.
async fn attackers_code(login: &Login) -> String {
    let r = no_redirects()
        .get(login.with_state("attackers-state"))
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(r.headers()["location"].to_str().unwrap()).unwrap();
    location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned()
}

async fn token_request(w: &World, code: &str) -> reqwest::StatusCode {
    reqwest::Client::new()
        .post(format!("{}/token", w.sandbox.oauth_url()))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", w.redirect.as_str()),
            ("client_id", "login-test"),
            ("client_secret", "login-secret"),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn forged_callbacks_get_400_and_the_login_waits_for_its_own_answer() {
    let w = world(None).await;
    let mut login = w.start_login();
    let state = login.state();
    assert!(state.len() >= 16, "{}", login.url);
    let stolen = attackers_code(&login).await;

    // what any web page open during the login could make the browser request
    let forged = [
        format!("code={stolen}&state=wrong"),
        format!("code={stolen}"),
        format!("code={stolen}&pasted_code=1"),
        format!("code={stolen}&state=wrong&pasted_code=1&verified=true"),
        format!("code={stolen}&state={}", &state[..state.len() - 1]),
        format!("code={stolen}&state=wrong&state={state}"),
        "error=access_denied&state=wrong".to_owned(),
        "error=access_denied&pasted_code=1".to_owned(),
        String::new(),
    ];
    for query in &forged {
        let r = reqwest::get(format!("{}?{query}", w.redirect))
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "?{query}");
        let page = r.text().await.unwrap();
        assert!(page.contains("did not accept"), "{page}");
        assert!(!page.contains("connected to SmashRun"), "{page}");
        let said = login.stderr_until(|l| l.contains("Ignored a request to the login callback"));
        assert!(!said.contains(&stolen), "{said}");
    }

    // pasted answers: a bare code cannot be checked, a wrong state is refused; it keeps reading
    login.paste(&stolen);
    let said = login.stderr_until(|l| l.contains("Not accepted"));
    assert!(said.contains("not just the code"), "{said}");
    login.paste(&format!("{}?code={stolen}&state=wrong", w.redirect));
    let said = login.stderr_until(|l| l.contains("Not accepted"));
    assert!(said.contains("does not belong to this login"), "{said}");
    login.paste(&format!("{}?code={stolen}&pasted_code=1", w.redirect));
    let said = login.stderr_until(|l| l.contains("Not accepted"));
    assert!(said.contains("does not belong to this login"), "{said}");

    // still listening: the real answer, through the browser, completes the login
    let page = reqwest::get(&login.url).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("connected to SmashRun"));
    let (ok, out) = login.finish().await;
    assert!(ok, "{out}");
    assert!(out.contains("Hello, Sam!"), "{out}");

    // the attacker's code was never used; the stored token works
    assert_eq!(token_request(&w, &stolen).await, 200);
    let status = w.run_ok(&["auth", "status"], &[]).await;
    assert!(status.contains("Signed in as Sam"), "{status}");
    w.sandbox.stop().await;
}

#[tokio::test]
async fn a_pasted_redirect_with_its_state_completes_the_login() {
    let w = world(None).await;
    let mut login = w.start_login();
    let r = no_redirects().get(&login.url).send().await.unwrap();
    let back = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.contains("state="), "{back}");
    login.paste("");
    login.paste(&back);
    let (ok, out) = login.finish().await;
    assert!(ok, "{out}");
    assert!(out.contains("Hello, Sam!"), "{out}");
    assert_eq!(w.stored_scope(), json!("read_activity"), "reading only");
    w.sandbox.stop().await;
}

#[tokio::test]
async fn a_login_with_write_asks_for_it_and_keeps_what_was_granted() {
    let w = world(None).await;
    let mut login = w.start_login_with(&["--write"]);
    let scope = login
        .query()
        .into_iter()
        .find(|(k, _)| k == "scope")
        .unwrap()
        .1;
    assert_eq!(scope, "read_activity write_activity");
    let r = no_redirects().get(&login.url).send().await.unwrap();
    login.paste(r.headers()["location"].to_str().unwrap());
    let (ok, out) = login.finish().await;
    assert!(ok, "{out}");
    assert!(
        out.contains("Granted: read_activity write_activity."),
        "{out}"
    );
    assert_eq!(w.stored_scope(), json!("read_activity write_activity"));
    let status = w.run_ok(&["auth", "status"], &[]).await;
    assert!(
        status.contains("Granted: read_activity write_activity"),
        "{status}"
    );
    w.sandbox.stop().await;
}

#[tokio::test]
async fn out_of_band_a_bare_code_typed_in_is_the_answer() {
    let w = world(Some(OOB)).await;
    let mut login = w.start_login();
    login.stdout_until(|l| l.contains("paste the code"));
    let page = reqwest::get(&login.url)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let code = page
        .split("<pre id=\"code\">")
        .nth(1)
        .and_then(|rest| rest.split("</pre>").next())
        .unwrap_or_else(|| panic!("the page shows a code: {page}"))
        .to_owned();
    // an address is still a redirect, and must carry this login's state
    login.paste(&format!("http://127.0.0.1:9/cb?code={code}&state=wrong"));
    let said = login.stderr_until(|l| l.contains("Not accepted"));
    assert!(said.contains("does not belong to this login"), "{said}");
    login.paste(&code);
    let (ok, out) = login.finish().await;
    assert!(ok, "{out}");
    assert!(out.contains("Hello, Sam!"), "{out}");
    w.sandbox.stop().await;
}

async fn sandbox_token(w: &World) -> String {
    let v: Value = reqwest::Client::new()
        .post(format!("{}/tokens", w.sandbox.control_url()))
        .json(&json!({"client_id": "login-test"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_access_token_in_the_environment_just_works_unless_another_store_is_chosen() {
    let w = world(None).await;
    let token = sandbox_token(&w).await;

    // only the token, the store unset or empty: it is used
    for env in [
        vec![("SMASHRUN_ACCESS_TOKEN", token.as_str())],
        vec![
            ("SMASHRUN_ACCESS_TOKEN", token.as_str()),
            ("MYRUNSTREAK_TOKEN_STORE", ""),
        ],
    ] {
        let status = w.run_ok(&["auth", "status"], &env).await;
        assert!(
            status.contains("Signed in as Sam") && status.contains("environment"),
            "{status}"
        );
        assert!(!status.contains("ignored"), "{status}");
        let config = w.run_ok(&["config"], &env).await;
        assert!(config.contains("MYRUNSTREAK_TOKEN_STORE=env\n"), "{config}");
    }

    // a store chosen explicitly (setting or flag) wins, and both commands say why the token is unused
    let chosen = [
        ("SMASHRUN_ACCESS_TOKEN", token.as_str()),
        ("MYRUNSTREAK_TOKEN_STORE", "file"),
    ];
    let flagged = [("SMASHRUN_ACCESS_TOKEN", token.as_str())];
    for (args, env) in [
        (vec!["auth", "status"], &chosen[..]),
        (
            vec!["auth", "status", "--token-store", "file"],
            &flagged[..],
        ),
    ] {
        let status = w.run_ok(&args, env).await;
        assert!(
            status.contains("SMASHRUN_ACCESS_TOKEN is set but ignored")
                && status.contains("MYRUNSTREAK_TOKEN_STORE=file"),
            "{status}"
        );
        assert!(status.contains("Not signed in"), "{status}");
        assert!(!status.contains(&token), "never the token itself");
    }
    for json in [false, true] {
        let mut args = vec!["config"];
        if json {
            args.push("--json");
        }
        let config = w.run_ok(&args, &chosen).await;
        assert!(
            config.contains("SMASHRUN_ACCESS_TOKEN is set but ignored")
                && config.contains("MYRUNSTREAK_TOKEN_STORE=file chooses the file store"),
            "{config}"
        );
        assert!(!config.contains(&token), "never the token itself");
    }
    w.sandbox.stop().await;
}
