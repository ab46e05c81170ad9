//! The dashboard in a real browser: headless Chromium (Debian's `chromium`, which
//! `scripts/test` installs) loads the page with JavaScript on. The streak number, the status
//! line and the 365 heatmap cells must be in the rendered DOM, a runner's `<script>` note must
//! not run, and a screenshot is saved to `artifacts/dashboard.png`. A click on a heatmap day
//! must open that day's audit.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{server_config, world_ending};
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

/// The DOM of `url` once Chromium has run its scripts (`--dump-dom`), with a profile in
/// `profile`.
async fn dump_dom(profile: &std::path::Path, url: String) -> String {
    let mut dump = headless(profile);
    dump.arg("--dump-dom").arg(url);
    let out = tokio::task::spawn_blocking(move || dump.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Serves the dashboard of `db` with `harness` at `/test-harness` on the same origin (so its
/// script may reach into the dashboard's frame); the harness's URL.
async fn serve_with_harness(db: &std::path::Path, harness: String) -> String {
    let app = axum::Router::new()
        .route(
            "/test-harness",
            axum::routing::get(move || async move { axum::response::Html(harness) }),
        )
        .merge(myrunstreak_server::router(server_config(db, None, None)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(myrunstreak_server::serve(
        listener,
        app,
        std::future::pending(),
    ));
    format!("http://{addr}/test-harness")
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

    let dom = dump_dom(profile.path(), url.clone()).await;

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

#[tokio::test]
async fn the_dashboard_shows_the_year_goal_against_its_pace_line_and_the_weekly_streak() {
    let w = world_ending(None).await;
    let mut config = server_config(&w.db, None, None);
    config.goals = myrunstreak_app::Goals {
        period: Some("3runs/week".parse().unwrap()),
        year: Some("600runs".parse().unwrap()),
    };
    let base = common::start(config).await;
    let goals: Value = reqwest::get(format!("{base}/api/v1/goals"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let year = &goals["year"];
    let fraction = year["fraction"].as_f64().unwrap();
    assert!(
        fraction > 0.0 && fraction < 1.0,
        "a goal in progress: {goals}"
    );
    let pace = year["days_elapsed"].as_f64().unwrap() / year["days_in_year"].as_f64().unwrap();
    let weeks = goals["period"]["current"]["periods"].as_u64().unwrap_or(0);

    let profile = tempfile::tempdir().unwrap();
    let dom = dump_dom(profile.path(), format!("{base}/")).await;

    let goal_section = dom
        .split("id=\"year-goal\"")
        .nth(1)
        .expect("the year goal is on the page");
    assert!(
        goal_section.contains(&format!("aria-valuenow=\"{:.0}\"", fraction * 100.0)),
        "the progress bar carries the share done"
    );
    // the browser writes styles back as `width: 12.3%;`
    let styles = goal_section.replace(' ', "");
    assert!(
        styles.contains(&format!("width:{:.1}%", fraction * 100.0)),
        "the bar is as long as the share done"
    );
    assert!(
        styles.contains(&format!("left:{:.1}%", pace * 100.0)),
        "the pace line stands at the share of the year gone"
    );
    assert!(
        goal_section.contains("pace line"),
        "the standing is said in words"
    );
    assert!(
        dom.contains(&format!("id=\"period-count\">{weeks}<")),
        "the weekly streak's count"
    );
    assert!(dom.contains("Weekly streak"), "the weekly streak's heading");
    assert!(
        dom.contains("Streak of at least 3 runs every week from Monday"),
        "the weekly rule in words"
    );
}

/// A page of the dashboard's own origin that loads the dashboard in a frame, clicks the heatmap
/// cell of `DATE` there like a runner would, and copies the page the click opened into its own
/// body, with that page's path, for `--dump-dom` to print.
const CLICK_HARNESS: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>harness</title></head><body>
<iframe id="app" src="/" width="1100" height="1200"></iframe>
<div id="result">not clicked</div>
<script>
const frame = document.getElementById('app');
const result = document.getElementById('result');
let clicked = false;
frame.addEventListener('load', () => {
  const doc = frame.contentDocument;
  if (!clicked) {
    const cell = doc.querySelector('#heatmap rect[data-date="DATE"]');
    if (!cell) { result.textContent = 'no heatmap cell for DATE'; return; }
    clicked = true;
    const box = cell.getBoundingClientRect();
    cell.dispatchEvent(new frame.contentWindow.MouseEvent('click', {
      bubbles: true, cancelable: true, view: frame.contentWindow, button: 0,
      clientX: box.x + box.width / 2, clientY: box.y + box.height / 2,
    }));
  } else {
    result.setAttribute('data-path', frame.contentWindow.location.pathname);
    result.setAttribute('data-title', doc.title);
    result.innerHTML = doc.querySelector('main').innerHTML;
  }
});
</script>
</body></html>"#;

#[tokio::test]
async fn clicking_a_heatmap_day_opens_that_day_s_audit() {
    // a history that ends today; the runner's note is on today's run
    let w = world_ending(None).await;
    let streak: Value = reqwest::get(format!("{}/api/v1/streak", w.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let today = streak["as_of"].as_str().unwrap().to_owned();
    let audit: Value = reqwest::get(format!("{}/api/v1/days/{today}", w.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!audit["runs"].as_array().unwrap().is_empty(), "{audit}");

    // the dashboard's router, with the harness beside it on the same origin
    let harness = CLICK_HARNESS.replace("DATE", &today);
    let harness_url = serve_with_harness(&w.db, harness).await;

    let profile = tempfile::tempdir().unwrap();
    let dom = dump_dom(profile.path(), harness_url).await;
    assert!(
        dom.contains(&format!("data-path=\"/days/{today}\"")),
        "the click opened /days/{today}: {dom}"
    );
    assert!(
        dom.contains(&format!("data-date=\"{today}\"")) && dom.contains("id=\"day-runs\""),
        "that day's audit is shown: {dom}"
    );
    let reason = audit["reason"].as_str().unwrap();
    let reason_html = reason
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    assert!(
        dom.contains(&reason_html),
        "the verdict, as the API gives it: {reason}"
    );
    assert!(
        dom.contains("&lt;script&gt;document.title"),
        "the runner's note, as text"
    );
    assert!(!dom.contains("PWNED</title>") && !dom.contains("data-title=\"PWNED"));
}

/// Reads the computed look of three heatmap cells once the dashboard has loaded.
const STYLE_HARNESS: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>harness</title></head><body>
<iframe id="app" src="/" width="1100" height="1200"></iframe>
<div id="result">not loaded</div>
<script>
const frame = document.getElementById('app');
const result = document.getElementById('result');
frame.addEventListener('load', () => {
  const doc = frame.contentDocument;
  const look = (date) => {
    const cell = doc.querySelector('#heatmap rect[data-date="' + date + '"]');
    if (!cell) { return 'missing'; }
    const s = frame.contentWindow.getComputedStyle(cell);
    return [cell.getAttribute('class'), s.fill, s.stroke, s.strokeWidth].join('|');
  };
  result.setAttribute('data-override', look('OVERRIDE'));
  result.setAttribute('data-run', look('RUN'));
  result.setAttribute('data-ledger', look('LEDGER'));
  result.textContent = 'loaded';
});
</script></body></html>"#;

#[tokio::test]
async fn an_override_day_and_a_ledger_run_day_look_different_from_a_run_day() {
    let w = world_ending(None).await;
    let http = reqwest::Client::new();
    // the generated runner never rests: take the runs of two days of last month away, as a sync
    // would mark them deleted
    {
        let mut store = myrunstreak_store::Store::open(&w.db, jiff::Timestamp::now()).unwrap();
        let runs = store.domain_runs().unwrap();
        let last = runs.iter().map(|r| r.start.date()).max().unwrap();
        let gone: Vec<i64> = runs
            .iter()
            .filter(|r| {
                let ago = (last - r.start.date()).get_days();
                ago == 30 || ago == 33
            })
            .map(|r| r.id.get())
            .collect();
        assert!(!gone.is_empty());
        store.mark_deleted(&gone, jiff::Timestamp::now()).unwrap();
    }
    let calendar: Value = reqwest::get(format!("{}/api/v1/calendar", w.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let days = calendar["days"].as_array().unwrap();
    let of_kind = |kind: &str| -> Vec<String> {
        days.iter()
            .filter(|d| d["kind"] == kind)
            .map(|d| d["date"].as_str().unwrap().to_owned())
            .collect()
    };
    let rest = of_kind("rest");
    assert!(rest.len() >= 2, "the generated runner rests some days");
    let run_day = of_kind("qualified").pop().unwrap();
    let (override_day, ledger_day) = (rest[0].clone(), rest[1].clone());

    // both entries through the API, behind its token
    let post = |body: Value, token: Option<&'static str>| {
        let mut r = http.post(format!("{}/api/v1/ledger", w.base)).json(&body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    let body =
        serde_json::json!({"kind": "override", "date": override_day, "reason": "watch died"});
    assert_eq!(post(body.clone(), None).await.unwrap().status(), 401);
    let r = post(body.clone(), Some(common::API_TOKEN)).await.unwrap();
    assert_eq!(r.status(), 201);
    let added: Value = r.json().await.unwrap();
    assert_eq!(added["entry"]["reason"], "watch died");
    assert_eq!(added["day"], override_day.as_str());
    assert_eq!(
        post(body, Some(common::API_TOKEN)).await.unwrap().status(),
        409,
        "one override a day"
    );
    let run =
        serde_json::json!({"kind": "run", "date": ledger_day, "distance_km": 2.0, "time": "06:40"});
    assert_eq!(
        post(run, Some(common::API_TOKEN)).await.unwrap().status(),
        201
    );
    let ledger: Value = reqwest::get(format!("{}/api/v1/ledger", w.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ledger["entries"].as_array().unwrap().len(), 2);

    // the API marks the days, and ledger=false gives the mirror-only figure back
    let kind_of = async |query: &str, date: &str| -> Value {
        let c: Value = reqwest::get(format!("{}/api/v1/calendar{query}", w.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        c["days"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["date"] == date)
            .cloned()
            .unwrap()
    };
    assert_eq!(kind_of("", &override_day).await["kind"], "override");
    assert_eq!(
        kind_of("?ledger=false", &override_day).await["kind"],
        "rest"
    );
    assert_eq!(kind_of("", &ledger_day).await["ledger_runs"], 1);
    assert_eq!(kind_of("?ledger=false", &ledger_day).await["kind"], "rest");
    let audit: Value = reqwest::get(format!("{}/api/v1/days/{override_day}", w.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(audit["verdict"], "override");
    assert!(
        audit["reason"]
            .as_str()
            .unwrap()
            .starts_with("Counted by an override: watch died."),
        "{audit}"
    );

    let page = reqwest::get(format!("{}/days/{override_day}", w.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(">Counted by an override<") && page.contains("watch died"),
        "{page}"
    );
    let page = reqwest::get(format!("{}/days/{ledger_day}", w.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("(ledger entry 2)"), "{page}");

    // the dashboard lists the ledger with each entry's source
    let page = reqwest::get(format!("{}/", w.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let section = &page[page.find("id=\"ledger\"").expect("a ledger section")..];
    let section = &section[..section.find("</section>").unwrap()];
    let row = |kind: &str| -> &str {
        let start = section
            .find(&format!("data-kind=\"{kind}\""))
            .unwrap_or_else(|| panic!("a {kind} row in {section}"));
        &section[start..start + section[start..].find("</tr>").unwrap()]
    };
    let (over_row, run_row) = (row("override"), row("run"));
    assert!(
        over_row.contains(&override_day)
            && over_row.contains("override: watch died")
            && over_row.contains(">override<"),
        "{over_row}"
    );
    assert!(
        run_row.contains(&ledger_day) && run_row.contains(">manual<") && run_row.contains(">yes<"),
        "{run_row}"
    );

    // and the browser draws them apart
    let harness = STYLE_HARNESS
        .replace("OVERRIDE", &override_day)
        .replace("LEDGER", &ledger_day)
        .replace("RUN", &run_day);
    let harness_url = serve_with_harness(&w.db, harness).await;
    let profile = tempfile::tempdir().unwrap();
    let dom = dump_dom(profile.path(), harness_url).await;
    let attr = |name: &str| -> String {
        let key = format!("{name}=\"");
        let start = dom.find(&key).unwrap_or_else(|| panic!("{name} in {dom}")) + key.len();
        dom[start..].split('"').next().unwrap().to_owned()
    };
    let (over, run, ledger) = (attr("data-override"), attr("data-run"), attr("data-ledger"));
    assert!(over.starts_with("day o|"), "{over}");
    assert!(run.starts_with("day q|"), "{run}");
    assert!(ledger.starts_with("day q l|"), "{ledger}");
    let look = |s: &str| s.split_once('|').unwrap().1.to_owned();
    assert_ne!(
        look(&over),
        look(&run),
        "an override day looks different: {over} / {run}"
    );
    assert_ne!(
        look(&ledger),
        look(&run),
        "a ledger run day too: {ledger} / {run}"
    );
    assert_ne!(look(&over), look(&ledger));
}
