# The Athena workgroup: its settings are enforced, so no client can send results elsewhere,
# unencrypted, or scan past the cutoff. The saved analyses appear as named queries.

locals {
  queries = {
    for file in fileset(var.queries_dir, "*.sql") : trimsuffix(file, ".sql") => file("${var.queries_dir}/${file}")
  }
}

resource "aws_athena_workgroup" "lake" {
  name          = var.workgroup_name
  description   = "lakestream: queries over the Kafka-fed lake"
  state         = "ENABLED"
  force_destroy = var.force_destroy
  tags          = var.tags

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.bytes_scanned_cutoff

    engine_version {
      selected_engine_version = "Athena engine version 3"
    }

    result_configuration {
      output_location = var.results_location

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }
}

resource "aws_athena_named_query" "saved" {
  for_each = local.queries

  name      = each.key
  workgroup = aws_athena_workgroup.lake.id
  database  = var.database_name
  # The file's first line is its description: "-- Sales by product ...".
  description = substr(trimspace(trimprefix(split("\n", each.value)[0], "--")), 0, 1024)
  query       = each.value
}
