"""What every benchmark shares: a figure beside its baseline, the machine it ran on, and how a
report is shown (a table, or JSON for programs) and written (Markdown and a chart)."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from lakestream.core.console import out_console


@dataclass
class Figure:
    section: str
    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    lower_is_better: bool = False

    @property
    def ratio(self) -> str:
        if not self.baseline or not self.value:
            return ""
        if self.lower_is_better:
            if self.value > self.baseline:
                return f"{self.value / self.baseline:.1f}x more"
            return f"{self.baseline / self.value:.1f}x less"
        return f"{self.value / self.baseline:.1f}x"


@dataclass(frozen=True)
class Failure:
    """A section that raised: what it said, and the tail of its subprocess's stderr if any."""

    section: str
    error: str
    stderr: str = ""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def machine() -> dict[str, str | int | None]:
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
    }


def machine_line(m: dict[str, Any] | None = None) -> str:
    m = m or machine()
    return f"machine: {m['processor']}, {m['cpus']} cpus, Python {m['python']}"


def show(report: dict[str, Any], as_json: bool, table: Table, notes: Iterable[str] = ()) -> int:
    """A stage benchmark's ending: its report as JSON, or its table, notes and machine."""
    if as_json:
        print(json.dumps(report, indent=2))
        return 0
    out_console(120).print(table)
    for note in notes:
        print(note)
    print(machine_line(report["machine"]))
    return 0


def write_report(
    figures: list[Figure], failures: list[Failure], out: Path, m: dict[str, Any]
) -> Path:
    """report.md with every figure so far and every failed section; written again after each
    section, so a run that dies later keeps what it measured."""
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        "# lakestream benchmark",
        "",
        f"Machine: {m['processor']}, {m['cpus']} CPUs, Python {m['python']}; "
        f"run at {time.strftime('%Y-%m-%d %H:%M:%S')}.",
        "",
        "| section | figure | value | baseline | ratio |",
        "| --- | --- | --- | --- | --- |",
    ]
    for f in figures:
        base = f"{f.baseline:,.0f} ({f.baseline_name})" if f.baseline else ""
        lines.append(f"| {f.section} | {f.name} | {f.value:,.1f} {f.unit} | {base} | {f.ratio} |")
    for failure in failures:
        lines += ["", f"## {failure.section}: failed", "", failure.error]
        if failure.stderr:
            lines += ["", "```", failure.stderr.rstrip(), "```"]
    report = out / "report.md"
    report.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return report


def write_chart(figures: list[Figure], out: Path) -> Path:
    """chart.png: every higher-is-better ratio to its baseline, on a log scale."""
    import matplotlib

    matplotlib.use("Agg")  # the chart is a file: no display needed
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    ratios = [f for f in figures if f.baseline and not f.lower_is_better]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(ratios) + 1.5))
    ax.barh([f"{f.section}: {f.name}" for f in ratios], [f.value / f.baseline for f in ratios])  # type: ignore[operator]
    ax.axvline(1, color="grey", lw=1)
    ax.set_xscale("log")
    ax.set_xlabel("ratio to the baseline measured in the same run (log)")
    ax.invert_yaxis()
    fig.tight_layout()
    chart = out / "chart.png"
    fig.savefig(chart, dpi=110)
    plt.close(fig)
    return chart
