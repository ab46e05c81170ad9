resource "aws_sns_topic" "alarms" {
  #checkov:skip=CKV_AWS_26:the topic carries alarm state changes, no data; CloudWatch alarms cannot publish to a topic encrypted with SNS's AWS managed key (its key policy cannot let CloudWatch in), and a CMK costs a key a month for that
  name = "${local.name}-alarms"
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.alarm_email == "" ? 0 : 1
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

# Any failed sync (the function returns an error for every failure).
resource "aws_cloudwatch_metric_alarm" "sync_errors" {
  alarm_name          = "${local.name}-sync-errors"
  alarm_description   = "The daily sync failed."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.sync.function_name }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

# No successful sync in 36 hours: invocations minus errors over one 36-hour period.
resource "aws_cloudwatch_metric_alarm" "no_recent_success" {
  alarm_name          = "${local.name}-no-sync-in-36h"
  alarm_description   = "No successful sync in the last 36 hours."
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]

  metric_query {
    id          = "successes"
    expression  = "invocations - errors"
    label       = "Successful syncs"
    return_data = true
  }
  metric_query {
    id = "invocations"
    metric {
      namespace   = "AWS/Lambda"
      metric_name = "Invocations"
      dimensions  = { FunctionName = aws_lambda_function.sync.function_name }
      period      = 129600
      stat        = "Sum"
    }
  }
  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/Lambda"
      metric_name = "Errors"
      dimensions  = { FunctionName = aws_lambda_function.sync.function_name }
      period      = 129600
      stat        = "Sum"
    }
  }
}
