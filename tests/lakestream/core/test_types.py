"""The column-type table: every row agrees with itself, and with the engines that read it."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from lakestream.core import types
from lakestream.core.datasets import parse_catalog
from lakestream.core.errors import CatalogError
from lakestream.core.types import TYPES, column_type, duckdb_type

# A valid JSON value and the CSV cell that spells it, per type.
SAMPLES = {
    "string": ("PayPal", "PayPal"),
    "bigint": (404, "404"),
    "double": (12.5, "12.5"),
    "boolean": (True, "true"),
    "date": ("2024-10-01", "2024-10-01"),
    "timestamp": ("2024-10-01 12:30:00", "2024-10-01 12:30:00"),
}


def test_every_type_has_a_sample():
    assert set(SAMPLES) == set(TYPES)


@pytest.mark.parametrize("name", sorted(TYPES))
def test_a_row_agrees_with_itself(name):
    kind = TYPES[name]
    value, cell = SAMPLES[name]
    assert kind.check(value)
    assert not kind.check(kind.wrong_value), "fault injection must produce a real fault"
    assert kind.parse_csv(cell) == value
    arrow_value = pa.array([kind.to_arrow(value)], type=kind.arrow_type())
    assert arrow_value.null_count == 0
    bound = kind.bind(cell)
    cast = f"CAST(? AS {kind.sql_cast})" if kind.sql_cast else "?"
    got = duckdb.execute(f"SELECT CAST({cast} AS {kind.duckdb})", [bound]).fetchone()[0]
    assert got == arrow_value.to_pylist()[0]


@pytest.mark.parametrize(
    ("name", "text"),
    [("bigint", "12x"), ("bigint", str(2**63)), ("double", "nan"), ("boolean", "yes"),
     ("date", "2024-13-01"), ("timestamp", "yesterday")],
)  # fmt: skip
def test_bind_refuses_what_is_not_of_the_type(name, text):
    with pytest.raises(ValueError):  # noqa: PT011 - each type words its own reason
        TYPES[name].bind(text)


def test_checks_are_strict_about_json_types():
    assert not TYPES["bigint"].check(True)
    assert not TYPES["bigint"].check(1.5)
    assert TYPES["double"].check(3)
    assert not TYPES["date"].check("2024-02-30")
    assert not TYPES["timestamp"].check("2024-10-01")
    assert not TYPES["double"].check(float("inf"))
    assert not TYPES["double"].check(float("nan"))
    assert not TYPES["bigint"].check(2**63)
    assert TYPES["bigint"].check(-(2**63))


def test_the_date_check_remembers_only_texts_of_a_dates_length():
    check = TYPES["date"].check
    remembered = types._is_date_text.cache_info().currsize
    for _ in range(2):  # the second answers come from what the first remembered
        assert check("2024-10-01")
        assert not check("2024-02-30")
        assert not check("2024-10-01T00:00:00" + "x" * 100_000)
    assert types._is_date_text.cache_info().currsize <= remembered + 2


def test_glue_types_beyond_the_catalog():
    assert column_type("int") is TYPES["bigint"]
    assert column_type("decimal(10,2)") is TYPES["double"]
    assert column_type("struct<a:bigint>") is None
    assert duckdb_type("struct<a:bigint,b:array<string>>") == 'STRUCT("a" BIGINT, "b" VARCHAR[])'
    assert duckdb_type("timestamp") == "TIMESTAMP"
    assert duckdb_type("int") == "INTEGER"


def test_the_catalog_accepts_only_types_of_the_table():
    entry = {
        "topic": "t",
        "bucket": "bucket-one",
        "table": "t",
        "key_field": "k",
        "event_time_field": "d",
        "partitions": 1,
        "seed_file": "t.csv",
        "columns": [{"name": "k", "type": "string"}, {"name": "d", "type": "date"}],
    }
    assert parse_catalog({"version": 1, "datasets": {"one": entry}})
    entry["columns"][0]["type"] = "varchar"
    with pytest.raises(CatalogError, match="'varchar' is not a column type; known: string"):
        parse_catalog({"version": 1, "datasets": {"one": entry}})
