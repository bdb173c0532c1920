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

variable "environment" {
  description = "Names this deployment, so that several live in one account and region: every name Terraform gives (the Kafka cluster, its secrets and parameters, the Glue databases, crawlers and security configuration, the workgroup, roles and policies, the API) carries it. null keeps the plain names. 1-10 lowercase letters, digits or dashes. Bucket names carry bucket_suffix, which must differ too."
  type        = string
  default     = null
}

variable "client_cidrs" {
  description = "Who may connect to Kafka on port 9092: your laptop's public address as a /32 (curl https://checkip.amazonaws.com), your office or VPC ranges. Never the whole internet."
  type        = list(string)
}

variable "catalog_file" {
  description = "The dataset catalog. null reads lakestream/core/datasets.yaml from this repository, the file the Python code reads."
  type        = string
  default     = null
}

variable "vpc_id" {
  description = "VPC for the brokers. null uses the region's default VPC."
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Subnets for the brokers (with public_access, subnets routed to an internet gateway). null uses the default VPC's default subnets."
  type        = list(string)
  default     = null
}

variable "broker_count" {
  description = "Kafka nodes: 1 for a lab; 3 (or 5) for a replicated cluster with replication factor 3 and min.insync.replicas 2."
  type        = number
  default     = 1
}

variable "broker_instance_type" {
  description = "EC2 instance type of the brokers (x86_64; see the kafka module for arm64)."
  type        = string
  default     = "t3.small"
}

variable "kafka_version" {
  description = "Apache Kafka release installed on the brokers (3.5 or later)."
  type        = string
  default     = "3.9.1"
}

variable "public_brokers" {
  description = "Give the brokers Elastic IPs so a laptop in client_cidrs can reach them. false keeps them private (clients in the VPC, a VPN or Direct Connect)."
  type        = bool
  default     = true
}

variable "kafka_ca_arn" {
  description = "ACM Private CA that signs the broker certificates. null: the kafka module creates its own CA (free; its key is in the Terraform state)."
  type        = string
  default     = null
}

variable "kafka_ca_signing_algorithm" {
  description = "Signing algorithm of kafka_ca_arn (SHA256WITHRSA for an RSA CA, SHA256WITHECDSA for an EC one)."
  type        = string
  default     = "SHA256WITHRSA"
}

variable "kafka_credential_versions" {
  description = "Kafka user => password version: raise one to rotate that user's password (infra/README.md, Rotating a credential)."
  type        = map(number)
  default     = {}
}

variable "kafka_plaintext_listener" {
  description = "Add an unauthenticated PLAINTEXT listener on port 9095 for kafka_plaintext_cidrs. Only with public_brokers = false (a private VPC)."
  type        = bool
  default     = false
}

variable "kafka_plaintext_cidrs" {
  description = "Private ranges allowed on the PLAINTEXT listener when kafka_plaintext_listener is on."
  type        = list(string)
  default     = []
}

variable "api_enabled" {
  description = "Run the query API on AWS: an instance behind a load balancer (about 35 USD a month)."
  type        = bool
  default     = true
}

variable "api_allowed_cidrs" {
  description = "Who may call the API. null: the same CIDRs as client_cidrs."
  type        = list(string)
  default     = null
}

variable "api_certificate_arn" {
  description = "ACM certificate (its domain pointed at api_url's host) for HTTPS. null: plain HTTP, a lab setup: the API key travels in clear."
  type        = string
  default     = null
}

variable "api_host_names" {
  description = "The certificate's domain names, which the API must answer to."
  type        = list(string)
  default     = []
}

variable "api_instance_type" {
  description = "EC2 instance type of the API."
  type        = string
  default     = "t3.small"
}

variable "api_key_version" {
  description = "Raise it to draw a new API key (then restart the API; infra/README.md)."
  type        = number
  default     = 1
}

variable "sink_count" {
  description = "Sink instances (an Auto Scaling group running `python -m consumers`, about 19 USD a month each at t3.small): more spread the partitions between them. 0 runs no sink on AWS (`make consume` on a machine of yours instead)."
  type        = number
  default     = 1
}

variable "sink_instance_type" {
  description = "EC2 instance type of the sink instances."
  type        = string
  default     = "t3.small"
}

variable "curation_enabled" {
  description = "Run curation on AWS: one instance with a pass every curation_schedule and maintenance every maintain_schedule (about 19 USD a month at t3.small)."
  type        = bool
  default     = true
}

variable "curation_instance_type" {
  description = "EC2 instance type of the curation instance."
  type        = string
  default     = "t3.small"
}

variable "curation_schedule" {
  description = "When curation passes run: a systemd OnCalendar expression (default every 5 minutes). A pass still running when the next is due delays it, never doubles it."
  type        = string
  default     = "*:0/5"

  validation {
    condition     = can(regex("^[A-Za-z0-9*:/ ,.-]+$", var.curation_schedule))
    error_message = "The curation_schedule must be a systemd OnCalendar expression, e.g. *:0/5 (every 5 minutes) or hourly."
  }
}

variable "maintain_schedule" {
  description = "When maintenance (compaction, snapshot expiry, orphans, raw retention) runs: a systemd OnCalendar expression."
  type        = string
  default     = "daily"

  validation {
    condition     = can(regex("^[A-Za-z0-9*:/ ,.-]+$", var.maintain_schedule))
    error_message = "The maintain_schedule must be a systemd OnCalendar expression, e.g. daily or *-*-* 03:00."
  }
}

variable "alarm_email" {
  description = "An address the alarms notify (AWS mails it a confirmation link first). null: subscribe to the topic yourself (output alarm_topic_arn)."
  type        = string
  default     = null
}

variable "consumer_lag_threshold" {
  description = "Records a sink instance may be behind on a topic for 10 minutes before the lag alarm."
  type        = number
  default     = 100000
}

variable "curation_lag_threshold" {
  description = "Records a curated table may be behind the sink's commits for 30 minutes before the curation lag alarm."
  type        = number
  default     = 500000
}

variable "log_retention_days" {
  description = "Days the services' log groups keep their logs and metric documents."
  type        = number
  default     = 365
}

variable "glue_database" {
  description = "Glue database of the lake's tables (LAKESTREAM_GLUE_DATABASE). null derives it from environment: kafka_ing, or kafka_ing_<environment>."
  type        = string
  default     = null
}

variable "curated_glue_database" {
  description = "Glue database of the curated Iceberg tables (LAKESTREAM_CURATED_DATABASE). null derives it from environment: kafka_ing_curated, or kafka_ing_<environment>_curated."
  type        = string
  default     = null
}

variable "curated_optimizers" {
  description = "Glue table optimizers on the curated tables (compaction, retention, orphan_file_deletion); [] leaves maintenance to `make maintain`."
  type        = list(string)
  default     = ["compaction", "retention", "orphan_file_deletion"]
}

variable "snapshot_retention_days" {
  description = "Days of curated table snapshots the retention optimizer keeps (how far back `as_of` reaches)."
  type        = number
  default     = 7
}

variable "athena_workgroup" {
  description = "Athena workgroup name (LAKESTREAM_ATHENA_WORKGROUP). null derives it from environment: lakestream, or lakestream-<environment>."
  type        = string
  default     = null
}

variable "lake_sse_algorithm" {
  description = "Encryption of the lake and results buckets: aws:kms (the lake's own key, rotated yearly) or AES256 (S3-managed keys; cheaper, less control)."
  type        = string
  default     = "aws:kms"
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
}

variable "raw_expiration_days" {
  description = "Days after which landed raw data is deleted (the retention of `make maintain --retention-days`, applied by S3 on AWS). null keeps it forever."
  type        = number
  default     = null
}

variable "dead_letter_expiration_days" {
  description = "Days after which dead letters (_dlq/) are deleted."
  type        = number
  default     = 30
}

variable "results_expiration_days" {
  description = "Days after which Athena query results are deleted."
  type        = number
  default     = 7
}

variable "crawler_schedule" {
  description = "Glue cron expression for the crawlers, e.g. \"cron(15 * * * ? *)\" (hourly). null: on demand only (make crawl)."
  type        = string
  default     = null
}

variable "bytes_scanned_cutoff" {
  description = "Bytes one Athena query may scan before it is cancelled (10 GiB by default, about 0.05 USD)."
  type        = number
  default     = 10737418240
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
