"""A partition's writer against the moto server: manifest first, and a re-read batch that splits
differently removes what its crashed attempt left behind — but never a committed batch's objects."""

from __future__ import annotations

from typing import cast

import orjson
import pytest

from consumers.batch import Batch, BatchLimits, Polled
from consumers.storage import S3Storage
from consumers.writer import PartitionWriter
from lakestream.core import clients
from lakestream.core.datasets import default_catalog
from lakestream.core.formats import FORMATS
from lakestream.core.layout import SKIPPED_OFFSETS, manifest_key

pytestmark = pytest.mark.stack


def _values(days: list[str], bad: tuple[int, ...] = ()) -> list[bytes]:
    """One transaction per day; those at the positions in `bad` fail the schema."""
    return [
        orjson.dumps(
            {
                "ClientID": "C1",
                "ClientName": "Ann",
                "TransactionDate": day,
                "Product": "Widget",
                "Amount": "bad" if i in bad else 1.5,
                "PaymentMethod": "PayPal",
            }
        )
        for i, day in enumerate(days)
    ]


def _segment(ds, first: int, days: list[str], bad: tuple[int, ...] = ()):
    """A closed segment of partition 0 from `first`: one record per day, in order; the
    messages at the positions in `bad` fail the schema."""
    values = _values(days, bad)
    n = len(days)
    batch = Batch(ds, BatchLimits())
    offsets = list(range(first, first + n))
    batch.add(Polled(ds.topic, 0, offsets, values, [None] * n, [0] * n))
    return batch.segments[0]


def _keys(s3, bucket: str, table: str) -> set[str]:
    return {o["Key"] for o in clients.list_objects(s3, bucket, f"{table}/")}


def test_rewrite_of_an_uncommitted_batch_removes_its_leftovers(lake):
    ds = lake.datasets.get("transactions")
    bucket = lake.settings.bucket(ds)
    s3 = clients.aws_client(lake.settings, "s3")
    storage = S3Storage(lake.settings)

    def writer() -> PartitionWriter:  # a new assignment after a crash: a new writer
        return PartitionWriter(ds, 0, bucket, storage, FORMATS["jsonl"])

    first = writer().write(_segment(ds, 100, ["2024-10-01", "2024-10-02"]))
    assert first.objects == 2
    assert first.manifest
    manifest = orjson.loads(
        s3.get_object(Bucket=bucket, Key=manifest_key(ds.topic, 0))["Body"].read()
    )
    assert manifest["first_offset"] == 100
    assert manifest["next_offset"] == 102
    assert len(manifest["keys"]) == 2

    # Not committed, re-read from offset 100, and this time only one day is in the batch.
    again = writer().write(_segment(ds, 100, ["2024-10-01"]))
    assert not again.manifest  # one object: any later attempt overwrites it
    keys = _keys(s3, bucket, ds.table)
    assert len(keys) == 1
    assert "dt=2024-10-01" in next(iter(keys))

    # The batch at 100 was committed; the next one starts at 101 and must not touch it.
    writer().write(_segment(ds, 101, ["2024-10-05"]))
    assert len(_keys(s3, bucket, ds.table)) == 2


def test_only_segments_of_several_objects_write_a_manifest(lake):
    ds = lake.datasets.get("transactions")
    bucket = lake.settings.bucket(ds)
    s3 = clients.aws_client(lake.settings, "s3")
    writer = PartitionWriter(ds, 0, bucket, S3Storage(lake.settings), FORMATS["jsonl"])

    def manifest() -> dict | None:
        found = [o["Key"] for o in clients.list_objects(s3, bucket, "_state/")]
        if manifest_key(ds.topic, 0) not in found:
            return None
        return orjson.loads(
            s3.get_object(Bucket=bucket, Key=manifest_key(ds.topic, 0))["Body"].read()
        )

    assert not writer.write(_segment(ds, 200, ["2024-10-01"] * 3)).manifest
    assert manifest() is None
    # A dead letter after a good first record: two objects, so a manifest names both.
    done = writer.write(_segment(ds, 203, ["2024-10-01"] * 3, bad=(1,)))
    assert (done.objects, done.manifest) == (2, True)
    assert manifest()["first_offset"] == 203
    assert any(k.startswith("_dlq/") for k in manifest()["keys"])
    # A batch whose first message is a dead letter and that holds nothing else: one object.
    assert not writer.write(_segment(ds, 206, ["2024-10-01"], bad=(0,))).manifest


def test_every_object_of_a_batch_with_gaps_says_how_many_offsets_it_skipped():
    ds = default_catalog().get("transactions")
    writer = PartitionWriter(ds, 0, "unused", cast(S3Storage, None), FORMATS["jsonl"])
    batch = Batch(ds, BatchLimits())
    batch.positions[0] = 95
    value = _values(["2024-10-01"])[0]
    batch.add(Polled(ds.topic, 0, [100, 104], [value, b"not json"], [None] * 2, [0] * 2))
    segment = batch.segments[0]
    assert segment.gaps == [(95, 100), (101, 104)]
    segment.skipped = 8  # as the broker confirmed them (consumers/gaps.py)
    objects = writer.objects(segment)
    assert len(objects) == 2  # a data object and a dead-letter object
    assert {meta[SKIPPED_OFFSETS] for _, _, meta in objects.values()} == {"8"}  # 95-99, 101-103
    # A batch without gaps says nothing of them.
    contiguous = _segment(ds, 100, ["2024-10-01", "2024-10-02"])
    assert not any(SKIPPED_OFFSETS in meta for _, _, meta in writer.objects(contiguous).values())
