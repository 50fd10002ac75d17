# Saved CloudWatch Logs Insights queries (Logs Insights > Saved queries, folder
# <environment>-sentiment). Pick the time range in the console: a saved query does not keep one.
# The fields they read are the ones both apps write (src/sentiment/request_context.py, listed in
# docs/operations.md); tests/unit/test_monitoring.py checks every field they name is one of them.

locals {
  log_groups = {
    dashboard = aws_cloudwatch_log_group.dashboard.name
    sse       = aws_cloudwatch_log_group.sse.name
  }

  log_queries = {
    stream_errors = {
      name       = "Streams that ended with an error"
      log_groups = [local.log_groups.sse]
      query      = <<-EOT
        fields @timestamp, connection_id, config_id, correlation_id, function_request_id, duration_seconds
        | filter message = "stream closed" and reason = "error"
        | sort @timestamp desc
        | limit 100
      EOT
    }
    slowest_deliveries = {
      name       = "Slowest deliveries (per stream, once it ended)"
      log_groups = [local.log_groups.sse]
      query      = <<-EOT
        fields @timestamp, max_delivery_lag_ms, items_delivered, connection_id, config_id, correlation_id, reason
        | filter message = "stream closed" and items_delivered > 0
        | sort max_delivery_lag_ms desc
        | limit 50
      EOT
    }
    rejected_clients = {
      name       = "Top rejected clients"
      log_groups = values(local.log_groups)
      query      = <<-EOT
        filter message = "request rejected"
        | stats count(*) as rejected, count_distinct(correlation_id) as pages by client_ip, status
        | sort rejected desc
        | limit 25
      EOT
    }
    stream_opens_by_client = {
      name       = "Stream opens by client"
      log_groups = [local.log_groups.sse]
      query      = <<-EOT
        filter message = "stream opened"
        | stats count(*) as streams, count_distinct(correlation_id) as pages by client_ip
        | sort streams desc
        | limit 25
      EOT
    }
    stream_endings = {
      name       = "Why streams ended"
      log_groups = [local.log_groups.sse]
      query      = <<-EOT
        filter message = "stream closed"
        | stats count(*) as streams, avg(duration_seconds) as mean_seconds by reason
        | sort streams desc
      EOT
    }
    storage_outages = {
      name       = "Storage outages and failures"
      log_groups = values(local.log_groups)
      query      = <<-EOT
        fields @timestamp, service, message, kind, error, failures, outage_seconds, path
        | filter message in ["storage poll failing", "storage poll recovered", "storage unavailable", "storage rejected the request", "replay read failed; retrying"]
        | sort @timestamp desc
        | limit 100
      EOT
    }
    one_page = {
      name       = "Everything one page did (edit the correlation id)"
      log_groups = values(local.log_groups)
      query      = <<-EOT
        fields @timestamp, service, message, status, path, connection_id, reason, function_request_id
        | filter correlation_id = "PASTE-THE-CORRELATION-ID"
        | sort @timestamp asc
        | limit 200
      EOT
    }
  }
}

resource "aws_cloudwatch_query_definition" "saved" {
  for_each = local.log_queries

  name            = "${local.name_prefix}/${each.value.name}"
  log_group_names = each.value.log_groups
  query_string    = trimspace(each.value.query)
}
