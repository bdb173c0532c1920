output "url" {
  description = "The API's base URL (https:// with a certificate: point your domain at dns_name)."
  value       = "${local.https ? "https" : "http"}://${aws_lb.api.dns_name}"
}

output "dns_name" {
  description = "The load balancer's DNS name (a CNAME or alias target for your domain)."
  value       = aws_lb.api.dns_name
}

output "api_key_secret_arn" {
  description = "The secret holding the API key: aws secretsmanager get-secret-value --secret-id <it> --query SecretString --output text."
  value       = aws_secretsmanager_secret.api_key.arn
}

output "instance_id" {
  description = "The API instance, for `aws ssm start-session --target <id>`."
  value       = aws_instance.api.id
}

output "role_name" {
  description = "The instance's role (it carries policy_arns)."
  value       = module.instance.role_name
}

output "cloudwatch" {
  description = "The load balancer and target group as CloudWatch names them (arn_suffix), for the alarms."
  value = {
    load_balancer = aws_lb.api.arn_suffix
    target_group  = aws_lb_target_group.api.arn_suffix
  }
}

output "log_group_name" {
  description = "The API's CloudWatch Logs group: gunicorn's logs and the metric documents."
  value       = module.instance.log_group_name
}
