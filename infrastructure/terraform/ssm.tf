# The secrets, as SecureString parameters. The functions get only the parameter NAMES
# (AUTH_SECRET_PARAM, AUTH_SECRET_PREVIOUS_PARAM, INGEST_API_KEY_PARAM) and read the values at
# runtime through Powertools Parameters (cached 5 minutes; a token signed with a key a function
# does not know makes it read the signing secrets afresh). The values also live in the Terraform state: keep the state in
# an encrypted, private backend (backend.tf.example).

resource "aws_ssm_parameter" "auth_secret" {
  #checkov:skip=CKV_AWS_337:SecureString encrypted with KMS; the AWS managed key alias/aws/ssm is the default and a customer managed key is one variable away (ssm_kms_key_arn).
  name        = "/${var.environment}/sentiment/auth-secret"
  description = "HS256 signing secret of session tokens and stream tickets (${var.environment})"
  type        = "SecureString"
  key_id      = var.ssm_kms_key_arn
  value       = var.auth_secret
}

# The signing secret before the last rotation: tokens it signed stay valid, nothing new is signed
# with it (docs/deploy.md, "Rotating the signing secret"). Without a rotation under way it holds
# the current secret (a parameter cannot be empty), which adds no key.
resource "aws_ssm_parameter" "auth_secret_previous" {
  #checkov:skip=CKV_AWS_337:SecureString encrypted with KMS; the AWS managed key alias/aws/ssm is the default and a customer managed key is one variable away (ssm_kms_key_arn).
  name        = "/${var.environment}/sentiment/auth-secret-previous"
  description = "The HS256 signing secret before the last rotation, still accepted on tokens (${var.environment})"
  type        = "SecureString"
  key_id      = var.ssm_kms_key_arn
  value       = coalesce(var.auth_secret_previous, var.auth_secret)
}

resource "aws_ssm_parameter" "ingest_api_key" {
  #checkov:skip=CKV_AWS_337:SecureString encrypted with KMS; the AWS managed key alias/aws/ssm is the default and a customer managed key is one variable away (ssm_kms_key_arn).
  name        = "/${var.environment}/sentiment/ingest-api-key"
  description = "X-API-Key producers send to POST /api/v2/items (${var.environment})"
  type        = "SecureString"
  key_id      = var.ssm_kms_key_arn
  value       = var.ingest_api_key
}
