"""What every query engine offers, PyAthena-style: one protocol, one result type.

Both engines take Trino SQL with `?` parameters and raise the query errors of
`lakestream.core.errors` (BadSql, BadParameter, UnknownTable, QueryTimeout, EngineFailure).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from engines.tables import GlueCatalog, TableInfo


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    engine: str = ""
    query_id: str = ""
    elapsed_ms: int = 0
    data_scanned_bytes: int | None = None  # what the engine reports; None if it reports nothing
    scanned_partitions: dict[str, list[str]] = field(default_factory=dict)
    engine_sql: str = ""


class GlueTables:
    """Tables as the Glue catalog describes them: both engines resolve names the same way."""

    catalog: GlueCatalog

    def table(self, name: str, database: str | None = None) -> TableInfo:
        return self.catalog.table(name, database)

    def tables(self, database: str | None = None) -> list[str]:
        return self.catalog.tables(database)


class QueryEngine(Protocol):
    name: str

    def execute(
        self, sql: str, params: list[Any] | tuple[Any, ...] = (), database: str | None = None
    ) -> QueryResult: ...

    def table(self, name: str, database: str | None = None) -> TableInfo: ...

    def tables(self) -> list[str]: ...

    def ping(self) -> None: ...

    def close(self) -> None: ...
