# MyRunStreak.com's web function (issue 14): the site's router on Lambda behind an HTTP API.
#
#   browser / script -> API Gateway HTTP API ($default route, payload 2.0, throttled)
#     -> site function: sessions, API tokens and accounts in the accounts table, tokens sealed
#        by the site's key, each runner's pages and /api/v1 from a cached copy of their own
#        object runners/{runner id}/runs.duckdb (fresh by ETag), changes written back with
#        If-Match (the worker's own conditional write), "Sync now" and a new runner's first
#        sync sent to the runners queue for the worker.

locals {
  # the public address: var.site_url when the operator has a domain in front, else the API's own
  site_url = var.site_url != "" ? var.site_url : aws_apigatewayv2_api.site.api_endpoint
}

# The operator's bearer token for /admin: {"admin_token": "..."}; without a value, no /admin.
resource "aws_secretsmanager_secret" "site_admin" {
  #checkov:skip=CKV_AWS_149:Secrets Manager's AWS managed key encrypts it; only the site role reads it, and a CMK would add a key a month but no separation IAM does not already give
  #checkov:skip=CKV2_AWS_57:the operator sets the token by hand and uses it in their own scripts; a rotation function would break them without telling
  name        = "${local.name}/site/admin"
  description = "The operator's bearer token for the site's /admin: {\"admin_token\": \"...\"}. No value: /admin stays disabled."
}

resource "aws_cloudwatch_log_group" "site" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs already encrypts log data at rest; a KMS CMK would cost a key a month and a key policy for the logs service, for logs that hold no token (none is ever logged)
  #checkov:skip=CKV_AWS_338:retention is var.log_retention_days (30 days by default): the logs serve to debug recent syncs and requests, the data itself is versioned in S3
  name              = "/aws/lambda/${local.name}-site"
  retention_in_days = var.log_retention_days
}

# The HTTP API's access log: who called which route, with what status (never a cookie).
resource "aws_cloudwatch_log_group" "site_access" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs already encrypts log data at rest; a KMS CMK would cost a key a month and a key policy for the logs service, for logs that hold no token (none is ever logged)
  #checkov:skip=CKV_AWS_338:retention is var.log_retention_days (30 days by default): the logs serve to debug recent syncs and requests, the data itself is versioned in S3
  name              = "/aws/apigateway/${local.name}-site"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "site" {
  #checkov:skip=CKV_AWS_116:API Gateway invokes the function synchronously and gets its errors; a dead-letter queue only receives failed asynchronous invocations
  #checkov:skip=CKV_AWS_117:the function reaches SmashRun on the internet (sign-in) and no private resource: in a VPC it would need a NAT gateway (about $32 a month) for nothing to protect
  #checkov:skip=CKV_AWS_272:the zip is built and deployed from the operator's machine (scripts/build-lambda, then terraform apply) with no signing step (AWS Signer) in between to verify
  #checkov:skip=CKV_AWS_173:the environment holds no secret, only the names of the table, key, bucket, queue and secrets (the values are in KMS and Secrets Manager), and Lambda encrypts it at rest with its AWS managed key
  #checkov:skip=CKV_AWS_50:X-Ray traces cost per trace and the code has no X-Ray instrumentation; JSON logs carry the request id instead
  function_name    = "${local.name}-site"
  role             = aws_iam_role.site.arn
  runtime          = "provided.al2023"
  architectures    = [var.lambda_architecture]
  handler          = "bootstrap"
  filename         = pathexpand(var.site_zip)
  source_code_hash = filebase64sha256(pathexpand(var.site_zip))
  memory_size      = 1024
  timeout          = 29
  # the landing page and sign-in are public: cap what a flood of requests can run up
  reserved_concurrent_executions = var.site_concurrency

  ephemeral_storage {
    # the cached copies of the runners' mirrors (MYRUNSTREAK_MIRROR_COPIES of them)
    size = 2048
  }

  environment {
    variables = {
      ENVIRONMENT                         = var.environment
      LOG_LEVEL                           = "info"
      MYRUNSTREAK_SITE_URL                = local.site_url
      MYRUNSTREAK_ACCOUNTS_TABLE          = aws_dynamodb_table.accounts.name
      MYRUNSTREAK_KMS_KEY_ID              = aws_kms_key.site.arn
      MYRUNSTREAK_S3_BUCKET               = aws_s3_bucket.data.bucket
      MYRUNSTREAK_RUNNER_QUEUE_URL        = aws_sqs_queue.runners.url
      MYRUNSTREAK_CLIENT_SECRET_ID        = aws_secretsmanager_secret.client.name
      MYRUNSTREAK_ADMIN_TOKEN_SECRET_ID   = aws_secretsmanager_secret.site_admin.name
      MYRUNSTREAK_WORK_DIR                = "/tmp/myrunstreak"
      MYRUNSTREAK_MIRROR_CHECK_SECONDS    = var.site_mirror_check_seconds
      MYRUNSTREAK_MIRROR_COPIES           = var.site_mirror_copies
      MYRUNSTREAK_SITE_ROUTERS            = var.site_mirror_copies
      MYRUNSTREAK_MAX_RUNNERS             = var.site_max_runners
      MYRUNSTREAK_RULE                    = var.streak_rule
      MYRUNSTREAK_SITE_SYNC_EVERY_MINUTES = var.site_sync_every_minutes
    }
  }

  depends_on = [aws_cloudwatch_log_group.site]
}

# --- the HTTP API

resource "aws_apigatewayv2_api" "site" {
  name          = "${local.name}-site"
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_integration" "site" {
  api_id                 = aws_apigatewayv2_api.site.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.site.invoke_arn
  payload_format_version = "2.0"
}

# Every path goes to the site's router, which answers 401 to what needs a session.
resource "aws_apigatewayv2_route" "site" {
  #checkov:skip=CKV_AWS_309:the site authenticates every request itself (session cookie checked against the accounts table, or a personal API token's hash), and its landing page, sign-in and public pages must be reachable without either
  api_id    = aws_apigatewayv2_api.site.id
  route_key = "$default"
  target    = "integrations/${aws_apigatewayv2_integration.site.id}"
}

resource "aws_apigatewayv2_stage" "site" {
  api_id      = aws_apigatewayv2_api.site.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit  = var.site_throttle_rate
    throttling_burst_limit = var.site_throttle_burst
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.site_access.arn
    format = jsonencode({
      requestId = "$context.requestId"
      ip        = "$context.identity.sourceIp"
      time      = "$context.requestTime"
      method    = "$context.httpMethod"
      path      = "$context.path"
      status    = "$context.status"
      bytes     = "$context.responseLength"
      latencyMs = "$context.integrationLatency"
      error     = "$context.integrationErrorMessage"
    })
  }
}

resource "aws_lambda_permission" "site_api_gateway" {
  statement_id  = "AllowSiteApiGateway"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.site.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.site.execution_arn}/*/*"
}

# --- IAM

# The site reads and writes the accounts (runners, sessions, API tokens, logins in progress,
# each kept unique by claim items written in transactions), seals and opens only the runners'
# tokens and PKCE verifiers under their encryption contexts, reads the app's SmashRun
# credentials and the operator's token, reads and conditionally writes runners/* of the bucket
# (and deletes every version there when an account is deleted), and asks for syncs on the queue.
data "aws_iam_policy_document" "site" {
  statement {
    sid = "AccountsReadWrite"
    actions = [
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
      "dynamodb:Query",
      "dynamodb:ConditionCheckItem",
    ]
    resources = [aws_dynamodb_table.accounts.arn]
  }
  statement {
    sid       = "RunnersByAge"
    actions   = ["dynamodb:Query"]
    resources = ["${aws_dynamodb_table.accounts.arn}/index/runners"]
  }
  statement {
    sid       = "SealRunnerTokensAndVerifiers"
    actions   = ["kms:Encrypt", "kms:Decrypt"]
    resources = [aws_kms_key.site.arn]
    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:myrunstreak"
      values   = ["smashrun-tokens:*", "pkce-verifier:*"]
    }
  }
  statement {
    sid       = "Secrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.client.arn, aws_secretsmanager_secret.site_admin.arn]
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
    # without it S3 answers 403 instead of 404 for a runner whose first sync has not finished;
    # it lists key names, never an object's content
    sid       = "TellMissingFromForbidden"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.data.arn]
  }
  statement {
    sid       = "AskForSyncs"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.runners.arn]
  }
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.site.arn}:*"]
  }
}

resource "aws_iam_role" "site" {
  name               = "${local.name}-site"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "site" {
  name   = "${local.name}-site"
  role   = aws_iam_role.site.id
  policy = data.aws_iam_policy_document.site.json
}

# --- alarms

# The site answers with server errors (the function failed, or timed out).
resource "aws_cloudwatch_metric_alarm" "site_errors" {
  alarm_name          = "${local.name}-site-errors"
  alarm_description   = "The site's function failed or timed out on requests in the last hour."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.site.function_name }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}
