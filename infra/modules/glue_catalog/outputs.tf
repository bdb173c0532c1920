output "database_name" {
  description = "Name of the Glue database."
  value       = aws_glue_catalog_database.lake.name
}

output "crawler_names" {
  description = "Dataset name => its crawler's name (what `python -m glue crawl` starts)."
  value       = { for name, c in aws_glue_crawler.dataset : name => c.name }
}

output "crawler_role_arn" {
  description = "ARN of the crawlers' role."
  value       = aws_iam_role.crawler.arn
}

output "security_configuration_name" {
  description = "Glue security configuration that encrypts the crawlers' logs."
  value       = aws_glue_security_configuration.crawlers.name
}
