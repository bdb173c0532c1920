"""Checking a message against its dataset's schema: the one definition of a well-formed record.

The sink sends what fails here to the dead-letter prefix with the reason; the simulator's tests
use it to prove that injected faults really are faults. Fields beyond the catalog's columns are
tolerated (a newer producer may add some); missing required fields and wrong types are not.
"""

from __future__ import annotations

from typing import Any

import orjson

from lakestream.core.datasets import Dataset
from lakestream.core.types import TYPES


class RecordError(ValueError):
    """A message that is not a valid record of its dataset; the text says why."""


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
        if not TYPES[column.type].check(value):
            problems.append(f"{column.name}: " + f"expected {column.type}, got {value!r}"[:200])
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
