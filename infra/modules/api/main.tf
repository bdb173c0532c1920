# The query API on AWS: one instance runs gunicorn (the same `python -m athena_api serve` as
# `make api`) behind an Application Load Balancer, which serves HTTPS when a certificate is
# given. No SSH: Systems Manager is the way in; IMDSv2 only. The instance's role carries the API
# stage's least-privilege policy; the API key is drawn by Terraform into Secrets Manager and read
# by the service at start (API_KEY=secretsmanager:<arn>).

locals {
  app_port = 8000
  https    = var.certificate_arn != null
  tags     = merge(var.tags, { Component = "api" })
  # The load balancer's probe: a static file, served by gunicorn without the catalog or Athena
  # (/api/health/ runs an Athena query: every 30 seconds, that would be a bill).
  health_path = "/static/dashboard/dashboard.css"
}

# The image's architecture follows the instance type's (Graviton types run the arm64 image).
data "aws_ec2_instance_type" "api" {
  instance_type = var.instance_type
}

data "aws_ssm_parameter" "al2023" {
  name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${contains(data.aws_ec2_instance_type.api.supported_architectures, "arm64") ? "arm64" : "x86_64"}"
}

# --- network -------------------------------------------------------------------------------------

resource "aws_security_group" "lb" {
  name_prefix = "${var.name}-lb-"
  description = "API load balancer: ${local.https ? "HTTPS (and HTTP redirected)" : "HTTP"} from the allowed CIDRs"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = "${var.name}-lb" })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "lb" {
  for_each = { for pair in setproduct(var.allowed_cidrs, local.https ? [443, 80] : [80]) : "${pair[0]}:${pair[1]}" => pair }

  security_group_id = aws_security_group.lb.id
  description       = "API clients from ${each.value[0]} on ${each.value[1]}"
  ip_protocol       = "tcp"
  from_port         = each.value[1]
  to_port           = each.value[1]
  cidr_ipv4         = strcontains(each.value[0], ":") ? null : each.value[0]
  cidr_ipv6         = strcontains(each.value[0], ":") ? each.value[0] : null
  tags              = local.tags
}

resource "aws_vpc_security_group_egress_rule" "lb" {
  security_group_id            = aws_security_group.lb.id
  description                  = "To the API instance: gunicorn"
  ip_protocol                  = "tcp"
  from_port                    = local.app_port
  to_port                      = local.app_port
  referenced_security_group_id = aws_security_group.instance.id
  tags                         = local.tags
}

resource "aws_security_group" "instance" {
  name_prefix = "${var.name}-"
  description = "API instance: gunicorn from the load balancer only; HTTPS out (AWS APIs, packages)"
  vpc_id      = var.vpc_id
  tags        = merge(local.tags, { Name = var.name })

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_security_group_ingress_rule" "instance" {
  security_group_id            = aws_security_group.instance.id
  description                  = "gunicorn, from the load balancer only"
  ip_protocol                  = "tcp"
  from_port                    = local.app_port
  to_port                      = local.app_port
  referenced_security_group_id = aws_security_group.lb.id
  tags                         = local.tags
}

resource "aws_vpc_security_group_egress_rule" "instance" {
  security_group_id = aws_security_group.instance.id
  description       = "HTTPS: Athena, Glue, S3, Secrets Manager, Systems Manager, PyPI at first boot"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
  tags              = local.tags
}

# --- identity --------------------------------------------------------------------------------------

# The instance's role and profile, and its first boot: Systems Manager sessions, the API stage's
# policy, its release, and gunicorn under systemd with its logs and metrics in CloudWatch.
module "instance" {
  source = "../ssm_instance"

  name        = var.name
  description = "The query API: its stage policy, Systems Manager sessions, its release, its logs"
  policy_arns = var.policy_arns
  release     = var.release
  service = {
    # No secret here: the key is read from Secrets Manager by the service itself.
    environment = merge(var.settings, {
      API_KEY           = "secretsmanager:${aws_secretsmanager_secret.api_key.arn}"
      API_DEBUG         = "0"
      API_ENGINE        = "athena"
      API_HOST          = "0.0.0.0"
      API_PORT          = tostring(local.app_port)
      API_ALLOWED_HOSTS = join(",", concat([aws_lb.api.dns_name], var.host_names))
    })
    units = [{
      name        = "lakestream-api"
      description = "lakestream query API (gunicorn)"
      command     = "-m athena_api serve"
    }]
  }
  log_kms_key_arn    = var.log_kms_key_arn
  log_retention_days = var.log_retention_days
  tags               = local.tags
}

# Deployments made before the shared module keep their role and profile: moved, not replaced.
moved {
  from = aws_iam_role.instance
  to   = module.instance.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy_attachment.ssm
  to   = module.instance.aws_iam_role_policy_attachment.ssm
}

moved {
  from = aws_iam_role_policy_attachment.stage
  to   = module.instance.aws_iam_role_policy_attachment.managed
}

moved {
  from = aws_iam_role_policy.release
  to   = module.instance.aws_iam_role_policy.inline["read-release"]
}

moved {
  from = aws_iam_instance_profile.instance
  to   = module.instance.aws_iam_instance_profile.this
}

# --- the instance ----------------------------------------------------------------------------------

resource "aws_instance" "api" {
  #checkov:skip=CKV_AWS_88:The public address is the instance's way out only (packages at first boot); its security group admits the load balancer alone. public_ip = false for subnets with a NAT gateway.
  ami                         = nonsensitive(data.aws_ssm_parameter.al2023.value)
  instance_type               = var.instance_type
  subnet_id                   = var.subnet_ids[0]
  vpc_security_group_ids      = [aws_security_group.instance.id]
  iam_instance_profile        = module.instance.instance_profile_name
  associate_public_ip_address = var.public_ip
  monitoring                  = true
  ebs_optimized               = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    encrypted             = true
    volume_type           = "gp3"
    volume_size           = 20
    delete_on_termination = true
  }

  user_data = module.instance.user_data
  # A new release or new settings replace the instance. The replacement is created (and
  # registered with the load balancer) before the old one goes; a newly published AMI replaces
  # nothing (`terraform apply -replace='module.api[0].aws_instance.api'` takes it on purpose).
  user_data_replace_on_change = true

  lifecycle {
    create_before_destroy = true
    ignore_changes        = [ami]
  }

  tags        = merge(local.tags, { Name = var.name })
  volume_tags = merge(local.tags, { Name = var.name })

  # The key exists before the service reads it. (The role's policies are in place before the
  # profile is, which the instance waits for.)
  depends_on = [aws_secretsmanager_secret_version.api_key]
}

# --- the load balancer -------------------------------------------------------------------------------

resource "aws_lb" "api" {
  #checkov:skip=CKV_AWS_91:Requests are logged by gunicorn on the instance (journalctl -u lakestream-api); load balancer logs would need a bucket policy for the ELB service.
  #checkov:skip=CKV2_AWS_28:No WAF: the API is open to allowed_cidrs only and needs its key; a web ACL costs 5 USD a month and more.
  #checkov:skip=CKV2_AWS_76:No WAF (see CKV2_AWS_28); the API runs no Java.
  name_prefix                = "lsapi-"
  internal                   = false
  load_balancer_type         = "application"
  security_groups            = [aws_security_group.lb.id]
  subnets                    = var.subnet_ids
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  tags                       = merge(local.tags, { Name = var.name })
}

resource "aws_lb_target_group" "api" {
  #checkov:skip=CKV_AWS_378:TLS ends at the load balancer; from there to the instance the traffic stays in the VPC, on a port only the load balancer may reach.
  name_prefix = "lsapi-"
  port        = local.app_port
  protocol    = "HTTP"
  vpc_id      = var.vpc_id
  target_type = "instance"

  health_check {
    path                = local.health_path
    matcher             = "200"
    interval            = 30
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = local.tags
}

resource "aws_lb_target_group_attachment" "api" {
  target_group_arn = aws_lb_target_group.api.arn
  target_id        = aws_instance.api.id
  port             = local.app_port

  lifecycle {
    create_before_destroy = true # the new instance is registered before the old one leaves
  }
}

resource "aws_lb_listener" "https" {
  count = local.https ? 1 : 0

  load_balancer_arn = aws_lb.api.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.api.arn
  }

  tags = local.tags
}

# With a certificate, port 80 only redirects to HTTPS; without one it serves (a lab setup).
resource "aws_lb_listener" "http" {
  #checkov:skip=CKV_AWS_2:Port 80 redirects to HTTPS whenever certificate_arn is given; it serves plain HTTP only without a certificate, which infra/README.md calls a lab setup.
  #checkov:skip=CKV_AWS_103:TLS policy applies to the HTTPS listener (TLS 1.2 and 1.3 only); this one has no TLS.
  load_balancer_arn = aws_lb.api.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type             = local.https ? "redirect" : "forward"
    target_group_arn = local.https ? null : aws_lb_target_group.api.arn

    dynamic "redirect" {
      for_each = local.https ? ["https"] : []

      content {
        protocol    = "HTTPS"
        port        = "443"
        status_code = "HTTP_301"
      }
    }
  }

  tags = local.tags
}
