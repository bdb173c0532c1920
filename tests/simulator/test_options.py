"""The simulation's options: one set of rules for `python -m simulator` and the producers."""

from __future__ import annotations

import argparse
import math
from datetime import UTC, datetime

import pytest

from lakestream.core.datasets import default_catalog
from lakestream.core.errors import LakestreamError
from producers.cli import build_parser as producers_parser
from simulator.cli import export_parser
from simulator.options import add_simulation_options, simulation_config
from simulator.simulation import SimulationConfig


def parse(*args: str, malformed: bool = True) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="p", exit_on_error=False)
    add_simulation_options(parser, malformed=malformed)
    return parser.parse_args(args)


def test_options_become_the_configuration() -> None:
    args = parse("--seed", "7", "--start", "2030-01-02T03:04:05", "--pace", "web_logs=0.5",
                 "--pace", "transactions=60", "--late-fraction", "0.25", "--max-lateness", "90",
                 "--malformed-rate", "0.1")  # fmt: skip
    config = simulation_config(args, campaigns=5)
    assert config == SimulationConfig(
        seed=7,
        start=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        pace={"web_logs": 0.5, "transactions": 60.0},
        late_fraction=0.25,
        max_lateness=90.0,
        malformed_rate=0.1,
        campaigns=5,
    )
    assert simulation_config(parse(malformed=False)) == SimulationConfig()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--late-fraction", "3"], "3 is not between 0 and 1"),
        (["--malformed-rate", "nan"], "is not between 0 and 1"),
        (["--max-lateness", "-1"], "-1 must be 0 or more"),
        (["--max-lateness", "inf"], "inf is not a finite number"),
        (["--pace", "web_logs"], "'web_logs' is not DATASET=SECONDS"),
        (["--pace", "web_logs=nan"], "'web_logs=nan' is not DATASET=SECONDS"),
        (["--pace", "web_logs=-2"], "'web_logs=-2' is not DATASET=SECONDS"),
        (["--start", "tomorrow"], "'tomorrow' is not an ISO date"),
    ],
)
def test_bad_values_are_refused_with_their_reason(args, message) -> None:
    with pytest.raises(argparse.ArgumentError, match=message):
        parse(*args)


def test_faults_are_offered_only_where_asked() -> None:
    """Seed files are clean data: `python -m simulator` (export) has no --malformed-rate; the
    producers have every simulation option, the faults included."""
    assert "--malformed-rate" not in export_parser().format_help()
    producers_help = producers_parser().format_help()
    for option in ("--seed", "--start", "--pace", "--late-fraction", "--max-lateness",
                   "--malformed-rate"):  # fmt: skip
        assert option in producers_help


def test_pace_takes_a_topic_name_of_the_catalog_in_use() -> None:
    catalog = default_catalog()
    config = simulation_config(parse("--pace", "logs_topic=0.5", "--pace", "transactions=2"))
    assert config.pace == {"web_logs": 0.5, "transactions": 2.0}
    renamed = catalog.model_copy(
        update={
            "datasets": {
                name: ds.model_copy(update={"topic": f"{ds.topic}_x"})
                for name, ds in catalog.datasets.items()
            }
        }
    )
    assert simulation_config(parse("--pace", "logs_topic_x=1"), renamed).pace == {"web_logs": 1}


def test_an_unknown_dataset_in_pace_is_named() -> None:
    with pytest.raises(LakestreamError, match=r"--pace names unknown datasets \['nope'\]"):
        simulation_config(parse("--pace", "nope=2"))


@pytest.mark.parametrize(
    "fields",
    [
        {"late_fraction": 1.5},
        {"late_fraction": math.nan},
        {"malformed_rate": -0.1},
        {"max_lateness": -1.0},
        {"max_lateness": math.inf},
        {"pace": {"web_logs": math.nan}},
    ],
)
def test_the_configuration_refuses_what_the_options_would(fields) -> None:
    with pytest.raises(ValueError, match="must be"):
        SimulationConfig(**fields)
