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
  environment   = var.environment
}

locals {
  names = module.catalog.names
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

data "aws_vpc" "default" {
  count   = var.vpc_id == null ? 1 : 0
  default = true
}

# Not every Availability Zone offers every instance type (us-east-1e offers few): the default
# subnets are those of the zones that offer every type the deployment launches (the brokers',
# the API's, the sink's, curation's), or a launch would fail there.
locals {
  instance_types = {
    broker   = var.broker_instance_type
    api      = var.api_instance_type
    sink     = var.sink_instance_type
    curation = var.curation_instance_type
  }
}

data "aws_ec2_instance_type_offerings" "zones" {
  for_each = var.subnet_ids == null ? local.instance_types : {}

  location_type = "availability-zone"

  filter {
    name   = "instance-type"
    values = [each.value]
  }
}

data "aws_subnets" "brokers" {
  count = var.subnet_ids == null ? 1 : 0

  filter {
    name   = "vpc-id"
    values = [local.vpc_id]
  }

  filter {
    name   = "availability-zone"
    values = setintersection([for o in values(data.aws_ec2_instance_type_offerings.zones) : o.locations]...)
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

# One customer-managed key for the lake's objects, Athena's results, the crawlers' and services'
# logs and the alarm topic. People and services reach it through IAM policies (the first
# statement); CloudWatch Logs gets its own grant, scoped to the Glue crawler and /lakestream/ log
# groups of this account, and CloudWatch one to publish alarms to the encrypted topic.
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
      values = [
        "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:log-group:/aws-glue/crawlers*",
        # The services' logs and metric documents (modules/ssm_instance).
        "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:log-group:/lakestream/*",
      ]
    }
  }

  # The alarms publish to the alarm topic, which this key encrypts: CloudWatch needs to use it.
  statement {
    sid       = "AlarmTopicEncryption"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
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

  name          = local.names.kafka
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

  # The services reach the brokers by security group (services.tf).
  client_security_groups = {
    sink     = module.sink.security_group_id
    curation = module.curation.security_group_id
  }
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

  name          = local.names.base
  database_name = coalesce(var.glue_database, local.names.glue_database)
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

  name          = local.names.base
  database_name = coalesce(var.curated_glue_database, local.names.curated_database)
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

  workgroup_name       = coalesce(var.athena_workgroup, local.names.workgroup)
  database_name        = module.glue_catalog.database_name
  results_location     = "s3://${module.s3_lake.results_bucket_name}/results/"
  kms_key_arn          = aws_kms_key.lake.arn
  bytes_scanned_cutoff = var.bytes_scanned_cutoff
  queries_dir          = "${path.root}/../glue/queries"
  force_destroy        = var.force_destroy
}

# --- the settings the Python side reads ---------------------------------------------------------

# What `make env` writes into .env (output lakestream_settings) and what the API instance runs
# with: the Python side's own variable names (lakestream/core/settings.py), so producers,
# consumers, crawls and the API point at these resources with no copying by hand. Credentials
# are not here: boto3 finds them in your profile, SSO session or role, and `make env` points
# KAFKA_SASL_PASSWORD at a Kafka user's secret (kafka_user_secrets).
locals {
  lakestream_settings = merge(
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
    # A catalog other than the packaged one must reach the Python side too, and so must an
    # environment (the crawlers' names carry it).
    { for k, v in { LAKESTREAM_CATALOG = abspath(local.catalog_file) } : k => v if var.catalog_file != null },
    { for k, v in { LAKESTREAM_ENVIRONMENT = var.environment } : k => v if var.environment != null },
  )
}

# --- the query API ----------------------------------------------------------------------------------

module "api" {
  source = "./modules/api"
  count  = var.api_enabled ? 1 : 0

  name = local.names.api

  vpc_id          = local.vpc_id
  subnet_ids      = local.subnet_ids
  allowed_cidrs   = coalesce(var.api_allowed_cidrs, var.client_cidrs)
  certificate_arn = var.api_certificate_arn
  host_names      = var.api_host_names
  instance_type   = var.api_instance_type
  api_key_version = var.api_key_version
  policy_arns     = [aws_iam_policy.stage["api"].arn]
  # The API talks to no broker (KAFKA_* stay out), and reads the catalog packaged in its release.
  settings                    = { for k, v in local.lakestream_settings : k => v if !startswith(k, "KAFKA_") && k != "LAKESTREAM_CATALOG" }
  release                     = local.release
  log_kms_key_arn             = aws_kms_key.lake.arn
  log_retention_days          = var.log_retention_days
  kms_key_arn                 = aws_kms_key.lake.arn
  secret_recovery_window_days = var.force_destroy ? 0 : 7
  deletion_protection         = !var.force_destroy
}

# --- one least-privilege policy per stage ---------------------------------------------------------

# What each stage's code calls, checked against a recorded run (tests/infra/test_stage_policies.py):
# attach each to the role or user that runs that stage. The API's instance role gets its own.
module "stage_policies" {
  source = "./modules/stage_policies"

  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
  account_id = data.aws_caller_identity.current.account_id
  datasets = {
    for name, d in module.catalog.datasets : name => {
      bucket         = module.s3_lake.bucket_names[name]
      table          = d.table
      topic          = d.topic
      curated_prefix = trimprefix(d.curated_location, "s3://${module.s3_lake.bucket_names[name]}/")
      crawler        = d.crawler
    }
  }
  raw_database       = module.glue_catalog.database_name
  curated_database   = module.curated_lake.database_name
  results_bucket     = module.s3_lake.results_bucket_name
  workgroup          = module.athena.workgroup_name
  kms_key_arn        = aws_kms_key.lake.arn
  kafka_user_secrets = module.kafka.user_secret_arns
  api_key_secret_arn = var.api_enabled ? module.api[0].api_key_secret_arn : null
}

resource "aws_iam_policy" "stage" {
  for_each = module.stage_policies.documents

  # bucket_suffix stays in it: a deployment's policies are attached outside Terraform, and a
  # renamed policy is a replaced one (refused while attached).
  name_prefix = "${local.names.base}${var.bucket_suffix}-${each.key}-"
  description = "lakestream ${each.key}: least privilege for the stage's AWS calls"
  policy      = each.value
}
