//! The dashboard in a real browser: headless Chromium (Debian's `chromium`, which
//! `scripts/test` installs) loads the page with JavaScript on. The streak number, the status
//! line and the 365 heatmap cells must be in the rendered DOM, a runner's `<script>` note must
//! not run, and a screenshot is saved to `artifacts/dashboard.png`.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::world_ending;
use serde_json::Value;

fn chromium() -> PathBuf {
    for candidate in [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ] {
        if std::path::Path::new(candidate).exists() {
            return candidate.into();
        }
    }
    panic!("no Chromium found: install Debian's `chromium` package (scripts/test does)");
}

fn headless(profile: &std::path::Path) -> Command {
    let mut c = Command::new(chromium());
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--virtual-time-budget=3000",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

#[tokio::test]
async fn the_dashboard_renders_in_chromium_and_runner_text_stays_text() {
    // a history that ends today, so the page shows a live streak
    let w = world_ending(None).await;
    let streak: Value = reqwest::get(format!("{}/api/v1/streak", w.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let days = streak["current"]["days"].as_u64().unwrap();
    assert!(days > 0);
    let profile = tempfile::tempdir().unwrap();
    let url = format!("{}/", w.base);

    let mut dump = headless(profile.path());
    dump.arg("--dump-dom").arg(&url);
    let out = tokio::task::spawn_blocking(move || dump.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8(out.stdout).unwrap();

    assert!(
        dom.contains(&format!("id=\"current-streak\">{days}<")),
        "the streak number"
    );
    let status = match streak["current"]["status"].as_str().unwrap() {
        "done" => "done for today",
        "at_risk" => "at risk: run",
        _ => "no current streak",
    };
    assert!(dom.contains(status), "the status line");
    assert_eq!(
        dom.matches("class=\"day ").count(),
        365,
        "365 heatmap cells"
    );
    assert!(
        !dom.contains("<title>PWNED</title>"),
        "the runner's <script> did not run"
    );
    assert!(
        dom.contains("&lt;script&gt;document.title"),
        "it is shown as text"
    );

    let artifacts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("dashboard.png");
    let _ = std::fs::remove_file(&shot);
    let mut screenshot = headless(profile.path());
    screenshot
        .arg("--window-size=1100,1800")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url);
    let out = tokio::task::spawn_blocking(move || screenshot.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "a real screenshot ({} bytes)",
        png.len()
    );
}
