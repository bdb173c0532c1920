"""Checking a message against its dataset's schema: the one definition of a well-formed record.

The sink sends what fails here to the dead-letter prefix with the reason; the simulator's tests
use it to prove that injected faults really are faults. Fields beyond the catalog's columns are
tolerated (a newer producer may add some); missing required fields and wrong types are not.

A value is refused if any engine downstream could not hold it: invalid UTF-8 or a lone
surrogate (orjson refuses both), a column value outside its type's rule (`core/types.py`: int64
bounds, finite doubles, real calendar dates, a boolean is not a number), or an object that
repeats a key (DuckDB refuses to read one, Arrow's reader too; which one wins is undefined).
"""

from __future__ import annotations

import json
import re
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
    problems = [
        value_problem(column.name, column.type, record.get(column.name), column.required)
        for column in dataset.columns
    ]
    return [p for p in problems if p]


def value_problem(name: str, type_: str, value: Any, required: bool) -> str | None:
    """Why one field's value breaks its column's rule ('field: reason'), or None if it holds."""
    if value is None:
        return f"{name}: required field is missing or null" if required else None
    kind = TYPES[type_]
    return None if kind.check(value) else f"{name}: " + kind.refusal(value)[:200]


# Where a key ends: its closing quote, blanks, the colon. Inside a string a quote is escaped, so
# a match there is a string's text; a string value is never followed by a colon.
_KEY_END = re.compile(rb'"\s*:')


def _keys(value: Any) -> int:
    """How many keys the decoded value's objects hold, nested ones included (a loop, not a
    recursion: orjson accepts 1,024 levels of nesting, deeper than Python's stack)."""
    count, pending = 0, [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            count += len(item)
            pending.extend(v for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            pending.extend(v for v in item if isinstance(v, dict | list))
    return count


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, item in pairs:
        if key in seen:
            raise RecordError(f"duplicate key {key[:64]!r} in a JSON object")
        seen[key] = item
    return seen


def check_unique_keys(value: bytes, decoded: Any) -> None:
    """RecordError if an object of `value` repeats a key (decoding kept only the last one).

    The text's key endings are counted first: a string's text can only add to that count and a
    dropped duplicate only subtract from the decoded keys, so equal counts prove there is none
    (one regex pass, about a microsecond). A flat object's own keys are all its keys, so when the
    text holds no more key endings than those, there is no repeat; every key is followed by a
    colon, so a count of the colons (a tenth of the regex's time) proves the same when it is as
    low. Otherwise a strict decode names the key."""
    flat = len(decoded) if type(decoded) is dict else -1  # its own keys, if an object
    if value.count(b":") == flat:
        return
    endings = len(_KEY_END.findall(value))
    if endings == flat or endings == _keys(decoded):
        return
    try:
        json.loads(value, object_pairs_hook=_no_repeats)
    except RecursionError:
        raise RecordError("nested too deeply to check its keys") from None


class RecordParser:
    """`parse_record` for one dataset, its column rules looked up once: the sink's hot loop.

    A valid record passes one loop over (name, check, required); only a record that fails it
    goes through `check_record` again, which words every problem."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self._rules = tuple((c.name, TYPES[c.type].check, c.required) for c in dataset.columns)

    def __call__(self, value: bytes) -> dict[str, Any]:
        """Decode and check one message value; raise RecordError with the reason if it is bad."""
        try:
            record = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            raise RecordError(f"invalid JSON: {exc}") from None
        check_unique_keys(value, record)
        if type(record) is dict:
            get = record.get
            for name, check, required in self._rules:
                item = get(name)
                if item is None:
                    if required:
                        break
                elif not check(item):
                    break
            else:
                return record
        raise RecordError("; ".join(check_record(record, self.dataset)))


def parse_record(value: bytes, dataset: Dataset) -> dict[str, Any]:
    """Decode and check one message value; raise RecordError with the reason if it is bad."""
    return RecordParser(dataset)(value)


def reason_label(reason: str) -> str:
    """A dead letter's reason as one of a few kinds, fit for a metric's label (the reasons
    themselves quote values): empty, oversized, invalid_json, malformed_json, invalid_field."""
    text = reason.removeprefix("curation: ")
    for start, label in (
        ("empty message", "empty"),
        ("oversized", "oversized"),
        ("invalid JSON", "invalid_json"),
        ("duplicate key", "malformed_json"),
        ("nested too deeply", "malformed_json"),
    ):
        if text.startswith(start):
            return label
    return "invalid_field"
