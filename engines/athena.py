"""The Athena engine (PyAthena): the same Trino SQL and `?` parameters, run by Athena.

The formatter (`athena_literal`): Athena wants each execution parameter as an SQL literal
string (strings in single quotes with ' doubled). The converter (`lake_type`): Athena's result
types (ResultSetMetadata, as PyAthena's description gives them) in the lake's vocabulary; the
values themselves are converted by PyAthena's own converter. Tables are resolved through the
same Glue catalog reader as the local engine.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from engines.base import GlueTables, QueryResult, Statement, TableQuery
from engines.quoting import quote_string
from engines.tables import GlueCatalog
from lakestream.core.errors import EngineFailure, QueryTimeout
from lakestream.core.settings import MAX_RESULT_AGE_S, Settings


def athena_literal(value: Any) -> str:
    """An Athena execution parameter: the value written as an SQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return quote_string(str(value))


# Athena's result type names where the lake (Glue) spells them differently.
LAKE_TYPES = {"varchar": "string", "char": "string", "integer": "int", "real": "float",
              "varbinary": "binary",
              "row": "struct", "json": "string"}  # fmt: skip


def lake_type(column: Sequence[Any]) -> str:
    """The converter: a PyAthena description entry (name, type, _, _, precision, scale, _) as
    the lake's type name."""
    kind = str(column[1]).lower()
    if kind == "decimal":
        return f"decimal({column[4]},{column[5]})"
    return LAKE_TYPES.get(kind, kind)


MAX_REUSE_MINUTES = MAX_RESULT_AGE_S // 60  # Athena's bound: 10,080 minutes


class AthenaEngine(GlueTables):
    name = "athena"

    def __init__(self, settings: Settings, timeout: float, catalog_max_age: float = 0.0) -> None:
        self.settings = settings
        self.timeout = timeout
        self.catalog = GlueCatalog(settings, catalog_max_age)

    def _connect(self, database: str | None = None) -> Any:
        from pyathena import connect  # PyAthena loads pandas/fsspec helpers: only when used

        s = self.settings
        kwargs: dict[str, Any] = {
            "s3_staging_dir": s.athena_output_location,
            "region_name": s.aws_region,
            "work_group": s.athena_workgroup,
            "schema_name": database or s.glue_database,
            "poll_interval": 0.5,
        }
        if s.aws_endpoint_url:
            kwargs["endpoint_url"] = s.aws_endpoint_url
        if s.aws_access_key_id:
            kwargs["aws_access_key_id"] = s.aws_access_key_id
        if s.aws_secret_access_key:
            kwargs["aws_secret_access_key"] = s.aws_secret_access_key.get_secret_value()
        if s.aws_session_token:  # temporary credentials (SSO, an assumed role) need it
            kwargs["aws_session_token"] = s.aws_session_token.get_secret_value()
        return connect(**kwargs)

    def select(self, query: TableQuery, reuse_minutes: int = 0) -> QueryResult:
        """One table read: its Trino text, the API's table as it resolved it."""
        return self.execute(query.trino_sql(), query.params, query.database, reuse_minutes)

    def execute(
        self,
        sql: Statement,
        params: Sequence[Any] = (),
        database: str | None = None,
        reuse_minutes: int = 0,
    ) -> QueryResult:
        """Run `sql`; unqualified tables are looked up in `database` (default: the raw one).

        `reuse_minutes` > 0 lets Athena answer with the result of an identical query of this
        workgroup at most that old (ResultReuseByAgeConfiguration, 1 to 10,080 minutes), for a
        query without parameters; Athena does not look at the data, so the caller bounds the
        age by the data's last change.
        A query still running after the timeout is stopped (StopQueryExecution), so it stops
        costing money, and the error says so."""
        from pyathena.async_cursor import AsyncCursor
        from pyathena.error import DatabaseError, OperationalError

        started = time.perf_counter()
        if not isinstance(sql, str):
            sql = sql.sql(dialect="trino", comments=False)
        cursor = self._connect(database).cursor(AsyncCursor)
        try:
            # AWS documents reuse as matching on the query string; whether execution parameters
            # take part is not written down, so a query with `?` values is never reused.
            reuse = 0 if params else min(int(reuse_minutes), MAX_REUSE_MINUTES)
            query_id, future = cursor.execute(
                sql,
                [athena_literal(p) for p in params] or None,
                paramstyle="qmark",
                **(
                    {"result_reuse_enable": True, "result_reuse_minutes": reuse}
                    if reuse > 0
                    else {}
                ),
            )
            try:
                result_set = future.result(timeout=self.timeout)
            except FutureTimeout:
                cursor.cancel(query_id).result(timeout=30)
                raise QueryTimeout(
                    f"the query ran longer than {self.timeout:.0f}s: Athena query {query_id} "
                    "was stopped"
                ) from None
            state = result_set.state
            if state != "SUCCEEDED":
                reason = result_set.state_change_reason or state
                raise EngineFailure(f"Athena could not run the query ({reason})"[:300])
            rows = result_set.fetchall()
        except OperationalError as exc:
            if "timeout" in str(exc).lower() or "cancel" in str(exc).lower():
                raise QueryTimeout("Athena did not finish in time") from None
            raise EngineFailure("Athena could not run the query") from None
        except DatabaseError:
            raise EngineFailure("Athena could not run the query") from None
        finally:
            cursor.close()
        description = result_set.description or []
        return QueryResult(
            [d[0] for d in description],
            [tuple(r) for r in rows],
            engine=self.name,
            query_id=query_id,
            elapsed_ms=int((time.perf_counter() - started) * 1000),
            data_scanned_bytes=result_set.data_scanned_in_bytes,
            column_types=[lake_type(d) for d in description],
            reused=bool(result_set.reused_previous_result),
        )

    def ping(self) -> None:
        self._connect().cursor().execute("SELECT 1").fetchall()

    def close(self) -> None:
        """Nothing is held open: each query takes a connection of its own."""
