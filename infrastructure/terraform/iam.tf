# One role per function, each allowed exactly the calls its code makes (src/sentiment/store):
#
#   dashboard  items:          PutItem (the ingest transaction's conditional Put), GetItem (/health)
#              items/by_bucket, items/by_bucket_r1: Query (listings; a process reads one copy)
#              counters:       UpdateItem (the ingest transaction's Updates), BatchGetItem (metrics)
#              counters/by_rank: Query (the most mentioned tickers, metrics)
#              configurations: Query, GetItem, PutItem, UpdateItem, DeleteItem (create/delete are
#                              transactions with the per-user count row)
#              SSM:            the signing secrets (current, previous) and the ingest key
#   sse        items/by_bucket, items/by_bucket_r1: Query (the poller and Last-Event-ID replay)
#              counters:       BatchGetItem (metrics events)
#              counters/by_rank: Query (metrics events)
#              configurations: GetItem (config streams check the owner)
#              SSM:            the signing secrets only (tokens and tickets); never the ingest key
#
# TransactWriteItems has no IAM action of its own: each action inside a transaction is authorized
# as PutItem / UpdateItem / DeleteItem. No Scan and no BatchWriteItem anywhere (the dev stack's
# bulk loader is not deployed). Logs go to each function's own log group only.

locals {
  signing_secret_arns   = [aws_ssm_parameter.auth_secret.arn, aws_ssm_parameter.auth_secret_previous.arn]
  dashboard_secret_arns = concat(local.signing_secret_arns, [aws_ssm_parameter.ingest_api_key.arn])
  items_by_bucket_index_arns = [
    "${aws_dynamodb_table.items.arn}/index/by_bucket",
    "${aws_dynamodb_table.items.arn}/index/by_bucket_r1",
  ]
  counters_by_rank_index_arn = "${aws_dynamodb_table.counters.arn}/index/by_rank"
  kms_key_for_ssm = coalesce(
    var.ssm_kms_key_arn,
    "arn:${data.aws_partition.current.partition}:kms:${var.aws_region}:${data.aws_caller_identity.current.account_id}:key/*",
  )
}

data "aws_iam_policy_document" "lambda_assume_role" {
  statement {
    sid     = "LambdaAssumeRole"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }

    # Confused-deputy guard: only Lambda acting for this account.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

# --- dashboard --------------------------------------------------------------------------------

resource "aws_iam_role" "dashboard" {
  name               = "${local.dashboard_function_name}-role"
  description        = "Dashboard Lambda (${var.environment}): REST API over the sentiment tables"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume_role.json
}

data "aws_iam_policy_document" "dashboard" {
  statement {
    sid       = "ItemsIngestAndHealth"
    actions   = ["dynamodb:PutItem", "dynamodb:GetItem"]
    resources = [aws_dynamodb_table.items.arn]
  }

  statement {
    sid       = "ItemsByBucketIndex"
    actions   = ["dynamodb:Query"]
    resources = local.items_by_bucket_index_arns
  }

  statement {
    sid       = "Counters"
    actions   = ["dynamodb:UpdateItem", "dynamodb:BatchGetItem"]
    resources = [aws_dynamodb_table.counters.arn]
  }

  statement {
    sid       = "CountersByRankIndex"
    actions   = ["dynamodb:Query"]
    resources = [local.counters_by_rank_index_arn]
  }

  statement {
    sid = "Configurations"
    actions = [
      "dynamodb:Query",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:UpdateItem",
      "dynamodb:DeleteItem",
    ]
    resources = [aws_dynamodb_table.configurations.arn]
  }

  statement {
    sid       = "Secrets"
    actions   = ["ssm:GetParameter"]
    resources = local.dashboard_secret_arns
  }

  statement {
    sid       = "DecryptSecretsViaSsm"
    actions   = ["kms:Decrypt"]
    resources = [local.kms_key_for_ssm]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ssm.${var.aws_region}.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:PARAMETER_ARN"
      values   = local.dashboard_secret_arns
    }
  }

  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.dashboard.arn}:*"]
  }

  dynamic "statement" {
    for_each = var.tracing_mode == "Active" ? [1] : []
    content {
      sid = "XRayTraces"
      # X-Ray has no resource-level permissions for these two actions.
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "dashboard" {
  name   = "${local.dashboard_function_name}-access"
  role   = aws_iam_role.dashboard.id
  policy = data.aws_iam_policy_document.dashboard.json
}

# --- sse --------------------------------------------------------------------------------------

resource "aws_iam_role" "sse" {
  name               = "${local.sse_function_name}-role"
  description        = "SSE Lambda (${var.environment}): read-only streams over the sentiment tables"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume_role.json
}

data "aws_iam_policy_document" "sse" {
  statement {
    sid       = "ItemsByBucketIndex"
    actions   = ["dynamodb:Query"]
    resources = local.items_by_bucket_index_arns
  }

  statement {
    sid       = "CountersRead"
    actions   = ["dynamodb:BatchGetItem"]
    resources = [aws_dynamodb_table.counters.arn]
  }

  statement {
    sid       = "CountersByRankIndex"
    actions   = ["dynamodb:Query"]
    resources = [local.counters_by_rank_index_arn]
  }

  statement {
    sid       = "ConfigurationOwnerCheck"
    actions   = ["dynamodb:GetItem"]
    resources = [aws_dynamodb_table.configurations.arn]
  }

  statement {
    sid       = "AuthSecret"
    actions   = ["ssm:GetParameter"]
    resources = local.signing_secret_arns
  }

  statement {
    sid       = "DecryptAuthSecretViaSsm"
    actions   = ["kms:Decrypt"]
    resources = [local.kms_key_for_ssm]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ssm.${var.aws_region}.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:PARAMETER_ARN"
      values   = local.signing_secret_arns
    }
  }

  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.sse.arn}:*"]
  }

  dynamic "statement" {
    for_each = var.tracing_mode == "Active" ? [1] : []
    content {
      sid = "XRayTraces"
      # X-Ray has no resource-level permissions for these two actions.
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "sse" {
  name   = "${local.sse_function_name}-access"
  role   = aws_iam_role.sse.id
  policy = data.aws_iam_policy_document.sse.json
}
