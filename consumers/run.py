"""The consumers' facade: a set of sink workers, built, started, joined, their errors collected.

The CLI, the demo, the benchmarks and the tests run the sink through `SinkRun`, so the recipe
(stop and abort events → a worker per dataset and thread → start → join → errors) is written
once. `stop` ends gracefully (open batches are written and committed); `abort` abandons them.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from consumers.sink import SinkOptions, SinkStats, SinkWorker
from lakestream.core.datasets import Dataset
from lakestream.core.settings import Settings


def sink_command(datasets: str, until_idle: float, group_prefix: str, *options: str) -> list[str]:
    """argv of a sink process that drains `datasets` and exits (benchmarks measure it apart)."""
    return [
        sys.executable,
        "-m",
        "consumers",
        "--topics",
        datasets,
        "--until-idle",
        f"{until_idle:g}",
        "--quiet",
        "--group-prefix",
        group_prefix,
        *options,
    ]


class SinkRun:
    def __init__(
        self,
        settings: Settings,
        datasets: list[Dataset],
        options: SinkOptions,
        threads_per_topic: int = 1,
        name: str = "",
    ) -> None:
        self.stop = threading.Event()
        self.abort = threading.Event()
        self.stats = [SinkStats(ds.name, ds.topic) for ds in datasets]
        prefix = f"{name}-" if name else ""
        self.workers = [
            SinkWorker(
                settings,
                ds,
                options,
                st,
                self.stop,
                self.abort,
                f"{prefix}{ds.name}-{i}",
                share=(i, threads_per_topic),
            )
            for ds, st in zip(datasets, self.stats, strict=True)
            for i in range(threads_per_topic)
        ]

    def start(self) -> SinkRun:
        for worker in self.workers:
            worker.start()
        return self

    @property
    def alive(self) -> bool:
        return any(w.is_alive() for w in self.workers)

    def wait(self, tick: Callable[[list[SinkStats]], None] | None = None) -> None:
        """Until every worker has ended (idle, stopped or failed); `tick` runs 4 times a second.

        A worker that fails stops the whole run: the others write and commit what they hold and
        end, and the run reports the failure (the command exits 1). A process left running with
        one topic stalled would look healthy while that topic's lag grows; ending it lets a
        supervisor (systemd's Restart=on-failure on AWS) start it again, from the committed
        offsets."""
        while self.alive:
            for worker in self.workers:
                worker.join(0.25)
            if not self.stop.is_set() and any(w.error for w in self.workers):
                self.request_stop()
            if tick:
                tick(self.stats)

    def run(self, tick: Callable[[list[SinkStats]], None] | None = None) -> SinkRun:
        """Start and wait: with `until_idle` in the options, a drain of what the topics hold."""
        self.start()
        self.wait(tick)
        return self

    def request_stop(self) -> None:
        """Ask every worker to write and commit its open batches, then end (`wait` joins them).
        Returns at once: a signal handler calls it."""
        self.stop.set()

    @property
    def errors(self) -> list[str]:
        """Failed workers, and finite runs that ended with data left in Kafka."""
        return [
            f"{w.name}: {w.error or w.incomplete}" for w in self.workers if w.error or w.incomplete
        ]

    @property
    def records(self) -> int:
        return sum(s.records for s in self.stats)

    @property
    def dead_letters(self) -> int:
        return sum(s.dead_letters for s in self.stats)

    @property
    def objects(self) -> int:
        return sum(s.objects for s in self.stats)
