variable "region" {
  description = "AWS region of everything (AWS_REGION for the Python side)."
  type        = string
  default     = "eu-west-3"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", var.region))
    error_message = "The region must be an AWS region code such as eu-west-3 or us-east-1."
  }
}

variable "bucket_suffix" {
  description = "Appended to every bucket name, which must be unique across all of S3: e.g. \"-acme-dev\". Written to LAKESTREAM_BUCKET_SUFFIX."
  type        = string

  validation {
    condition     = can(regex("^(-[a-z0-9]+)+$", var.bucket_suffix)) && length(var.bucket_suffix) <= 24
    error_message = "The bucket_suffix must start with a dash and hold dash-separated lowercase letters and digits (e.g. \"-acme-dev\"), at most 24 characters: names like kafka-ing-transactions are taken in S3."
  }
}

variable "client_cidrs" {
  description = "Who may connect to Kafka on port 9092: your laptop's public address as a /32 (curl https://checkip.amazonaws.com), your office or VPC ranges. Never the whole internet."
  type        = list(string)

  validation {
    condition     = length(var.client_cidrs) > 0 && alltrue([for c in var.client_cidrs : can(cidrhost(c, 0))])
    error_message = "Give at least one CIDR block, each like 203.0.113.7/32 or 10.0.0.0/16."
  }

  validation {
    condition     = alltrue([for c in var.client_cidrs : !can(regex("/0$", c))])
    error_message = "A client CIDR must not be the whole internet (0.0.0.0/0 or ::/0): give your own address, e.g. 203.0.113.7/32."
  }
}

variable "catalog_file" {
  description = "The dataset catalog. null reads lakestream/core/datasets.yaml from this repository, the file the Python code reads."
  type        = string
  default     = null

  validation {
    condition     = var.catalog_file == null || can(regex("\\.(ya?ml|json)$", var.catalog_file))
    error_message = "The catalog_file must be null or a .yaml, .yml or .json file."
  }
}

variable "vpc_id" {
  description = "VPC for the brokers. null uses the region's default VPC."
  type        = string
  default     = null

  validation {
    condition     = var.vpc_id == null || can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "The vpc_id must be null or look like vpc-0123456789abcdef0."
  }
}

variable "subnet_ids" {
  description = "Subnets for the brokers (with public_access, subnets routed to an internet gateway). null uses the default VPC's default subnets."
  type        = list(string)
  default     = null

  validation {
    condition     = var.subnet_ids == null || try(length(var.subnet_ids) > 0 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))]), false)
    error_message = "The subnet_ids must be null or a non-empty list of ids like subnet-0123456789abcdef0."
  }
}

variable "broker_count" {
  description = "Kafka nodes: 1 for a lab; 3 (or 5) for a replicated cluster with replication factor 3 and min.insync.replicas 2."
  type        = number
  default     = 1

  validation {
    condition     = contains([1, 3, 5], var.broker_count)
    error_message = "The broker_count must be 1, 3 or 5: a KRaft controller quorum needs an odd number of voters."
  }
}

variable "broker_instance_type" {
  description = "EC2 instance type of the brokers (x86_64; see the kafka module for arm64)."
  type        = string
  default     = "t3.small"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.broker_instance_type))
    error_message = "The broker_instance_type must look like t3.small or m6i.large."
  }
}

variable "kafka_version" {
  description = "Apache Kafka release installed on the brokers (3.5 or later)."
  type        = string
  default     = "3.9.1"

  validation {
    condition     = can(regex("^(3\\.([5-9]|[1-9][0-9])|[4-9]\\.[0-9]+)\\.[0-9]+$", var.kafka_version))
    error_message = "The kafka_version must be a release like 3.9.1 or 4.1.0, 3.5.0 or later."
  }
}

variable "public_brokers" {
  description = "Give the brokers Elastic IPs so a laptop in client_cidrs can reach them. false keeps them private (clients in the VPC, a VPN or Direct Connect)."
  type        = bool
  default     = true
}

variable "glue_database" {
  description = "Glue database of the lake's tables (LAKESTREAM_GLUE_DATABASE)."
  type        = string
  default     = "kafka_ing"

  validation {
    condition     = can(regex("^[a-z0-9_]{1,255}$", var.glue_database))
    error_message = "The glue_database must be lowercase letters, digits and underscores."
  }
}

variable "athena_workgroup" {
  description = "Athena workgroup name (LAKESTREAM_ATHENA_WORKGROUP)."
  type        = string
  default     = "lakestream"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,128}$", var.athena_workgroup))
    error_message = "The athena_workgroup must be 1-128 letters, digits, dots, dashes or underscores."
  }
}

variable "lake_sse_algorithm" {
  description = "Encryption of the lake and results buckets: aws:kms (the lake's own key, rotated yearly) or AES256 (S3-managed keys; cheaper, less control)."
  type        = string
  default     = "aws:kms"

  validation {
    condition     = contains(["aws:kms", "AES256"], var.lake_sse_algorithm)
    error_message = "The lake_sse_algorithm must be aws:kms or AES256."
  }
}

variable "access_logging" {
  description = "Keep S3 server access logs of the lake and results buckets in a bucket of their own."
  type        = bool
  default     = true
}

variable "raw_transition_days" {
  description = "Days after which landed data moves to STANDARD_IA."
  type        = number
  default     = 90

  validation {
    condition     = var.raw_transition_days >= 30 && floor(var.raw_transition_days) == var.raw_transition_days
    error_message = "The raw_transition_days must be a whole number of at least 30."
  }
}

variable "dead_letter_expiration_days" {
  description = "Days after which dead letters (_dlq/) are deleted."
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

variable "crawler_schedule" {
  description = "Glue cron expression for the crawlers, e.g. \"cron(15 * * * ? *)\" (hourly). null: on demand only (make crawl)."
  type        = string
  default     = null

  validation {
    condition     = var.crawler_schedule == null || can(regex("^cron\\(.+\\)$", var.crawler_schedule))
    error_message = "The crawler_schedule must be null or a cron(...) expression."
  }
}

variable "bytes_scanned_cutoff" {
  description = "Bytes one Athena query may scan before it is cancelled (10 GiB by default, about 0.05 USD)."
  type        = number
  default     = 10737418240

  validation {
    condition     = var.bytes_scanned_cutoff >= 10485760 && floor(var.bytes_scanned_cutoff) == var.bytes_scanned_cutoff
    error_message = "The bytes_scanned_cutoff must be a whole number of bytes, at least 10 MiB."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete buckets that still hold data and the workgroup with its queries. For throw-away environments only."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags on every resource (Project = lakestream is always added)."
  type        = map(string)
  default     = {}
}
