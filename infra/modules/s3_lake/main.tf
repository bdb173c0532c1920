# The lake's buckets: one per dataset and one for Athena's query results, all private,
# encrypted, versioned and reachable over TLS only, plus an optional access-log bucket.

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  # Every lake bucket with its role: a dataset bucket keeps data under its table prefix and dead
  # letters under _dlq/; the results bucket holds Athena's output only.
  buckets = merge(
    { for name, d in var.datasets : name => { name = d.bucket, kind = "dataset", prefix = "${d.table}/" } },
    { athena_results = { name = var.results_bucket, kind = "results", prefix = "" } },
  )

  # What expires, by bucket kind: a dataset bucket's dead letters; in the results bucket, the
  # workgroup's output location (releases/, the API's installs, stays).
  expirations = {
    dataset = { id = "expire-dead-letters", prefix = "_dlq/", days = var.dead_letter_expiration_days }
    results = { id = "expire-query-results", prefix = "results/", days = var.results_expiration_days }
  }

  kms = var.sse_algorithm == "aws:kms"
  arn = "arn:${data.aws_partition.current.partition}:s3:::"
}

resource "aws_s3_bucket" "this" {
  for_each = local.buckets

  #checkov:skip=CKV_AWS_144:Cross-region replication doubles storage cost; the data can be replayed from Kafka within its retention, and versioning guards against deletes. Add replication per your recovery objectives.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to object events: the consumers write, the Glue crawlers scan on demand or on their schedule.
  bucket        = each.value.name
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { Role = each.value.kind })
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = local.buckets

  bucket                  = aws_s3_bucket.this[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.sse_algorithm
      kms_master_key_id = local.kms ? var.kms_key_arn : null
    }
    # One data key per bucket instead of one KMS call per object: the sink writes many objects.
    bucket_key_enabled = local.kms
  }

  lifecycle {
    precondition {
      condition     = !local.kms || var.kms_key_arn != null
      error_message = "sse_algorithm is aws:kms but no kms_key_arn was given."
    }
  }
}

data "aws_iam_policy_document" "tls_only" {
  for_each = local.buckets

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = ["${local.arn}${each.value.name}", "${local.arn}${each.value.name}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id
  policy = data.aws_iam_policy_document.tls_only[each.key].json

  # A policy put before the public access block would be checked against the old settings.
  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = local.buckets

  bucket = aws_s3_bucket.this[each.key].id

  rule {
    id     = "abort-uploads-and-expire-old-versions"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    # Expiring an object in a versioned bucket leaves a delete marker; once its noncurrent
    # versions are gone too, the marker is all that is left: remove it.
    expiration {
      expired_object_delete_marker = true
    }
  }

  dynamic "rule" {
    for_each = each.value.kind == "dataset" ? [each.value.prefix] : []

    content {
      id     = "move-raw-data-to-${lower(replace(var.raw_storage_class, "_", "-"))}"
      status = "Enabled"

      filter {
        prefix = rule.value
      }

      # Transition only what lives long enough to be worth it (S3 refuses a transition on or
      # after the expiration day).
      dynamic "transition" {
        for_each = var.raw_expiration_days == null || try(var.raw_expiration_days > var.raw_transition_days, false) ? [var.raw_storage_class] : []

        content {
          days          = var.raw_transition_days
          storage_class = transition.value
        }
      }

      dynamic "expiration" {
        for_each = var.raw_expiration_days == null ? [] : [var.raw_expiration_days]

        content {
          days = expiration.value
        }
      }
    }
  }

  rule {
    id     = local.expirations[each.value.kind].id
    status = "Enabled"

    filter {
      prefix = local.expirations[each.value.kind].prefix
    }

    expiration {
      days = local.expirations[each.value.kind].days
    }
  }

  # Lifecycle rules on a bucket whose versioning is still being enabled can be rejected.
  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_logging" "this" {
  for_each = { for key, b in local.buckets : key => b if var.access_log_bucket != null }

  bucket        = aws_s3_bucket.this[each.key].id
  target_bucket = aws_s3_bucket.access_logs[0].id
  target_prefix = "${each.value.name}/"

  # S3 checks, when logging is turned on, that the target bucket lets the logging service write
  # (InvalidTargetBucketForLogging otherwise): its policy must be in place first.
  depends_on = [aws_s3_bucket_policy.access_logs]
}

# --- access logs -----------------------------------------------------------------------------

resource "aws_s3_bucket" "access_logs" {
  count = var.access_log_bucket == null ? 0 : 1

  #checkov:skip=CKV_AWS_18:This is the access-log bucket itself; logging it into itself would loop.
  #checkov:skip=CKV_AWS_144:Access logs are an audit trail kept for access_log_expiration_days; replicating them is an organisation-wide choice.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to new log objects.
  #checkov:skip=CKV_AWS_145:S3 server access logging can only deliver to buckets encrypted with S3-managed keys (SSE-S3), not SSE-KMS.
  bucket        = var.access_log_bucket
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { Role = "access-logs" })
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  count = length(aws_s3_bucket.access_logs)

  bucket = aws_s3_bucket.access_logs[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  count = length(aws_s3_bucket.access_logs)

  bucket                  = aws_s3_bucket.access_logs[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "access_logs" {
  count = length(aws_s3_bucket.access_logs)

  bucket = aws_s3_bucket.access_logs[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  count = length(aws_s3_bucket.access_logs)

  bucket = aws_s3_bucket.access_logs[0].id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  count = length(aws_s3_bucket.access_logs)

  bucket = aws_s3_bucket.access_logs[0].id

  rule {
    id     = "expire-access-logs"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }

    expiration {
      days = var.access_log_expiration_days
    }

    noncurrent_version_expiration {
      noncurrent_days = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.access_logs]
}

# With BucketOwnerEnforced, log delivery is granted by policy (not by ACL), and only for the
# lake's own buckets in this account.
data "aws_iam_policy_document" "access_logs" {
  count = length(aws_s3_bucket.access_logs)

  statement {
    sid       = "AllowServerAccessLogDelivery"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.access_logs[0].arn}/*"]

    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [for b in values(local.buckets) : "${local.arn}${b.name}"]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.access_logs[0].arn, "${aws_s3_bucket.access_logs[0].arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "access_logs" {
  count = length(aws_s3_bucket.access_logs)

  bucket = aws_s3_bucket.access_logs[0].id
  policy = data.aws_iam_policy_document.access_logs[0].json

  depends_on = [aws_s3_bucket_public_access_block.access_logs]
}
