variable "name" {
  description = "Prefix of the alarms' names, the topic (<name>-alarms) and the dashboard's name: the deployment's base name."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,40}$", var.name))
    error_message = "The name must be 2-41 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "deployment" {
  description = "The Deployment dimension the services' metrics carry (LAKESTREAM_ENVIRONMENT: lakestream, or lakestream-<environment>)."
  type        = string

  validation {
    condition     = can(regex("^lakestream(-[a-z0-9-]+)?$", var.deployment))
    error_message = "The deployment must be lakestream or lakestream-<environment>, as the Python side derives it."
  }
}

variable "topics" {
  description = "The dataset topics: one lag and one dead-letter alarm each, and their lines on the dashboard."
  type        = list(string)

  validation {
    condition     = length(var.topics) > 0 && alltrue([for t in var.topics : can(regex("^[A-Za-z0-9._-]{1,249}$", t))])
    error_message = "Give at least one topic, each a legal Kafka topic name."
  }
}

variable "tables" {
  description = "The datasets' table names, the label of curation's metrics: one lag, one stalled and one dead-letter alarm each."
  type        = list(string)

  validation {
    condition     = alltrue([for t in var.tables : can(regex("^[a-z0-9_]{1,255}$", t))])
    error_message = "Each table must be a Glue table name (lowercase letters, digits and underscores)."
  }
}

variable "sink_autoscaling_group" {
  description = "The sink's Auto Scaling group (null: no sink service, no sink alarms)."
  type        = string
  default     = null

  validation {
    condition     = var.sink_autoscaling_group == null || can(regex("^[\\w .:/-]{1,255}$", var.sink_autoscaling_group))
    error_message = "The sink_autoscaling_group must be null or an Auto Scaling group name."
  }
}

variable "sink_log_group" {
  description = "The sink's log group, named in its alarms' descriptions."
  type        = string
  default     = null

  validation {
    condition     = var.sink_log_group == null || can(regex("^/lakestream/", var.sink_log_group))
    error_message = "The sink_log_group must be null or a /lakestream/ log group (ssm_instance names them)."
  }
}

variable "curation_autoscaling_group" {
  description = "Curation's Auto Scaling group (null: no curation service, no curation alarms)."
  type        = string
  default     = null

  validation {
    condition     = var.curation_autoscaling_group == null || can(regex("^[\\w .:/-]{1,255}$", var.curation_autoscaling_group))
    error_message = "The curation_autoscaling_group must be null or an Auto Scaling group name."
  }
}

variable "curation_log_group" {
  description = "Curation's log group, named in its alarms' descriptions."
  type        = string
  default     = null

  validation {
    condition     = var.curation_log_group == null || can(regex("^/lakestream/", var.curation_log_group))
    error_message = "The curation_log_group must be null or a /lakestream/ log group (ssm_instance names them)."
  }
}

variable "api" {
  description = "The API's load balancer and target group, as CloudWatch names them (their arn_suffix), for the 5xx and health alarms; null without the API."
  type = object({
    load_balancer = string
    target_group  = string
  })
  default = null

  validation {
    condition     = var.api == null || (can(regex("^app/", var.api.load_balancer)) && can(regex("^targetgroup/", var.api.target_group)))
    error_message = "The api must be null or the load balancer's and target group's arn_suffix (app/..., targetgroup/...)."
  }
}

variable "api_log_group" {
  description = "The API's log group, named in its alarms' descriptions."
  type        = string
  default     = null

  validation {
    condition     = var.api_log_group == null || can(regex("^/lakestream/", var.api_log_group))
    error_message = "The api_log_group must be null or a /lakestream/ log group (ssm_instance names them)."
  }
}

variable "broker_instance_ids" {
  description = "The brokers' instance ids: one disk alarm each."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for i in var.broker_instance_ids : can(regex("^i-[0-9a-f]+$", i))])
    error_message = "Each broker instance id must look like i-0123456789abcdef0."
  }
}

variable "broker_data_path" {
  description = "Where the brokers mount their data volume (the kafka module's data_path): the disk metric's path dimension."
  type        = string
  default     = "/var/lib/kafka/data"

  validation {
    condition     = startswith(var.broker_data_path, "/")
    error_message = "The broker_data_path must be an absolute path."
  }
}

variable "alarm_email" {
  description = "An address subscribed to the alarm topic (AWS sends it a confirmation link first). null: subscribe what you like to the topic yourself (output alarm_topic_arn)."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "The alarm_email must be null or an e-mail address."
  }
}

variable "kms_key_arn" {
  description = "KMS key of the alarm topic (its key policy must let cloudwatch.amazonaws.com use it: the root's lake key does)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "The kms_key_arn must be a KMS key ARN."
  }
}

variable "consumer_lag_threshold" {
  description = "Records a sink instance may be behind on a topic before the lag alarm."
  type        = number
  default     = 100000

  validation {
    condition     = var.consumer_lag_threshold >= 1
    error_message = "The consumer_lag_threshold must be at least 1."
  }
}

variable "consumer_lag_minutes" {
  description = "Minutes in a row over consumer_lag_threshold before the lag alarm."
  type        = number
  default     = 10

  validation {
    condition     = var.consumer_lag_minutes >= 1 && var.consumer_lag_minutes <= 1440 && floor(var.consumer_lag_minutes) == var.consumer_lag_minutes
    error_message = "The consumer_lag_minutes must be a whole number from 1 to 1440."
  }
}

variable "curation_lag_threshold" {
  description = "Records a curated table may be behind the sink's commits, after a pass, before the curation lag alarm."
  type        = number
  default     = 500000

  validation {
    condition     = var.curation_lag_threshold >= 1
    error_message = "The curation_lag_threshold must be at least 1."
  }
}

variable "curation_lag_minutes" {
  description = "Minutes over curation_lag_threshold before the curation lag alarm (rounded up to 5-minute periods)."
  type        = number
  default     = 30

  validation {
    condition     = var.curation_lag_minutes >= 5 && var.curation_lag_minutes <= 1440
    error_message = "The curation_lag_minutes must be 5 to 1440."
  }
}

variable "curation_stalled_minutes" {
  description = "Minutes with no successful pass of a table before the curation stalled alarm (rounded up to 5-minute periods; at least twice the curation schedule)."
  type        = number
  default     = 30

  validation {
    condition     = var.curation_stalled_minutes >= 10 && var.curation_stalled_minutes <= 1440
    error_message = "The curation_stalled_minutes must be 10 to 1440."
  }
}

variable "api_5xx_threshold" {
  description = "Server errors (5xx) in 5 minutes before the API alarm."
  type        = number
  default     = 5

  validation {
    condition     = var.api_5xx_threshold >= 0
    error_message = "The api_5xx_threshold must be 0 or more."
  }
}

variable "broker_disk_percent" {
  description = "Percent of a broker's data volume in use before the disk alarm."
  type        = number
  default     = 80

  validation {
    condition     = var.broker_disk_percent > 0 && var.broker_disk_percent < 100
    error_message = "The broker_disk_percent must be between 0 and 100."
  }
}

variable "tags" {
  description = "Tags added to the topic and the alarms."
  type        = map(string)
  default     = {}
}
