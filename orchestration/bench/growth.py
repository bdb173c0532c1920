"""`make bench`'s growth section: does the local stack's cost stay flat as data grows?

Successive millions (250,000 records per dataset) go into one embedded stack, as `make up`
runs it (the broker's log in moto). Each million is produced, then drained by a sink process
that resumes from the last one's commits. Per million: the drain rate (records ÷ the sink's
busy time), the S3 objects it wrote, and the peak RSS of moto, the broker and the sink, sampled
from outside. The baseline of each later million is the first one, measured in the same run.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
from dataclasses import dataclass

import psutil
from rich.console import Console

from consumers.run import sink_command
from lakestream.core.settings import Settings
from lakestream.stack.embedded import EmbeddedStack
from orchestration.bench.producers import fastest_client
from orchestration.bench.report import Figure
from producers import produce
from producers.run import RunOptions
from producers.sources import prepared_source, simulator_source
from simulator import Simulator
from simulator.simulation import SimulationConfig

err = Console(stderr=True)

FULL = (10, 1_000_000)  # waves, records per wave
QUICK = (3, 100_000)
SAMPLE_S = 0.2


@dataclass(frozen=True)
class Wave:
    records: int
    objects: int
    busy_seconds: float
    peak_rss_mb: dict[str, float]

    @property
    def per_s(self) -> float:
        return self.records / self.busy_seconds


class PeakRss:
    """Peak resident memory of named processes, sampled every SAMPLE_S in a thread."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.peaks = dict.fromkeys(pids, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def add(self, name: str, pid: int) -> None:
        self.procs[name] = psutil.Process(pid)
        self.peaks.setdefault(name, 0)

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            for name, proc in list(self.procs.items()):
                with contextlib.suppress(psutil.Error):
                    self.peaks[name] = max(self.peaks[name], proc.memory_info().rss)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def mib(self) -> dict[str, float]:
        return {name: peak / 2**20 for name, peak in self.peaks.items()}


def drain(settings: Settings, names: str, stack_pids: dict[str, int]) -> Wave:
    """One sink process reads what the last one left; its summary and everyone's peak RSS."""
    command = sink_command(names, 1, "bench-growth", "--json", "--assignment", "manual")
    with PeakRss(stack_pids) as rss:
        proc = subprocess.Popen(
            command,
            env={**os.environ, **settings.child_env()},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        rss.add("sink", proc.pid)
        stdout, stderr = proc.communicate(timeout=1800)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, command, stdout, stderr)
    summaries = json.loads(stdout)
    return Wave(
        records=sum(s["records"] for s in summaries),
        objects=sum(s["objects"] for s in summaries),
        # One thread per topic works at once: the drain lasts as long as the slowest.
        busy_seconds=max(s["busy_seconds"] for s in summaries),
        peak_rss_mb=rss.mib(),
    )


def section(settings: Settings, quick: bool) -> list[Figure]:
    waves, per_wave = QUICK if quick else FULL
    per_dataset = per_wave // len(settings.datasets)
    client = fastest_client()
    sim = Simulator(SimulationConfig(seed=11), settings.datasets)
    # Made once and sent again every wave: the producer's cost stays out of the drain's.
    prepared = {ds.name: list(simulator_source(sim, ds, per_dataset)) for ds in settings.datasets}
    stack = EmbeddedStack(settings)
    pids = {"moto": stack.moto.pid, "broker": stack.broker.pid}
    names = ",".join(ds.name for ds in settings.datasets)
    results: list[Wave] = []
    for n in range(1, waves + 1):
        produce(
            settings,
            list(settings.datasets),
            lambda ds: prepared_source(prepared[ds.name]),
            per_dataset,
            client=client,
            options=RunOptions(flush_timeout=900),
        )
        wave = drain(settings, names, {k: v for k, v in pids.items() if v})
        if wave.records != per_dataset * len(settings.datasets):
            raise RuntimeError(f"wave {n}: drained {wave.records:,} of {per_wave:,} records")
        results.append(wave)
        rss = ", ".join(f"{k} {v:,.0f} MiB" for k, v in wave.peak_rss_mb.items())
        err.print(f"  wave {n}: {wave.per_s:,.0f} rec/s, {wave.objects:,} objects; peak RSS {rss}")
    return figures(results, per_wave)


def figures(waves: list[Wave], per_wave: int) -> list[Figure]:
    first, last = waves[0], waves[-1]
    unit = f"{per_wave / 1e6:g}M" if per_wave >= 1_000_000 else f"{per_wave:,}"
    out = []
    for n, wave in enumerate(waves, start=1):
        out.append(
            Figure(
                "growth",
                f"wave {n} of {unit} records: drain records/s",
                wave.per_s,
                "rec/s",
                None if n == 1 else first.per_s,
                "" if n == 1 else "1st wave",
            )
        )
        out.append(Figure("growth", f"wave {n}: S3 objects written", wave.objects, "objects"))
        for name, mib in wave.peak_rss_mb.items():
            out.append(Figure("growth", f"wave {n}: peak RSS {name}", mib, "MiB"))
    out.append(
        Figure(
            "growth",
            f"last wave's drain rate ({len(waves)} waves; goal ≥ 0.8x)",
            last.per_s,
            "rec/s",
            first.per_s,
            "1st wave",
        )
    )
    out.append(
        Figure(
            "growth",
            "last wave's objects (goal ≤ 1.5x more)",
            last.objects,
            "objects",
            first.objects,
            "1st wave",
            lower_is_better=True,
        )
    )
    return out
