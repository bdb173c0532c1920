output "role_name" {
  description = "The instance role (it carries AmazonSSMManagedInstanceCore, policy_arns and inline_policies)."
  value       = aws_iam_role.this.name
}

output "role_arn" {
  description = "ARN of the instance role."
  value       = aws_iam_role.this.arn
}

output "instance_profile_name" {
  description = "The instance profile, for an aws_instance's iam_instance_profile: it exists once the role's policies are attached, so what launches with it can use them at first boot."
  value       = aws_iam_instance_profile.this.name
}

output "instance_profile_arn" {
  description = "ARN of the instance profile."
  value       = aws_iam_instance_profile.this.arn
}

output "launch_template_id" {
  description = "The launch template (create_launch_template), for an Auto Scaling group or an aws_instance; null without one."
  value       = one(aws_launch_template.this[*].id)
}

output "launch_template_latest_version" {
  description = "The launch template's latest version (each change makes one and sets it as the default); null without one."
  value       = one(aws_launch_template.this[*].latest_version)
}

output "user_data" {
  description = "The first-boot script (user_data, or the one rendered for service), for an aws_instance's user_data; null without either."
  value       = local.user_data
}

output "log_group_name" {
  description = "The service's CloudWatch Logs group, /lakestream/<name>: its units' logs and metric documents; null without service."
  value       = one(aws_cloudwatch_log_group.service[*].name)
}
