variable "datasets" {
  description = "Dataset name => its bucket's full name (with suffix) and its table, whose name is also the data prefix. From the dataset catalog."
  type = map(object({
    bucket = string
    table  = string
  }))

  validation {
    condition     = length(var.datasets) > 0 && !contains(keys(var.datasets), "athena_results") && alltrue([for d in values(var.datasets) : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", d.bucket)) && can(regex("^[a-z0-9_]+$", d.table))])
    error_message = "Give at least one dataset (none named athena_results, which is the results bucket's key); each bucket must be a legal S3 bucket name and each table lowercase letters, digits and underscores."
  }
}

variable "results_bucket" {
  description = "Full name of the Athena query results bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.results_bucket))
    error_message = "The results_bucket must be a legal S3 bucket name (3-63 lowercase letters, digits, dots and dashes)."
  }
}

variable "access_log_bucket" {
  description = "Full name of the bucket that receives the server access logs of the lake and results buckets. null turns access logging off."
  type        = string
  default     = null

  validation {
    condition     = var.access_log_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket))
    error_message = "The access_log_bucket must be null or a legal S3 bucket name."
  }
}

variable "sse_algorithm" {
  description = "Default encryption of the lake and results buckets: aws:kms (with kms_key_arn) or AES256 (S3-managed keys)."
  type        = string
  default     = "aws:kms"

  validation {
    condition     = contains(["aws:kms", "AES256"], var.sse_algorithm)
    error_message = "The sse_algorithm must be aws:kms or AES256."
  }
}

variable "kms_key_arn" {
  description = "KMS key for SSE-KMS; required when sse_algorithm is aws:kms, ignored otherwise."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "The kms_key_arn must be null or a KMS key ARN."
  }
}

variable "raw_transition_days" {
  description = "Days after which landed data (under each table prefix) moves to raw_storage_class."
  type        = number
  default     = 90

  validation {
    condition     = var.raw_transition_days >= 30 && floor(var.raw_transition_days) == var.raw_transition_days
    error_message = "The raw_transition_days must be a whole number of at least 30 (S3's minimum before STANDARD_IA)."
  }
}

variable "raw_storage_class" {
  description = "Cheaper storage class for landed data after raw_transition_days. All of these stay queryable by Athena."
  type        = string
  default     = "STANDARD_IA"

  validation {
    condition     = contains(["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR"], var.raw_storage_class)
    error_message = "The raw_storage_class must be STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING or GLACIER_IR (Athena cannot read GLACIER or DEEP_ARCHIVE)."
  }
}

variable "raw_expiration_days" {
  description = "Days after which landed raw data (the table prefixes) is deleted, as `make maintain --retention-days` does locally. null keeps it forever."
  type        = number
  default     = null

  validation {
    condition     = var.raw_expiration_days == null || try(var.raw_expiration_days >= 1 && floor(var.raw_expiration_days) == var.raw_expiration_days, false)
    error_message = "The raw_expiration_days must be null or a whole number of days, at least 1."
  }
}

variable "dead_letter_expiration_days" {
  description = "Days after which dead letters (the _dlq/ prefix) are deleted."
  type        = number
  default     = 30

  validation {
    condition     = var.dead_letter_expiration_days >= 1 && floor(var.dead_letter_expiration_days) == var.dead_letter_expiration_days
    error_message = "The dead_letter_expiration_days must be a whole number of at least 1."
  }
}

variable "results_expiration_days" {
  description = "Days after which Athena query results are deleted."
  type        = number
  default     = 7

  validation {
    condition     = var.results_expiration_days >= 1 && floor(var.results_expiration_days) == var.results_expiration_days
    error_message = "The results_expiration_days must be a whole number of at least 1."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which overwritten or deleted object versions are removed (a re-delivered batch overwrites its object)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "The noncurrent_version_expiration_days must be a whole number of at least 1."
  }
}

variable "access_log_expiration_days" {
  description = "Days after which server access logs are deleted."
  type        = number
  default     = 90

  validation {
    condition     = var.access_log_expiration_days >= 1 && floor(var.access_log_expiration_days) == var.access_log_expiration_days
    error_message = "The access_log_expiration_days must be a whole number of at least 1."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete buckets that still hold objects. Leave false unless the data is disposable."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
