"""Where records land: object keys derived from Kafka coordinates, and the partition date.

    s3://<bucket>/<table>/dt=YYYY-MM-DD/<topic>+<partition>+<first offset, 20 digits>.<ext>
    s3://<bucket>/_dlq/<topic>/<topic>+<partition>+<first offset>.jsonl.gz
    s3://<bucket>/_state/<topic>+<partition>.json       (the last batch's manifest)

Names depend only on the batch's first offset, so a batch re-read after a crash (it starts at
the last committed offset, which is that first offset) overwrites its own earlier copy.
"""

from __future__ import annotations

from typing import Any

from lakestream.core.datasets import PARTITION_KEY, Dataset

OFFSET_DIGITS = 20  # the largest int64 offset has 19 digits: names sort in offset order


def batch_name(topic: str, partition: int, first_offset: int) -> str:
    return f"{topic}+{partition}+{first_offset:0{OFFSET_DIGITS}d}"


def data_key(
    dataset: Dataset, dt: str, topic: str, partition: int, first_offset: int, extension: str
) -> str:
    name = batch_name(topic, partition, first_offset)
    return f"{dataset.table}/{PARTITION_KEY}={dt}/{name}{extension}"


def dlq_key(topic: str, partition: int, first_offset: int) -> str:
    return f"_dlq/{topic}/{batch_name(topic, partition, first_offset)}.jsonl.gz"


def manifest_key(topic: str, partition: int) -> str:
    return f"_state/{topic}+{partition}.json"


def event_date(record: dict[str, Any], dataset: Dataset) -> str:
    """The record's `dt`: the date part of its event-time field (already validated)."""
    return str(record[dataset.event_time_field])[:10]
