"""The query engines: Trino SQL with bound `?` parameters in, one result type out.

`LocalEngine` (DuckDB reading the lake from S3, tables resolved through the Glue catalog) and
`AthenaEngine` (PyAthena) are siblings behind `QueryEngine`; `make_engine` picks one.
"""

from __future__ import annotations

from engines.athena import AthenaEngine
from engines.base import QueryEngine, QueryResult
from engines.local import LocalEngine
from lakestream.core.settings import Settings

ENGINES = ("local", "athena")


def make_engine(
    kind: str, settings: Settings, timeout: float, catalog_max_age: float = 0.0
) -> QueryEngine:
    """`catalog_max_age`: seconds a table's Glue description is reused (engines/tables.py)."""
    if kind == "athena":
        return AthenaEngine(settings, timeout, catalog_max_age)
    if kind == "local":
        return LocalEngine(settings, timeout, catalog_max_age=catalog_max_age)
    raise ValueError(f"unknown engine {kind!r}: use {' or '.join(ENGINES)}")


__all__ = ["AthenaEngine", "LocalEngine", "QueryEngine", "QueryResult", "make_engine"]
