"""The embedded local stack: moto (S3, Glue, Athena, IAM) and Tansu (Kafka) in the background."""
