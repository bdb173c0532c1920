"""The API hands the engine what it resolved: the table is read from Glue once per request,
a table query is never parsed back from SQL text, and every column comes back typed by the
engine (no type guessed from the values)."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from athena_api.query import views
from athena_api.query.builder import build_query
from engines.local import LocalEngine
from engines.tables import GlueCatalog
from tests.athena_api.conftest import expected

pytestmark = pytest.mark.stack


@pytest.fixture
def glue_reads(monkeypatch):
    """Every table description read from Glue (the real reader, counted)."""
    reads: list[tuple[str, str]] = []
    real = GlueCatalog._read

    def counted(self, name, database):
        reads.append((database, name))
        return real(self, name, database)

    monkeypatch.setattr(GlueCatalog, "_read", counted)
    return reads


def test_a_query_reads_its_table_from_glue_once(api, settings, glue_reads):
    settings.LAKE = django_settings.LAKE.model_copy(update={"api_catalog_max_age": 0.0})
    response = api.get("/api/query-table/?table=kafka_ing_logs&limit=5&filter=status_code>=500")
    assert response.status_code == 200, response.content[:300]
    assert glue_reads == [(django_settings.LAKE.glue_database, "kafka_ing_logs")]


def test_the_api_and_the_engine_share_one_catalog_reader(api):
    assert views.catalog() is views.engine().catalog


def test_a_table_query_is_not_parsed_again(api, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the engine parsed SQL text")

    # The API parses the caller's filter (that is its check); the engine parses nothing.
    monkeypatch.setattr(LocalEngine, "_parse", refuse)
    frame = expected("web_logs")
    response = api.get(
        "/api/query-table/",
        {"table": "kafka_ing_logs", "limit": 1000, "filter": "status_code = 404 AND url LIKE '/%'"},
    )
    body = response.json()
    assert response.status_code == 200, body
    want = frame[(frame["status_code"] == 404) & frame["url"].str.startswith("/")]
    assert body["row_count"] == len(want) > 0
    assert {r["status_code"] for r in body["rows"]} == {404}


def test_a_table_query_lists_the_tables_objects_once(api):
    # DuckDB expands a read's S3 glob each time it binds it: a view made for the query, then
    # the query over it, listed the table twice. Every listing is a request to moto (or S3).
    table = views.lookup("kafka_ing_logs")
    engine = views.engine()
    result = engine.select(build_query(table, django_settings.LAKE.glue_database, 5))
    assert len(result.rows) == 5
    listings = engine._con.execute(
        "SELECT count(*) FROM duckdb_logs_parsed('HTTP') "
        "WHERE request.type = 'GET' AND request.url LIKE '%list-type=2%'"
    ).fetchone()[0]
    assert listings == 1


@pytest.mark.parametrize("relation", ["=", "<"])
def test_dt_filters_prune_partitions_of_a_table_query(api, relation):
    table = views.lookup("kafka_ing_logs")
    [day] = table.partitions
    query = build_query(
        table, django_settings.LAKE.glue_database, 10, filter_text=f"dt {relation} '{day}'"
    )
    result = views.engine().select(query)
    kept = [day] if relation == "=" else []
    assert result.scanned_partitions == {"kafka_ing_logs": kept}
    assert (len(result.rows) > 0) == bool(kept)


def test_columns_are_typed_by_the_engine(api):
    body = api.get("/api/query-table/?table=kafka_ing_transactions&limit=3").json()
    assert {"name": "amount", "type": "double"} in body["columns"]
    assert {"name": "dt", "type": "string"} in body["columns"]
    analysis = api.get("/api/analyses/social_engagement/?limit=3").json()
    types = {c["name"]: c["type"] for c in analysis["columns"]}
    # SUM over bigint is bigint in Athena; DuckDB's HUGEINT is reported as Athena would.
    assert types["likes"] == "bigint"
    assert types["user"] == "string"


def test_an_empty_result_is_still_typed(api):
    body = api.get(
        "/api/query-table/",
        {"table": "kafka_ing_logs", "filter": "status_code = 999", "columns": "url,status_code"},
    ).json()
    assert body["row_count"] == 0
    assert body["columns"] == [
        {"name": "url", "type": "string"},
        {"name": "status_code", "type": "bigint"},
    ]


def test_an_analysis_is_parsed_once_and_the_engine_leaves_its_tree_as_it_was(api, monkeypatch):
    from athena_api.query import analyses

    analyses.statement.cache_clear()
    parsed: list[str] = []
    real = analyses.with_limit

    def counted(sql, limit):
        parsed.append(sql)
        return real(sql, limit)

    monkeypatch.setattr(analyses, "with_limit", counted)
    path = "/api/analyses/sales_by_product_and_payment/?limit=7"
    first = api.get(path + "&max_age=0")  # run by the engine, which gets the cached tree
    second = api.get(path + "&max_age=0")
    assert first.status_code == second.status_code == 200, first.content[:300]
    assert first.json()["rows"] == second.json()["rows"] != []
    assert len(parsed) == 1
    kept = analyses.statement(parsed[0], 7)
    assert kept.tree.sql(dialect="trino") == kept.trino == real(parsed[0], 7).sql(dialect="trino")
    assert kept.tables == tuple(analyses.tables_read(kept.tree))
