variable "name" {
  description = "Name prefix of the role, the instance profile and the launch template (the Name tag of what it launches)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,36}$", var.name))
    error_message = "The name must be 2-37 lowercase letters, digits or dashes, starting with a letter (an IAM role's name prefix is 38 characters at most, its dash included)."
  }
}

variable "description" {
  description = "What the role is for, shown in the IAM console: the service and what its policies let it do."
  type        = string

  validation {
    condition     = length(var.description) >= 1 && length(var.description) <= 1000 && can(regex("^[\\t\\n\\r\\x20-\\x7E\\x{A1}-\\x{FF}]*$", var.description))
    error_message = "The description must be 1-1000 characters that IAM accepts (printable ASCII and Latin-1)."
  }
}

variable "policy_arns" {
  description = "Managed policies attached to the role besides AmazonSSMManagedInstanceCore (a stage's least-privilege policy)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.policy_arns : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/", a))])
    error_message = "Each policy ARN must look like arn:aws:iam::123456789012:policy/NAME."
  }
}

variable "inline_policies" {
  description = "Inline policies of the role: name => policy document (JSON), for what only this instance needs (its release, its secrets)."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for name, document in var.inline_policies : can(regex("^[A-Za-z0-9+=,.@_-]{1,128}$", name)) && can(jsondecode(document))])
    error_message = "Each inline policy name must be 1-128 letters, digits or +=,.@_- and each document a JSON policy."
  }
}

variable "create_launch_template" {
  description = "Also create a launch template (IMDSv2 required, encrypted gp3 root volume, this instance profile) for an Auto Scaling group or new instances; it needs image_id and instance_type."
  type        = bool
  default     = false
}

variable "image_id" {
  description = "AMI of the launch template (an Amazon Linux 2023 image: the latest from the public SSM parameter, for instance)."
  type        = string
  default     = null

  validation {
    condition     = var.image_id == null || can(regex("^ami-[0-9a-f]+$", var.image_id))
    error_message = "The image_id must be null or look like ami-0123456789abcdef0."
  }

  validation {
    condition     = !var.create_launch_template || var.image_id != null
    error_message = "The launch template (create_launch_template) needs an image_id."
  }
}

variable "instance_type" {
  description = "EC2 instance type of the launch template (a Graviton type needs an arm64 image_id)."
  type        = string
  default     = null

  validation {
    condition     = var.instance_type == null || can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "The instance_type must be null or look like t3.small."
  }

  validation {
    condition     = !var.create_launch_template || var.instance_type != null
    error_message = "The launch template (create_launch_template) needs an instance_type."
  }
}

variable "user_data" {
  description = "First-boot script of the launch template, as text (the module encodes it). Names and ARNs only, never a secret: the instance reads those at boot with its role."
  type        = string
  default     = null

  validation {
    condition     = length(var.user_data == null ? "" : var.user_data) <= 16384
    error_message = "The user_data must be null or 16 KiB at most (EC2's limit before encoding)."
  }
}

variable "security_group_ids" {
  description = "Security groups of what launches from the template. The subnet and the public address are the launcher's (the instance's subnet_id, the Auto Scaling group's vpc_zone_identifier)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for g in var.security_group_ids : can(regex("^sg-[0-9a-f]+$", g))])
    error_message = "Each security group id must look like sg-0123456789abcdef0."
  }
}

variable "root_volume_size_gb" {
  description = "Size of the launch template's encrypted gp3 root volume."
  type        = number
  default     = 20

  validation {
    condition     = var.root_volume_size_gb >= 8 && var.root_volume_size_gb <= 16384 && floor(var.root_volume_size_gb) == var.root_volume_size_gb
    error_message = "The root_volume_size_gb must be a whole number between 8 and 16384."
  }
}

variable "ebs_kms_key_arn" {
  description = "KMS key of the launch template's root volume. null uses the account's default EBS key (aws/ebs); the volume is encrypted either way."
  type        = string
  default     = null

  validation {
    condition     = var.ebs_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.ebs_kms_key_arn))
    error_message = "The ebs_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "detailed_monitoring" {
  description = "One-minute CloudWatch metrics for what launches from the template (about 2 USD per instance per month)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource of the module, and to the instances and volumes launched from the template."
  type        = map(string)
  default     = {}
}

# --- the service (optional): a release run by systemd, its logs and metrics in CloudWatch ------

variable "release" {
  description = "The release the instance installs at first boot (the root's aws_s3_object.release): bucket, key, sha256 (hex), requirements (path of the locked set inside it) and kms_key_arn (its object's key). Needed with service; the role may read that object only."
  type = object({
    bucket       = string
    key          = string
    sha256       = string
    requirements = string
    kms_key_arn  = string
  })
  default = null

  validation {
    condition     = var.release == null || (can(regex("^[0-9a-f]{64}$", var.release.sha256)) && can(regex("^arn:aws[a-z-]*:kms:", var.release.kms_key_arn)) && can(regex("^releases/", var.release.key)))
    error_message = "The release needs a 64-digit hex sha256, a KMS key ARN and a key under releases/."
  }
}

variable "service" {
  description = "The service the first-boot script installs (output user_data; the launch template's too): its settings (environment, written to /etc/lakestream/<name>.env; never a secret, only secretsmanager: references), files (path => text, e.g. a CA bundle) and systemd units. A unit runs `python <command>` as the lakestream user; with a schedule (systemd OnCalendar) it is a oneshot started by a timer; units that share a lock never run at once (flock). Logs go to the log group /lakestream/<name>, metrics to CloudWatch through the agent's EMF listener."
  type = object({
    environment = map(string)
    files       = optional(map(string), {})
    units = list(object({
      name                 = string
      description          = string
      command              = string
      schedule             = optional(string)
      lock                 = optional(string)
      stop_timeout_seconds = optional(number, 90)
    }))
  })
  default = null

  validation {
    condition     = var.service == null || (length(try(var.service.units, [])) > 0 && alltrue([for u in try(var.service.units, []) : can(regex("^lakestream-[a-z-]+$", u.name)) && can(regex("^-m [a-z_]+( [A-Za-z0-9_.:/=-]+)*$", u.command)) && (u.lock == null || can(regex("^[a-z-]+$", u.lock))) && u.stop_timeout_seconds >= 5 && u.stop_timeout_seconds <= 3600 && (u.schedule == null || can(regex("^[A-Za-z0-9*:/ ,.-]+$", u.schedule)))]))
    error_message = "The service needs at least one unit; each named lakestream-<words>, its command `-m <module> [arguments]` (letters, digits and _.:/=- only: it is written into a unit file), its lock lowercase words, its stop timeout 5-3600 s and its schedule a systemd OnCalendar expression."
  }

  validation {
    condition     = var.service == null || alltrue([for k, v in try(var.service.environment, {}) : can(regex("^[A-Z][A-Z0-9_]*$", k)) && !strcontains(v, "\n")])
    error_message = "Each environment name must be an upper-case variable name, and no value may span lines."
  }

  validation {
    condition     = var.service == null || var.release != null
    error_message = "A service needs the release it runs (release)."
  }
}

variable "log_kms_key_arn" {
  description = "KMS key of the service's log group (its key policy must let CloudWatch Logs use it for /lakestream/* groups). null: CloudWatch Logs' own encryption."
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
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "The log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}
