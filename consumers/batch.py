"""The open batch of one consumer: per partition, per `dt`, the records read since the last commit.

A batch closes on records, bytes or age, whichever first; age is checked by the wall clock on
every poll, so an idle partition still flushes. Memory is bounded by the byte limit across all
partitions and dates, never by how many dates the records span.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import Any

from consumers.layout import event_date
from lakestream.core.datasets import Dataset
from lakestream.core.records import RecordError, parse_record

DLQ_VALUE_LIMIT = 64 * 1024  # bytes of a rejected value kept in its dead letter


@dataclass(frozen=True)
class BatchLimits:
    max_records: int = 50_000
    max_bytes: int = 32 * 1024 * 1024
    # Short enough that new data is queryable seconds after it is sent (the sink registers its
    # day as it lands); small objects that this makes are compacted in the curated layer.
    max_age_s: float = 5.0
    max_record_bytes: int = 1024 * 1024  # larger messages are dead letters

    def __post_init__(self) -> None:
        if min(self.max_records, self.max_bytes, self.max_record_bytes) < 1 or self.max_age_s <= 0:
            raise ValueError("batch limits must be positive")


@dataclass
class Segment:
    """One partition's share of a batch: offsets [first_offset, next_offset)."""

    partition: int
    first_offset: int
    next_offset: int
    by_dt: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    dead: list[dict[str, Any]] = field(default_factory=list)
    messages: int = 0  # good and dead
    bytes: int = 0  # of the message values

    @property
    def records(self) -> int:
        return sum(len(v) for v in self.by_dt.values())


def dead_letter(message: Any, reason: str) -> dict[str, Any]:
    value: bytes | None = message.value
    entry: dict[str, Any] = {
        "reason": reason,
        "kafka_topic": message.topic,
        "kafka_partition": message.partition,
        "kafka_offset": message.offset,
        "kafka_timestamp": message.timestamp,
        "kafka_key": message.key.decode("utf-8", "replace") if message.key else None,
        "value_bytes": len(value) if value is not None else None,
    }
    if value is not None:
        kept = value[:DLQ_VALUE_LIMIT]
        try:
            entry["value"] = kept.decode("utf-8")
        except UnicodeDecodeError:
            entry["value_base64"] = base64.b64encode(kept).decode("ascii")
        entry["value_truncated"] = len(value) > DLQ_VALUE_LIMIT
    return entry


class Batch:
    def __init__(self, dataset: Dataset, limits: BatchLimits) -> None:
        self.dataset = dataset
        self.limits = limits
        self.segments: dict[int, Segment] = {}
        self.opened_at: float | None = None

    def __bool__(self) -> bool:
        return bool(self.segments)

    # Totals are summed over the segments (one per partition, so a handful): dropping a
    # revoked partition then needs no bookkeeping of its own.
    @property
    def records(self) -> int:
        """Messages in the batch, good and dead."""
        return sum(s.messages for s in self.segments.values())

    @property
    def bytes(self) -> int:
        return sum(s.bytes for s in self.segments.values())

    def add(self, message: Any) -> None:
        """Take one consumed message: a record under its `dt`, or a dead letter with its reason."""
        segment = self.segments.get(message.partition)
        if segment is None:
            segment = self.segments[message.partition] = Segment(
                message.partition, message.offset, message.offset
            )
            if self.opened_at is None:
                self.opened_at = time.monotonic()
        segment.next_offset = message.offset + 1
        value = message.value
        size = len(value) if value is not None else 0
        segment.messages += 1
        segment.bytes += size
        if value is None:
            segment.dead.append(dead_letter(message, "empty message (null value)"))
            return
        if size > self.limits.max_record_bytes:
            reason = f"oversized: {size} bytes > {self.limits.max_record_bytes}"
            segment.dead.append(dead_letter(message, reason))
            return
        try:
            record = parse_record(value, self.dataset)
        except RecordError as exc:
            segment.dead.append(dead_letter(message, str(exc)))
            return
        stored = {name: record.get(name) for name in self.dataset.column_names}
        stored["kafka_topic"] = message.topic
        stored["kafka_partition"] = message.partition
        stored["kafka_offset"] = message.offset
        segment.by_dt.setdefault(event_date(record, self.dataset), []).append(stored)

    def close_reason(self, now: float | None = None) -> str | None:
        if not self.segments:
            return None
        if self.records >= self.limits.max_records:
            return "records"
        if self.bytes >= self.limits.max_bytes:
            return "bytes"
        age = (now or time.monotonic()) - (self.opened_at or 0.0)
        if self.opened_at is not None and age >= self.limits.max_age_s:
            return "age"
        return None

    def drop_partitions(self, partitions: set[int]) -> None:
        """Forget revoked partitions' data: it is uncommitted and will be re-read."""
        for p in partitions:
            self.segments.pop(p, None)
        if not self.segments:
            self.reset()

    def reset(self) -> None:
        self.segments = {}
        self.opened_at = None
