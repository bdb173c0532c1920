variable "name" {
  description = "Name prefix of the instance, load balancer, security groups, role and secret."
  type        = string
  default     = "lakestream-api"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,24}$", var.name))
    error_message = "The name must be 2-25 lowercase letters, digits or dashes, starting with a letter (load balancer names are short)."
  }
}

variable "vpc_id" {
  description = "VPC of the load balancer and the instance."
  type        = string

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "The vpc_id must look like vpc-0123456789abcdef0."
  }
}

variable "subnet_ids" {
  description = "Subnets of the load balancer, in at least two availability zones; the instance runs in the first. With public_ip they must route to an internet gateway (the instance installs its packages from PyPI at first boot); without it, they need a NAT gateway."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "Give at least two subnet ids (a load balancer spans two zones), each like subnet-0123456789abcdef0."
  }
}

variable "allowed_cidrs" {
  description = "Who may call the API through the load balancer (your office, your laptop's /32). Never the whole internet: the API key is the only other lock."
  type        = list(string)

  validation {
    condition     = length(var.allowed_cidrs) > 0 && alltrue([for c in var.allowed_cidrs : can(cidrhost(c, 0)) && !can(regex("/0$", c))])
    error_message = "Give at least one CIDR block, none of them the whole internet (0.0.0.0/0 or ::/0)."
  }
}

variable "certificate_arn" {
  description = "ACM certificate for the load balancer's HTTPS listener (its domain pointed at the load balancer). null: plain HTTP on port 80, for a lab only: the API key then travels in clear."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/", var.certificate_arn))
    error_message = "The certificate_arn must be null or an ACM certificate ARN."
  }
}

variable "host_names" {
  description = "Extra host names the API answers to (the domain of certificate_arn); the load balancer's own DNS name is always allowed."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for h in var.host_names : can(regex("^[a-z0-9*]([a-z0-9.-]*[a-z0-9])?$", h))])
    error_message = "Each host name must be a DNS name such as api.example.com."
  }

  # Clients of the HTTPS listener ask for the certificate's domain: a name Django does not know
  # answers 400 (ALLOWED_HOSTS) to every request.
  validation {
    condition     = var.certificate_arn == null || length(var.host_names) > 0
    error_message = "With a certificate_arn, host_names must list its domain names (the API answers 400 to any other Host)."
  }
}

variable "policy_arns" {
  description = "Managed policies of the instance's role: the API stage's least-privilege policy (stage_policies, `api`)."
  type        = list(string)

  validation {
    condition     = alltrue([for a in var.policy_arns : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/", a))])
    error_message = "Each policy ARN must look like arn:aws:iam::123456789012:policy/NAME."
  }
}

variable "settings" {
  description = "The Python side's settings (LAKESTREAM_*, AWS_REGION, ...: the root's lakestream_settings), written to the service's environment file."
  type        = map(string)
}

variable "release" {
  description = "The release the instance installs (the root's local.release: bucket, key, sha256, requirements, kms_key_arn), passed to ssm_instance, which checks it."
  type        = any

  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.release.sha256)) && can(regex("^releases/", var.release.key))
    error_message = "The release needs its 64-digit hex sha256 and a key under releases/ (the root's aws_s3_object.release)."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key of the API's log group, /lakestream/<name> (null: CloudWatch Logs' own encryption)."
  type        = string
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.log_kms_key_arn))
    error_message = "The log_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "log_retention_days" {
  description = "Days the API's log group keeps gunicorn's logs and the metric documents."
  type        = number
  default     = 365

  validation {
    condition     = var.log_retention_days >= 1 && floor(var.log_retention_days) == var.log_retention_days
    error_message = "The log_retention_days must be a whole number of days (ssm_instance checks it is one CloudWatch Logs accepts)."
  }
}

variable "kms_key_arn" {
  description = "The lake's key: it encrypts the API key's secret."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "api_key_version" {
  description = "Raise it to draw a new API key (written to the secret; restart the service to use it)."
  type        = number
  default     = 1

  validation {
    condition     = var.api_key_version >= 1 && floor(var.api_key_version) == var.api_key_version
    error_message = "The api_key_version must be a whole number of at least 1."
  }
}

variable "instance_type" {
  description = "EC2 instance type of the API (a Graviton type runs the arm64 image). API_WORKERS x API_THREADS requests are served at once."
  type        = string
  default     = "t3.small"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "The instance_type must look like t3.small."
  }
}

variable "public_ip" {
  description = "Give the instance a public address for its way out (packages at first boot). Nothing can come in through it: its security group admits the load balancer only."
  type        = bool
  default     = true
}

variable "secret_recovery_window_days" {
  description = "Days a deleted API key secret can be restored (7-30), or 0 to delete at once."
  type        = number
  default     = 7

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "The secret_recovery_window_days must be 0 or between 7 and 30."
  }
}

variable "deletion_protection" {
  description = "Protect the load balancer from deletion (turn off before `terraform destroy`)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
