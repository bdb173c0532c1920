variable "name" {
  description = "Name of the service's instances, role, launch template and log group (/lakestream/<name>): the deployment's base name and the service, e.g. lakestream-sink."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,36}$", var.name))
    error_message = "The name must be 2-37 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "component" {
  description = "What the group runs, for its tags and descriptions: sink or curation."
  type        = string

  validation {
    condition     = contains(["sink", "curation"], var.component)
    error_message = "The component must be sink or curation."
  }
}

variable "description" {
  description = "What the instance role is for, shown in the IAM console."
  type        = string

  validation {
    condition     = length(var.description) >= 1 && length(var.description) <= 1000
    error_message = "The description must be 1-1000 characters."
  }
}

variable "instance_count" {
  description = "Instances the group keeps running. The sink scales out with more (Kafka's group protocol spreads the partitions); curation runs one, so that two passes of a table never run at once."
  type        = number
  default     = 1

  validation {
    condition     = var.instance_count >= 0 && var.instance_count <= 50 && floor(var.instance_count) == var.instance_count
    error_message = "The instance_count must be a whole number from 0 to 50."
  }

  validation {
    condition     = var.component != "curation" || var.instance_count <= 1
    error_message = "Curation runs on one instance at most: two would run passes of the same table at once."
  }
}

variable "instance_type" {
  description = "EC2 instance type of the service (a Graviton type runs the arm64 image)."
  type        = string
  default     = "t3.small"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "The instance_type must look like t3.small."
  }
}

variable "vpc_id" {
  description = "VPC of the instances (the brokers' VPC)."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "The vpc_id must look like vpc-0123456789abcdef0."
  }
}

variable "subnet_ids" {
  description = "Subnets the group launches into (one per zone spreads the instances). They need a way out for first boot: a public address (the subnets' auto-assign setting) or a NAT gateway."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) > 0 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "Give at least one subnet id, each like subnet-0123456789abcdef0."
  }
}

variable "kafka_security_group_id" {
  description = "The brokers' security group: the instances may reach its client port (the kafka module admits this group's members)."
  type        = string

  validation {
    condition     = can(regex("^sg-[0-9a-f]+$", var.kafka_security_group_id))
    error_message = "The kafka_security_group_id must look like sg-0123456789abcdef0."
  }
}

variable "kafka_port" {
  description = "The brokers' SASL_SSL client port."
  type        = number
  default     = 9092

  validation {
    condition     = var.kafka_port >= 1 && var.kafka_port <= 65535 && floor(var.kafka_port) == var.kafka_port
    error_message = "The kafka_port must be a TCP port."
  }
}

variable "policy_arns" {
  description = "Managed policies of the instance role: the stage's least-privilege policy (stage_policies: sink or curation)."
  type        = list(string)

  validation {
    condition     = alltrue([for a in var.policy_arns : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/", a))])
    error_message = "Each policy ARN must look like arn:aws:iam::123456789012:policy/NAME."
  }
}

variable "release" {
  description = "The release the instances install (the root's local.release: bucket, key, sha256, requirements, kms_key_arn), passed to ssm_instance, which checks it."
  type        = any

  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.release.sha256)) && can(regex("^releases/", var.release.key))
    error_message = "The release needs its 64-digit hex sha256 and a key under releases/ (the root's aws_s3_object.release)."
  }
}

variable "service" {
  description = "The settings, files and systemd units the instances run (environment, files, units), passed to ssm_instance, which checks each unit."
  type        = any

  validation {
    condition     = length(try(var.service.units, [])) > 0
    error_message = "The service needs at least one unit (ssm_instance checks each one)."
  }
}

variable "root_volume_size_gb" {
  description = "Size of each instance's encrypted gp3 root volume (the venv, logs; the services keep no data on it)."
  type        = number
  default     = 20

  validation {
    condition     = var.root_volume_size_gb >= 8 && var.root_volume_size_gb <= 16384 && floor(var.root_volume_size_gb) == var.root_volume_size_gb
    error_message = "The root_volume_size_gb must be a whole number between 8 and 16384."
  }
}

variable "ebs_kms_key_arn" {
  description = "KMS key of the root volumes. null: the account's default EBS key (aws/ebs)."
  type        = string
  default     = null

  validation {
    condition     = var.ebs_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.ebs_kms_key_arn))
    error_message = "The ebs_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key of the service's log group (null: CloudWatch Logs' own encryption)."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.log_kms_key_arn))
    error_message = "The log_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "log_retention_days" {
  description = "Days the service's log group keeps its logs and metric documents."
  type        = number
  default     = 365

  validation {
    condition     = var.log_retention_days >= 1 && floor(var.log_retention_days) == var.log_retention_days
    error_message = "The log_retention_days must be a whole number of days (ssm_instance checks it is one CloudWatch Logs accepts)."
  }
}

variable "tags" {
  description = "Tags added to every resource of the module and to the instances it launches."
  type        = map(string)
  default     = {}
}
