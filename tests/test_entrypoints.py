"""Every top-level package runs as `python -m <package>` and explains itself with --help."""

from __future__ import annotations

import subprocess
import sys

import pytest

PACKAGES = ["lakestream", "simulator", "producers", "consumers", "glue", "athena_api"]


@pytest.mark.parametrize("package", PACKAGES)
def test_help_explains_the_package(package):
    result = subprocess.run(
        [sys.executable, "-m", package, "--help"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage:")
    assert len(result.stdout.splitlines()) >= 4


def test_lakestream_help_lists_its_commands():
    result = subprocess.run(
        [sys.executable, "-m", "lakestream", "--help"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    for command in ("up", "status", "down", "config"):
        assert f"    {command} " in result.stdout
