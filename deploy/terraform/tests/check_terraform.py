#!/usr/bin/env python3
"""Checks deploy/terraform with a real HCL parser (python-hcl2): it parses, every referenced
variable, resource, data source and local is defined, the outputs exist, and the IAM policies
give each function only what it needs (the API cannot write the bucket or read the tokens; the
site's fan-out only reads the accounts and enqueues, its worker only reaches runners/*).
There is no terraform binary to install here; this is what can be checked without one.

Exit 0 when everything holds; otherwise the failures, one per line, and exit 1.
"""
import glob, os, re, sys

import hcl2

HERE = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def clean(value):
    """Strips python-hcl2's quotes and block markers."""
    if isinstance(value, dict):
        return {clean(k): clean(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def blocks(doc, kind):
    """{(type, name): body} for resource/data, {name: body} for variable/output."""
    out = {}
    for item in doc.get(kind, []):
        for first, body in item.items():
            if kind in ("resource", "data"):
                for name, inner in body.items():
                    out[(first, name)] = inner
            else:
                out[first] = body
    return out


docs = {}
for path in sorted(glob.glob(os.path.join(HERE, "*.tf"))):
    with open(path) as f:
        try:
            docs[os.path.basename(path)] = clean(hcl2.load(f))
        except Exception as e:  # a parse error is a failure, not a crash
            failures.append(f"{os.path.basename(path)} does not parse: {e}")

resources, data, variables, outputs, locals_ = {}, {}, {}, {}, set()
for doc in docs.values():
    resources.update(blocks(doc, "resource"))
    data.update(blocks(doc, "data"))
    variables.update(blocks(doc, "variable"))
    outputs.update(blocks(doc, "output"))
    for block in doc.get("locals", []):
        locals_.update(block.keys())

# every reference is defined
text = "\n".join(open(p).read() for p in glob.glob(os.path.join(HERE, "*.tf")))
for name in sorted(set(re.findall(r"\bvar\.([a-z0-9_]+)", text))):
    check(name in variables, f"var.{name} is used but not declared")
for name in sorted(set(re.findall(r"\blocal\.([a-z0-9_]+)", text))):
    check(name in locals_, f"local.{name} is used but not defined")
for kind, name in sorted(set(re.findall(r"(?<![.\w])data\.([a-z0-9_]+)\.([a-z0-9_]+)", text))):
    check((kind, name) in data, f"data.{kind}.{name} is used but not defined")
for kind, name in sorted(set(re.findall(r"(?<![.\w\"])(aws_[a-z0-9_]+)\.([a-z0-9_]+)\.", text))):
    check((kind, name) in resources, f"{kind}.{name} is used but not defined")
for name, body in variables.items():
    check(bool(body.get("description")), f"variable {name} has no description")
check("api_url" in outputs, "output api_url is missing")
check("site_url" in outputs, "output site_url is missing")

# storage
kinds = {k for k, _ in resources}
for needed in ["aws_s3_bucket_versioning", "aws_s3_bucket_server_side_encryption_configuration", "aws_s3_bucket_public_access_block", "aws_s3_bucket_policy"]:
    check(needed in kinds, f"the bucket needs {needed}")
versioning = resources.get(("aws_s3_bucket_versioning", "data"), {})
check(versioning.get("versioning_configuration", [{}])[0].get("status") == "Enabled", "bucket versioning must be Enabled")
pab = resources.get(("aws_s3_bucket_public_access_block", "data"), {})
for flag in ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]:
    check(pab.get(flag) is True, f"public access block: {flag} must be true")
tls = data.get(("aws_iam_policy_document", "tls_only"), {}).get("statement", [])
check(any(s.get("effect") == "Deny" and any(c.get("variable") == "aws:SecureTransport" and c.get("values") == ["false"] for c in s.get("condition", [])) for s in tls),
      "the bucket policy must deny requests without TLS")


def actions(policy):
    return {(a, r) for s in data.get(("aws_iam_policy_document", policy), {}).get("statement", []) if s.get("effect", "Allow") == "Allow"
            for a in s.get("actions", []) for r in s.get("resources", [])}


sync, api = actions("sync"), actions("api")
check(any(a == "s3:PutObject" for a, _ in sync), "the sync must be able to write the object")
check(any(a == "secretsmanager:PutSecretValue" for a, _ in sync), "the sync must be able to write the tokens back")
api_statements = data.get(("aws_iam_policy_document", "api"), {}).get("statement", [])
for st in api_statements:
    if any(a in ("s3:PutObject", "s3:DeleteObject", "s3:*") for a in st.get("actions", [])):
        check(st.get("actions") == ["s3:PutObject"] and st.get("resources") == ["${local.object_arn}"], "the API may only put the one object")
        check(any(c.get("test") == "Null" and c.get("variable") == "s3:if-match" and c.get("values") == ["false"] for c in st.get("condition", [])),
              "the API may only replace the object with If-Match (a conditional write)")
check(not any(a.startswith("secretsmanager:") and r != "${aws_secretsmanager_secret.api_token.arn}" for a, r in api), "the API may read its own token secret and no other")
check(resources.get(("aws_lambda_function", "api"), {}).get("environment", [{}])[0].get("variables", {}).get("MYRUNSTREAK_API_TOKEN_SECRET_ID") == "${aws_secretsmanager_secret.api_token.name}",
      "the API function reads its bearer token from the api_token secret")
for role, granted in (("sync", sync), ("api", api), ("fanout", actions("fanout")), ("worker", actions("worker")), ("site_scheduler", actions("site_scheduler")), ("site", actions("site"))):
    for action, resource in granted:
        check(resource != "*" and action != "*" and not action.endswith(":*"), f"{role}: {action} on {resource} is not least privilege")
    check(resources.get(("aws_iam_role_policy", role), {}).get("policy") == f"${{data.aws_iam_policy_document.{role}.json}}", f"the {role} role must carry the {role} policy")
check(resources.get(("aws_lambda_function", "sync"), {}).get("role") == "${aws_iam_role.sync.arn}", "the sync function must use the sync role")
check(resources.get(("aws_lambda_function", "api"), {}).get("role") == "${aws_iam_role.api.arn}", "the API function must use the API role")

# functions, schedule, API, logs, alarms
for name in ("sync", "api", "fanout", "worker", "site"):
    f = resources.get(("aws_lambda_function", name), {})
    check(f.get("runtime") == "provided.al2023", f"{name}: runtime must be provided.al2023")
    check(f.get("architectures") == ["${var.lambda_architecture}"], f"{name}: architecture must be var.lambda_architecture")
    check(("aws_cloudwatch_log_group", name) in resources, f"{name}: needs a log group")
    check(resources.get(("aws_cloudwatch_log_group", name), {}).get("retention_in_days") == "${var.log_retention_days}", f"{name}: log group needs a retention")
check(resources.get(("aws_lambda_function", "sync"), {}).get("reserved_concurrent_executions") == 1, "the sync needs reserved concurrency 1")
# scripts/build-lambda builds x86_64 only (no arm64 standard library on our build machines)
arch = variables.get("lambda_architecture", {})
check(arch.get("default") == "x86_64", "the default lambda_architecture must be x86_64, what scripts/build-lambda builds")
check(all(a in str(arch.get("validation")) for a in ('"x86_64"', '"arm64"')), "lambda_architecture must be validated to x86_64 or arm64")
check(variables.get("sync_schedule", {}).get("default") == "cron(0 11 * * ? *)", "the default schedule must be cron(0 11 * * ? *)")
check(resources.get(("aws_cloudwatch_event_rule", "daily_sync"), {}).get("schedule_expression") == "${var.sync_schedule}", "the rule must use var.sync_schedule")
check(resources.get(("aws_cloudwatch_event_target", "daily_sync"), {}).get("arn") == "${aws_lambda_function.sync.arn}", "the rule must target the sync function")
check(any(k == "aws_lambda_permission" and b.get("principal") == "events.amazonaws.com" for (k, _), b in resources.items()), "EventBridge needs permission to invoke the sync")
remind = resources.get(("aws_scheduler_schedule", "remind"), {})
check(remind.get("schedule_expression_timezone") == "${var.home_timezone}", "reminders must be scheduled in the runner's zone")
check(remind.get("for_each") == "${toset(var.remind_at)}", "one reminder schedule per local time")
check((remind.get("target") or [{}])[0].get("arn") == "${aws_lambda_function.sync.arn}", "reminders must invoke the sync function")
check("remind" in str((remind.get("target") or [{}])[0].get("input")), "the reminder's input must ask for the reminder")
check(("aws_iam_policy_document", "scheduler") in data, "the scheduler needs its own policy")
check(actions("scheduler") == {("lambda:InvokeFunction", "${aws_lambda_function.sync.arn}")},
      "the scheduler may only invoke the sync function")
publicly = data.get(("aws_iam_policy_document", "status_public"), {}).get("statement", [])
check(all(r.endswith("/status/*") for s in publicly if s.get("effect", "Allow") == "Allow" for r in s.get("resources", [])),
      "only status/* of the status bucket may be public")
check(actions("status_write") == {("s3:PutObject", "${aws_s3_bucket.status[0].arn}/status/*")}, "the sync may only write status/* of the status bucket")
check(resources.get(("aws_s3_bucket_public_access_block", "status"), {}).get("block_public_acls") is True, "the status bucket blocks public ACLs")
# SES only when a mailto: sender is set, and only to send from that identity
check(resources.get(("aws_sesv2_email_identity", "reminders"), {}).get("count") == '${var.mail_from == "" ? 0 : 1}', "the SES identity exists only when var.mail_from is set")
check(actions("mail_send") == {("ses:SendEmail", "${aws_sesv2_email_identity.reminders[0].arn}")}, "the sync may only send mail from the reminder identity")
check(resources.get(("aws_iam_role_policy", "sync_mail"), {}).get("count") == "${length(aws_sesv2_email_identity.reminders)}", "the mail policy exists only with the identity")
check(not any(a.startswith("ses:") for a, _ in sync), "the sync's own policy grants no SES: only mail.tf does, when a sender is set")
check(resources.get(("aws_apigatewayv2_api", "http"), {}).get("protocol_type") == "HTTP", "the API must be an HTTP API")
check(resources.get(("aws_apigatewayv2_integration", "api"), {}).get("payload_format_version") == "2.0", "the integration must use payload v2")
check(any(k == "aws_apigatewayv2_route" for k, _ in resources), "the API needs routes")
check(("aws_apigatewayv2_stage", "default") in resources, "the API needs a stage")
check(any(k == "aws_lambda_permission" and b.get("principal") == "apigateway.amazonaws.com" for (k, _), b in resources.items()), "API Gateway needs permission to invoke the API")
alarms = {n: b for (k, n), b in resources.items() if k == "aws_cloudwatch_metric_alarm"}
check(any(b.get("metric_name") == "Errors" for b in alarms.values()), "an alarm on sync errors is missing")
check(any(any(q.get("metric", [{}])[0].get("period") == 129600 for q in b.get("metric_query", []) if q.get("metric")) for b in alarms.values()),
      "an alarm on no successful sync in 36 hours is missing")

# the many-runner site (site.tf): schedule -> fan-out -> SQS -> worker, accounts, key
table_arn, index_arn = "${aws_dynamodb_table.accounts.arn}", "${aws_dynamodb_table.accounts.arn}/index/runners"
queue_arn, dlq_arn = "${aws_sqs_queue.runners.arn}", "${aws_sqs_queue.runners_dlq.arn}"
fanout, worker = actions("fanout"), actions("worker")
check(fanout and all(a in ("dynamodb:GetItem", "dynamodb:Query") and r in (table_arn, index_arn)
                     or a == "sqs:SendMessage" and r == queue_arn
                     or a in ("logs:CreateLogStream", "logs:PutLogEvents") and r == "${aws_cloudwatch_log_group.fanout.arn}:*"
                     for a, r in fanout),
      "the fan-out may only read the accounts table and send to the queue")
check(("sqs:SendMessage", queue_arn) in fanout, "the fan-out must be able to send to the queue")
worker_statements = data.get(("aws_iam_policy_document", "worker"), {}).get("statement", [])
allowed_worker = {
    "sqs:ReceiveMessage": {queue_arn}, "sqs:DeleteMessage": {queue_arn}, "sqs:GetQueueAttributes": {queue_arn},
    "dynamodb:GetItem": {table_arn}, "dynamodb:PutItem": {table_arn}, "dynamodb:UpdateItem": {table_arn}, "dynamodb:ConditionCheckItem": {table_arn},
    "kms:Encrypt": {"${aws_kms_key.site.arn}"}, "kms:Decrypt": {"${aws_kms_key.site.arn}"},
    "secretsmanager:GetSecretValue": {"${aws_secretsmanager_secret.client.arn}"},
    "s3:GetObject": {"${aws_s3_bucket.data.arn}/runners/*"}, "s3:PutObject": {"${aws_s3_bucket.data.arn}/runners/*"},
    "s3:DeleteObjectVersion": {"${aws_s3_bucket.data.arn}/runners/*"},
    "s3:ListBucketVersions": {"${aws_s3_bucket.data.arn}"}, "s3:ListBucket": {"${aws_s3_bucket.data.arn}"},
    "logs:CreateLogStream": {"${aws_cloudwatch_log_group.worker.arn}:*"}, "logs:PutLogEvents": {"${aws_cloudwatch_log_group.worker.arn}:*"},
}
for a, r in worker:
    if a.startswith("s3:") and a not in allowed_worker:
        check(False, f"the worker may only read and write runners/* of the bucket ({a} on {r})")
    elif a.startswith("s3:"):
        check(r in allowed_worker[a], f"the worker may only read and write runners/* of the bucket ({a} on {r})")
    else:
        check(r in allowed_worker.get(a, set()), f"the worker may not {a} on {r}")
for a in ("dynamodb:GetItem", "dynamodb:PutItem", "kms:Decrypt", "s3:GetObject", "s3:PutObject", "sqs:ReceiveMessage", "sqs:DeleteMessage"):
    check(any(x == a for x, _ in worker), f"the worker needs {a}")
for st in worker_statements:
    if any(a.startswith("kms:") for a in st.get("actions", [])):
        check(any(c.get("test") == "StringLike" and c.get("variable") == "kms:EncryptionContext:myrunstreak" and c.get("values") == ["smashrun-tokens:*"]
                  for c in st.get("condition", [])),
              "the worker's KMS use must be bound to the tokens' encryption context (kms:EncryptionContext:myrunstreak)")
    if "s3:ListBucketVersions" in st.get("actions", []):
        check(any(c.get("variable") == "s3:prefix" and c.get("values") == ["runners/*"] for c in st.get("condition", [])),
              "the worker may only list the versions under runners/")
check(actions("site_scheduler") == {("lambda:InvokeFunction", "${aws_lambda_function.fanout.arn}")}, "the site's scheduler may only invoke the fan-out")
for name in ("fanout", "worker", "site_scheduler"):
    check(resources.get(("aws_iam_role_policy", name), {}).get("policy") == f"${{data.aws_iam_policy_document.{name}.json}}", f"the {name} role must carry the {name} policy")
for name in ("fanout", "worker"):
    check(resources.get(("aws_lambda_function", name), {}).get("role") == f"${{aws_iam_role.{name}.arn}}", f"the {name} function must use the {name} role")
schedule = resources.get(("aws_scheduler_schedule", "fanout"), {})
check((schedule.get("target") or [{}])[0].get("arn") == "${aws_lambda_function.fanout.arn}", "the site's schedule must invoke the fan-out")
check((schedule.get("target") or [{}])[0].get("role_arn") == "${aws_iam_role.site_scheduler.arn}", "the site's schedule must use the site_scheduler role")
mapping = resources.get(("aws_lambda_event_source_mapping", "worker"), {})
check(mapping.get("event_source_arn") == queue_arn and mapping.get("function_name") == "${aws_lambda_function.worker.arn}", "the runner queue must feed the worker")
check(mapping.get("function_response_types") == ["ReportBatchItemFailures"], "the worker must report batch item failures (function_response_types = [\"ReportBatchItemFailures\"])")
worker_fn = resources.get(("aws_lambda_function", "worker"), {})
check(worker_fn.get("reserved_concurrent_executions") == "${var.worker_concurrency}", "the worker's reserved concurrency must be var.worker_concurrency (the site's global limit)")
check((mapping.get("scaling_config") or [{}])[0].get("maximum_concurrency") == "${var.worker_concurrency}", "the event source mapping must not poll for more than var.worker_concurrency")
for name in ("runners", "runners_dlq"):
    queue = resources.get(("aws_sqs_queue", name), {})
    check(queue.get("sqs_managed_sse_enabled") is True or bool(queue.get("kms_master_key_id")), f"the {name} queue must be encrypted (SSE)")
check("aws_sqs_queue.runners_dlq.arn" in str(resources.get(("aws_sqs_queue", "runners"), {}).get("redrive_policy")), "the runner queue must send what fails every try to runners_dlq")
check(any(b.get("namespace") == "AWS/SQS" and b.get("metric_name") == "ApproximateNumberOfMessagesVisible"
          and b.get("dimensions", {}).get("QueueName") == "${aws_sqs_queue.runners_dlq.name}" and b.get("alarm_actions")
          for b in alarms.values()),
      "an alarm on the dead-letter queue's visible messages is missing")
accounts = resources.get(("aws_dynamodb_table", "accounts"), {})
check((accounts.get("hash_key"), accounts.get("range_key")) == ("pk", "sk"), "the accounts table is keyed by pk and sk (crates/aws/src/dynamo.rs)")
check(any(i.get("name") == "runners" and i.get("hash_key") == "runner_list" and i.get("range_key") == "runner_order" for i in accounts.get("global_secondary_index", [])),
      "the accounts table needs the runners index (runner_list, runner_order)")
check((accounts.get("ttl") or [{}])[0].get("attribute_name") == "expires" and (accounts.get("ttl") or [{}])[0].get("enabled") is True,
      "sessions need TTL on the accounts table's expires attribute")
check((accounts.get("point_in_time_recovery") or [{}])[0].get("enabled") is True, "the accounts table needs point-in-time recovery")
check((accounts.get("server_side_encryption") or [{}])[0].get("enabled") is True, "the accounts table needs server-side encryption")
check(resources.get(("aws_kms_key", "site"), {}).get("enable_key_rotation") is True, "the site's KMS key must rotate")
check(resources.get(("aws_kms_alias", "site"), {}).get("target_key_id") == "${aws_kms_key.site.key_id}", "the site's KMS key needs its alias")
fanout_env = resources.get(("aws_lambda_function", "fanout"), {}).get("environment", [{}])[0].get("variables", {})
worker_env = worker_fn.get("environment", [{}])[0].get("variables", {})
check(fanout_env.get("MYRUNSTREAK_ACCOUNTS_TABLE") == worker_env.get("MYRUNSTREAK_ACCOUNTS_TABLE") == "${aws_dynamodb_table.accounts.name}", "both site functions read the accounts table")
check(fanout_env.get("MYRUNSTREAK_RUNNER_QUEUE_URL") == "${aws_sqs_queue.runners.url}", "the fan-out sends to the runner queue")
check(worker_env.get("MYRUNSTREAK_KMS_KEY_ID") == "${aws_kms_key.site.arn}", "the worker seals with the site's key")
check(worker_env.get("MYRUNSTREAK_S3_BUCKET") == "${aws_s3_bucket.data.bucket}", "the worker keeps the runners' objects in the data bucket")
check("MYRUNSTREAK_KMS_KEY_ID" not in fanout_env, "the fan-out has no business with the key")

# the site's web function (site_web.tf): HTTP API -> site function, least privilege
site_fn = resources.get(("aws_lambda_function", "site"), {})
site_policy, site_statements = actions("site"), data.get(("aws_iam_policy_document", "site"), {}).get("statement", [])
check(site_fn.get("role") == "${aws_iam_role.site.arn}", "the site function must use the site role")
check(resources.get(("aws_iam_role_policy", "site"), {}).get("policy") == "${data.aws_iam_policy_document.site.json}", "the site role must carry the site policy")
check(site_fn.get("reserved_concurrent_executions") == "${var.site_concurrency}", "the site function's reserved concurrency must be var.site_concurrency")
allowed_site = {
    "dynamodb:GetItem": {table_arn}, "dynamodb:PutItem": {table_arn}, "dynamodb:UpdateItem": {table_arn}, "dynamodb:DeleteItem": {table_arn},
    "dynamodb:ConditionCheckItem": {table_arn}, "dynamodb:Query": {table_arn, index_arn},
    "kms:Encrypt": {"${aws_kms_key.site.arn}"}, "kms:Decrypt": {"${aws_kms_key.site.arn}"},
    "secretsmanager:GetSecretValue": {"${aws_secretsmanager_secret.client.arn}", "${aws_secretsmanager_secret.site_admin.arn}"},
    "s3:GetObject": {"${aws_s3_bucket.data.arn}/runners/*"}, "s3:PutObject": {"${aws_s3_bucket.data.arn}/runners/*"},
    "s3:DeleteObjectVersion": {"${aws_s3_bucket.data.arn}/runners/*"},
    "s3:ListBucketVersions": {"${aws_s3_bucket.data.arn}"}, "s3:ListBucket": {"${aws_s3_bucket.data.arn}"},
    "sqs:SendMessage": {queue_arn},
    "logs:CreateLogStream": {"${aws_cloudwatch_log_group.site.arn}:*"}, "logs:PutLogEvents": {"${aws_cloudwatch_log_group.site.arn}:*"},
}
for a, r in site_policy:
    if a.startswith("s3:"):
        check(r in allowed_site.get(a, set()), f"the site may only read and write runners/* of the bucket ({a} on {r})")
    else:
        check(r in allowed_site.get(a, set()), f"the site may not {a} on {r}")
for a in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "kms:Encrypt", "kms:Decrypt", "s3:GetObject", "s3:PutObject", "s3:DeleteObjectVersion", "sqs:SendMessage"):
    check(any(x == a for x, _ in site_policy), f"the site needs {a}")
for st in site_statements:
    if any(a.startswith("kms:") for a in st.get("actions", [])):
        check(any(c.get("test") == "StringLike" and c.get("variable") == "kms:EncryptionContext:myrunstreak"
                  and set(c.get("values", [])) <= {"smashrun-tokens:*", "pkce-verifier:*"} and c.get("values")
                  for c in st.get("condition", [])),
              "the site's KMS use must be bound to the tokens' and verifiers' encryption contexts (kms:EncryptionContext:myrunstreak)")
    if "s3:ListBucketVersions" in st.get("actions", []):
        check(any(c.get("variable") == "s3:prefix" and c.get("values") == ["runners/*"] for c in st.get("condition", [])),
              "the site may only list the versions under runners/")
site_env = site_fn.get("environment", [{}])[0].get("variables", {})
for name, value in (("MYRUNSTREAK_ACCOUNTS_TABLE", "${aws_dynamodb_table.accounts.name}"), ("MYRUNSTREAK_KMS_KEY_ID", "${aws_kms_key.site.arn}"),
                    ("MYRUNSTREAK_S3_BUCKET", "${aws_s3_bucket.data.bucket}"), ("MYRUNSTREAK_RUNNER_QUEUE_URL", "${aws_sqs_queue.runners.url}"),
                    ("MYRUNSTREAK_CLIENT_SECRET_ID", "${aws_secretsmanager_secret.client.name}"),
                    ("MYRUNSTREAK_ADMIN_TOKEN_SECRET_ID", "${aws_secretsmanager_secret.site_admin.name}"), ("MYRUNSTREAK_SITE_URL", "${local.site_url}")):
    check(site_env.get(name) == value, f"the site function needs {name} = {value}")
check(not any(k in site_env for k in ("MYRUNSTREAK_ADMIN_TOKEN", "SMASHRUN_CLIENT_SECRET")), "no secret in the site function's environment")
site_api = resources.get(("aws_apigatewayv2_api", "site"), {})
check(site_api.get("protocol_type") == "HTTP", "the site must be behind an HTTP API")
site_integration = resources.get(("aws_apigatewayv2_integration", "site"), {})
check(site_integration.get("integration_type") == "AWS_PROXY" and site_integration.get("payload_format_version") == "2.0"
      and site_integration.get("integration_uri") == "${aws_lambda_function.site.invoke_arn}",
      "the site's integration must proxy to the site function with payload 2.0")
check(any(k == "aws_apigatewayv2_route" and b.get("api_id") == "${aws_apigatewayv2_api.site.id}" and b.get("route_key") == "$default"
          and b.get("target") == "integrations/${aws_apigatewayv2_integration.site.id}" for (k, _), b in resources.items()),
      "the site's HTTP API needs a $default route to the site's integration")
site_stage = resources.get(("aws_apigatewayv2_stage", "site"), {})
check(site_stage.get("api_id") == "${aws_apigatewayv2_api.site.id}" and site_stage.get("name") == "$default", "the site's HTTP API needs its $default stage")
check((site_stage.get("access_log_settings") or [{}])[0].get("destination_arn") == "${aws_cloudwatch_log_group.site_access.arn}", "the site's stage needs access logging")
check(resources.get(("aws_cloudwatch_log_group", "site_access"), {}).get("retention_in_days") == "${var.log_retention_days}", "the site's access log needs a retention")
throttle = (site_stage.get("default_route_settings") or [{}])[0]
check(throttle.get("throttling_rate_limit") == "${var.site_throttle_rate}" and throttle.get("throttling_burst_limit") == "${var.site_throttle_burst}",
      "the site's stage must throttle (var.site_throttle_rate, var.site_throttle_burst)")
check(any(k == "aws_lambda_permission" and b.get("principal") == "apigateway.amazonaws.com" and b.get("function_name") == "${aws_lambda_function.site.function_name}"
          and b.get("source_arn") == "${aws_apigatewayv2_api.site.execution_arn}/*/*" for (k, _), b in resources.items()),
      "API Gateway needs permission to invoke the site function, from the site's API only")

print(f"{len(docs)} files, {len(resources)} resources, {len(data)} data sources, {len(variables)} variables, {len(outputs)} outputs")
for failure in failures:
    print("FAIL:", failure)
sys.exit(1 if failures else 0)
