"""The sink registers the dt= partitions it lands in the raw table's Glue entry (moto's Glue over
HTTP): new days are queryable with no crawl, and nothing breaks before the first crawl."""

from __future__ import annotations

import pytest

from consumers.partitions import PartitionRegistrar
from engines import LocalEngine
from glue.crawler import LocalCrawler
from lakestream.core import clients
from tests.lake_helpers import finish

pytestmark = pytest.mark.stack


def glue_partitions(lake, dataset: str) -> set[str]:
    ds = lake.datasets.get(dataset)
    glue = clients.aws_client(lake.settings, "glue")
    pages = glue.get_paginator("get_partitions").paginate(
        DatabaseName=lake.settings.glue_database, TableName=ds.table
    )
    return {p["Values"][0] for page in pages for p in page["Partitions"]}


def test_a_new_event_day_is_registered_by_the_sink_and_queryable_without_a_crawl(lake):
    lake.land("web_logs", 300)  # before any crawl: no table yet, the sink registers nothing
    ds = lake.datasets.get("web_logs")
    LocalCrawler(lake.settings).crawl(ds)
    crawled = glue_partitions(lake, "web_logs")
    assert "2031-05-05" not in crawled

    lake.land("web_logs", 40, "--start", "2031-05-05T08:00:00", "--seed", "3")
    assert glue_partitions(lake, "web_logs") == crawled | {"2031-05-05"}
    glue = clients.aws_client(lake.settings, "glue")
    partition = glue.get_partition(
        DatabaseName=lake.settings.glue_database, TableName=ds.table, PartitionValues=["2031-05-05"]
    )["Partition"]
    assert partition["StorageDescriptor"]["Location"].endswith(f"/{ds.table}/dt=2031-05-05/")
    engine = LocalEngine(lake.settings)
    result = engine.execute(f"SELECT COUNT(*) FROM {ds.table} WHERE dt = '2031-05-05'")
    assert result.rows == [(40,)]
    assert result.scanned_partitions[ds.table] == ["2031-05-05"]


def test_registering_is_idempotent_and_waits_for_the_first_crawl(lake):
    ds = lake.datasets.get("transactions")
    registrar = PartitionRegistrar(lake.settings, ds)
    assert registrar.register(["2024-10-01"]) == []  # no table yet: left to the first crawl
    assert "2024-10-01" not in registrar.known
    lake.land("transactions", 100)
    LocalCrawler(lake.settings).crawl(ds)

    registrar = PartitionRegistrar(lake.settings, ds)
    crawled = sorted(glue_partitions(lake, "transactions"))
    assert registrar.register(crawled) == []  # already there: nothing created, no error
    assert registrar.register(["2030-01-01", "2030-01-02"]) == ["2030-01-01", "2030-01-02"]
    assert registrar.register(["2030-01-01"]) == []  # remembered: no call at all
    assert PartitionRegistrar(lake.settings, ds).register(["2030-01-02"]) == []
    assert glue_partitions(lake, "transactions") == set(crawled) | {"2030-01-01", "2030-01-02"}


def test_the_sink_can_leave_partitions_to_the_crawler(lake):
    lake.land("social_posts", 50)
    ds = lake.datasets.get("social_posts")
    LocalCrawler(lake.settings).crawl(ds)
    before = glue_partitions(lake, "social_posts")
    lake.produce("social_posts", 20, "--start", "2032-02-02", "--seed", "4")
    finish(lake.sink("social_posts", "--until-idle", "1", "--assignment", "manual",
                     "--no-register-partitions"))  # fmt: skip
    assert glue_partitions(lake, "social_posts") == before
