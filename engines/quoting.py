"""Quoting for SQL text built from catalog names and fixed values (never from query input).

Trino, Athena and DuckDB agree on both forms: "identifier" with " doubled, 'string' with '
doubled.
"""

from __future__ import annotations


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
