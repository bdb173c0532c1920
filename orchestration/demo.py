"""`lakestream demo`: the whole pipeline on the embedded stack, then the API until Ctrl-C.

stack up → simulate and produce → consume until drained → crawl → the four saved analyses →
summary → serve the API (optional) → stop the stack if the demo started it (also on SIGTERM or
SIGHUP: the command line turns them into KeyboardInterrupt).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from django.core.management import call_command
from rich.table import Table

from athena_api import setup_django
from consumers import SinkOptions, SinkRun
from consumers.audit import count_lake
from consumers.batch import BatchLimits
from curation.run import count_curated, curate
from engines import LocalEngine
from glue.crawler import LocalCrawler
from glue.queries import saved_queries
from lakestream.core.console import figures_table, out_console
from lakestream.core.errors import LakestreamError
from lakestream.core.settings import Settings
from lakestream.stack.embedded import EmbeddedStack
from producers import produce_simulated
from simulator import SimulationConfig

DEMO_SEED = 42
DEMO_MALFORMED_RATE = 0.005  # a few dead letters, so the summary shows that path too
DEMO_GROUP_PREFIX = "lakestream-demo"  # the sink's groups, whose commits curation follows
SUMMARY_COLUMNS = (
    "table",
    "produced",
    "landed",
    "duplicates",
    "objects",
    "dead letters",
    "partitions",
    "curated",
    "check",
)


@dataclass
class TableSummary:
    table: str
    produced: int
    landed: int
    duplicates: int
    objects: int
    dead_letters: int
    partitions: int
    curated: int = 0  # rows in the curated (Iceberg) table
    curated_duplicates: int = 0

    @property
    def adds_up(self) -> bool:
        return (
            self.landed + self.dead_letters == self.produced
            and self.duplicates == 0
            and self.curated == self.landed
            and self.curated_duplicates == 0
        )


def _produce(settings: Settings, records: int, say: Callable[[str], None]) -> dict[str, int]:
    config = SimulationConfig(seed=DEMO_SEED, malformed_rate=DEMO_MALFORMED_RATE)
    result = produce_simulated(settings, records, config=config)
    for s in result.stats:
        say(f"produced {s.acked:,} messages to {s.topic}")
    return result.acked


def _consume(settings: Settings, say: Callable[[str], None]) -> None:
    options = SinkOptions(
        limits=BatchLimits(max_age_s=5), group_prefix=DEMO_GROUP_PREFIX, until_idle=3
    )
    run = SinkRun(settings, list(settings.datasets), options, name="demo").run()
    for s in run.stats:
        say(f"landed {s.records:,} records of {s.topic} in {s.objects} objects")
    if run.errors:
        raise LakestreamError(f"the sink failed: {'; '.join(run.errors)}")


def pipeline(
    settings: Settings, records: int, say: Callable[[str], None] = lambda _m: None
) -> list[TableSummary]:
    """Produce, land and crawl `records` per dataset on a running stack; a summary per table."""
    produced = _produce(settings, records, say)
    _consume(settings, say)
    crawler = LocalCrawler(settings)
    summaries = []
    for ds in settings.datasets:
        crawl = crawler.crawl(ds)
        count = count_lake(settings, ds)
        summaries.append(
            TableSummary(
                ds.table,
                produced.get(ds.name, 0),
                count.distinct,
                count.duplicates,
                count.objects,
                count.dead_letters,
                crawl.partitions,
            )
        )
    say("crawled the lake into the Glue database " + settings.glue_database)
    curate(settings, group_prefix=DEMO_GROUP_PREFIX, progress=say)
    for ds, summary in zip(settings.datasets, summaries, strict=True):
        count = count_curated(settings, ds)
        summary.curated, summary.curated_duplicates = count.rows, count.duplicates
    say("curated the lake into Iceberg tables in the Glue database " + settings.curated_database)
    return summaries


def _print_analyses(settings: Settings) -> None:
    console = out_console()
    engine = LocalEngine(settings)
    try:
        for query in saved_queries().values():
            result = engine.execute(query.sql, query.bind())
            table = Table(title=f"{query.name}: {query.description}", title_justify="left")
            for column in result.columns:
                table.add_column(column)
            for row in result.rows[:5]:
                table.add_row(*(str(v) for v in row))
            console.print(table)
    finally:
        engine.close()


def _print_summary(summaries: list[TableSummary]) -> bool:
    console = out_console()
    summary = figures_table("Summary", SUMMARY_COLUMNS, ("table", "check"))
    for s in summaries:
        summary.add_row(
            s.table,
            f"{s.produced:,}",
            f"{s.landed:,}",
            str(s.duplicates),
            str(s.objects),
            str(s.dead_letters),
            str(s.partitions),
            f"{s.curated:,}",
            "ok" if s.adds_up else "MISMATCH",
        )
    console.print(summary)
    ok = all(s.adds_up for s in summaries)
    console.print(
        "landed + dead letters = produced, curated = landed, no duplicates"
        if ok
        else "counts do not add up"
    )
    return ok


def run_demo(settings: Settings, records: int, serve: bool, port: int) -> int:
    console = out_console()
    say = lambda msg: console.print(f"• {msg}", highlight=False)  # noqa: E731
    stack = EmbeddedStack(settings)
    started_here = settings.embeds_aws and stack.moto.pid is None
    try:
        stack.up(progress=say)
        summaries = pipeline(settings, records, say)
        _print_analyses(settings)
        ok = _print_summary(summaries)
        if serve:
            _serve(port, say)
        return 0 if ok else 1
    finally:
        if started_here:
            say("stopping the embedded stack")
            stack.down()


def _serve(port: int, say: Callable[[str], None]) -> None:
    setup_django(debug=True)
    base = f"http://127.0.0.1:{port}"
    say(
        f"serving the API on {base}/ — dashboard at {base}/dashboard/?group_prefix="
        f"{DEMO_GROUP_PREFIX}, Swagger UI at {base}/swagger/ (Ctrl-C stops). Try:"
    )
    say(f"  {base}/api/analyses/sales_by_product_and_payment/?layer=curated")
    say(f"  {base}/api/stats/?group_prefix={DEMO_GROUP_PREFIX}")
    # Django's development server: the demo is a local, single-user run (make api: gunicorn).
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a demo ends
        call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, insecure_serving=True)
