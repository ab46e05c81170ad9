# The many-runner site (issue 14) on AWS: every runner's mirror is an object of its own,
# runners/{runner id}/runs.duckdb in the data bucket, kept in step by two functions:
#
#   EventBridge Scheduler (var.site_fanout_schedule)
#     -> fan-out function: the runners due (the app's due_order over the accounts table)
#     -> SQS queue "runners": one message per runner due
#     -> worker function (event source mapping, partial batch failures): one runner's object
#        checked out, synced, uploaded with If-Match; a message that fails every try goes to the
#        dead-letter queue, whose alarm calls the operator.
#
# The accounts (runners, health, sessions, API tokens, logins) are in one DynamoDB table; the
# runners' SmashRun tokens are sealed by the site's KMS key under the encryption context
# {"myrunstreak": "smashrun-tokens:{runner id}"} before they reach it.

data "aws_caller_identity" "current" {}

locals {
  # One invocation syncs up to var.worker_batch_size runners, one after the other.
  worker_timeout = 900
}

# --- the key that seals the runners' tokens

resource "aws_kms_key" "site" {
  description             = "Seals the site's SmashRun tokens (encryption context myrunstreak = smashrun-tokens:{runner id})."
  enable_key_rotation     = true
  deletion_window_in_days = 30
  # The account administers the key through IAM; the worker's role may use it only under the
  # tokens' encryption context (its policy below).
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministersThroughIam"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

resource "aws_kms_alias" "site" {
  name          = "alias/${local.name}-site"
  target_key_id = aws_kms_key.site.key_id
}

# --- the accounts

resource "aws_dynamodb_table" "accounts" {
  #checkov:skip=CKV_AWS_119:encrypted with DynamoDB's AWS managed key; what must stay secret never reaches the table in the clear (tokens are sealed by aws_kms_key.site under each runner's encryption context, sessions and API tokens are SHA-256 hashes), and a CMK here would add a DynamoDB grant path to the key for nothing more to protect
  name                        = "${local.name}-accounts"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk"
  range_key                   = "sk"
  deletion_protection_enabled = true

  attribute {
    name = "pk"
    type = "S"
  }
  attribute {
    name = "sk"
    type = "S"
  }
  attribute {
    name = "runner_list"
    type = "S"
  }
  attribute {
    name = "runner_order"
    type = "S"
  }

  # runner items only, oldest account first: the fan-out's list of runners
  global_secondary_index {
    name            = "runners"
    hash_key        = "runner_list"
    range_key       = "runner_order"
    projection_type = "ALL"
  }

  # sessions and logins in progress carry `expires` (epoch seconds)
  ttl {
    attribute_name = "expires"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}

# --- the queue of runners to sync

resource "aws_sqs_queue" "runners_dlq" {
  name                      = "${local.name}-runners-dlq"
  sqs_managed_sse_enabled   = true
  message_retention_seconds = 1209600
}

resource "aws_sqs_queue" "runners" {
  name                    = "${local.name}-runners"
  sqs_managed_sse_enabled = true
  # AWS's advice for a Lambda event source: six times the function's timeout
  visibility_timeout_seconds = 6 * local.worker_timeout
  # a message older than a day is stale: the fan-out has enqueued the runner again since
  message_retention_seconds = 86400
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.runners_dlq.arn
    maxReceiveCount     = var.worker_max_receives
  })
}

resource "aws_sqs_queue_redrive_allow_policy" "runners_dlq" {
  queue_url = aws_sqs_queue.runners_dlq.id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.runners.arn]
  })
}

# --- the functions

resource "aws_cloudwatch_log_group" "fanout" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs already encrypts log data at rest; a KMS CMK would cost a key a month and a key policy for the logs service, for logs that hold no token (none is ever logged)
  #checkov:skip=CKV_AWS_338:retention is var.log_retention_days (30 days by default): the logs serve to debug recent syncs and requests, the data itself is versioned in S3
  name              = "/aws/lambda/${local.name}-fanout"
  retention_in_days = var.log_retention_days
}

resource "aws_cloudwatch_log_group" "worker" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs already encrypts log data at rest; a KMS CMK would cost a key a month and a key policy for the logs service, for logs that hold no token (none is ever logged)
  #checkov:skip=CKV_AWS_338:retention is var.log_retention_days (30 days by default): the logs serve to debug recent syncs and requests, the data itself is versioned in S3
  name              = "/aws/lambda/${local.name}-worker"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "fanout" {
  #checkov:skip=CKV_AWS_116:a failed fan-out raises the fanout_errors alarm, the schedule retries it, and the next round (var.site_fanout_schedule) enqueues whoever is still due
  #checkov:skip=CKV_AWS_117:the function reaches only AWS APIs (DynamoDB, SQS) and no private resource: in a VPC it would need endpoints or a NAT gateway for nothing to protect
  #checkov:skip=CKV_AWS_272:the zip is built and deployed from the operator's machine (scripts/build-lambda, then terraform apply) with no signing step (AWS Signer) in between to verify
  #checkov:skip=CKV_AWS_173:the environment holds no secret, only the names of the table and the queue, and Lambda encrypts it at rest with its AWS managed key
  #checkov:skip=CKV_AWS_50:X-Ray traces cost per trace and the code has no X-Ray instrumentation; JSON logs carry the request id instead
  function_name    = "${local.name}-fanout"
  role             = aws_iam_role.fanout.arn
  runtime          = "provided.al2023"
  architectures    = [var.lambda_architecture]
  handler          = "bootstrap"
  filename         = pathexpand(var.fanout_zip)
  source_code_hash = filebase64sha256(pathexpand(var.fanout_zip))
  memory_size      = 256
  timeout          = 60
  # one round at a time
  reserved_concurrent_executions = 1

  environment {
    variables = {
      ENVIRONMENT                         = var.environment
      LOG_LEVEL                           = "info"
      MYRUNSTREAK_ACCOUNTS_TABLE          = aws_dynamodb_table.accounts.name
      MYRUNSTREAK_RUNNER_QUEUE_URL        = aws_sqs_queue.runners.url
      MYRUNSTREAK_SITE_SYNC_EVERY_MINUTES = var.site_sync_every_minutes
    }
  }

  depends_on = [aws_cloudwatch_log_group.fanout]
}

resource "aws_lambda_function" "worker" {
  #checkov:skip=CKV_AWS_116:SQS invokes the function synchronously; a message that fails var.worker_max_receives times goes to the queue's own dead-letter queue (runners_dlq), which has an alarm
  #checkov:skip=CKV_AWS_117:the function reaches SmashRun on the internet and no private resource: in a VPC it would need a NAT gateway (about $32 a month) for nothing to protect
  #checkov:skip=CKV_AWS_272:the zip is built and deployed from the operator's machine (scripts/build-lambda, then terraform apply) with no signing step (AWS Signer) in between to verify
  #checkov:skip=CKV_AWS_173:the environment holds no secret, only the names of the table, key, bucket and client secret (the values are in KMS and Secrets Manager), and Lambda encrypts it at rest with its AWS managed key
  #checkov:skip=CKV_AWS_50:X-Ray traces cost per trace and the code has no X-Ray instrumentation; JSON logs carry the request id instead
  function_name    = "${local.name}-worker"
  role             = aws_iam_role.worker.arn
  runtime          = "provided.al2023"
  architectures    = [var.lambda_architecture]
  handler          = "bootstrap"
  filename         = pathexpand(var.worker_zip)
  source_code_hash = filebase64sha256(pathexpand(var.worker_zip))
  memory_size      = 1024
  timeout          = local.worker_timeout
  # the site's global limit on syncs at once (each invocation syncs one runner at a time)
  reserved_concurrent_executions = var.worker_concurrency

  environment {
    variables = {
      ENVIRONMENT                         = var.environment
      LOG_LEVEL                           = "info"
      MYRUNSTREAK_ACCOUNTS_TABLE          = aws_dynamodb_table.accounts.name
      MYRUNSTREAK_KMS_KEY_ID              = aws_kms_key.site.arn
      MYRUNSTREAK_S3_BUCKET               = aws_s3_bucket.data.bucket
      MYRUNSTREAK_CLIENT_SECRET_ID        = aws_secretsmanager_secret.client.name
      MYRUNSTREAK_WORK_DIR                = "/tmp/myrunstreak"
      MYRUNSTREAK_RULE                    = var.streak_rule
      MYRUNSTREAK_SITE_SYNC_EVERY_MINUTES = var.site_sync_every_minutes
    }
  }

  depends_on = [aws_cloudwatch_log_group.worker]
}

resource "aws_lambda_event_source_mapping" "worker" {
  event_source_arn = aws_sqs_queue.runners.arn
  function_name    = aws_lambda_function.worker.arn
  batch_size       = var.worker_batch_size
  # the worker names the messages that failed; the others are done
  function_response_types = ["ReportBatchItemFailures"]

  # no more pollers than the function may run: messages are not throttled into the DLQ
  scaling_config {
    maximum_concurrency = var.worker_concurrency
  }
}

# --- the schedule

resource "aws_scheduler_schedule" "fanout" {
  #checkov:skip=CKV_AWS_297:the schedule's only input names the schedule, no data of a runner's; EventBridge encrypts it with its AWS owned key, and a CMK would add a key a month for nothing to protect
  name                = "${local.name}-fanout"
  description         = "Enqueue every runner due for a sync (each is synced every var.site_sync_every_minutes)."
  schedule_expression = var.site_fanout_schedule

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.fanout.arn
    role_arn = aws_iam_role.site_scheduler.arn
    input    = jsonencode({ source = "${local.name}-fanout" })

    retry_policy {
      maximum_event_age_in_seconds = 600
      maximum_retry_attempts       = 2
    }
  }
}

# --- alarms

# A runner's sync failed every try: its message is in the dead-letter queue.
resource "aws_cloudwatch_metric_alarm" "runner_dlq" {
  alarm_name          = "${local.name}-runner-dlq"
  alarm_description   = "A runner's sync failed every try; its message waits in the dead-letter queue (redrive it once fixed)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.runners_dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

# The fan-out failed (the accounts could not be read, or SQS did not take a message).
resource "aws_cloudwatch_metric_alarm" "fanout_errors" {
  alarm_name          = "${local.name}-fanout-errors"
  alarm_description   = "The site's fan-out failed: runners due may not have been enqueued."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.fanout.function_name }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

# --- IAM

# The fan-out reads the accounts (runners by the index, their health by key) and sends to the
# queue. Nothing else: it cannot write an account, open a token or read a mirror.
data "aws_iam_policy_document" "fanout" {
  statement {
    sid     = "AccountsRead"
    actions = ["dynamodb:GetItem", "dynamodb:Query"]
    resources = [
      aws_dynamodb_table.accounts.arn,
      "${aws_dynamodb_table.accounts.arn}/index/runners",
    ]
  }
  statement {
    sid       = "EnqueueRunners"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.runners.arn]
  }
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.fanout.arn}:*"]
  }
}

# The worker takes messages from the queue, reads and writes accounts (health, refreshed
# tokens), seals and opens tokens only under the tokens' encryption context, reads the app's
# SmashRun credentials, and reads and writes runners/* of the bucket and nothing else of it.
data "aws_iam_policy_document" "worker" {
  statement {
    sid       = "TakeRunners"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.runners.arn]
  }
  statement {
    sid = "AccountsReadWrite"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:ConditionCheckItem",
    ]
    resources = [aws_dynamodb_table.accounts.arn]
  }
  statement {
    sid       = "SealRunnerTokens"
    actions   = ["kms:Encrypt", "kms:Decrypt"]
    resources = [aws_kms_key.site.arn]
    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:myrunstreak"
      values   = ["smashrun-tokens:*"]
    }
  }
  statement {
    sid       = "ClientCredentials"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.client.arn]
  }
  statement {
    sid       = "RunnerObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObjectVersion"]
    resources = ["${aws_s3_bucket.data.arn}/runners/*"]
  }
  statement {
    sid       = "RunnerObjectVersions"
    actions   = ["s3:ListBucketVersions"]
    resources = [aws_s3_bucket.data.arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["runners/*"]
    }
  }
  statement {
    # without it S3 answers 403 instead of 404 for a runner's first (missing) object; it
    # lists key names, never an object's content
    sid       = "TellMissingFromForbidden"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.data.arn]
  }
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.worker.arn}:*"]
  }
}

resource "aws_iam_role" "fanout" {
  name               = "${local.name}-fanout"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "fanout" {
  name   = "${local.name}-fanout"
  role   = aws_iam_role.fanout.id
  policy = data.aws_iam_policy_document.fanout.json
}

resource "aws_iam_role" "worker" {
  name               = "${local.name}-worker"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "worker" {
  name   = "${local.name}-worker"
  role   = aws_iam_role.worker.id
  policy = data.aws_iam_policy_document.worker.json
}

# EventBridge Scheduler invokes the fan-out and nothing else.
data "aws_iam_policy_document" "site_scheduler" {
  statement {
    sid       = "InvokeFanout"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.fanout.arn]
  }
}

resource "aws_iam_role" "site_scheduler" {
  name               = "${local.name}-site-scheduler"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
}

resource "aws_iam_role_policy" "site_scheduler" {
  name   = "${local.name}-site-scheduler"
  role   = aws_iam_role.site_scheduler.id
  policy = data.aws_iam_policy_document.site_scheduler.json
}

# --- outputs

output "accounts_table" {
  description = "The site's accounts table (DynamoDB)."
  value       = aws_dynamodb_table.accounts.name
}

output "runner_queue_url" {
  description = "The queue of runners to sync (SQS); a message {\"runner_id\": \"...\", \"mode\": \"full\"} asks for a full sync."
  value       = aws_sqs_queue.runners.url
}

output "runner_dlq_url" {
  description = "The dead-letter queue of runner syncs that failed every try."
  value       = aws_sqs_queue.runners_dlq.url
}

output "site_key_alias" {
  description = "The KMS key that seals the runners' tokens."
  value       = aws_kms_alias.site.name
}
