//! One build for every command: building the CLI alone (`cargo run --release -- demo`), one crate
//! alone, or the whole workspace with its tests must ask for the same features of every
//! dependency, or cargo builds it twice (DuckDB's C++ takes 40 minutes on two cores). The
//! workspace-hack crate ensures it; this test fails when a dependency change left it stale (then
//! run `cargo hakari generate && cargo hakari manage-deps`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

/// Each package's feature sets (more than one when built for the host and the target apart).
fn features(selection: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .current_dir(&root)
        .args([
            "tree",
            "--locked",
            "--prefix",
            "none",
            "--format",
            "{p} [{f}]",
        ])
        .args(["--target", "x86_64-unknown-linux-gnu"])
        .args(selection)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree {selection:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut sets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let line = line.trim_end_matches(" (*)");
        // workspace crates are ours and rebuilt anyway; third-party ones must match
        if line.contains(" (/") {
            continue;
        }
        let Some((package, features)) = line.split_once(" [") else {
            continue;
        };
        let package = package.trim_end_matches(" (proc-macro)");
        sets.entry(package.to_owned())
            .or_default()
            .insert(features.trim_end_matches(']').to_owned());
    }
    sets
}

#[test]
fn the_demo_one_crate_and_the_test_build_ask_for_the_same_features() {
    let everything = features(&["--workspace", "-e", "normal,build,dev"]);
    assert!(
        everything.keys().any(|p| p.starts_with("libduckdb-sys ")),
        "the tree lists DuckDB"
    );
    for selection in [
        &["-p", "myrunstreak", "-e", "normal,build"][..],
        &["-p", "myrunstreak-store", "-e", "normal,build,dev"][..],
        &["-p", "smashrun-client", "-e", "normal,build,dev"][..],
    ] {
        let alone = features(selection);
        let differ: Vec<String> = alone
            .iter()
            // every build of it alone must be one the workspace build already has (the
            // workspace may also build it for the host, where this selection does not need it)
            .filter(|(package, sets)| {
                everything
                    .get(*package)
                    .is_none_or(|all| !sets.is_subset(all))
            })
            .map(|(package, sets)| {
                format!(
                    "{package}: {sets:?} alone, {:?} in the workspace",
                    everything.get(package)
                )
            })
            .collect();
        assert!(
            differ.is_empty(),
            "building {selection:?} alone would rebuild: {differ:#?}\nrun `cargo hakari generate && cargo hakari manage-deps`"
        );
    }
}
