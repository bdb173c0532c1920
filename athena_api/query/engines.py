"""Two query engines behind one interface: Athena (PyAthena) and the local DuckDB engine.

Both take Trino SQL with `?` parameters. Athena wants each parameter as an SQL literal string
(strings in single quotes with ' doubled); DuckDB takes typed Python values.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from glue.engine import LocalAthena, QueryError
from glue.quoting import quote_string
from lakestream.core.settings import Settings


@dataclass
class EngineResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    query_id: str
    engine: str
    elapsed_ms: int
    data_scanned_bytes: int | None


class EngineTimeout(Exception):
    pass


class EngineFailure(Exception):
    """The engine failed; the message is safe to show (no SQL, no settings)."""


class QueryEngine(Protocol):
    name: str

    def run(self, sql: str, params: list[Any]) -> EngineResult: ...

    def ping(self) -> None: ...


class LocalEngine:
    name = "local"

    def __init__(self, settings: Settings, timeout: float) -> None:
        self._athena = LocalAthena(settings, timeout=timeout)

    def run(self, sql: str, params: list[Any]) -> EngineResult:
        started = time.perf_counter()
        try:
            result = self._athena.execute(sql, params)
        except QueryError as exc:
            if exc.kind == "timeout":
                raise EngineTimeout(str(exc)) from None
            raise EngineFailure(f"the local engine failed ({exc.kind})") from None
        return EngineResult(
            result.columns,
            result.rows,
            f"local-{uuid.uuid4()}",
            self.name,
            int((time.perf_counter() - started) * 1000),
            None,
        )

    def ping(self) -> None:
        self._athena.execute("SELECT 1")


def athena_literal(value: Any) -> str:
    """An Athena execution parameter: the value written as an SQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return quote_string(str(value))


class AthenaEngine:
    name = "athena"

    def __init__(self, settings: Settings, timeout: float) -> None:
        self.settings = settings
        self.timeout = timeout

    def _connect(self) -> Any:
        from pyathena import connect

        s = self.settings
        kwargs: dict[str, Any] = {
            "s3_staging_dir": s.athena_output_location,
            "region_name": s.aws_region,
            "work_group": s.athena_workgroup,
            "schema_name": s.glue_database,
            "poll_interval": 0.5,
        }
        if s.aws_endpoint_url:
            kwargs["endpoint_url"] = s.aws_endpoint_url
        if s.aws_access_key_id:
            kwargs["aws_access_key_id"] = s.aws_access_key_id
        if s.aws_secret_access_key:
            kwargs["aws_secret_access_key"] = s.aws_secret_access_key.get_secret_value()
        return connect(**kwargs)

    def run(self, sql: str, params: list[Any]) -> EngineResult:
        from pyathena.error import DatabaseError, OperationalError

        started = time.perf_counter()
        try:
            cursor = self._connect().cursor()
            cursor.execute(
                sql,
                [athena_literal(p) for p in params] or None,
                paramstyle="qmark",
            )
            rows = cursor.fetchall()
        except OperationalError as exc:
            if "timeout" in str(exc).lower() or "cancel" in str(exc).lower():
                raise EngineTimeout("Athena did not finish in time") from None
            raise EngineFailure("Athena could not run the query") from None
        except DatabaseError:
            raise EngineFailure("Athena could not run the query") from None
        elapsed = int((time.perf_counter() - started) * 1000)
        if elapsed > self.timeout * 1000:
            raise EngineTimeout("Athena did not finish in time")
        columns = [d[0] for d in cursor.description or []]
        return EngineResult(
            columns,
            [tuple(r) for r in rows],
            cursor.query_id or "",
            self.name,
            elapsed,
            cursor.data_scanned_in_bytes,
        )

    def ping(self) -> None:
        self._connect().cursor().execute("SELECT 1").fetchall()


def make_engine(kind: str, settings: Settings, timeout: float) -> QueryEngine:
    if kind == "athena":
        return AthenaEngine(settings, timeout)
    if kind == "local":
        return LocalEngine(settings, timeout)
    raise ValueError(f"unknown engine {kind!r}: use local or athena")
