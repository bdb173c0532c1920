"""One producing run: a thread per topic, a shared client, per-topic delivery accounting.

A message is *accepted* once handed to the client, then *acked* or *failed* when the broker
settles it. Stopping (count reached, duration over, Ctrl-C, SIGTERM, a source error) ends the
sending, never the accounting: the run always flushes, so whatever was accepted is delivered
or reported as failed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from lakestream.core.datasets import Dataset
from producers.clients import ProducerClient
from producers.rate import TokenBucket
from producers.sources import Chunk

log = logging.getLogger("producers")

MAX_LOGGED_FAILURES = 5  # per topic; the rest are counted


@dataclass
class DeliveryStats:
    """One topic's deliveries: accepted by the client, acknowledged, failed."""

    dataset: str
    topic: str
    accepted: int = 0
    acked: int = 0
    failed: int = 0
    error: str | None = None  # why the topic stopped early (bad input), if it did
    first_failure: str | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def report(self, failure: str | None) -> None:
        with self._lock:
            if failure is None:
                self.acked += 1
                return
            self.failed += 1
            if self.first_failure is None:
                self.first_failure = failure
            if self.failed <= MAX_LOGGED_FAILURES:
                log.error("%s: delivery failed: %s", self.topic, failure)

    @property
    def pending(self) -> int:
        return self.accepted - self.acked - self.failed

    @property
    def ok(self) -> bool:
        return self.error is None and self.failed == 0 and self.pending == 0

    def rate(self, now: float | None = None) -> float:
        end = self.finished or now or time.monotonic()
        return self.acked / max(end - self.started, 1e-9)


@dataclass
class TopicPlan:
    dataset: Dataset
    source: Iterator[Chunk]
    count: int | None = None  # stop after this many messages


@dataclass
class RunOptions:
    duration: float | None = None
    rate: float | None = None  # messages per second, per topic
    flush_timeout: float = 60.0


class ProduceRun:
    def __init__(self, client: ProducerClient, plans: list[TopicPlan], options: RunOptions):
        self.client = client
        self.plans = plans
        self.options = options
        self.stop = threading.Event()
        self.stats = [DeliveryStats(p.dataset.name, p.dataset.topic) for p in plans]
        self.flushed: bool | None = None
        self.interrupted = False

    def _work(self, plan: TopicPlan, stats: DeliveryStats) -> None:
        opts = self.options
        bucket = TokenBucket(opts.rate) if opts.rate else None
        # Sub-chunks keep stop/deadline checks and rate steps fine-grained.
        step = max(1, min(500, int(opts.rate / 20))) if opts.rate else 500
        deadline = stats.started + opts.duration if opts.duration else None
        send, topic, report = self.client.send, stats.topic, stats.report
        try:
            for chunk in plan.source:
                for i in range(0, len(chunk), step):
                    part = chunk[i : i + step]
                    if plan.count is not None:
                        part = part[: plan.count - stats.accepted]
                    if not part or self.stop.is_set():
                        return
                    if deadline is not None and time.monotonic() >= deadline:
                        return
                    if bucket is not None and not bucket.take(len(part), self.stop):
                        return
                    for key, value in part:
                        send(topic, key, value, report)
                    stats.accepted += len(part)
        except Exception as exc:  # a source error stops this topic only, with its reason
            stats.error = str(exc)
            log.error("%s: stopped: %s", topic, exc)
        finally:
            stats.finished = time.monotonic()

    def run(self, tick: Callable[[list[DeliveryStats]], None] | None = None) -> list[DeliveryStats]:
        threads = [
            threading.Thread(target=self._work, args=(plan, stats), name=f"produce-{stats.topic}")
            for plan, stats in zip(self.plans, self.stats, strict=True)
        ]
        for t in threads:
            t.start()
        try:
            while any(t.is_alive() for t in threads):
                for t in threads:
                    t.join(0.25)
                if tick:
                    tick(self.stats)
        except KeyboardInterrupt:
            # The caller is unwinding (Ctrl-C, or SIGTERM turned into it): stop the senders so
            # the process can exit instead of waiting on threads that send to a closing broker.
            self.request_stop()
            for t in threads:
                t.join(5)
            raise
        # Everything accepted gets its answer from the broker before we report.
        self.flushed = self.client.flush(self.options.flush_timeout)
        done = time.monotonic()
        for s in self.stats:
            s.finished = done  # rates count until the last acknowledgement
        if tick:
            tick(self.stats)
        return self.stats

    def request_stop(self) -> None:
        self.interrupted = True
        self.stop.set()
