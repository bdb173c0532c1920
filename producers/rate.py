"""A token bucket: at most `rate` tokens per second, with a burst of one tenth of a second."""

from __future__ import annotations

import threading
import time


class TokenBucket:
    def __init__(self, rate: float, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be > 0")
        self.rate = rate
        self.capacity = max(1.0, burst if burst is not None else rate / 10)
        self.tokens = self.capacity
        self.updated = time.monotonic()

    def take(self, n: int, stop: threading.Event | None = None) -> bool:
        """Block until n tokens are available and take them; False if `stop` was set first."""
        while True:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens >= n or (n > self.capacity and self.tokens >= self.capacity):
                self.tokens -= n  # may go negative for n > capacity: later takes wait longer
                return True
            wait = (min(n, self.capacity) - self.tokens) / self.rate
            if stop is not None:
                if stop.wait(wait):
                    return False
            else:
                time.sleep(wait)
