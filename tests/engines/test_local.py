"""The local engine against the embedded stack: a registered table whose objects are all gone
(retention, a bucket emptied by hand) reads as no rows, as Athena reads an empty location, and
the other tables of the same query still read."""

from __future__ import annotations

import pytest

from engines.base import TableQuery
from engines.local import LocalEngine
from glue.crawler import LocalCrawler
from lakestream.core import clients, layout

pytestmark = pytest.mark.stack


def _empty_table(lake, dataset: str) -> None:
    ds = lake.datasets.get(dataset)
    s3 = clients.aws_client(lake.settings, "s3")
    bucket = lake.settings.bucket(ds)
    keys = [o["Key"] for o in clients.list_objects(s3, bucket, layout.table_prefix(ds.table))]
    assert keys
    clients.delete_objects(s3, bucket, keys)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_a_table_whose_objects_are_gone_reads_as_no_rows(lake, fmt):
    landed = lake.land(["transactions", "web_logs"], 40, sink=("--format", fmt))
    for name in ("transactions", "web_logs"):
        LocalCrawler(lake.settings).crawl(lake.datasets.get(name))
    sales, logs = (lake.datasets.get(n).table for n in ("transactions", "web_logs"))
    engine = LocalEngine(lake.settings)
    assert engine.table(sales).partitions  # registered days, which the deletion leaves
    _empty_table(lake, "transactions")

    info = engine.table(sales)
    result = engine.select(TableQuery(info, lake.settings.glue_database, ["amount", "dt"], 10))
    assert result.rows == []
    assert result.column_types == ["double", "string"]

    both = engine.execute(
        f"SELECT (SELECT count(*) FROM {sales}) AS sales, (SELECT count(*) FROM {logs}) AS logs"
    )
    assert both.rows == [(0, landed // 2)]
