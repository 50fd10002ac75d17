# The dashboard: FastAPI behind Mangum (handler dashboard.handler.handler), BUFFERED Function URL.

resource "aws_lambda_function" "dashboard" {
  #checkov:skip=CKV_AWS_116:Invoked synchronously by its Function URL only; a dead-letter queue applies to asynchronous invocations.
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

  filename         = local.dashboard_zip_path
  source_code_hash = filebase64sha256(local.dashboard_zip_path)

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
}

resource "aws_lambda_function_url" "dashboard" {
  #checkov:skip=CKV_AWS_258:The dashboard is a public page and API by design: ingest checks X-API-Key, configurations a bearer token, the rest is public read-only data.
  function_name      = aws_lambda_function.dashboard.function_name
  authorization_type = "NONE"
  invoke_mode        = "BUFFERED"

  cors {
    allow_origins = var.cors_allowed_origins
    allow_methods = ["GET", "POST", "PATCH", "DELETE"]
    allow_headers = ["content-type", "authorization", "x-api-key"]
    max_age       = var.cors_max_age_seconds
  }
}

# Public Function URLs need resource-policy statements allowing everyone to call them.
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

# 2. lambda:InvokeFunction. Since October 2025, Function URLs created from then on need both
#    actions (https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html). AWS's statement
#    limits this one to URL calls with the condition {"Bool": {"lambda:InvokedViaFunctionUrl":
#    "true"}}, which aws_lambda_permission can only set from provider 6.29 on
#    (invoked_via_function_url = true); hashicorp/aws 5.100 has no argument for it, and no other
#    resource writes Lambda resource policies. Under 5.x this statement is therefore broader:
#    anyone with AWS credentials may also call Invoke on the function directly. That exposes no
#    more than the public URL already does (same code, same in-app auth), but when the provider
#    floor moves to >= 6.29, add `invoked_via_function_url = true` here. To keep the narrow
#    statement instead, set grant_public_invoke_function = false and run once per function:
#      aws lambda add-permission --function-name <name> --statement-id FunctionURLInvokeAllowPublicAccess \
#        --action lambda:InvokeFunction --principal '*' --invoked-via-function-url
resource "aws_lambda_permission" "dashboard_invoke" {
  #checkov:skip=CKV_AWS_301:Required by public Function URLs since 2025 (see the comment above); provider 5.x cannot add the lambda:InvokedViaFunctionUrl condition.
  count = var.grant_public_invoke_function ? 1 : 0

  statement_id  = "AllowPublicInvokeForFunctionUrl"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.dashboard.function_name
  principal     = "*"
}
