# A pipeline service on AWS: an Auto Scaling group of SSM-only, IMDSv2 instances that install the
# release and run its systemd units (the sink, curation). The instance identity, launch template,
# first boot, log group and the role's rights come from ssm_instance; this module adds the
# network and the group that keeps `instance_count` of them running and replaces them on a new
# release. No SSH: `aws ssm start-session --target <instance id>`.

locals {
  tags = merge(var.tags, { Component = var.component })
}

# The image's architecture follows the instance type's (Graviton types run the arm64 image).
data "aws_ec2_instance_type" "this" {
  instance_type = var.instance_type
}

data "aws_ssm_parameter" "al2023" {
  name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${contains(data.aws_ec2_instance_type.this.supported_architectures, "arm64") ? "arm64" : "x86_64"}"
}

# --- network: nothing in, HTTPS and the brokers out ------------------------------------------------

resource "aws_security_group" "this" {
  #checkov:skip=CKV2_AWS_5:Attached to the instances through ssm_instance's launch template (security_group_ids), which checkov does not follow into the module.
  name_prefix = "${var.name}-"
  description = "${var.component}: nothing in; HTTPS out (AWS APIs, packages) and the Kafka brokers"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = var.name })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this.id
  description       = "HTTPS: S3, Glue, Secrets Manager, Systems Manager, CloudWatch Logs, PyPI at first boot"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
  tags              = local.tags
}

resource "aws_vpc_security_group_egress_rule" "kafka" {
  security_group_id            = aws_security_group.this.id
  description                  = "The Kafka brokers: SASL_SSL client port"
  ip_protocol                  = "tcp"
  from_port                    = var.kafka_port
  to_port                      = var.kafka_port
  referenced_security_group_id = var.kafka_security_group_id
  tags                         = local.tags
}

# --- the instances ---------------------------------------------------------------------------------

module "instance" {
  source = "../ssm_instance"

  name        = var.name
  description = var.description
  policy_arns = var.policy_arns
  release     = var.release
  service     = var.service

  create_launch_template = true
  image_id               = nonsensitive(data.aws_ssm_parameter.al2023.value)
  instance_type          = var.instance_type
  security_group_ids     = [aws_security_group.this.id]
  root_volume_size_gb    = var.root_volume_size_gb
  ebs_kms_key_arn        = var.ebs_kms_key_arn
  log_kms_key_arn        = var.log_kms_key_arn
  log_retention_days     = var.log_retention_days
  tags                   = local.tags
}

resource "aws_autoscaling_group" "this" {
  name_prefix         = "${var.name}-"
  min_size            = var.instance_count
  max_size            = var.instance_count
  desired_capacity    = var.instance_count
  vpc_zone_identifier = var.subnet_ids
  # An instance that fails its EC2 status checks is replaced; a unit that fails is restarted by
  # systemd on its instance.
  health_check_type         = "EC2"
  health_check_grace_period = 300
  # Stopping an instance stops its units first (SIGTERM, TimeoutStopSec): the sink commits what
  # it wrote, and Kafka's group hands its partitions to the others.
  default_instance_warmup = 300

  launch_template {
    id      = module.instance.launch_template_id
    version = module.instance.launch_template_latest_version
  }

  # A new release, new settings or a newly published Amazon Linux image make a new template
  # version: the instances are replaced one by one (a single instance: the old one stops, then
  # the new one boots; a sink's batches are re-read from its last commit, nothing is lost).
  instance_refresh {
    strategy = "Rolling"

    preferences {
      min_healthy_percentage = var.instance_count > 1 ? 50 : 0
      instance_warmup        = 300
    }
  }

  # GroupInServiceInstances feeds the "no healthy instance" alarm.
  metrics_granularity = "1Minute"
  enabled_metrics     = ["GroupDesiredCapacity", "GroupInServiceInstances", "GroupTerminatingInstances"]

  dynamic "tag" {
    for_each = merge(local.tags, { Name = var.name })

    content {
      key                 = tag.key
      value               = tag.value
      propagate_at_launch = false # the launch template tags what it launches
    }
  }
}
