"""The REST endpoints: query a table, describe tables, health."""

from __future__ import annotations

import datetime as dt
import decimal
import threading
from typing import Any

from django.conf import settings
from drf_yasg import openapi
from drf_yasg.utils import swagger_auto_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from athena_api.query.builder import TABLE_NAME, BadRequest, build_query, parse_limit
from athena_api.query.engines import EngineFailure, EngineTimeout, QueryEngine, make_engine
from athena_api.query.errors import error_body
from glue.catalog import GlueCatalog, TableInfo, UnknownTable
from lakestream.core.datasets import PARTITION_KEY

_lock = threading.Lock()
_shared: dict[str, Any] = {}


def engine() -> QueryEngine:
    with _lock:
        if "engine" not in _shared:
            _shared["engine"] = make_engine(
                settings.API_ENGINE, settings.LAKE, settings.API_QUERY_TIMEOUT
            )
        return _shared["engine"]


def catalog() -> GlueCatalog:
    with _lock:
        if "catalog" not in _shared:
            _shared["catalog"] = GlueCatalog(settings.LAKE)
        return _shared["catalog"]


def fail(status: int, code: str, message: str, param: str | None = None) -> Response:
    return Response(error_body(status, code, message, param), status=status)


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="milliseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _lookup(name: str | None) -> TableInfo | Response:
    if not name:
        return fail(
            400, "bad_parameter", "table is required, e.g. ?table=kafka_ing_social_data", "table"
        )
    if not TABLE_NAME.match(name):
        return fail(
            400, "bad_parameter", "table must be a table name (letters, digits, _)", "table"
        )
    try:
        return catalog().table(name.lower())
    except UnknownTable:
        return fail(
            404,
            "unknown_table",
            f"no table {name!r} in the Glue database {settings.LAKE.glue_database!r}",
            "table",
        )
    except Exception:
        return fail(502, "catalog_failure", "the Glue catalog could not be read")


QUERY_PARAMS = [
    openapi.Parameter(
        "table",
        openapi.IN_QUERY,
        "A table of the Glue database, e.g. kafka_ing_social_data",
        type=openapi.TYPE_STRING,
        required=True,
    ),
    openapi.Parameter(
        "limit",
        openapi.IN_QUERY,
        "Rows to return (default 10, at most API_MAX_LIMIT)",
        type=openapi.TYPE_INTEGER,
    ),
    openapi.Parameter(
        "filter",
        openapi.IN_QUERY,
        "A condition: column='value', comparisons, AND/OR/NOT, IN, BETWEEN, LIKE, "
        "IS [NOT] NULL, parentheses",
        type=openapi.TYPE_STRING,
    ),
    openapi.Parameter(
        "columns",
        openapi.IN_QUERY,
        "Comma-separated columns to return (default all)",
        type=openapi.TYPE_STRING,
    ),
    openapi.Parameter(
        "order_by",
        openapi.IN_QUERY,
        "Comma-separated columns, each optionally asc or desc",
        type=openapi.TYPE_STRING,
    ),
    openapi.Parameter(
        "format",
        openapi.IN_QUERY,
        "athena: the original design's ResultSet shape",
        type=openapi.TYPE_STRING,
        enum=["json", "athena"],
    ),
]

ERROR_RESPONSES = {
    400: "A parameter was refused; error.param names it",
    401: "API key missing or wrong",
    404: "Unknown table",
    429: "Too many requests",
    502: "The query engine or catalog failed",
    504: "The query took too long",
}


class QueryTableView(APIView):
    @swagger_auto_schema(
        operation_id="query_table",
        operation_description="Run a parameterized query on one table and return typed rows.",
        manual_parameters=QUERY_PARAMS,
        responses={200: "rows", **ERROR_RESPONSES},
    )
    def get(self, request: Request) -> Response:
        q = request.query_params
        unknown = sorted(set(q) - {"table", "limit", "filter", "columns", "order_by", "format"})
        if unknown:
            return fail(
                400, "bad_parameter", f"unknown parameter {unknown[0][:40]!r}", unknown[0][:40]
            )
        fmt = q.get("format", "json")
        if fmt not in ("json", "athena"):
            return fail(400, "bad_parameter", "format must be json or athena", "format")
        try:
            limit = parse_limit(q.get("limit"), settings.API_DEFAULT_LIMIT, settings.API_MAX_LIMIT)
        except BadRequest as exc:
            return fail(400, "bad_parameter", str(exc), exc.param)
        info = _lookup(q.get("table"))
        if isinstance(info, Response):
            return info
        try:
            built = build_query(
                info,
                settings.LAKE.glue_database,
                limit,
                filter_text=q.get("filter"),
                columns=q.get("columns"),
                order_by=q.get("order_by"),
            )
        except BadRequest as exc:
            return fail(400, "bad_parameter", str(exc), exc.param)
        try:
            result = engine().run(built.sql, built.params)
        except EngineTimeout:
            return fail(
                504, "timeout", f"the query did not finish within {settings.API_QUERY_TIMEOUT:g}s"
            )
        except EngineFailure as exc:
            return fail(502, "engine_failure", str(exc))
        types = dict(built.columns)
        if fmt == "athena":
            header = {"Data": [{"VarCharValue": c} for c in result.columns]}
            body_rows = [
                {"Data": [{} if v is None else {"VarCharValue": str(_json_value(v))} for v in row]}
                for row in result.rows
            ]
            return Response(
                {
                    "QueryExecutionId": result.query_id,
                    "ResultSet": {
                        "Rows": [header, *body_rows],
                        "ResultSetMetadata": {
                            "ColumnInfo": [
                                {"Name": c, "Type": types.get(c, "varchar")} for c in result.columns
                            ]
                        },
                    },
                }
            )
        return Response(
            {
                "table": info.name,
                "columns": [{"name": c, "type": types.get(c, "string")} for c in result.columns],
                "rows": [
                    {c: _json_value(v) for c, v in zip(result.columns, row, strict=True)}
                    for row in result.rows
                ],
                "row_count": len(result.rows),
                "query_id": result.query_id,
                "engine": result.engine,
                "elapsed_ms": result.elapsed_ms,
                "data_scanned_bytes": result.data_scanned_bytes,
            }
        )


def _describe(info: TableInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "location": info.location,
        "format": info.format,
        "columns": [{"name": n, "type": t} for n, t in info.columns],
        "partition_keys": [{"name": PARTITION_KEY, "type": "string"}],
        "partitions": info.partitions,
    }


class TablesView(APIView):
    @swagger_auto_schema(
        operation_id="list_tables", responses={200: "tables", 502: "catalog failure"}
    )
    def get(self, request: Request) -> Response:
        try:
            names = catalog().tables()
            tables = [catalog().table(n) for n in names]
        except Exception:
            return fail(502, "catalog_failure", "the Glue catalog could not be read")
        return Response(
            {
                "database": settings.LAKE.glue_database,
                "tables": [
                    {
                        "name": t.name,
                        "format": t.format,
                        "location": t.location,
                        "partitions": len(t.partitions),
                    }
                    for t in tables
                ],
            }
        )


class TableDetailView(APIView):
    @swagger_auto_schema(
        operation_id="describe_table",
        responses={200: "table", 400: "bad name", 404: "unknown table"},
    )
    def get(self, request: Request, name: str) -> Response:
        info = _lookup(name)
        if isinstance(info, Response):
            return info
        return Response(_describe(info))


class HealthView(APIView):
    permission_classes = (AllowAny,)
    throttle_classes = ()

    @swagger_auto_schema(operation_id="health", responses={200: "healthy", 503: "unhealthy"})
    def get(self, request: Request) -> Response:
        checks: dict[str, str] = {}
        try:
            catalog().tables()
            checks["catalog"] = "ok"
        except Exception:
            checks["catalog"] = "unreachable"
        try:
            engine().ping()
            checks["engine"] = "ok"
        except Exception:
            checks["engine"] = "unreachable"
        healthy = all(v == "ok" for v in checks.values())
        return Response(
            {
                "status": "ok" if healthy else "degraded",
                "engine": settings.API_ENGINE,
                "checks": checks,
            },
            status=200 if healthy else 503,
        )
