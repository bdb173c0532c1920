"""Curation's Prometheus metrics, one series per curated table (lakestream/core/metrics.py says
how they are served and sent to CloudWatch)."""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram

from curation.run import CurateResult

RECORDS = Counter(
    "lakestream_curation_records", "Records appended to the curated Iceberg table.", ["table"]
)
DEAD_LETTERS = Counter(
    "lakestream_curation_dead_letters",
    "Raw records that did not fit the curated table (s3://<bucket>/_dlq/curated/).",
    ["table"],
)
PASS_SECONDS = Histogram(
    "lakestream_curation_pass_seconds",
    "Duration of one table's pass: read the raw objects, validate, cast, commit.",
    ["table"],
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900),
)
LAG = Gauge(
    "lakestream_curation_lag",
    "Offsets the sink has committed that the curated table does not hold yet (after a pass).",
    ["table"],
)
LAST_SUCCESS = Gauge(
    "lakestream_curation_last_success_timestamp_seconds",
    "Unix time of the table's last successful pass.",
    ["table"],
)
FAILURES = Counter(
    "lakestream_curation_failed_passes", "Passes that failed (the table is left as it was)."
)


def passed(results: list[CurateResult]) -> None:
    now = time.time()
    for r in results:
        RECORDS.labels(r.table).inc(r.records)
        DEAD_LETTERS.labels(r.table).inc(r.dead_letters)
        PASS_SECONDS.labels(r.table).observe(r.seconds)
        LAG.labels(r.table).set(r.lag)
        LAST_SUCCESS.labels(r.table).set(now)
