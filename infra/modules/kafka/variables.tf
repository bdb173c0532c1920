variable "name" {
  description = "Name prefix for the brokers, their security group and IAM role."
  type        = string
  default     = "lakestream-kafka"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "The name must be 2-31 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "broker_count" {
  description = "Number of KRaft nodes (each is broker and controller). 1 for a lab; 3 or 5 for a replicated cluster with replication factor 3 and min.insync.replicas 2."
  type        = number
  default     = 1

  validation {
    condition     = contains([1, 3, 5], var.broker_count)
    error_message = "The broker_count must be 1, 3 or 5: a KRaft controller quorum needs an odd number of voters."
  }
}

variable "vpc_id" {
  description = "VPC the brokers run in."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "The vpc_id must look like vpc-0123456789abcdef0."
  }
}

variable "subnet_ids" {
  description = "Subnets for the brokers; broker i goes to subnet i modulo their number, so several subnets spread the brokers across zones. With public_access they must route to an internet gateway; without it they need another way out for first boot (a NAT gateway, or an S3 gateway endpoint for the Amazon Linux repositories plus a download_base_url the subnet can reach)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) > 0 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "Give at least one subnet id, each like subnet-0123456789abcdef0."
  }
}

variable "client_security_groups" {
  description = "Security groups whose members may reach the client port besides client_cidrs: name => id (the sink's and curation's instances). Names are known at plan time, ids may not be."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for name, id in var.client_security_groups : can(regex("^[a-z][a-z0-9-]*$", name))])
    error_message = "Each client_security_groups name must be lowercase letters, digits or dashes (the ids come from the groups' resources)."
  }
}

variable "client_cidrs" {
  description = "CIDR blocks allowed to reach the brokers on the client port 9092 (your laptop's /32, your VPC's range). Nothing else can connect."
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

variable "public_access" {
  description = "Give each broker an Elastic IP and advertise its public DNS name, so clients outside the VPC (a laptop in client_cidrs) can connect. false advertises private addresses only."
  type        = bool
  default     = true
}

variable "instance_type" {
  description = "EC2 instance type of the brokers; a Graviton type (t4g, m7g) runs the arm64 Amazon Linux 2023."
  type        = string
  default     = "t3.small"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "The instance_type must look like t3.small or m7g.large."
  }
}

variable "ami_id" {
  description = "AMI to run instead of the latest Amazon Linux 2023 (read from the public SSM parameter). Must be an Amazon Linux 2023 image."
  type        = string
  default     = null

  validation {
    condition     = var.ami_id == null || can(regex("^ami-[0-9a-f]+$", var.ami_id))
    error_message = "The ami_id must be null or look like ami-0123456789abcdef0."
  }
}

variable "kafka_version" {
  description = "Apache Kafka release to install (3.5 or later, for production-ready KRaft)."
  type        = string
  default     = "3.9.1"

  validation {
    condition     = can(regex("^(3\\.([5-9]|[1-9][0-9])|[4-9]\\.[0-9]+)\\.[0-9]+$", var.kafka_version))
    error_message = "The kafka_version must be a release like 3.9.1 or 4.1.0, 3.5.0 or later."
  }
}

variable "scala_version" {
  description = "Scala build of the Kafka release (2.13 for every supported release; 2.12 exists up to 3.9)."
  type        = string
  default     = "2.13"

  validation {
    condition     = contains(["2.12", "2.13"], var.scala_version)
    error_message = "The scala_version must be 2.12 or 2.13."
  }
}

variable "kafka_sha512" {
  description = "Expected SHA-512 of the Kafka archive. Empty: read the .sha512 file published beside the archive."
  type        = string
  default     = ""

  validation {
    condition     = can(regex("^([0-9a-f]{128})?$", var.kafka_sha512))
    error_message = "The kafka_sha512 must be empty or 128 lowercase hex digits."
  }
}

variable "download_base_url" {
  description = "Where Kafka releases are fetched from: <url>/<version>/kafka_<scala>-<version>.tgz. The Apache archive keeps every release; point it at a mirror of yours if the brokers have no internet egress."
  type        = string
  default     = "https://archive.apache.org/dist/kafka"

  validation {
    condition     = can(regex("^https://[^ ]+[^/]$", var.download_base_url))
    error_message = "The download_base_url must be an https URL without a trailing slash."
  }
}

variable "heap_mb" {
  description = "Kafka JVM heap in MiB; leave at least half of the instance's memory to the page cache."
  type        = number
  default     = 512

  validation {
    condition     = var.heap_mb >= 256 && var.heap_mb <= 32768 && floor(var.heap_mb) == var.heap_mb
    error_message = "The heap_mb must be a whole number between 256 and 32768."
  }
}

variable "root_volume_size_gb" {
  description = "Size of each broker's encrypted gp3 root volume: the system and the Kafka release (the log is on the data volume)."
  type        = number
  default     = 30

  validation {
    condition     = var.root_volume_size_gb >= 8 && var.root_volume_size_gb <= 16384 && floor(var.root_volume_size_gb) == var.root_volume_size_gb
    error_message = "The root_volume_size_gb must be a whole number between 8 and 16384."
  }
}

variable "data_volume_size_gb" {
  description = "Size of each broker's encrypted gp3 data volume, which holds the Kafka log and outlives the instance. It can grow (then run xfs_growfs /var/lib/kafka/data on the broker) but never shrink."
  type        = number
  default     = 50

  validation {
    condition     = var.data_volume_size_gb >= 1 && var.data_volume_size_gb <= 16384 && floor(var.data_volume_size_gb) == var.data_volume_size_gb
    error_message = "The data_volume_size_gb must be a whole number of GiB between 1 and 16384 (what a gp3 volume can hold)."
  }
}

variable "ebs_kms_key_arn" {
  description = "KMS key for the root and data volumes. null uses the account's default EBS key (aws/ebs); the volumes are encrypted either way."
  type        = string
  default     = null

  validation {
    condition     = var.ebs_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.ebs_kms_key_arn))
    error_message = "The ebs_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "log_retention_hours" {
  description = "How long Kafka keeps messages (log.retention.hours). The lake in S3 is the long-term copy."
  type        = number
  default     = 168

  validation {
    condition     = var.log_retention_hours >= 1 && floor(var.log_retention_hours) == var.log_retention_hours
    error_message = "The log_retention_hours must be a whole number of hours, at least 1."
  }
}

variable "topics" {
  description = "Topics to create at first boot: name => partition count (from the dataset catalog). Empty creates none."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for t, p in var.topics : can(regex("^[A-Za-z0-9._-]{1,249}$", t)) && p >= 1 && floor(p) == p])
    error_message = "Each topic name must be 1-249 of [A-Za-z0-9._-] and each partition count a whole number of at least 1."
  }
}

variable "detailed_monitoring" {
  description = "One-minute CloudWatch metrics for the brokers (about 2 USD per instance per month)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}

# --- security: TLS, SCRAM users, the optional PLAINTEXT listener ----------------------------------

variable "ca_arn" {
  description = "ARN of an AWS Private CA (ACM PCA) that signs the broker certificates. null: the module creates its own CA (a self-signed certificate whose key stays in the Terraform state) and publishes it like the other."
  type        = string
  default     = null

  validation {
    condition     = var.ca_arn == null || can(regex("^arn:aws[a-z-]*:acm-pca:[a-z0-9-]+:[0-9]{12}:certificate-authority/[0-9a-f-]+$", var.ca_arn))
    error_message = "The ca_arn must be null or an ACM Private CA ARN (arn:aws:acm-pca:REGION:ACCOUNT:certificate-authority/ID)."
  }
}

variable "ca_signing_algorithm" {
  description = "Signing algorithm of the ACM Private CA given in ca_arn; it must match the CA's key (RSA or ECDSA). Unused with the module's own CA."
  type        = string
  default     = "SHA256WITHRSA"

  validation {
    condition     = contains(["SHA256WITHRSA", "SHA384WITHRSA", "SHA512WITHRSA", "SHA256WITHECDSA", "SHA384WITHECDSA", "SHA512WITHECDSA"], var.ca_signing_algorithm)
    error_message = "The ca_signing_algorithm must be one of SHA256WITHRSA, SHA384WITHRSA, SHA512WITHRSA, SHA256WITHECDSA, SHA384WITHECDSA, SHA512WITHECDSA."
  }
}

variable "certificate_validity_days" {
  description = "Validity of the broker certificates. The module's own CA renews them in the plan 30 days before they expire; a new certificate reaches a running broker with /usr/local/sbin/kafka-fetch-tls and a restart (see infra/README.md)."
  type        = number
  default     = 397

  validation {
    condition     = var.certificate_validity_days >= 31 && var.certificate_validity_days <= 3650 && floor(var.certificate_validity_days) == var.certificate_validity_days
    error_message = "The certificate_validity_days must be a whole number between 31 and 3650."
  }
}

variable "users" {
  description = "Kafka users (SCRAM-SHA-512), one per stage: name => role. producer: write the topics; consumer: read the topics with consumer groups named consumer_group_prefix*; observer: describe the topics and those groups (curation reads the sink's committed offsets); admin: everything (a super user). Each gets a random password in Secrets Manager, <name>/users/<user>."
  type        = map(string)
  default = {
    producers = "producer"
    sink      = "consumer"
    curation  = "observer"
    admin     = "admin"
  }

  validation {
    condition     = length(var.users) > 0 && alltrue([for u, role in var.users : can(regex("^[a-z][a-z0-9_-]{0,62}$", u)) && contains(["producer", "consumer", "observer", "admin"], role)])
    error_message = "Each user name must be 1-63 lowercase letters, digits, _ or -, starting with a letter, and each role one of producer, consumer, observer, admin."
  }
}

variable "credential_versions" {
  description = "user => version of its password. Raising a user's number makes the next apply write a new random password to its secret (rotation: then run /usr/local/sbin/kafka-access on node 1, see infra/README.md). Users not listed are at version 1."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for u, v in var.credential_versions : v >= 1 && floor(v) == v])
    error_message = "Each credential version must be a whole number of at least 1."
  }

  # A misspelt user would otherwise rotate nothing, silently.
  validation {
    condition     = alltrue([for u in keys(var.credential_versions) : contains(keys(var.users), u)])
    error_message = "Each credential_versions key must be one of the users (var.users)."
  }
}

variable "consumer_group_prefix" {
  description = "Consumer groups the consumer role may use: every group whose name starts with this (the sink's are lakestream-sink-<dataset>)."
  type        = string
  default     = "lakestream-sink"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,200}$", var.consumer_group_prefix))
    error_message = "The consumer_group_prefix must be 1-200 of [A-Za-z0-9._-]."
  }
}

variable "kms_key_arn" {
  description = "KMS key that encrypts the users' secrets and the brokers' private keys in Parameter Store (the lake's key from the root module). null: the AWS-managed keys."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "The kms_key_arn must be null or a KMS key ARN."
  }
}

variable "secret_recovery_window_days" {
  description = "Days a deleted user secret can be restored (7-30), or 0 to delete at once (throw-away environments: the same names can then be created again right after a destroy)."
  type        = number
  default     = 7

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "The secret_recovery_window_days must be 0 or between 7 and 30."
  }
}

variable "plaintext_listener" {
  description = "Also open an unauthenticated, unencrypted PLAINTEXT listener on port 9095, advertised on the private addresses, for clients in plaintext_cidrs. Only for brokers in a private VPC: it requires public_access = false. Off by default; clients then get the producer and consumer rights without a user."
  type        = bool
  default     = false

  validation {
    condition     = !var.plaintext_listener || !var.public_access
    error_message = "The PLAINTEXT listener is for a private VPC only: set public_access = false to enable plaintext_listener."
  }
}

variable "plaintext_cidrs" {
  description = "CIDR blocks allowed to reach the PLAINTEXT listener (port 9095) when plaintext_listener is on: private ranges of your VPC."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.plaintext_cidrs : can(cidrhost(c, 0)) && can(regex("^(10\\.|172\\.(1[6-9]|2[0-9]|3[01])\\.|192\\.168\\.|f[cd][0-9a-f]{2}:)", c))])
    error_message = "Each plaintext CIDR must be a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or fc00::/7)."
  }

  validation {
    condition     = !var.plaintext_listener || length(var.plaintext_cidrs) > 0
    error_message = "The plaintext_listener needs plaintext_cidrs: the private ranges allowed to use it."
  }
}
