"""Asking the broker whether a gap in what the sink was delivered is really a gap in its log.

A consumer is handed offsets with holes in them where the log holds no record: transaction
markers and compacted records on a real Kafka, batches the embedded broker lost. The audit tells
those from the pipeline's own losses (curation/reconcile.py, `skipped`), so the count must not
rest on the sink's belief of where it was reading: a missed seek or a silent offset reset would
then hide a loss. Each gap is checked by fetching at its first offset with a consumer of its own
(no group, the sink's isolation level): if the first record the broker serves from there is past
the gap, the gap is the broker's; if it serves one inside it, the sink missed records, which
stay unaccounted.

The checks of one flush share one budget (PROBE_BUDGET_S) and run before the flush confirms its
leases, so they never eat into the time a lease is trusted. A gap left unchecked (budget spent,
broker unreachable) is written on the batch's objects as unchecked; `lakestream audit` asks the
broker about it again, and counts it as unaccounted, never hidden, unless the broker confirms.
On a topic written with transactions every commit leaves a one-offset marker, so a batch holds
many gaps: the audit checks those its sink had no time for (README, "Reconciliation").
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from kafka import KafkaConsumer, TopicPartition

from lakestream.core import clients
from lakestream.core.settings import Settings

log = logging.getLogger("consumers")

PROBE_BUDGET_S = 5.0  # per flush, for every gap of every partition
RETRY_AFTER_S = 60.0  # after the probe could not reach the broker


@dataclass
class Checked:
    """One partition's gaps after the checks: offsets confirmed as the broker's, ranges left
    unchecked."""

    confirmed: int = 0
    unchecked: list[tuple[int, int]] = field(default_factory=list)


class GapProbe:
    def __init__(
        self,
        settings: Settings,
        topic: str,
        read_committed: bool = False,
        stopping: Callable[[], bool] = lambda: False,
    ) -> None:
        self.settings = settings
        self.topic = topic
        self.isolation = "read_committed" if read_committed else "read_uncommitted"
        self.stopping = stopping
        self._consumer: KafkaConsumer | None = None
        self._unreachable_until = 0.0

    def _client(self, budget_s: float) -> KafkaConsumer | None:
        if self._consumer is None and time.monotonic() >= self._unreachable_until:
            try:
                # "none": an offset below the log's start raises instead of moving elsewhere.
                self._consumer = clients.kafka_consumer(
                    self.settings,
                    auto_offset_reset="none",
                    isolation_level=self.isolation,
                    bootstrap_timeout_ms=max(1, int(budget_s * 1000)),
                    fetch_max_wait_ms=100,
                    max_partition_fetch_bytes=1024 * 1024,
                )
            except Exception as exc:
                self._unreachable_until = time.monotonic() + RETRY_AFTER_S
                log.warning("%s: cannot reach the broker to check gaps (%s)", self.topic, exc)
        return self._consumer

    def _not_served(self, tp: TopicPartition, start: int, end: int, deadline: float) -> bool | None:
        """True: the broker serves no record at [start, end); False: it serves one there;
        None: no answer before the deadline."""
        if time.monotonic() >= deadline:
            return None
        consumer = self._client(deadline - time.monotonic())
        if consumer is None:
            return None
        consumer.assign([tp])
        consumer.seek(tp, start)
        while time.monotonic() < deadline and not self.stopping():
            left_ms = max(1, int((deadline - time.monotonic()) * 1000))
            records = consumer.poll(timeout_ms=min(500, left_ms), max_records=1).get(tp, [])
            if records:
                served = records[0].offset
                if served < end:
                    log.error(
                        "%s partition %d: the broker serves offset %d, which the sink was never "
                        "delivered; it stays unaccounted in the audit",
                        self.topic,
                        tp.partition,
                        served,
                    )
                return served >= end
        return None

    def count(
        self, gaps: dict[int, list[tuple[int, int]]], budget_s: float | None = None
    ) -> dict[int, Checked]:
        """Per partition, how many offsets of its `gaps` the broker confirms it does not serve,
        and the ranges left unchecked, all checked within one budget (PROBE_BUDGET_S)."""
        budget_s = PROBE_BUDGET_S if budget_s is None else budget_s
        deadline = time.monotonic() + budget_s
        checked = {p: Checked() for p in gaps}
        unchecked = 0
        for partition, ranges in gaps.items():
            tp = TopicPartition(self.topic, partition)
            for i, (start, end) in enumerate(ranges):
                try:
                    verdict = self._not_served(tp, start, end, deadline)
                except Exception as exc:  # a figure for the audit: never stop the sink for it
                    log.warning(
                        "%s partition %d: cannot check the gap [%d, %d) (%s)",
                        self.topic,
                        partition,
                        start,
                        end,
                        exc,
                    )
                    verdict = False  # e.g. below the log's start: expired, not the broker's gap
                if verdict is None:  # out of time: this one and the rest stay unchecked
                    checked[partition].unchecked = ranges[i:]
                    unchecked += len(ranges) - i
                    break
                if verdict:
                    checked[partition].confirmed += end - start
        if unchecked:
            log.warning(
                "%s: %d gaps left unchecked within %.0fs; they are not counted as skipped",
                self.topic,
                unchecked,
                budget_s,
            )
        return checked

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
