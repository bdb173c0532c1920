"""The query engines: Trino SQL with bound `?` parameters in, one result type out.

`LocalEngine` (DuckDB reading the lake from S3, tables resolved through the Glue catalog) and
`AthenaEngine` (PyAthena) are siblings behind `QueryEngine`; `make_engine` picks one.

DuckDB and its extension wheels belong to the laptop stack (the `local` extra), which is never
installed on AWS: `engines.local` is imported only when the local engine is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engines.athena import AthenaEngine
from engines.base import QueryEngine, QueryResult
from lakestream.core.errors import LOCAL_EXTRA, LakestreamError
from lakestream.core.settings import Settings

if TYPE_CHECKING:
    from engines.local import LocalEngine

ENGINES = ("local", "athena")


def make_engine(
    kind: str, settings: Settings, timeout: float, catalog_max_age: float = 0.0
) -> QueryEngine:
    """`catalog_max_age`: seconds a table's Glue description is reused (engines/tables.py)."""
    if kind == "athena":
        return AthenaEngine(settings, timeout, catalog_max_age)
    if kind == "local":
        return local_engine_class()(settings, timeout, catalog_max_age=catalog_max_age)
    raise ValueError(f"unknown engine {kind!r}: use {' or '.join(ENGINES)}")


def local_engine_class() -> type[LocalEngine]:
    try:
        from engines.local import LocalEngine
    except ModuleNotFoundError as exc:
        raise LakestreamError(
            f"the local engine needs DuckDB ({exc.name} is not installed): {LOCAL_EXTRA}"
        ) from None
    return LocalEngine


def __getattr__(name: str) -> Any:  # PEP 562: `from engines import LocalEngine` stays lazy
    if name == "LocalEngine":
        return local_engine_class()
    raise AttributeError(f"module 'engines' has no attribute {name!r}")


# LocalEngine is importable by name but left out of `*`: it needs the laptop stack.
__all__ = ["AthenaEngine", "QueryEngine", "QueryResult", "local_engine_class", "make_engine"]
