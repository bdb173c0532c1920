# The pipeline's alarms, their SNS topic and a CloudWatch dashboard. The services' own figures
# arrive in the namespace "lakestream" as embedded-metric-format documents
# (lakestream/core/metrics.py), with the dimension Deployment; the brokers' disk use comes from
# their CloudWatch agent; the Auto Scaling groups and the load balancer publish their own.
# Each alarm's description says what to look at first.

locals {
  namespace = "lakestream"
  deploy    = ["Deployment", var.deployment]
  actions   = [aws_sns_topic.alarms.arn]
  api       = var.api != null
  sink      = var.sink_autoscaling_group != null
  curation  = var.curation_autoscaling_group != null
  topics    = toset(var.topics)
  tables    = toset(local.curation ? var.tables : [])
}

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sns_topic_subscription" "email" {
  count = var.alarm_email == null ? 0 : 1

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email # AWS mails a confirmation link: nothing arrives until it is followed
}

# --- the services' own metrics: one table of alarms ---------------------------------------------

# Every alarm on the namespace "lakestream", by the name it gets after var.name. `recovers`:
# whether the topic also hears when it is OK again (not for dead letters: each one is news).
locals {
  sink_alarms = merge(
    { for t in local.topics : "sink-lag-${t}" => {
      description = "The sink (all its instances together) is more than ${var.consumer_lag_threshold} records behind on ${t} for ${var.consumer_lag_minutes} minutes. Look first at the sink's log group (${var.sink_log_group}): errors and reconnections; then at the producers' rate against the sink's records per minute on the dashboard: a steady rise means more sink instances (sink_count)."
      metric      = "sink_consumer_lag"
      dimensions  = { topic = t }
      # Each instance sends the lag of its own partitions once a minute, on the minute: the
      # Sum over a minute is the topic's.
      statistic = "Sum", period = 60, periods = var.consumer_lag_minutes
      threshold = var.consumer_lag_threshold, comparison = "GreaterThanThreshold"
      missing   = "notBreaching", recovers = true # a silent sink is the next alarm's
    } },
    { "sink-silent" = {
      description = "No sink process has reported for 5 minutes, though the group may show instances in service. Look first at the sink's log group (${var.sink_log_group}) for the last lines before it went quiet, then, through Systems Manager, `systemctl status lakestream-sink` and the first-boot log /var/log/${var.name}-sink-bootstrap.log."
      metric      = "sink_up"
      dimensions  = {}
      # 1 while a sink runs; 0 from one that stopped, nothing from one that never started.
      statistic = "Maximum", period = 300, periods = 1
      threshold = 1, comparison = "LessThanThreshold"
      missing   = "breaching", recovers = true
    } },
    { for t in local.topics : "sink-dead-letters-${t}" => {
      description = "Messages of ${t} went to the dead-letter prefix in the last 5 minutes: a producer sends records the catalog refuses. Look first at `lakestream dlq list --datasets <dataset>` (their reasons), then fix the producer and `lakestream dlq replay`."
      metric      = "sink_dead_letters"
      dimensions  = { topic = t }
      statistic   = "Sum", period = 300, periods = 1
      threshold   = 0, comparison = "GreaterThanThreshold"
      missing     = "notBreaching", recovers = false
    } },
  )

  curation_alarms = merge(
    { for t in local.tables : "curation-lag-${t}" => {
      description = "The curated table of ${t} is more than ${var.curation_lag_threshold} records behind what the sink committed, for ${var.curation_lag_minutes} minutes. Look first at the pass durations on the dashboard against the schedule: a pass longer than the interval means the table outgrew one process (infra/README.md, \"Scaling\")."
      metric      = "curation_lag"
      dimensions  = { table = t }
      statistic   = "Minimum", period = 300, periods = ceil(var.curation_lag_minutes / 5)
      threshold   = var.curation_lag_threshold, comparison = "GreaterThanThreshold"
      missing     = "notBreaching", recovers = true # no pass is the next alarm's
    } },
    { for t in local.tables : "curation-stalled-${t}" => {
      description = "No successful curation pass of ${t} for ${var.curation_stalled_minutes} minutes: the curated table stops growing. Look first at the curation log group (${var.curation_log_group}) for \"pass failed\", then `systemctl status lakestream-curation.timer` on the instance (Systems Manager)."
      metric      = "curation_pass_seconds_count"
      dimensions  = { table = t }
      statistic   = "Sum", period = 300, periods = ceil(var.curation_stalled_minutes / 5)
      threshold   = 1, comparison = "LessThanThreshold"
      missing     = "breaching", recovers = true
    } },
    { for t in local.tables : "curation-dead-letters-${t}" => {
      description = "Raw records of ${t} did not fit the curated table in the last 5 minutes. Look first at `lakestream dlq list --layer curated --datasets <dataset>` (their reasons): a column's type or the catalog may need to change."
      metric      = "curation_dead_letters"
      dimensions  = { table = t }
      statistic   = "Sum", period = 300, periods = 1
      threshold   = 0, comparison = "GreaterThanThreshold"
      missing     = "notBreaching", recovers = false
    } },
  )

  service_alarms = merge(local.sink ? local.sink_alarms : {}, local.curation ? local.curation_alarms : {})
}

resource "aws_cloudwatch_metric_alarm" "service" {
  for_each = local.service_alarms

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = local.namespace
  metric_name         = each.value.metric
  dimensions          = merge({ Deployment = var.deployment }, each.value.dimensions)
  statistic           = each.value.statistic
  period              = each.value.period
  evaluation_periods  = each.value.periods
  threshold           = each.value.threshold
  comparison_operator = each.value.comparison
  treat_missing_data  = each.value.missing
  alarm_actions       = local.actions
  ok_actions          = each.value.recovers ? local.actions : []
  tags                = var.tags
}

# --- what AWS publishes: the sink's group, the API's load balancer --------------------------------

resource "aws_cloudwatch_metric_alarm" "sink_down" {
  count = local.sink ? 1 : 0

  alarm_name          = "${var.name}-sink-no-instance"
  alarm_description   = "No sink instance has been in service for 5 minutes: nothing lands in the lake. Look first at the Auto Scaling group ${var.sink_autoscaling_group}'s activity (launch failures, quotas), then at the first-boot log of a new instance (/var/log/${var.name}-sink-bootstrap.log, through Systems Manager)."
  namespace           = "AWS/AutoScaling"
  metric_name         = "GroupInServiceInstances"
  dimensions          = { AutoScalingGroupName = var.sink_autoscaling_group }
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 5
  threshold           = 1
  comparison_operator = "LessThanThreshold"
  treat_missing_data  = "breaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  count = local.api ? 1 : 0

  alarm_name          = "${var.name}-api-5xx"
  alarm_description   = "The API answered more than ${var.api_5xx_threshold} server errors (5xx, its own or the load balancer's) in 5 minutes. Look first at the API's log group (${var.api_log_group}) for the errors' messages; 504s are queries over API_QUERY_TIMEOUT, 502/503 an instance that is down."
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  threshold           = var.api_5xx_threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags

  metric_query {
    id = "errors"
    # The load balancer publishes a 5xx count only where it is not zero: FILL, or a period
    # with only one of the two would have no datapoint at all.
    expression  = "FILL(target, 0) + FILL(balancer, 0)"
    label       = "5xx answers"
    return_data = true
  }

  metric_query {
    id = "target"

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      dimensions  = { LoadBalancer = var.api.load_balancer }
      stat        = "Sum"
      period      = 300
    }
  }

  metric_query {
    id = "balancer"

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_ELB_5XX_Count"
      dimensions  = { LoadBalancer = var.api.load_balancer }
      stat        = "Sum"
      period      = 300
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "api_unhealthy" {
  count = local.api ? 1 : 0

  alarm_name          = "${var.name}-api-unhealthy"
  alarm_description   = "The load balancer has found an API target unhealthy for 3 minutes (or none registered). Look first at the instance's gunicorn log in the API's log group (${var.api_log_group}) and its first-boot log (/var/log/${var.name}-api-bootstrap.log, through Systems Manager)."
  comparison_operator = "GreaterThanOrEqualToThreshold"
  evaluation_periods  = 3
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags

  metric_query {
    id          = "bad"
    expression  = "unhealthy + IF(healthy < 1, 1, 0)"
    label       = "unhealthy targets, or 1 with no healthy one"
    return_data = true
  }

  metric_query {
    id = "unhealthy"

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "UnHealthyHostCount"
      dimensions  = { LoadBalancer = var.api.load_balancer, TargetGroup = var.api.target_group }
      stat        = "Maximum"
      period      = 60
    }
  }

  metric_query {
    id = "healthy"

    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HealthyHostCount"
      dimensions  = { LoadBalancer = var.api.load_balancer, TargetGroup = var.api.target_group }
      stat        = "Minimum"
      period      = 60
    }
  }
}

# --- the brokers -----------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "broker_disk" {
  count = length(var.broker_instance_ids)

  alarm_name          = "${var.name}-broker-${count.index + 1}-disk"
  alarm_description   = "Broker ${count.index + 1}'s data volume (${var.broker_data_path}) is over ${var.broker_disk_percent}% full. Look first at which topics hold the most (kafka-log-dirs.sh on the broker, through Systems Manager) and at the sink's lag: a topic nobody consumes keeps its whole retention. Then lower the kafka module's log_retention_hours or grow its data_volume_size_gb."
  namespace           = local.namespace
  metric_name         = "broker_disk_used_percent"
  dimensions          = { InstanceId = var.broker_instance_ids[count.index], path = var.broker_data_path, fstype = "xfs" }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 2
  threshold           = var.broker_disk_percent
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "missing"
  alarm_actions       = local.actions
  ok_actions          = local.actions
  tags                = var.tags
}
