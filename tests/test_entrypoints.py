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
