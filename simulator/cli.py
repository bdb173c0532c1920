"""`python -m simulator`: seed files, samples, and the benchmark."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from lakestream.core.argtypes import fraction, iso_datetime, positive
from lakestream.core.datasets import default_catalog
from lakestream.core.entry import benchmark, cli_args, command_main
from lakestream.core.errors import LakestreamError
from simulator.clock import DEFAULT_START
from simulator.export import export_seed_files
from simulator.simulation import SimulationConfig, Simulator

err = Console(stderr=True)

EXPORT_DEFAULT_ROWS = 1_000  # as in the original design
EXPORT_DEFAULT_CAMPAIGNS = 100
PROGRESS_THRESHOLD = 50_000  # show a progress bar from this many rows


def _pace(text: str) -> tuple[str, float]:
    name, sep, seconds = text.partition("=")
    try:
        value = float(seconds)
    except ValueError:
        value = -1.0
    if not sep or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not DATASET=SECONDS (e.g. web_logs=0.1)")
    return name, value


def _add_simulation_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("simulation")
    group.add_argument("--seed", type=int, default=42, help="random seed (default %(default)s)")
    group.add_argument(
        "--start",
        type=iso_datetime,
        default=DEFAULT_START,
        help="event time of the first record, ISO format, UTC unless given (default 2024-10-01)",
    )
    group.add_argument(
        "--pace",
        type=_pace,
        action="append",
        default=[],
        metavar="DATASET=SECONDS",
        help="seconds of event time between records of a dataset (repeatable; defaults: "
        "transactions 1, web_logs 0.25, social_posts 2, ad_campaigns 14400)",
    )
    group.add_argument(
        "--late-fraction",
        type=fraction,
        default=0.0,
        help="share of records whose event time is late, i.e. out of order (default 0)",
    )
    group.add_argument(
        "--max-lateness",
        type=float,
        default=6 * 3600.0,
        metavar="SECONDS",
        help="how late a late record can be (default %(default)s s)",
    )


def _config(args: argparse.Namespace, **extra: object) -> SimulationConfig:
    pace = dict(args.pace)
    known = {ds.name for ds in default_catalog()}
    unknown = sorted(set(pace) - known)
    if unknown:
        raise LakestreamError(f"--pace names unknown datasets {unknown}; known: {sorted(known)}")
    return SimulationConfig(
        seed=args.seed,
        start=args.start,
        pace=pace,
        late_fraction=args.late_fraction,
        max_lateness=args.max_lateness,
        **extra,  # type: ignore[arg-type]
    )


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
    _add_simulation_options(parser)
    return parser


def cmd_export(argv: Sequence[str]) -> int:
    args = export_parser().parse_args(argv)
    sim = Simulator(_config(args, campaigns=args.campaigns))
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
    parser.add_argument(
        "--malformed-rate",
        type=fraction,
        default=0.0,
        help="share of malformed messages: invalid JSON, missing field, wrong type (default 0)",
    )
    _add_simulation_options(parser)
    args = parser.parse_args(argv)
    sim = Simulator(_config(args, malformed_rate=args.malformed_rate))
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
