"""The open batch of one consumer: per partition, per `dt`, the objects being built since the last
commit.

Messages arrive in chunks (`Polled`: one partition's share of a poll). Each value is checked
against the catalog (`lakestream.core.records`); a bad one is set aside as a dead letter with its
reason. A good one becomes a JSON line by appending the Kafka coordinates and the ingestion time
to its own text (no re-encoding), and the lines go straight into their day's object builder,
which compresses them as they come. So the batch holds compressed bytes, not Python objects: its
memory is a fraction of the byte bound. (Checking a chunk as one block with Arrow's JSON reader
was tried: 15% faster, but pyarrow and its memory pool cost the sink ~100 MiB of RSS.)

A batch closes on records, bytes or age, whichever first; age is checked by the wall clock on
every poll, so an idle partition still flushes.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import orjson

from lakestream.core.datasets import Dataset
from lakestream.core.formats import DEFAULT_GZIP_LEVEL, FORMATS, Format, ObjectBuilder
from lakestream.core.layout import data_key, dlq_key, event_date
from lakestream.core.records import RecordError, RecordParser


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
class Polled:
    """One partition's messages from a poll, in offset order, as parallel lists."""

    topic: str
    partition: int
    offsets: list[int]
    values: list[bytes | None]
    keys: list[bytes | None]
    timestamps: list[int | None]
    headers: list[Sequence[tuple[str, bytes | None]] | None] | None = None  # per message


@dataclass
class Segment:
    """One partition's share of a batch: offsets [first_offset, next_offset), read from
    `start_offset` (the position it began at, at most `first_offset`). `gaps` are the offset
    ranges in between that no message came for; `skipped` counts those the broker confirmed it
    does not serve (consumers/gaps.py), set before the batch is written."""

    partition: int
    first_offset: int
    next_offset: int
    start_offset: int
    objects: dict[str, ObjectBuilder] = field(default_factory=dict)  # by dt
    counts: dict[str, int] = field(default_factory=dict)  # records by dt
    dead: list[dict[str, Any]] = field(default_factory=list)
    messages: int = 0  # good and dead
    bytes: int = 0  # of the message values
    first_dt: str | None = None  # where the first message went (None: a dead letter)
    gaps: list[tuple[int, int]] = field(default_factory=list)  # [start, end) with no message
    skipped: int = 0  # offsets of `gaps` the broker does not serve
    unchecked: list[tuple[int, int]] = field(default_factory=list)  # gaps not checked in time

    @property
    def records(self) -> int:
        return sum(self.counts.values())

    def first_key(self, dataset: Dataset, extension: str) -> str:
        """The one key every attempt at this batch writes: its first message's destination
        (a re-read starts at the same message)."""
        topic, first = dataset.topic, self.first_offset
        if self.first_dt is None:
            return dlq_key(topic, self.partition, first)
        return data_key(dataset, self.first_dt, topic, self.partition, first, extension)


def _text_or_base64(data: bytes, name: str, entry: dict[str, Any]) -> None:
    """`name` as text when it is UTF-8, else `<name>_base64`: either gives back the bytes."""
    try:
        entry[name] = data.decode("utf-8")
    except UnicodeDecodeError:
        entry[f"{name}_base64"] = base64.b64encode(data).decode("ascii")


def dead_letter(
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    value: bytes | None,
    timestamp: int | None,
    reason: str,
    headers: Sequence[tuple[str, bytes | None]] | None = None,
) -> dict[str, Any]:
    """A message set aside, whole: its value (as big as the broker let it be), key, headers,
    coordinates, timestamp and the reason; enough to send it again as it was."""
    entry: dict[str, Any] = {
        "reason": reason,
        "kafka_topic": topic,
        "kafka_partition": partition,
        "kafka_offset": offset,
        "kafka_timestamp": timestamp,
        "value_bytes": len(value) if value is not None else None,
    }
    if key is not None:
        _text_or_base64(key, "kafka_key", entry)
    else:
        entry["kafka_key"] = None
    if value is not None:
        _text_or_base64(value, "value", entry)
    entry["kafka_headers"] = []
    for name, data in headers or ():
        header: dict[str, Any] = {"key": name}
        if data is None:
            header["value"] = None
        else:
            _text_or_base64(data, "value", header)
        entry["kafka_headers"].append(header)
    return entry


def _find_gaps(expected: int, offsets: list[int], gaps: list[tuple[int, int]]) -> None:
    """Append to `gaps` the ranges of offsets from `expected` on that `offsets` (ascending, a
    repeat allowed: the embedded broker can serve a batch twice) skips."""
    for offset in offsets:
        if offset > expected:
            gaps.append((expected, offset))
        expected = max(expected, offset + 1)


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


class Batch:
    def __init__(
        self,
        dataset: Dataset,
        limits: BatchLimits,
        fmt: Format | None = None,
        level: int = DEFAULT_GZIP_LEVEL,
    ) -> None:
        self.dataset = dataset
        self.limits = limits
        self.format = fmt or FORMATS["jsonl"]
        self.level = level
        self.segments: dict[int, Segment] = {}
        self.opened_at: float | None = None
        # Per partition, where the next message is expected: the offset after the last one added,
        # or where reading (re)started. Kept across batches; a segment starts from it. Only the
        # gap count uses it: where to seek is never taken from here.
        self.positions: dict[int, int] = {}
        # Every stored line carries the dataset's columns only: a value with other fields is
        # re-encoded with the catalog's columns, the rest dropped.
        self._columns = dataset.column_names
        self._column_set = frozenset(self._columns)
        self._parse = RecordParser(dataset)

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

    def _segment(self, partition: int, offset: int) -> Segment:
        segment = self.segments.get(partition)
        if segment is None:
            # Unknown start (no position given): claim no gap before the first message.
            start = min(self.positions.get(partition, offset), offset)
            segment = self.segments[partition] = Segment(partition, offset, offset, start)
            if self.opened_at is None:
                self.opened_at = time.monotonic()
        return segment

    def add(self, chunk: Polled) -> None:
        """Take one partition's polled messages: records under their `dt`, bad messages as dead
        letters with their reason."""
        if not chunk.offsets:
            return
        segment = self._segment(chunk.partition, chunk.offsets[0])
        fresh = segment.messages == 0  # this chunk's first message is the batch's first
        expected = segment.start_offset if fresh else segment.next_offset
        _find_gaps(expected, chunk.offsets, segment.gaps)
        segment.next_offset = self.positions[chunk.partition] = chunk.offsets[-1] + 1
        segment.messages += len(chunk.offsets)
        segment.bytes += sum(len(v) for v in chunk.values if v is not None)
        self._add_records(segment, chunk, fresh)

    def _lines(self, segment: Segment, by_dt: dict[str, list[bytes]]) -> None:
        for dt, lines in by_dt.items():
            builder = segment.objects.get(dt)
            if builder is None:
                builder = segment.objects[dt] = self.format.builder(self.dataset, self.level)
                segment.counts[dt] = 0
            builder.add(b"".join(lines))
            segment.counts[dt] += len(lines)

    def _add_records(self, segment: Segment, chunk: Polled, fresh: bool) -> None:
        ingested_at = utc_now()
        # A valid value with only catalog fields, on one line, is stored as sent with the Kafka
        # coordinates and ingestion time appended to its text: no re-encoding.
        head = b',"kafka_topic":%b,"kafka_partition":%d,"kafka_offset":' % (
            orjson.dumps(chunk.topic),
            chunk.partition,
        )
        tail = b',"ingested_at":"%b"}\n' % ingested_at.encode()
        columns, parse = self._column_set, self._parse
        by_dt: dict[str, list[bytes]] = {}
        for i, (offset, value) in enumerate(zip(chunk.offsets, chunk.values, strict=True)):
            reason = self._reject(value)
            if reason is None:
                try:
                    record = parse(cast(bytes, value))
                except RecordError as exc:
                    reason = str(exc)
            if reason is not None:
                segment.dead.append(
                    dead_letter(
                        chunk.topic,
                        chunk.partition,
                        offset,
                        chunk.keys[i],
                        value,
                        chunk.timestamps[i],
                        reason,
                        chunk.headers[i] if chunk.headers else None,
                    )
                )
                continue
            dt = event_date(record, self.dataset)
            if fresh and i == 0:
                segment.first_dt = dt
            value = cast(bytes, value)
            # One line as Hive's text reader splits them (\n, \r): JSON allows both as blanks.
            if record and record.keys() <= columns and b"\n" not in value and b"\r" not in value:
                text = value if value[-1:] == b"}" else value.rstrip()
                line = b"%b%b%d%b" % (text[:-1], head, offset, tail)
            else:
                stored = {name: record.get(name) for name in self._columns}
                stored["kafka_topic"] = chunk.topic
                stored["kafka_partition"] = chunk.partition
                stored["kafka_offset"] = offset
                stored["ingested_at"] = ingested_at
                line = orjson.dumps(stored) + b"\n"
            lines = by_dt.get(dt)
            if lines is None:
                lines = by_dt[dt] = []
            lines.append(line)
        self._lines(segment, by_dt)

    def _reject(self, value: bytes | None) -> str | None:
        if value is None:
            return "empty message (null value)"
        if len(value) > self.limits.max_record_bytes:
            return f"oversized: {len(value)} bytes > {self.limits.max_record_bytes}"
        return None

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
            self.positions.pop(p, None)
        if not self.segments:
            self.reset()

    def reset(self) -> None:
        """Close the batch (written, or given up to be re-read); positions are kept."""
        self.segments = {}
        self.opened_at = None
