"""Event time: record i of a stream happens at start + i * pace, unless it arrives late.

Time is a function of the record's position, never of the wall clock, so a seed reproduces the
same times. A fraction of records can be late (their event time lies up to `max_lateness`
before their position's time), which is what makes a sink keep one buffer per date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import numpy as np

DEFAULT_START = datetime(2024, 10, 1, tzinfo=UTC)  # the seed data's month

_SECONDS_PER_DAY = 86_400


@cache
def _time_of_day() -> np.ndarray:
    """The text "HH:MM:SS" of every second of a day: formatting by lookup beats strftime. Built
    once, on first use, not at import: it takes a tenth of a second that every command importing
    the simulator (the producers, the sink's bench) would otherwise pay for nothing."""
    return np.array(
        [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(_SECONDS_PER_DAY)],
        dtype=object,
    )


@dataclass(frozen=True)
class EventClock:
    start: datetime = DEFAULT_START
    pace: float = 1.0  # seconds of event time between consecutive records
    late_fraction: float = 0.0
    max_lateness: float = 6 * 3600.0  # seconds

    def __post_init__(self) -> None:
        if self.pace < 0:
            raise ValueError("pace must be >= 0 seconds")
        if not 0.0 <= self.late_fraction <= 1.0:
            raise ValueError("late_fraction must be between 0 and 1")
        if self.max_lateness < 0:
            raise ValueError("max_lateness must be >= 0 seconds")

    @property
    def start_epoch(self) -> int:
        start = self.start if self.start.tzinfo else self.start.replace(tzinfo=UTC)
        return int(start.timestamp())

    def times(self, first_index: int, n: int, rng: np.random.Generator) -> np.ndarray:
        """Event times (epoch seconds, int64) of records first_index .. first_index + n - 1."""
        idx = np.arange(first_index, first_index + n, dtype=np.float64)
        t = self.start_epoch + idx * self.pace
        if self.late_fraction > 0:
            late = rng.random(n) < self.late_fraction
            t = t - late * rng.uniform(0, self.max_lateness, n)
        return t.astype(np.int64)


def to_dates(epoch_seconds: np.ndarray) -> list[str]:
    """'YYYY-MM-DD' strings (UTC)."""
    days = (epoch_seconds // _SECONDS_PER_DAY).astype("datetime64[D]")
    return np.datetime_as_string(days).tolist()


def to_timestamps(epoch_seconds: np.ndarray) -> list[str]:
    """'YYYY-MM-DD HH:MM:SS' strings (UTC), the format Athena reads as a timestamp."""
    dates = to_dates(epoch_seconds)
    times = _time_of_day()[epoch_seconds % _SECONDS_PER_DAY].tolist()
    return [f"{d} {t}" for d, t in zip(dates, times, strict=True)]
