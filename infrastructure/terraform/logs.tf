# Lambda writes to /aws/lambda/<function name>; creating the groups here (before the functions)
# sets their retention and lets each role be scoped to its own group.

resource "aws_cloudwatch_log_group" "dashboard" {
  #checkov:skip=CKV_AWS_338:Retention is a variable (log_retention_days, default 30 days); a year of debug logs is a cost decision per environment.
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest by default; a customer managed key is one variable away (logs_kms_key_arn).
  name              = "/aws/lambda/${local.dashboard_function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
}

resource "aws_cloudwatch_log_group" "sse" {
  #checkov:skip=CKV_AWS_338:Retention is a variable (log_retention_days, default 30 days); a year of debug logs is a cost decision per environment.
  #checkov:skip=CKV_AWS_158:CloudWatch Logs encrypts at rest by default; a customer managed key is one variable away (logs_kms_key_arn).
  name              = "/aws/lambda/${local.sse_function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
}
