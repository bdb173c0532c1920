# One SCRAM-SHA-512 user per stage. Terraform draws each password (an ephemeral value: it is
# written to Secrets Manager and kept neither in the plan nor in the state); node 1 reads the
# secrets at first boot and creates the users on the cluster (user_data.sh.tftpl, kafka-access).
# Clients read their secret at start: KAFKA_SASL_PASSWORD=secretsmanager:<secret>.

ephemeral "random_password" "user" {
  for_each = var.users

  length  = 40
  special = false # letters and digits: nothing to escape in a shell, a URL or a properties file
}

resource "aws_secretsmanager_secret" "user" {
  #checkov:skip=CKV2_AWS_57:Rotation changes the password on the brokers too: raise credential_versions and run kafka-access (infra/README.md); a rotation Lambda would need a way into the cluster.
  for_each = var.users

  name                    = "${var.name}/users/${each.key}"
  description             = "Kafka SCRAM-SHA-512 user ${each.key} (${each.value}) of ${var.name}: {\"username\", \"password\"}"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.secret_recovery_window_days
  tags                    = merge(local.tags, { KafkaUser = each.key, KafkaRole = each.value })
}

resource "aws_secretsmanager_secret_version" "user" {
  for_each = var.users

  secret_id = aws_secretsmanager_secret.user[each.key].id
  secret_string_wo = jsonencode({
    username = each.key
    password = ephemeral.random_password.user[each.key].result
  })
  secret_string_wo_version = lookup(var.credential_versions, each.key, 1)
}
