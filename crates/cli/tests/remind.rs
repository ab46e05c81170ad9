//! `myrunstreak remind` end to end: the real binary, the sandbox for the sync, a real DuckDB
//! file, and two local receivers over loopback (a webhook and an ntfy-format server). "Now" is
//! the hidden `--now` test seam; nothing sleeps on the wall clock (retries wait 5 ms).

mod common;

use std::process::{Command, Output, Stdio};

use common::Inbox;
use jiff::civil::date;
use serde_json::{Value, json};
use smashrun_sandbox::Sandbox;

const BIN: &str = env!("CARGO_BIN_EXE_myrunstreak");
const ZONE: &str = "America/New_York";
/// 2026-05-04 20:20 in New York: the sandbox's runner last ran on 2026-05-03, so today is at
/// risk with 3 h 40 min left.
const EVENING: &str = "2026-05-05T00:20:00Z";

struct World {
    sandbox: Sandbox,
    dir: tempfile::TempDir,
}

impl World {
    async fn new() -> World {
        let (sandbox, dir) = common::signed_in(date(2026, 5, 3)).await;
        World { sandbox, dir }
    }

    async fn control(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        common::control(&self.sandbox, method, path, body).await
    }

    fn cmd(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .arg("--env-file")
            .arg(self.dir.path().join("no.env"))
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SMASHRUN_CLIENT_ID", "e2e")
            .env("SMASHRUN_CLIENT_SECRET", "e2e-secret")
            .env("SMASHRUN_OAUTH_URL", self.sandbox.oauth_url())
            .env("SMASHRUN_API_URL", self.sandbox.api_url())
            .env("DUCKDB_PATH", self.dir.path().join("data/runs.duckdb"))
            .env(
                "MYRUNSTREAK_TOKEN_FILE",
                self.dir.path().join("data/tokens.json"),
            )
            .env("MYRUNSTREAK_TIMEZONE", ZONE)
            .env("LOG_LEVEL", "warn")
            .stdin(Stdio::null());
        for (k, v) in env {
            c.env(k, v);
        }
        c
    }

    async fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = self.cmd(args, env);
        tokio::task::spawn_blocking(move || c.output().unwrap())
            .await
            .unwrap()
    }

    /// `remind --json` at `now`; its report and the whole output (to look for secrets).
    async fn remind(&self, now: &str, extra: &[&str], env: &[(&str, &str)]) -> (Value, Output) {
        let mut args = vec!["remind", "--json", "--now", now, "--retry-first-ms", "5"];
        args.extend_from_slice(extra);
        let out = self.run(&args, env).await;
        let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (report, out)
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test]
async fn an_at_risk_day_sends_one_message_per_channel_once_and_nothing_once_the_run_is_synced() {
    let w = World::new().await;
    let (hook, hook_addr) = Inbox::start(1).await; // the webhook fails once: retried
    let (ntfy, ntfy_addr) = Inbox::start(0).await;
    let notify = format!(
        "ntfy+http://{ntfy_addr}/sams-s3cret-topic, http://{hook_addr}/hooks/catch?token=t0ken-s3cret"
    );
    let env = [("MYRUNSTREAK_NOTIFY_URL", notify.as_str())];

    // the streak as of last night, counted independently by `streak`
    let (first, out) = w.remind(EVENING, &[], &env).await;
    assert!(out.status.success(), "{}", text(&out));
    let days: u64 = {
        let s = w
            .run(&["streak", "--json", "--as-of", "2026-05-03"], &env)
            .await;
        assert!(s.status.success(), "{}", text(&s));
        let s: Value = serde_json::from_slice(&s.stdout).unwrap();
        assert_eq!(s["current"]["status"], "done", "{s}");
        s["current"]["days"].as_u64().unwrap()
    };
    assert!(
        days >= 30,
        "the sandbox runner has a streak of at least a month: {days}"
    );
    let expected = format!(
        "Streak {} days: today not run yet, 0.0 of 1.0 mi, 3 h 40 min left",
        thousands(days)
    );
    assert_eq!(first["outcome"], "sent", "{first}");
    assert_eq!(first["slot"], "any");
    assert_eq!(first["day"], "2026-05-04");
    assert_eq!(first["today"]["state"], "at_risk");
    assert_eq!(first["today"]["time_left_s"], 3 * 3600 + 40 * 60);
    assert_eq!(first["message"], expected.as_str());

    // ntfy: one POST in its header format, the message as the body
    let got = ntfy.delivered();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(ntfy.attempts(), 1);
    assert_eq!(got[0].body, expected);
    assert_eq!(got[0].headers["priority"], "4", "under 4 hours left: high");
    assert!(
        got[0].headers["title"]
            .to_str()
            .unwrap()
            .contains("3 h 40 min left")
    );
    assert!(got[0].headers["tags"].to_str().unwrap().contains("running"));

    // the webhook: one 503, then the streak answer plus the message
    let got = hook.delivered();
    assert_eq!((got.len(), hook.attempts()), (1, 2), "retried once");
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["message"], expected.as_str());
    assert_eq!(body["current"]["days"], days);
    assert_eq!(body["today"]["state"], "at_risk");
    assert_eq!(body["today"]["need"]["kind"], "distance");
    assert_eq!(body["as_of"], "2026-05-04");
    assert_eq!(body["timezone"], ZONE);
    assert!(body["last_sync"].is_string());

    // no secret of the notify URL in the output, nor in `config`
    let config = w.run(&["config"], &env).await;
    for out in [&out, &config] {
        let all = text(out);
        assert!(
            !all.contains("s3cret") && !all.contains("t0ken"),
            "a secret leaked: {all}"
        );
    }
    assert!(text(&config).contains("MYRUNSTREAK_NOTIFY_URL=ntfy http://127.0.0.1"));

    // a second call: nothing more
    let (second, out) = w.remind("2026-05-05T00:35:00Z", &["--no-sync"], &env).await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(second["outcome"], "already_sent", "{second}");
    assert_eq!((ntfy.attempts(), hook.attempts()), (1, 2));

    // the runner runs; the next remind syncs it in and sends nothing
    w.control(
        reqwest::Method::POST,
        "/runs",
        json!({"startDateTimeLocal": "2026-05-04T19:00:00-04:00", "distance": 5.0}),
    )
    .await;
    let (after, out) = w.remind("2026-05-05T01:10:00Z", &[], &env).await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(after["today"]["state"], "done", "{after}");
    assert_eq!(after["outcome"], "nothing_to_send");
    assert_eq!((ntfy.attempts(), hook.attempts()), (1, 2));
}

#[tokio::test]
async fn a_stale_or_failed_sync_cannot_verify_and_sends_nothing() {
    let w = World::new().await;
    let (ntfy, ntfy_addr) = Inbox::start(0).await;
    let notify = format!("ntfy+http://{ntfy_addr}/topic");
    let out = w.run(&["sync", "--json"], &[]).await;
    assert!(out.status.success(), "{}", text(&out));

    // --no-sync, and the last success is older than MYRUNSTREAK_STALE_AFTER
    let seven_hours_on = (jiff::Timestamp::now() + jiff::SignedDuration::from_hours(7)).to_string();
    let env = [
        ("MYRUNSTREAK_NOTIFY_URL", notify.as_str()),
        ("MYRUNSTREAK_STALE_AFTER", "6h"),
    ];
    let (report, out) = w.remind(&seven_hours_on, &["--no-sync"], &env).await;
    assert!(!out.status.success(), "{}", text(&out));
    assert_eq!(report["today"]["state"], "cant_verify", "{report}");
    assert_eq!(report["today"]["reason"], "stale");
    assert_eq!(report["outcome"], "cant_verify");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("can't verify") && err.contains("MYRUNSTREAK_STALE_AFTER=6 h 0 min"),
        "{err}"
    );

    // the sync it runs first fails (SmashRun unreachable): can't verify, and why
    let env = [
        ("MYRUNSTREAK_NOTIFY_URL", notify.as_str()),
        ("SMASHRUN_API_URL", "http://127.0.0.1:9/v1"),
    ];
    let (report, out) = w.remind(EVENING, &[], &env).await;
    assert!(!out.status.success(), "{}", text(&out));
    assert_eq!(report["today"]["reason"], "sync_failed", "{report}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("the sync just run failed"));
    assert_eq!(ntfy.attempts(), 0, "nothing is sent on a guess");

    // without an IANA zone, remind says what to set
    let mut c = w.cmd(&["remind", "--no-sync"], &[]);
    c.env_remove("MYRUNSTREAK_TIMEZONE");
    let out = tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("set MYRUNSTREAK_TIMEZONE"),
        "{}",
        text(&out)
    );
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
