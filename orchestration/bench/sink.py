"""`python -m consumers bench`: how fast each sink drains a full topic into S3, next to the
broker's raw produce ceiling measured on the same broker in the same run, and against one object
per message.

The topic is filled with pre-serialised messages by the fastest producer client installed: that
fill's rate is the ceiling (how fast the broker takes records in). Each sink then runs as its
own process, in its own group, reading the whole topic (manual assignment, so group joins do not
count); its rate is records ÷ (last commit - first record polled) and its peak RSS is sampled
from outside. The baseline is the original design's consumer (`orchestration.bench.naive_sink`),
which is slow, so it reads a smaller sample: the figures compared are rates and per-record
ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import psutil
from rich.console import Console

from consumers.run import sink_command
from lakestream.core.console import figures_table
from lakestream.core.datasets import Dataset
from lakestream.core.settings import Settings
from lakestream.stack.embedded import private_stack
from orchestration.bench.producers import fastest_client
from orchestration.bench.report import Figure, machine, show
from producers import produce
from producers.run import RunOptions
from producers.sources import prepared_source, simulator_source
from simulator import Simulator
from simulator.simulation import SimulationConfig

err = Console(stderr=True)


@dataclass(frozen=True)
class SinkResult:
    name: str
    records: int
    objects: int
    seconds: float
    peak_rss_mb: float
    batches: int = 0
    state_writes: int = 0

    @property
    def per_s(self) -> float:
        return self.records / self.seconds

    @property
    def objects_per_million(self) -> float:
        return self.objects / self.records * 1_000_000


# (name, sink arguments): the default, librdkafka, and librdkafka with gzip's default level 6.
VARIANTS = (
    ("sink, kafka-python (auto on the embedded broker)", ("--client", "kafka-python")),
    ("sink, confluent", ("--client", "confluent")),
    ("sink, confluent, gzip level 6", ("--client", "confluent", "--compression-level", "6")),
)


def fill(settings: Settings, ds: Dataset, records: int) -> tuple[str, float]:
    """Send `records` pre-serialised messages as fast as the client can: (client, messages/s)."""
    client = fastest_client()
    sim = Simulator(SimulationConfig(seed=1), settings.datasets)
    prepared = list(simulator_source(sim, ds, records))
    result = produce(
        settings,
        [ds],
        lambda _ds: prepared_source(prepared),
        records,
        client=client,
        options=RunOptions(flush_timeout=600),
    )
    acked = sum(s.acked for s in result.stats)
    if acked != records:
        raise RuntimeError(f"only {acked:,} of {records:,} messages were acknowledged")
    return client, acked / result.seconds


def _run_measured(argv: list[str], env: dict[str, str]) -> tuple[str, float]:
    """Run a process to completion; its stdout and its peak RSS in MiB (sampled every 50 ms)."""
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ps = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        try:
            peak = max(peak, ps.memory_info().rss)
        except psutil.Error:
            break
        time.sleep(0.05)
    stdout, stderr = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[2]} failed: {stderr.decode()[-500:]}")
    return stdout.decode(), peak / 2**20


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m consumers bench",
        description="Records/s into S3 of each sink (kafka-python, librdkafka, librdkafka with "
        "gzip 6) next to the broker's raw produce ceiling, S3 objects per 1M records and peak "
        "RSS, against a one-object-per-message consumer, all in one run.",
    )
    parser.add_argument(
        "--records", type=int, default=300_000, help="records each sink reads (default %(default)s)"
    )
    parser.add_argument(
        "--naive-records", type=int, default=3_000, help="records the baseline reads"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    variants = [
        (name, args_)
        for name, args_ in VARIANTS
        if fastest_client() == "confluent" or "confluent" not in args_
    ]
    with private_stack(progress=lambda m: err.print(f"• {m}")) as settings:
        ds = settings.datasets.get("transactions")
        err.print(f"• filling {ds.topic} with {args.records:,} pre-serialised messages")
        client, ceiling = fill(settings, ds, args.records)
        env = {**os.environ, **settings.child_env()}
        sinks = []
        for i, (name, extra) in enumerate(variants):
            err.print(f"• {name}")
            command = sink_command(ds.name, 2, f"bench-{i}", "--json", "--assignment", "manual")
            out, rss = _run_measured([*command, *extra], env)
            [summary] = json.loads(out)
            sinks.append(
                SinkResult(
                    name,
                    summary["records"],
                    summary["objects"],
                    summary["busy_seconds"],
                    rss,
                    summary["batches"],
                    summary["state_writes"],
                )
            )
        err.print("• one object per message (baseline)")
        out, rss = _run_measured(
            [
                sys.executable,
                "-m",
                "orchestration.bench.naive_sink",
                "--limit",
                str(args.naive_records),
            ],
            env,
        )
        done, seconds = out.split()
        naive = SinkResult("one object per message", int(done), int(done), float(seconds), rss)

    results = [naive, *sinks]
    default = sinks[0]
    report = {
        "benchmark": "consumers",
        "machine": machine(),
        "ceiling": {"client": client, "messages_per_s": round(ceiling)},
        "results": [
            {
                "name": r.name,
                "records": r.records,
                "objects": r.objects,
                "seconds": round(r.seconds, 3),
                "records_per_s": round(r.per_s),
                "objects_per_million": round(r.objects_per_million),
                "peak_rss_mb": round(r.peak_rss_mb, 1),
                "batches": r.batches,
                "state_writes": r.state_writes,
                "to_ceiling": round(r.per_s / ceiling, 2),
            }
            for r in results
        ],
        "speedup": round(default.per_s / naive.per_s, 1),
        "objects_ratio": round(naive.objects_per_million / default.objects_per_million, 1),
    }
    table = figures_table(
        "consumers: S3 sink vs one object per message",
        ("consumer", "records", "records/s", "÷ ceiling", "objects per 1M", "peak RSS MiB"),
        ("consumer",),
    )
    for r in results:
        table.add_row(
            r.name,
            f"{r.records:,}",
            f"{r.per_s:,.0f}",
            f"{r.per_s / ceiling:.2f}",
            f"{r.objects_per_million:,.0f}",
            f"{r.peak_rss_mb:.0f}",
        )
    notes = (
        f"ceiling: {client} raw produce to the same broker, {ceiling:,.0f} messages/s",
        f"records/s: {report['speedup']}x the baseline; objects: 1/{report['objects_ratio']} of it",
    )
    return show(report, args.json, table, notes)


SINK_RSS_GOAL_MB = 150.0  # issue #17: at the default batch bound, whatever the volume


def section(quick: bool, ceiling: float | None) -> list[Figure]:
    """Each sink's drain rate next to the broker's raw produce ceiling: the higher of the
    producers section's (4 topics at once) and the sink bench's own (one topic, its broker)."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "consumers",
            "bench",
            "--json",
            "--records",
            "30000" if quick else "150000",
            "--naive-records",
            "300" if quick else "3000",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    ).stdout
    report = json.loads(out)
    naive, *sinks = report["results"]
    own = report["ceiling"]["messages_per_s"]
    client = report["ceiling"]["client"]
    # The ceiling moves a lot between runs on two shared cores: compare with the higher one.
    base, base_name = (
        (ceiling, f"{client} raw produce ceiling, 4 topics")
        if ceiling and ceiling > own
        else (own, f"{client} raw produce ceiling, 1 topic")
    )
    figures = [
        Figure("sink", f"{client} raw produce ceiling, 1 topic (the sinks' broker)", own, "msg/s")
    ]
    for sink in sinks:
        figures += [
            Figure(
                "sink", f"{sink['name']}: records/s into S3", sink["records_per_s"], "rec/s",
                base, base_name,
            ),
            Figure(
                "sink", f"{sink['name']}: peak RSS", sink["peak_rss_mb"], "MiB",
                SINK_RSS_GOAL_MB, "goal", lower_is_better=True,
            ),
        ]  # fmt: skip
    default = sinks[0]
    state_writes = default["state_writes"] / max(1, default["batches"])
    return [
        *figures,
        Figure(
            "sink",
            "records/s into S3 (default sink)",
            default["records_per_s"],
            "rec/s",
            naive["records_per_s"],
            "one object per message",
        ),
        Figure(
            "sink",
            "S3 objects per 1M records",
            default["objects_per_million"],
            "objects",
            naive["objects_per_million"],
            "one object per message",
            lower_is_better=True,
        ),
        Figure("sink", "state (manifest) writes per batch", state_writes, "writes"),
    ]
