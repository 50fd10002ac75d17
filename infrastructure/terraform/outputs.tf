output "dashboard_function_url" {
  description = "Dashboard Function URL (BUFFERED): the page and the REST API. Ends in \"/\"."
  value       = local.dashboard_url
}

output "sse_lambda_function_url" {
  description = "SSE Function URL (RESPONSE_STREAM): every stream path. Ends in \"/\"."
  value       = local.sse_url
}

output "dashboard_origin" {
  description = "Origin of the dashboard page (scheme and host), for cors_allowed_origins."
  value       = trimsuffix(local.dashboard_url, "/")
}

output "aws_region" {
  description = "Region of the deployment (where make deploy-check reads the ingest key from SSM)."
  value       = var.aws_region
}

output "dashboard_function_name" {
  description = "Name of the dashboard Lambda function."
  value       = aws_lambda_function.dashboard.function_name
}

output "sse_function_name" {
  description = "Name of the SSE Lambda function."
  value       = aws_lambda_function.sse.function_name
}

output "items_table_name" {
  description = "DynamoDB table of items (ITEMS_TABLE)."
  value       = aws_dynamodb_table.items.name
}

output "counters_table_name" {
  description = "DynamoDB table of counters (COUNTERS_TABLE)."
  value       = aws_dynamodb_table.counters.name
}

output "configurations_table_name" {
  description = "DynamoDB table of configurations (CONFIGURATIONS_TABLE)."
  value       = aws_dynamodb_table.configurations.name
}

output "auth_secret_parameter_name" {
  description = "SSM parameter holding the token signing secret (AUTH_SECRET_PARAM)."
  value       = aws_ssm_parameter.auth_secret.name
}

output "ingest_api_key_parameter_name" {
  description = "SSM parameter holding the ingest API key (INGEST_API_KEY_PARAM); read it with aws ssm get-parameter --with-decryption."
  value       = aws_ssm_parameter.ingest_api_key.name
}

output "log_group_names" {
  description = "CloudWatch log groups of the two functions."
  value = {
    dashboard = aws_cloudwatch_log_group.dashboard.name
    sse       = aws_cloudwatch_log_group.sse.name
  }
}

output "alarm_topic_arn" {
  description = "SNS topic every alarm notifies (created, or alarm_sns_topic_arn): subscribe the on-call rotation to it."
  value       = local.alarm_topic_arn
}

output "alarm_names" {
  description = "Every CloudWatch alarm of the deployment; docs/operations.md says what each means and what to do."
  value = sort(concat(
    aws_cloudwatch_metric_alarm.sse_concurrency[*].alarm_name,
    [for alarm in aws_cloudwatch_metric_alarm.function_errors : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.function_throttles : alarm.alarm_name],
    [
      aws_cloudwatch_metric_alarm.rest_5xx.alarm_name,
      aws_cloudwatch_metric_alarm.stream_errors.alarm_name,
      aws_cloudwatch_metric_alarm.delivery_lag.alarm_name,
      aws_cloudwatch_metric_alarm.poll_errors.alarm_name,
      aws_cloudwatch_metric_alarm.dynamodb_throttles.alarm_name,
    ],
    aws_cloudwatch_metric_alarm.no_ingest[*].alarm_name,
  ))
}

output "cloudwatch_dashboard_url" {
  description = "The CloudWatch dashboard of the deployment, in the console."
  value       = "https://${var.aws_region}.console.aws.amazon.com/cloudwatch/home?region=${var.aws_region}#dashboards/dashboard/${aws_cloudwatch_dashboard.main.dashboard_name}"
}

output "log_query_names" {
  description = "Saved Logs Insights queries (CloudWatch > Logs Insights > Saved queries)."
  value       = sort([for query in aws_cloudwatch_query_definition.saved : query.name])
}
