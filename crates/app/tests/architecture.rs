//! ARCHITECTURE.md's table of crates says what each crate may depend on; this test holds it to
//! what `cargo metadata` says they do depend on (normal dependencies between our own crates; the
//! workspace-hack crate aside, and tests may use more). A shell that starts using the store or the
//! SmashRun client directly fails here, and so does a table that forgot a crate.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `crates/<dir>` → the `crates/<dir>` names it may depend on, from ARCHITECTURE.md.
fn documented() -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut table = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("| `crates/")) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        assert_eq!(cells.len(), 3, "a row of three cells: {line}");
        let dir = cells[0]
            .trim_start_matches("`crates/")
            .split('`')
            .next()
            .expect("a crate path")
            .to_owned();
        let allowed = cells[2]
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty() && *c != "—")
            .map(str::to_owned)
            .collect();
        table.insert(dir, allowed);
    }
    table
}

/// `crates/<dir>` → the `crates/<dir>` of its normal dependencies, from cargo.
fn actual() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .current_dir(root())
        .args(["metadata", "--format-version", "1", "--no-deps", "--locked"])
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("cargo metadata's JSON");
    let dir_of = |path: &str| -> Option<String> {
        let rest = path.split("/crates/").nth(1)?;
        Some(rest.split('/').next()?.to_owned())
    };
    let mut graph = BTreeMap::new();
    for package in metadata["packages"].as_array().expect("packages") {
        let Some(dir) = package["manifest_path"].as_str().and_then(dir_of) else {
            continue;
        };
        let deps = package["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            .filter(|d| d["kind"].is_null())
            .filter_map(|d| d["path"].as_str().and_then(dir_of))
            .filter(|d| d != "hack")
            .collect();
        graph.insert(dir, deps);
    }
    graph
}

#[test]
fn the_dependency_table_is_true() {
    let documented = documented();
    let actual = actual();
    assert_eq!(
        documented.keys().collect::<Vec<_>>(),
        actual.keys().collect::<Vec<_>>(),
        "ARCHITECTURE.md lists exactly the workspace's crates"
    );
    for (dir, deps) in &actual {
        assert_eq!(
            &documented[dir], deps,
            "crates/{dir}: ARCHITECTURE.md says it may depend on {:?}, Cargo.toml says it does on {deps:?}",
            documented[dir]
        );
    }
}

#[test]
fn no_shell_reaches_past_the_application_layer() {
    let actual = actual();
    for shell in ["cli", "server", "lambda", "aws"] {
        for forbidden in ["store", "smashrun"] {
            assert!(
                !actual[shell].contains(forbidden),
                "crates/{shell} depends on crates/{forbidden}: go through myrunstreak-app"
            );
        }
    }
}
