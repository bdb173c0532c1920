variable "datasets" {
  description = "Dataset name => its bucket (full name), table name, curated table location (s3://<bucket>/curated/<table>), event time field and curated columns (name, Glue type). From the dataset catalog module."
  type = map(object({
    bucket           = string
    table            = string
    location         = string
    event_time_field = string
    columns          = list(object({ name = string, type = string }))
  }))

  validation {
    condition = length(var.datasets) > 0 && alltrue([
      for d in values(var.datasets) :
      can(regex("^[a-z0-9_]+$", d.table)) && startswith(d.location, "s3://${d.bucket}/") && contains([for c in d.columns : c.name], d.event_time_field)
    ])
    error_message = "Give at least one dataset; each table must be lowercase letters, digits and underscores, its location under s3://<its bucket>/, and its event_time_field one of its columns."
  }
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the lake's objects: the optimizers and the curation job read and write with it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "database_name" {
  description = "Glue database of the curated Iceberg tables (LAKESTREAM_CURATED_DATABASE)."
  type        = string
  default     = "kafka_ing_curated"

  validation {
    condition     = can(regex("^[a-z0-9_]{1,255}$", var.database_name))
    error_message = "The database_name must be 1-255 lowercase letters, digits and underscores (Athena's rule)."
  }
}

variable "name" {
  description = "Name prefix of the optimizers' role."
  type        = string
  default     = "lakestream"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "The name must be 2-31 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "optimizers" {
  description = "Glue table optimizers enabled on every curated table: compaction (binpack), retention (snapshot expiry) and orphan_file_deletion. [] leaves all of it to `make maintain`."
  type        = list(string)
  default     = ["compaction", "retention", "orphan_file_deletion"]

  validation {
    condition     = alltrue([for o in var.optimizers : contains(["compaction", "retention", "orphan_file_deletion"], o)]) && length(distinct(var.optimizers)) == length(var.optimizers)
    error_message = "The optimizers must be distinct values among compaction, retention and orphan_file_deletion."
  }
}

variable "snapshot_retention_days" {
  description = "Snapshots older than this are expired by the retention optimizer (how far back `as_of` time travel reaches)."
  type        = number
  default     = 7

  validation {
    condition     = var.snapshot_retention_days >= 1 && floor(var.snapshot_retention_days) == var.snapshot_retention_days
    error_message = "The snapshot_retention_days must be a whole number of days, at least 1."
  }
}

variable "snapshots_to_retain" {
  description = "The retention optimizer always keeps at least this many snapshots, however old."
  type        = number
  default     = 10

  validation {
    condition     = var.snapshots_to_retain >= 1 && floor(var.snapshots_to_retain) == var.snapshots_to_retain
    error_message = "The snapshots_to_retain must be a whole number, at least 1."
  }
}

variable "orphan_file_retention_days" {
  description = "Files under a table's location that no snapshot references are deleted once older than this (a running commit's new files are younger)."
  type        = number
  default     = 3

  validation {
    condition     = var.orphan_file_retention_days >= 1 && floor(var.orphan_file_retention_days) == var.orphan_file_retention_days
    error_message = "The orphan_file_retention_days must be a whole number of days, at least 1."
  }
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
