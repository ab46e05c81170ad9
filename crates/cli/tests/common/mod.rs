//! What the CLI suites share: the sandbox's runner with a year of runs, already signed in (a
//! token file in `data/` as `auth login` writes it), the sandbox's control API, and a local
//! receiver of reminders. Each suite uses part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
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

/// One request a receiver got, and what it answered.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: String,
    pub status: u16,
}

/// A local HTTP receiver that answers 503 to its first `fail_first` requests.
#[derive(Clone, Default)]
pub struct Inbox {
    got: Arc<Mutex<Vec<Received>>>,
    fail_first: Arc<AtomicU32>,
}

impl Inbox {
    pub async fn start(fail_first: u32) -> (Inbox, SocketAddr) {
        let inbox = Inbox::default();
        inbox.fail_first.store(fail_first, Ordering::SeqCst);
        let app = axum::Router::new()
            .fallback(
                |State(inbox): State<Inbox>, headers: HeaderMap, body: String| async move {
                    let failing = inbox
                        .fail_first
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                    let status = if failing {
                        StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        StatusCode::OK
                    };
                    inbox.got.lock().unwrap().push(Received {
                        headers,
                        body,
                        status: status.as_u16(),
                    });
                    status
                },
            )
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (inbox, addr)
    }

    pub fn delivered(&self) -> Vec<Received> {
        self.got
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.status == 200)
            .cloned()
            .collect()
    }

    pub fn attempts(&self) -> usize {
        self.got.lock().unwrap().len()
    }
}
