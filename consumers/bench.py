"""Sink benchmark: records/s into S3 and objects per 1M records, against one object per message.

Both consumers run as their own processes against a private embedded stack, one after the
other, reading the same topic; peak RSS is sampled from outside. The baseline is the original
design's consumer (`consumers.naive`), which is slow, so it reads a smaller sample: the figures
compared are rates and per-record ratios, not totals.
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
from lakestream.core.console import figures_table, out_console
from lakestream.stack.embedded import private_stack
from producers import produce_simulated
from simulator.bench import machine
from simulator.simulation import SimulationConfig

err = Console(stderr=True)


@dataclass(frozen=True)
class SinkResult:
    name: str
    records: int
    objects: int
    seconds: float
    peak_rss_mb: float

    @property
    def per_s(self) -> float:
        return self.records / self.seconds

    @property
    def objects_per_million(self) -> float:
        return self.objects / self.records * 1_000_000


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
        description="Records/s into S3 and S3 objects per 1M records for the batching sink and "
        "for a one-object-per-message consumer, in the same run; peak RSS of each.",
    )
    parser.add_argument("--records", type=int, default=100_000, help="records the sink reads")
    parser.add_argument(
        "--naive-records", type=int, default=3_000, help="records the baseline reads"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    with private_stack(progress=lambda m: err.print(f"• {m}")) as settings:
        ds = settings.datasets.get("transactions")
        err.print(f"• producing {args.records:,} transactions")
        produce_simulated(settings, args.records, [ds], config=SimulationConfig(seed=1))
        env = {**os.environ, **settings.child_env()}
        err.print("• batching sink")
        out, rss = _run_measured(
            sink_command("transactions", 2, "bench", "--json"),
            env,
        )
        [summary] = json.loads(out)
        batched = SinkResult(
            "batched sink (this project)",
            summary["records"],
            summary["objects"],
            summary["busy_seconds"],
            rss,
        )
        err.print("• one object per message (baseline)")
        out, rss = _run_measured(
            [sys.executable, "-m", "consumers.naive", "--limit", str(args.naive_records)], env
        )
        done, seconds = out.split()
        naive = SinkResult("one object per message", int(done), int(done), float(seconds), rss)

    results = [naive, batched]
    report = {
        "benchmark": "consumers",
        "machine": machine(),
        "results": [
            {
                "name": r.name,
                "records": r.records,
                "objects": r.objects,
                "seconds": round(r.seconds, 3),
                "records_per_s": round(r.per_s),
                "objects_per_million": round(r.objects_per_million),
                "peak_rss_mb": round(r.peak_rss_mb, 1),
            }
            for r in results
        ],
        "speedup": round(batched.per_s / naive.per_s, 1),
        "objects_ratio": round(naive.objects_per_million / batched.objects_per_million, 1),
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    table = figures_table(
        "consumers: S3 sink vs one object per message",
        ("consumer", "records", "records/s", "objects per 1M records", "peak RSS MiB"),
        ("consumer",),
    )
    for r in results:
        table.add_row(
            r.name,
            f"{r.records:,}",
            f"{r.per_s:,.0f}",
            f"{r.objects_per_million:,.0f}",
            f"{r.peak_rss_mb:.0f}",
        )
    out_console(120).print(table)
    print(
        f"records/s: {report['speedup']}x the baseline; objects: 1/{report['objects_ratio']} of it"
    )
    m = report["machine"]
    print(f"machine: {m['processor']}, {m['cpus']} cpus, Python {m['python']}")
    return 0
