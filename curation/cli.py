"""`python -m curation` (`make curate`): build the curated Iceberg tables from the raw lake."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import timedelta
from types import FrameType

from rich.table import Table

from consumers.groups import add_group_prefix_option
from curation import metrics
from curation.maintain import maintain
from curation.run import CurateResult, curate
from lakestream.core.argtypes import non_negative, positive
from lakestream.core.console import err_console, figures_table, out_console
from lakestream.core.datasets import Dataset
from lakestream.core.entry import cli_args, command_main
from lakestream.core.errors import LakestreamError
from lakestream.core.logs import configure_logging
from lakestream.core.metrics import add_metrics_option, start_reporting
from lakestream.core.options import add_datasets_option, add_json_option
from lakestream.core.settings import Settings, load_settings, masked
from lakestream.core.signals import (
    handlers_restored,
    release_stop_signals,
    replay_held,
    say_in_handler,
)
from lakestream.stack.reachable import require_aws, require_kafka


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m curation",
        description=(
            "One pass over the datasets: the raw objects the sink has committed, past each "
            "curated table's watermark, validated, cast and appended to its Apache Iceberg "
            "table (Glue database LAKESTREAM_CURATED_DATABASE, default kafka_ing_curated) in one "
            "commit per table. Every Kafka record lands exactly once; records that cannot be "
            "cast go to s3://<bucket>/_dlq/curated/<topic>/ with their reason."
        ),
    )
    add_datasets_option(parser)
    parser.add_argument(
        "--follow",
        type=positive(float),
        metavar="SECONDS",
        help="keep going: a pass every SECONDS until Ctrl-C or SIGTERM, which stop after the "
        "pass under way (a second one stops at once)",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="drop each table and build it again from raw"
    )
    add_group_prefix_option(
        parser, "the sink's consumer groups, whose committed offsets say what raw data is final,"
    )
    add_json_option(parser)
    add_metrics_option(parser)
    parser.epilog = "maintenance: python -m curation maintain --help (make maintain)"
    return parser


def _table(results: list[CurateResult]) -> Table:
    table = figures_table(
        "curated",
        ("table", "appended", "dead letters", "raw objects", "lag", "snapshot"),
        ("table",),
    )
    for r in results:
        table.add_row(
            r.table,
            f"{r.records:,}",
            f"{r.dead_letters:,}",
            f"{r.objects:,}",
            f"{r.lag:,}",
            str(r.snapshot_id or "-"),
        )
    return table


# Iceberg's own orphan removal defaults to 3 days and warns that a shorter age can delete the
# files of a write in progress. A curation pass commits within minutes; an hour leaves margin.
MIN_ORPHAN_AGE_HOURS = 1.0


def maintain_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m curation maintain",
        description=(
            "Maintain the curated tables as the Glue catalog's optimizers and S3 lifecycle do on "
            "AWS: retention (rows and raw dt= partitions older than N days deleted), compaction "
            "(a day's small files rewritten up to the target size), expiry of old snapshots, "
            "and removal of orphan files."
        ),
    )
    add_datasets_option(parser)
    parser.add_argument(
        "--retention-days",
        type=positive(int),
        help="delete what is older than this many days, curated and raw (default: keep all)",
    )
    parser.add_argument(
        "--snapshot-age",
        type=non_negative(float),
        default=7 * 24,
        metavar="HOURS",
        help="expire snapshots older than this (default %(default)s h; the current one stays)",
    )
    parser.add_argument(
        "--orphan-age",
        type=non_negative(float),
        default=24,
        metavar="HOURS",
        help="remove unreferenced files older than this (default %(default)s h; under "
        f"{MIN_ORPHAN_AGE_HOURS:g} h only with --no-pass-running: a pass in progress has files "
        "no snapshot refers to yet)",
    )
    parser.add_argument(
        "--no-pass-running",
        action="store_true",
        help="you know no curation pass runs now: allows an --orphan-age under "
        f"{MIN_ORPHAN_AGE_HOURS:g} h (as Iceberg's own check can be turned off)",
    )
    parser.add_argument(
        "--target-file-mb", type=positive(int), default=128, help="compaction target (MiB)"
    )
    add_json_option(parser)
    return parser


MAINTAIN_COLUMNS = (
    "table",
    "partitions",
    "files before",
    "files after",
    "compacted",
    "expired snapshots",
    "orphans removed",
    "raw dt deleted",
    "raw kept (not curated)",
    "skipped",
)


def run_maintain(argv: list[str]) -> int:
    # No handlers of its own: a Ctrl-C kept while it started, or one now, interrupts it (inside
    # command_main, which says so).
    release_stop_signals()
    args = maintain_parser().parse_args(argv)
    if args.orphan_age < MIN_ORPHAN_AGE_HOURS and not args.no_pass_running:
        raise LakestreamError(
            f"--orphan-age {args.orphan_age:g} could delete the files of a pass that has not "
            f"committed yet: give at least {MIN_ORPHAN_AGE_HOURS:g} h, or add --no-pass-running "
            "if no curation pass can be running"
        )
    settings = load_settings()
    require_aws(settings)
    results = maintain(
        settings,
        settings.datasets.select(args.datasets),
        retention_days=args.retention_days,
        snapshot_age=timedelta(hours=args.snapshot_age),
        orphan_age=timedelta(hours=args.orphan_age),
        target_bytes=args.target_file_mb * 1024**2,
    )
    if args.json:
        print(json.dumps([asdict(r) for r in results]))
        return 0
    table = figures_table("maintained", MAINTAIN_COLUMNS, ("table",))
    for r in results:
        table.add_row(
            r.table,
            str(len(r.files_after)),
            str(sum(r.files_before.values())),
            str(sum(r.files_after.values())),
            str(len(r.compacted)),
            str(r.snapshots_expired),
            str(r.orphans_removed),
            str(len(r.raw_partitions_deleted)),
            str(r.raw_objects_kept),
            ", ".join(r.skipped) or "-",
        )
    out_console().print(table)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = cli_args(argv)
    configure_logging("curation")
    if argv[:1] == ["maintain"]:
        return command_main("curation", lambda: run_maintain(argv[1:]))
    args = build_parser().parse_args(argv)
    return command_main("curation", lambda: run_curate(args))


def run_curate(args: argparse.Namespace) -> int:
    settings = load_settings()
    if not args.follow:  # `--follow` rides out a stack that restarts, as between its passes
        require_aws(settings)
        require_kafka(settings)  # each pass reads the sink groups' committed offsets
    datasets = settings.datasets.select(args.datasets)
    exporter = start_reporting(settings, "curation", args.metrics_port)
    try:
        return _passes(args, settings, datasets)
    finally:
        if exporter is not None:
            exporter.close()  # a pass run from a timer sends its figures as it ends


def _passes(args: argparse.Namespace, settings: Settings, datasets: list[Dataset]) -> int:
    if not args.follow:
        release_stop_signals()  # one pass, with no handlers of its own, as `maintain`
        return _pass(args, settings, datasets, args.rebuild)
    stop: list[str] = []  # the signals received; set from a handler, so no lock is taken

    def on_signal(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        stop.append(name)
        if len(stop) > 1:
            raise KeyboardInterrupt(name)
        if frame is None:  # kept by __main__ while curation was starting
            say_in_handler(f"• {name} (sent while curation was starting): no pass, stopping")
        else:
            say_in_handler(f"• {name}: stopping after this pass (again: stop now)")

    # A flag, not KeyboardInterrupt: kafka-python's event loop, which runs in this thread while
    # a pass reads the sink's committed offsets, catches BaseException and logs it, so a Ctrl-C
    # that landed there was lost and the passes went on. An Iceberg commit is atomic: a pass
    # stopped by the second signal leaves its table as it was.
    with handlers_restored(signal.SIGINT, signal.SIGTERM):
        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)
        replay_held(on_signal)  # a stop that came while curation was starting: no pass at all
        rebuild = args.rebuild
        while not stop:
            try:
                _pass(args, settings, datasets, rebuild)
                rebuild = False  # --follow rebuilds once, then follows
            except Exception as exc:
                if len(stop) > 1:
                    # The second signal's KeyboardInterrupt, turned into an error by a library
                    # it landed in (DuckDB: "Query interrupted"): not a failed pass.
                    raise KeyboardInterrupt(stop[-1]) from None
                # A service goes on: S3 stalled, the catalog or the broker away, a commit lost
                # to another pass. The pass left the table as it was; the next one starts there.
                err_console().print(
                    f"curation: pass failed ({type(exc).__name__}: {masked(str(exc))[:300]}); "
                    f"next pass in {args.follow:g}s",
                    markup=False,
                    highlight=False,
                )
            next_pass = time.monotonic() + args.follow
            while not stop and time.monotonic() < next_pass:
                time.sleep(min(0.1, args.follow))
        if len(stop) > 1:  # a second signal whose KeyboardInterrupt a library swallowed
            raise KeyboardInterrupt(stop[-1])
    return 0


def _pass(
    args: argparse.Namespace, settings: Settings, datasets: list[Dataset], rebuild: bool
) -> int:
    """One pass over `datasets`, its figures counted and printed."""
    err = err_console()
    try:
        results = curate(
            settings,
            datasets,
            args.group_prefix,
            rebuild=rebuild,
            progress=lambda m: err.print(f"• {m}", highlight=False),
        )
    except Exception:
        metrics.FAILURES.inc()
        raise
    metrics.passed(results)
    if args.json:
        print(json.dumps([asdict(r) | {"lag": r.lag} for r in results], default=str))
    else:
        out_console().print(_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
