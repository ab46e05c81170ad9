//! The Terraform in deploy/terraform, checked by a real HCL parser (python-hcl2, installed by
//! scripts/test in ~/.cache/myrunstreak/venv): references, outputs, least privilege. The
//! checker is also run on broken copies to show that it fails when it should.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn python() -> PathBuf {
    let venv = std::env::var("MYRUNSTREAK_VENV").unwrap_or_else(|_| {
        format!(
            "{}/.cache/myrunstreak/venv",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    PathBuf::from(venv).join("bin/python")
}

fn terraform_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/terraform")
}

fn check(dir: &Path) -> Output {
    Command::new(python())
        .arg(terraform_dir().join("tests/check_terraform.py"))
        .arg(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}): run scripts/test, which installs python-hcl2",
                python().display()
            )
        })
}

/// A copy of the Terraform with `file` edited by `edit`.
fn broken(file: &str, edit: impl Fn(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(terraform_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "tf") {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap();
            let text = if name == file { edit(text) } else { text };
            std::fs::write(dir.path().join(name), text).unwrap();
        }
    }
    dir
}

#[test]
fn the_terraform_parses_and_holds_its_rules() {
    let out = check(&terraform_dir());
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("resources"), "{report}");
}

#[test]
fn the_checker_catches_an_unconditional_api_write_and_an_undeclared_variable() {
    let writable = broken("iam.tf", |t| {
        t.replacen(
            "actions   = [\"s3:GetObject\"]\n    resources = [local.object_arn]",
            "actions   = [\"s3:GetObject\", \"s3:PutObject\"]\n    resources = [local.object_arn]",
            1,
        )
    });
    let out = check(writable.path());
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("the API may only replace the object with If-Match")
    );
    // its one write loses its condition: an unconditional overwrite is caught too
    let unconditional = broken("iam.tf", |t| {
        t.replacen(
            "variable = \"s3:if-match\"",
            "variable = \"s3:x-amz-acl\"",
            1,
        )
    });
    let out = check(unconditional.path());
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("the API may only replace the object with If-Match")
    );

    let undeclared = broken("functions.tf", |t| {
        t.replace(
            "memory_size      = 256",
            "memory_size      = var.api_memory",
        )
    });
    let out = check(undeclared.path());
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("var.api_memory is used but not declared")
    );
}
