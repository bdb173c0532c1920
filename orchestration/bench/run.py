"""`lakestream bench` (`make bench`): every figure beside its baseline, in one run, with a report
and a chart.

Sections: simulator (vs a naive Faker loop), producers (vs each client's raw ceiling), sink (each
client's drain rate and RSS vs the raw produce ceiling, and vs one object per message), end to end
(saturation rate, then send → landed/queryable latency at half of it; with the broker's log in moto
as `make up` runs it, and with BENCH_E2E_MEMORY=1 also in memory), growth (drain rate, objects and
memory over successive millions, each against the first), API latency (JSON lines vs Parquet, 1 vs
16 clients), curated layer, and a short soak (faults while the pipeline runs; lost and duplicated
records). Each runs against a private embedded stack on free ports.
BENCH_QUICK=1 shrinks every workload so the whole run takes a few minutes.

A section that fails is recorded in the report with its error and the tail of its subprocess's
stderr; the others still run, and the run exits 1. The report is written again after each
section, so what was measured is kept whatever happens later.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Literal

from rich.console import Console

from lakestream.core.console import figures_table, out_console
from lakestream.core.errors import describe
from lakestream.core.settings import Settings
from lakestream.stack.embedded import private_stack
from orchestration.bench import (
    SECTIONS,
    api,
    curated,
    end_to_end,
    growth,
    producers,
    simulator,
    sink,
)
from orchestration.bench.report import (
    Failure,
    Figure,
    machine,
    machine_line,
    write_chart,
    write_report,
)

err = Console(stderr=True)

Section = Callable[[], list[Figure]]
STDERR_TAIL = 3000  # characters of a failed subprocess's stderr kept in the report


def failure(section: str, exc: BaseException) -> Failure:
    """What the report says of a section that raised."""
    stderr = exc.stderr if isinstance(exc, subprocess.SubprocessError) else None  # timeouts too
    if isinstance(stderr, bytes):
        stderr = stderr.decode(errors="replace")
    return Failure(section, describe(exc), (stderr or "")[-STDERR_TAIL:])


def run_sections(sections: dict[str, Section], out: Path, figures: list[Figure]) -> list[Failure]:
    """Each section in turn, its figures added to `figures` (a later section may read an
    earlier one's); the report is rewritten after each one, failed or not."""
    failures: list[Failure] = []
    m = machine()
    for name, measure in sections.items():
        err.print(f"• {name}")
        started = time.monotonic()
        try:
            figures += measure()
        except Exception as exc:  # one section's failure must not throw the run's figures away
            failures.append(failure(name, exc))
            err.print(
                f"  {name} failed after {time.monotonic() - started:.0f}s: {exc}",
                markup=False,
                highlight=False,
            )
        figures.append(Figure("run", f"{name}: section time", time.monotonic() - started, "s"))
        write_report(figures, failures, out, m)
    return failures


def _on_private_stack(section: Callable[[Settings, bool], list[Figure]], quick: bool) -> Section:
    def measure() -> list[Figure]:
        with private_stack(progress=lambda m: err.print(f"  {m}")) as settings:
            return section(settings, quick)

    return measure


def bench_sections(
    quick: bool, figures_so_far: Callable[[], list[Figure]], out: Path = Path("bench-results")
) -> dict[str, Section]:
    def sink_() -> list[Figure]:
        ceiling = next(
            (f.baseline for f in figures_so_far() if f.baseline_name == "confluent raw ceiling"),
            None,
        )
        return sink.section(quick, ceiling)

    def end_to_end_() -> list[Figure]:
        # As `make up` runs the broker (its log in moto, which every produce and fetch then
        # also calls); with BENCH_E2E_MEMORY=1 once more with its log in memory, the pipeline's
        # own capacity (about a minute more: out of the 15-minute budget, issue #33).
        storages: tuple[Literal["s3", "memory"], ...] = (
            ("s3", "memory") if os.environ.get("BENCH_E2E_MEMORY") == "1" else ("s3",)
        )
        figures = []
        for storage in storages:
            with private_stack(broker_storage=storage) as settings:
                figures += end_to_end.section(settings, quick)
        return figures

    def soak_() -> list[Figure]:
        from orchestration.soak import clean, figures, soak  # the roof's module, beside bench/

        minutes, every = (0.6, 4.0) if quick else (1.0, 5.0)
        report = soak(minutes, 300, every, out / "soak", progress=lambda m: err.print(m))
        if not clean(report):  # its figures stay in the report; the run exits 1
            figures_so_far().extend(figures(report))
            raise RuntimeError(
                f"the soak lost, duplicated or failed: {report['failure'] or report['totals']}"
            )
        return figures(report)

    sections = {
        "simulator": lambda: simulator.section(quick),
        "producers": _on_private_stack(producers.section, quick),
        "sink": sink_,
        "end-to-end": end_to_end_,
        "growth": _on_private_stack(growth.section, quick),
        "api": _on_private_stack(api.section, quick),
        "curated-layer": _on_private_stack(curated.section, quick),
        "soak": soak_,
    }
    assert tuple(sections) == SECTIONS  # the command line offers the same names, in this order
    return sections


def run_bench(out: Path, quick: bool, only: Collection[str] = ()) -> int:
    """Every section, or those named in `only` (in the run's order); the sink section alone
    measures its own broker's ceiling, without the producers section's."""
    started = time.monotonic()
    figures: list[Figure] = []
    sections = bench_sections(quick, lambda: figures, out)
    if only:
        sections = {name: measure for name, measure in sections.items() if name in only}
    failures = run_sections(sections, out, figures)
    figures.append(Figure("run", "whole run", time.monotonic() - started, "s"))
    write_report(figures, failures, out, machine())
    table = figures_table(
        "lakestream bench",
        ("section", "figure", "value", "baseline", "ratio"),
        ("section", "figure"),
    )
    for f in figures:
        base = f"{f.baseline:,.0f} {f.baseline_name}" if f.baseline else ""
        table.add_row(f.section, f.name, f"{f.value:,.1f} {f.unit}", base, f.ratio)
    out_console(150).print(table)
    chart = write_chart(figures, out)
    print(
        f"{machine_line()}; took {time.monotonic() - started:.0f}s; "
        f"report {out / 'report.md'}, chart {chart}"
    )
    for f in failures:
        err.print(
            f"lakestream bench: section {f.section} failed: {f.error}",
            markup=False,
            highlight=False,
        )
    return 1 if failures else 0
