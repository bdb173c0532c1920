"""The producers' facade: one call produces to the catalog's topics, from any source.

The CLI, the demo, the benchmarks, the notebooks and the tests all produce through here, so the
recipe (topics exist → client → plans → threaded run → flush → close) is written once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from lakestream.core.datasets import Dataset
from lakestream.core.settings import Settings
from producers.clients import make_client
from producers.run import DeliveryStats, ProduceRun, RunOptions, TopicPlan
from producers.sources import Chunk, simulator_source
from producers.topics import ensure_topics
from simulator.simulation import SimulationConfig, Simulator

SourceFor = Callable[[Dataset], Iterator[Chunk]]


@dataclass
class ProduceResult:
    stats: list[DeliveryStats]
    flushed: bool
    interrupted: bool
    created_topics: list[str]
    client: str

    @property
    def ok(self) -> bool:
        return self.flushed and all(s.ok for s in self.stats)

    @property
    def acked(self) -> dict[str, int]:
        """Acknowledged messages per dataset name."""
        return {s.dataset: s.acked for s in self.stats}

    @property
    def seconds(self) -> float:
        """From the first thread's start to the last acknowledgement."""
        return max(s.finished or s.started for s in self.stats) - min(s.started for s in self.stats)


def produce(
    settings: Settings,
    datasets: list[Dataset],
    source_for: SourceFor,
    count: int | None,
    *,
    client: str = "auto",
    options: RunOptions | None = None,
    create_topics: bool = True,
    on_start: Callable[[ProduceRun], None] | None = None,
    tick: Callable[[list[DeliveryStats]], None] | None = None,
) -> ProduceResult:
    """Send `count` messages (None: until the source ends) per dataset, one thread per topic.

    `on_start` receives the run before it starts (a CLI hooks its signals there); `tick` is
    called with the live statistics while it runs.
    """
    created = ensure_topics(settings, datasets, create=create_topics)
    producer = make_client(client, settings)
    try:
        plans = [TopicPlan(ds, source_for(ds), count) for ds in datasets]
        run = ProduceRun(producer, plans, options or RunOptions())
        if on_start:
            on_start(run)
        stats = run.run(tick)
    finally:
        producer.close()
    return ProduceResult(stats, bool(run.flushed), run.interrupted, created, producer.name)


def produce_simulated(
    settings: Settings,
    count: int | None,
    datasets: list[Dataset] | None = None,
    *,
    config: SimulationConfig | None = None,
    client: str = "auto",
    options: RunOptions | None = None,
    on_start: Callable[[ProduceRun], None] | None = None,
    tick: Callable[[list[DeliveryStats]], None] | None = None,
) -> ProduceResult:
    """`count` simulated messages per dataset (all of the catalog's by default)."""
    sim = Simulator(config or SimulationConfig(), settings.datasets)
    chosen = datasets if datasets is not None else list(settings.datasets)
    return produce(
        settings,
        chosen,
        lambda ds: simulator_source(sim, ds, count),
        count,
        client=client,
        options=options,
        on_start=on_start,
        tick=tick,
    )
