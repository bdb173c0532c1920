"""What every query engine offers, PyAthena-style: one protocol, one result type.

Two ways in. `execute` takes Trino SQL with `?` parameters, as text or as the statement already
parsed by sqlglot (a caller that parsed it hands the tree down instead of text to parse again).
`select` takes a `TableQuery`: one table read as the API asks for it, with the table already
resolved and the filter already checked, so the engine writes it in its own dialect with
nothing to look up or parse.

One way out: `QueryResult`, whose columns carry their types in the lake's vocabulary (Glue's:
`string`, `bigint`, `double`, `timestamp`, `decimal(10,2)` ...). Each engine has one converter
from its own types to those, and one formatter from Python values to the parameters it binds.
Both raise the query errors of `lakestream.core.errors` (BadSql, BadParameter, UnknownTable,
QueryTimeout, EngineFailure).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlglot import exp

from engines.quoting import quote_ident, quote_string
from engines.tables import GlueCatalog, TableInfo

Statement = str | exp.Expression  # Trino SQL, as text or parsed


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    engine: str = ""
    query_id: str = ""
    elapsed_ms: int = 0
    data_scanned_bytes: int | None = None  # what the engine reports; None if it reports nothing
    scanned_partitions: dict[str, list[str]] = field(default_factory=dict)
    column_types: list[str] = field(default_factory=list)  # the lake's type of each column
    reused: bool = False  # Athena answered from a previous execution's result (result reuse)


@dataclass(frozen=True)
class TableQuery:
    """`SELECT columns FROM table [FOR TIMESTAMP AS OF as_of] [WHERE where] [ORDER BY ...]
    LIMIT limit`, in parts. Every name is a column of `table` (checked by the caller); `where`
    is a condition over quoted column names with `?` placeholders for `params`, written in the
    grammar Trino and DuckDB share (athena_api/query/filters.py); `where_tree` is the same
    condition as parsed, with its literals, for partition pruning."""

    table: TableInfo
    database: str
    columns: list[str]
    limit: int
    where: str = ""
    params: list[Any] = field(default_factory=list)
    where_tree: exp.Expression | None = None
    order_by: list[tuple[str, str]] = field(default_factory=list)  # (column, ASC | DESC)
    as_of: datetime | None = None

    def clauses(self) -> str:
        """WHERE, ORDER BY and LIMIT, the same text in Trino and DuckDB."""
        text = f" WHERE {self.where}" if self.where else ""
        if self.order_by:
            text += " ORDER BY " + ", ".join(f"{quote_ident(c)} {d}" for c, d in self.order_by)
        return f"{text} LIMIT {int(self.limit)}"

    def trino_sql(self) -> str:
        """The query in Athena's dialect (time travel included)."""
        select = ", ".join(quote_ident(c) for c in self.columns)
        travel = (
            f" FOR TIMESTAMP AS OF TIMESTAMP {quote_string(self.as_of.isoformat(sep=' '))}"
            if self.as_of
            else ""
        )
        table = f"{quote_ident(self.database)}.{quote_ident(self.table.name)}"
        return f"SELECT {select} FROM {table}{travel}{self.clauses()}"  # noqa: S608 - quoted names


class GlueTables:
    """Tables as the Glue catalog describes them: both engines resolve names the same way."""

    catalog: GlueCatalog

    def table(self, name: str, database: str | None = None) -> TableInfo:
        return self.catalog.table(name, database)

    def tables(self, database: str | None = None) -> list[str]:
        return self.catalog.tables(database)


class QueryEngine(Protocol):
    name: str
    catalog: GlueCatalog  # the one reader of the catalog (and its cache) behind this engine

    # `reuse_minutes` > 0: the engine may answer with a result of its own at most that old
    # (Athena's ResultReuseConfiguration); the local engine always runs the query.
    def execute(
        self,
        sql: Statement,
        params: list[Any] | tuple[Any, ...] = (),
        database: str | None = None,
        reuse_minutes: int = 0,
    ) -> QueryResult: ...

    def select(self, query: TableQuery, reuse_minutes: int = 0) -> QueryResult: ...

    def table(self, name: str, database: str | None = None) -> TableInfo: ...

    def tables(self, database: str | None = None) -> list[str]: ...

    def ping(self) -> None: ...

    def close(self) -> None: ...
