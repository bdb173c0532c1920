"""`layer=curated` and `as_of`: the same request shape answered from the Iceberg tables."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from athena_api.query import views
from curation.run import curate
from tests.athena_api.conftest import N

pytestmark = pytest.mark.stack


def get(api, path="/api/query-table/", **params):
    return api.get(f"{path}?{urlencode(params)}")


def test_curated_rows_match_raw_rows(api):
    query = {
        "table": "kafka_ing_transactions",
        "limit": "1000",
        "order_by": "kafka_partition,kafka_offset",
        "columns": "clientid,amount,transactiondate,kafka_partition,kafka_offset",
    }
    raw = get(api, **query).json()
    curated = get(api, layer="curated", **query).json()
    assert curated["row_count"] == raw["row_count"] == N
    assert curated["rows"] == raw["rows"]
    assert [c["name"] for c in curated["columns"]] == [c["name"] for c in raw["columns"]]


def test_filters_work_on_the_curated_layer(api):
    filter_text = "paymentmethod = 'PayPal' AND amount > 100"
    raw = get(api, table="kafka_ing_transactions", limit="1000", filter=filter_text).json()
    curated = get(api, table="kafka_ing_transactions", limit="1000", filter=filter_text,
                  layer="curated").json()  # fmt: skip
    assert 0 < curated["row_count"] == raw["row_count"]


def test_tables_lists_both_layers(api, api_lake):
    listed = get(api, path="/api/tables/").json()
    layers = {(t["name"], t["layer"]): t["format"] for t in listed["tables"]}
    for ds in api_lake.datasets:
        assert layers[(ds.table, "raw")] == "json"
        assert layers[(ds.table, "curated")] == "iceberg"
    assert listed["databases"]["curated"] == api_lake.settings.curated_database
    detail = get(api, path="/api/tables/kafka_ing_logs/", layer="curated").json()
    assert detail["format"] == "iceberg"
    assert detail["partition_keys"] == []
    assert {"name": "dt", "type": "date"} in detail["columns"]


def test_a_day_filter_means_the_same_on_both_layers(api):
    """`dt` is the raw layer's partition key (text) and a curated column (a date): one filter
    selects the same rows from both."""
    day = views.lookup("kafka_ing_logs").partitions[0]
    filter_text = f"dt = '{day}' AND status_code >= 400"
    raw = get(api, table="kafka_ing_logs", limit="1000", filter=filter_text).json()
    curated = get(api, table="kafka_ing_logs", limit="1000", filter=filter_text,
                  layer="curated").json()  # fmt: skip
    assert 0 < curated["row_count"] == raw["row_count"]
    assert {row["dt"] for row in curated["rows"]} == {day}


@pytest.mark.parametrize(
    ("params", "param", "message"),
    [
        ({"layer": "gold"}, "layer", "layer must be raw or curated"),
        ({"layer": "curated'--"}, "layer", "layer must be raw or curated"),
        ({"as_of": "2026-01-01T00:00:00"}, "as_of", "as_of needs layer=curated"),
        ({"layer": "curated", "as_of": "yesterday"}, "as_of", "as_of must be an ISO timestamp"),
        ({"layer": "curated", "as_of": "2026-01-01' OR '1'='1"}, "as_of", "ISO timestamp"),
        ({"layer": "curated", "as_of": "9" * 200}, "as_of", "ISO timestamp"),
        ({"layer": "curated", "filter": "day = '2024-10-01'"}, "filter", "unknown column 'day'"),
    ],
)
def test_hostile_layer_and_as_of_values_are_refused(api, params, param, message):
    response = get(api, table="kafka_ing_logs", **params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param
    assert message in error["message"]


def test_as_of_returns_the_table_as_it_was(api, settings, lake):
    """Two curation passes; as_of between them gives the first pass's rows."""
    settings.LAKE = lake.settings
    first = lake.land("ad_campaigns", 120)
    curate(lake.settings, [lake.datasets.get("ad_campaigns")], lake.group_prefix)
    time.sleep(1.5)
    between = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    time.sleep(1.5)
    more = lake.land("ad_campaigns", 80, "--seed", "5")
    curate(lake.settings, [lake.datasets.get("ad_campaigns")], lake.group_prefix)

    table = lake.datasets.get("ad_campaigns").table
    now = get(api, table=table, layer="curated", limit="1000", database="x")
    assert now.status_code == 400  # an unknown parameter is refused, not ignored
    now = get(api, table=table, layer="curated", limit="1000").json()
    then = get(api, table=table, layer="curated", limit="1000", as_of=between).json()
    assert now["row_count"] == first + more
    assert then["row_count"] == first
    before_all = get(api, table=table, layer="curated", as_of="2001-01-01T00:00:00")
    assert before_all.status_code == 200
    assert before_all.json()["row_count"] == 0  # the table held nothing then
