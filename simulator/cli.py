"""`python -m simulator`: seed files, samples, and the benchmark."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from lakestream.core.argtypes import positive
from lakestream.core.datasets import default_catalog
from lakestream.core.entry import benchmark, cli_args, command_main
from simulator.export import export_seed_files
from simulator.options import add_simulation_options, simulation_config
from simulator.simulation import Simulator

err = Console(stderr=True)

EXPORT_DEFAULT_ROWS = 1_000  # as in the original design
EXPORT_DEFAULT_CAMPAIGNS = 100
PROGRESS_THRESHOLD = 50_000  # show a progress bar from this many rows


def export_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description=(
            "Generate the four synthetic datasets (transactions, web logs, social posts, ad "
            "campaigns) and write seed-compatible files: transactions.csv, web_logs.csv, "
            "social_data.json, ad_campaigns.json. The same --seed gives byte-identical files."
        ),
        epilog=(
            "other commands:\n"
            "  python -m simulator sample DATASET [-n N]   print records as JSON lines\n"
            "  python -m simulator bench [--seconds S]     records/s against a naive Faker loop\n"
            "run either with --help for its options."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--out", type=Path, default=Path("data"), help="output folder (default %(default)s)"
    )
    parser.add_argument(
        "--rows",
        type=positive(int),
        default=EXPORT_DEFAULT_ROWS,
        help="rows of transactions, web logs and social posts (default %(default)s)",
    )
    parser.add_argument(
        "--campaigns",
        type=positive(int),
        default=EXPORT_DEFAULT_CAMPAIGNS,
        help="ad campaigns (default %(default)s)",
    )
    add_simulation_options(parser, malformed=False)
    return parser


def cmd_export(argv: Sequence[str]) -> int:
    args = export_parser().parse_args(argv)
    sim = Simulator(simulation_config(args, campaigns=args.campaigns))
    counts = {name: args.rows for name in sim.datasets}
    counts["ad_campaigns"] = args.campaigns
    total = sum(counts.values())
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=total < PROGRESS_THRESHOLD,
    ) as progress:
        task = progress.add_task("generating", total=total)
        files = export_seed_files(sim, args.out, counts, lambda name, n: progress.advance(task, n))
    for f in files:
        print(f"{f.path}\t{f.rows} rows\t{f.bytes} bytes")
    return 0


def cmd_sample(argv: Sequence[str]) -> int:
    names = [ds.name for ds in default_catalog()]
    parser = argparse.ArgumentParser(
        prog="python -m simulator sample",
        description="Print the first records of a dataset's stream as JSON lines (the message "
        "values producers send).",
    )
    parser.add_argument("dataset", choices=names)
    parser.add_argument("-n", type=positive(int), default=5, help="records (default 5)")
    add_simulation_options(parser)
    args = parser.parse_args(argv)
    sim = Simulator(simulation_config(args))
    out = sys.stdout.buffer
    for batch in sim.stream(args.dataset, limit=args.n):
        out.write(b"\n".join(batch.values) + b"\n")
    out.flush()
    return 0


COMMANDS = {"sample": cmd_sample, "bench": benchmark("simulator")}


def main(argv: Sequence[str] | None = None) -> int:
    argv = cli_args(argv)
    command = COMMANDS.get(argv[0]) if argv else None
    return command_main(
        "simulator",
        lambda: command(argv[1:]) if command else cmd_export(argv),
        expected=(ValueError, OSError),
    )
