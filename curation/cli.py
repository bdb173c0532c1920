"""`python -m curation` (`make curate`): build the curated Iceberg tables from the raw lake."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict

from rich.table import Table

from consumers.sink import DEFAULT_GROUP_PREFIX
from curation.run import CurateResult, curate
from lakestream.core.argtypes import positive
from lakestream.core.console import err_console, out_console
from lakestream.core.errors import LakestreamError
from lakestream.core.settings import load_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m curation",
        description=(
            "One pass over the datasets: the raw objects the sink has committed, past each "
            "curated table's watermark, validated, cast and appended to its Apache Iceberg "
            "table (Glue database LAKESTREAM_CURATED_DATABASE, default kafka_ing_curated) in one "
            "commit per table. Every Kafka record lands exactly once; records that cannot be "
            "cast go to s3://<bucket>/_dlq/curated/ with their reason."
        ),
    )
    parser.add_argument(
        "--datasets", nargs="+", metavar="NAME", help="datasets or topics (default: all)"
    )
    parser.add_argument(
        "--follow",
        type=positive(float),
        metavar="SECONDS",
        help="keep going: a pass every SECONDS until Ctrl-C",
    )
    parser.add_argument(
        "--rebuild", action="store_true", help="drop each table and build it again from raw"
    )
    parser.add_argument(
        "--group-prefix",
        default=DEFAULT_GROUP_PREFIX,
        help="the sink's consumer groups, whose committed offsets say what raw data is final "
        "(default %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    return parser


def _table(results: list[CurateResult]) -> Table:
    table = Table(title="curated", title_justify="left")
    for column in ("table", "appended", "dead letters", "raw objects", "lag", "snapshot"):
        table.add_column(column, justify="left" if column == "table" else "right")
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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    err = err_console()
    try:
        settings = load_settings()
        datasets = settings.datasets.select(args.datasets)
        rebuild = args.rebuild
        while True:
            results = curate(
                settings,
                datasets,
                args.group_prefix,
                rebuild=rebuild,
                progress=lambda m: err.print(f"• {m}", highlight=False),
            )
            rebuild = False  # --follow rebuilds once, then follows
            if args.json:
                print(json.dumps([asdict(r) | {"lag": r.lag} for r in results], default=str))
            else:
                out_console().print(_table(results))
            if not args.follow:
                return 0
            time.sleep(args.follow)
    except LakestreamError as exc:
        err.print(f"curation: error: {exc}", highlight=False, soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
