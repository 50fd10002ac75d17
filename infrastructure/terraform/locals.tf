locals {
  name_prefix = "${var.environment}-sentiment"

  dashboard_function_name = "${local.name_prefix}-dashboard"
  sse_function_name       = "${local.name_prefix}-sse"

  dashboard_zip_path = coalesce(var.dashboard_zip_path, "${path.module}/../../dist/dashboard.zip")
  sse_zip_path       = coalesce(var.sse_zip_path, "${path.module}/../../dist/sse.zip")

  lwa_layer_name = var.lambda_architecture == "arm64" ? "LambdaAdapterLayerArm64" : "LambdaAdapterLayerX86"
  lwa_layer_arn = coalesce(
    var.lwa_layer_arn,
    "arn:${data.aws_partition.current.partition}:lambda:${var.aws_region}:753240598075:layer:${local.lwa_layer_name}:${var.lwa_layer_version}",
  )

  # Every field of sentiment.settings.Settings, once, for both functions (tests/unit/test_drift.py
  # keeps this equal to the class). Secrets are passed by SSM parameter NAME (*_PARAM); the plain
  # AUTH_SECRET / AUTH_SECRET_PREVIOUS / INGEST_API_KEY variables are for the local stack only and
  # never set here.
  # CORS_ALLOWED_ORIGINS stays empty: on AWS the Function URLs' CORS is the only source of CORS
  # headers (app-level CORS as well would send them twice).
  common_environment = {
    ENVIRONMENT                = var.environment
    ITEMS_TABLE                = aws_dynamodb_table.items.name
    COUNTERS_TABLE             = aws_dynamodb_table.counters.name
    CONFIGURATIONS_TABLE       = aws_dynamodb_table.configurations.name
    ITEM_TTL_DAYS              = tostring(var.item_ttl_days)
    INDEX_WRITE_SHARDS         = tostring(var.index_write_shards)
    DYNAMODB_CONNECT_TIMEOUT   = tostring(var.dynamodb_connect_timeout_seconds)
    DYNAMODB_READ_TIMEOUT      = tostring(var.dynamodb_read_timeout_seconds)
    DYNAMODB_MAX_ATTEMPTS      = tostring(var.dynamodb_max_attempts)
    AUTH_SECRET_PARAM          = aws_ssm_parameter.auth_secret.name
    AUTH_SECRET_PREVIOUS_PARAM = aws_ssm_parameter.auth_secret_previous.name
    INGEST_API_KEY_PARAM       = aws_ssm_parameter.ingest_api_key.name
    SESSION_TTL_SECONDS        = tostring(var.session_ttl_seconds)
    STREAM_TICKET_TTL_SECONDS  = tostring(var.stream_ticket_ttl_seconds)
    SSE_URL                    = ""
    CORS_ALLOWED_ORIGINS       = ""
    SSE_HEARTBEAT_INTERVAL     = tostring(var.sse_heartbeat_interval_seconds)
    SSE_METRICS_INTERVAL       = tostring(var.sse_metrics_interval_seconds)
    SSE_POLL_INTERVAL          = tostring(var.sse_poll_interval_seconds)
    SSE_MAX_CONNECTIONS        = tostring(var.sse_max_connections)
    SSE_REPLAY_LIMIT           = tostring(var.sse_replay_limit)
    SSE_MAX_STREAM_SECONDS     = tostring(coalesce(var.sse_max_stream_seconds, var.sse_timeout_seconds - 60))
    METRICS_NAMESPACE          = var.metrics_namespace
  }

  # The dashboard page asks /api/v2/runtime-config where the streams are: the SSE Function URL,
  # without its trailing slash. (The SSE function cannot know its own URL: that would be a cycle.)
  dashboard_environment_overrides = {
    SSE_URL = trimsuffix(aws_lambda_function_url.sse.function_url, "/")
  }
  dashboard_environment = merge(local.common_environment, local.dashboard_environment_overrides)

  # The Lambda Web Adapter: /opt/bootstrap (from the layer) wraps the runtime, starts run.sh and
  # proxies each invocation to uvicorn on AWS_LWA_PORT, streaming the response back. Readiness is
  # probed on /health, not LWA's default "/", which the SSE app does not serve.
  lwa_environment = {
    AWS_LAMBDA_EXEC_WRAPPER      = "/opt/bootstrap"
    AWS_LWA_INVOKE_MODE          = "response_stream"
    AWS_LWA_READINESS_CHECK_PATH = "/health"
    AWS_LWA_PORT                 = "8080"
  }
  sse_environment = merge(local.common_environment, local.lwa_environment)

  # Function URLs return https://<id>.lambda-url.<region>.on.aws/ ; outputs always end in "/"
  # (clients strip it), whatever the API returned.
  dashboard_url = "${trimsuffix(aws_lambda_function_url.dashboard.function_url, "/")}/"
  sse_url       = "${trimsuffix(aws_lambda_function_url.sse.function_url, "/")}/"
}
