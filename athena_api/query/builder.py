"""From validated request parameters to one `TableQuery`: the table as resolved, the chosen
columns, the checked filter with `?` parameters, the order and the limit.

The engine writes it in its own dialect. Identifiers come from the Glue catalog and are quoted;
`LIMIT` is an integer checked here and inlined (Athena accepts parameters only in WHERE); every
filter value is a parameter.
"""

from __future__ import annotations

import re
from datetime import datetime

from athena_api.query.filters import CompiledFilter, FilterError, compile_filter
from engines.base import TableQuery
from engines.tables import TableInfo
from lakestream.core.datasets import PARTITION_KEY

TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_ORDER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]{0,127})(?:\s+(asc|desc))?\s*$", re.IGNORECASE)
MAX_COLUMNS_PARAM = 2_000


class BadRequest(ValueError):
    """A parameter was refused: `param` names it, the message says why."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


def table_columns(info: TableInfo) -> dict[str, str]:
    """Columns a request may name; raw tables add their `dt` partition column."""
    own = {n.lower(): t for n, t in info.columns}
    return own if info.is_iceberg else {**own, PARTITION_KEY: "string"}


def parse_limit(raw: str | None, default: int, maximum: int) -> int:
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"\d{1,9}", raw):
        raise BadRequest("limit", f"limit must be a whole number between 1 and {maximum}")
    value = int(raw)
    if not 1 <= value <= maximum:
        raise BadRequest("limit", f"limit must be between 1 and {maximum}")
    return value


def _columns(raw: str | None, known: dict[str, str]) -> list[str]:
    if raw is None or not raw.strip():
        return list(known)
    if len(raw) > MAX_COLUMNS_PARAM:
        raise BadRequest("columns", "columns is too long")
    chosen: list[str] = []
    for part in raw.split(","):
        name = part.strip().lower()
        if name not in known:
            raise BadRequest(
                "columns",
                f"unknown column {part.strip()[:64]!r}; the table has: {', '.join(known)}",
            )
        if name not in chosen:
            chosen.append(name)
    return chosen


def _order_by(raw: str | None, known: dict[str, str]) -> list[tuple[str, str]]:
    if raw is None or not raw.strip():
        return []
    if len(raw) > MAX_COLUMNS_PARAM:
        raise BadRequest("order_by", "order_by is too long")
    terms = []
    for part in raw.split(","):
        match = _ORDER.match(part)
        if not match:
            raise BadRequest(
                "order_by", "order_by takes column names, each optionally followed by asc or desc"
            )
        name = match.group(1).lower()
        if name not in known:
            raise BadRequest("order_by", f"unknown column {match.group(1)!r} in order_by")
        terms.append((name, (match.group(2) or "asc").upper()))
    return terms


def build_query(
    info: TableInfo,
    database: str,
    limit: int,
    filter_text: str | None = None,
    columns: str | None = None,
    order_by: str | None = None,
    as_of: datetime | None = None,
) -> TableQuery:
    known = table_columns(info)
    chosen = _columns(columns, known)
    compiled = CompiledFilter("")
    if filter_text is not None and filter_text != "":
        try:
            compiled = compile_filter(filter_text, known)
        except FilterError as exc:
            raise BadRequest("filter", str(exc)) from None
    return TableQuery(
        info,
        database,
        chosen,
        int(limit),
        where=compiled.sql,
        params=compiled.params,
        where_tree=compiled.tree,
        order_by=_order_by(order_by, known),
        as_of=as_of,
    )
