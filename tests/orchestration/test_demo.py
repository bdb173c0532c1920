"""`make demo DEMO_SERVE=0` on its own stack: the whole pipeline, a summary, nothing left."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from lakestream.stack.processes import free_port
from tests.conftest import stack_env

pytestmark = pytest.mark.stack
ROOT = Path(__file__).resolve().parents[2]


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
    assert "landed + dead letters = produced, curated = landed, no duplicates" in out
    assert "curated the lake into Iceberg tables" in out
    assert "MISMATCH" not in out
    assert "stopping the embedded stack" in out
    assert not list((tmp_path / "run").glob("*.pid"))
    for variable in ("AWS_ENDPOINT_URL", "KAFKA_BOOTSTRAP_SERVERS"):
        port = int(env[variable].rsplit(":", 1)[1])
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0


def _port_closed(address: str) -> bool:
    port = int(address.rsplit(":", 1)[1])
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_demo_stopped_by_a_signal_leaves_no_process(tmp_path, signum):
    """A closed terminal or `timeout` ends the demo mid-pipeline; moto and the broker go too."""
    run_dir = tmp_path / "run"
    env = {**os.environ, **stack_env(run_dir), "API_PORT": str(free_port())}
    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestration", "demo", "--records", "200000"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    children: list[psutil.Process] = []
    output = []
    try:
        deadline = time.monotonic() + 120
        for line in proc.stdout:  # type: ignore[union-attr]
            output.append(line)
            if "provisioning buckets" in line:
                break
            assert time.monotonic() < deadline, "".join(output)
        time.sleep(4)  # into the produce step: the stack answers and records are on their way
        children = psutil.Process(proc.pid).children(recursive=True)
        assert children, "the demo started no process:\n" + "".join(output)
        proc.send_signal(signum)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    output.append(rest)
    text = "".join(output)
    assert proc.returncode == 130, text[-3000:]
    assert "stopping the embedded stack" in text
    assert "lakestream: interrupted" in text
    _gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"left running: {[p.pid for p in alive]}"
    assert not list(run_dir.glob("*.pid"))
    assert _port_closed(env["AWS_ENDPOINT_URL"])
    assert _port_closed(env["KAFKA_BOOTSTRAP_SERVERS"])
