"""GET /api/analyses/ and /api/analyses/<name>/ against the local engine on a real landed lake:
the saved .sql files as endpoints, every parameter parsed by its declared type and bound."""

from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
import pytest

from athena_api.query import views
from athena_api.query.analyses import with_limit
from glue.queries import saved_queries
from tests.athena_api.conftest import expected

pytestmark = pytest.mark.stack


def get(api, name: str | None = None, **params):
    path = f"/api/analyses/{name}/" if name else "/api/analyses/"
    return api.get(f"{path}?{urlencode(params)}" if params else path)


def sales(body: dict) -> dict[tuple[str, str], tuple[int, float]]:
    return {
        (r["product"], r["payment_method"]): (r["transactions"], r["revenue"]) for r in body["rows"]
    }


def pandas_sales(df: pd.DataFrame) -> dict[tuple[str, str], tuple[int, float]]:
    grouped = df.groupby(["product", "paymentmethod"])["amount"].agg(["size", "sum"])
    return {k: (int(n), round(float(s), 2)) for k, (n, s) in grouped.iterrows()}


def test_the_list_describes_each_saved_analysis_from_its_file(api):
    response = get(api)
    assert response.status_code == 200
    listed = {a["name"]: a for a in response.json()["analyses"]}
    assert set(listed) == set(saved_queries())
    sales_entry = listed["sales_by_product_and_payment"]
    assert sales_entry["description"].startswith("Sales by product and payment method")
    assert sales_entry["url"] == "/api/analyses/sales_by_product_and_payment/"
    assert [(p["name"], p["type"], p["default"]) for p in sales_entry["parameters"]] == [
        ("from", "date", "1970-01-01"),
        ("to", "date", "9999-12-31"),
    ]


@pytest.mark.parametrize("layer", ["raw", "curated"])
def test_an_analysis_over_a_date_range_equals_pandas_on_both_layers(api, layer):
    df = expected("transactions")
    days = sorted(df["transactiondate"].unique())
    first, last = days[0], days[len(days) // 2]
    window = df[(df["transactiondate"] >= first) & (df["transactiondate"] <= last)]
    assert 0 < len(window) <= len(df)
    response = get(api, "sales_by_product_and_payment", layer=layer, **{"from": first, "to": last})
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert body["analysis"] == "sales_by_product_and_payment"
    assert body["layer"] == layer
    assert body["parameters"] == {"from": first, "to": last}
    got, want = sales(body), pandas_sales(window)
    assert got.keys() == want.keys()
    for key, (count, revenue) in want.items():
        assert got[key][0] == count
        assert abs(got[key][1] - revenue) < 0.011
    revenues = [r["revenue"] for r in body["rows"]]
    assert revenues == sorted(revenues, reverse=True)  # the file's ORDER BY holds


def test_limit_keeps_the_top_rows_and_format_athena_gives_a_result_set(api):
    full = get(api, "social_engagement").json()
    top = get(api, "social_engagement", limit="3").json()
    assert top["row_count"] == 3
    assert top["rows"] == full["rows"][:3]
    assert top["columns"] == [
        {"name": "user", "type": "string"},
        {"name": "posts", "type": "bigint"},
        {"name": "likes", "type": "bigint"},
        {"name": "retweets", "type": "bigint"},
    ]
    athena = get(api, "social_engagement", limit="3", format="athena").json()
    rows = athena["ResultSet"]["Rows"]
    assert [c["VarCharValue"] for c in rows[0]["Data"]] == ["user", "posts", "likes", "retweets"]
    assert rows[1]["Data"][0]["VarCharValue"] == full["rows"][0]["user"]
    assert len(rows) == 4


class _NeverCalled:
    def execute(self, *args, **kwargs):  # pragma: no cover - reaching it fails the test
        raise AssertionError(f"the engine was called with {args!r}")


@pytest.mark.parametrize(
    ("params", "param", "message"),
    [
        ({"from": "yesterday"}, "from", "from must be a date, e.g. 2024-10-01"),
        ({"to": "2024-13-45"}, "to", "to must be a date"),
        ({"from": "2024-01-01' OR 1=1 --"}, "from", "from must be a date"),
        ({"from": "2024-01-01; DROP TABLE x"}, "from", "from must be a date"),
        ({"from": "2024-01-01T00:00:00"}, "from", "from must be a date"),
        ({"from": "x" * 5000}, "from", "from must be a date"),
        ({"limit": "0"}, "limit", "limit must be"),
        ({"limit": "-1"}, "limit", "limit must be"),
        ({"limit": "1e9"}, "limit", "limit must be"),
        ({"layer": "gold"}, "layer", "layer must be raw or curated"),
        ({"format": "csv"}, "format", "format must be json or athena"),
        ({"sql": "SELECT 1"}, "sql", "unknown parameter 'sql'"),
        ({"table": "kafka_ing_logs"}, "table", "unknown parameter 'table'"),
    ],
)
def test_hostile_values_are_refused_before_the_engine(api, monkeypatch, params, param, message):
    monkeypatch.setattr(views, "engine", lambda: _NeverCalled())
    response = get(api, "web_errors", **params)
    assert response.status_code == 400, response.content[:300]
    error = response.json()["error"]
    assert error["param"] == param
    assert message in error["message"]


@pytest.mark.parametrize("name", ["nope", "..", "web_errors;drop", "x" * 300])
def test_an_unknown_analysis_is_a_json_404_naming_the_known_ones(api, name):
    response = api.get(f"/api/analyses/{name}/")
    assert response.status_code == 404
    message = response.json()["error"]["message"]
    assert "web_errors" in message or "not found" in message.lower()
    assert "Traceback" not in response.content.decode()


@pytest.mark.parametrize(
    ("sql", "limit", "expected"),
    [
        ("SELECT a FROM t ORDER BY a", 10, "SELECT a FROM t ORDER BY a LIMIT 10"),
        ("SELECT a FROM t ORDER BY a LIMIT 5", 10, "SELECT a FROM t ORDER BY a LIMIT 5"),
        ("SELECT a FROM t ORDER BY a LIMIT 50", 10, "SELECT a FROM t ORDER BY a LIMIT 10"),
        ("-- note\nSELECT a FROM t", 3, "SELECT a FROM t LIMIT 3"),
    ],
)
def test_limit_goes_on_the_analysis_own_select_and_never_raises_its_own(sql, limit, expected):
    assert with_limit(sql, limit).sql(dialect="trino", comments=False) == expected


def test_a_new_query_file_is_a_new_endpoint(api, tmp_path, monkeypatch):
    text = (
        "-- Revenue per payment method.\n"
        "-- @param min_amount double = 0: smallest amount counted\n"
        "SELECT paymentmethod, ROUND(SUM(amount), 2) AS revenue FROM kafka_ing_transactions\n"
        "WHERE amount >= CAST(? AS DOUBLE) GROUP BY paymentmethod ORDER BY paymentmethod\n"
    )
    (tmp_path / "revenue_by_payment.sql").write_text(text)
    monkeypatch.setattr("glue.queries.QUERIES_DIR", tmp_path)
    listed = [a["name"] for a in get(api).json()["analyses"]]
    assert listed == ["revenue_by_payment"]
    body = get(api, "revenue_by_payment", min_amount="100").json()
    df = expected("transactions")
    want = df[df["amount"] >= 100].groupby("paymentmethod")["amount"].sum().round(2)
    assert {r["paymentmethod"]: r["revenue"] for r in body["rows"]} == pytest.approx(
        want.to_dict(), abs=0.011
    )


@pytest.mark.parametrize(
    "path", ["/api/analyses/", "/api/analyses/web_errors/", "/api/analyses/nope/", "/api/stats/"]
)
def test_the_new_endpoints_need_the_api_key_and_are_throttled(api, settings, monkeypatch, path):
    from django.core.cache import cache

    from athena_api.query.auth import ClientRateThrottle

    settings.API_KEY = "s3cret-key"
    assert api.get(path).status_code == 401
    assert api.get(path, HTTP_X_API_KEY="wrong").status_code == 401
    cache.clear()
    monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", {"client": "1/min"})
    api.get(path, HTTP_X_API_KEY="s3cret-key")
    throttled = api.get(path, HTTP_X_API_KEY="s3cret-key")
    assert throttled.status_code == 429
    assert throttled.json()["error"]["code"] == "throttled"
    cache.clear()
