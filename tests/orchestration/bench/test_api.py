"""The API section's load windows (pure logic: a stand-in for the HTTP call)."""

from __future__ import annotations

import itertools
import threading
import time

from orchestration.bench.api import _answered, _load


def test_a_window_keeps_each_client_busy_until_it_ends_and_numbers_every_request():
    seen: list[str] = []
    lock = threading.Lock()

    def call(path: str) -> tuple[float, bool, bool]:
        time.sleep(0.01)
        with lock:
            seen.append(path)
        return 10.0, path != "p3", False

    numbers = itertools.count()
    results, wall = _load(call, lambda i: f"p{i}", numbers, 4, 0.2)
    assert len(results) == len(seen) >= 4 * 5  # four clients, about 20 calls each
    assert len(set(seen)) == len(seen)  # every request its own number, across the threads
    assert 0.2 <= wall < 5
    assert _answered(results) == len(results) - 1  # "p3" failed: it is not a request served
    assert next(numbers) == len(seen)  # the next window goes on counting
