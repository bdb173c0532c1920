variable "workgroup_name" {
  description = "Athena workgroup the API and the console use (LAKESTREAM_ATHENA_WORKGROUP)."
  type        = string
  default     = "lakestream"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,128}$", var.workgroup_name))
    error_message = "The workgroup_name must be 1-128 letters, digits, dots, dashes or underscores."
  }
}

variable "database_name" {
  description = "Glue database the saved queries run in."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9_]{1,255}$", var.database_name))
    error_message = "The database_name must be 1-255 lowercase letters, digits and underscores."
  }
}

variable "results_location" {
  description = "S3 location of query results, e.g. s3://kafka-ing-athena-results-acme/results/ (enforced for every query of the workgroup)."
  type        = string

  validation {
    condition     = can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/(.+/)?$", var.results_location))
    error_message = "The results_location must be s3://<bucket>/<prefix>/ and end with a slash."
  }
}

variable "kms_key_arn" {
  description = "KMS key that encrypts query results (SSE_KMS)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "bytes_scanned_cutoff" {
  description = "Athena cancels any query of the workgroup that would scan more than this many bytes (the cost guard). Default 10 GiB, as the embedded stack."
  type        = number
  default     = 10737418240

  validation {
    condition     = var.bytes_scanned_cutoff >= 10485760 && floor(var.bytes_scanned_cutoff) == var.bytes_scanned_cutoff
    error_message = "The bytes_scanned_cutoff must be a whole number of bytes, at least 10 MiB (Athena's minimum)."
  }
}

variable "queries_dir" {
  description = "Folder of saved analyses, one <name>.sql each whose first line is a `-- description` comment (glue/queries). Each becomes a named query."
  type        = string

  validation {
    condition     = length(fileset(var.queries_dir, "*.sql")) > 0
    error_message = "The queries_dir holds no .sql file: point it at glue/queries."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the workgroup even if it holds saved queries created outside Terraform."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
