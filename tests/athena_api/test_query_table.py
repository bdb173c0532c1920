"""GET /api/query-table/ and friends against the local engine on a real landed lake."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings

from athena_api.query import views
from engines.tables import GlueCatalog
from lakestream.core.errors import EngineFailure, QueryTimeout
from tests.athena_api.conftest import N, expected

pytestmark = pytest.mark.stack


def get(api, path="/api/query-table/", **params):
    return api.get(f"{path}?{urlencode(params)}" if params else path)


def test_original_design_request(api):
    response = get(api, table="kafka_ing_social_data", limit="10")
    assert response.status_code == 200
    body = response.json()
    assert body["table"] == "kafka_ing_social_data"
    assert body["row_count"] == 10
    assert len(body["rows"]) == 10
    assert body["engine"] == "local"
    assert {"name": "likes", "type": "bigint"} in body["columns"]
    row = body["rows"][0]
    assert isinstance(row["likes"], int)
    assert isinstance(row["user"], str)
    assert set(body) == {
        "table",
        "columns",
        "rows",
        "row_count",
        "query_id",
        "engine",
        "elapsed_ms",
        "data_scanned_bytes",
        "reused",
        "age_s",
    }


def test_default_and_maximum_limit(api, settings):
    assert get(api, table="kafka_ing_logs").json()["row_count"] == 10
    settings.API_MAX_LIMIT = 50
    response = get(api, table="kafka_ing_logs", limit="51")
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "limit"


@pytest.mark.parametrize(
    ("table", "filter_text", "mask"),
    [
        ("kafka_ing_social_data", "user='{user}'", lambda df, v: df["user"] == v["user"]),
        ("kafka_ing_logs", "status_code >= 500", lambda df, v: df["status_code"] >= 500),
        (
            "kafka_ing_logs",
            "status_code IN (404, 500) AND url LIKE '/products/%'",
            lambda df, v: (
                df["status_code"].isin([404, 500]) & df["url"].str.startswith("/products/")
            ),
        ),
        (
            "kafka_ing_transactions",
            "NOT (paymentmethod = 'PayPal' OR amount < 50) AND product <> 'WidgetX'",
            lambda df, v: (
                ~((df["paymentmethod"] == "PayPal") | (df["amount"] < 50))
                & (df["product"] != "WidgetX")
            ),
        ),
        (
            "kafka_ing_ad_campaigns",
            "budget BETWEEN 1000 AND 5000 AND start_date >= '2024-10-05'",
            lambda df, v: df["budget"].between(1000, 5000) & (df["start_date"] >= "2024-10-05"),
        ),
        ("kafka_ing_ad_campaigns", "hashtag IS NOT NULL", lambda df, v: df["hashtag"].notna()),
    ],
)
def test_filter_results_equal_pandas(api, table, filter_text, mask):
    dataset = {
        "kafka_ing_social_data": "social_posts",
        "kafka_ing_logs": "web_logs",
        "kafka_ing_transactions": "transactions",
        "kafka_ing_ad_campaigns": "ad_campaigns",
    }[table]
    df = expected(dataset)
    values = {"user": df["user"].iloc[0]} if "user" in df else {}
    response = get(
        api,
        table=table,
        filter=filter_text.format(**values),
        limit="1000",
        columns="kafka_offset,kafka_partition",
    )
    assert response.status_code == 200, response.json()
    got = sorted((r["kafka_partition"], r["kafka_offset"]) for r in response.json()["rows"])
    want_count = int(mask(df, values).sum())
    assert len(got) == want_count
    assert len(set(got)) == want_count
    assert 0 < want_count < N or filter_text == "hashtag IS NOT NULL"


def test_columns_and_order_by(api):
    response = get(
        api,
        table="kafka_ing_transactions",
        columns="product, amount",
        order_by="amount desc, product",
        limit="25",
    )
    assert response.status_code == 200
    body = response.json()
    assert [c["name"] for c in body["columns"]] == ["product", "amount"]
    amounts = [r["amount"] for r in body["rows"]]
    assert amounts == sorted(amounts, reverse=True)
    assert amounts[0] == expected("transactions")["amount"].max()


def test_athena_result_set_format(api):
    body = get(
        api,
        table="kafka_ing_ad_campaigns",
        limit="2",
        columns="campaign_id,clicks",
        format="athena",
    ).json()
    rows = body["ResultSet"]["Rows"]
    assert rows[0] == {"Data": [{"VarCharValue": "campaign_id"}, {"VarCharValue": "clicks"}]}
    assert len(rows) == 3
    assert body["ResultSet"]["ResultSetMetadata"]["ColumnInfo"][1] == {
        "Name": "clicks",
        "Type": "bigint",
    }


def test_unknown_table_is_404(api):
    response = get(api, table="kafka_ing_nothing")
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "status": 404,
            "code": "unknown_table",
            "param": "table",
            "message": "no table 'kafka_ing_nothing' in the Glue database "
            f"'{views.settings.LAKE.glue_database}'",
        }
    }


class _Engine:
    """Resolves the table through the real catalog, then fails as an engine would."""

    def __init__(self, exc: Exception) -> None:
        self.exc = exc
        self.catalog = GlueCatalog(django_settings.LAKE)

    def select(self, query, reuse_minutes=0):
        raise self.exc


@pytest.mark.parametrize(
    ("exc", "status", "code"),
    [
        (QueryTimeout("slow"), 504, "timeout"),
        (EngineFailure("Athena could not run the query"), 502, "engine_failure"),
    ],
)
def test_engine_timeout_and_failure_statuses(api, monkeypatch, exc, status, code):
    monkeypatch.setattr(views, "engine", lambda: _Engine(exc))
    response = get(api, table="kafka_ing_logs")
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert "SELECT" not in error["message"]
    assert "Traceback" not in response.content.decode()


def test_api_key_when_configured(api, settings):
    settings.API_KEY = "s3cret-key"
    assert get(api, table="kafka_ing_logs").status_code == 401
    assert (
        api.get("/api/query-table/?table=kafka_ing_logs", HTTP_X_API_KEY="wrong").status_code == 401
    )
    ok = api.get("/api/query-table/?table=kafka_ing_logs", HTTP_X_API_KEY="s3cret-key")
    assert ok.status_code == 200
    assert api.get("/api/health/").status_code == 200  # health stays open for load balancers


def test_per_client_throttling(api, monkeypatch):
    from django.core.cache import cache

    from athena_api.query.auth import ClientRateThrottle

    cache.clear()
    monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", {"client": "3/min"})
    statuses = [get(api, path="/api/tables/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert get(api, path="/api/tables/").json()["error"]["code"] == "throttled"
    cache.clear()


def test_tables_detail_and_health(api, api_lake):
    tables = get(api, path="/api/tables/").json()
    assert {t["name"] for t in tables["tables"]} == {ds.table for ds in api_lake.datasets}
    detail = get(api, path="/api/tables/kafka_ing_logs/").json()
    assert detail["format"] == "json"
    assert {"name": "status_code", "type": "bigint"} in detail["columns"]
    assert detail["partitions"] == ["2024-10-01"]
    assert get(api, path="/api/tables/nope/").status_code == 404
    health = get(api, path="/api/health/")
    assert health.status_code == 200
    assert health.json()["checks"] == {"catalog": "ok", "engine": "ok"}


def test_unknown_endpoint_is_json_404(api):
    response = api.get("/api/nothing/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
