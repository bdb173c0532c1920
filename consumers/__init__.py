"""Threaded S3 sink: batches, partitioned keys, commit after upload, dead letters."""
