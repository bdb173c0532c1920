"""`lakestream soak`, short: every kind of fault is injected while the pipeline runs, and the
count after the drain finds nothing lost, nothing duplicated, nothing unaccounted."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from orchestration.soak import FAULTS, clean

pytestmark = pytest.mark.stack


def test_a_short_soak_injects_every_fault_and_loses_nothing(tmp_path):
    out = tmp_path / "soak"
    result = subprocess.run(
        [sys.executable, "-m", "orchestration", "soak", "--minutes", "0.6",
         "--fault-every", "4", "--rate", "100", "--out", str(out)],
        env={**os.environ, "COLUMNS": "200"}, capture_output=True, text=True, timeout=600,
        check=False,
    )  # fmt: skip
    report = json.loads((out / "soak.json").read_text())
    assert result.returncode == 0, (result.stderr[-2000:], report)
    assert set(report["faults"]) == set(FAULTS)  # each kind once per round of five
    assert report["totals"]["produced"] > 0
    assert report["totals"]["raw rows"] > 0
    assert 0 < report["totals"]["curated rows"] <= report["totals"]["raw rows"]
    assert clean(report)
    assert "raw lost" in result.stdout
    assert {"moto", "broker", "sink", "curation", "api"} <= set(report["peak_rss_mib"])
    # The API is checked at most once a second while the faults run (a fault that blocks can
    # take the run past its 36 s), not while the drain has stopped it on purpose: that would
    # count as unanswered.
    checks = report["api_health_checks"]
    assert checks.get("answered", 0) > 0
    assert report["run_seconds"] >= 0.6 * 60
    assert sum(checks.values()) <= report["run_seconds"] + 1, (checks, report["run_seconds"])
