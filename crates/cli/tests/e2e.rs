//! End-to-end: the real `myrunstreak` binary against the sandbox over loopback, with real
//! DuckDB files.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use jiff::civil::date;
use serde_json::{Value, json};
use smashrun_sandbox::{Client, Faults, Sandbox, SandboxConfig};

const BIN: &str = env!("CARGO_BIN_EXE_myrunstreak");

struct World {
    sandbox: Sandbox,
    dir: tempfile::TempDir,
    redirect: String,
}

async fn world(years: u32) -> World {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let mut config = SandboxConfig {
        years,
        end: Some(date(2026, 5, 3)),
        auto_approve: true,
        ..SandboxConfig::default()
    };
    config.clients = vec![Client {
        id: "e2e".into(),
        secret: "e2e-secret".into(),
        redirect_uris: vec![redirect.clone()],
    }];
    World {
        sandbox: Sandbox::start_on_free_port(config).await.unwrap(),
        dir: tempfile::tempdir().unwrap(),
        redirect,
    }
}

impl World {
    fn db(&self) -> PathBuf {
        self.dir.path().join("data/runs.duckdb")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        self.cmd_with_db(args, &self.db())
    }

    fn cmd_with_db(&self, args: &[&str], db: &Path) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .arg("--env-file")
            .arg(self.dir.path().join("no.env"))
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SMASHRUN_CLIENT_ID", "e2e")
            .env("SMASHRUN_CLIENT_SECRET", "e2e-secret")
            .env("SMASHRUN_REDIRECT_URI", &self.redirect)
            .env("SMASHRUN_OAUTH_URL", self.sandbox.oauth_url())
            .env("SMASHRUN_API_URL", self.sandbox.api_url())
            .env("DUCKDB_PATH", db)
            .env(
                "MYRUNSTREAK_TOKEN_FILE",
                self.dir.path().join("data/tokens.json"),
            )
            .env("LOG_LEVEL", "warn")
            .stdin(Stdio::null());
        c
    }

    async fn run(&self, args: &[&str]) -> Output {
        let mut c = self.cmd(args);
        tokio::task::spawn_blocking(move || c.output().unwrap())
            .await
            .unwrap()
    }

    async fn run_ok(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        assert!(
            out.status.success(),
            "{args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let r = reqwest::Client::new()
            .request(method, format!("{}{}", self.sandbox.control_url(), path))
            .json(&body)
            .send()
            .await
            .unwrap();
        r.json().await.unwrap_or(Value::Null)
    }

    /// Logs in the way a person would, with an HTTP client as the browser.
    async fn login(&self) -> String {
        let mut child = self
            .cmd(&["auth", "login", "--no-browser", "--timeout", "30"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (url, rest) = tokio::task::spawn_blocking(move || {
            let mut lines = BufReader::new(stdout).lines();
            let url = loop {
                let line = lines.next().expect("the login prints an address").unwrap();
                if let Some(u) = line.trim().strip_prefix("http") {
                    break format!("http{u}");
                }
            };
            (url, lines)
        })
        .await
        .unwrap();
        let page = reqwest::get(&url).await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(page.text().await.unwrap().contains("connected to SmashRun"));
        let rest: Vec<String> =
            tokio::task::spawn_blocking(move || rest.map(|l| l.unwrap()).collect())
                .await
                .unwrap();
        let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap();
        assert!(status.success());
        rest.join("\n")
    }

    async fn fingerprint(&self, db: &Path) -> String {
        let db = db.to_owned();
        tokio::task::spawn_blocking(move || {
            myrunstreak_app::Mirror::open(&db)
                .unwrap()
                .fingerprint()
                .unwrap()
        })
        .await
        .unwrap()
    }

    async fn sync_json(&self, args: &[&str]) -> Value {
        let mut all = vec!["sync", "--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.run_ok(&all).await).unwrap()
    }
}

#[tokio::test]
async fn login_full_sync_then_staged_changes_arrive_incrementally() {
    let w = world(3).await;
    let greeting = w.login().await;
    assert!(greeting.contains("Hello, Sam!"), "{greeting}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(w.dir.path().join("data/tokens.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let status = w.run_ok(&["auth", "status"]).await;
    assert!(
        status.contains("Signed in as Sam") && status.contains("Refresh due"),
        "{status}"
    );

    let first = w.sync_json(&[]).await;
    assert_eq!(first["mode"]["mode"], "full", "no history yet: a full sync");
    let total = first["total_runs"].as_u64().unwrap();
    assert!(total > 900, "{first}");
    assert_eq!(first["counts"]["added"].as_u64().unwrap(), total);
    assert!(first["requests"].as_u64().unwrap() <= 3);

    let again = w.sync_json(&[]).await;
    assert_eq!(again["mode"]["mode"], "incremental");
    assert_eq!(again["counts"]["added"], 0);
    assert_eq!(again["counts"]["updated"], 0);
    assert_eq!(again["counts"]["deleted"], 0);
    // changes, ids, and SmashRun's runCount that verifies the ids (issue 11)
    assert!(again["requests"].as_u64().unwrap() <= 3, "{again}");

    // stage a week on SmashRun: a late upload of last week's run, an edit of an old one, a deletion
    let runs: Value =
        serde_json::from_str(&w.run_ok(&["runs", "--json", "--limit", "500"]).await).unwrap();
    let runs = runs.as_array().unwrap();
    for key in [
        "activity_id",
        "start_local",
        "date",
        "distance_km",
        "duration_s",
        "source",
        "is_treadmill",
        "deleted",
    ] {
        assert!(runs[0].get(key).is_some(), "runs --json has {key}");
    }
    let old = runs.last().unwrap()["activity_id"].as_i64().unwrap();
    let gone = runs[3]["activity_id"].as_i64().unwrap();
    let late = w
        .control(
            reqwest::Method::POST,
            "/runs",
            json!({"startDateTimeLocal": "2026-04-27T06:45:00-04:00", "distance": 8.04672}),
        )
        .await;
    let late_id = late["activityId"].as_i64().unwrap();
    w.control(
        reqwest::Method::PATCH,
        &format!("/runs/{old}"),
        json!({"notes": "found my watch data", "distance": 12.5}),
    )
    .await;
    let r = reqwest::Client::new()
        .delete(format!("{}/runs/{gone}", w.sandbox.control_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    let inc = w.sync_json(&[]).await;
    assert_eq!(inc["counts"]["added"], 1, "{inc}");
    assert_eq!(inc["counts"]["updated"], 1, "{inc}");
    assert_eq!(inc["counts"]["deleted"], 1, "{inc}");
    assert!(inc["requests"].as_u64().unwrap() <= 3, "{inc}");

    let late_run: Value =
        serde_json::from_str(&w.run_ok(&["run", &late_id.to_string(), "--json"]).await).unwrap();
    assert_eq!(late_run["date"], "2026-04-27");
    assert_eq!(late_run["distance_km"], 8.04672);
    let edited: Value =
        serde_json::from_str(&w.run_ok(&["run", &old.to_string(), "--json"]).await).unwrap();
    assert_eq!(edited["distance_km"], 12.5);
    assert_eq!(edited["raw"]["notes"], "found my watch data");
    let deleted: Value =
        serde_json::from_str(&w.run_ok(&["run", &gone.to_string(), "--json"]).await).unwrap();
    assert_eq!(deleted["deleted"], true, "kept, marked deleted");

    // a full sync of the same history changes nothing more
    let full = w.sync_json(&["--full"]).await;
    assert_eq!(
        (
            full["counts"]["added"].as_u64(),
            full["counts"]["updated"].as_u64(),
            full["counts"]["deleted"].as_u64()
        ),
        (Some(0), Some(0), Some(0))
    );

    let streak: Value = serde_json::from_str(
        &w.run_ok(&["streak", "--json", "--as-of", "2026-05-03"])
            .await,
    )
    .unwrap();
    for key in ["current", "longest", "rule", "as_of"] {
        assert!(streak.get(key).is_some(), "{streak}");
    }
    assert_eq!(streak["as_of"], "2026-05-03");
    // the deleted run may have been the only one of its day: the streak is judged on what is left
    assert!(
        streak["longest"]["days"].as_u64().unwrap() > 100,
        "{streak}"
    );
    assert!(streak["current"]["days"].as_u64().unwrap() >= 1, "{streak}");

    let logout = w.run_ok(&["auth", "logout"]).await;
    assert!(logout.contains("smashrun.com/settings/api"));
    let out = w.run(&["sync"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("auth login"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes a token file from the sandbox's control API, as `auth login` would.
async fn seed_tokens(w: &World) {
    let t = w
        .control(
            reqwest::Method::POST,
            "/tokens",
            json!({"client_id": "e2e"}),
        )
        .await;
    let now = jiff::Timestamp::now();
    let tokens = json!({
        "access_token": t["access_token"],
        "refresh_token": t["refresh_token"],
        "expires_at": (now + jiff::SignedDuration::from_secs(7_257_600)).to_string(),
        "issued_at": now.to_string(),
    });
    let path = w.dir.path().join("data/tokens.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, tokens.to_string()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

#[tokio::test]
async fn under_faults_and_rate_limits_the_database_equals_the_fault_free_one() {
    let w = world(4).await;
    seed_tokens(&w).await;
    let clean = w.dir.path().join("clean.duckdb");
    let mut c = w.cmd_with_db(&["sync", "--full"], &clean);
    let out = tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let faults = Faults {
        ..Faults::all(5, 0.2)
    };
    w.control(
        reqwest::Method::PUT,
        "/faults",
        serde_json::to_value(&faults).unwrap(),
    )
    .await;
    w.control(
        reqwest::Method::PUT,
        "/limits",
        json!({"enabled": true, "per_hour": 250, "per_10s": 80}),
    )
    .await;
    w.run_ok(&["sync", "--full"]).await;
    w.run_ok(&["sync"]).await;
    w.run_ok(&["sync", "--year", "2025"]).await;
    assert_eq!(w.fingerprint(&w.db()).await, w.fingerprint(&clean).await);
    let stats: Value = reqwest::get(format!("{}/stats", w.sandbox.control_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["rate_limited"], 0, "{stats}");
}

#[tokio::test]
async fn a_sync_killed_at_any_moment_is_finished_by_the_next_one() {
    let w = world(4).await;
    seed_tokens(&w).await;
    let clean = w.dir.path().join("clean.duckdb");
    let mut c = w.cmd_with_db(&["sync", "--full"], &clean);
    let out = tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap();
    assert!(out.status.success());

    // slow answers, so that the kills land while fetching as well as while writing
    w.control(reqwest::Method::PUT, "/faults", json!({"latency_ms": 150}))
        .await;
    for delay_ms in [50u64, 200, 400, 700, 1200] {
        let mut child = w
            .cmd(&["sync", "--full"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        child.kill().unwrap(); // SIGKILL
        let _ = tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap();
    }
    w.control(reqwest::Method::PUT, "/faults", json!({})).await;
    let report = w.sync_json(&[]).await;
    assert_eq!(report["counts"]["deleted"], 0, "{report}");
    assert_eq!(
        w.fingerprint(&w.db()).await,
        w.fingerprint(&clean).await,
        "same database as an uninterrupted sync"
    );
    let runs: Value =
        serde_json::from_str(&w.run_ok(&["runs", "--json", "--limit", "100000"]).await).unwrap();
    let ids: Vec<i64> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["activity_id"].as_i64().unwrap())
        .collect();
    let unique: std::collections::BTreeSet<i64> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "no duplicates");
}

#[tokio::test]
async fn two_syncs_at_once_one_succeeds_and_the_other_says_why_it_stopped() {
    let w = world(2).await;
    seed_tokens(&w).await;
    w.run_ok(&["sync", "--full"]).await;
    w.control(reqwest::Method::PUT, "/faults", json!({"latency_ms": 1500}))
        .await;
    let first = w
        .cmd(&["sync", "--full"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    let started = std::time::Instant::now();
    let second = w.run(&["sync"]).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the second sync does not wait"
    );
    assert_eq!(second.status.code(), Some(1));
    let message = String::from_utf8_lossy(&second.stderr);
    assert!(
        message.contains("in use by another MyRunStreak process"),
        "{message}"
    );
    let first = tokio::task::spawn_blocking(move || first.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
}

#[tokio::test]
async fn errors_a_user_can_act_on() {
    let w = world(1).await;
    // no client id
    let mut c = w.cmd(&["auth", "login", "--no-browser"]);
    c.env_remove("SMASHRUN_CLIENT_ID");
    let out = tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("register"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // a database file that is not DuckDB is refused and untouched
    std::fs::create_dir_all(w.db().parent().unwrap()).unwrap();
    std::fs::write(w.db(), b"not a database").unwrap();
    seed_tokens(&w).await;
    let out = w.run(&["sync"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a DuckDB database"));
    assert_eq!(std::fs::read(w.db()).unwrap(), b"not a database");
    // usage errors exit 2
    assert_eq!(
        w.run(&["sync", "--full", "--year", "2024"])
            .await
            .status
            .code(),
        Some(2)
    );
    // unreachable SmashRun
    std::fs::remove_file(w.db()).unwrap();
    let mut c = w.cmd(&["sync"]);
    c.env("SMASHRUN_API_URL", "http://127.0.0.1:9/v1");
    let out = tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("could not reach SmashRun"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // config never shows secrets
    let config = w.run_ok(&["config"]).await;
    assert!(
        config.contains("SMASHRUN_CLIENT_SECRET=[set, redacted]") && !config.contains("e2e-secret"),
        "{config}"
    );
}

#[tokio::test]
async fn a_laptop_seeds_the_secret_the_lambda_uses() {
    let w = world(1).await;
    let aws = myrunstreak_testkit::Moto::start().await;
    let token = w.control(reqwest::Method::POST, "/tokens", json!({})).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let with_aws = |args: &[&str]| {
        let mut c = w.cmd(args);
        c.args(["--token-store", "aws"])
            .env("AWS_ENDPOINT_URL", &aws.url)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1");
        c
    };
    let mut seed = with_aws(&["auth", "token", &token]);
    let out = tokio::task::spawn_blocking(move || seed.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("AWS Secrets Manager secret myrunstreak/smashrun/tokens")
    );
    assert!(
        !w.dir.path().join("data/tokens.json").exists(),
        "nothing written locally"
    );
    let mut sync = with_aws(&["sync", "--json"]);
    let out = tokio::task::spawn_blocking(move || sync.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["total_runs"].as_u64().unwrap() > 200);
}

#[tokio::test]
async fn streak_why_weekly_and_goals_print_what_the_api_serves() {
    let w = world(1).await;
    seed_tokens(&w).await;
    w.run_ok(&["sync"]).await;

    // the same binary serving the same file with the same settings
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bind = format!("127.0.0.1:{port}");
    let mut server = w
        .cmd(&["serve", "--bind", &bind])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://{bind}");
    let mut up = false;
    for _ in 0..100 {
        if reqwest::get(format!("{base}/healthz")).await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "myrunstreak serve answers on {base}");

    for (date, extra) in [
        ("2026-05-02", vec![]),
        ("2026-04-11", vec!["--rule", "continuous"]),
    ] {
        let mut args = vec!["streak", "why", date, "--as-of", "2026-05-03", "--json"];
        args.extend(&extra);
        let cli: Value = serde_json::from_str(&w.run_ok(&args).await).unwrap();
        let rule = if extra.is_empty() { "usrsa" } else { extra[1] };
        let api: Value = reqwest::get(format!(
            "{base}/api/v1/days/{date}?as_of=2026-05-03&rule={rule}"
        ))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        assert_eq!(cli, api, "streak why --json prints what the API serves");
        assert_eq!(cli["date"], date);
        assert_eq!(cli["rule"], rule);
        assert!(cli["runs"].is_array() && cli["reason"].is_string(), "{cli}");

        let mut args = vec!["streak", "why", date, "--as-of", "2026-05-03"];
        args.extend(&extra);
        let text = w.run_ok(&args).await;
        assert!(
            text.contains(cli["reason"].as_str().unwrap()) && text.contains("Total: "),
            "{text}"
        );
    }
    // weekly streaks and goals: the CLI's --json is the API's answer, the text says the same
    let get = async |path: String| -> Value {
        reqwest::get(format!("{base}{path}"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    };
    let cli: Value = serde_json::from_str(
        &w.run_ok(&[
            "streak",
            "--weekly",
            "3runs",
            "--as-of",
            "2026-05-03",
            "--json",
        ])
        .await,
    )
    .unwrap();
    let api = get("/api/v1/streak/period?rule=3runs/week&as_of=2026-05-03".into()).await;
    assert_eq!(
        cli, api,
        "streak --weekly --json prints what the API serves"
    );
    assert_eq!(cli["current_period"]["start"], "2026-04-27");
    let args = [
        "goals",
        "--period",
        "12runs/month",
        "--target",
        "300runs",
        "--as-of",
        "2026-05-03",
    ];
    let cli: Value =
        serde_json::from_str(&w.run_ok(&[&args[..], &["--json"]].concat()).await).unwrap();
    let api = get("/api/v1/goals?period=12runs/month&target=300runs&as_of=2026-05-03".into()).await;
    assert_eq!(cli, api, "goals --json prints what the API serves");
    assert_eq!(cli["year"]["days_elapsed"], 123);
    let text = w.run_ok(&args).await;
    let done = cli["year"]["done"]["runs"].as_u64().unwrap();
    assert!(
        text.contains(&format!("2026 goal: {done} runs of 300 runs"))
            && text.contains("pace line")
            && text.contains("every month"),
        "{text}"
    );
    let _ = server.kill();
    let _ = server.wait();

    // a bad date is a usage error that says what a date looks like
    let out = w.run(&["streak", "why", "2026-02-30"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("YYYY-MM-DD"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // `streak`'s own flags work as before, and apply to `why` given before it
    let streak: Value = serde_json::from_str(
        &w.run_ok(&["streak", "--rule", "any", "--json", "--as-of", "2026-05-03"])
            .await,
    )
    .unwrap();
    assert_eq!(streak["rule"], "any");
    assert!(streak["current"]["days"].is_u64(), "{streak}");
    assert!(
        streak.get("verdict").is_none(),
        "the streak, not a day: {streak}"
    );
    let before = w
        .run_ok(&[
            "streak",
            "--rule",
            "any",
            "--json",
            "--as-of",
            "2026-05-03",
            "why",
            "2026-05-02",
        ])
        .await;
    let after = w
        .run_ok(&[
            "streak",
            "why",
            "2026-05-02",
            "--rule",
            "any",
            "--json",
            "--as-of",
            "2026-05-03",
        ])
        .await;
    assert_eq!(before, after);
    let before: Value = serde_json::from_str(&before).unwrap();
    assert_eq!(before["rule"], "any");
    assert_eq!(before["date"], "2026-05-02");
}
