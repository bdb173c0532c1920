variable "database_name" {
  description = "Glue database that holds the lake's tables (LAKESTREAM_GLUE_DATABASE)."
  type        = string
  default     = "kafka_ing"

  validation {
    condition     = can(regex("^[a-z0-9_]{1,255}$", var.database_name))
    error_message = "The database_name must be 1-255 lowercase letters, digits and underscores (Athena's rule)."
  }
}

variable "exclusions" {
  description = "Glob patterns, relative to each crawler's path s3://<bucket>/<table>/, that the crawlers skip. From the dataset catalog's crawler_exclusions."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.exclusions : length(e) > 0 && !startswith(e, "/")])
    error_message = "Each exclusion is a non-empty glob relative to the crawler's path (no leading /)."
  }
}

variable "datasets" {
  description = "Dataset name => its bucket (full name), table (also the data prefix) and crawler name. From the dataset catalog."
  type = map(object({
    bucket  = string
    table   = string
    crawler = string
  }))

  validation {
    condition     = length(var.datasets) > 0 && alltrue([for d in values(var.datasets) : can(regex("^[a-z0-9_]+$", d.table)) && can(regex("^[A-Za-z0-9_-]{1,255}$", d.crawler))])
    error_message = "Give at least one dataset; each table must be lowercase letters, digits and underscores, and each crawler name 1-255 of [A-Za-z0-9_-]."
  }
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the lake's objects (the crawlers decrypt with it) and the crawlers' CloudWatch logs."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "name" {
  description = "Name prefix of the crawler role and the Glue security configuration."
  type        = string
  default     = "lakestream"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "The name must be 2-31 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "schedule" {
  description = "When the crawlers run on their own, as a Glue cron expression such as \"cron(15 * * * ? *)\". null: only on demand (`python -m glue crawl`, the console)."
  type        = string
  default     = null

  validation {
    condition     = var.schedule == null || can(regex("^cron\\(.+\\)$", var.schedule))
    error_message = "The schedule must be null or a cron(...) expression, e.g. cron(15 * * * ? *)."
  }
}

variable "recrawl_behavior" {
  description = "CRAWL_EVERYTHING re-reads every folder (and sees new columns); CRAWL_NEW_FOLDERS_ONLY reads only new dt= partitions, which is cheaper but never changes a table's schema."
  type        = string
  default     = "CRAWL_EVERYTHING"

  validation {
    condition     = contains(["CRAWL_EVERYTHING", "CRAWL_NEW_FOLDERS_ONLY"], var.recrawl_behavior)
    error_message = "The recrawl_behavior must be CRAWL_EVERYTHING or CRAWL_NEW_FOLDERS_ONLY."
  }
}

variable "schema_update_behavior" {
  description = "What a crawler does when it finds a changed schema: UPDATE_IN_DATABASE (add the new columns) or LOG (only report it). Must be LOG with CRAWL_NEW_FOLDERS_ONLY."
  type        = string
  default     = "UPDATE_IN_DATABASE"

  validation {
    condition     = contains(["UPDATE_IN_DATABASE", "LOG"], var.schema_update_behavior)
    error_message = "The schema_update_behavior must be UPDATE_IN_DATABASE or LOG."
  }
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
