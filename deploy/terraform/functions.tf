resource "aws_cloudwatch_log_group" "sync" {
  name              = "/aws/lambda/${local.name}-sync"
  retention_in_days = var.log_retention_days
}

resource "aws_cloudwatch_log_group" "api" {
  name              = "/aws/lambda/${local.name}-api"
  retention_in_days = var.log_retention_days
}

resource "aws_lambda_function" "sync" {
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
    }
  }

  depends_on = [aws_cloudwatch_log_group.sync]
}

resource "aws_lambda_function" "api" {
  function_name    = "${local.name}-api"
  role             = aws_iam_role.api.arn
  runtime          = "provided.al2023"
  architectures    = [var.lambda_architecture]
  handler          = "bootstrap"
  filename         = pathexpand(var.api_zip)
  source_code_hash = filebase64sha256(pathexpand(var.api_zip))
  memory_size      = 256
  timeout          = 10

  environment {
    variables = {
      ENVIRONMENT           = var.environment
      LOG_LEVEL             = "info"
      MYRUNSTREAK_S3_BUCKET = aws_s3_bucket.data.bucket
      MYRUNSTREAK_S3_KEY    = var.db_key
      MYRUNSTREAK_RULE      = var.streak_rule
      MYRUNSTREAK_TIMEZONE  = var.home_timezone
      MYRUNSTREAK_WORK_DIR  = "/tmp/myrunstreak"
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
  api_id    = aws_apigatewayv2_api.http.id
  route_key = "GET /"
  target    = "integrations/${aws_apigatewayv2_integration.api.id}"
}

resource "aws_apigatewayv2_route" "proxy" {
  api_id    = aws_apigatewayv2_api.http.id
  route_key = "GET /{proxy+}"
  target    = "integrations/${aws_apigatewayv2_integration.api.id}"
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.http.id
  name        = "$default"
  auto_deploy = true
}

resource "aws_lambda_permission" "api_gateway" {
  statement_id  = "AllowApiGateway"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.api.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.http.execution_arn}/*/*"
}
