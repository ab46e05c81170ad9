//! `myrunstreak demo` ends by serving the demo runner's dashboard, as the README promises.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn the_demo_ends_serving_the_dashboard_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_myrunstreak"))
        .args([
            "demo",
            "--years",
            "1",
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir.path().join("demo"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let started = Instant::now();
    let mut address = None;
    let mut said = String::new();
    for line in stdout.lines() {
        let line = line.unwrap();
        said.push_str(&line);
        said.push('\n');
        if let Some(rest) = line.split("dashboard: ").nth(1) {
            address = rest.split_whitespace().next().map(str::to_owned);
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "{said}");
    }
    let address = address.unwrap_or_else(|| panic!("no dashboard address in:\n{said}"));
    assert!(said.contains("Current streak"), "{said}");
    let page = std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let response = reqwest::get(&address).await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        })
    })
    .join()
    .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(page.0, 200);
    assert!(
        page.1.contains("id=\"current-streak\""),
        "the dashboard page"
    );
}
