output "alarm_topic_arn" {
  description = "The SNS topic every alarm notifies (subscribe a pager, a chat hook, more addresses)."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_names" {
  description = "Every alarm's name."
  value = concat(
    [for a in aws_cloudwatch_metric_alarm.service : a.alarm_name],
    aws_cloudwatch_metric_alarm.sink_down[*].alarm_name,
    aws_cloudwatch_metric_alarm.api_5xx[*].alarm_name,
    aws_cloudwatch_metric_alarm.api_unhealthy[*].alarm_name,
    aws_cloudwatch_metric_alarm.broker_disk[*].alarm_name,
  )
}

output "dashboard_url" {
  description = "The CloudWatch dashboard: the pipeline at a glance."
  value       = "https://${data.aws_region.current.region}.console.aws.amazon.com/cloudwatch/home?region=${data.aws_region.current.region}#dashboards/dashboard/${aws_cloudwatch_dashboard.pipeline.dashboard_name}"
}
