"""`make demo DEMO_SERVE=0` on its own stack: the whole pipeline, a summary, nothing left."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.conftest import stack_env

pytestmark = pytest.mark.stack
ROOT = Path(__file__).resolve().parents[1]


def test_make_demo_without_serving_runs_everything_and_stops(tmp_path):
    env = {**os.environ, **stack_env(tmp_path / "run")}
    result = subprocess.run(
        [
            shutil.which("make") or "make",
            "--no-print-directory",
            "demo",
            "DEMO_SERVE=0",
            "DEMO_RECORDS=400",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    for table in (
        "kafka_ing_transactions",
        "kafka_ing_logs",
        "kafka_ing_social_data",
        "kafka_ing_ad_campaigns",
    ):
        assert table in out
    for analysis in (
        "sales_by_product_and_payment",
        "web_errors",
        "campaign_performance",
        "social_engagement",
    ):
        assert analysis in out
    assert "landed + dead letters = produced, no duplicates" in out
    assert "MISMATCH" not in out
    assert "stopping the embedded stack" in out
    assert not list((tmp_path / "run").glob("*.pid"))
    for variable in ("AWS_ENDPOINT_URL", "KAFKA_BOOTSTRAP_SERVERS"):
        port = int(env[variable].rsplit(":", 1)[1])
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0
