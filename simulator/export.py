"""Seed-compatible files: transactions.csv, web_logs.csv, social_data.json, ad_campaigns.json.

The file names and formats are those of the original design's generator (CSV with a header;
JSON arrays of objects), with the seed's columns first. Files are written in chunks, so memory
stays flat for any row count, and to a temporary name first, so a reader never sees half a file.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from simulator.simulation import Simulator, rows

CHUNK = 20_000

Progress = Callable[[str, int], None]  # (dataset, records just written)


@dataclass(frozen=True)
class ExportedFile:
    dataset: str
    path: Path
    rows: int
    bytes: int


def _no_progress(dataset: str, n: int) -> None:
    pass


def export_dataset(
    sim: Simulator, name: str, out_dir: Path, n: int, progress: Progress = _no_progress
) -> ExportedFile:
    dataset = sim.dataset_catalog.get(name)
    path = out_dir / dataset.seed_file
    tmp = path.with_name(f".{path.name}.tmp")
    as_csv = path.suffix == ".csv"
    with open(tmp, "wb") as out:
        if as_csv:
            text = io.TextIOWrapper(out, encoding="utf-8", newline="")
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(dataset.column_names)
        else:
            out.write(b"[")
        written = 0
        while written < n:
            size = min(CHUNK, n - written)
            cols = sim.columns(name, size)
            if as_csv:
                writer.writerows(zip(*cols.values(), strict=True))
                text.flush()
            else:
                sep = b"\n" if written == 0 else b",\n"
                out.write(sep + b",\n".join(orjson.dumps(r) for r in rows(cols)))
            written += size
            progress(name, size)
        if as_csv:
            text.flush()
            text.detach()
        else:
            out.write(b"\n]\n")
    os.replace(tmp, path)
    return ExportedFile(name, path, n, path.stat().st_size)


def export_seed_files(
    sim: Simulator,
    out_dir: Path,
    counts: dict[str, int],
    progress: Progress = _no_progress,
) -> list[ExportedFile]:
    """Write one seed file per dataset in `counts` (dataset name -> rows)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    return [export_dataset(sim, name, out_dir, n, progress) for name, n in counts.items()]
