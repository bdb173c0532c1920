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
