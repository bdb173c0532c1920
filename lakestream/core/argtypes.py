"""Argument types shared by the command lines: each rejects bad input with a one-line reason."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from datetime import UTC, datetime


def positive(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    """A number greater than 0 of the given kind."""
    return _at_least(kind, 0, inclusive=False)


def non_negative(kind: type[int] | type[float]) -> Callable[[str], int | float]:
    """A number of the given kind, 0 or more."""
    return _at_least(kind, 0, inclusive=True)


def at_least(kind: type[int] | type[float], bound: float) -> Callable[[str], int | float]:
    """A number of the given kind, `bound` or more."""
    return _at_least(kind, bound, inclusive=True)


def _at_least(
    kind: type[int] | type[float], bound: float, inclusive: bool
) -> Callable[[str], int | float]:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text} is not a finite number")
        if not (value >= bound if inclusive else value > bound):
            relation = f"{bound:g} or more" if inclusive else f"greater than {bound:g}"
            raise argparse.ArgumentTypeError(f"{text} must be {relation}")
        return value

    return parse


def iso_datetime(text: str) -> datetime:
    """An ISO date or date-time, e.g. 2024-10-01 or 2024-10-01T08:00:00 (no zone: UTC)."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO date or date-time, e.g. 2024-10-01T08:00:00"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def between(kind: type[int] | type[float], low: float, high: float) -> Callable[[str], int | float]:
    """A number of the given kind from `low` to `high`."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is not between {low:g} and {high:g}")
        return value

    return parse


fraction = between(float, 0.0, 1.0)  # a share: 0 to 1
port = between(int, 0, 65535)  # a TCP port, or 0 for none
