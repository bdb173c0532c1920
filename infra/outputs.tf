output "kafka_bootstrap_servers" {
  description = "KAFKA_BOOTSTRAP_SERVERS for producers and consumers."
  value       = module.kafka.bootstrap_servers
}

output "kafka_ca_bundle" {
  description = "PEM of the CA that signed the brokers' certificates; `make env` writes it to kafka-ca.pem (KAFKA_SSL_CAFILE). Also in Parameter Store: kafka_ca_parameter."
  value       = module.kafka.ca_bundle
}

output "kafka_ca_parameter" {
  description = "Parameter Store name of the brokers' CA bundle."
  value       = module.kafka.ca_bundle_parameter
}

output "kafka_user_secrets" {
  description = "Kafka user (producers, sink, admin) => its secret's ARN; `make env KAFKA_USER=sink` points KAFKA_SASL_PASSWORD at one."
  value       = module.kafka.user_secret_arns
}

output "kafka_instance_ids" {
  description = "Broker instances, for `aws ssm start-session --target <id>` (no SSH key, no port 22)."
  value       = module.kafka.instance_ids
}

output "buckets" {
  description = "Dataset name => bucket name."
  value       = module.s3_lake.bucket_names
}

output "athena_results_location" {
  description = "Where the workgroup writes query results (encrypted with the lake's key)."
  value       = "s3://${module.s3_lake.results_bucket_name}/results/"
}

output "glue_database" {
  description = "Glue database of the lake's tables."
  value       = module.glue_catalog.database_name
}

output "glue_crawlers" {
  description = "Dataset name => crawler (started by `make crawl`)."
  value       = module.glue_catalog.crawler_names
}

output "curated_database" {
  description = "Glue database of the curated Iceberg tables (`layer=curated` in the API)."
  value       = module.curated_lake.database_name
}

output "curation_policy_arn" {
  description = "Attach to the role or user that runs `make curate` and `make maintain` on AWS (stage_policy_arns[\"curation\"])."
  value       = aws_iam_policy.stage["curation"].arn
}

output "stage_policy_arns" {
  description = "Stage (producers, sink, crawl, curation, api) => its least-privilege managed policy: attach each to the role or user that runs that stage."
  value       = { for stage, policy in aws_iam_policy.stage : stage => policy.arn }
}

output "stage_policies" {
  description = "Stage => its policy document (JSON), to read or to attach elsewhere."
  value       = module.stage_policies.documents
}

output "athena_workgroup" {
  description = "Athena workgroup with the saved analyses as named queries."
  value       = module.athena.workgroup_name
}

output "lake_kms_key_arn" {
  description = "KMS key of the lake; principals that read the lake or Athena results need kms:Decrypt on it."
  value       = aws_kms_key.lake.arn
}

# What `make env` writes into .env (built in main.tf, where the API instance gets it too).
output "lakestream_settings" {
  description = "Settings for the Python tools (LAKESTREAM_*, KAFKA_*, AWS_REGION), written to .env by `make env`."
  value       = local.lakestream_settings
}

output "api_url" {
  description = "The query API on AWS (https:// with api_certificate_arn), or null with api_enabled = false."
  value       = var.api_enabled ? module.api[0].url : null
}

output "api_key_secret_arn" {
  description = "The API key's secret: aws secretsmanager get-secret-value --secret-id <it> --query SecretString --output text."
  value       = var.api_enabled ? module.api[0].api_key_secret_arn : null
}

output "api_instance_id" {
  description = "The API instance, for `aws ssm start-session --target <id>`."
  value       = var.api_enabled ? module.api[0].instance_id : null
}

output "alarm_topic_arn" {
  description = "The SNS topic the alarms notify: subscribe a pager, a chat hook or more addresses."
  value       = module.monitoring.alarm_topic_arn
}

output "dashboard_url" {
  description = "The CloudWatch dashboard: the pipeline at a glance."
  value       = module.monitoring.dashboard_url
}

output "service_log_groups" {
  description = "The services' CloudWatch Logs groups (JSON log lines and metric documents)."
  value = merge(
    { sink = module.sink.log_group_name, curation = module.curation.log_group_name },
    var.api_enabled ? { api = module.api[0].log_group_name } : {},
  )
}
