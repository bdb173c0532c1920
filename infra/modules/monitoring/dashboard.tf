# The pipeline at a glance: what lands, what lags, what is refused, what the API answers, and
# whether there is room on the brokers.

locals {
  region = data.aws_region.current.region
  api_lb = try(var.api.load_balancer, "") # no API: its widgets are sliced away below

  line = { view = "timeSeries", stacked = false, region = local.region, period = 60 }

  widgets = concat(
    [
      merge(local.line, {
        title   = "Sink: records landed per minute"
        stat    = "Sum"
        metrics = [for t in var.topics : [local.namespace, "sink_records", local.deploy[0], local.deploy[1], "topic", t]]
      }),
      merge(local.line, {
        title   = "Sink: consumer lag (records)"
        stat    = "Maximum"
        metrics = [for t in var.topics : [local.namespace, "sink_consumer_lag", local.deploy[0], local.deploy[1], "topic", t]]
      }),
      merge(local.line, {
        title = "Dead letters (sink per topic, curation per table)"
        stat  = "Sum"
        metrics = concat(
          [for t in var.topics : [local.namespace, "sink_dead_letters", local.deploy[0], local.deploy[1], "topic", t]],
          [for t in var.tables : [local.namespace, "curation_dead_letters", local.deploy[0], local.deploy[1], "table", t]],
        )
      }),
      merge(local.line, {
        title = "Sink: seconds per flush (write and commit)"
        metrics = concat(
          [for i, t in var.topics : [{ expression = "s${i} / c${i}", label = t, id = "f${i}" }]],
          [for i, t in var.topics : [local.namespace, "sink_flush_seconds_sum", local.deploy[0], local.deploy[1], "topic", t, { id = "s${i}", visible = false, stat = "Sum" }]],
          [for i, t in var.topics : [local.namespace, "sink_flush_seconds_count", local.deploy[0], local.deploy[1], "topic", t, { id = "c${i}", visible = false, stat = "Sum" }]],
        )
      }),
      merge(local.line, {
        title   = "Curation: records appended"
        stat    = "Sum"
        period  = 300
        metrics = [for t in var.tables : [local.namespace, "curation_records", local.deploy[0], local.deploy[1], "table", t]]
      }),
      merge(local.line, {
        title   = "Curation: lag after each pass (records)"
        stat    = "Maximum"
        period  = 300
        metrics = [for t in var.tables : [local.namespace, "curation_lag", local.deploy[0], local.deploy[1], "table", t]]
      }),
      merge(local.line, {
        title   = "Curation: seconds per pass"
        stat    = "Maximum"
        period  = 300
        metrics = [for t in var.tables : [local.namespace, "curation_pass_seconds_sum", local.deploy[0], local.deploy[1], "table", t]]
      }),
    ],
    # slice, not a conditional: the two widgets and an empty list are not of one type.
    slice([
      merge(local.line, {
        title = "API: requests and 5xx"
        stat  = "Sum"
        metrics = [
          ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", local.api_lb],
          ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", local.api_lb],
          ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", local.api_lb],
        ]
      }),
      merge(local.line, {
        title = "API: response time (p50, p99, seconds)"
        metrics = [
          ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", local.api_lb, { stat = "p50" }],
          ["AWS/ApplicationELB", "TargetResponseTime", "LoadBalancer", local.api_lb, { stat = "p99" }],
        ]
      }),
    ], 0, local.api ? 2 : 0),
    [
      merge(local.line, {
        title   = "Brokers: data volume used (%)"
        stat    = "Maximum"
        period  = 300
        metrics = [for id in var.broker_instance_ids : [local.namespace, "broker_disk_used_percent", "InstanceId", id, "path", var.broker_data_path, "fstype", "xfs"]]
      }),
      merge(local.line, {
        title = "Instances in service"
        stat  = "Minimum"
        metrics = [for g in compact([var.sink_autoscaling_group, var.curation_autoscaling_group]) :
        ["AWS/AutoScaling", "GroupInServiceInstances", "AutoScalingGroupName", g]]
      }),
    ],
  )
}

data "aws_region" "current" {}

resource "aws_cloudwatch_dashboard" "pipeline" {
  dashboard_name = var.name
  dashboard_body = jsonencode({
    widgets = [for i, w in local.widgets : {
      type       = "metric"
      x          = (i % 2) * 12
      y          = floor(i / 2) * 6
      width      = 12
      height     = 6
      properties = w
    }]
  })
}
