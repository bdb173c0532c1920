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
  description = "EC2 instance type of the brokers. Its architecture must match var.architecture."
  type        = string
  default     = "t3.small"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "The instance_type must look like t3.small or m7g.large."
  }
}

variable "architecture" {
  description = "CPU architecture of the Amazon Linux 2023 image: x86_64 or arm64 (Graviton types such as t4g, m7g)."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "The architecture must be x86_64 or arm64."
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
  description = "Size of each broker's encrypted gp3 root volume, which also holds the Kafka log."
  type        = number
  default     = 30

  validation {
    condition     = var.root_volume_size_gb >= 8 && var.root_volume_size_gb <= 16384 && floor(var.root_volume_size_gb) == var.root_volume_size_gb
    error_message = "The root_volume_size_gb must be a whole number between 8 and 16384."
  }
}

variable "ebs_kms_key_arn" {
  description = "KMS key for the root volumes. null uses the account's default EBS key (aws/ebs); the volumes are encrypted either way."
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
