# The API key: drawn by Terraform as an ephemeral value and written to Secrets Manager with a
# write-only argument, so it is in neither the plan nor the state. Clients read it with
# `aws secretsmanager get-secret-value --secret-id <api_key_secret_arn>`; the service reads it
# at start.

ephemeral "random_password" "api_key" {
  length  = 40
  special = false
}

resource "aws_secretsmanager_secret" "api_key" {
  #checkov:skip=CKV2_AWS_57:Rotation is a new key for every client too: raise api_key_version, apply, restart the service (infra/README.md).
  name_prefix             = "${var.name}/api-key-"
  description             = "X-API-Key of the lakestream query API (${var.name})"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
  tags                    = local.tags
}

resource "aws_secretsmanager_secret_version" "api_key" {
  secret_id                = aws_secretsmanager_secret.api_key.id
  secret_string_wo         = ephemeral.random_password.api_key.result
  secret_string_wo_version = var.api_key_version
}
