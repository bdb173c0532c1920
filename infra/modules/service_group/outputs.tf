output "autoscaling_group_name" {
  description = "The Auto Scaling group: its instances, and the metric GroupInServiceInstances the alarms watch."
  value       = aws_autoscaling_group.this.name
}

output "security_group_id" {
  description = "The instances' security group (the brokers admit it on their client port)."
  value       = aws_security_group.this.id
}

output "role_name" {
  description = "The instance role (the stage policy, Systems Manager, the release, the log group)."
  value       = module.instance.role_name
}

output "log_group_name" {
  description = "The service's CloudWatch Logs group: one stream per instance and unit, and the metric documents."
  value       = module.instance.log_group_name
}
