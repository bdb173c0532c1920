"""The sink's Prometheus metrics (lakestream/core/metrics.py says how they are served and sent
to CloudWatch). Labels are the topic, the partition for lag only (CloudWatch sums it away), and
a dead letter's kind of reason."""

from __future__ import annotations

import contextlib

from prometheus_client import Counter, Gauge, Histogram

from lakestream.core.records import reason_label

RECORDS = Counter(
    "lakestream_sink_records", "Records landed in the raw lake (written and committed).", ["topic"]
)
BYTES = Counter("lakestream_sink_bytes", "Bytes of the objects the sink wrote.", ["topic"])
DEAD_LETTERS = Counter(
    "lakestream_sink_dead_letters",
    "Messages sent to s3://<bucket>/_dlq/, by kind of reason.",
    ["topic", "reason"],
)
FLUSH_SECONDS = Histogram(
    "lakestream_sink_flush_seconds",
    "From a batch's flush starting to its offsets committed (writes, manifests, partitions).",
    ["topic"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
COMMIT_FAILURES = Counter(
    "lakestream_sink_commit_failures",
    "Offset commits the broker refused (the batch is re-read and its objects overwritten).",
    ["topic"],
)
ERRORS = Counter(
    "lakestream_sink_errors",
    "Failed writes, reconnections and commit failures: each one retried, nothing lost.",
    ["topic"],
)
UP = Gauge(
    "lakestream_sink_up",
    "1 while a sink process runs: its heartbeat, which the 'sink silent' alarm watches.",
)
LAG = Gauge(
    "lakestream_sink_consumer_lag",
    "Records between the sink's position and the partition's end, as of its last fetch.",
    ["topic", "partition"],
)


def landed(topic: str, records: int, nbytes: int, reasons: list[str]) -> None:
    """One segment written: its records, bytes and dead letters."""
    RECORDS.labels(topic).inc(records)
    BYTES.labels(topic).inc(nbytes)
    for reason in reasons:
        DEAD_LETTERS.labels(topic, reason_label(reason)).inc()


def lag(topic: str, by_partition: dict[int, int | None]) -> None:
    for partition, value in by_partition.items():
        if value is not None:
            LAG.labels(topic, str(partition)).set(value)


def forget_partitions(topic: str, partitions: set[int]) -> None:
    """Partitions this sink no longer reads: their lag is another sink's to report."""
    for partition in partitions:
        with contextlib.suppress(KeyError):
            LAG.remove(topic, str(partition))
