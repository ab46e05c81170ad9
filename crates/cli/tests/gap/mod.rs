//! What the ledger suites (ledger, import, push) share: a runner whose streak a one-day gap broke,
//! the real binary run against the sandbox in a folder of its own, and a token file as
//! `auth login` writes it.
// each suite uses its own part of this module
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use jiff::civil::date;
use serde_json::{Value, json};
use smashrun_sandbox::{Client, Sandbox, SandboxConfig};

const BIN: &str = env!("CARGO_BIN_EXE_myrunstreak");

/// The sandbox and the runner's folder (`data/runs.duckdb`, `data/tokens.json`).
pub struct World {
    pub sandbox: Sandbox,
    pub dir: tempfile::TempDir,
    /// Settings every command of this world gets besides the common ones.
    pub env: Vec<(&'static str, &'static str)>,
}

/// A runner who ran 04-28 to 05-01 and on 05-03, 5 km at 07:00 in New York (UTC−4), and not on
/// 05-02; nothing signed in yet.
pub async fn world() -> World {
    let load: Vec<Value> = ["04-28", "04-29", "04-30", "05-01", "05-03"]
        .iter()
        .enumerate()
        .map(|(i, day)| {
            json!({
                "activityId": 100 + i,
                "activityType": "running",
                "startDateTimeLocal": format!("2026-{day}T07:00:00-04:00"),
                "distance": 5.0,
                "duration": 1800.0,
                "externalId": "",
            })
        })
        .collect();
    let config = SandboxConfig {
        end: Some(date(2026, 5, 3)),
        load: Some(load),
        clients: vec![Client {
            id: "e2e".into(),
            secret: "e2e-secret".into(),
            redirect_uris: vec!["http://127.0.0.1:9/callback".into()],
        }],
        ..SandboxConfig::default()
    };
    World {
        sandbox: Sandbox::start_on_free_port(config).await.unwrap(),
        dir: tempfile::tempdir().unwrap(),
        env: Vec::new(),
    }
}

impl World {
    pub fn db(&self) -> PathBuf {
        self.dir.path().join("data/runs.duckdb")
    }

    /// A request to the sandbox's control API; its JSON answer (null when none).
    pub async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        reqwest::Client::new()
            .request(method, format!("{}{}", self.sandbox.control_url(), path))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap_or(Value::Null)
    }

    /// `myrunstreak ARGS` with the world's settings and `env` on top.
    pub async fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new(BIN);
        c.args(args)
            .arg("--env-file")
            .arg(self.dir.path().join("no.env"))
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SMASHRUN_CLIENT_ID", "e2e")
            .env("SMASHRUN_CLIENT_SECRET", "e2e-secret")
            .env("SMASHRUN_REDIRECT_URI", "http://127.0.0.1:9/callback")
            .env("SMASHRUN_OAUTH_URL", self.sandbox.oauth_url())
            .env("SMASHRUN_API_URL", self.sandbox.api_url())
            .env("DUCKDB_PATH", self.db())
            .env(
                "MYRUNSTREAK_TOKEN_FILE",
                self.dir.path().join("data/tokens.json"),
            )
            .env("LOG_LEVEL", "warn")
            .envs(self.env.iter().copied())
            .envs(env.iter().copied())
            .stdin(Stdio::null());
        tokio::task::spawn_blocking(move || c.output().unwrap())
            .await
            .unwrap()
    }

    pub async fn run(&self, args: &[&str]) -> Output {
        self.run_with(args, &[]).await
    }

    /// `myrunstreak ARGS`, which must succeed; its standard output.
    pub async fn run_ok(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        assert!(
            out.status.success(),
            "{args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// `myrunstreak ARGS --json`, parsed.
    pub async fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        serde_json::from_str(&self.run_ok(&all).await).unwrap()
    }

    /// The current streak's length as of 2026-05-03, with `extra` flags.
    pub async fn current(&self, extra: &[&str]) -> u64 {
        let mut args = vec!["streak", "--as-of", "2026-05-03"];
        args.extend_from_slice(extra);
        self.json(&args).await["current"]["days"].as_u64().unwrap()
    }

    /// Writes a token file from the sandbox's control API, as `auth login` would: tokens for
    /// `scope` (the sandbox's default when `None`), the file saying its scope when `say_scope`.
    pub async fn seed_tokens(&self, scope: Option<&str>, say_scope: bool) {
        let mut request = json!({"client_id": "e2e"});
        if let Some(scope) = scope {
            request["scope"] = json!(scope);
        }
        let t = self
            .control(reqwest::Method::POST, "/tokens", request)
            .await;
        let now = jiff::Timestamp::now();
        let mut tokens = json!({
            "access_token": t["access_token"],
            "refresh_token": t["refresh_token"],
            "expires_at": (now + jiff::SignedDuration::from_secs(7_257_600)).to_string(),
            "issued_at": now.to_string(),
        });
        if say_scope && let Some(scope) = scope {
            tokens["scope"] = json!(scope);
        }
        let path = self.dir.path().join("data/tokens.json");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, tokens.to_string()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
}
