# Units are in the names (_mb, _seconds, _days). Every variable is validated where AWS or the
# application (src/sentiment/settings.py) would reject a value later.

# --- deployment -------------------------------------------------------------------------------

variable "aws_region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.aws_region))
    error_message = "aws_region must be a region name such as us-east-1."
  }
}

variable "environment" {
  description = "Environment name (dev, staging, prod...): prefixes every resource name and becomes the app's ENVIRONMENT."
  type        = string

  validation {
    # Same pattern as Settings.ENVIRONMENT; "local" and "test" are the dev stack's, and would let
    # the app accept plain-text secrets.
    condition     = can(regex("^[a-z][a-z0-9-]{0,19}$", var.environment)) && !contains(["local", "test"], var.environment)
    error_message = "environment must match ^[a-z][a-z0-9-]{0,19}$ and must not be \"local\" or \"test\"."
  }
}

variable "tags" {
  description = "Extra tags for every resource (merged into the provider's default tags)."
  type        = map(string)
  default     = {}
}

# --- artifacts (make package) -----------------------------------------------------------------

variable "dashboard_zip_path" {
  description = "Path of the dashboard Lambda zip. null = dist/dashboard.zip at the repository root (path.module/../../dist)."
  type        = string
  default     = null
}

variable "sse_zip_path" {
  description = "Path of the SSE Lambda zip. null = dist/sse.zip at the repository root (path.module/../../dist)."
  type        = string
  default     = null
}

# --- both functions ---------------------------------------------------------------------------

variable "lambda_runtime" {
  description = "Lambda Python runtime of both functions; must match the version the zips were built for (make package LAMBDA_PYTHON_VERSION=...)."
  type        = string
  default     = "python3.12"

  validation {
    condition     = contains(["python3.12", "python3.13", "python3.14"], var.lambda_runtime)
    error_message = "lambda_runtime must be python3.12, python3.13 or python3.14."
  }
}

variable "lambda_architecture" {
  description = "Instruction set of both functions; must match the wheels in the zips (make package LAMBDA_ARCH=...)."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.lambda_architecture)
    error_message = "lambda_architecture must be x86_64 or arm64."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing mode of both functions: PassThrough (no sampling of our own, free) or Active."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["PassThrough", "Active"], var.tracing_mode)
    error_message = "tracing_mode must be PassThrough or Active."
  }
}

variable "log_retention_days" {
  description = "Retention of both functions' CloudWatch log groups, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."
  }
}

variable "logs_kms_key_arn" {
  description = "Customer managed KMS key for the log groups; null = CloudWatch Logs' default encryption. The key policy must allow logs.<region>.amazonaws.com."
  type        = string
  default     = null
}

# --- dashboard function (BUFFERED) -------------------------------------------------------------

variable "dashboard_memory_mb" {
  description = "Memory of the dashboard function, in MB (CPU scales with it)."
  type        = number
  default     = 512

  validation {
    condition     = var.dashboard_memory_mb >= 128 && var.dashboard_memory_mb <= 10240 && floor(var.dashboard_memory_mb) == var.dashboard_memory_mb
    error_message = "dashboard_memory_mb must be a whole number from 128 to 10240."
  }
}

variable "dashboard_timeout_seconds" {
  description = "Timeout of the dashboard function, in seconds."
  type        = number
  default     = 30

  validation {
    condition     = var.dashboard_timeout_seconds >= 3 && var.dashboard_timeout_seconds <= 900
    error_message = "dashboard_timeout_seconds must be from 3 to 900."
  }
}

variable "dashboard_reserved_concurrency" {
  description = "Reserved concurrency of the dashboard function (a cap and a guarantee); null = unreserved (shares the account pool)."
  type        = number
  default     = null

  validation {
    condition     = var.dashboard_reserved_concurrency == null ? true : var.dashboard_reserved_concurrency >= 0
    error_message = "dashboard_reserved_concurrency must be null or >= 0."
  }
}

# --- SSE function (RESPONSE_STREAM behind the Lambda Web Adapter) -------------------------------

variable "sse_memory_mb" {
  description = "Memory of the SSE function, in MB. Every open stream holds one environment for its whole life, so this drives the cost (docs/deploy.md)."
  type        = number
  default     = 256

  validation {
    condition     = var.sse_memory_mb >= 128 && var.sse_memory_mb <= 10240 && floor(var.sse_memory_mb) == var.sse_memory_mb
    error_message = "sse_memory_mb must be a whole number from 128 to 10240."
  }
}

variable "sse_timeout_seconds" {
  description = "Timeout of the SSE function, in seconds: the hard deadline of a stream's invocation (streams end earlier, see sse_max_stream_seconds)."
  type        = number
  default     = 900

  validation {
    condition     = var.sse_timeout_seconds >= 60 && var.sse_timeout_seconds <= 900
    error_message = "sse_timeout_seconds must be from 60 to 900."
  }
}

variable "sse_reserved_concurrency" {
  description = "Reserved concurrency of the SSE function = the most streams open at once across all environments (Lambda answers 429 past it), and so the ceiling of what streams cost (docs/deploy.md). 0 stops all streams; null = unreserved (no cap: one client holding sockets can take the account's whole concurrency)."
  type        = number
  default     = 50

  validation {
    condition     = var.sse_reserved_concurrency == null ? true : (var.sse_reserved_concurrency >= 0 && floor(var.sse_reserved_concurrency) == var.sse_reserved_concurrency)
    error_message = "sse_reserved_concurrency must be null or a whole number >= 0."
  }
}

# The version the LWA documentation lists for zip packages (awslabs.github.io/aws-lambda-web-adapter,
# "Zip Packages": LambdaAdapterLayerX86:26 / LambdaAdapterLayerArm64:26 in commercial regions).
variable "lwa_layer_version" {
  description = "Version of AWS's public Lambda Web Adapter layer (753240598075:layer:LambdaAdapterLayerX86/Arm64) used when lwa_layer_arn is null."
  type        = number
  default     = 26

  validation {
    condition     = var.lwa_layer_version >= 20 && floor(var.lwa_layer_version) == var.lwa_layer_version
    error_message = "lwa_layer_version must be a whole number >= 20 (the layers that support response streaming)."
  }
}

variable "lwa_layer_arn" {
  description = "Lambda Web Adapter layer ARN. null = arn:aws:lambda:<aws_region>:753240598075:layer:LambdaAdapterLayerX86:<lwa_layer_version> (LambdaAdapterLayerArm64 on arm64)."
  type        = string
  default     = null

  validation {
    condition     = var.lwa_layer_arn == null ? true : can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$", var.lwa_layer_arn))
    error_message = "lwa_layer_arn must be a layer version ARN (arn:aws:lambda:<region>:<account>:layer:<name>:<version>)."
  }
}

# --- Function URLs ----------------------------------------------------------------------------

variable "cors_allowed_origins" {
  description = "Origins allowed by both Function URLs' CORS (the pages that call the API and open streams), e.g. [\"https://dashboard.example.com\"]. The SSE URL is always cross-origin to the page: include the dashboard's origin (see docs/deploy.md), or [\"*\"]."
  type        = list(string)

  validation {
    condition     = length(var.cors_allowed_origins) > 0 && alltrue([for origin in var.cors_allowed_origins : origin == "*" || can(regex("^https?://[^/*]+$", origin))])
    error_message = "cors_allowed_origins must be a non-empty list of \"*\" or origins like https://example.com (scheme and host, no path or trailing slash)."
  }
}

variable "cors_max_age_seconds" {
  description = "How long browsers may cache a CORS preflight answer, in seconds."
  type        = number
  default     = 600

  validation {
    condition     = var.cors_max_age_seconds >= 0 && var.cors_max_age_seconds <= 86400
    error_message = "cors_max_age_seconds must be from 0 to 86400."
  }
}

variable "grant_public_invoke_function" {
  description = "Grant everyone lambda:InvokeFunction for calls through the Function URLs only (lambda:InvokedViaFunctionUrl), which Function URLs created since October 2025 require besides lambda:InvokeFunctionUrl. Written by a CloudFormation stack (url_invoke_permissions.tf); set false only if you add that statement yourself."
  type        = bool
  default     = true
}

# --- secrets (SSM SecureString parameters) -----------------------------------------------------

variable "auth_secret" {
  description = "HS256 signing secret of session tokens and stream tickets (stored as an SSM SecureString; the functions get only its name)."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.auth_secret) >= 32
    error_message = "auth_secret must be at least 32 characters (e.g. openssl rand -hex 32)."
  }

  # terraform.tfvars.example is public: its placeholders must never reach a deployment.
  validation {
    condition     = !can(regex("(?i)replace", var.auth_secret))
    error_message = "auth_secret is still the placeholder of terraform.tfvars.example: generate one (openssl rand -hex 32)."
  }
}

variable "auth_secret_previous" {
  description = "The auth_secret before the last rotation: tokens it signed stay valid while it is set (keep it for session_ttl_seconds after a rotation, then unset it). Null or empty: no rotation under way."
  type        = string
  default     = null
  sensitive   = true

  validation {
    # null or "" (an unset CI secret): no rotation under way. length(null) fails, hence try().
    condition     = contains([0, 32], min(32, try(length(var.auth_secret_previous), 0)))
    error_message = "auth_secret_previous must be at least 32 characters (the old auth_secret), or empty."
  }
}

variable "ingest_api_key" {
  description = "API key producers send as X-API-Key to POST /api/v2/items (stored as an SSM SecureString)."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.ingest_api_key) >= 16
    error_message = "ingest_api_key must be at least 16 characters (e.g. openssl rand -hex 24)."
  }

  validation {
    condition     = !can(regex("(?i)replace", var.ingest_api_key))
    error_message = "ingest_api_key is still the placeholder of terraform.tfvars.example: generate one (openssl rand -hex 24)."
  }
}

variable "ssm_kms_key_arn" {
  description = "Customer managed KMS key for the two SecureString parameters; null = the AWS managed key alias/aws/ssm."
  type        = string
  default     = null
}

# --- DynamoDB ---------------------------------------------------------------------------------

variable "dynamodb_kms_key_arn" {
  description = "Customer managed KMS key for the three tables; null = the AWS managed key alias/aws/dynamodb."
  type        = string
  default     = null
}

variable "dynamodb_deletion_protection" {
  description = "Protect the three tables from deletion (turn on for production; terraform destroy then fails until it is off)."
  type        = bool
  default     = false
}

# --- application settings (environment variables; see src/sentiment/settings.py) --------------

variable "item_ttl_days" {
  description = "Days an ingested item is kept before DynamoDB TTL removes it (ITEM_TTL_DAYS)."
  type        = number
  default     = 30

  validation {
    condition     = var.item_ttl_days >= 1 && var.item_ttl_days <= 365
    error_message = "item_ttl_days must be from 1 to 365."
  }
}

variable "index_write_shards" {
  description = "Keys of the by_bucket index each hour's new items are spread over, 1-4 (INDEX_WRITE_SHARDS); readers always merge all 4. Set 1 for the first apply over a deployment from before the sharded index (docs/deploy.md)."
  type        = number
  default     = 4

  validation {
    condition     = contains([1, 2, 3, 4], var.index_write_shards)
    error_message = "index_write_shards must be 1, 2, 3 or 4."
  }
}

variable "dynamodb_connect_timeout_seconds" {
  description = "Seconds the DynamoDB client waits to connect, per attempt (DYNAMODB_CONNECT_TIMEOUT)."
  type        = number
  default     = 2

  validation {
    condition     = var.dynamodb_connect_timeout_seconds > 0 && var.dynamodb_connect_timeout_seconds <= 60
    error_message = "dynamodb_connect_timeout_seconds must be more than 0 and at most 60."
  }
}

variable "dynamodb_read_timeout_seconds" {
  description = "Seconds the DynamoDB client waits for an answer, per attempt (DYNAMODB_READ_TIMEOUT)."
  type        = number
  default     = 5

  validation {
    condition     = var.dynamodb_read_timeout_seconds > 0 && var.dynamodb_read_timeout_seconds <= 60
    error_message = "dynamodb_read_timeout_seconds must be more than 0 and at most 60."
  }
}

variable "dynamodb_max_attempts" {
  description = "Attempts per DynamoDB call, first one included, with standard retries (DYNAMODB_MAX_ATTEMPTS)."
  type        = number
  default     = 4

  validation {
    condition     = var.dynamodb_max_attempts >= 1 && var.dynamodb_max_attempts <= 10
    error_message = "dynamodb_max_attempts must be from 1 to 10."
  }
}

variable "session_ttl_seconds" {
  description = "Lifetime of anonymous session tokens, in seconds (SESSION_TTL_SECONDS)."
  type        = number
  default     = 604800

  validation {
    condition     = var.session_ttl_seconds >= 60
    error_message = "session_ttl_seconds must be at least 60."
  }
}

variable "stream_ticket_ttl_seconds" {
  description = "Lifetime of configuration stream tickets, in seconds (STREAM_TICKET_TTL_SECONDS). Tickets travel in URLs: keep it short (docs/deploy.md, Stream tickets)."
  type        = number
  default     = 30

  validation {
    condition     = var.stream_ticket_ttl_seconds >= 10 && var.stream_ticket_ttl_seconds <= 120
    error_message = "stream_ticket_ttl_seconds must be from 10 to 120."
  }
}

variable "sse_heartbeat_interval_seconds" {
  description = "Seconds between heartbeat events (SSE_HEARTBEAT_INTERVAL)."
  type        = number
  default     = 30

  validation {
    condition     = var.sse_heartbeat_interval_seconds > 0 && var.sse_heartbeat_interval_seconds <= 300
    error_message = "sse_heartbeat_interval_seconds must be > 0 and <= 300."
  }
}

variable "sse_metrics_interval_seconds" {
  description = "Seconds between metrics events (SSE_METRICS_INTERVAL): one BatchGetItem of ~36 counter rows per event per open stream (read cost: docs/deploy.md)."
  type        = number
  default     = 30

  validation {
    condition     = var.sse_metrics_interval_seconds > 0 && var.sse_metrics_interval_seconds <= 60
    error_message = "sse_metrics_interval_seconds must be > 0 and <= 60."
  }
}

variable "sse_poll_interval_seconds" {
  description = "Seconds between two polls for new items (SSE_POLL_INTERVAL): one DynamoDB Query per poll per SSE environment, i.e. per open stream on Lambda (read cost: docs/deploy.md)."
  type        = number
  default     = 1

  validation {
    condition     = var.sse_poll_interval_seconds >= 0.05 && var.sse_poll_interval_seconds <= 60
    error_message = "sse_poll_interval_seconds must be from 0.05 to 60."
  }
}

variable "sse_max_connections" {
  description = "Streams one SSE process accepts before answering 503 (SSE_MAX_CONNECTIONS). On Lambda each environment serves one stream at a time; the real cap is sse_reserved_concurrency."
  type        = number
  default     = 100

  validation {
    condition     = var.sse_max_connections >= 1
    error_message = "sse_max_connections must be at least 1."
  }
}

variable "sse_replay_limit" {
  description = "Most items replayed to a reconnecting stream before it resyncs instead (SSE_REPLAY_LIMIT)."
  type        = number
  default     = 500

  validation {
    condition     = var.sse_replay_limit >= 1 && var.sse_replay_limit <= 10000
    error_message = "sse_replay_limit must be from 1 to 10000."
  }
}

variable "sse_max_stream_seconds" {
  description = "Longest stream lifetime in seconds (SSE_MAX_STREAM_SECONDS): each stream ends after it times a random 0.8-1.0, and never later than 2 s before the invocation's deadline; null = sse_timeout_seconds - 60."
  type        = number
  default     = null

  validation {
    condition     = var.sse_max_stream_seconds == null ? true : (var.sse_max_stream_seconds > 0 && var.sse_max_stream_seconds <= 900)
    error_message = "sse_max_stream_seconds must be null or > 0 and <= 900."
  }
}

variable "metrics_namespace" {
  description = "CloudWatch namespace of the EMF metrics both apps emit (METRICS_NAMESPACE)."
  type        = string
  default     = "SentimentDashboard"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.metrics_namespace))
    error_message = "metrics_namespace must be 1-255 characters of letters, digits and . _ / # : -."
  }
}

# --- monitoring: alarms, dashboard, saved queries (alarms.tf, dashboard.tf, log_queries.tf) -----

variable "alarm_sns_topic_arn" {
  description = "SNS topic every alarm notifies (on ALARM and back to OK). null = create <environment>-sentiment-alarms."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_sns_topic_arn == null ? true : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.alarm_sns_topic_arn))
    error_message = "alarm_sns_topic_arn must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>), or null."
  }
}

variable "alarm_email_addresses" {
  description = "Email addresses subscribed to the topic the module creates (each must confirm the subscription AWS mails it). Ignored when alarm_sns_topic_arn is set."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for address in var.alarm_email_addresses : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", address))])
    error_message = "alarm_email_addresses must be email addresses."
  }
}

variable "alarm_sns_kms_key_arn" {
  description = "Customer managed KMS key for the topic the module creates; its key policy must let cloudwatch.amazonaws.com use it. null = no encryption at rest (alarm messages hold names and numbers, no data); the AWS managed alias/aws/sns cannot be used, CloudWatch may not use it."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_sns_kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/.+$", var.alarm_sns_kms_key_arn))
    error_message = "alarm_sns_kms_key_arn must be a KMS key or alias ARN (arn:aws:kms:<region>:<account>:key/<id>), or null."
  }
}

variable "alarm_sse_concurrency_percent" {
  description = "Alarm when open streams (the SSE function's ConcurrentExecutions) reach this share of sse_reserved_concurrency, in percent. No alarm when the reservation is null or 0."
  type        = number
  default     = 80

  validation {
    condition     = var.alarm_sse_concurrency_percent >= 1 && var.alarm_sse_concurrency_percent <= 100
    error_message = "alarm_sse_concurrency_percent must be from 1 to 100."
  }
}

variable "alarm_delivery_lag_p99_ms" {
  description = "Alarm when the p99 of DeliveryLag (item stored to item sent on a stream), in milliseconds, stays above this in 3 of 5 minutes."
  type        = number
  default     = 5000

  validation {
    condition     = var.alarm_delivery_lag_p99_ms >= 100
    error_message = "alarm_delivery_lag_p99_ms must be at least 100."
  }
}

variable "alarm_errors_per_5_minutes" {
  description = "Alarm when either function's Lambda Errors, the REST API's 5xx answers, or streams ended by an error reach this many in 5 minutes."
  type        = number
  default     = 5

  validation {
    condition     = var.alarm_errors_per_5_minutes >= 1 && floor(var.alarm_errors_per_5_minutes) == var.alarm_errors_per_5_minutes
    error_message = "alarm_errors_per_5_minutes must be a whole number >= 1."
  }
}

variable "alarm_poll_error_minutes" {
  description = "Alarm when the SSE poller fails (PollErrors, any kind) in this many consecutive minutes: a storage outage longer than the client's own retries."
  type        = number
  default     = 3

  validation {
    condition     = var.alarm_poll_error_minutes >= 1 && var.alarm_poll_error_minutes <= 60 && floor(var.alarm_poll_error_minutes) == var.alarm_poll_error_minutes
    error_message = "alarm_poll_error_minutes must be a whole number from 1 to 60."
  }
}

variable "alarm_dynamodb_throttles_per_5_minutes" {
  description = "Alarm when the three tables and the items index together report this many read or write throttle events in 5 minutes."
  type        = number
  default     = 10

  validation {
    condition     = var.alarm_dynamodb_throttles_per_5_minutes >= 1
    error_message = "alarm_dynamodb_throttles_per_5_minutes must be at least 1."
  }
}

variable "alarm_no_ingest_minutes" {
  description = "Alarm when no item has been ingested (ItemsCreated) for this many minutes, a multiple of 5 up to 1440. null = no such alarm (an environment without a producer)."
  type        = number
  default     = 60

  validation {
    condition     = var.alarm_no_ingest_minutes == null ? true : (var.alarm_no_ingest_minutes >= 5 && var.alarm_no_ingest_minutes <= 1440 && var.alarm_no_ingest_minutes % 5 == 0)
    error_message = "alarm_no_ingest_minutes must be null or a multiple of 5 from 5 to 1440."
  }
}
