"""A corpus of hostile and malformed inputs: all refused with 400/404, the engine never called."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.conf import settings

from athena_api.query import views
from engines.tables import GlueCatalog

pytestmark = pytest.mark.stack

T = "kafka_ing_logs"

HOSTILE_FILTERS = [
    "url='/' ; DROP TABLE kafka_ing_logs",
    "url='/'; SELECT * FROM kafka_ing_transactions",
    "url='/' UNION SELECT * FROM kafka_ing_transactions",
    "url='/' UNION ALL SELECT 1,2,3,4",
    "url IN (SELECT url FROM kafka_ing_logs)",
    "url = (SELECT max(url) FROM kafka_ing_logs)",
    "EXISTS (SELECT 1)",
    "url='/' OR 1=1",
    "1=1",
    "'a'='a'",
    "url=url",
    "status_code = status_code + 1",
    "lower(url)='/'",
    "url=lower('/')",
    "regexp_like(url, '.*')",
    "url LIKE concat('%', '/')",
    "length(url) > 3",
    "cast(status_code AS varchar)='200'",
    "try_cast(url AS bigint) = 1",
    "current_user = 'x'",
    "url = current_user",
    "url = now()",
    "status_code = random()",
    "sleep(10) = 1",
    "url IN ()",
    "status_code = 'abc'",
    "status_code = 1.5.5",
    "timestamp = 'yesterday'",
    "timestamp > 'not a time'",
    "url LIKE status_code",
    "status_code LIKE '5%'",
    "url LIKE '%' ESCAPE '!'",
    "url IS 'x'",
    "url",
    "NOT url",
    "status_code",
    "(",
    ")",
    "url='",
    "url='/''",
    'url="/"',
    "url='/' --",
    "url='/' /* comment */ OR status_code=1 /*",
    "/* */ DROP TABLE x",
    "DROP TABLE kafka_ing_logs",
    "DELETE FROM kafka_ing_logs",
    "INSERT INTO kafka_ing_logs VALUES (1)",
    "UPDATE kafka_ing_logs SET url='x'",
    "CREATE TABLE x AS SELECT 1",
    "ALTER TABLE kafka_ing_logs ADD COLUMNS (x int)",
    "GRANT ALL ON kafka_ing_logs TO x",
    "SHOW TABLES",
    "DESCRIBE kafka_ing_logs",
    "EXPLAIN SELECT 1",
    "CALL system.sync_partition_metadata()",
    "SET SESSION x = 1",
    "USE other_db",
    "kafka_ing_logs.url = '/'",
    "kafka_ing.kafka_ing_logs.url = '/'",
    "nope = 'x'",
    "\"url\" = 'x' AND \"nope\" = 'y'",
    "url = 'x' AND (status_code = 1",
    "url = 'x' AND status_code = 1)",
    "url ='x' AND AND status_code=1",
    "url = x'00'",
    "url = X'414243'",
    "url = ARRAY['a']",
    "url = ROW(1)",
    "url = MAP(ARRAY['a'], ARRAY[1])",
    "url = (1, 2)",
    "url = $$x$$",
    "url = E'\\x41'",
    "url = U&'\\0041'",
    "url = '\u0000'",
    "url = 'a'\u0000",
    "url \u037e DROP TABLE x",
    "url ＝ '/'",
    "ｕｒｌ = '/'",
    "url = '/' ; ",
    "; url = '/'",
    "url = '/' GO DROP TABLE x",
    "url = CASE WHEN 1=1 THEN '/' END",
    "url = IF(true, '/', 'x')",
    "url = COALESCE(NULL, '/')",
    "url BETWEEN status_code AND 3",
    "status_code BETWEEN 'a' AND 'b'",
    "url = ?",
    "url = :name",
    "url = @var",
    "url = ${x}",
    "status_code = 1e999999",
    "status_code = 99999999999999999999999999999",
    "url " + "OR url = 'x' " * 400,
    "(" * 500 + "url='x'" + ")" * 500,
    "url IN (" + ",".join(["'x'"] * 600) + ")",
    "x" * 5000,
    "url = '" + "a" * 3000 + "'",
]

HOSTILE_TABLES = [
    "kafka_ing_logs; DROP TABLE x",
    "kafka_ing_logs--",
    "kafka_ing.kafka_ing_logs",
    "information_schema.tables",
    '"kafka_ing_logs"',
    "kafka_ing_logs UNION SELECT 1",
    "../etc/passwd",
    "read_csv('/etc/passwd')",
    "",
    " ",
    "ｋａｆｋａ",
    "kafka_ing_logs\u0000",
    "a" * 500,
    "1table",
    "nope_table",
]

HOSTILE_LIMITS = [
    "-1",
    "0",
    "1.5",
    "1e3",
    "abc",
    "10; DROP",
    "10 OFFSET 5",
    "99999999999",
    "0x10",
    "",
    " 5",
    "10)",
]

HOSTILE_COLUMNS = [
    "url; DROP TABLE x",
    "*",
    "count(*)",
    "url,",
    "url, nope",
    '"url"',
    "url AS x",
    "(SELECT 1)",
    "x" * 3000,
    "url--",
]

HOSTILE_MAX_AGES = ["-1", "1.5", "abc", "604801", "1e9", "0x10", "NaN", "9" * 3000, "1; DROP"]

HOSTILE_ORDER = [
    "url; DROP",
    "url asc desc",
    "random()",
    "1",
    "url DESC NULLS FIRST",
    "nope",
    "url, (SELECT 1)",
    "url asc,",
    "x" * 3000,
]


def _cases() -> list[tuple[str, dict[str, str], set[int]]]:
    cases = [("filter", {"table": T, "filter": f}, {400}) for f in HOSTILE_FILTERS]
    cases += [("table", {"table": t}, {400, 404}) for t in HOSTILE_TABLES]
    cases += [("limit", {"table": T, "limit": v}, {400}) for v in HOSTILE_LIMITS if v != ""]
    cases += [("columns", {"table": T, "columns": c}, {400}) for c in HOSTILE_COLUMNS]
    cases += [("order_by", {"table": T, "order_by": o}, {400}) for o in HOSTILE_ORDER]
    cases += [("max_age", {"table": T, "max_age": m}, {400}) for m in HOSTILE_MAX_AGES]
    cases += [
        ("extra", {"table": T, "sql": "SELECT 1"}, {400}),
        ("format", {"table": T, "format": "csv"}, {400}),
    ]
    return cases


CASES = _cases()


def test_corpus_is_big_enough():
    assert len(CASES) >= 100


class _NeverRuns:
    """Resolves tables through the real catalog, as the engine does; running anything fails."""

    def __init__(self, catalog: GlueCatalog) -> None:
        self.catalog = catalog

    def execute(self, sql, *args, **kwargs):  # pragma: no cover - reaching it fails the test
        raise AssertionError(f"the engine was called with {sql!r}")

    def select(self, query, *args):  # pragma: no cover - reaching it fails the test
        raise AssertionError(f"the engine was called with {query.trino_sql()!r}")


@pytest.mark.parametrize(
    ("param", "query", "statuses"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_hostile_input_is_refused_before_the_engine(api, monkeypatch, param, query, statuses):
    never = _NeverRuns(GlueCatalog(settings.LAKE))
    monkeypatch.setattr(views, "engine", lambda: never)
    response = api.get(f"/api/query-table/?{urlencode(query)}")
    assert response.status_code in statuses, response.content[:300]
    error = response.json()["error"]
    assert error["status"] == response.status_code
    assert error["message"]
    text = response.content.decode()
    assert "Traceback" not in text
    assert "SECRET" not in text.upper() or "secret" not in error["message"]
    if response.status_code == 400 and param in (
        "filter",
        "columns",
        "order_by",
        "limit",
        "max_age",
    ):
        assert error["param"] == param
