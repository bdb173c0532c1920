# lakestream on AWS: Kafka on EC2 (KRaft), the S3 lake, Glue crawlers, the curated Iceberg tables
# and an Athena workgroup.
# Topics, buckets, tables and crawlers all come from the dataset catalog that the Python code
# reads, so the two cannot drift apart.

locals {
  catalog_file = var.catalog_file != null ? var.catalog_file : "${path.root}/../lakestream/core/datasets.yaml"
  vpc_id       = var.vpc_id != null ? var.vpc_id : data.aws_vpc.default[0].id
  subnet_ids   = var.subnet_ids != null ? var.subnet_ids : sort(data.aws_subnets.brokers[0].ids)
}

module "catalog" {
  source = "./modules/dataset_catalog"

  catalog_file  = local.catalog_file
  bucket_suffix = var.bucket_suffix
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

data "aws_vpc" "default" {
  count   = var.vpc_id == null ? 1 : 0
  default = true
}

data "aws_subnets" "brokers" {
  count = var.subnet_ids == null ? 1 : 0

  filter {
    name   = "vpc-id"
    values = [local.vpc_id]
  }

  dynamic "filter" {
    for_each = var.vpc_id == null ? ["true"] : []

    content {
      name   = "default-for-az"
      values = [filter.value]
    }
  }
}

# --- the lake's key ----------------------------------------------------------------------------

# One customer-managed key for the lake's objects, Athena's results and the crawlers' logs.
# People and services reach it through IAM policies (the first statement); CloudWatch Logs gets
# its own grant, scoped to the Glue crawler log groups of this account.
data "aws_iam_policy_document" "lake_key" {
  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" means this key only; the account root delegates to IAM as AWS recommends.
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" means this key only; write access is granted through IAM policies.
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" means this key only, not every resource.
  statement {
    sid       = "EnableIamPolicies"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }

  statement {
    sid       = "CrawlerLogsEncryption"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["logs.${data.aws_region.current.region}.amazonaws.com"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:log-group:/aws-glue/crawlers*"]
    }
  }
}

resource "aws_kms_key" "lake" {
  description             = "lakestream${var.bucket_suffix}: lake objects, Athena results and crawler logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.lake_key.json
}

resource "aws_kms_alias" "lake" {
  name          = "alias/lakestream${var.bucket_suffix}"
  target_key_id = aws_kms_key.lake.key_id
}

# --- the four modules --------------------------------------------------------------------------

module "kafka" {
  source = "./modules/kafka"

  name          = "lakestream-kafka"
  broker_count  = var.broker_count
  instance_type = var.broker_instance_type
  kafka_version = var.kafka_version
  vpc_id        = local.vpc_id
  subnet_ids    = local.subnet_ids
  client_cidrs  = var.client_cidrs
  public_access = var.public_brokers
  topics        = module.catalog.topics

  # SASL_SSL with one SCRAM user per stage; their secrets and the brokers' keys under the lake's key.
  ca_arn                      = var.kafka_ca_arn
  ca_signing_algorithm        = var.kafka_ca_signing_algorithm
  credential_versions         = var.kafka_credential_versions
  kms_key_arn                 = aws_kms_key.lake.arn
  secret_recovery_window_days = var.force_destroy ? 0 : 7
  plaintext_listener          = var.kafka_plaintext_listener
  plaintext_cidrs             = var.kafka_plaintext_cidrs
}

module "s3_lake" {
  source = "./modules/s3_lake"

  datasets = {
    for name, d in module.catalog.datasets : name => { bucket = d.bucket, table = d.table }
  }
  results_bucket              = module.catalog.results_bucket
  access_log_bucket           = var.access_logging ? "kafka-ing-access-logs${var.bucket_suffix}" : null
  sse_algorithm               = var.lake_sse_algorithm
  kms_key_arn                 = aws_kms_key.lake.arn
  raw_transition_days         = var.raw_transition_days
  raw_expiration_days         = var.raw_expiration_days
  dead_letter_expiration_days = var.dead_letter_expiration_days
  results_expiration_days     = var.results_expiration_days
  force_destroy               = var.force_destroy
}

module "glue_catalog" {
  source = "./modules/glue_catalog"

  database_name = var.glue_database
  datasets = {
    for name, d in module.catalog.datasets : name => {
      bucket  = module.s3_lake.bucket_names[name]
      table   = d.table
      crawler = d.crawler
    }
  }
  exclusions  = module.catalog.crawler_exclusions
  kms_key_arn = aws_kms_key.lake.arn
  schedule    = var.crawler_schedule
}

module "curated_lake" {
  source = "./modules/curated_lake"

  database_name = var.curated_glue_database
  datasets = {
    for name, d in module.catalog.datasets : name => {
      bucket           = module.s3_lake.bucket_names[name]
      table            = d.table
      location         = d.curated_location
      event_time_field = d.event_time_field
      columns          = [for c in d.curated_columns : { name = c.name, type = c.type }]
    }
  }
  kms_key_arn             = aws_kms_key.lake.arn
  optimizers              = var.curated_optimizers
  snapshot_retention_days = var.snapshot_retention_days
}

module "athena" {
  source = "./modules/athena"

  workgroup_name       = var.athena_workgroup
  database_name        = module.glue_catalog.database_name
  results_location     = "s3://${module.s3_lake.results_bucket_name}/results/"
  kms_key_arn          = aws_kms_key.lake.arn
  bytes_scanned_cutoff = var.bytes_scanned_cutoff
  queries_dir          = "${path.root}/../glue/queries"
  force_destroy        = var.force_destroy
}
