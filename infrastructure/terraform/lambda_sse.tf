# The streams: the SSE app under uvicorn, started by run.sh (the handler) behind the Lambda Web
# Adapter layer, RESPONSE_STREAM Function URL. Each open stream holds one execution environment
# for up to sse_timeout_seconds; the app ends it cleanly before that deadline so the browser
# reconnects with Last-Event-ID.

resource "aws_lambda_function" "sse" {
  #checkov:skip=CKV_AWS_116:Invoked through its Function URL only; asynchronous invocations (this account's principals only) are never retried and expire after 60 s (event invoke config), so nothing is left to dead-letter.
  #checkov:skip=CKV_AWS_117:Talks only to DynamoDB, SSM and CloudWatch public endpoints; a VPC would add NAT or endpoint cost and nothing to protect.
  #checkov:skip=CKV_AWS_173:The environment holds no secrets (only SSM parameter names and settings); Lambda encrypts it at rest with its AWS managed key.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile; the zip is built reproducibly (make package) and its hash is pinned by source_code_hash.
  function_name = local.sse_function_name
  description   = "Sentiment dashboard server-sent events (${var.environment})"
  role          = aws_iam_role.sse.arn
  runtime       = var.lambda_runtime
  architectures = [var.lambda_architecture]
  handler       = "run.sh"
  layers        = [local.lwa_layer_arn]

  # try(): `terraform destroy` evaluates this too, and must work without the zip (make clean);
  # the precondition below still refuses to create or update the function without it.
  filename         = local.sse_zip_path
  source_code_hash = try(filebase64sha256(local.sse_zip_path), null)

  # Reserved concurrency caps the open streams, and so what they can cost (docs/deploy.md,
  # "Concurrency caps").
  memory_size                    = var.sse_memory_mb
  timeout                        = var.sse_timeout_seconds
  reserved_concurrent_executions = var.sse_reserved_concurrency == null ? -1 : var.sse_reserved_concurrency

  environment {
    variables = local.sse_environment
  }

  tracing_config {
    mode = var.tracing_mode
  }

  depends_on = [aws_cloudwatch_log_group.sse, aws_iam_role_policy.sse]

  lifecycle {
    precondition {
      condition     = fileexists(local.sse_zip_path)
      error_message = "${local.sse_zip_path} does not exist: run `make package` at the repository root first."
    }
  }
}

resource "aws_lambda_function_url" "sse" {
  #checkov:skip=CKV_AWS_258:Browsers' EventSource cannot sign requests; config streams authenticate in-app (bearer token or short-lived ticket), the global stream is public data.
  function_name      = aws_lambda_function.sse.function_name
  authorization_type = "NONE"
  invoke_mode        = "RESPONSE_STREAM"

  cors {
    allow_origins = var.cors_allowed_origins
    allow_methods = ["GET"]
    # EventSource sends Last-Event-ID when it reconnects; fetch-based clients send a bearer token
    # and the page's correlation id (EventSource itself puts that in the URL).
    allow_headers = ["last-event-id", "authorization", "content-type", "x-correlation-id"]
    max_age       = var.cors_max_age_seconds
  }
}

# The same public statements as the dashboard's (lambda_dashboard.tf, url_invoke_permissions.tf).
resource "aws_lambda_permission" "sse_url" {
  #checkov:skip=CKV_AWS_301:A public Function URL (auth type NONE) is the design: this statement only allows InvokeFunctionUrl on URLs with auth type NONE; the app authenticates what needs it.
  statement_id           = "AllowPublicFunctionUrl"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.sse.function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}

# A stream invoked asynchronously would hold an environment with no one listening: never retried,
# dropped after a minute (and only principals of this account can invoke it that way).
resource "aws_lambda_function_event_invoke_config" "sse" {
  function_name                = aws_lambda_function.sse.function_name
  maximum_retry_attempts       = 0
  maximum_event_age_in_seconds = 60
}
