# One CloudWatch dashboard, <environment>-sentiment: streams, delivery, errors, storage, ingest,
# the alarms, and the last stream errors from the logs. Rows of three 8-wide graphs (the grid
# is 24 wide). What each metric means: src/sse/telemetry.py and docs/operations.md.

locals {
  namespace = var.metrics_namespace
  sse_dims  = ["service", "sse", "environment", var.environment]
  dashboard_alarm_arns = concat(
    aws_cloudwatch_metric_alarm.sse_concurrency[*].arn,
    [for alarm in aws_cloudwatch_metric_alarm.function_throttles : alarm.arn],
    [for alarm in aws_cloudwatch_metric_alarm.function_errors : alarm.arn],
    [
      aws_cloudwatch_metric_alarm.rest_5xx.arn,
      aws_cloudwatch_metric_alarm.stream_errors.arn,
      aws_cloudwatch_metric_alarm.delivery_lag.arn,
      aws_cloudwatch_metric_alarm.poll_errors.arn,
      aws_cloudwatch_metric_alarm.dynamodb_throttles.arn,
    ],
    aws_cloudwatch_metric_alarm.no_ingest[*].arn,
  )

  graph = { region = var.aws_region, view = "timeSeries", stacked = false, period = 60 }

  dashboard_widgets = [
    {
      type = "text", x = 0, y = 0, width = 24, height = 2
      properties = {
        markdown = "## ${local.name_prefix}\nStreams on the SSE function (each open stream is one execution environment), the REST API on the dashboard function, both over DynamoDB. What each alarm means and what to do: docs/operations.md in the repository."
      }
    },
    {
      type = "metric", x = 0, y = 2, width = 8, height = 6
      properties = merge(local.graph, {
        title = "Open streams"
        metrics = [
          ["AWS/Lambda", "ConcurrentExecutions", "FunctionName", local.functions.sse, { stat = "Maximum", label = "open streams (SSE concurrency, max)" }],
          [{ expression = "stream_seconds / PERIOD(stream_seconds)", label = "open streams (mean, from StreamSeconds)", id = "mean_open" }],
          concat([local.namespace, "StreamSeconds"], local.sse_dims, [{ stat = "Sum", id = "stream_seconds", visible = false }]),
        ]
        annotations = {
          horizontal = concat(
            local.sse_reserved > 0 ? [{ label = "reserved concurrency (429 beyond)", value = local.sse_reserved }] : [],
            local.sse_concurrency_alarm == null ? [] : [{ label = "alarm", value = local.sse_concurrency_alarm }],
          )
        }
        yAxis = { left = { min = 0 } }
      })
    },
    {
      type = "metric", x = 8, y = 2, width = 8, height = 6
      properties = merge(local.graph, {
        title = "Streams opened, ended (by reason) and refused"
        stat  = "Sum"
        metrics = concat(
          [concat([local.namespace, "StreamsOpened"], local.sse_dims, [{ label = "opened" }])],
          [for reason in local.stream_end_reasons : concat([local.namespace, "StreamsClosed"], local.sse_dims, ["Reason", reason, { label = "ended: ${reason}" }])],
          [
            concat([local.namespace, "StreamsRejected"], local.sse_dims, [{ label = "refused by the app (503)" }]),
            ["AWS/Lambda", "Throttles", "FunctionName", local.functions.sse, { label = "refused by Lambda (429)" }],
          ],
        )
        yAxis = { left = { min = 0 } }
      })
    },
    {
      type = "metric", x = 16, y = 2, width = 8, height = 6
      properties = merge(local.graph, {
        title = "Delivery lag: item stored to item sent (ms)"
        metrics = [
          concat([local.namespace, "DeliveryLag"], local.sse_dims, [{ stat = "p50", label = "p50" }]),
          concat([local.namespace, "DeliveryLag"], local.sse_dims, [{ stat = "p99", label = "p99" }]),
        ]
        annotations = { horizontal = [{ label = "alarm (p99)", value = var.alarm_delivery_lag_p99_ms }] }
        yAxis       = { left = { min = 0 } }
      })
    },
    {
      type = "metric", x = 0, y = 8, width = 8, height = 6
      properties = merge(local.graph, {
        title = "Lambda errors and throttles"
        stat  = "Sum"
        # concat(...), not flatten(): each metric is a list of its own.
        metrics = concat([
          for name, function_name in local.functions : [
            ["AWS/Lambda", "Errors", "FunctionName", function_name, { label = "${name} errors" }],
            ["AWS/Lambda", "Throttles", "FunctionName", function_name, { label = "${name} throttles" }],
          ]
        ]...)
        yAxis = { left = { min = 0 } }
      })
    },
    {
      type = "metric", x = 8, y = 8, width = 8, height = 6
      properties = merge(local.graph, {
        title = "REST API (dashboard Function URL)"
        stat  = "Sum"
        metrics = [
          ["AWS/Lambda", "Url4xxCount", "FunctionName", local.functions.dashboard, { label = "4xx" }],
          ["AWS/Lambda", "Url5xxCount", "FunctionName", local.functions.dashboard, { label = "5xx" }],
          ["AWS/Lambda", "UrlRequestCount", "FunctionName", local.functions.dashboard, { label = "requests", yAxis = "right" }],
        ]
        yAxis = { left = { min = 0 }, right = { min = 0 } }
      })
    },
    {
      type = "metric", x = 16, y = 8, width = 8, height = 6
      properties = merge(local.graph, {
        title = "SSE poller: polls and failed polls (by kind)"
        stat  = "Sum"
        metrics = concat(
          [concat([local.namespace, "Polls"], local.sse_dims, [{ label = "polls", yAxis = "right" }])],
          [for kind in local.poll_error_kinds : concat([local.namespace, "PollErrors"], local.sse_dims, ["Kind", kind, { label = "failed: ${kind}" }])],
          [concat([local.namespace, "StreamsClosed"], local.sse_dims, ["Reason", "error", { label = "streams ended by an error" }])],
        )
        yAxis = { left = { min = 0 }, right = { min = 0 } }
      })
    },
    {
      type = "metric", x = 0, y = 14, width = 8, height = 6
      properties = merge(local.graph, {
        title = "DynamoDB throttle events"
        stat  = "Sum"
        metrics = [
          for id, metric in local.throttle_metrics :
          concat(["AWS/DynamoDB", metric.metric], flatten([for key, value in metric.dimensions : [key, value]]), [{ label = replace(id, "_", " ") }])
        ]
        annotations = { horizontal = [{ label = "alarm (per 5 minutes, all together)", value = var.alarm_dynamodb_throttles_per_5_minutes }] }
        yAxis       = { left = { min = 0 } }
      })
    },
    {
      type = "metric", x = 8, y = 14, width = 8, height = 6
      properties = merge(local.graph, {
        title  = "Ingest: items per 5 minutes"
        stat   = "Sum"
        period = 300
        metrics = [
          concat([local.namespace, "ItemsCreated"], ["service", "dashboard", "environment", var.environment], [{ label = "created" }]),
          concat([local.namespace, "ItemsDuplicate"], ["service", "dashboard", "environment", var.environment], [{ label = "duplicates" }]),
          concat([local.namespace, "EventsSent"], local.sse_dims, ["EventType", "new_item", { label = "delivered on streams", yAxis = "right" }]),
        ]
        yAxis = { left = { min = 0 }, right = { min = 0 } }
      })
    },
    {
      type = "alarm", x = 16, y = 14, width = 8, height = 6
      properties = {
        title  = "Alarms"
        alarms = local.dashboard_alarm_arns
      }
    },
    {
      type = "log", x = 0, y = 20, width = 24, height = 6
      properties = {
        title  = "Streams that ended with an error (newest first)"
        region = var.aws_region
        view   = "table"
        query  = "SOURCE '${aws_cloudwatch_log_group.sse.name}' | ${trimspace(local.log_queries.stream_errors.query)}"
      }
    },
  ]
}

resource "aws_cloudwatch_dashboard" "main" {
  dashboard_name = local.name_prefix
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
