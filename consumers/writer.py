"""One Kafka partition's writer: turns a closed segment into S3 objects, manifest first.

The worker (consumers/sink.py) polls, batches, fences and commits; the writer only knows its
partition, as the Confluent S3 sink's TopicPartitionWriter does. Order of a write:

1. if the segment writes more than the one object every attempt at this batch writes (its first
   message's day, or its dead letters), the partition's manifest (`_state/…`) names the objects
   about to be written. A re-read batch starts at the same message but may close elsewhere and
   split differently; if the last manifest belongs to an uncommitted attempt at this same first
   offset, objects it names that this attempt will not rewrite are deleted first. A one-object
   segment needs no manifest: any later attempt overwrites that object. Records of one day, the
   steady state, so cost no state write at all;
2. the data objects and the dead-letter object are written, concurrently when an executor is
   given (each retried with backoff by storage).

The worker commits the offsets only after every writer of the batch has returned.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from dataclasses import dataclass

import orjson

from consumers.batch import Segment
from consumers.storage import S3Storage
from lakestream.core.datasets import Dataset
from lakestream.core.formats import Format, JsonLinesGzip
from lakestream.core.layout import (
    RECORD_COUNT,
    SKIPPED_OFFSETS,
    UNCHECKED_GAPS,
    data_key,
    dlq_key,
    gaps_text,
    manifest_key,
)

log = logging.getLogger("consumers")
DLQ_FORMAT = JsonLinesGzip()


@dataclass(frozen=True)
class Written:
    objects: int
    bytes: int
    manifest: bool  # a state write was needed


class PartitionWriter:
    def __init__(
        self, dataset: Dataset, partition: int, bucket: str, storage: S3Storage, fmt: Format
    ) -> None:
        self.dataset = dataset
        self.partition = partition
        self.bucket = bucket
        self.storage = storage
        self.format = fmt
        # A new writer (new assignment) checks the last manifest once: a crash may have left
        # objects of an attempt that this one will not overwrite.
        self.manifest_checked = False

    def objects(self, segment: Segment) -> dict[str, tuple[bytes, str, dict[str, str]]]:
        """Key => (body, content type, metadata) of every object that holds this segment; the
        metadata says how many records it holds (the audit and the stats read it with a HEAD),
        and how many offsets of the segment the broker never delivered, if any."""
        topic, first = self.dataset.topic, segment.first_offset
        skipped = {SKIPPED_OFFSETS: str(segment.skipped)} if segment.skipped else {}
        if segment.unchecked:
            skipped[UNCHECKED_GAPS] = gaps_text(segment.unchecked)
        objects: dict[str, tuple[bytes, str, dict[str, str]]] = {
            data_key(self.dataset, dt, topic, self.partition, first, self.format.extension): (
                builder.finish(),
                "application/octet-stream",
                {RECORD_COUNT: str(segment.counts[dt]), **skipped},
            )
            for dt, builder in segment.objects.items()
        }
        if segment.dead:
            body = DLQ_FORMAT.encode(segment.dead, self.dataset)
            objects[dlq_key(topic, self.partition, first)] = (
                body,
                "application/gzip",
                {RECORD_COUNT: str(len(segment.dead)), **skipped},
            )
        return objects

    def write(self, segment: Segment, uploads: Executor | None = None) -> Written:
        objects = self.objects(segment)
        state_key = manifest_key(self.dataset.topic, self.partition)
        if not self.manifest_checked:
            self._remove_stale(state_key, segment.first_offset, set(objects))
            self.manifest_checked = True
        needs_manifest = set(objects) != {segment.first_key(self.dataset, self.format.extension)}
        if needs_manifest:
            manifest = {
                "first_offset": segment.first_offset,
                "next_offset": segment.next_offset,
                "keys": sorted(objects),
            }
            self.storage.put(self.bucket, state_key, orjson.dumps(manifest), "application/json")

        def put(item: tuple[str, tuple[bytes, str, dict[str, str]]]) -> int:
            key, (body, content_type, metadata) = item
            self.storage.put(self.bucket, key, body, content_type, metadata)
            return len(body)

        sizes = list(uploads.map(put, objects.items()) if uploads else map(put, objects.items()))
        return Written(len(objects), sum(sizes), needs_manifest)

    def _remove_stale(self, state_key: str, first_offset: int, keeping: set[str]) -> None:
        previous = self.storage.get(self.bucket, state_key)
        if not previous:
            return
        manifest = orjson.loads(previous)
        if manifest.get("first_offset") != first_offset:
            return  # the last manifest's batch was committed: its objects are the lake's
        stale = sorted(set(manifest.get("keys", [])) - keeping)
        if stale:
            log.info(
                "%s: removing %d objects of an uncommitted earlier attempt",
                self.dataset.topic,
                len(stale),
            )
            self.storage.delete(self.bucket, stale)
