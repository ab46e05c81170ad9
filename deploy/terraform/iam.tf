data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

# The sync reads and conditionally writes the one object, reads and writes the token secret,
# reads the client secret and the reminder channels, and writes its own logs. Nothing else.
data "aws_iam_policy_document" "sync" {
  statement {
    sid       = "DatabaseObject"
    actions   = ["s3:GetObject", "s3:PutObject"]
    resources = [local.object_arn]
  }
  statement {
    sid       = "TellMissingFromForbidden"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.data.arn]
  }
  statement {
    sid       = "Tokens"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"]
    resources = [aws_secretsmanager_secret.tokens.arn]
  }
  statement {
    sid       = "ClientCredentials"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.client.arn]
  }
  statement {
    sid       = "ReminderChannels"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.notify.arn]
  }
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.sync.arn}:*"]
  }
}

# The API reads the object; its one write, a ledger entry, replaces the object only with
# If-Match (the ETag it read, as the sync does), so it can never overwrite a newer version. It
# reads its own bearer token and never SmashRun's tokens.
data "aws_iam_policy_document" "api" {
  statement {
    sid       = "DatabaseObjectRead"
    actions   = ["s3:GetObject"]
    resources = [local.object_arn]
  }
  statement {
    sid       = "LedgerEntryConditionalWrite"
    actions   = ["s3:PutObject"]
    resources = [local.object_arn]
    condition {
      test     = "Null"
      variable = "s3:if-match"
      values   = ["false"]
    }
  }
  statement {
    sid       = "ApiToken"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.api_token.arn]
  }
  statement {
    sid       = "TellMissingFromForbidden"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.data.arn]
  }
  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.api.arn}:*"]
  }
}

resource "aws_iam_role" "sync" {
  name               = "${local.name}-sync"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "sync" {
  name   = "${local.name}-sync"
  role   = aws_iam_role.sync.id
  policy = data.aws_iam_policy_document.sync.json
}

resource "aws_iam_role" "api" {
  name               = "${local.name}-api"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

resource "aws_iam_role_policy" "api" {
  name   = "${local.name}-api"
  role   = aws_iam_role.api.id
  policy = data.aws_iam_policy_document.api.json
}

# EventBridge Scheduler invokes the sync function (with {"action": "remind"}) and nothing else.
data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "InvokeSync"
    actions   = ["lambda:InvokeFunction"]
    resources = [aws_lambda_function.sync.arn]
  }
}

resource "aws_iam_role" "scheduler" {
  name               = "${local.name}-scheduler"
  assume_role_policy = data.aws_iam_policy_document.scheduler_assume.json
}

resource "aws_iam_role_policy" "scheduler" {
  name   = "${local.name}-scheduler"
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}
