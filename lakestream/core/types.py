"""The column types of the dataset catalog, in one table: adding a type is adding one row.

For each Glue/Athena type: how a decoded JSON value is checked (record validation), how a CSV
cell is parsed (seed files), its Arrow type and how a JSON value becomes an Arrow value (Parquet
and Iceberg), its DuckDB type (the local engine), how a filter literal is bound (the API), and a
JSON value of the wrong type (fault injection). Glue type strings beyond the catalog's (struct,
array, inferred by the crawler) are handled by `duckdb_type` and `split_fields`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,9})?$")


def _iso_check(pattern: re.Pattern[str], parse: Callable[[str], Any]) -> Callable[[Any], bool]:
    """A check for ISO text: the shape Athena reads (`pattern`) and a real calendar value."""

    def check(value: Any) -> bool:
        if not (isinstance(value, str) and pattern.match(value)):
            return False
        try:
            parse(value)
            return True
        except ValueError:
            return False

    return check


_is_timestamp = _iso_check(TIMESTAMP, datetime.fromisoformat)
# A stream holds few distinct days: remembering the last thousand checked makes the sink's
# date check a lookup. Only 10-character texts reach the cache (a date has no other length), so
# it stays a few hundred KiB whatever the values.
_is_date_text = lru_cache(maxsize=1024)(_iso_check(DATE, date.fromisoformat))


def _is_date(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 10 and _is_date_text(value)


# What every engine can hold: Athena's and DuckDB's bigint, Arrow's int64, Iceberg's long.
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1


def _is_int(value: Any) -> bool:
    """A JSON integer that fits a bigint (a boolean is not one; a u64 above 2^63-1 is not)."""
    if type(value) is int:  # what JSON decodes to: the common case, checked first
        return BIGINT_MIN <= value <= BIGINT_MAX
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and (BIGINT_MIN <= value <= BIGINT_MAX)
    )


def _is_number(value: Any) -> bool:
    """A finite double: a JSON number (not a boolean) that a float64 holds."""
    if type(value) is float:  # what JSON decodes to: the common case, checked first
        return math.isfinite(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(value, int):
        return abs(value) < 2**1024  # larger integers have no float64
    return math.isfinite(value)


def _bool_text(text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise ValueError(f"{text!r} is not true or false")
    return text.lower() == "true"


def _bigint_text(text: str) -> int:
    value = int(text)
    if not BIGINT_MIN <= value <= BIGINT_MAX:
        raise ValueError(f"{text!r} is out of the bigint range")
    return value


def _double_text(text: str) -> float:
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _timestamp_text(text: str) -> str:
    """A filter's timestamp as naive UTC: DuckDB's CAST drops an offset, Athena's applies it
    (its session zone is UTC), so the offset is applied here, once, for both."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(sep=" ")


def _same(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class ColumnType:
    name: str  # the Glue/Athena type
    check: Callable[[Any], bool]  # is this decoded JSON value one of ours?
    parse_csv: Callable[[str], Any]  # a non-empty CSV cell -> its JSON value (ValueError if not)
    arrow_name: str  # pyarrow factory: pa.<arrow_name>(*arrow_args)
    arrow_args: tuple[Any, ...]
    to_arrow: Callable[[Any], Any]  # a valid JSON value -> the Python value Arrow stores
    duckdb: str
    bind: Callable[[str], Any]  # a filter literal's text -> the bound parameter (ValueError)
    sql_cast: str | None  # wrap the placeholder in CAST(? AS ...) (Athena binds text)
    wrong_value: Any  # a JSON value of another type, for fault injection
    iceberg_name: str  # pyiceberg.types.<iceberg_name>() types the curated layer's column

    def refusal(self, value: Any) -> str:
        """Why `value` fails `check`, in words a producer can act on."""
        if self.name == "bigint" and isinstance(value, int) and not isinstance(value, bool):
            return f"{value} is outside the bigint range (-2^63 to 2^63-1)"
        return f"expected {self.name}, got {value!r}"

    def arrow_type(self) -> Any:
        # pyarrow is imported on use: commands that never write Parquet skip its start-up cost.
        import pyarrow as pa

        return getattr(pa, self.arrow_name)(*self.arrow_args)

    def iceberg_type(self) -> Any:
        # pyiceberg is imported on use, like pyarrow: only the curated layer needs it.
        import pyiceberg.types

        return getattr(pyiceberg.types, self.iceberg_name)()


TYPES: dict[str, ColumnType] = {
    t.name: t
    for t in (
        ColumnType(
            "string",
            lambda v: isinstance(v, str),
            str,
            "string",
            (),
            _same,
            "VARCHAR",
            str,
            None,
            12345,
            "StringType",
        ),
        ColumnType(
            "bigint",
            _is_int,
            int,
            "int64",
            (),
            _same,
            "BIGINT",
            _bigint_text,
            None,
            "not-a-number",
            "LongType",
        ),
        ColumnType(
            "double",
            _is_number,
            float,
            "float64",
            (),
            float,  # Arrow refuses an int a float64 cannot hold exactly; float() rounds it
            "DOUBLE",
            _double_text,
            None,
            "not-a-number",
            "DoubleType",
        ),
        ColumnType(
            "boolean",
            lambda v: isinstance(v, bool),
            _bool_text,
            "bool_",
            (),
            _same,
            "BOOLEAN",
            _bool_text,
            None,
            "not-a-boolean",
            "BooleanType",
        ),
        ColumnType(
            "date",
            _is_date,
            str,
            "date32",
            (),
            date.fromisoformat,
            "DATE",
            lambda text: date.fromisoformat(text).isoformat(),
            "DATE",
            "not-a-date",
            "DateType",
        ),
        ColumnType(
            "timestamp",
            _is_timestamp,
            str,
            "timestamp",
            ("ms",),
            datetime.fromisoformat,
            "TIMESTAMP",
            _timestamp_text,
            "TIMESTAMP",
            "not-a-timestamp",
            "TimestampType",
        ),
    )
}

# Narrower or wider Glue types that behave like one of ours (a crawler may register them).
ALIASES = {
    "int": "bigint",
    "smallint": "bigint",
    "tinyint": "bigint",
    "float": "double",
    "decimal": "double",
}


def column_type(glue_type: str) -> ColumnType | None:
    """The row of a scalar Glue type (aliases included); None for struct, array, map."""
    base = glue_type.split("(")[0]
    return TYPES.get(ALIASES.get(base, base))


# An alias narrower than its row keeps its width when a filter binds a value against it: a real
# column compared with a double parameter misses 0.1 in DuckDB, while Athena casts to real.
ALIAS_CASTS = {"float": "REAL"}


def sql_cast(glue_type: str) -> str | None:
    """The SQL type a filter's `?` against a column of `glue_type` is cast to, if any."""
    base = glue_type.split("(")[0]
    if base in ALIAS_CASTS:
        return ALIAS_CASTS[base]
    kind = column_type(glue_type)
    return kind.sql_cast if kind else None


def split_fields(inner: str) -> list[tuple[str, str]]:
    """'a:bigint,b:struct<c:string,d:double>' -> [('a','bigint'), ('b','struct<...>')]."""
    fields, depth, start = [], 0, 0
    for i, ch in enumerate(inner + ","):
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth -= 1
        elif ch == "," and depth == 0:
            name, _, type_ = inner[start:i].partition(":")
            fields.append((name, type_))
            start = i + 1
    return [f for f in fields if f[0]]


def duckdb_type(glue_type: str) -> str:
    """The DuckDB type that reads a Glue column (nested types included)."""
    if glue_type.startswith("array<"):
        return f"{duckdb_type(glue_type[6:-1])}[]"
    if glue_type.startswith("struct<"):
        inner = ", ".join(f'"{n}" {duckdb_type(t)}' for n, t in split_fields(glue_type[7:-1]))
        return f"STRUCT({inner})"
    scalar = column_type(glue_type)
    if glue_type in ("int", "float"):  # narrower in DuckDB too
        return {"int": "INTEGER", "float": "FLOAT"}[glue_type]
    return scalar.duckdb if scalar else "VARCHAR"
