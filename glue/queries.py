"""The saved analyses: one .sql file each, published by Terraform as Athena named queries and by
the API as `/api/analyses/<name>/`.

A file starts with its description, then declares its parameters, one comment line each, in the
order of the `?` placeholders they bind:

    -- Sales by product and payment method: ...
    -- @param from date = 1970-01-01: first transaction day included
    -- @param to date = 9999-12-31: last transaction day included
    SELECT ... WHERE TransactionDate BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) ...

The Athena console asks for the `?` values of a saved query; the API, `make sql --saved` and the
benchmarks bind them from the declared defaults and what the caller gives. Dropping a file that
follows this form into glue/queries/ adds an analysis everywhere; one that does not is refused
with the line at fault.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from lakestream.core.errors import LakestreamError
from lakestream.core.types import TYPES

QUERIES_DIR = Path(__file__).with_name("queries")
# The API's own parameters of an analysis: a query parameter cannot take these names.
RESERVED = frozenset({"limit", "layer", "format"})
PARAM_START = re.compile(r"^\s*--\s*@param\b")
PARAM_LINE = re.compile(
    r"^--\s*@param\s+(?P<name>[a-z][a-z0-9_]{0,39})\s+(?P<type>[a-z]+)\s*=\s*(?P<default>\S+)"
    r"\s*:\s*(?P<description>.+)$"
)


class QueryFileError(LakestreamError):
    """A saved query file that does not follow the form above."""


@dataclass(frozen=True)
class QueryParam:
    name: str
    type: str  # a catalog type: string, bigint, double, boolean, date, timestamp
    default: str
    description: str

    def parse(self, text: str) -> Any:
        """The typed value of `text`; ValueError saying what is expected if it is not one."""
        try:
            return TYPES[self.type].bind(text)
        except (ValueError, OverflowError):
            example = {"date": "2024-10-01", "timestamp": "2024-10-01T12:00:00"}.get(self.type)
            hint = f", e.g. {example}" if example else ""
            raise ValueError(f"{self.name} must be a {self.type}{hint}") from None


@dataclass(frozen=True)
class SavedQuery:
    name: str
    description: str  # the file's first comment line
    sql: str
    path: Path
    params: tuple[QueryParam, ...] = ()

    def bind(self, values: Mapping[str, str] | None = None) -> list[Any]:
        """The placeholder values, in order: each given value parsed, defaults for the rest.
        ValueError if a value does not parse or names no parameter."""
        values = dict(values or {})
        unknown = sorted(set(values) - {p.name for p in self.params})
        if unknown:
            known = ", ".join(p.name for p in self.params) or "none"
            raise ValueError(f"{self.name} has no parameter {unknown[0]!r} (it has: {known})")
        return [p.parse(values.get(p.name, p.default)) for p in self.params]


def parse_query_file(path: Path) -> SavedQuery:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    first = lines[0] if lines else ""
    description = first.removeprefix("--").strip() if first.startswith("--") else ""
    params: list[QueryParam] = []
    for number, line in enumerate(lines, start=1):
        if not PARAM_START.match(line):
            continue
        match = PARAM_LINE.match(line.strip())
        if not match:
            raise QueryFileError(
                f"{path.name}:{number}: write parameters as "
                f"'-- @param <name> <type> = <default>: <description>'"
            )
        param = QueryParam(**match.groupdict())
        where = f"{path.name}:{number}"
        if param.type not in TYPES:
            raise QueryFileError(f"{where}: {param.type!r} is not one of {', '.join(TYPES)}")
        if param.name in RESERVED or param.name in {p.name for p in params}:
            raise QueryFileError(f"{where}: {param.name!r} is taken (API: {sorted(RESERVED)})")
        try:
            param.parse(param.default)
        except ValueError as exc:
            raise QueryFileError(f"{where}: the default does not parse: {exc}") from None
        params.append(param)
    try:
        placeholders = len(list(sqlglot.parse_one(text, read="trino").find_all(exp.Placeholder)))
    except sqlglot.errors.ParseError as exc:
        raise QueryFileError(f"{path.name}: not valid Athena SQL: {exc}") from None
    if placeholders != len(params):
        raise QueryFileError(
            f"{path.name}: {placeholders} '?' placeholders but {len(params)} @param lines "
            "(one per placeholder, in order)"
        )
    return SavedQuery(path.stem, description, text, path, tuple(params))


@lru_cache(maxsize=4)  # keyed by the files' names and times: an edit is a new key
def _load(directory: Path, stamp: tuple[tuple[str, float], ...]) -> dict[str, SavedQuery]:
    return {p.stem: parse_query_file(p) for p in sorted(directory.glob("*.sql"))}


def saved_queries(directory: Path | None = None) -> dict[str, SavedQuery]:
    """Every analysis of `directory` (glue/queries/), by name; re-read when a file is added or
    changed."""
    directory = directory or QUERIES_DIR
    stamp = tuple((p.name, p.stat().st_mtime) for p in sorted(directory.glob("*.sql")))
    return _load(directory, stamp)
