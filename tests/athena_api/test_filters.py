"""The filter compiler's output means the same in DuckDB and in Athena (Trino): what each
engine would read differently is written so both read it alike, or refused."""

from __future__ import annotations

import duckdb
import pytest

from athena_api.query.filters import MAX_LITERAL_LENGTH, FilterError, compile_filter

COLUMNS = {"ts": "timestamp", "f": "float", "url": "string", "n": "bigint"}


def test_a_timestamp_with_an_offset_is_bound_as_utc():
    compiled = compile_filter("ts = '2024-01-01T02:00:00+02:00'", COLUMNS)
    assert compiled.params == ["2024-01-01 00:00:00"]
    assert compiled.sql == '"ts" = CAST(? AS TIMESTAMP)'


def test_a_real_column_is_compared_as_real_in_duckdb_too():
    compiled = compile_filter("f = 0.1", COLUMNS)
    assert compiled.sql == '"f" = CAST(? AS REAL)'
    with duckdb.connect() as con:
        con.execute("CREATE TABLE t AS SELECT 0.1::FLOAT AS f")
        [(rows,)] = con.execute(
            f"SELECT count(*) FROM t WHERE {compiled.sql}", compiled.params
        ).fetchall()
    assert rows == 1


def test_a_literal_longer_than_athena_takes_is_refused():
    with pytest.raises(FilterError, match=f"longer than {MAX_LITERAL_LENGTH} characters"):
        compile_filter(f"url = '{'x' * (MAX_LITERAL_LENGTH + 1)}'", COLUMNS)
    assert compile_filter(f"url = '{'x' * MAX_LITERAL_LENGTH}'", COLUMNS).params


def test_between_symmetric_is_refused_not_changed():
    with pytest.raises(FilterError, match="BETWEEN SYMMETRIC is not supported"):
        compile_filter("n BETWEEN SYMMETRIC 5 AND 1", COLUMNS)
