"""The saved analyses as endpoints: `/api/analyses/` lists them, `/api/analyses/<name>/` runs one.

Everything comes from the .sql files (glue/queries.py): the description, the parameters with
their types and defaults, the SQL. A parameter's value is parsed by its declared type and bound
to its `?`; the API adds only `limit`, `layer` and `format`. Each analysis present at start-up
gets a route of its own, so Swagger documents its parameters; a file added later is served by
the generic route at once and documented after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlglot
from django.conf import settings
from django.urls import URLPattern, path
from drf_yasg import openapi
from drf_yasg.utils import swagger_auto_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from sqlglot import exp

from athena_api.query import views
from athena_api.query.builder import BadRequest, parse_limit
from athena_api.query.params import LAYERS, StrictQuerySerializer, database_of, max_age_field
from athena_api.query.views import ERROR_RESPONSES, NOT_MODIFIED, rows_response
from glue.queries import SavedQuery, saved_queries
from lakestream.core.errors import UnknownTable

OPENAPI_TYPES = {
    "date": (openapi.TYPE_STRING, openapi.FORMAT_DATE),
    "timestamp": (openapi.TYPE_STRING, openapi.FORMAT_DATETIME),
    "bigint": (openapi.TYPE_INTEGER, None),
    "double": (openapi.TYPE_NUMBER, None),
    "boolean": (openapi.TYPE_BOOLEAN, None),
    "string": (openapi.TYPE_STRING, None),
}


class AnalysisOptions(StrictQuerySerializer):
    """The API's own parameters of every analysis."""

    limit = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Rows to return (default and maximum: API_MAX_LIMIT)",
    )
    layer = serializers.ChoiceField(
        LAYERS,
        default="raw",
        help_text="raw: the landed JSON lines; curated: the typed Apache Iceberg tables",
        error_messages={"invalid_choice": "layer must be raw or curated"},
    )
    format = serializers.ChoiceField(
        ["json", "athena"],
        default="json",
        help_text="athena: Athena's ResultSet shape",
        error_messages={"invalid_choice": "format must be json or athena"},
    )

    max_age = max_age_field()

    def validate_limit(self, value: str) -> int:
        try:
            return parse_limit(value, settings.API_MAX_LIMIT, settings.API_MAX_LIMIT)
        except BadRequest as exc:
            raise serializers.ValidationError(str(exc)) from None


class AnalysisParams(AnalysisOptions):
    """AnalysisOptions plus the analysis' own parameters, each parsed by its declared type."""

    def __init__(self, *args: Any, query: SavedQuery, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.query = query
        for param in query.params:  # declared, so the strict check lets them through
            self.fields[param.name] = serializers.CharField(required=False, allow_blank=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.setdefault("limit", settings.API_MAX_LIMIT)
        attrs.setdefault("max_age", settings.API_RESULT_MAX_AGE)
        values = []
        for param in self.query.params:
            try:
                values.append(param.parse(attrs.get(param.name, param.default)))
            except ValueError as exc:
                raise serializers.ValidationError({param.name: [str(exc)]}) from None
        attrs["values"] = values
        return attrs


def describe(query: SavedQuery) -> dict[str, Any]:
    return {
        "name": query.name,
        "description": query.description,
        "parameters": [
            {"name": p.name, "type": p.type, "default": p.default, "description": p.description}
            for p in query.params
        ],
        "url": f"/api/analyses/{query.name}/",
    }


def find(name: str) -> SavedQuery:
    query = saved_queries().get(name)
    if query is None:
        known = ", ".join(saved_queries()) or "none"
        raise UnknownTable(f"no analysis {name[:60]!r}; known: {known}")
    return query


def with_limit(sql: str, limit: int) -> exp.Expression:
    """The analysis' statement, parsed, with LIMIT applied to its own (ordered) SELECT: a
    wrapping subquery would let Athena drop the ORDER BY. A LIMIT the file already has stays
    the upper bound. The engine takes the tree as it is: it is not parsed twice."""
    tree = sqlglot.parse_one(sql, read="trino")
    own = tree.args.get("limit")
    if own is not None and isinstance(own.expression, exp.Literal) and own.expression.is_int:
        limit = min(int(limit), int(own.expression.this))
    return tree.limit(int(limit))


@dataclass(frozen=True)
class Statement:
    """An analysis' statement at one limit, as each request of it needs it."""

    tree: exp.Expression  # never changed: the engines copy it, or only read it
    trino: str  # its text, part of the reused answer's key
    tables: tuple[tuple[str, str], ...]  # tables_read(tree)


@lru_cache(maxsize=256)
def statement(sql: str, limit: int) -> Statement:
    """Parsed, limited and written out once per (text, limit), not on every request: with the
    answer reused, the parse, copy and rewrite were about a third of a repeated analysis' CPU.
    The text is the key, so an edited file is parsed anew."""
    tree = with_limit(sql, limit)
    return Statement(tree, tree.sql(dialect="trino"), tuple(tables_read(tree)))


def run(request: Request, name: str) -> Response:
    query = find(name)
    params = AnalysisParams(data=request.query_params, query=query)
    params.is_valid(raise_exception=True)
    q = params.validated_data
    database = database_of(q["layer"])
    limited = statement(query.sql, q["limit"])
    tables = [views.lookup(name, db or database) for db, name in limited.tables]
    bound = {p.name: v for p, v in zip(query.params, q["values"], strict=True)}
    return views.reusable_response(
        request,
        ("analysis", limited.trino, repr(q["values"]), database, q["format"]),
        tables,
        q["max_age"],
        lambda minutes: views.engine().execute(limited.tree, q["values"], database, minutes),
        lambda result, **reuse: rows_response(
            result,
            query.name,
            q["format"],
            analysis=query.name,
            layer=q["layer"],
            parameters=bound,
            **reuse,
        ),
    )


def tables_read(tree: exp.Expression) -> list[tuple[str, str]]:
    """The tables a statement reads, (database or "", name), each once: a name its CTEs
    define counts only when a database qualifies it, as the engines resolve them."""
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return sorted(
        {
            (t.db, t.name)
            for t in tree.find_all(exp.Table)
            if t.name and (t.db or t.name not in ctes)
        }
    )


class AnalysesView(APIView):
    @swagger_auto_schema(
        operation_id="list_analyses",
        operation_description="The saved analyses, each with its description and parameters.",
        responses={200: "analyses"},
    )
    def get(self, request: Request) -> Response:
        return Response({"analyses": [describe(q) for q in saved_queries().values()]})


class AnalysisView(APIView):
    """Runs the analysis named in the URL (any file of the queries folder)."""

    @swagger_auto_schema(auto_schema=None)  # each analysis is documented by its own route
    def get(self, request: Request, name: str) -> Response:
        return run(request, name)


def _documented_view(query: SavedQuery) -> type[APIView]:
    """A view for one analysis whose Swagger entry lists its own parameters."""
    manual = []
    for p in query.params:
        type_, fmt = OPENAPI_TYPES[p.type]
        manual.append(
            openapi.Parameter(
                p.name,
                openapi.IN_QUERY,
                type=type_,
                format=fmt,
                description=p.description,
                default=p.default,
            )
        )

    @swagger_auto_schema(
        operation_id=f"analysis_{query.name}",
        operation_description=query.description,
        query_serializer=AnalysisOptions,
        manual_parameters=manual,
        responses={200: "rows", 304: NOT_MODIFIED, **ERROR_RESPONSES},
    )
    def get(self: APIView, request: Request) -> Response:
        return run(request, query.name)

    return type(f"Analysis_{query.name}", (APIView,), {"get": get})


def urlpatterns() -> list[URLPattern]:
    routes = [path("api/analyses/", AnalysesView.as_view(), name="analyses")]
    for query in saved_queries().values():
        routes.append(
            path(
                f"api/analyses/{query.name}/",
                _documented_view(query).as_view(),
                name=f"analysis-{query.name}",
            )
        )
    routes.append(path("api/analyses/<str:name>/", AnalysisView.as_view(), name="analysis"))
    return routes
