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
  description = "Attach to the role or user that runs `make curate` and `make maintain` on AWS."
  value       = module.curated_lake.curation_policy_arn
}

output "athena_workgroup" {
  description = "Athena workgroup with the saved analyses as named queries."
  value       = module.athena.workgroup_name
}

output "lake_kms_key_arn" {
  description = "KMS key of the lake; principals that read the lake or Athena results need kms:Decrypt on it."
  value       = aws_kms_key.lake.arn
}

# What `make env` writes into .env: the Python side's own variable names (lakestream/core/settings.py),
# so producers, consumers, crawls and the API point at these resources with no copying by hand.
# Credentials are not here: boto3 finds them in your profile, SSO session or role, and
# `make env` points KAFKA_SASL_PASSWORD at a Kafka user's secret (kafka_user_secrets).
output "lakestream_settings" {
  description = "Settings for the Python tools (LAKESTREAM_*, KAFKA_*, AWS_REGION), written to .env by `make env`."
  value = merge(
    {
      LAKESTREAM_TARGET                = "aws"
      AWS_REGION                       = data.aws_region.current.region
      KAFKA_BOOTSTRAP_SERVERS          = module.kafka.bootstrap_servers
      KAFKA_SECURITY_PROTOCOL          = module.kafka.security_protocol
      KAFKA_SASL_MECHANISM             = "SCRAM-SHA-512"
      LAKESTREAM_BUCKET_SUFFIX         = var.bucket_suffix
      LAKESTREAM_GLUE_DATABASE         = module.glue_catalog.database_name
      LAKESTREAM_CURATED_DATABASE      = module.curated_lake.database_name
      LAKESTREAM_ATHENA_WORKGROUP      = module.athena.workgroup_name
      LAKESTREAM_ATHENA_RESULTS_BUCKET = trimsuffix(module.s3_lake.results_bucket_name, var.bucket_suffix)
    },
    # A catalog other than the packaged one must reach the Python side too.
    { for k, v in { LAKESTREAM_CATALOG = abspath(local.catalog_file) } : k => v if var.catalog_file != null },
  )
}
