# The dataset catalog as Terraform sees it. Every name derived here follows the same rule as
# lakestream/core/datasets.py, and tests/infra compare the two by running this module with Terraform.

locals {
  # Every name of a deployment carries its environment (Settings.crawler in
  # lakestream/core/settings.py follows the same rule for the crawlers).
  base         = var.environment == null ? "lakestream" : "lakestream-${var.environment}"
  snake_suffix = var.environment == null ? "" : "_${replace(var.environment, "-", "_")}"
  names = {
    base             = local.base
    kafka            = "${local.base}-kafka"
    api              = "${local.base}-api"
    glue_database    = "kafka_ing${local.snake_suffix}"
    curated_database = "kafka_ing${local.snake_suffix}_curated"
    workgroup        = local.base
  }

  raw = can(regex("\\.json$", var.catalog_file)) ? jsondecode(file(var.catalog_file)) : yamldecode(file(var.catalog_file))

  datasets = {
    for name, d in local.raw.datasets : name => {
      topic      = d.topic
      partitions = d.partitions
      table      = d.table
      bucket     = "${d.bucket}${var.bucket_suffix}"
      # Data lives under a prefix named like the table, so the crawler names the table after it
      # whatever the bucket suffix (Dataset.crawler in lakestream/core/datasets.py).
      prefix  = "${d.table}/"
      crawler = "${d.table}_crawler${local.snake_suffix}"
      s3_path = "s3://${d.bucket}${var.bucket_suffix}/${d.table}/"
      # The curated Iceberg table (curation/tables.py): the catalog's columns, the lake's own,
      # then the day, under curated/<table> of the same bucket, outside the crawler's path.
      event_time_field = d.event_time_field
      curated_columns = concat(
        [for c in d.columns : { name = c.name, type = c.type, required = try(c.required, false) }],
        [for c in local.lake_columns : merge(c, { required = true })],
        # The day of the event time (DAY_COLUMN in curation/tables.py): the raw tables' `dt`,
        # typed, so a date range reads one small column instead of the event time.
        [{ name = "dt", type = "date", required = true }],
      )
      curated_location = "s3://${d.bucket}${var.bucket_suffix}/curated/${d.table}"
    }
  }

  # What the sink adds to every record (LAKE_METADATA_COLUMNS in lakestream/core/datasets.py;
  # tests/infra/test_catalog_module.py holds the two equal). A list, not a map: a map would
  # iterate in key order, not the table's column order.
  lake_columns = [
    { name = "kafka_topic", type = "string" },
    { name = "kafka_partition", type = "bigint" },
    { name = "kafka_offset", type = "bigint" },
    { name = "ingested_at", type = "timestamp" },
  ]

  bucket_names = [for d in values(local.datasets) : d.bucket]
}
