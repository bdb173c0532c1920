output "database_name" {
  description = "Glue database of the curated tables."
  value       = aws_glue_catalog_database.curated.name
}

output "table_names" {
  description = "Dataset name => its curated Iceberg table (the raw table's name, in the curated database)."
  value       = { for name, t in aws_glue_catalog_table.curated : name => t.name }
}

output "optimizer_role_arn" {
  description = "ARN of the role the Glue table optimizers run as."
  value       = aws_iam_role.optimizer.arn
}
