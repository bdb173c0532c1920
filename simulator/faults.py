"""Fault injection: a share of messages made malformed on purpose, to exercise dead letters.

Three kinds, each one a way real producers break: bytes that are not JSON (a truncated write),
a required field missing (an old producer), a field of the wrong type (a bad upstream cast).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson

from lakestream.core.datasets import Dataset
from lakestream.core.types import TYPES

FAULT_KINDS = ("invalid_json", "missing_field", "wrong_type")


def corrupt(
    record: dict[str, Any], dataset: Dataset, rng: np.random.Generator
) -> tuple[str, bytes]:
    """(fault kind, malformed message value) for one record."""
    kind = FAULT_KINDS[int(rng.integers(0, len(FAULT_KINDS)))]
    if kind == "invalid_json":
        value = orjson.dumps(record)
        # Any proper prefix of a JSON object is invalid JSON: the closing brace is missing.
        return kind, value[: int(rng.integers(1, len(value)))]
    broken = dict(record)
    if kind == "missing_field":
        required = [c.name for c in dataset.columns if c.required]
        del broken[required[int(rng.integers(0, len(required)))]]
        return kind, orjson.dumps(broken)
    typed = [c for c in dataset.columns if c.type != "string"] or list(dataset.columns)
    column = typed[int(rng.integers(0, len(typed)))]
    broken[column.name] = TYPES[column.type].wrong_value
    return kind, orjson.dumps(broken)
