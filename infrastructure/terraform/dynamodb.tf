# Keys, attribute types, indexes and TTL attributes mirror src/sentiment/store/tables.py
# (ITEMS, COUNTERS, CONFIGURATIONS); tests/unit/test_drift.py fails when the two differ.
# All three: on-demand billing, point-in-time recovery, server-side encryption with KMS.

resource "aws_dynamodb_table" "items" {
  #checkov:skip=CKV_AWS_119:Encrypted with KMS; the AWS managed key (alias/aws/dynamodb) is the default and a customer managed key is one variable away (dynamodb_kms_key_arn).
  name                        = "${local.name_prefix}-items"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "item_id"
  deletion_protection_enabled = var.dynamodb_deletion_protection

  attribute {
    name = "item_id"
    type = "S"
  }

  attribute {
    name = "bucket"
    type = "S"
  }

  attribute {
    name = "position"
    type = "S"
  }

  # "Items after position P": partition = UTC hour of ingested_at and the item's index shard
  # (src/sentiment/store/index.py), sort = ingested_at#item_id. by_bucket_r1 is an identical
  # copy: each reader queries one of the two, so each key takes half the streams' polls.
  global_secondary_index {
    name            = "by_bucket"
    hash_key        = "bucket"
    range_key       = "position"
    projection_type = "ALL"
  }

  global_secondary_index {
    name            = "by_bucket_r1"
    hash_key        = "bucket"
    range_key       = "position"
    projection_type = "ALL"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.dynamodb_kms_key_arn
  }
}

resource "aws_dynamodb_table" "counters" {
  #checkov:skip=CKV_AWS_119:Encrypted with KMS; the AWS managed key (alias/aws/dynamodb) is the default and a customer managed key is one variable away (dynamodb_kms_key_arn).
  name                        = "${local.name_prefix}-counters"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "counter_id"
  deletion_protection_enabled = var.dynamodb_deletion_protection

  attribute {
    name = "counter_id"
    type = "S"
  }

  attribute {
    name = "rank_key"
    type = "S"
  }

  attribute {
    name = "total"
    type = "N"
  }

  # Sparse: only per-ticker hour rows carry rank_key. "The most mentioned tickers of an hour":
  # partition = hour and rank shard, sort = the ticker's mentions in that hour.
  global_secondary_index {
    name            = "by_rank"
    hash_key        = "rank_key"
    range_key       = "total"
    projection_type = "ALL"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.dynamodb_kms_key_arn
  }
}

resource "aws_dynamodb_table" "configurations" {
  #checkov:skip=CKV_AWS_119:Encrypted with KMS; the AWS managed key (alias/aws/dynamodb) is the default and a customer managed key is one variable away (dynamodb_kms_key_arn).
  name                        = "${local.name_prefix}-configurations"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "user_id"
  range_key                   = "config_id"
  deletion_protection_enabled = var.dynamodb_deletion_protection

  attribute {
    name = "user_id"
    type = "S"
  }

  attribute {
    name = "config_id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.dynamodb_kms_key_arn
  }
}
