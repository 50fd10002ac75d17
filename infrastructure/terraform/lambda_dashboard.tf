# The dashboard: FastAPI behind Mangum (handler dashboard.handler.handler), BUFFERED Function URL.

resource "aws_lambda_function" "dashboard" {
  #checkov:skip=CKV_AWS_116:Invoked through its Function URL only; asynchronous invocations (this account's principals only) are never retried and expire after 60 s (event invoke config), so nothing is left to dead-letter.
  #checkov:skip=CKV_AWS_117:Talks only to DynamoDB, SSM and CloudWatch public endpoints; a VPC would add NAT or endpoint cost and nothing to protect.
  #checkov:skip=CKV_AWS_173:The environment holds no secrets (only SSM parameter names and settings); Lambda encrypts it at rest with its AWS managed key.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile; the zip is built reproducibly (make package) and its hash is pinned by source_code_hash.
  #checkov:skip=CKV_AWS_115:Concurrency is a variable (dashboard_reserved_concurrency), unreserved by default so the API scales with the account pool.
  function_name = local.dashboard_function_name
  description   = "Sentiment dashboard REST API and page (${var.environment})"
  role          = aws_iam_role.dashboard.arn
  runtime       = var.lambda_runtime
  architectures = [var.lambda_architecture]
  handler       = "dashboard.handler.handler"

  # try(): `terraform destroy` evaluates this too, and must work without the zip (make clean);
  # the precondition below still refuses to create or update the function without it.
  filename         = local.dashboard_zip_path
  source_code_hash = try(filebase64sha256(local.dashboard_zip_path), null)

  memory_size                    = var.dashboard_memory_mb
  timeout                        = var.dashboard_timeout_seconds
  reserved_concurrent_executions = var.dashboard_reserved_concurrency == null ? -1 : var.dashboard_reserved_concurrency

  environment {
    variables = local.dashboard_environment
  }

  tracing_config {
    mode = var.tracing_mode
  }

  # The log group (with its retention) and the role's permissions exist before the first invoke.
  depends_on = [aws_cloudwatch_log_group.dashboard, aws_iam_role_policy.dashboard]

  lifecycle {
    precondition {
      condition     = fileexists(local.dashboard_zip_path)
      error_message = "${local.dashboard_zip_path} does not exist: run `make package` at the repository root first."
    }
  }
}

resource "aws_lambda_function_url" "dashboard" {
  #checkov:skip=CKV_AWS_258:The dashboard is a public page and API by design: ingest checks X-API-Key, configurations a bearer token, the rest is public read-only data.
  function_name      = aws_lambda_function.dashboard.function_name
  authorization_type = "NONE"
  invoke_mode        = "BUFFERED"

  cors {
    allow_origins = var.cors_allowed_origins
    allow_methods = ["GET", "POST", "PATCH", "DELETE"]
    allow_headers = ["content-type", "authorization", "x-api-key", "x-correlation-id"]
    max_age       = var.cors_max_age_seconds
  }
}

# Public Function URLs need resource-policy statements allowing everyone to call them through
# the URL, and only through it (url_invoke_permissions.tf holds the second one, for both
# functions).
#
# 1. lambda:InvokeFunctionUrl, limited to URLs with auth type NONE. (The provider also adds a
#    statement "FunctionURLAllowPublicAccess" when it creates a NONE URL; this one is explicit and
#    tracked in the state, hence its own statement id.)
resource "aws_lambda_permission" "dashboard_url" {
  #checkov:skip=CKV_AWS_301:A public Function URL (auth type NONE) is the design: this statement only allows InvokeFunctionUrl on URLs with auth type NONE; the app authenticates what needs it.
  statement_id           = "AllowPublicFunctionUrl"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.dashboard.function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}

# Asynchronous invocations: only principals of this account may make any (the public statements
# hold for URL calls only), and the dashboard has none of its own. Should one happen, it is not
# retried and is dropped after a minute.
resource "aws_lambda_function_event_invoke_config" "dashboard" {
  function_name                = aws_lambda_function.dashboard.function_name
  maximum_retry_attempts       = 0
  maximum_event_age_in_seconds = 60
}
