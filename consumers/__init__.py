"""The S3 sink: batches, partitioned object keys, commit after upload, dead letters."""
