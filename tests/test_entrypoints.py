"""Every top-level package that is a command runs as `python -m <package>` and explains itself
with --help; each stage's `bench` finds its benchmark above it, through the entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lakestream.core.entry import benchmark
from lakestream.core.errors import LakestreamError

PACKAGES = [
    "orchestration", "simulator", "producers", "consumers", "curation", "glue", "athena_api",
]  # fmt: skip
LAKESTREAM = Path(sys.executable).with_name("lakestream")  # the installed console script


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("package", PACKAGES)
def test_help_explains_the_package(package):
    result = _run(sys.executable, "-m", package, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:")
    assert len(result.stdout.splitlines()) >= 4


def test_lakestream_help_lists_its_commands():
    result = _run(str(LAKESTREAM), "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: lakestream")
    for command in ("up", "status", "down", "config", "demo", "bench"):
        assert f"    {command} " in result.stdout


@pytest.mark.parametrize("stage", ["simulator", "producers", "consumers"])
def test_a_stage_bench_is_found_above_it(stage):
    result = _run(sys.executable, "-m", stage, "bench", "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python -m {stage} bench")


def test_a_missing_benchmark_is_one_clear_error():
    with pytest.raises(LakestreamError, match="no benchmark of curation is installed"):
        benchmark("curation")([])


# The long-running commands keep a stop signal from their __main__ on (lakestream/core/signals.py).
SERVICES = ["consumers", "producers", "curation"]
HEAVY = ("kafka", "confluent_kafka", "boto3", "pyarrow", "duckdb", "pyiceberg", "rich", "pydantic")


@pytest.mark.parametrize("package", SERVICES)
def test_main_holds_stop_signals_before_importing_the_command(package):
    """Its __main__ hands itself to `run_holding_stops` and imports nothing else first."""
    import ast

    tree = ast.parse(Path(__file__).parents[1].joinpath(package, "__main__.py").read_text())
    statements = [ast.unparse(node) for node in tree.body]
    assert statements == [
        "from lakestream.core.signals import run_holding_stops",
        f"run_holding_stops({package!r})",
    ]


def test_the_services_packages_import_no_library_before_their_main():
    """`python -m consumers` and `python -m curation` import the package before __main__ runs,
    and __main__ the signals module: anything they imported would come before the hold (the
    sink's facade is lazy for this)."""
    code = (
        "import sys, consumers, curation, lakestream.core.signals\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = _run(sys.executable, "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_the_facades_hand_out_their_functions_and_classes():
    code = (
        "import producers.produce, consumers.run\n"
        "from producers import produce, produce_simulated\n"
        "from consumers import SinkOptions, SinkRun\n"
        "assert callable(produce) and not isinstance(produce, type(sys)), produce\n"
        "assert isinstance(SinkRun, type) and isinstance(SinkOptions, type)\n"
        "assert {'SinkRun', 'SinkOptions'} <= set(dir(consumers))\n"
    )
    result = _run(sys.executable, "-c", "import sys, consumers\n" + code)
    assert result.returncode == 0, result.stderr
