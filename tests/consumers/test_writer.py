"""A partition's writer against the moto server: manifest first, and a re-read batch that splits
differently removes what its crashed attempt left behind — but never a committed batch's objects."""

from __future__ import annotations

import orjson
import pytest

from consumers.batch import Segment
from consumers.layout import manifest_key
from consumers.storage import S3Storage
from consumers.writer import PartitionWriter
from lakestream.core import clients
from lakestream.core.formats import FORMATS

pytestmark = pytest.mark.stack


def _record(day: str, offset: int) -> dict:
    return {
        "ClientID": "C1",
        "ClientName": "Ann",
        "TransactionDate": day,
        "Product": "Widget",
        "Amount": 1.5,
        "PaymentMethod": "PayPal",
        "kafka_topic": "t",
        "kafka_partition": 0,
        "kafka_offset": offset,
    }


def _segment(first: int, days: list[str]) -> Segment:
    segment = Segment(0, first, first + len(days))
    for i, day in enumerate(days):
        segment.by_dt.setdefault(day, []).append(_record(day, first + i))
    return segment


def _keys(s3, bucket: str, table: str) -> set[str]:
    return {o["Key"] for o in clients.list_objects(s3, bucket, f"{table}/")}


def test_rewrite_of_an_uncommitted_batch_removes_its_leftovers(lake):
    ds = lake.datasets.get("transactions")
    bucket = lake.settings.bucket(ds)
    s3 = clients.aws_client(lake.settings, "s3")
    storage = S3Storage(lake.settings)

    def writer() -> PartitionWriter:  # a new assignment after a crash: a new writer
        return PartitionWriter(ds, 0, bucket, storage, FORMATS["jsonl"])

    first = writer().write(_segment(100, ["2024-10-01", "2024-10-02"]), "2024-10-03 00:00:00")
    assert first.objects == 2
    manifest = orjson.loads(
        s3.get_object(Bucket=bucket, Key=manifest_key(ds.topic, 0))["Body"].read()
    )
    assert manifest["first_offset"] == 100
    assert manifest["next_offset"] == 102
    assert len(manifest["keys"]) == 2

    # Not committed, re-read from offset 100, and this time only one day is in the batch.
    writer().write(_segment(100, ["2024-10-01"]), "2024-10-03 00:00:01")
    keys = _keys(s3, bucket, ds.table)
    assert len(keys) == 1
    assert "dt=2024-10-01" in next(iter(keys))

    # The batch at 100 was committed; the next one starts at 101 and must not touch it.
    writer().write(_segment(101, ["2024-10-05"]), "2024-10-03 00:00:02")
    assert len(_keys(s3, bucket, ds.table)) == 2
