# What every instance of the project shares, whatever service it runs: a role that EC2 assumes,
# with Systems Manager's core policy (sessions instead of SSH: no key pair, no port 22) and the
# caller's own policies; its instance profile; and, for what launches from a template (an Auto
# Scaling group), a launch template that requires IMDSv2 and encrypts the root volume.
#
# The API instance and the brokers are aws_instance resources of their own modules: they take the
# profile from here and keep their IMDSv2 and root volume settings on the instance, because
# launching an existing instance from a template replaces it (README.md).

data "aws_partition" "current" {}

locals {
  # The caller's own first-boot script, or the service's (service.tf).
  user_data = var.user_data != null ? var.user_data : local.first_boot
}

# --- identity: Systems Manager instead of SSH ------------------------------------------------

data "aws_iam_policy_document" "assume_ec2" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name_prefix        = "${var.name}-"
  description        = var.description
  assume_role_policy = data.aws_iam_policy_document.assume_ec2.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "ssm" {
  role       = aws_iam_role.this.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

# count rather than for_each: a policy created in the same apply has no ARN at plan time, and
# for_each needs its keys then.
resource "aws_iam_role_policy_attachment" "managed" {
  count = length(var.policy_arns)

  role       = aws_iam_role.this.name
  policy_arn = var.policy_arns[count.index]
}

resource "aws_iam_role_policy" "inline" {
  for_each = local.all_inline_policies

  name   = each.key
  role   = aws_iam_role.this.id
  policy = each.value
}

# First boot uses the role's policies: whatever launches with this profile (it refers to the
# profile) starts only once they are in place.
resource "aws_iam_instance_profile" "this" {
  name_prefix = "${var.name}-"
  role        = aws_iam_role.this.name
  tags        = var.tags

  depends_on = [
    aws_iam_role_policy_attachment.ssm,
    aws_iam_role_policy_attachment.managed,
    aws_iam_role_policy.inline,
  ]
}

# --- the launch template (create_launch_template) ----------------------------------------------

# The mapping must name the image's own root device: under another name it would add a second
# volume and leave the root volume as the image's snapshot has it.
data "aws_ami" "image" {
  count = var.create_launch_template ? 1 : 0

  filter {
    name   = "image-id"
    values = [var.image_id]
  }
}

# A launch template's tag specifications do not receive the provider's default tags: what it
# launches gets them from here.
data "aws_default_tags" "current" {
  count = var.create_launch_template ? 1 : 0
}

resource "aws_launch_template" "this" {
  count = var.create_launch_template ? 1 : 0

  name_prefix            = "${var.name}-"
  image_id               = var.image_id
  instance_type          = var.instance_type
  user_data              = local.user_data == null ? null : base64encode(local.user_data)
  vpc_security_group_ids = var.security_group_ids
  ebs_optimized          = true
  update_default_version = true

  iam_instance_profile {
    arn = aws_iam_instance_profile.this.arn
  }

  # A template's http_tokens defaults to optional: IMDSv2 is required only when said so.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  block_device_mappings {
    device_name = data.aws_ami.image[0].root_device_name

    ebs {
      encrypted             = true
      kms_key_id            = var.ebs_kms_key_arn
      volume_type           = "gp3"
      volume_size           = var.root_volume_size_gb
      delete_on_termination = true
    }
  }

  monitoring {
    enabled = var.detailed_monitoring
  }

  dynamic "tag_specifications" {
    for_each = toset(["instance", "volume"])

    content {
      resource_type = tag_specifications.value
      tags          = merge(data.aws_default_tags.current[0].tags, var.tags, { Name = var.name })
    }
  }

  tags = var.tags
}
