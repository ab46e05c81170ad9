//! End-to-end: the runner's ledger with the real `myrunstreak` binary, the sandbox over loopback
//! and a real DuckDB file. A streak that a one-day gap broke is bridged by `add` and by
//! `override`, `--exclude-ledger` gives the mirror-only figure back, removing an entry restores
//! the broken streak, and a full sync leaves the ledger as it was.

mod gap;

use gap::world;
use serde_json::{Value, json};

#[tokio::test]
async fn a_gap_is_bridged_by_add_and_by_override_and_comes_back_when_removed() {
    let w = world().await;
    w.seed_tokens(None, false).await;
    w.run_ok(&["sync"]).await;
    assert_eq!(w.current(&[]).await, 1, "05-02 broke the streak");
    let longest = w.json(&["streak", "--as-of", "2026-05-03"]).await;
    assert_eq!(longest["longest"]["days"], 4);

    // a manual run on the missing day
    let said = w
        .run_ok(&[
            "add",
            "--date",
            "2026-05-02",
            "--distance",
            "1.2mi",
            "--duration",
            "11:30",
            "--time",
            "06:40",
            "--note",
            "treadmill at the gym",
        ])
        .await;
    assert!(
        said.contains("Added ledger entry 1: run of 1.20 mi at 06:40 in 11:30")
            && said.contains("it counts on 2026-05-02."),
        "{said}"
    );
    assert_eq!(w.current(&[]).await, 6, "the manual run bridges the gap");
    assert_eq!(w.current(&["--exclude-ledger"]).await, 1, "mirror only");
    let ledger = w.json(&["ledger"]).await;
    let entry = &ledger["entries"][0];
    assert_eq!(entry["id"], 1);
    assert_eq!(entry["kind"], "run");
    assert_eq!(entry["date"], "2026-05-02");
    assert_eq!(entry["time"], "06:40:00");
    assert_eq!(entry["utc_offset_s"], -4 * 3600, "the runner's clock");
    assert_eq!(entry["duration_s"], 690.0);
    assert_eq!(entry["note"], "treadmill at the gym");
    // the day audit lists it as the ledger's, and the stats count it unless excluded
    let why = w
        .json(&["streak", "why", "2026-05-02", "--as-of", "2026-05-03"])
        .await;
    assert_eq!(why["verdict"], "qualified");
    assert_eq!(why["runs"][0]["origin"]["kind"], "ledger");
    assert_eq!(why["runs"][0]["origin"]["entry"], 1);
    let stats = w.json(&["stats"]).await;
    let bare = w.json(&["stats", "--exclude-ledger"]).await;
    assert_eq!(stats["totals"]["runs"], 6);
    assert_eq!(bare["totals"]["runs"], 5);

    // a full sync leaves the ledger as it was, and the streak with it
    let before = w.json(&["ledger"]).await;
    let full: Value = serde_json::from_str(&w.run_ok(&["sync", "--full", "--json"]).await).unwrap();
    assert_eq!(full["mode"]["mode"], "full", "{full}");
    assert_eq!(
        w.json(&["ledger"]).await,
        before,
        "a sync never touches the ledger"
    );
    assert_eq!(w.current(&[]).await, 6);

    // removing the entry restores the broken streak
    let said = w.run_ok(&["ledger", "remove", "1"]).await;
    assert!(said.contains("Removed ledger entry 1"), "{said}");
    assert_eq!(w.current(&[]).await, 1);
    let missing = w.run(&["ledger", "remove", "1"]).await;
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("there is no ledger entry 1"),
        "{missing:?}"
    );

    // an override of the missing day: counted, and shown as an override everywhere
    let said = w
        .run_ok(&["override", "2026-05-02", "--reason", "watch died"])
        .await;
    assert!(
        said.contains("Overrode 2026-05-02 (ledger entry 2)") && said.contains("watch died"),
        "{said}"
    );
    for rule in ["usrsa", "continuous", "any"] {
        assert_eq!(w.current(&["--rule", rule]).await, 6, "{rule}");
        assert_eq!(w.current(&["--rule", rule, "--exclude-ledger"]).await, 1);
    }
    // the streak names its override days, and so does the published status (not the reason)
    let streak = w.json(&["streak", "--as-of", "2026-05-03"]).await;
    assert_eq!(streak["current"]["override_days"], json!(["2026-05-02"]));
    assert_eq!(streak["longest"]["override_days"], json!(["2026-05-02"]));
    let text = w.run_ok(&["streak", "--as-of", "2026-05-03"]).await;
    assert!(
        text.contains("Counted by an override: 2026-05-02"),
        "{text}"
    );
    let published = w.dir.path().join("published");
    w.run_ok(&[
        "publish",
        published.to_str().unwrap(),
        "--now",
        "2026-05-03T18:00:00Z",
    ])
    .await;
    let status: Value =
        serde_json::from_slice(&std::fs::read(published.join("status.json")).unwrap()).unwrap();
    assert_eq!(status["current"]["override_days"], json!(["2026-05-02"]));
    for file in ["status.json", "badge.svg", "streak.ics"] {
        let body = std::fs::read_to_string(published.join(file)).unwrap();
        assert!(
            !body.contains("watch died"),
            "the reason stays private: {file}"
        );
    }
    let bare = w
        .json(&["streak", "--as-of", "2026-05-03", "--exclude-ledger"])
        .await;
    assert_eq!(bare["current"]["override_days"], json!([]));

    let why = w
        .json(&["streak", "why", "2026-05-02", "--as-of", "2026-05-03"])
        .await;
    assert_eq!(why["verdict"], "override");
    assert_eq!(why["override_reason"], "watch died");
    assert!(
        why["reason"]
            .as_str()
            .unwrap()
            .starts_with("Counted by an override: watch died."),
        "{why}"
    );
    let text = w
        .run_ok(&["streak", "why", "2026-05-02", "--as-of", "2026-05-03"])
        .await;
    assert!(
        text.contains("Counted by an override: watch died."),
        "{text}"
    );
    let bare = w
        .json(&[
            "streak",
            "why",
            "2026-05-02",
            "--as-of",
            "2026-05-03",
            "--exclude-ledger",
        ])
        .await;
    assert_eq!(bare["verdict"], "no_activity");
    let calendar = w.json(&["calendar", "--year", "2026"]).await;
    let day = |d: &str| {
        calendar["days"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["date"] == d)
            .cloned()
            .unwrap()
    };
    assert_eq!(day("2026-05-02")["kind"], "override");
    assert_eq!(day("2026-05-02")["runs"], 0, "an override is no run");
    assert_eq!(day("2026-05-03")["kind"], "qualified");
    let stats = w.json(&["stats"]).await;
    assert_eq!(stats["totals"]["runs"], 5, "an override adds no run");

    // a second override of the day is refused; `override --remove` restores the break
    let twice = w
        .run(&["override", "2026-05-02", "--reason", "again"])
        .await;
    assert_eq!(twice.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&twice.stderr).contains("already overridden"),
        "{twice:?}"
    );
    let said = w.run_ok(&["override", "--remove", "2026-05-02"]).await;
    assert!(
        said.contains("Removed the override of 2026-05-02"),
        "{said}"
    );
    assert_eq!(w.current(&[]).await, 1);
    let empty = w.json(&["ledger"]).await;
    assert_eq!(empty["entries"], json!([]));
}

#[tokio::test]
async fn entries_are_refused_with_a_reason_a_runner_can_act_on() {
    let w = world().await;
    for (args, says) in [
        (
            vec!["add", "--date", "2026-05-02", "--distance", "1.2"],
            "write it with its unit",
        ),
        (
            vec![
                "add",
                "--date",
                "2026-05-02",
                "--distance",
                "1mi",
                "--duration",
                "11:75",
            ],
            "is not a duration",
        ),
        (
            vec!["override", "2026-05-02", "--reason", "  "],
            "an override needs a reason",
        ),
        (vec!["override", "2026-05-02"], "--reason"),
    ] {
        let out = w.run(&args).await;
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}
