output "workgroup_name" {
  description = "Name of the Athena workgroup."
  value       = aws_athena_workgroup.lake.name
}

output "workgroup_arn" {
  description = "ARN of the Athena workgroup."
  value       = aws_athena_workgroup.lake.arn
}

output "named_query_ids" {
  description = "Saved analysis name => its named query id."
  value       = { for name, q in aws_athena_named_query.saved : name => q.id }
}
