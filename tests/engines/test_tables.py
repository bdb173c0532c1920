"""The Glue table reader against moto's Glue: with max_age it reuses a description for that
long (the API's catalog), without it every call asks Glue."""

from __future__ import annotations

import time

import pytest

from engines.tables import GlueCatalog
from glue.crawler import LocalCrawler
from lakestream.core import clients

pytestmark = pytest.mark.stack


def add_partition(lake, table: str, day: str) -> None:
    glue = clients.aws_client(lake.settings, "glue")
    sd = glue.get_table(DatabaseName=lake.settings.glue_database, Name=table)["Table"]
    descriptor = {
        **sd["StorageDescriptor"],
        "Location": f"{sd['StorageDescriptor']['Location']}dt={day}/",
    }
    glue.create_partition(
        DatabaseName=lake.settings.glue_database,
        TableName=table,
        PartitionInput={"Values": [day], "StorageDescriptor": descriptor},
    )


def test_a_description_is_reused_for_max_age_then_read_again(lake):
    lake.land("ad_campaigns", 50)
    ds = lake.datasets.get("ad_campaigns")
    LocalCrawler(lake.settings).crawl(ds)
    cached, fresh = GlueCatalog(lake.settings, max_age=1.5), GlueCatalog(lake.settings)
    before = cached.table(ds.table).partitions
    add_partition(lake, ds.table, "2033-03-03")
    assert cached.table(ds.table).partitions == before  # within max_age: the same description
    assert "2033-03-03" in fresh.table(ds.table).partitions  # max_age 0: asks every time
    time.sleep(1.6)
    assert "2033-03-03" in cached.table(ds.table).partitions
