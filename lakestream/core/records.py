"""Checking a message against its dataset's schema: the one definition of a well-formed record.

The sink sends what fails here to the dead-letter prefix with the reason; the simulator's tests
use it to prove that injected faults really are faults. Fields beyond the catalog's columns are
tolerated (a newer producer may add some); missing required fields and wrong types are not.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import orjson

from lakestream.core.datasets import Dataset

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,9})?$")


class RecordError(ValueError):
    """A message that is not a valid record of its dataset; the text says why."""


def _type_problem(value: Any, type_name: str) -> str | None:
    if type_name == "string":
        ok = isinstance(value, str)
    elif type_name == "bigint":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif type_name == "double":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif type_name == "boolean":
        ok = isinstance(value, bool)
    elif type_name == "date":
        ok = isinstance(value, str) and bool(_DATE.match(value)) and _parses_date(value)
    elif type_name == "timestamp":
        ok = isinstance(value, str) and bool(_TIMESTAMP.match(value)) and _parses_ts(value)
    else:  # the catalog's Literal makes this unreachable; be loud if it ever is not
        raise AssertionError(type_name)
    return None if ok else f"expected {type_name}, got {value!r}"[:200]


def _parses_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
        return True
    except ValueError:
        return False


def _parses_ts(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
        return True
    except ValueError:
        return False


def check_record(record: Any, dataset: Dataset) -> list[str]:
    """Every problem of a decoded record, as 'field: reason' strings (empty when valid)."""
    if not isinstance(record, dict):
        return [f"not a JSON object but {type(record).__name__}"]
    problems = []
    for column in dataset.columns:
        value = record.get(column.name)
        if value is None:
            if column.required:
                problems.append(f"{column.name}: required field is missing or null")
            continue
        if problem := _type_problem(value, column.type):
            problems.append(f"{column.name}: {problem}")
    return problems


def parse_record(value: bytes, dataset: Dataset) -> dict[str, Any]:
    """Decode and check one message value; raise RecordError with the reason if it is bad."""
    try:
        record = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise RecordError(f"invalid JSON: {exc}") from None
    if problems := check_record(record, dataset):
        raise RecordError("; ".join(problems))
    return record
