variable "catalog_file" {
  description = "Path to the dataset catalog (lakestream/core/datasets.yaml), the file the Python code reads too."
  type        = string

  validation {
    condition     = can(regex("\\.(ya?ml|json)$", var.catalog_file))
    error_message = "The catalog_file must be a .yaml, .yml or .json file."
  }
}

variable "bucket_suffix" {
  description = "Appended to every bucket name for global uniqueness, e.g. \"-acme-dev\" (LAKESTREAM_BUCKET_SUFFIX)."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^(-[a-z0-9]+)*$", var.bucket_suffix)) && length(var.bucket_suffix) <= 24
    error_message = "The bucket_suffix must be empty or dash-separated lowercase letters and digits starting with a dash (e.g. \"-acme-dev\"), at most 24 characters."
  }
}

variable "results_bucket" {
  description = "Base name of the Athena results bucket; the suffix is appended (LAKESTREAM_ATHENA_RESULTS_BUCKET)."
  type        = string
  default     = "kafka-ing-athena-results"

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,37}[a-z0-9]$", var.results_bucket))
    error_message = "The results_bucket must be 3-39 lowercase letters, digits and dashes, starting and ending with a letter or digit."
  }
}

variable "environment" {
  description = "Names one deployment among several in an account and region (LAKESTREAM_ENVIRONMENT): null keeps the plain names (lakestream, kafka_ing, <table>_crawler); \"dev\" gives lakestream-dev, kafka_ing_dev, <table>_crawler_dev."
  type        = string
  default     = null

  validation {
    # Short: it goes into the API's load balancer and IAM name prefixes, which AWS keeps short.
    condition     = var.environment == null || can(regex("^[a-z]([a-z0-9-]{0,8}[a-z0-9])?$", var.environment))
    error_message = "The environment must be 1-10 lowercase letters, digits or dashes, starting with a letter and not ending with a dash (e.g. \"dev\", \"acme-prod\")."
  }

  validation {
    # kafka_ing_<environment> would be another environment's curated database.
    condition     = var.environment == null || !endswith(coalesce(var.environment, "-"), "curated")
    error_message = "The environment must not end with \"curated\": its raw Glue database would be named like another environment's curated one."
  }
}
