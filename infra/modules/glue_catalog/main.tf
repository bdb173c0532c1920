# The Glue side of the lake: the database, one crawler per dataset on its table prefix, and a
# crawler role that can read those prefixes and write those tables, nothing more.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.region
  glue_arn  = "arn:${local.partition}:glue:${local.region}:${local.account}"
  logs_arn  = "arn:${local.partition}:logs:${local.region}:${local.account}"

  bucket_arns = distinct([for d in values(var.datasets) : "arn:${local.partition}:s3:::${d.bucket}"])
}

resource "aws_glue_catalog_database" "lake" {
  name        = var.database_name
  description = "lakestream: the tables of the Kafka-fed lake, registered by one crawler per dataset"
  tags        = var.tags
}

# Encrypts what the crawlers write: their CloudWatch logs (and S3 output or bookmarks, which
# crawlers do not produce but Glue requires every section).
resource "aws_glue_security_configuration" "crawlers" {
  name = "${var.name}-crawlers"

  encryption_configuration {
    cloudwatch_encryption {
      cloudwatch_encryption_mode = "SSE-KMS"
      kms_key_arn                = var.kms_key_arn
    }

    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = "CSE-KMS"
      kms_key_arn                   = var.kms_key_arn
    }

    s3_encryption {
      s3_encryption_mode = "SSE-KMS"
      kms_key_arn        = var.kms_key_arn
    }
  }
}

# --- the crawler role ------------------------------------------------------------------------

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

resource "aws_iam_role" "crawler" {
  name_prefix        = "${var.name}-crawler-"
  description        = "Glue crawlers of the lake: read the table prefixes, write the lake's tables and the crawler logs"
  assume_role_policy = data.aws_iam_policy_document.assume_glue.json
  tags               = var.tags
}

data "aws_iam_policy_document" "crawler" {
  statement {
    sid       = "ListTablePrefixes"
    actions   = ["s3:ListBucket"]
    resources = local.bucket_arns

    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = flatten([for d in values(var.datasets) : [d.table, "${d.table}/*"]])
    }
  }

  statement {
    sid       = "LocateBuckets"
    actions   = ["s3:GetBucketLocation"]
    resources = local.bucket_arns
  }

  statement {
    sid       = "ReadTablePrefixes"
    actions   = ["s3:GetObject"]
    resources = [for d in values(var.datasets) : "arn:${local.partition}:s3:::${d.bucket}/${d.table}/*"]
  }

  statement {
    sid       = "DecryptLakeObjects"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }

  statement {
    sid = "WriteLakeTables"
    actions = [
      "glue:GetDatabase",
      "glue:GetTable",
      "glue:CreateTable",
      "glue:UpdateTable",
      "glue:GetPartition",
      "glue:GetPartitions",
      "glue:BatchGetPartition",
      "glue:CreatePartition",
      "glue:BatchCreatePartition",
      "glue:UpdatePartition",
      "glue:BatchUpdatePartition",
    ]
    resources = concat(
      ["${local.glue_arn}:catalog", "${local.glue_arn}:database/${var.database_name}"],
      [for d in values(var.datasets) : "${local.glue_arn}:table/${var.database_name}/${d.table}"],
    )
  }

  statement {
    sid       = "ReadSecurityConfiguration"
    actions   = ["glue:GetSecurityConfiguration"]
    resources = ["*"] # this action has no resource-level permissions
  }

  statement {
    sid = "WriteCrawlerLogs"
    actions = [
      "logs:CreateLogGroup",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:AssociateKmsKey",
    ]
    resources = [
      "${local.logs_arn}:log-group:/aws-glue/crawlers*",
      "${local.logs_arn}:log-group:/aws-glue/crawlers*:log-stream:*",
    ]
  }
}

resource "aws_iam_role_policy" "crawler" {
  name   = "read-lake-write-tables"
  role   = aws_iam_role.crawler.id
  policy = data.aws_iam_policy_document.crawler.json
}

# --- one crawler per dataset -----------------------------------------------------------------

resource "aws_glue_crawler" "dataset" {
  for_each = var.datasets

  name                   = each.value.crawler
  description            = "lakestream: registers ${each.value.table} from s3://${each.value.bucket}/${each.value.table}/"
  database_name          = aws_glue_catalog_database.lake.name
  role                   = aws_iam_role.crawler.arn
  schedule               = var.schedule
  security_configuration = aws_glue_security_configuration.crawlers.name

  s3_target {
    # The table prefix, not the bucket: the table is named after it whatever the bucket suffix.
    path = "s3://${each.value.bucket}/${each.value.table}/"
    # From the dataset catalog, as the local provisioning does. Dead letters (_dlq/) and the
    # sink's manifests (_state/) sit at the bucket root, outside this path: none are needed.
    exclusions = var.exclusions
  }

  schema_change_policy {
    update_behavior = var.schema_update_behavior
    delete_behavior = "LOG" # never drop a table or column because one crawl did not see it
  }

  recrawl_policy {
    recrawl_behavior = var.recrawl_behavior
  }

  configuration = jsonencode({
    Version = 1.0
    # One table per prefix even when dt= partitions differ slightly (optional fields)...
    Grouping = { TableGroupingPolicy = "CombineCompatibleSchemas" }
    # ...and every partition reads with the table's schema, so a new column reaches old days.
    CrawlerOutput = {
      Partitions = { AddOrUpdateBehavior = "InheritFromTable" }
    }
  })

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.recrawl_behavior == "CRAWL_EVERYTHING" || var.schema_update_behavior == "LOG"
      error_message = "CRAWL_NEW_FOLDERS_ONLY needs schema_update_behavior = \"LOG\" (Glue rejects it otherwise)."
    }
  }

  depends_on = [aws_iam_role_policy.crawler]
}
