//! Test support shared by MyRunStreak's test suites. Not used by any program, and it may not
//! depend on a MyRunStreak crate.
//!
//! [`Moto`] runs moto's server (from PyPI; `scripts/test` installs it in
//! `~/.cache/myrunstreak/venv`, or set `MOTO_SERVER`) on a free loopback port for the life of the
//! value, so the real AWS SDK can be tested against the real wire protocol.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// moto's server on a free loopback port, stopped when dropped.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`: the endpoint override for the AWS SDK.
    pub url: String,
}

impl Moto {
    /// Starts moto and waits until it answers; panics with what to do when it is not installed.
    pub async fn start() -> Moto {
        let binary = std::env::var("MOTO_SERVER").unwrap_or_else(|_| {
            format!(
                "{}/.cache/myrunstreak/venv/bin/moto_server",
                std::env::var("HOME").unwrap_or_default()
            )
        });
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("its address")
            .port();
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {binary} ({e}): run scripts/test, which installs moto[server]")
            });
        // owned at once: on every path, dropping it stops and reaps the process
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        for _ in 0..200 {
            if reqwest::get(format!("{}/moto-api/", moto.url))
                .await
                .is_ok()
            {
                return moto;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("moto did not answer at {}", moto.url);
    }
}

/// A mail moto's SES took (it sends nothing: it keeps what it was asked to send).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentMail {
    /// The sender.
    pub from: String,
    /// The `To` addresses.
    pub to: Vec<String>,
    /// The subject.
    pub subject: String,
    /// The text body.
    pub body: String,
}

impl Moto {
    /// Every mail SES was asked to send, oldest first (from moto's `/moto-api/data.json`).
    pub async fn sent_mail(&self) -> Vec<SentMail> {
        let data: serde_json::Value = reqwest::get(format!("{}/moto-api/data.json", self.url))
            .await
            .expect("moto answers")
            .json()
            .await
            .expect("moto's data is JSON");
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        data["ses"]["Message"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|m| SentMail {
                from: text(&m["source"]),
                to: m["destinations"]["ToAddresses"]
                    .as_array()
                    .map(|a| a.iter().map(text).collect())
                    .unwrap_or_default(),
                subject: text(&m["subject"]),
                body: text(&m["body"]),
            })
            .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
