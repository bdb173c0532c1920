"""`python -m producers bench`: messages/s over the four topics, per client, against its raw
ceiling.

The raw ceiling is the same client sending pre-serialised messages (built before the clock
starts) through the same threads; the pipeline adds the simulator on the hot path. Both run in
the same process against the same broker, one after the other, so their ratio is meaningful on
a noisy machine. By default the benchmark starts a private embedded stack on free ports.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from rich.console import Console

from lakestream.core.console import figures_table
from lakestream.core.settings import Settings, load_settings
from lakestream.stack.embedded import private_stack
from orchestration.bench.report import Figure, machine, show
from producers.clients import CLIENTS
from producers.produce import SourceFor, produce
from producers.run import RunOptions
from producers.sources import Chunk, prepared_source, simulator_source
from simulator.simulation import SimulationConfig, Simulator

err = Console(stderr=True)


@dataclass(frozen=True)
class ClientResult:
    client: str
    messages: int
    raw_per_s: float
    pipeline_per_s: float

    @property
    def ratio(self) -> float:
        return self.pipeline_per_s / self.raw_per_s


def _timed(
    settings: Settings, client_name: str, source_for: SourceFor, count: int
) -> tuple[int, float]:
    result = produce(
        settings,
        list(settings.datasets),
        source_for,
        count,
        client=client_name,
        options=RunOptions(flush_timeout=300),
    )
    failed = sum(s.failed + s.pending for s in result.stats)
    if failed or not result.flushed:
        raise RuntimeError(f"{client_name}: {failed} messages not acknowledged during the bench")
    return sum(s.acked for s in result.stats), result.seconds


def bench_client(settings: Settings, client_name: str, count: int, seed: int) -> ClientResult:
    datasets = list(settings.datasets)
    # Raw ceiling: every message serialised before the clock starts.
    sim = Simulator(SimulationConfig(seed=seed), settings.datasets)
    prepared: dict[str, list[Chunk]] = {
        ds.name: list(simulator_source(sim, ds, count)) for ds in datasets
    }
    raw_n, raw_s = _timed(
        settings, client_name, lambda ds: prepared_source(prepared[ds.name]), count
    )
    sim = Simulator(SimulationConfig(seed=seed + 1), settings.datasets)
    pipe_n, pipe_s = _timed(
        settings, client_name, lambda ds: simulator_source(sim, ds, count), count
    )
    return ClientResult(client_name, pipe_n, raw_n / raw_s, pipe_n / pipe_s)


def available_clients() -> list[str]:
    """The clients themselves (`auto` is one of them, chosen by the broker's address)."""
    return [c for c in CLIENTS if c != "auto"]


def fastest_client() -> str:
    """librdkafka: the bench's senders and sinks that are not the thing measured."""
    return "confluent"


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m producers bench",
        description="Messages/s over the four topics for each client, and the ratio of the full "
        "pipeline (simulator + client) to the client's raw ceiling (pre-serialised messages).",
    )
    parser.add_argument("--count", type=int, default=25_000, help="messages per topic per run")
    parser.add_argument("--clients", nargs="+", choices=CLIENTS, default=available_clients())
    parser.add_argument(
        "--use-running",
        action="store_true",
        help="use the configured Kafka (KAFKA_BOOTSTRAP_SERVERS) instead of a private stack",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print a JSON report")
    args = parser.parse_args(argv)

    with _stack(args.use_running) as settings:
        results = []
        for name in args.clients:
            err.print(f"• {name}: {args.count:,} messages per topic, raw then pipeline")
            results.append(bench_client(settings, name, args.count, args.seed))

    report = {
        "benchmark": "producers",
        "unit": "acknowledged messages per second over four topics (one process)",
        "machine": machine(),
        "results": [{**asdict(r), "ratio": round(r.ratio, 2)} for r in results],
    }
    table = figures_table(
        f"producers: {report['unit']}",
        ("client", "raw ceiling", "pipeline", "pipeline / raw"),
        ("client",),
    )
    for r in results:
        table.add_row(r.client, f"{r.raw_per_s:,.0f}", f"{r.pipeline_per_s:,.0f}", f"{r.ratio:.2f}")
    by = {r.client: r for r in results}
    notes = []
    if "kafka-python" in by and "confluent" in by:
        speedup = by["confluent"].pipeline_per_s / by["kafka-python"].pipeline_per_s
        notes.append(f"confluent / kafka-python (pipeline): {speedup:.1f}x")
    return show(report, args.json, table, notes)


def section(settings: Settings, quick: bool) -> list[Figure]:
    """`make bench`'s producer figures: each client installed, pipeline vs its raw ceiling."""
    figures = []
    for client in available_clients():
        r = bench_client(settings, client, 5_000 if quick else 25_000, seed=1)
        figures.append(
            Figure(
                "producers",
                f"{client} msg/s (4 topics)",
                r.pipeline_per_s,
                "msg/s",
                r.raw_per_s,
                f"{client} raw ceiling",
            )
        )
    return figures


@contextmanager
def _stack(use_running: bool) -> Iterator[Settings]:
    if use_running:
        yield load_settings()
    else:
        with private_stack(progress=lambda m: err.print(f"• {m}")) as settings:
            yield settings
