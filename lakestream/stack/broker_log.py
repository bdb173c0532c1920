"""Retention for the embedded broker's log: batches every consumer group has read are removed.

Tansu 0.6 keeps one S3 object per produced batch and lists a partition's whole `records/`
prefix on every Fetch (`tansu-storage/src/dynostore.rs`), and moto's ListObjectsV2 walks every
key of the bucket. So with a log that only grows, each fetch costs more than the last: the
drain of the 4th million ran at 0.6x the 1st (issue #33). Tansu has no retention of its own
(its DeleteRecords is `todo!()`), so this process keeps the log short: a batch is deleted once
every consumer group that reads its topic has committed past it, and it is older than the
retention period. What no group has committed yet is never touched, so a broker restart still
loses nothing any group is still to read. Readers it does not wait for: a consumer with no
group, and a group that has not committed yet on the topic; such a reader that starts at
offset 0 (`seek`) after a trim gets batches twice from Tansu (its fetch adds record counts to
the requested offset), while one that asks the broker for the earliest offset
(`auto_offset_reset="earliest"`, `seek_to_beginning`) starts at the first batch kept.

Run by the embedded stack as its third process (`broker-log.pid`, `broker-log.log`) when the
broker's log is in S3. The layout of the log is Tansu's own; an unknown layout trims nothing.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import signal
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from lakestream.core import clients
from lakestream.core.settings import Settings

log = logging.getLogger("lakestream.broker_log")

CLUSTER = "tansu_cluster"  # Tansu's default --cluster-id, which the stack keeps
OFFSET_DIGITS = 20  # `records/{offset:0>20}.batch`


def records_prefix(topic: str, partition: int) -> str:
    """Where Tansu 0.6 keeps one partition's batches, one object per produced batch."""
    return f"clusters/{CLUSTER}/topics/{topic}/partitions/{partition:0>10}/records/"


def base_offset(key: str) -> int | None:
    name = key.rsplit("/", 1)[-1]
    digits = name[:OFFSET_DIGITS]
    if len(digits) != OFFSET_DIGITS or not digits.isdigit() or not name.endswith(".batch"):
        return None
    return int(digits)


@dataclass(frozen=True)
class Batch:
    key: str
    offset: int  # base offset: the batch holds offsets [offset, next batch's offset)
    modified: datetime


def deletable(batches: Iterable[Batch], floor: int, older_than: datetime) -> list[Batch]:
    """Batches whose every record lies below `floor` (the lowest committed offset): a batch
    ends where the next one starts, so the last batch is always kept, and with it the log's
    end. Only batches written before `older_than` go."""
    ordered = sorted(batches, key=lambda b: b.offset)
    return [
        batch
        for batch, following in itertools.pairwise(ordered)
        if following.offset <= floor and batch.modified < older_than
    ]


def committed_floors(groups: dict[str, dict[tuple[str, int], int]]) -> dict[tuple[str, int], int]:
    """Per (topic, partition): the lowest offset any group has committed.

    A group that reads a topic (has committed on any of its partitions) but has committed
    nothing on one partition yet still needs all of it: that partition gets no floor."""
    partitions: dict[str, set[int]] = defaultdict(set)
    readers: dict[str, set[str]] = defaultdict(set)
    for group, offsets in groups.items():
        for topic, partition in offsets:
            partitions[topic].add(partition)
            readers[topic].add(group)
    floors = {}
    for topic, parts in partitions.items():
        for partition in parts:
            committed = [groups[g].get((topic, partition)) for g in readers[topic]]
            if all(c is not None for c in committed):
                floors[(topic, partition)] = min(c for c in committed if c is not None)
    return floors


@dataclass
class Pass:
    partitions: int = 0
    deleted: int = 0
    kept: int = 0


class BrokerLogRetention:
    def __init__(self, settings: Settings, retention: timedelta) -> None:
        self.settings = settings
        self.retention = retention
        self.bucket = settings.broker_log_bucket
        self.s3 = clients.aws_client(settings, "s3", connect_timeout=3, read_timeout=30)

    def group_offsets(self) -> dict[str, dict[tuple[str, int], int]]:
        """Every consumer group's committed offsets, as the broker reports them."""
        admin = clients.kafka_admin(self.settings)
        try:
            names = [g[0] if isinstance(g, tuple) else g["group_id"] for g in admin.list_groups()]
            result: dict[str, dict[tuple[str, int], int]] = {}
            for name in names:
                offsets = admin.list_group_offsets(name).get(name, {})
                result[name] = {
                    (tp.topic, tp.partition): om.offset
                    for tp, om in offsets.items()
                    if om.offset is not None and om.offset >= 0
                }
            return result
        finally:
            admin.close()

    def batches(self, topic: str, partition: int) -> list[Batch]:
        found = []
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=records_prefix(topic, partition)
        )
        for page in pages:
            for obj in page.get("Contents", []):
                offset = base_offset(obj["Key"])
                if offset is not None:
                    found.append(Batch(obj["Key"], offset, obj["LastModified"]))
        return found

    def delete(self, keys: list[str]) -> int:
        deleted = 0
        for i in range(0, len(keys), 1000):
            chunk = keys[i : i + 1000]
            answer = self.s3.delete_objects(
                Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
            )
            errors = answer.get("Errors", [])
            for error in errors[:3]:
                log.warning("could not delete %s: %s", error.get("Key"), error.get("Message"))
            deleted += len(chunk) - len(errors)
        return deleted

    def run_once(self, now: datetime | None = None, topics: set[str] | None = None) -> Pass:
        """One pass over every partition some group has committed on (or only `topics`)."""
        older_than = (now or datetime.now(UTC)) - self.retention
        done = Pass()
        for (topic, partition), floor in sorted(committed_floors(self.group_offsets()).items()):
            if topics is not None and topic not in topics:
                continue
            batches = self.batches(topic, partition)
            gone = deletable(batches, floor, older_than)
            done.partitions += 1
            done.deleted += self.delete([b.key for b in gone]) if gone else 0
            done.kept += len(batches) - len(gone)
        return done


def serve(settings: Settings, retention: timedelta, interval: float, stop: threading.Event) -> None:
    """Trim every `interval` seconds until `stop` is set; a failed pass is logged and retried."""
    keeper = BrokerLogRetention(settings, retention)
    while not stop.is_set():
        started = time.monotonic()
        try:
            done = keeper.run_once()
            if done.deleted:
                log.info(
                    "deleted %d batches over %d partitions (%d kept) in %.1fs",
                    done.deleted,
                    done.partitions,
                    done.kept,
                    time.monotonic() - started,
                )
        except Exception as exc:  # nothing restarts this process: it must go on
            log.warning("retention pass failed (%s: %s); retrying", type(exc).__name__, exc)
        stop.wait(interval)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m lakestream.stack.broker_log",
        description="Delete the embedded broker's log batches that every consumer group has "
        "committed past (started by `lakestream up`; settings come from the environment).",
    )
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between passes")
    parser.add_argument(
        "--retention",
        type=float,
        default=None,
        help="seconds a committed batch is kept (default: LAKESTREAM_BROKER_LOG_RETENTION)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.CRITICAL)
    settings = Settings()
    stop = threading.Event()

    def on_signal(*_: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    seconds = settings.broker_log_retention if args.retention is None else args.retention
    retention = timedelta(seconds=seconds)
    log.info("keeping committed batches %gs in s3://%s", seconds, settings.broker_log_bucket)
    serve(settings, retention, args.interval, stop)


if __name__ == "__main__":
    main()
