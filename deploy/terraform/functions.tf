resource "aws_cloudwatch_log_group" "sync" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs already encrypts log data at rest; a KMS CMK would cost a key a month and a key policy for the logs service, for logs that hold no token (none is ever logged)
  #checkov:skip=CKV_AWS_338:retention is var.log_retention_days (30 days by default): the logs serve to debug recent syncs and requests, the data itself is versioned in S3
  name              = "/aws/lambda/${local.name}-sync"
  retention_in_days = var.log_retention_days
}

resource "aws_cloudwatch_log_group" "api" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs already encrypts log data at rest; a KMS CMK would cost a key a month and a key policy for the logs service, for logs that hold no token (none is ever logged)
  #checkov:skip=CKV_AWS_338:retention is var.log_retention_days (30 days by default): the logs serve to debug recent syncs and requests, the data itself is versioned in S3
  name              = "/aws/lambda/${local.name}-api"
  retention_in_days = var.log_retention_days
}

# The HTTP API's access log: who called which route, with what status.
resource "aws_cloudwatch_log_group" "api_access" {
  #checkov:skip=CKV_AWS_158:CloudWatch Logs already encrypts log data at rest; a KMS CMK would cost a key a month and a key policy for the logs service, for logs that hold no token (none is ever logged)
  #checkov:skip=CKV_AWS_338:retention is var.log_retention_days (30 days by default): the logs serve to debug recent syncs and requests, the data itself is versioned in S3
  name              = "/aws/apigateway/${local.name}-api"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "sync" {
  #checkov:skip=CKV_AWS_116:a failed sync (the event is EventBridge's schedule, nothing to replay) raises the sync_errors alarm, and the next day's sync catches up
  #checkov:skip=CKV_AWS_117:the function reaches SmashRun on the internet and no private resource: in a VPC it would need a NAT gateway (about $32 a month) for nothing to protect
  #checkov:skip=CKV_AWS_272:the zip is built and deployed from the operator's machine (scripts/build-lambda, then terraform apply) with no signing step (AWS Signer) in between to verify
  #checkov:skip=CKV_AWS_173:the environment holds no secret, only the names of the bucket, object and secrets (the values are in Secrets Manager), and Lambda encrypts it at rest with its AWS managed key
  #checkov:skip=CKV_AWS_50:X-Ray traces cost per trace and the code has no X-Ray instrumentation; JSON logs carry the request id instead
  function_name    = "${local.name}-sync"
  role             = aws_iam_role.sync.arn
  runtime          = "provided.al2023"
  architectures    = [var.lambda_architecture]
  handler          = "bootstrap"
  filename         = pathexpand(var.sync_zip)
  source_code_hash = filebase64sha256(pathexpand(var.sync_zip))
  memory_size      = 512
  timeout          = 300
  # one sync at a time; the ETag condition guards against the rest
  reserved_concurrent_executions = 1

  environment {
    variables = {
      ENVIRONMENT                  = var.environment
      LOG_LEVEL                    = "info"
      MYRUNSTREAK_S3_BUCKET        = aws_s3_bucket.data.bucket
      MYRUNSTREAK_S3_KEY           = var.db_key
      MYRUNSTREAK_TOKENS_SECRET_ID = aws_secretsmanager_secret.tokens.name
      MYRUNSTREAK_CLIENT_SECRET_ID = aws_secretsmanager_secret.client.name
      MYRUNSTREAK_WORK_DIR         = "/tmp/myrunstreak"
      MYRUNSTREAK_RULE             = var.streak_rule
      MYRUNSTREAK_TIMEZONE         = var.home_timezone
      MYRUNSTREAK_REMIND_AT        = join(",", var.remind_at)
      MYRUNSTREAK_NOTIFY_SECRET_ID = aws_secretsmanager_secret.notify.name
      MYRUNSTREAK_STATUS_BUCKET    = var.status_bucket_name
      MYRUNSTREAK_MAIL_FROM        = var.mail_from
    }
  }

  depends_on = [aws_cloudwatch_log_group.sync]
}

resource "aws_lambda_function" "api" {
  #checkov:skip=CKV_AWS_116:API Gateway invokes the function synchronously and gets its errors; a dead-letter queue only receives failed asynchronous invocations
  #checkov:skip=CKV_AWS_117:the function reaches SmashRun on the internet and no private resource: in a VPC it would need a NAT gateway (about $32 a month) for nothing to protect
  #checkov:skip=CKV_AWS_272:the zip is built and deployed from the operator's machine (scripts/build-lambda, then terraform apply) with no signing step (AWS Signer) in between to verify
  #checkov:skip=CKV_AWS_173:the environment holds no secret, only the names of the bucket, object and secrets (the values are in Secrets Manager), and Lambda encrypts it at rest with its AWS managed key
  #checkov:skip=CKV_AWS_50:X-Ray traces cost per trace and the code has no X-Ray instrumentation; JSON logs carry the request id instead
  function_name    = "${local.name}-api"
  role             = aws_iam_role.api.arn
  runtime          = "provided.al2023"
  architectures    = [var.lambda_architecture]
  handler          = "bootstrap"
  filename         = pathexpand(var.api_zip)
  source_code_hash = filebase64sha256(pathexpand(var.api_zip))
  memory_size      = 256
  timeout          = 10
  # the read endpoints are public: cap what a flood of requests can run up
  reserved_concurrent_executions = var.api_concurrency

  environment {
    variables = {
      ENVIRONMENT           = var.environment
      LOG_LEVEL             = "info"
      MYRUNSTREAK_S3_BUCKET           = aws_s3_bucket.data.bucket
      MYRUNSTREAK_S3_KEY              = var.db_key
      MYRUNSTREAK_RULE                = var.streak_rule
      MYRUNSTREAK_TIMEZONE            = var.home_timezone
      MYRUNSTREAK_WORK_DIR            = "/tmp/myrunstreak"
      MYRUNSTREAK_API_TOKEN_SECRET_ID = aws_secretsmanager_secret.api_token.name
    }
  }

  depends_on = [aws_cloudwatch_log_group.api]
}

# The daily sync.
resource "aws_cloudwatch_event_rule" "daily_sync" {
  name                = "${local.name}-daily-sync"
  description         = "Mirror SmashRun into the DuckDB file once a day."
  schedule_expression = var.sync_schedule
}

resource "aws_cloudwatch_event_target" "daily_sync" {
  rule = aws_cloudwatch_event_rule.daily_sync.name
  arn  = aws_lambda_function.sync.arn
}

resource "aws_lambda_permission" "events" {
  statement_id  = "AllowEventBridge"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.sync.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.daily_sync.arn
}

# Reminders: one schedule per local time, in the runner's own zone, so that 18:00 stays 18:00
# across daylight-saving changes. The function runs `remind --at-due` (it syncs first).
resource "aws_scheduler_schedule" "remind" {
  #checkov:skip=CKV_AWS_297:the schedule's only input is {"action": "remind"}, no data of the runner's; EventBridge encrypts it with its AWS owned key, and a CMK would add a key a month for nothing to protect
  for_each                     = toset(var.remind_at)
  name                         = "${local.name}-remind-${replace(each.value, ":", "")}"
  description                  = "Remind the runner at ${each.value} ${var.home_timezone} when today's run is still missing."
  schedule_expression          = "cron(${tonumber(split(":", each.value)[1])} ${tonumber(split(":", each.value)[0])} * * ? *)"
  schedule_expression_timezone = var.home_timezone

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.sync.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode({ action = "remind" })

    retry_policy {
      maximum_event_age_in_seconds = 900
      maximum_retry_attempts       = 2
    }
  }

  lifecycle {
    precondition {
      condition     = var.home_timezone != ""
      error_message = "reminders need home_timezone set to an IANA zone such as America/New_York: a fixed offset would be an hour off across daylight-saving changes."
    }
  }
}

# The API behind an HTTP API (payload v2), read-only routes.
resource "aws_apigatewayv2_api" "http" {
  name          = "${local.name}-api"
  protocol_type = "HTTP"
}

resource "aws_apigatewayv2_integration" "api" {
  api_id                 = aws_apigatewayv2_api.http.id
  integration_type       = "AWS_PROXY"
  integration_uri        = aws_lambda_function.api.invoke_arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_route" "root" {
  #checkov:skip=CKV_AWS_309:the read endpoints are public by design (the dashboard, an embeddable badge.svg); the GET routes read; the one write (POST /api/v1/ledger) has its own route behind the bearer token
  api_id    = aws_apigatewayv2_api.http.id
  route_key = "GET /"
  target    = "integrations/${aws_apigatewayv2_integration.api.id}"
}

# The one write: a ledger entry, behind the bearer token of the api_token secret.
resource "aws_apigatewayv2_route" "ledger_post" {
  #checkov:skip=CKV_AWS_309:the function checks the bearer token itself (constant-time, from Secrets Manager), as `myrunstreak serve` does; an API Gateway authorizer would be a second Lambda for the same check
  api_id    = aws_apigatewayv2_api.http.id
  route_key = "POST /api/v1/ledger"
  target    = "integrations/${aws_apigatewayv2_integration.api.id}"
}

resource "aws_apigatewayv2_route" "proxy" {
  #checkov:skip=CKV_AWS_309:the read endpoints are public by design (the dashboard, an embeddable badge.svg); the GET routes read; the one write (POST /api/v1/ledger) has its own route behind the bearer token
  api_id    = aws_apigatewayv2_api.http.id
  route_key = "GET /{proxy+}"
  target    = "integrations/${aws_apigatewayv2_integration.api.id}"
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.http.id
  name        = "$default"
  auto_deploy = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format          = jsonencode({
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

resource "aws_lambda_permission" "api_gateway" {
  statement_id  = "AllowApiGateway"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.api.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.http.execution_arn}/*/*"
}
