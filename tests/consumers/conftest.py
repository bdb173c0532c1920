"""Fixtures for sink tests: an isolated catalog (own topics and table prefixes) per test."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from consumers.audit import LakeCount, count_lake
from lakestream.catalog import Catalog
from lakestream.settings import Settings
from tests.kafka_helpers import isolated_catalog

ACKED = re.compile(r"([\d,]+) of ([\d,]+) messages acknowledged, 0 failed, 0 unanswered")


@dataclass
class Lake:
    env: dict[str, str]
    catalog: Catalog
    settings: Settings
    group_prefix: str

    def produce(self, dataset: str, count: int, *args: str) -> int:
        """Produce with the real producer CLI; the number of acknowledged messages."""
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "producers",
                "--quiet",
                "--topics",
                dataset,
                "--count",
                str(count),
                *args,
            ],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        match = ACKED.search(result.stdout)
        assert match, result.stdout
        return int(match.group(1).replace(",", ""))

    def produce_in_background(self, dataset: str, count: int, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "producers",
                "--quiet",
                "--topics",
                dataset,
                "--count",
                str(count),
                *args,
            ],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def sink(self, dataset: str, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "consumers",
                "--quiet",
                "--topics",
                dataset,
                "--group-prefix",
                self.group_prefix,
                *args,
            ],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def count(self, dataset: str) -> LakeCount:
        return count_lake(self.settings, self.catalog.get(dataset))

    def wait_for_rows(self, dataset: str, rows: int, timeout: float = 60) -> LakeCount:
        deadline = time.monotonic() + timeout
        while True:
            count = self.count(dataset)
            if count.rows >= rows or time.monotonic() > deadline:
                return count
            time.sleep(0.3)


def finish(proc: subprocess.Popen, timeout: float = 180) -> str:
    stdout, stderr = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"exit {proc.returncode}: {stderr[-2000:]}"
    if stderr.strip():
        print(stderr[-3000:])  # shown by pytest when the test fails
    return stdout


def acked(stdout: str) -> int:
    match = ACKED.search(stdout)
    assert match, stdout
    return int(match.group(1).replace(",", ""))


@pytest.fixture
def lake(running_stack, tmp_path: Path) -> Lake:
    path, catalog = isolated_catalog(tmp_path)
    env = {**os.environ, **running_stack.env, "LAKESTREAM_CATALOG": str(path)}
    return Lake(env, catalog, Settings(catalog_path=path), f"test-{uuid.uuid4().hex[:8]}")
