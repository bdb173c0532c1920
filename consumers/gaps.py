"""Asking the broker whether a gap in what the sink was delivered is really a gap in its log.

A consumer is handed offsets with holes in them where the log holds no record: transaction
markers and compacted records on a real Kafka, batches the embedded broker lost. The audit tells
those from the pipeline's own losses (curation/reconcile.py, `skipped`), so the count must not
rest on the sink's belief of where it was reading: a missed seek or a silent offset reset would
then hide a loss. Each gap is checked by fetching at its first offset with a consumer of its own
(no group): if the first record the broker serves from there is past the gap, the gap is the
broker's; if it serves one inside it, the sink missed records, which stay unaccounted.
"""

from __future__ import annotations

import logging
import time

from kafka import KafkaConsumer, TopicPartition

from lakestream.core import clients
from lakestream.core.settings import Settings

log = logging.getLogger("consumers")

PROBE_TIMEOUT_S = 5.0
MAX_PROBES_PER_BATCH = 16  # beyond: gaps stay unverified, so unaccounted (never hidden)


class GapProbe:
    def __init__(self, settings: Settings, topic: str) -> None:
        self.settings = settings
        self.topic = topic
        self._consumer: KafkaConsumer | None = None

    def _client(self) -> KafkaConsumer:
        if self._consumer is None:
            # "none": an offset below the log's start raises instead of moving elsewhere.
            self._consumer = clients.kafka_consumer(
                self.settings, auto_offset_reset="none", max_partition_fetch_bytes=1024 * 1024
            )
        return self._consumer

    def not_served(self, partition: int, start: int, end: int) -> bool:
        """True only if the broker serves no record at offsets [start, end): a fetch at `start`
        returns a record at `end` or later. Anything else (a record inside, an error, no
        answer) is False."""
        try:
            consumer = self._client()
            tp = TopicPartition(self.topic, partition)
            consumer.assign([tp])
            consumer.seek(tp, start)
            deadline = time.monotonic() + PROBE_TIMEOUT_S
            while time.monotonic() < deadline:
                records = consumer.poll(timeout_ms=500, max_records=1).get(tp, [])
                if records:
                    served = records[0].offset
                    if served < end:
                        log.error(
                            "%s partition %d: the broker serves offset %d, which the sink was "
                            "never delivered; it stays unaccounted in the audit",
                            self.topic,
                            partition,
                            served,
                        )
                    return served >= end
        except Exception as exc:  # a figure for the audit only: never stop the sink for it
            log.warning(
                "%s partition %d: cannot check the gap [%d, %d) with the broker (%s)",
                self.topic,
                partition,
                start,
                end,
                exc,
            )
        return False

    def count(self, partition: int, gaps: list[tuple[int, int]]) -> int:
        """How many offsets of `gaps` the broker confirms it does not serve."""
        confirmed = 0
        for start, end in gaps[:MAX_PROBES_PER_BATCH]:
            if self.not_served(partition, start, end):
                confirmed += end - start
        if len(gaps) > MAX_PROBES_PER_BATCH:
            log.warning(
                "%s partition %d: %d gaps in one batch; only the first %d were checked",
                self.topic,
                partition,
                len(gaps),
                MAX_PROBES_PER_BATCH,
            )
        return confirmed

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None
