"""Each engine's converter: its own result types in the lake's (Glue's) vocabulary, as Athena
would type the same result."""

from __future__ import annotations

import duckdb
import pytest

from engines.athena import lake_type as athena_lake_type
from engines.local import lake_type as duckdb_lake_type


@pytest.mark.parametrize(
    ("expression", "lake"),
    [
        ("'x'", "string"),
        ("1::BIGINT", "bigint"),
        ("1::INTEGER", "int"),
        ("1.5::DOUBLE", "double"),
        ("true", "boolean"),
        ("DATE '2024-10-01'", "date"),
        ("TIMESTAMP '2024-10-01 10:00:00.123'", "timestamp"),
        ("1.25::DECIMAL(10,2)", "decimal(10,2)"),
        ("SUM(x) FROM (SELECT 1::BIGINT AS x)", "bigint"),  # HUGEINT in DuckDB, bigint in Athena
        ("[1::BIGINT, 2]", "array<bigint>"),
        ("{'a': 1::BIGINT, 'b': 'z'}", "struct<a:bigint,b:string>"),
        ("MAP(['k'], [1.5::DOUBLE])", "map<string,double>"),
    ],
)
def test_duckdb_types_in_the_lake_vocabulary(expression, lake):
    with duckdb.connect() as con:
        [(_, duck, *_)] = con.execute(f"SELECT {expression} AS v").description
    assert duckdb_lake_type(duck) == lake


@pytest.mark.parametrize(
    ("athena", "precision", "scale", "lake"),
    [
        ("varchar", 2147483647, 0, "string"),
        ("bigint", 19, 0, "bigint"),
        ("integer", 10, 0, "int"),
        ("double", 17, 0, "double"),
        ("real", 24, 0, "float"),
        ("decimal", 10, 2, "decimal(10,2)"),
        ("timestamp", 3, 0, "timestamp"),
        ("date", 0, 0, "date"),
        ("boolean", 0, 0, "boolean"),
    ],
)
def test_athena_types_in_the_lake_vocabulary(athena, precision, scale, lake):
    # PyAthena's description entry: name, type, display size, internal size, precision, scale,
    # nullable (from Athena's ResultSetMetadata.ColumnInfo).
    assert athena_lake_type(("v", athena, None, None, precision, scale, "UNKNOWN")) == lake
