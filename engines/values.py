"""Engine values to JSON, in one place: the API and `python -m glue sql` (JSON and table).

Timestamps keep milliseconds (the lake stores them at that precision), dates are ISO dates,
decimals become numbers and bytes text.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any


def json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="milliseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value
