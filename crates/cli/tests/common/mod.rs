//! What the CLI suites share: the sandbox's runner with a year of runs, already signed in (a
//! token file in `data/` as `auth login` writes it), and the sandbox's control API.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use smashrun_sandbox::{Client, Sandbox, SandboxConfig};

/// A sandbox whose runner has a year of runs up to `end`, and a folder whose `data/tokens.json`
/// holds that runner's tokens (mode 0600).
pub async fn signed_in(end: Date) -> (Sandbox, tempfile::TempDir) {
    let mut config = SandboxConfig {
        years: 1,
        end: Some(end),
        auto_approve: true,
        ..SandboxConfig::default()
    };
    config.clients = vec![Client {
        id: "e2e".into(),
        secret: "e2e-secret".into(),
        redirect_uris: vec!["http://127.0.0.1:9/callback".into()],
    }];
    let sandbox = Sandbox::start_on_free_port(config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let t = control(
        &sandbox,
        reqwest::Method::POST,
        "/tokens",
        json!({"client_id": "e2e"}),
    )
    .await;
    let now = Timestamp::now();
    let tokens = json!({
        "access_token": t["access_token"],
        "refresh_token": t["refresh_token"],
        "expires_at": (now + SignedDuration::from_hours(24 * 60)).to_string(),
        "issued_at": now.to_string(),
    });
    let path = dir.path().join("data/tokens.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, tokens.to_string()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    (sandbox, dir)
}

/// A call to the sandbox's control API; `null` when it answers no JSON.
pub async fn control(sandbox: &Sandbox, method: reqwest::Method, path: &str, body: Value) -> Value {
    reqwest::Client::new()
        .request(method, format!("{}{}", sandbox.control_url(), path))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap_or(Value::Null)
}
