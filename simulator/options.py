"""The simulation's command-line options, defined once for every command that simulates.

`python -m simulator` (seed files, samples) and `python -m producers` take the same options with
the same rules, and `simulation_config` turns them into the one `SimulationConfig`.
"""

from __future__ import annotations

import argparse
from typing import Any

from lakestream.core.argtypes import fraction, iso_datetime, non_negative
from lakestream.core.datasets import DatasetCatalog, default_catalog
from lakestream.core.errors import LakestreamError
from simulator.clock import DEFAULT_START
from simulator.simulation import SimulationConfig


def _pace(text: str) -> tuple[str, float]:
    name, sep, seconds = text.partition("=")
    try:
        value = non_negative(float)(seconds)
    except argparse.ArgumentTypeError:
        value = None
    if not sep or value is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not DATASET=SECONDS (e.g. web_logs=0.1)")
    return name, value


def add_simulation_options(
    parser: argparse.ArgumentParser, malformed: bool = True, note: str | None = None
) -> None:
    """The "simulation" group: seed, start, pace, late events and (when `malformed`) faults;
    `note` is shown under the group's title."""
    group = parser.add_argument_group("simulation", note)
    group.add_argument(
        "--seed", type=int, default=42, metavar="SEED", help="random seed (default %(default)s)"
    )
    group.add_argument(
        "--start",
        type=iso_datetime,
        default=DEFAULT_START,
        metavar="WHEN",
        help="event time of the first record, ISO format, UTC unless given (default 2024-10-01); "
        "records then follow at each dataset's pace",
    )
    group.add_argument(
        "--pace",
        type=_pace,
        action="append",
        default=[],
        metavar="DATASET=SECONDS",
        help="seconds of event time between records of a dataset or topic (repeatable; defaults: "
        "transactions 1, web_logs 0.25, social_posts 2, ad_campaigns 14400)",
    )
    group.add_argument(
        "--late-fraction",
        type=fraction,
        default=0.0,
        metavar="SHARE",
        help="share of records whose event time is late, i.e. out of order (default 0)",
    )
    group.add_argument(
        "--max-lateness",
        type=non_negative(float),
        default=6 * 3600.0,
        metavar="SECONDS",
        help="how late a late record can be (default %(default)g s)",
    )
    if malformed:
        group.add_argument(
            "--malformed-rate",
            type=fraction,
            default=0.0,
            metavar="SHARE",
            help="share of malformed messages, for the dead-letter path: invalid JSON, missing "
            "field, wrong type (default 0)",
        )


def simulation_config(
    args: argparse.Namespace, catalog: DatasetCatalog | None = None, **extra: Any
) -> SimulationConfig:
    """The configuration the options name, `--pace` read by dataset or topic name in `catalog`
    (the default one unless given); `extra` adds fields the command sets itself."""
    catalog = catalog or default_catalog()
    pace, unknown = {}, []
    for name, seconds in args.pace:
        if found := catalog.find(name):
            pace[found.name] = seconds
        else:
            unknown.append(name)
    if unknown:
        known = sorted(ds.name for ds in catalog)
        raise LakestreamError(f"--pace names unknown datasets {sorted(unknown)}; known: {known}")
    return SimulationConfig(
        seed=args.seed,
        start=args.start,
        pace=pace,
        late_fraction=args.late_fraction,
        max_lateness=args.max_lateness,
        malformed_rate=getattr(args, "malformed_rate", 0.0),
        **extra,
    )
