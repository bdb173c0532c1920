"""The simulator's public surface: seeded streams of ready-to-send messages and of records.

    sim = Simulator(SimulationConfig(seed=7))
    for batch in sim.stream("transactions", batch_size=5000):
        producer.send_batch(batch.keys, batch.values)

A stream is endless unless given a limit; the same configuration gives the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import orjson

from lakestream.core.datasets import DatasetCatalog, default_catalog
from simulator.clock import DEFAULT_START, EventClock
from simulator.faults import corrupt
from simulator.generators import BLOCK, GENERATORS, Columns, DatasetGenerator, stream_seed
from simulator.world import WorldSize, world_for

DEFAULT_BATCH_SIZE = 5_000


@dataclass(frozen=True)
class SimulationConfig:
    seed: int = 42
    start: datetime = DEFAULT_START
    pace: dict[str, float] = field(default_factory=dict)  # dataset -> seconds between records
    late_fraction: float = 0.0
    max_lateness: float = 6 * 3600.0
    malformed_rate: float = 0.0
    campaigns: int = 100

    def __post_init__(self) -> None:
        for name in ("malformed_rate", "late_fraction"):
            if not 0.0 <= getattr(self, name) <= 1.0:  # NaN fails too
                raise ValueError(f"{name} must be between 0 and 1")
        if not 0.0 <= self.max_lateness < math.inf:
            raise ValueError("max_lateness must be a finite number of seconds, 0 or more")
        if bad := {k: v for k, v in self.pace.items() if not 0.0 <= v < math.inf}:
            raise ValueError(f"pace must be finite seconds, 0 or more: {bad}")
        if self.campaigns < 1:
            raise ValueError("campaigns must be >= 1")


@dataclass
class MessageBatch:
    """Consecutive messages of one dataset: keys and JSON values as bytes, ready to send."""

    dataset: str
    first_index: int
    keys: list[bytes]
    values: list[bytes]
    faults: dict[int, str] = field(default_factory=dict)  # position in batch -> fault kind

    def __len__(self) -> int:
        return len(self.values)


def rows(columns: Columns) -> list[dict[str, Any]]:
    """Columns to records (one dict per row, keys in catalog order)."""
    names = tuple(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


class Simulator:
    def __init__(
        self, config: SimulationConfig | None = None, catalog: DatasetCatalog | None = None
    ):
        self.config = config or SimulationConfig()
        self.dataset_catalog = catalog or default_catalog()
        self.world = world_for(self.config.seed, WorldSize(campaigns=self.config.campaigns))
        self._generators: dict[str, DatasetGenerator] = {}
        self._fault_rngs: dict[str, np.random.Generator] = {}
        self._fault_masks: dict[str, np.random.Generator] = {}
        self._fault_draws: dict[str, np.ndarray] = {}

    @property
    def datasets(self) -> list[str]:
        return [ds.name for ds in self.dataset_catalog]

    def generator(self, name: str) -> DatasetGenerator:
        """The stateful cursor of one dataset's stream (created on first use)."""
        if name not in self._generators:
            dataset = self.dataset_catalog.get(name)
            try:
                cls = GENERATORS[name]
            except KeyError:
                raise ValueError(
                    f"dataset {name!r} is in the catalog but has no generator; register one "
                    "in simulator/generators.py"
                ) from None
            cfg = self.config
            clock = EventClock(
                start=cfg.start,
                pace=cfg.pace.get(name, cls.default_pace),
                late_fraction=cfg.late_fraction,
                max_lateness=cfg.max_lateness,
            )
            self._generators[name] = cls(self.world, dataset, clock)
            # Which records are faulty (drawn in blocks) and how (drawn per fault, in order):
            # two streams, so that neither depends on the sizes the stream is read in.
            self._fault_rngs[name] = np.random.default_rng(stream_seed(cfg.seed, name, 1))
            self._fault_masks[name] = np.random.default_rng(stream_seed(cfg.seed, name, 2))
            self._fault_draws[name] = np.empty(0)
        return self._generators[name]

    def columns(self, name: str, n: int) -> Columns:
        return self.generator(name).columns(n)

    def records(self, name: str, n: int) -> list[dict[str, Any]]:
        """The next n well-formed records of a dataset (faults are a property of messages)."""
        return rows(self.columns(name, n))

    def messages(self, name: str, n: int) -> MessageBatch:
        """The next n messages: keyed by the dataset's key field, some malformed if configured."""
        gen = self.generator(name)
        first = gen.position
        cols = gen.columns(n)
        records = rows(cols)
        dumps = orjson.dumps
        values = [dumps(r) for r in records]
        keys = [k.encode() for k in cols[gen.dataset.key_field]]
        faults: dict[int, str] = {}
        rate = self.config.malformed_rate
        if rate > 0:
            draws = self._fault_draws[name]
            while len(draws) < n:
                draws = np.concatenate([draws, self._fault_masks[name].random(BLOCK)])
            mask, self._fault_draws[name] = draws[:n], draws[n:]
            rng = self._fault_rngs[name]
            for i in np.flatnonzero(mask < rate).tolist():
                faults[i], values[i] = corrupt(records[i], gen.dataset, rng)
        return MessageBatch(name, first, keys, values, faults)

    def stream(
        self, name: str, batch_size: int = DEFAULT_BATCH_SIZE, limit: int | None = None
    ) -> Iterator[MessageBatch]:
        """Batches of messages, endlessly or until `limit` messages have been yielded."""
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        sent = 0
        while limit is None or sent < limit:
            n = batch_size if limit is None else min(batch_size, limit - sent)
            yield self.messages(name, n)
            sent += n
