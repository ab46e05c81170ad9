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

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
