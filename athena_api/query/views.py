"""The REST endpoints: query a table, describe tables, health.

Views stay thin: a serializer validates the parameters, the table is resolved once (through the
engine's catalog reader, so one cache serves both), the builder turns the request into a
`TableQuery`, the engine runs it and types its columns, and
`athena_api.query.errors.exception_handler` turns every typed error into JSON.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from drf_yasg.utils import swagger_auto_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from athena_api.query.builder import TABLE_NAME, BadRequest, build_query
from athena_api.query.metrics import ANSWERS
from athena_api.query.params import LAYERS, QueryTableParams, database_of
from athena_api.query.reuse import DataVersions, ResultCache, matches
from engines import QueryEngine, QueryResult, make_engine
from engines.tables import GlueCatalog, TableInfo
from engines.values import json_value
from lakestream.core.datasets import PARTITION_KEY
from lakestream.core.errors import UnknownTable

_lock = threading.Lock()
_shared: dict[str, Any] = {}


def shared(key: Any, build: Callable[[], Any]) -> Any:
    """What `build()` returns, built once per worker process and kept under `key`."""
    with _lock:
        if key not in _shared:
            _shared[key] = build()
        return _shared[key]


def engine() -> QueryEngine:
    return shared(
        "engine",
        lambda: make_engine(
            settings.API_ENGINE,
            settings.LAKE,
            settings.API_QUERY_TIMEOUT,
            settings.LAKE.api_catalog_max_age,
        ),
    )


def catalog() -> GlueCatalog:
    """The engine's own catalog reader: the API and the engine share one cache."""
    return engine().catalog


def lookup(name: str, database: str | None = None) -> TableInfo:
    """A table of a layer's Glue database, or UnknownTable worded for API callers."""
    if not TABLE_NAME.match(name):
        raise BadRequest("table", "table must be a table name (letters, digits, _)")
    database = database or settings.LAKE.glue_database
    try:
        return catalog().table(name.lower(), database)
    except UnknownTable:
        raise UnknownTable(f"no table {name!r} in the Glue database {database!r}") from None


NOT_MODIFIED = (
    "Not modified: the If-None-Match ETag names this query's answer on data that has not "
    "changed since (no query ran)"
)
ERROR_RESPONSES = {
    400: "A parameter was refused; error.param names it",
    401: "API key missing or wrong",
    404: "Unknown table",
    429: "Too many requests",
    502: "The query engine or catalog failed",
    504: "The query took too long",
}


def _athena_type(lake_type: str) -> str:
    """A lake (Glue) type as Athena's ResultSetMetadata names it."""
    return {"string": "varchar", "int": "integer", "float": "real"}.get(lake_type, lake_type)


def rows_response(result: QueryResult, table: str, fmt: str, **extra: Any) -> Response:
    """The rows of a query as JSON (fmt=json) or in Athena's ResultSet shape (fmt=athena), each
    column typed as the engine typed it; `extra` adds keys to the JSON shape."""
    types = dict(zip(result.columns, result.column_types, strict=True))
    if fmt == "athena":
        header = {"Data": [{"VarCharValue": c} for c in result.columns]}
        body_rows = [
            {"Data": [{} if v is None else {"VarCharValue": str(json_value(v))} for v in row]}
            for row in result.rows
        ]
        return Response(
            {
                "QueryExecutionId": result.query_id,
                "ResultSet": {
                    "Rows": [header, *body_rows],
                    "ResultSetMetadata": {
                        "ColumnInfo": [
                            {"Name": c, "Type": _athena_type(types[c])} for c in result.columns
                        ]
                    },
                },
            }
        )
    return Response(
        {
            "table": table,
            "columns": [{"name": c, "type": types[c]} for c in result.columns],
            "rows": [
                {c: json_value(v) for c, v in zip(result.columns, row, strict=True)}
                for row in result.rows
            ],
            "row_count": len(result.rows),
            "query_id": result.query_id,
            "engine": result.engine,
            "elapsed_ms": result.elapsed_ms,
            "data_scanned_bytes": result.data_scanned_bytes,
            **extra,
        }
    )


class QueryTableView(APIView):
    @swagger_auto_schema(
        operation_id="query_table",
        operation_description="Run a parameterized query on one table and return typed rows.",
        query_serializer=QueryTableParams,
        responses={200: "rows", 304: NOT_MODIFIED, **ERROR_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        params = QueryTableParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        q = params.validated_data
        database = database_of(q["layer"])
        info = lookup(q["table"], database)
        query = build_query(
            info,
            database,
            q["limit"],
            filter_text=q.get("filter"),
            columns=q.get("columns"),
            order_by=q.get("order_by"),
            as_of=q.get("as_of"),
        )
        return reusable_response(
            request,
            ("table", query.trino_sql(), repr(query.params), database, q["format"]),
            [info],
            q["max_age"],
            lambda minutes: engine().select(query, minutes),
            lambda result, **reuse: rows_response(result, info.name, q["format"], **reuse),
        )


def result_cache() -> ResultCache:
    return shared(
        "results",
        lambda: ResultCache(
            DataVersions(settings.LAKE, settings.LAKE.api_catalog_max_age),
            settings.API_QUERY_TIMEOUT,
        ),
    )


def reusable_response(
    request: Request,
    query_key: tuple[Any, ...],
    tables: list[TableInfo],
    max_age: int,
    run: Callable[[int], QueryResult],
    respond: Callable[..., Response],
) -> Response:
    """`respond(result, reused=, age_s=)` with an answer reused on unchanged data when one at
    most `max_age` seconds old is kept, or 304 when the client holds it (If-None-Match).
    A query whose tables are not known (none found) is never reused."""
    cache = result_cache()
    if not tables:
        max_age = 0
    version = cache.versions.of(tables)
    etag = cache.etag(query_key, version)
    if max_age > 0 and matches(request.headers.get("If-None-Match", ""), etag):
        ANSWERS.labels("not_modified").inc()
        response = Response(status=304)
    else:
        answer = cache.answer(etag, version, max_age, run)
        outcome = "reused" if answer.kept else "engine_reused" if answer.reused else "computed"
        ANSWERS.labels(outcome).inc()
        response = respond(answer.result, reused=answer.reused, age_s=round(answer.age_s, 3))
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"  # a browser asks again, with If-None-Match
    return response


def _describe(info: TableInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "location": info.location,
        "format": info.format,
        "columns": [{"name": n, "type": t} for n, t in info.columns],
        "partition_keys": [] if info.is_iceberg else [{"name": PARTITION_KEY, "type": "string"}],
        "partitions": info.partitions,
    }


class TablesView(APIView):
    @swagger_auto_schema(
        operation_id="list_tables", responses={200: "tables", 502: "catalog failure"}
    )
    def get(self, request: Request) -> Response:
        listed = []
        for layer in LAYERS:
            database = database_of(layer)
            for name in catalog().tables(database):
                t = catalog().table(name, database)
                listed.append(
                    {
                        "name": t.name,
                        "layer": layer,
                        "database": database,
                        "format": t.format,
                        "location": t.location,
                        "partitions": len(t.partitions),
                    }
                )
        return Response(
            {
                "database": settings.LAKE.glue_database,
                "databases": {layer: database_of(layer) for layer in LAYERS},
                "tables": listed,
            }
        )


class TableDetailView(APIView):
    @swagger_auto_schema(
        operation_id="describe_table",
        responses={200: "table", 400: "bad name", 404: "unknown table"},
    )
    def get(self, request: Request, name: str) -> Response:
        layer = request.query_params.get("layer", "raw")
        if layer not in LAYERS:
            raise BadRequest("layer", "layer must be raw or curated")
        return Response(_describe(lookup(name, database_of(layer))))


HEALTH_CHECK_MAX_AGE_S = 30.0  # how long a catalog and engine check answers /api/health/
_health: dict[str, Any] = {}


def _checks() -> dict[str, str]:
    """The catalog and engine checks, run at most once per HEALTH_CHECK_MAX_AGE_S per process:
    on Athena each engine check is a billed query, and a load balancer asks every few seconds."""
    with _lock:
        cached = _health.get("checks")
        if cached and time.monotonic() - _health["at"] < HEALTH_CHECK_MAX_AGE_S:
            return cached
    checks: dict[str, str] = {}
    try:
        query_engine = engine()
    except Exception:
        # The catalog is read through the engine: with no engine it cannot be checked.
        query_engine = None
        checks = {"catalog": "unchecked", "engine": "unreachable"}
    if query_engine is not None:
        try:
            query_engine.catalog.tables()
            checks["catalog"] = "ok"
        except Exception:
            checks["catalog"] = "unreachable"
        try:
            query_engine.ping()
            checks["engine"] = "ok"
        except Exception:
            checks["engine"] = "unreachable"
    with _lock:
        _health.update(checks=checks, at=time.monotonic())
    return checks


class HealthView(APIView):
    """Open to anyone (a load balancer has no key), throttled like every other route."""

    permission_classes = (AllowAny,)

    @swagger_auto_schema(
        operation_id="health",
        operation_description="Catalog and engine checks, run at most every "
        f"{HEALTH_CHECK_MAX_AGE_S:.0f} s per server process; no key needed.",
        responses={200: "healthy", 503: "unhealthy", 429: "Too many requests"},
    )
    def get(self, request: Request) -> Response:
        checks = _checks()
        healthy = all(v == "ok" for v in checks.values())
        return Response(
            {
                "status": "ok" if healthy else "degraded",
                "engine": settings.API_ENGINE,
                "checks": checks,
            },
            status=200 if healthy else 503,
        )
