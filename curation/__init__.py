"""The curated layer: typed Apache Iceberg tables built exactly once from the raw lake.

`curate` (curation/run.py) is the stage's facade: one pass over some datasets.
"""
