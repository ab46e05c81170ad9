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

/// A copy of the Terraform with `from` replaced by `to` in `file` (which must hold `from`).
fn broken_in(file: &str, from: &str, to: &str) -> tempfile::TempDir {
    let text = std::fs::read_to_string(terraform_dir().join(file)).unwrap();
    assert!(text.contains(from), "{file} no longer holds {from:?}");
    broken(file, |t| t.replacen(from, to, 1))
}

/// [`broken_in`] site.tf.
fn broken_site(from: &str, to: &str) -> tempfile::TempDir {
    broken_in("site.tf", from, to)
}

/// The checker fails on `dir`, saying `message`.
fn fails_with(dir: &Path, message: &str) {
    let out = check(dir);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success(),
        "passed without {message:?}:\n{report}"
    );
    assert!(report.contains(message), "{report}");
}

#[test]
fn the_checker_catches_a_site_worker_without_partial_batch_failures_or_its_limit() {
    fails_with(
        broken_site(
            "function_response_types = [\"ReportBatchItemFailures\"]",
            "function_response_types = []",
        )
        .path(),
        "the worker must report batch item failures",
    );
    fails_with(
        broken_site(
            "reserved_concurrent_executions = var.worker_concurrency",
            "reserved_concurrent_executions = 100",
        )
        .path(),
        "the worker's reserved concurrency must be var.worker_concurrency",
    );
}

#[test]
fn the_checker_catches_an_unwatched_dead_letter_queue_and_sessions_without_ttl() {
    fails_with(
        broken_site(
            "dimensions          = { QueueName = aws_sqs_queue.runners_dlq.name }",
            "dimensions          = { QueueName = aws_sqs_queue.runners.name }",
        )
        .path(),
        "an alarm on the dead-letter queue's visible messages is missing",
    );
    fails_with(
        broken_site(
            "attribute_name = \"expires\"\n    enabled        = true",
            "attribute_name = \"expires\"\n    enabled        = false",
        )
        .path(),
        "sessions need TTL on the accounts table's expires attribute",
    );
}

#[test]
fn the_checker_catches_a_site_function_given_more_than_it_needs() {
    fails_with(
        broken_site(
            "actions = [\"dynamodb:GetItem\", \"dynamodb:Query\"]",
            "actions = [\"dynamodb:GetItem\", \"dynamodb:Query\", \"dynamodb:PutItem\"]",
        )
        .path(),
        "the fan-out may only read the accounts table and send to the queue",
    );
    fails_with(
        broken_site(
            "resources = [\"${aws_s3_bucket.data.arn}/runners/*\"]",
            "resources = [\"${aws_s3_bucket.data.arn}/*\"]",
        )
        .path(),
        "the worker may only read and write runners/* of the bucket",
    );
    fails_with(
        broken_site(
            "variable = \"kms:EncryptionContext:myrunstreak\"",
            "variable = \"kms:ViaService\"",
        )
        .path(),
        "the worker's KMS use must be bound to the tokens' encryption context",
    );
}

#[test]
fn the_checker_catches_a_site_web_function_given_more_than_it_needs() {
    let web = |from: &str, to: &str| broken_in("site_web.tf", from, to);
    fails_with(
        web(
            "resources = [\"${aws_s3_bucket.data.arn}/runners/*\"]",
            "resources = [\"${aws_s3_bucket.data.arn}/*\"]",
        )
        .path(),
        "the site may only read and write runners/* of the bucket",
    );
    fails_with(
        web(
            "variable = \"kms:EncryptionContext:myrunstreak\"",
            "variable = \"kms:ViaService\"",
        )
        .path(),
        "the site's KMS use must be bound to the tokens' and verifiers' encryption contexts",
    );
    fails_with(
        web(
            "\"dynamodb:ConditionCheckItem\",",
            "\"dynamodb:ConditionCheckItem\",\n      \"dynamodb:Scan\",",
        )
        .path(),
        "the site may not dynamodb:Scan",
    );
    fails_with(
        web(
            "MYRUNSTREAK_WORK_DIR                = \"/tmp/myrunstreak\"",
            "MYRUNSTREAK_ADMIN_TOKEN             = \"hunter2\"",
        )
        .path(),
        "no secret in the site function's environment",
    );
}

#[test]
fn the_checker_catches_a_site_api_without_throttling_its_default_route_or_its_logs() {
    let web = |from: &str, to: &str| broken_in("site_web.tf", from, to);
    fails_with(
        web(
            "throttling_rate_limit  = var.site_throttle_rate",
            "throttling_rate_limit  = 100000",
        )
        .path(),
        "the site's stage must throttle",
    );
    fails_with(
        web("route_key = \"$default\"", "route_key = \"GET /\"").path(),
        "the site's HTTP API needs a $default route to the site's integration",
    );
    fails_with(
        web(
            "payload_format_version = \"2.0\"",
            "payload_format_version = \"1.0\"",
        )
        .path(),
        "the site's integration must proxy to the site function with payload 2.0",
    );
    fails_with(
        web(
            "destination_arn = aws_cloudwatch_log_group.site_access.arn",
            "destination_arn = aws_cloudwatch_log_group.site.arn",
        )
        .path(),
        "the site's stage needs access logging",
    );
}
