# The curated layer on AWS: a Glue database of Iceberg tables (one per dataset, named like the raw
# tables), the Glue table optimizers that keep them compact and bounded, and the one policy the
# curation job (`make curate`, `make maintain`) needs.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.region
  glue_arn  = "arn:${local.partition}:glue:${local.region}:${local.account}"
  logs_arn  = "arn:${local.partition}:logs:${local.region}:${local.account}"

  buckets      = distinct([for d in values(var.datasets) : d.bucket])
  bucket_arns  = [for b in local.buckets : "arn:${local.partition}:s3:::${b}"]
  table_arns   = [for d in values(var.datasets) : "${local.glue_arn}:table/${var.database_name}/${d.table}"]
  catalog_arns = ["${local.glue_arn}:catalog", "${local.glue_arn}:database/${var.database_name}"]
  # A table's location s3://<bucket>/curated/<table> is its bucket plus its key prefix.
  curated_objects  = [for d in values(var.datasets) : "arn:${local.partition}:s3:::${trimprefix(d.location, "s3://")}/*"]
  curated_prefixes = flatten([for d in values(var.datasets) : [for p in [replace(d.location, "/^s3://[^/]+//", "")] : [p, "${p}/*"]]])

  optimizers = { for pair in setproduct(keys(var.datasets), var.optimizers) : "${pair[0]}/${pair[1]}" => {
    dataset = pair[0]
    type    = pair[1]
  } }
}

resource "aws_glue_catalog_database" "curated" {
  name        = var.database_name
  description = "lakestream: the curated layer, one Iceberg table per dataset built exactly once from the raw lake (make curate)"
  tags        = var.tags
}

# Glue writes each table's first Iceberg metadata (format v2) under its location. From then on the
# curation job owns the table: it adds the day partitioning of the event time and, later, new
# optional columns (curation/tables.py ensure_table), and every commit moves metadata_location.
# Terraform ignores those changes instead of reverting them.
resource "aws_glue_catalog_table" "curated" {
  for_each = var.datasets

  name          = each.value.table
  database_name = aws_glue_catalog_database.curated.name
  description   = "lakestream: ${each.key}, typed and deduplicated by Kafka coordinates, partitioned by day(${each.value.event_time_field})"
  table_type    = "EXTERNAL_TABLE"

  open_table_format_input {
    iceberg_input {
      metadata_operation = "CREATE"
      version            = "2"
    }
  }

  storage_descriptor {
    location = each.value.location

    dynamic "columns" {
      for_each = each.value.columns

      content {
        name = columns.value.name
        type = columns.value.type
      }
    }
  }

  lifecycle {
    ignore_changes = [parameters, storage_descriptor, partition_keys]
  }
}

# --- the optimizers' role ------------------------------------------------------------------------

data "aws_iam_policy_document" "assume_glue" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }

    # No aws:SourceAccount condition: Glue's documented trust policy has none, and if Glue does
    # not send the key when it assumes the role, creating the crawler fails ("Service is unable
    # to assume role"). The confused-deputy case it guards against needs another account to
    # pass this role, and iam:PassRole never crosses accounts.
  }
}

resource "aws_iam_role" "optimizer" {
  name_prefix        = "${var.name}-optimizer-"
  description        = "Glue table optimizers of the curated tables: rewrite and delete their files, update those tables"
  assume_role_policy = data.aws_iam_policy_document.assume_glue.json
  tags               = var.tags
}

# What AWS documents for table optimizers, narrowed to the curated prefixes and tables.
data "aws_iam_policy_document" "optimizer" {
  statement {
    sid       = "ListCuratedPrefixes"
    actions   = ["s3:ListBucket"]
    resources = local.bucket_arns

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = local.curated_prefixes
    }
  }

  statement {
    sid       = "RewriteCuratedFiles"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = local.curated_objects
  }

  statement {
    sid       = "UpdateCuratedTables"
    actions   = ["glue:GetDatabase", "glue:GetTable", "glue:UpdateTable"]
    resources = concat(local.catalog_arns, local.table_arns)
  }

  statement {
    sid       = "UseLakeKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  # AWS's documented optimizer policy lets Glue publish the optimizers' metrics (files compacted,
  # snapshots expired, run time) as the role. PutMetricData has no resource to scope: the
  # namespace condition keeps the role to Glue's own.
  statement {
    #checkov:skip=CKV_AWS_356:cloudwatch:PutMetricData supports no resource-level permission; the namespace condition scopes it.
    sid       = "PublishOptimizerMetrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]

    condition {
      test     = "StringLike"
      variable = "cloudwatch:namespace"
      values   = ["AWS/Glue*"]
    }
  }

  statement {
    sid     = "WriteOptimizerLogs"
    actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [
      "${local.logs_arn}:log-group:/aws-glue/iceberg-*",
      "${local.logs_arn}:log-group:/aws-glue/iceberg-*:log-stream:*",
    ]
  }
}

resource "aws_iam_role_policy" "optimizer" {
  name   = "rewrite-curated-tables"
  role   = aws_iam_role.optimizer.id
  policy = data.aws_iam_policy_document.optimizer.json
}

resource "aws_glue_catalog_table_optimizer" "curated" {
  for_each = local.optimizers

  catalog_id    = local.account
  database_name = aws_glue_catalog_database.curated.name
  table_name    = aws_glue_catalog_table.curated[each.value.dataset].name
  type          = each.value.type

  configuration {
    role_arn = aws_iam_role.optimizer.arn
    enabled  = true

    # binpack: Glue's "sort" strategy needs the table's sort order when the optimizer is
    # created, and the first curation pass sets it only later. `make maintain` sorts by the key.
    dynamic "compaction_configuration" {
      for_each = each.value.type == "compaction" ? ["binpack"] : []

      content {
        iceberg_configuration {
          strategy = compaction_configuration.value
        }
      }
    }

    dynamic "retention_configuration" {
      for_each = each.value.type == "retention" ? [var.snapshot_retention_days] : []

      content {
        iceberg_configuration {
          snapshot_retention_period_in_days = retention_configuration.value
          number_of_snapshots_to_retain     = var.snapshots_to_retain
          clean_expired_files               = true
        }
      }
    }

    dynamic "orphan_file_deletion_configuration" {
      for_each = each.value.type == "orphan_file_deletion" ? [var.orphan_file_retention_days] : []

      content {
        iceberg_configuration {
          orphan_file_retention_period_in_days = orphan_file_deletion_configuration.value
          location                             = var.datasets[each.value.dataset].location
        }
      }
    }
  }

  depends_on = [aws_iam_role_policy.optimizer]
}
