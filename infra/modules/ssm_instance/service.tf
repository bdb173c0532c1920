# The service an instance runs (var.service): the first-boot script that installs the release
# and writes its systemd units, the log group its logs and metric documents go to, and the
# role's right to read that release and write that group. Nothing here without var.service.

data "aws_region" "current" {}

locals {
  service   = var.service != null
  log_group = "/lakestream/${var.name}"

  # What every service runs with besides its own settings: metrics to the local agent's EMF
  # listener, filed in the service's log group, and log lines as JSON (lakestream/core/metrics.py,
  # lakestream/core/logs.py).
  service_environment = local.service ? merge(var.service.environment, {
    LAKESTREAM_METRICS_EMF       = "tcp://127.0.0.1:25888"
    LAKESTREAM_METRICS_LOG_GROUP = local.log_group
    LAKESTREAM_LOG_FORMAT        = "json"
  }) : {}

  agent_config = local.service ? jsonencode({
    agent = { run_as_user = "root" } # systemd opens the units' log files as root
    logs = {
      logs_collected = {
        files = {
          collect_list = [for u in var.service.units : {
            file_path       = "/var/log/lakestream/${u.name}.log"
            log_group_name  = local.log_group
            log_stream_name = "{instance_id}/${u.name}"
          }]
        }
      }
      # The EMF listener, on tcp://127.0.0.1:25888 by default.
      metrics_collected = { emf = {} }
    }
  }) : null

  first_boot = local.service ? templatefile("${path.module}/first_boot.sh.tftpl", {
    name         = var.name
    region       = data.aws_region.current.region
    release      = var.release
    environment  = local.service_environment
    files        = var.service.files
    units        = var.service.units
    log_group    = local.log_group
    agent_config = local.agent_config
  }) : null
}

resource "aws_cloudwatch_log_group" "service" {
  count = local.service ? 1 : 0

  name              = local.log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

# The agent writes the units' logs and the metric documents into the service's group, nowhere
# else; the group exists (Terraform made it), so it needs no logs:CreateLogGroup.
data "aws_iam_policy_document" "logs" {
  count = local.service ? 1 : 0

  statement {
    sid       = "WriteServiceLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = ["${aws_cloudwatch_log_group.service[0].arn}:*"]
  }
}

# First boot downloads this release and nothing else.
data "aws_iam_policy_document" "release" {
  count = var.release != null ? 1 : 0

  statement {
    sid       = "ReadRelease"
    actions   = ["s3:GetObject"]
    resources = ["arn:${data.aws_partition.current.partition}:s3:::${var.release.bucket}/${var.release.key}"]
  }

  statement {
    sid       = "DecryptRelease"
    actions   = ["kms:Decrypt"]
    resources = [var.release.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${data.aws_region.current.region}.amazonaws.com"]
    }
  }
}

locals {
  # The caller's inline policies, and those of the release and the service.
  all_inline_policies = merge(
    var.inline_policies,
    var.release != null ? { read-release = data.aws_iam_policy_document.release[0].json } : {},
    local.service ? { write-logs = data.aws_iam_policy_document.logs[0].json } : {},
  )
}
