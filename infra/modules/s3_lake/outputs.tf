output "bucket_names" {
  description = "Dataset name => its bucket's name."
  value       = { for name in keys(var.datasets) : name => aws_s3_bucket.this[name].id }
}

output "bucket_arns" {
  description = "Dataset name => its bucket's ARN."
  value       = { for name in keys(var.datasets) : name => aws_s3_bucket.this[name].arn }
}

output "results_bucket_name" {
  description = "Name of the Athena results bucket."
  value       = aws_s3_bucket.this["athena_results"].id
}

output "results_bucket_arn" {
  description = "ARN of the Athena results bucket."
  value       = aws_s3_bucket.this["athena_results"].arn
}

output "access_log_bucket_name" {
  description = "Name of the access-log bucket, or null when access logging is off."
  value       = one(aws_s3_bucket.access_logs[*].id)
}
