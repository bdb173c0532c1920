output "documents" {
  description = "Stage (producers, sink, crawl, curation, api) => its IAM policy document (JSON)."
  value = {
    for stage, statements in local.statements : stage => jsonencode({
      Version   = "2012-10-17"
      Statement = statements
    })
  }
}
