"""`make bench`'s curated section: the saved analyses on raw JSON lines and on curated
Iceberg (bytes read from S3, latency), curation's throughput, and files per day before and after
maintenance."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import timedelta

from rich.console import Console

from consumers.run import sink_command
from curation.maintain import maintain
from curation.run import curate
from engines import LocalEngine
from glue.crawler import LocalCrawler
from glue.queries import saved_queries
from lakestream.core.settings import Settings
from orchestration.bench.producers import fastest_client
from orchestration.bench.report import Figure, percentile
from producers import produce_simulated
from producers.run import RunOptions
from simulator import SimulationConfig

err = Console(stderr=True)


def section(settings: Settings, quick: bool) -> list[Figure]:
    """The four analyses on raw JSON lines and on curated Iceberg: bytes the engine read from
    S3 (its HTTP log) and latency; curation's throughput; data files per day before and after
    maintenance."""
    rows = 50_000 if quick else 200_000  # a full run stays within 15 minutes (issue #33)
    repeats = 5
    kind = fastest_client()
    names = ",".join(ds.name for ds in settings.datasets)
    waves, seconds, curated_records = 4, 0.0, 0
    for wave in range(waves):  # a pass per wave: several files per day, as a live lake has
        produce_simulated(
            settings,
            rows // waves,
            config=SimulationConfig(seed=wave),
            client=kind,
            options=RunOptions(flush_timeout=900),
        )
        subprocess.run(
            sink_command(names, 3, "bench-curated"),
            env={**os.environ, **settings.child_env()},
            check=True,
            capture_output=True,
            timeout=3600,
        )
        started = time.perf_counter()
        curated_records += sum(r.records for r in curate(settings, group_prefix="bench-curated"))
        seconds += time.perf_counter() - started
    crawler = LocalCrawler(settings)
    for ds in settings.datasets:
        crawler.crawl(ds)
    figures = [
        Figure(
            "curated",
            f"curation records/s ({curated_records:,} records, {waves} passes)",
            curated_records / seconds,
            "rec/s",
        )
    ]
    # The steady state a lake is queried in: compacted by make maintain.
    before = after = 0
    for ds, maintained in zip(
        settings.datasets, maintain(settings, orphan_age=timedelta(0)), strict=True
    ):
        before = max(before, max(maintained.files_before.values(), default=0))
        after = max(after, max(maintained.files_after.values(), default=0))
        err.print(f"  {ds.table}: {len(maintained.compacted)} day partitions compacted")
    figures.append(
        Figure(
            "curated",
            "data files per day partition after make maintain (max)",
            after,
            "files",
            before,
            "before",
            lower_is_better=True,
        )
    )
    engine = LocalEngine(settings, file_cache=False)  # every run reads from S3, as Athena does
    try:
        for query in saved_queries().values():
            measured: dict[str, tuple[int, list[float]]] = {}
            for layer, database in (
                ("raw", settings.glue_database),
                ("curated", settings.curated_database),
            ):
                timings, scanned = [], 0
                for _ in range(repeats):
                    t = time.perf_counter()
                    result = engine.execute(query.sql, query.bind(), database=database)
                    timings.append((time.perf_counter() - t) * 1000)
                    scanned = max(scanned, result.data_scanned_bytes or 0)
                measured[layer] = (scanned, timings)
            (raw_bytes, raw_ms), (cur_bytes, cur_ms) = measured["raw"], measured["curated"]
            figures += [
                Figure(
                    "curated",
                    f"{query.name}: bytes read from S3",
                    cur_bytes,
                    "bytes",
                    raw_bytes,
                    "raw JSON lines",
                    lower_is_better=True,
                ),
                Figure(
                    "curated",
                    f"{query.name}: latency p50",
                    percentile(cur_ms, 0.5),
                    "ms",
                    percentile(raw_ms, 0.5),
                    "raw JSON lines",
                    lower_is_better=True,
                ),
                Figure(
                    "curated",
                    f"{query.name}: latency p99",
                    percentile(cur_ms, 0.99),
                    "ms",
                    percentile(raw_ms, 0.99),
                    "raw JSON lines",
                    lower_is_better=True,
                ),
            ]
    finally:
        engine.close()
    return figures
