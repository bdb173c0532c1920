"""Counting what landed: rows, distinct Kafka coordinates, dead letters.

Loss and duplication are counted, not assumed: after a run, the distinct
(kafka_topic, kafka_partition, kafka_offset) in the lake must equal what was produced, and the
row count must equal the distinct count.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from lakestream.core import clients, layout
from lakestream.core.datasets import Dataset
from lakestream.core.formats import format_of_key
from lakestream.core.settings import Settings

Coordinate = tuple[str, int, int]


@dataclass
class LakeCount:
    objects: int = 0
    rows: int = 0
    coordinates: set[Coordinate] = field(default_factory=set)
    dead_letters: int = 0
    dead_coordinates: set[Coordinate] = field(default_factory=set)
    dead_reasons: list[str] = field(default_factory=list)

    @property
    def distinct(self) -> int:
        return len(self.coordinates)

    @property
    def duplicates(self) -> int:
        return self.rows - self.distinct


def read_rows(body: bytes, key: str) -> list[dict[str, Any]]:
    """The records of one lake object (data or dead letters), whatever its format."""
    return format_of_key(key).decode(body)


def count_lake(settings: Settings, dataset: Dataset) -> LakeCount:
    s3 = clients.aws_client(settings, "s3")
    bucket = settings.bucket(dataset)
    count = LakeCount()
    data = clients.list_objects(s3, bucket, layout.table_prefix(dataset.table))
    for key in [o["Key"] for o in data]:
        rows = read_rows(s3.get_object(Bucket=bucket, Key=key)["Body"].read(), key)
        count.objects += 1
        count.rows += len(rows)
        count.coordinates.update(
            (r["kafka_topic"], r["kafka_partition"], r["kafka_offset"]) for r in rows
        )
    dead_letters = clients.list_objects(s3, bucket, layout.dlq_prefix(dataset.topic))
    for key in [o["Key"] for o in dead_letters]:
        rows = read_rows(s3.get_object(Bucket=bucket, Key=key)["Body"].read(), key)
        count.dead_letters += len(rows)
        count.dead_coordinates.update(
            (r["kafka_topic"], r["kafka_partition"], r["kafka_offset"]) for r in rows
        )
        count.dead_reasons += [r["reason"] for r in rows]
    return count


@dataclass(frozen=True)
class ObjectCounts:
    """What a lake object's metadata says: records (or dead letters) it holds, and offsets of
    its batch the broker delivered no message for."""

    records: int
    skipped: int = 0
    unchecked: tuple[tuple[int, int], ...] = ()  # gaps the sink could not check in time


_counts: dict[tuple[str, str, str], ObjectCounts] = {}  # (bucket, key, ETag) -> counts
_counts_lock = threading.Lock()


def _metadata_int(metadata: dict[str, str], name: str) -> int | None:
    value = metadata.get(name)
    return int(value) if value is not None and value.isdigit() else None


def _head_counts(s3: Any, bucket: str, key: str) -> ObjectCounts:
    metadata = s3.head_object(Bucket=bucket, Key=key).get("Metadata", {})
    records = _metadata_int(metadata, layout.RECORD_COUNT)
    if records is None:
        # Written before the sink (or curation) said how many it holds: read it, once.
        records = len(read_rows(s3.get_object(Bucket=bucket, Key=key)["Body"].read(), key))
    return ObjectCounts(
        records,
        _metadata_int(metadata, layout.SKIPPED_OFFSETS) or 0,
        tuple(layout.parse_gaps(metadata.get(layout.UNCHECKED_GAPS))),
    )


def object_counts(s3: Any, bucket: str, obj: dict[str, Any]) -> ObjectCounts:
    """A listed lake object's counts, from its metadata (a HEAD, once per object and ETag in
    this process)."""
    cache_key = (bucket, obj["Key"], obj.get("ETag", ""))
    with _counts_lock:
        known = _counts.get(cache_key)
    if known is None:
        known = _head_counts(s3, bucket, obj["Key"])
        with _counts_lock:
            _counts[cache_key] = known
    return known


def object_records(s3: Any, bucket: str, obj: dict[str, Any]) -> int:
    """How many records (or dead letters) a listed lake object holds."""
    return object_counts(s3, bucket, obj).records
