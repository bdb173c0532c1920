output "bootstrap_servers" {
  description = "Comma-separated host:port list for KAFKA_BOOTSTRAP_SERVERS (public DNS names with public_access, private addresses otherwise)."
  value       = join(",", [for host in local.advertised_hosts : "${host}:${local.client_port}"])
}

output "broker_private_ips" {
  description = "Private addresses of the brokers, in node id order."
  value       = aws_network_interface.broker[*].private_ip
}

output "instance_ids" {
  description = "EC2 instance ids of the brokers, for `aws ssm start-session --target <id>`."
  value       = aws_instance.broker[*].id
}

output "security_group_id" {
  description = "Security group of the brokers; add rules to it to let more clients in."
  value       = aws_security_group.broker.id
}

output "replication_factor" {
  description = "Replication factor of the topics (3 for a replicated cluster, 1 for a single broker)."
  value       = local.replication_factor
}

output "min_insync_replicas" {
  description = "min.insync.replicas of the topics: acks=all writes survive the loss of one broker when this is 2."
  value       = local.min_insync_replicas
}

output "cluster_id" {
  description = "The KRaft cluster id every node was formatted with."
  value       = random_id.cluster.b64_url
}

output "security_protocol" {
  description = "KAFKA_SECURITY_PROTOCOL of the client listener (SASL_SSL; SCRAM-SHA-512)."
  value       = "SASL_SSL"
}

output "ca_bundle" {
  description = "PEM of the CA that signed the broker certificates, for KAFKA_SSL_CAFILE (`make env` writes it to kafka-ca.pem)."
  value       = local.ca_bundle
}

output "ca_bundle_parameter" {
  description = "Parameter Store name of the CA bundle: `aws ssm get-parameter --name <it> --query Parameter.Value --output text > kafka-ca.pem`."
  value       = aws_ssm_parameter.ca_bundle.name
}

output "user_secret_arns" {
  description = "Kafka user => ARN of its secret ({\"username\", \"password\"}); clients take KAFKA_SASL_PASSWORD=secretsmanager:<ARN>."
  value       = { for user, secret in aws_secretsmanager_secret.user : user => secret.arn }
}

output "plaintext_bootstrap_servers" {
  description = "host:port list of the PLAINTEXT listener on the private addresses (plaintext_listener), or null when it is off."
  value       = var.plaintext_listener ? join(",", [for eni in aws_network_interface.broker : "${eni.private_ip}:${local.plaintext_port}"]) : null
}

output "data_path" {
  description = "Where each broker mounts its data volume: the path dimension of the broker_disk_used_percent metric."
  value       = local.data_path
}
