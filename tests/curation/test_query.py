"""The curated tables answer the same SQL as the raw ones: the four saved analyses agree."""

from __future__ import annotations

import pytest

from curation.run import curate
from engines import LocalEngine
from glue.crawler import LocalCrawler
from glue.queries import saved_queries
from tests.lake_helpers import make_lake

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def both_layers(running_stack, tmp_path_factory):
    lake = make_lake(running_stack, tmp_path_factory.mktemp("layers"), deployment=True)
    names = [ds.name for ds in lake.datasets]
    lake.land(names, 1_500, "--malformed-rate", "0.01", "--client", "confluent")
    for ds in lake.datasets:
        LocalCrawler(lake.settings).crawl(ds)
    curate(lake.settings, list(lake.datasets), lake.group_prefix)
    engine = LocalEngine(lake.settings)
    yield lake, engine
    engine.close()


@pytest.mark.parametrize("name", sorted(saved_queries()))
def test_each_saved_analysis_gives_the_same_answer_on_both_layers(both_layers, name):
    lake, engine = both_layers
    query = saved_queries()[name]
    raw = engine.execute(query.sql, query.bind())
    curated = engine.execute(query.sql, query.bind(), database=lake.settings.curated_database)
    assert curated.columns == raw.columns
    assert curated.rows == raw.rows
    assert len(raw.rows) > 0
    # Both report what they read from S3 (the engine's HTTP log), as Athena does.
    assert raw.data_scanned_bytes > 0
    assert curated.data_scanned_bytes > 0


def test_curated_tables_are_iceberg_and_counted_once(both_layers):
    lake, engine = both_layers
    curated_db = lake.settings.curated_database
    for ds in lake.datasets:
        info = engine.table(ds.table, curated_db)
        assert info.is_iceberg
        assert info.metadata_location.startswith(f"s3://{lake.settings.bucket(ds)}/curated/")
        sql = f"SELECT COUNT(*), COUNT(DISTINCT kafka_partition * 1000000 + kafka_offset) FROM {ds.table}"  # noqa: E501
        [(rows, distinct)] = engine.execute(sql, database=curated_db).rows
        assert rows == distinct == lake.count(ds.name).distinct
