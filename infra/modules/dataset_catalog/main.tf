# The dataset catalog as Terraform sees it. Every name derived here follows the same rule as
# lakestream/core/datasets.py, and tests/infra compare the two by running this module with Terraform.

locals {
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
      crawler = "${d.table}_crawler"
      s3_path = "s3://${d.bucket}${var.bucket_suffix}/${d.table}/"
    }
  }

  bucket_names = [for d in values(local.datasets) : d.bucket]
}
