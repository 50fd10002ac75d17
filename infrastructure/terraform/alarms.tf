# What pages someone: one alarm per way the product breaks, each named in docs/operations.md
# with what it means, how to confirm it and what to do (tests/unit/test_monitoring.py checks
# every alarm_name below appears there). Every alarm notifies one SNS topic on ALARM and on OK.
#
# The app's own metrics (EMF, namespace var.metrics_namespace) carry the dimensions service and
# environment, plus at most one of Reason, Kind or EventType (src/sse/telemetry.py); the
# dashboard's ItemsCreated has service = "dashboard". Lambda's and DynamoDB's come from AWS.

locals {
  alarm_topic_arn = coalesce(var.alarm_sns_topic_arn, try(aws_sns_topic.alarms[0].arn, null))
  runbook         = "Runbook: docs/operations.md"

  # Dimensions of the app's metrics, per service (sentiment/observability.py).
  sse_metric_dimensions       = { service = "sse", environment = var.environment }
  dashboard_metric_dimensions = { service = "dashboard", environment = var.environment }

  # Values of the metrics' one extra dimension, as src/sse/telemetry.py writes them
  # (tests/unit/test_monitoring.py keeps these equal to the code).
  stream_end_reasons = ["lifetime", "client_gone", "slow_subscriber", "error"]
  poll_error_kinds   = ["throttled", "timeout", "unavailable", "rejected", "error"]

  functions = {
    dashboard = aws_lambda_function.dashboard.function_name
    sse       = aws_lambda_function.sse.function_name
  }

  # Open streams that trigger the concurrency alarm: a share of the reservation, at least 1
  # (no alarm without a reservation: nothing to be near).
  sse_reserved          = coalesce(var.sse_reserved_concurrency, 0)
  sse_concurrency_alarm = local.sse_reserved > 0 ? max(1, ceil(local.sse_reserved * var.alarm_sse_concurrency_percent / 100)) : null

  # The metrics the two sum alarms add up (PutMetricAlarm takes at most 10 per alarm).
  poll_error_metrics = {
    for kind in local.poll_error_kinds : "kind_${kind}" => merge(local.sse_metric_dimensions, { Kind = kind })
  }
  throttle_sources = {
    items           = { TableName = aws_dynamodb_table.items.name }
    items_by_bucket = { TableName = aws_dynamodb_table.items.name, GlobalSecondaryIndexName = "by_bucket" }
    counters        = { TableName = aws_dynamodb_table.counters.name }
    configurations  = { TableName = aws_dynamodb_table.configurations.name }
  }
  throttle_metrics = merge([
    for id, dimensions in local.throttle_sources : {
      "read_${id}"  = { metric = "ReadThrottleEvents", dimensions = dimensions }
      "write_${id}" = { metric = "WriteThrottleEvents", dimensions = dimensions }
    }
  ]...)
}

resource "aws_sns_topic" "alarms" {
  #checkov:skip=CKV_AWS_26:Alarm messages hold alarm names and metric values, no data. CloudWatch cannot publish to a topic encrypted with the AWS managed key (alias/aws/sns): encryption needs a customer managed key whose policy admits cloudwatch.amazonaws.com, one variable away (alarm_sns_kms_key_arn).
  count = var.alarm_sns_topic_arn == null ? 1 : 0

  name              = "${local.name_prefix}-alarms"
  kms_master_key_id = var.alarm_sns_kms_key_arn
}

resource "aws_sns_topic_subscription" "alarm_email" {
  for_each = var.alarm_sns_topic_arn == null ? toset(var.alarm_email_addresses) : toset([])

  topic_arn = aws_sns_topic.alarms[0].arn
  protocol  = "email"
  endpoint  = each.value
}

# --- streams ------------------------------------------------------------------------------------

# Every open stream is one SSE execution environment, so ConcurrentExecutions is the number of
# open streams; at the reservation Lambda refuses the next stream with 429.
resource "aws_cloudwatch_metric_alarm" "sse_concurrency" {
  count = local.sse_concurrency_alarm == null ? 0 : 1

  alarm_name          = "${local.name_prefix}-sse-concurrency-near-limit"
  alarm_description   = "Open streams (SSE ConcurrentExecutions) reached ${var.alarm_sse_concurrency_percent}% of the reservation of ${coalesce(var.sse_reserved_concurrency, 0)}; at the reservation new streams get 429. ${local.runbook}"
  namespace           = "AWS/Lambda"
  metric_name         = "ConcurrentExecutions"
  dimensions          = { FunctionName = local.functions.sse }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  threshold           = local.sse_concurrency_alarm
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "stream_errors" {
  alarm_name          = "${local.name_prefix}-stream-errors"
  alarm_description   = "Streams ended by an error in the SSE app (StreamsClosed, Reason = error): at least ${var.alarm_errors_per_5_minutes} in 5 minutes. ${local.runbook}"
  namespace           = var.metrics_namespace
  metric_name         = "StreamsClosed"
  dimensions          = merge(local.sse_metric_dimensions, { Reason = "error" })
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.alarm_errors_per_5_minutes
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "delivery_lag" {
  alarm_name          = "${local.name_prefix}-delivery-lag-p99"
  alarm_description   = "p99 of DeliveryLag (item stored to item sent) above ${var.alarm_delivery_lag_p99_ms} ms in 3 of 5 minutes. ${local.runbook}"
  namespace           = var.metrics_namespace
  metric_name         = "DeliveryLag"
  dimensions          = local.sse_metric_dimensions
  extended_statistic  = "p99"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.alarm_delivery_lag_p99_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]
}

# Failed polls of any kind, every minute for alarm_poll_error_minutes: DynamoDB has been failing
# the SSE app for longer than the storage client's own retries.
resource "aws_cloudwatch_metric_alarm" "poll_errors" {
  alarm_name          = "${local.name_prefix}-poll-errors"
  alarm_description   = "The SSE poller failed (PollErrors, any Kind) in ${var.alarm_poll_error_minutes} consecutive minutes: streams stay open but get no new items. ${local.runbook}"
  evaluation_periods  = var.alarm_poll_error_minutes
  datapoints_to_alarm = var.alarm_poll_error_minutes
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]

  metric_query {
    id          = "failed_polls"
    label       = "failed polls, every kind"
    expression  = "SUM(FILL([${join(", ", keys(local.poll_error_metrics))}], 0))"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = local.poll_error_metrics
    content {
      id = metric_query.key
      metric {
        namespace   = var.metrics_namespace
        metric_name = "PollErrors"
        dimensions  = metric_query.value
        period      = 60
        stat        = "Sum"
      }
    }
  }
}

# --- functions ----------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  for_each = local.functions

  alarm_name          = "${local.name_prefix}-${each.key}-errors"
  alarm_description   = "Invocations of ${each.value} that failed (Lambda Errors: an unhandled error, a crash or a timeout): at least ${var.alarm_errors_per_5_minutes} in 5 minutes. ${local.runbook}"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.alarm_errors_per_5_minutes
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "function_throttles" {
  for_each = local.functions

  alarm_name          = "${local.name_prefix}-${each.key}-throttles"
  alarm_description   = "Lambda refused invocations of ${each.value} (Throttles; callers got 429): ${each.key == "sse" ? "the streams' reserved concurrency is used up" : "the account's unreserved concurrency is used up"}. ${local.runbook}"
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = each.value }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]
}

# 5xx answers the dashboard's app gives (storage unavailable, a bug) are not Lambda Errors: the
# invocation itself succeeds. The Function URL counts them.
resource "aws_cloudwatch_metric_alarm" "rest_5xx" {
  alarm_name          = "${local.name_prefix}-dashboard-5xx"
  alarm_description   = "The REST API answered 5xx (Url5xxCount of the dashboard Function URL) at least ${var.alarm_errors_per_5_minutes} times in 5 minutes. ${local.runbook}"
  namespace           = "AWS/Lambda"
  metric_name         = "Url5xxCount"
  dimensions          = { FunctionName = local.functions.dashboard }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.alarm_errors_per_5_minutes
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]
}

# --- storage and ingest ---------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "dynamodb_throttles" {
  alarm_name          = "${local.name_prefix}-dynamodb-throttles"
  alarm_description   = "DynamoDB throttled reads or writes (Read/WriteThrottleEvents of the three tables and the items index): at least ${var.alarm_dynamodb_throttles_per_5_minutes} in 5 minutes. ${local.runbook}"
  evaluation_periods  = 1
  threshold           = var.alarm_dynamodb_throttles_per_5_minutes
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]

  metric_query {
    id          = "throttles"
    label       = "throttle events, every table"
    expression  = "SUM(FILL([${join(", ", keys(local.throttle_metrics))}], 0))"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = local.throttle_metrics
    content {
      id = metric_query.key
      metric {
        namespace   = "AWS/DynamoDB"
        metric_name = metric_query.value.metric
        dimensions  = metric_query.value.dimensions
        period      = 300
        stat        = "Sum"
      }
    }
  }
}

# No ItemsCreated at all is missing data, not 0, so missing data breaches here.
resource "aws_cloudwatch_metric_alarm" "no_ingest" {
  count = var.alarm_no_ingest_minutes == null ? 0 : 1

  alarm_name          = "${local.name_prefix}-no-ingest"
  alarm_description   = "No item ingested (ItemsCreated) for ${coalesce(var.alarm_no_ingest_minutes, 0)} minutes: the producers stopped, or their POSTs fail. ${local.runbook}"
  namespace           = var.metrics_namespace
  metric_name         = "ItemsCreated"
  dimensions          = local.dashboard_metric_dimensions
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = coalesce(var.alarm_no_ingest_minutes, 5) / 5
  datapoints_to_alarm = coalesce(var.alarm_no_ingest_minutes, 5) / 5
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = [local.alarm_topic_arn]
  ok_actions          = [local.alarm_topic_arn]
}
