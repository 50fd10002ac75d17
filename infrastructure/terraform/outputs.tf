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
