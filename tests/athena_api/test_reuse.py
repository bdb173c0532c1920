"""Answers reused while the data under them is unchanged (athena_api/query/reuse.py): on a lake
of its own, where new batches and curated commits are made on purpose."""

from __future__ import annotations

import re
import time
from urllib.parse import urlencode

import pytest
import sqlglot

from athena_api.query.analyses import tables_read
from athena_api.query.reuse import engine_reuse_minutes
from curation.run import curate
from engines.athena import AthenaEngine
from glue.crawler import LocalCrawler
from lakestream.core import clients
from tests.aws_calls import recording_moto

DATASET = "web_logs"
TABLE = "kafka_ing_logs"


@pytest.fixture
def reuse_lake(deployment_lake, settings):
    """web_logs landed, crawled and curated for a test that changes the lake under the API; it
    reads with no catalog or version period, so every change shows at once. Tests that only
    read use the `api` fixture's shared lake, which holds the same table."""
    lake = deployment_lake
    lake.land(DATASET, 300)
    LocalCrawler(lake.settings).crawl(lake.datasets.get(DATASET))
    curate(lake.settings, [lake.datasets.get(DATASET)], lake.group_prefix)
    settings.LAKE = lake.settings.model_copy(update={"api_catalog_max_age": 0.0})
    return lake


@pytest.fixture
def fresh_reads(api, api_lake, settings):
    """After `api`: the API's shared lake, read with no catalog or version period; every
    request lists and describes again, so a reuse or an ETag never comes from a cached listing."""
    settings.LAKE = api_lake.settings.model_copy(update={"api_catalog_max_age": 0.0})


def get(api, path="/api/query-table/", headers=None, **params):
    return api.get(f"{path}?{urlencode(params)}", headers=headers or {})


def land_more(lake, count=50) -> None:
    lake.land(DATASET, count, "--start", "2024-12-01")
    LocalCrawler(lake.settings).crawl(lake.datasets.get(DATASET))


@pytest.mark.parametrize("layer", ["raw", "curated"])
def test_an_answer_is_reused_until_the_data_under_it_changes(api, reuse_lake, layer):
    query = {"table": TABLE, "columns": "status_code", "limit": "1000", "layer": layer}
    first = get(api, **query)
    assert first.status_code == 200, first.content
    assert (first.json()["reused"], first.json()["age_s"]) == (False, 0)
    assert first.json()["row_count"] == 300

    again = get(api, **query)
    assert again.json()["reused"] is True
    assert 0 <= again.json()["age_s"] < 60
    assert again.json()["rows"] == first.json()["rows"]
    assert again.json()["query_id"] == first.json()["query_id"]  # the same answer
    assert again["ETag"] == first["ETag"]

    fresh = get(api, **query, max_age="0")  # 0: the query runs
    assert fresh.json()["reused"] is False
    assert fresh.json()["query_id"] != first.json()["query_id"]

    land_more(reuse_lake)
    if layer == "curated":
        curate(reuse_lake.settings, [reuse_lake.datasets.get(DATASET)], reuse_lake.group_prefix)
    changed = get(api, **query)
    assert changed.json()["reused"] is False
    assert changed.json()["row_count"] == 350
    assert changed["ETag"] != first["ETag"]


def test_an_answer_older_than_max_age_is_not_reused(api, fresh_reads):
    query = {"table": TABLE, "limit": "5"}
    first = get(api, **query)
    assert first.json()["reused"] is False
    assert get(api, **query, max_age="5").json()["reused"] is True
    # max_age=1: a second later the kept answer is too old, though the data is the same.
    time.sleep(1.1)
    late = get(api, **query, max_age="1")
    assert late.json()["reused"] is False
    assert late["ETag"] == first["ETag"]  # same query, same data


def test_a_day_registered_or_an_object_deleted_is_a_change(api, reuse_lake):
    """Registering a day changes no object, and a delete leaves the newest object as it was:
    both still make the kept answer stale."""
    settings = reuse_lake.settings
    query = {"table": TABLE, "columns": "status_code", "limit": "1000"}
    before = get(api, **query)
    assert before.json()["row_count"] == 300
    glue = clients.aws_client(settings, "glue")
    partitions = glue.get_partitions(DatabaseName=settings.glue_database, TableName=TABLE)
    first = partitions["Partitions"][0]
    glue.delete_partition(
        DatabaseName=settings.glue_database, TableName=TABLE, PartitionValues=first["Values"]
    )
    unregistered = get(api, **query)
    assert unregistered.json()["reused"] is False
    assert unregistered.json()["row_count"] < 300
    glue.create_partition(
        DatabaseName=settings.glue_database,
        TableName=TABLE,
        PartitionInput={k: first[k] for k in ("Values", "StorageDescriptor")},
    )
    registered = get(api, **query)  # the data is as it was at first: so is its answer
    assert registered.json()["row_count"] == 300
    assert registered["ETag"] == before["ETag"] != unregistered["ETag"]

    s3 = clients.aws_client(settings, "s3")
    bucket = settings.bucket(reuse_lake.datasets.get(DATASET))
    key = s3.list_objects_v2(Bucket=bucket, Prefix=f"{TABLE}/")["Contents"][0]["Key"]
    s3.delete_object(Bucket=bucket, Key=key)
    after = get(api, **query)
    assert after.json()["reused"] is False
    assert after.json()["row_count"] < 300


def test_if_none_match_gets_304_while_nothing_changed(api, reuse_lake):
    query = {"table": TABLE, "limit": "5"}
    first = get(api, **query)
    etag = first["ETag"]
    assert re.fullmatch(r'W/"[0-9a-f]{32}"', etag)  # weak: the same rows, not the same bytes
    assert first["Cache-Control"] == "no-cache"

    same = get(api, headers={"If-None-Match": etag}, **query)
    assert same.status_code == 304
    assert same.content == b""
    assert same["ETag"] == etag
    assert not same.has_header("Content-Length")  # RFC 9110 8.6: a 304 has no content
    strong = etag.removeprefix("W/")  # If-None-Match compares weakly: either form matches
    assert get(api, headers={"If-None-Match": f'"other", {strong}'}, **query).status_code == 304
    # Another query, or max_age=0, or another ETag: the full answer.
    assert get(api, headers={"If-None-Match": etag}, table=TABLE, limit="6").status_code == 200
    assert get(api, headers={"If-None-Match": etag}, max_age="0", **query).status_code == 200
    assert get(api, headers={"If-None-Match": '"nope"'}, **query).status_code == 200

    land_more(reuse_lake)
    changed = get(api, headers={"If-None-Match": etag}, **query)
    assert changed.status_code == 200
    assert changed["ETag"] != etag


def test_analyses_are_reused_and_answer_304_too(api, fresh_reads):
    path = "/api/analyses/web_errors/"
    first = get(api, path)
    assert first.status_code == 200, first.content
    assert first.json()["reused"] is False
    again = get(api, path)
    assert again.json()["reused"] is True
    assert again.json()["rows"] == first.json()["rows"]
    assert get(api, path, headers={"If-None-Match": first["ETag"]}).status_code == 304
    other = get(api, path, **{"from": "2024-10-02"})  # other parameters: another answer
    assert other.json()["reused"] is False
    assert other["ETag"] != first["ETag"]


@pytest.mark.parametrize("value", ["-1", "1.5", "abc", "604801", "1e9", " ", "9" * 40])
@pytest.mark.parametrize("path", ["/api/query-table/", "/api/analyses/web_errors/"])
def test_a_bad_max_age_is_refused_and_named(api, fresh_reads, path, value):
    params = {"max_age": value, **({"table": TABLE} if path == "/api/query-table/" else {})}
    response = get(api, path, **params)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["param"] == "max_age"
    assert "max_age" in error["message"]


def test_athena_is_asked_to_reuse_within_the_bound_the_api_gives(api_lake):
    """What the engine sends: ResultReuseByAgeConfiguration only with minutes, at most 7 days."""
    with recording_moto() as moto:
        settings = api_lake.settings.model_copy(update={"aws_endpoint_url": moto.endpoint})
        clients.aws_client(settings, "athena").create_work_group(
            Name=settings.athena_workgroup, Configuration={}
        )
        engine = AthenaEngine(settings, timeout=10)
        with moto.window("athena") as calls:
            engine.execute("SELECT 1", reuse_minutes=0)
            engine.execute("SELECT 1", reuse_minutes=5)
            engine.execute("SELECT 1", reuse_minutes=1_000_000)
            # Whether Athena's matching looks at execution parameters is not documented.
            engine.execute("SELECT ?", [1], reuse_minutes=5)
    sent = [c.body for c in calls if c.target == "StartQueryExecution"]
    assert [s.get("ResultReuseConfiguration") for s in sent] == [
        None,
        {"ResultReuseByAgeConfiguration": {"Enabled": True, "MaxAgeInMinutes": 5}},
        {"ResultReuseByAgeConfiguration": {"Enabled": True, "MaxAgeInMinutes": 10_080}},
        None,
    ]


def test_the_engines_own_reuse_never_reaches_back_before_the_last_change():
    now = time.time()
    # Unchanged for 10 min 35 s, queries up to 30 s: a result from the last 10 minutes.
    assert engine_reuse_minutes(3600, now - 635, query_timeout=30) == 10
    assert engine_reuse_minutes(300, now - 7200, query_timeout=30) == 5  # max_age bounds it
    assert engine_reuse_minutes(3600, now - 60, query_timeout=30) == 0  # under a minute
    assert engine_reuse_minutes(3600, now, query_timeout=30) == 0  # just seen (or restarted)
    assert engine_reuse_minutes(0, now - 86400, query_timeout=30) == 0  # max_age=0: never


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ("SELECT * FROM kafka_ing_logs", [("", "kafka_ing_logs")]),
        ("WITH t AS (SELECT * FROM a) SELECT * FROM t JOIN b ON true", [("", "a"), ("", "b")]),
        # A CTE named like the table it reads: the qualified table still counts.
        ("WITH t AS (SELECT * FROM cur.t) SELECT * FROM t", [("cur", "t")]),
        ("SELECT 1", []),
    ],
)
def test_the_tables_an_analysis_reads_are_found_through_its_ctes(sql, tables):
    assert tables_read(sqlglot.parse_one(sql, read="trino")) == tables


def test_a_table_whose_objects_cannot_be_listed_is_a_clear_502(api, reuse_lake):
    settings = reuse_lake.settings
    clients.aws_client(settings, "glue").create_table(
        DatabaseName=settings.glue_database,
        TableInput={
            "Name": "kafka_ing_nowhere",
            "StorageDescriptor": {
                "Columns": [{"Name": "url", "Type": "string"}],
                "Location": "s3://lakestream-no-such-bucket-here/kafka_ing_nowhere/",
                "SerdeInfo": {"SerializationLibrary": "org.openx.data.jsonserde.JsonSerDe"},
            },
            "PartitionKeys": [{"Name": "dt", "Type": "string"}],
        },
    )
    response = get(api, table="kafka_ing_nowhere")
    assert response.status_code == 502, response.content
    message = response.json()["error"]["message"]
    assert message == "the table's objects could not be listed in S3 (NoSuchBucket)"
