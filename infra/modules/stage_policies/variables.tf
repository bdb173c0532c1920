variable "partition" {
  description = "AWS partition (aws, aws-cn, aws-us-gov)."
  type        = string
  default     = "aws"

  validation {
    condition     = contains(["aws", "aws-cn", "aws-us-gov"], var.partition)
    error_message = "The partition must be aws, aws-cn or aws-us-gov."
  }
}

variable "region" {
  description = "Region of the lake's Glue catalog, Athena workgroup and secrets."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", var.region))
    error_message = "The region must be an AWS region code such as eu-west-3."
  }
}

variable "account_id" {
  description = "AWS account of the lake."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "The account_id must be 12 digits."
  }
}

variable "datasets" {
  description = "Dataset => its bucket, raw table prefix (= Glue table), Kafka topic, curated prefix (the Iceberg table's location in the bucket, without s3://bucket/) and crawler name."
  type = map(object({
    bucket         = string
    table          = string
    topic          = string
    curated_prefix = string
    crawler        = string
  }))

  validation {
    condition     = length(var.datasets) > 0 && alltrue([for d in values(var.datasets) : !startswith(d.curated_prefix, "/") && !endswith(d.curated_prefix, "/")])
    error_message = "Give at least one dataset; each curated_prefix is a key prefix like curated/kafka_ing_transactions (no leading or trailing slash)."
  }
}

variable "raw_database" {
  description = "Glue database of the raw tables (the sink registers partitions there)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9_]{1,255}$", var.raw_database))
    error_message = "The raw_database must be a Glue database name (lowercase letters, digits, underscores)."
  }
}

variable "curated_database" {
  description = "Glue database of the curated Iceberg tables."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9_]{1,255}$", var.curated_database))
    error_message = "The curated_database must be a Glue database name (lowercase letters, digits, underscores)."
  }
}

variable "results_bucket" {
  description = "Bucket of the Athena workgroup's results."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.results_bucket))
    error_message = "The results_bucket must be a legal S3 bucket name."
  }
}

variable "results_prefix" {
  description = "Key prefix of the results in results_bucket (the workgroup's output location)."
  type        = string
  default     = "results/"

  validation {
    condition     = endswith(var.results_prefix, "/") && !startswith(var.results_prefix, "/")
    error_message = "The results_prefix must end with a slash and not start with one, e.g. results/."
  }
}

variable "workgroup" {
  description = "Athena workgroup the API runs its queries in."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,128}$", var.workgroup))
    error_message = "The workgroup must be an Athena workgroup name (letters, digits, . _ -)."
  }
}

variable "kms_key_arn" {
  description = "The lake's KMS key: objects, query results and secrets are encrypted with it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "kafka_user_secrets" {
  description = "Kafka user => its secret's ARN (the kafka module's user_secret_arns)."
  type        = map(string)
}

variable "stage_kafka_users" {
  description = "Stage => the Kafka user whose secret it reads (KAFKA_SASL_PASSWORD=secretsmanager:...)."
  type        = map(string)
  default = {
    producers = "producers"
    sink      = "sink"
    curation  = "curation"
  }
}

variable "api_key_secret_arn" {
  description = "ARN of the secret holding the API's key (API_KEY=secretsmanager:...); null when the API is not deployed."
  type        = string
  default     = null

  validation {
    condition     = var.api_key_secret_arn == null || can(regex("^arn:aws[a-z-]*:secretsmanager:", var.api_key_secret_arn))
    error_message = "The api_key_secret_arn must be null or a Secrets Manager secret ARN."
  }
}
