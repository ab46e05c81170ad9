//! MyRunStreak.com end to end: the real `myrunstreak site` process against the sandbox with two
//! SmashRun accounts, driven over loopback as a browser would (the cookies carried by hand,
//! redirects followed one by one), and once by headless Chromium.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use serde_json::{Value, json};
use smashrun_sandbox::{Sandbox, SandboxConfig};

mod common;

use common::control;

const BIN: &str = env!("CARGO_BIN_EXE_myrunstreak");
const ADMIN: &str = "operator-token-for-the-test";

struct SiteWorld {
    sandbox: Sandbox,
    dir: tempfile::TempDir,
    child: Child,
    url: String,
    http: reqwest::Client,
}

impl Drop for SiteWorld {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl SiteWorld {
    async fn start(extra_env: &[(&str, &str)]) -> SiteWorld {
        SiteWorld::start_with(SiteWorld::sandbox_config(), extra_env).await
    }

    /// Two accounts of at most 80 runs, each signed in without a consent page.
    fn sandbox_config() -> SandboxConfig {
        SandboxConfig {
            years: 1,
            auto_approve: true,
            accounts: 2,
            max_runs: Some(80),
            ..SandboxConfig::default()
        }
    }

    async fn start_with(config: SandboxConfig, extra_env: &[(&str, &str)]) -> SiteWorld {
        let sandbox = Sandbox::start_on_free_port(config).await.unwrap();
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        control(
            &sandbox,
            reqwest::Method::POST,
            "/clients",
            json!({"id": "site", "secret": "site-secret", "redirect_uris": [format!("{url}/auth/callback")]}),
        )
        .await;
        let dir = tempfile::tempdir().unwrap();
        let log = std::fs::File::create(dir.path().join("site.log")).unwrap();
        let child = Command::new(BIN)
            .args([
                "site",
                "--bind",
                &format!("127.0.0.1:{port}"),
                "--tick-seconds",
                "3600",
            ])
            .arg("--env-file")
            .arg(dir.path().join("no.env"))
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("SMASHRUN_CLIENT_ID", "site")
            .env("SMASHRUN_CLIENT_SECRET", "site-secret")
            .env("SMASHRUN_OAUTH_URL", sandbox.oauth_url())
            .env("SMASHRUN_API_URL", sandbox.api_url())
            .env("MYRUNSTREAK_SITE_URL", &url)
            .env(
                "MYRUNSTREAK_SITE_KEY_FILE",
                dir.path().join("keys/site.key"),
            )
            .env("MYRUNSTREAK_ADMIN_TOKEN", ADMIN)
            .env("LOG_LEVEL", "warn")
            .envs(extra_env.iter().copied())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let world = SiteWorld {
            sandbox,
            dir,
            child,
            url,
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while world.get("/healthz", None).await.map(|r| r.status()) != Some(StatusCode::OK) {
            assert!(
                Instant::now() < deadline,
                "the site did not start: {}",
                world.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        world
    }

    /// The operator's view of the runners (`GET /admin`).
    async fn roster(&self) -> Value {
        self.http
            .get(format!("{}/admin", self.url))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// One scheduler round of every runner who can be synced (`POST /admin/round?all=true`).
    async fn round_all(&self) -> Value {
        let answer = self
            .http
            .post(format!("{}/admin/round?all=true", self.url))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        answer.json::<Value>().await.unwrap()["round"].clone()
    }

    /// The app's requests in the last hour, as `/admin` says.
    async fn app_requests(&self) -> u64 {
        self.roster().await["app_requests_last_hour"]
            .as_u64()
            .unwrap()
    }

    /// `myrunstreak ARGS --db DB` alone (no settings of the site), which must succeed; its
    /// standard output.
    fn cli(&self, args: &[&str], db: &Path) -> Vec<u8> {
        let out = Command::new(BIN)
            .args(args)
            .arg("--db")
            .arg(db)
            .arg("--env-file")
            .arg(self.dir.path().join("no.env"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("site.log")).unwrap_or_default()
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    async fn get(&self, path: &str, session: Option<&str>) -> Option<reqwest::Response> {
        let mut request = self.http.get(format!("{}{path}", self.url));
        if let Some(s) = session {
            request = request.header(COOKIE, format!("mrs_session={s}"));
        }
        request.send().await.ok()
    }

    async fn get_json(&self, path: &str, session: &str) -> (StatusCode, Value) {
        let r = self.get(path, Some(session)).await.unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn accounts(&self) -> Vec<Value> {
        control(
            &self.sandbox,
            reqwest::Method::GET,
            "/accounts",
            Value::Null,
        )
        .await
        .as_array()
        .unwrap()
        .clone()
    }

    /// The browser's sign-in: the button, SmashRun's authorize page (auto-approved for
    /// `account`), the callback with the login cookie. Returns the callback URL and the login
    /// cookie, without calling the callback.
    async fn authorize(&self, account: i64) -> (String, String) {
        control(
            &self.sandbox,
            reqwest::Method::POST,
            "/sign-in-as",
            json!({"account": account}),
        )
        .await;
        let start = self.get("/auth/login", None).await.unwrap();
        assert!(start.status().is_redirection(), "{}", start.status());
        let login_cookie = set_cookie(&start, "mrs_login").expect("a login cookie");
        let authorize = start.headers()[LOCATION].to_str().unwrap().to_owned();
        let approved = self.http.get(&authorize).send().await.unwrap();
        assert!(approved.status().is_redirection(), "{}", approved.status());
        let callback = approved.headers()[LOCATION].to_str().unwrap().to_owned();
        assert!(
            callback.starts_with(&format!("{}/auth/callback?", self.url)),
            "{callback}"
        );
        (callback, login_cookie)
    }

    async fn callback(&self, url: &str, login_cookie: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(url);
        if let Some(c) = login_cookie {
            request = request.header(COOKIE, format!("mrs_login={c}"));
        }
        request.send().await.unwrap()
    }

    /// Signs `account` in and waits for their first sync; returns the session cookie's value.
    async fn sign_in(&self, account: i64) -> String {
        let (callback, login_cookie) = self.authorize(account).await;
        let done = self.callback(&callback, Some(&login_cookie)).await;
        assert_eq!(done.status(), StatusCode::SEE_OTHER, "{}", self.log());
        let session = set_cookie(&done, "mrs_session").expect("a session cookie");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, body) = self.get_json("/api/v1/sync/status", &session).await;
            if status == StatusCode::OK && body["last_success"].is_object() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no first sync: {status} {body} {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        session
    }

    async fn post(
        &self,
        path: &str,
        session: &str,
        origin: Option<&str>,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self
            .http
            .post(format!("{}{path}", self.url))
            .header(COOKIE, format!("mrs_session={session}"))
            .form(form);
        if let Some(o) = origin {
            request = request.header(ORIGIN, o);
        }
        request.send().await.unwrap()
    }
}

/// The value of cookie `name` set by `response`, with its attributes checked.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            assert!(v.contains("HttpOnly"), "{v}");
            assert!(v.contains("SameSite=Lax"), "{v}");
            assert!(
                !v.contains("Secure"),
                "a plain-http site cannot set Secure cookies: {v}"
            );
            v.split(';').next().unwrap()[name.len() + 1..].to_owned()
        })
}

async fn run_ids(world: &SiteWorld, session: &str) -> Vec<i64> {
    let (status, runs) = world.get_json("/api/v1/runs?limit=1000", session).await;
    assert_eq!(status, StatusCode::OK, "{runs}");
    let mut ids: Vec<i64> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["activity_id"].as_i64().unwrap())
        .collect();
    ids.sort();
    ids
}

async fn sandbox_ids(world: &SiteWorld, account: i64) -> Vec<i64> {
    let runs = control(
        &world.sandbox,
        reqwest::Method::GET,
        &format!("/runs?account={account}"),
        Value::Null,
    )
    .await;
    let mut ids: Vec<i64> = runs
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["deleted"] == false)
        .map(|r| r["activityId"].as_i64().unwrap())
        .collect();
    ids.sort();
    ids
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn two_runners_each_see_only_their_own_runs_and_streak() {
    let world = SiteWorld::start(&[]).await;
    let accounts = world.accounts().await;
    let (a, b) = (
        accounts[0]["id"].as_i64().unwrap(),
        accounts[1]["id"].as_i64().unwrap(),
    );

    let session_a = world.sign_in(a).await;
    let session_b = world.sign_in(b).await;

    // each sees exactly their own runs
    let (ids_a, ids_b) = (
        run_ids(&world, &session_a).await,
        run_ids(&world, &session_b).await,
    );
    assert_eq!(ids_a, sandbox_ids(&world, a).await);
    assert_eq!(ids_b, sandbox_ids(&world, b).await);
    assert!(!ids_a.is_empty() && !ids_b.is_empty());
    assert!(ids_a.iter().all(|id| !ids_b.contains(id)));

    // and their own streak: the site's answer is the CLI's on that runner's own file
    for (session, name) in [(&session_a, "a"), (&session_b, "b")] {
        let (status, site_streak) = world.get_json("/api/v1/streak", session).await;
        assert_eq!(status, StatusCode::OK);
        let file = world.dir.path().join(format!("{name}.duckdb"));
        let download = world
            .get("/account/export/duckdb", Some(session))
            .await
            .unwrap();
        assert_eq!(download.status(), StatusCode::OK);
        std::fs::write(&file, download.bytes().await.unwrap()).unwrap();
        let out = world.cli(&["streak", "--json"], &file);
        let cli: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(site_streak["current"]["days"], cli["current"]["days"]);
        assert_eq!(site_streak["longest"], cli["longest"]);
        assert_eq!(site_streak["qualifying_days"], cli["qualifying_days"]);
    }

    // a's single-runner database, with an override made in it, brought into a's account: the
    // ledger comes along once; b cannot bring a's database into theirs
    let file_a = world.dir.path().join("a.duckdb");
    world.cli(
        &["override", "2020-02-29", "--reason", "watch died"],
        &file_a,
    );
    let upload = |session: String| {
        let body = std::fs::read(&file_a).unwrap();
        world
            .http
            .post(format!("{}/account/import", world.url))
            .header(COOKIE, format!("mrs_session={session}"))
            .header(ORIGIN, &world.url)
            .body(body)
            .send()
    };
    let adopted = upload(session_a.clone()).await.unwrap();
    assert_eq!(adopted.status(), StatusCode::OK);
    let adopted: Value = adopted.json().await.unwrap();
    assert_eq!(adopted["entries"], 1, "{adopted}");
    let (_, ledger) = world.get_json("/api/v1/ledger", &session_a).await;
    assert!(ledger.to_string().contains("2020-02-29"), "{ledger}");
    let again: Value = upload(session_a.clone())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["entries"], 0, "{again}");
    let foreign = upload(session_b.clone()).await.unwrap();
    assert_eq!(foreign.status(), StatusCode::BAD_REQUEST);
    assert!(foreign.text().await.unwrap().contains("another runner"));
    let (_, ledger_b) = world.get_json("/api/v1/ledger", &session_b).await;
    assert!(!ledger_b.to_string().contains("2020-02-29"), "{ledger_b}");

    // another runner's ids are unreachable by any URL
    for id in ids_b.iter().take(3) {
        let (status, _) = world
            .get_json(&format!("/api/v1/runs/{id}"), &session_a)
            .await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "runner b's run {id} through a's session"
        );
    }
    let roster = world.roster().await;
    assert_eq!(roster["count"], 2);
    let id_b = roster["runners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["user_name"] == accounts[1]["userName"])
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for path in [
        format!("/r/{id_b}"),
        format!("/r/{id_b}/badge.svg"),
        format!("/runners/{id_b}/api/v1/runs"),
        format!("/api/v1/runs?runner={id_b}"),
    ] {
        let r = world.get(&path, Some(&session_a)).await.unwrap();
        let body = r.text().await.unwrap();
        assert!(
            !ids_b.iter().any(|id| body.contains(&id.to_string())),
            "{path} showed one of b's runs"
        );
    }

    // without a session: 401 on the API and the runner's pages, the landing page at /
    for path in [
        "/api/v1/streak",
        "/api/v1/runs",
        "/badge.svg",
        "/days/2026-01-01",
        "/account",
    ] {
        let r = world.get(path, None).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let landing = world.get("/", None).await.unwrap().text().await.unwrap();
    assert!(landing.contains("Sign in with SmashRun"));
    let forged = world
        .get("/api/v1/runs", Some("not-a-session"))
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);

    // a state-changing request with the cookie from another origin is refused
    let foreign = world
        .post(
            "/api/v1/sync",
            &session_a,
            Some("https://evil.example"),
            &[],
        )
        .await;
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    let no_origin = world
        .post(
            "/account/settings",
            &session_a,
            None,
            &[("time_zone", "UTC")],
        )
        .await;
    assert_eq!(no_origin.status(), StatusCode::FORBIDDEN);

    // a runner's settings are theirs: a bad zone is refused, a good one kept
    let bad = world
        .post(
            "/account/settings",
            &session_a,
            Some(&world.url),
            &[("time_zone", "Mars/Olympus")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad.text().await.unwrap().contains("IANA"));
    let good = world
        .post(
            "/account/settings",
            &session_a,
            Some(&world.url),
            &[("time_zone", "Asia/Tokyo")],
        )
        .await;
    assert_eq!(good.status(), StatusCode::OK);
    let (_, streak) = world.get_json("/api/v1/streak", &session_a).await;
    assert_eq!(streak["timezone"], "Asia/Tokyo");
    let (_, streak_b) = world.get_json("/api/v1/streak", &session_b).await;
    assert_ne!(streak_b["timezone"], "Asia/Tokyo");

    // public pages only for a runner who opted in: their page, badge, status.json and feed
    let form = [
        ("time_zone", "Asia/Tokyo"),
        ("handle", "ann-runs"),
        ("public", "on"),
    ];
    let opted = world
        .post("/account/settings", &session_a, Some(&world.url), &form)
        .await;
    assert_eq!(opted.status(), StatusCode::OK);
    let page = world.get("/r/ann-runs", None).await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let status = world.get("/r/ann-runs/status.json", None).await.unwrap();
    assert_eq!(status.status(), StatusCode::OK);
    let status: Value = status.json().await.unwrap();
    assert_eq!(
        status["current"]["days"], streak["current"]["days"],
        "{status}"
    );
    let feed = world.get("/r/ann-runs/streak.ics", None).await.unwrap();
    assert!(
        feed.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    assert!(feed.text().await.unwrap().starts_with("BEGIN:VCALENDAR"));
    let other = world.get("/r/ann-runs/runs.duckdb", None).await.unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let board = world
        .get("/leaderboard", None)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(board.contains("ann-runs"), "{board}");
    world
        .post(
            "/account/settings",
            &session_a,
            Some(&world.url),
            &form[..2],
        )
        .await;
    for path in [
        "/r/ann-runs",
        "/r/ann-runs/status.json",
        "/r/ann-runs/badge.svg",
    ] {
        let r = world.get(path, None).await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path} after opting out");
    }

    // a personal API token reaches the same runner's API without a cookie
    let made = world
        .post(
            "/account/tokens",
            &session_b,
            Some(&world.url),
            &[("label", "script")],
        )
        .await
        .text()
        .await
        .unwrap();
    let token = made
        .split("<pre id=\"token\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap()
        .to_owned();
    let via_token: Value = world
        .http
        .get(format!("{}/api/v1/runs?limit=1000", world.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(via_token.as_array().unwrap().len(), ids_b.len());
    let with_token = async |token: &str| {
        world
            .http
            .get(format!("{}/api/v1/streak", world.url))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .status()
    };

    // the account page lists it (by label, never the token), and only its runner revokes it
    let page = world
        .get("/account", Some(&session_b))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("script · created"), "{page}");
    assert!(
        !page.contains(&token),
        "the token itself is never shown again"
    );
    let listed = page
        .split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a revoke form")
        .to_owned();
    let foreign = world
        .post(
            "/account/tokens/revoke",
            &session_a,
            Some(&world.url),
            &[("token", &listed)],
        )
        .await;
    assert_eq!(foreign.status(), StatusCode::BAD_REQUEST);
    assert_eq!(with_token(&token).await, StatusCode::OK, "still b's");
    let revoked = world
        .post(
            "/account/tokens/revoke",
            &session_b,
            Some(&world.url),
            &[("token", &listed)],
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::OK);
    assert!(revoked.text().await.unwrap().contains("Token revoked."));
    assert_eq!(with_token(&token).await, StatusCode::UNAUTHORIZED);

    // sign-out ends the session
    let out = world
        .post("/auth/logout", &session_a, Some(&world.url), &[])
        .await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let after = world.get("/api/v1/runs", Some(&session_a)).await.unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);

    // no token is readable in plain text anywhere under ./data
    let mut secrets: Vec<String> = Vec::new();
    for account in [a, b] {
        let t = control(
            &world.sandbox,
            reqwest::Method::GET,
            &format!("/tokens?account={account}"),
            Value::Null,
        )
        .await;
        for key in ["access_tokens", "refresh_tokens"] {
            secrets.extend(
                t[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_owned()),
            );
        }
    }
    assert!(secrets.len() >= 4, "{secrets:?}");
    secrets.push(token.clone());
    let files = files_under(&world.data());
    assert!(files.iter().any(|f| f.ends_with("site.duckdb")));
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        for secret in &secrets {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{} holds a token in plain text",
                file.display()
            );
        }
    }
    assert!(
        !world.log().contains(&secrets[0]),
        "a token reached the log"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_replayed_and_foreign_callbacks_are_refused() {
    let world = SiteWorld::start(&[]).await;
    let accounts = world.accounts().await;
    let a = accounts[0]["id"].as_i64().unwrap();

    // a forged state
    let (callback, login_cookie) = world.authorize(a).await;
    let code = callback
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let forged = world
        .callback(
            &format!("{}/auth/callback?code={code}&state=forged", world.url),
            Some(&login_cookie),
        )
        .await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    // no state at all
    let missing = world
        .callback(
            &format!("{}/auth/callback?code={code}", world.url),
            Some(&login_cookie),
        )
        .await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);

    // the right state from another browser (no login cookie, or another one): refused, and the
    // state is then spent
    let foreign = world.callback(&callback, Some("another-browser")).await;
    assert_eq!(foreign.status(), StatusCode::BAD_REQUEST);
    let spent = world.callback(&callback, Some(&login_cookie)).await;
    assert_eq!(spent.status(), StatusCode::BAD_REQUEST);

    // a good sign-in works once; replaying its callback is refused
    let (callback, login_cookie) = world.authorize(a).await;
    let ok = world.callback(&callback, Some(&login_cookie)).await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert!(set_cookie(&ok, "mrs_session").is_some());
    let replayed = world.callback(&callback, Some(&login_cookie)).await;
    assert_eq!(replayed.status(), StatusCode::BAD_REQUEST);
    assert!(replayed.text().await.unwrap().contains("not valid"));

    // no account was made by the refused attempts
    let roster = world.roster().await;
    assert_eq!(roster["count"], 1);
    let refused = world.get("/admin", None).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_ups_stop_at_the_cap_and_a_deleted_account_leaves_nothing() {
    let world = SiteWorld::start(&[("MYRUNSTREAK_MAX_RUNNERS", "1")]).await;
    let accounts = world.accounts().await;
    let (a, b) = (
        accounts[0]["id"].as_i64().unwrap(),
        accounts[1]["id"].as_i64().unwrap(),
    );
    let session = world.sign_in(a).await;
    let (callback, login_cookie) = world.authorize(b).await;
    let full = world.callback(&callback, Some(&login_cookie)).await;
    assert_eq!(full.status(), StatusCode::FORBIDDEN);
    assert!(full.text().await.unwrap().contains("full"));

    let runners = world.data().join("runners");
    assert_eq!(std::fs::read_dir(&runners).unwrap().count(), 1);
    let unconfirmed = world
        .post(
            "/account/delete",
            &session,
            Some(&world.url),
            &[("confirm", "no")],
        )
        .await;
    assert_eq!(unconfirmed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(std::fs::read_dir(&runners).unwrap().count(), 1);
    let deleted = world
        .post(
            "/account/delete",
            &session,
            Some(&world.url),
            &[("confirm", "DELETE")],
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::OK);
    assert_eq!(std::fs::read_dir(&runners).unwrap().count(), 0);
    let after = world.get("/api/v1/streak", Some(&session)).await.unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    let roster = world.roster().await;
    assert_eq!(roster["count"], 0);
}

/// Assumption 13: a runner is their userinfo `id` for life. Under the readings that break it, no
/// runner's data is lost: without an `id`, sign-in is refused and no account is made; with a new
/// `id` at each sign-in, the runner gets a second account and the first keeps its mirror.
#[tokio::test(flavor = "multi_thread")]
async fn a_userinfo_without_a_lasting_id_makes_no_account_or_a_second_and_loses_nothing() {
    let world = SiteWorld::start(&[]).await;
    let a = world.accounts().await[0]["id"].as_i64().unwrap();
    let settings = |reading: &str| {
        control(
            &world.sandbox,
            reqwest::Method::PUT,
            "/settings",
            json!({ "userinfo_id": reading }),
        )
    };

    settings("missing").await;
    let (callback, login_cookie) = world.authorize(a).await;
    let refused = world.callback(&callback, Some(&login_cookie)).await;
    assert_eq!(refused.status(), StatusCode::BAD_GATEWAY, "{}", world.log());
    assert!(set_cookie(&refused, "mrs_session").is_none());
    assert_eq!(world.roster().await["count"], 0, "no account without an id");

    settings("per_token").await;
    let first = world.sign_in(a).await;
    let expected = sandbox_ids(&world, a).await;
    assert_eq!(run_ids(&world, &first).await, expected);
    let second = world.sign_in(a).await;
    assert_eq!(
        world.roster().await["count"],
        2,
        "a new id is a new account"
    );
    assert_eq!(run_ids(&world, &second).await, expected);
    assert_eq!(
        run_ids(&world, &first).await,
        expected,
        "the first account keeps its mirror"
    );
    let runners = world.data().join("runners");
    assert_eq!(std::fs::read_dir(&runners).unwrap().count(), 2);
}

/// Assumption 14: the app's hourly budget covers every runner's requests, those of a failed sync
/// included, and once it is spent the scheduler leaves runners for a later round.
#[tokio::test(flavor = "multi_thread")]
async fn the_app_budget_counts_failed_syncs_too_and_defers_runners_once_spent() {
    let world = SiteWorld::start(&[("MYRUNSTREAK_APP_REQUESTS_PER_HOUR", "5")]).await;
    let accounts = world.accounts().await;
    let (a, b) = (
        accounts[0]["id"].as_i64().unwrap(),
        accounts[1]["id"].as_i64().unwrap(),
    );
    world.sign_in(a).await;
    world.sign_in(b).await;
    assert_eq!(
        world.app_requests().await,
        4,
        "two first syncs, each the listing and SmashRun's count"
    );

    // a's sign-in is revoked on SmashRun: a's next sync fails, b's succeeds
    control(
        &world.sandbox,
        reqwest::Method::POST,
        &format!("/tokens/revoke?account={a}"),
        json!({}),
    )
    .await;
    let round = world.round_all().await;
    assert_eq!(
        (round["synced"].as_u64(), round["failed"].as_u64()),
        (Some(1), Some(1)),
        "{round}"
    );
    let succeeded = round["requests"].as_u64().unwrap();
    let used = world.app_requests().await;
    assert!(
        used > 4 + succeeded,
        "the failed sync's requests are charged too: {used} after {succeeded} of b's"
    );

    // the budget is spent: b waits for a later round, a for a new sign-in
    let round = world.round_all().await;
    assert_eq!(round["deferred"], 1, "{round}");
    assert_eq!(round["synced"], 0, "{round}");
    assert_eq!(round["need_sign_in"], 1, "{round}");
    assert_eq!(world.app_requests().await, used, "nothing sent");
}

/// Debian's Chromium, which scripts/test installs.
fn chromium() -> PathBuf {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
    .expect("no Chromium found: install Debian's `chromium` package (scripts/test does)")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_signs_in_and_sees_the_runners_dashboard() {
    let world = SiteWorld::start(&[]).await;
    let accounts = world.accounts().await;
    let a = &accounts[1];
    // the first sign-in makes the account and its mirror
    world.sign_in(a["id"].as_i64().unwrap()).await;
    control(
        &world.sandbox,
        reqwest::Method::POST,
        "/sign-in-as",
        json!({"account": a["id"]}),
    )
    .await;
    // the browser follows the whole flow itself: button, SmashRun, callback, dashboard
    let profile = tempfile::tempdir().unwrap();
    let mut chromium = Command::new(chromium());
    chromium
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("{}/auth/login", world.url));
    let out = tokio::task::spawn_blocking(move || chromium.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8(out.stdout).unwrap();
    let name = format!(
        "{} {}",
        a["firstName"].as_str().unwrap(),
        a["lastName"].as_str().unwrap()
    );
    let shown = maud_escaped(&name);
    assert!(dom.contains("id=\"runner-name\""), "{dom}");
    assert!(
        dom.contains(&shown),
        "the dashboard does not greet {name}: {dom}"
    );
    assert!(dom.contains("id=\"current-streak\""), "{dom}");
    assert!(!dom.contains("Sign in with SmashRun</a>"), "{dom}");
}

/// `text` as HTML shows it escaped (names may hold an apostrophe).
fn maud_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Reminders per runner: a runner sets their own times and ntfy topic on the account page; the
/// scheduler's round (here the operator's `POST /admin/round`) sends one reminder when their
/// streak is at risk, and none again for the same time; the other runner, without reminders,
/// gets nothing; the topic is sealed at rest and shown only by its host.
#[tokio::test(flavor = "multi_thread")]
async fn a_runner_s_reminder_goes_to_their_own_channel_once_and_stays_sealed() {
    // the first account (the classic runner) runs in New York every day until yesterday:
    // today is at risk
    let zone = jiff::tz::TimeZone::get("America/New_York").unwrap();
    let today = jiff::Timestamp::now().to_zoned_datetime(zone).date();
    let config = SandboxConfig {
        end: Some(today.yesterday().unwrap()),
        ..SiteWorld::sandbox_config()
    };
    let world = SiteWorld::start_with(config, &[]).await;
    let (ntfy, ntfy_addr) = common::Inbox::start(0).await;
    let topic = "streak-topic-0f3a9c";
    let channel = format!("ntfy+http://{ntfy_addr}/{topic}");
    let accounts = world.accounts().await;
    let ann = world.sign_in(accounts[0]["id"].as_i64().unwrap()).await;
    let bob = world.sign_in(accounts[1]["id"].as_i64().unwrap()).await;
    let origin = Some(world.url.as_str());

    // reminders need the runner's zone, and the site does not send mail
    let refused = world
        .post(
            "/account/reminders",
            &ann,
            origin,
            &[("times", "00:00"), ("channels", &channel)],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains("time zone"));
    let saved = world
        .post(
            "/account/settings",
            &ann,
            origin,
            &[("time_zone", "America/New_York")],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    let mail = world
        .post(
            "/account/reminders",
            &ann,
            origin,
            &[("times", "00:00"), ("channels", "mailto:ann@example.com")],
        )
        .await;
    assert_eq!(mail.status(), StatusCode::BAD_REQUEST);
    // a form from another site changes nothing
    let forged = world
        .post(
            "/account/reminders",
            &ann,
            Some("https://evil.example"),
            &[("times", "00:00"), ("channels", &channel)],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    // 00:00 has passed today in any zone: due at once
    let page = world
        .post(
            "/account/reminders",
            &ann,
            origin,
            &[("times", "00:00"), ("channels", &channel)],
        )
        .await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(
        page.contains(&format!("ntfy http://{ntfy_addr}/[redacted]")),
        "{page}"
    );
    assert!(!page.contains(topic), "the topic is never shown");

    let round = world.round_all().await;
    assert_eq!(round["reminders_due"], 1, "{round}");
    assert_eq!(round["reminders_sent"], 1, "{round} {}", world.log());
    let got = ntfy.delivered();
    assert_eq!(got.len(), 1);
    assert!(
        got[0].headers["title"]
            .to_str()
            .unwrap()
            .starts_with("Streak at risk")
    );
    assert!(got[0].body.contains("run"), "{}", got[0].body);

    // the same time is handled: nothing more, whatever the rounds
    let again = world.round_all().await;
    assert_eq!(again["reminders_due"], 0, "{again}");
    assert_eq!(ntfy.attempts(), 1);

    // the account page says what happened, by host only
    let account = world
        .get("/account", Some(&ann))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(account.contains("Last: "), "{account}");
    assert!(account.contains("sent to ntfy"), "{account}");
    assert!(!account.contains(topic));
    // Bob's page has no reminders
    let theirs = world
        .get("/account", Some(&bob))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        theirs.contains(r#"<p id="reminder-state">Off.</p>"#),
        "{theirs}"
    );

    // the topic is nowhere in plain text under ./data, nor in the log
    for file in files_under(&world.data()) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !bytes.windows(topic.len()).any(|w| w == topic.as_bytes()),
            "{} holds the topic in plain text",
            file.display()
        );
    }
    assert!(!world.log().contains(topic));

    // muted through today: a new time is due, handled without a post, and the page says so
    let muted = world
        .post(
            "/account/reminders/mute",
            &ann,
            origin,
            &[("until", &today.to_string())],
        )
        .await;
    assert_eq!(muted.status(), StatusCode::OK);
    assert!(
        muted
            .text()
            .await
            .unwrap()
            .contains(&format!("Muted up to and including {today}"))
    );
    let saved = world
        .post(
            "/account/reminders",
            &ann,
            origin,
            &[("times", "00:00,00:01")],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::OK);
    let round = world.round_all().await;
    assert_eq!(
        (
            round["reminders_due"].as_u64(),
            round["reminders_sent"].as_u64()
        ),
        (Some(1), Some(0)),
        "{round}"
    );
    assert_eq!(ntfy.attempts(), 1);
    let account = world
        .get("/account", Some(&ann))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        account.contains(&format!("00:01: muted through {today}")),
        "{account}"
    );
    assert!(
        account.contains("00:00,00:01 to ntfy"),
        "the channel was kept: {account}"
    );
    let unmuted = world
        .post("/account/reminders/mute", &ann, origin, &[("unmute", "on")])
        .await;
    assert!(!unmuted.text().await.unwrap().contains("Muted up to"));

    // turned off: no longer due
    let off = world
        .post("/account/reminders", &ann, origin, &[("off", "on")])
        .await;
    assert_eq!(off.status(), StatusCode::OK);
    assert!(
        off.text()
            .await
            .unwrap()
            .contains(r#"<p id="reminder-state">Off.</p>"#)
    );
}
