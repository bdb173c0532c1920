output "crawler_exclusions" {
  description = "Glob patterns, relative to each crawler's path, that the crawlers skip (the catalog's crawler_exclusions)."
  value       = try(local.raw.crawler_exclusions, [])
}

output "datasets" {
  description = "Per dataset: topic, partitions, table, bucket (with suffix), prefix, crawler name and S3 path; for the curated layer, the event time field, the Iceberg table's columns and its location."
  value       = local.datasets

  # Errors, not warnings: the Python loader refuses such a catalog too.
  precondition {
    condition     = length(distinct(local.bucket_names)) == length(local.bucket_names)
    error_message = "Two datasets in the catalog share a bucket."
  }

  precondition {
    condition     = length(distinct([for d in values(local.datasets) : d.topic])) == length(local.datasets)
    error_message = "Two datasets in the catalog share a topic."
  }

  precondition {
    condition     = alltrue([for d in values(local.datasets) : length(d.bucket) <= 63])
    error_message = "A bucket name with its suffix is longer than 63 characters: shorten bucket_suffix."
  }
}

output "topics" {
  description = "Topic name => partition count."
  value       = { for d in values(local.datasets) : d.topic => d.partitions }
}

output "results_bucket" {
  description = "The Athena results bucket's full name (base name plus suffix)."
  value       = "${var.results_bucket}${var.bucket_suffix}"
}

output "results_location" {
  description = "Where Athena writes query results (Settings.athena_output_location in lakestream/core/settings.py)."
  value       = "s3://${var.results_bucket}${var.bucket_suffix}/results/"
}

output "names" {
  description = "The deployment's names, each carrying the environment: base (prefix of roles, the Glue security configuration, the stage policies), kafka, api, glue_database, curated_database, workgroup."
  value       = local.names
}
