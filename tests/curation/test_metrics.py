"""Curation's metrics move with the records: `python -m curation --follow` scraped on its
`--metrics-port`, and a single pass (as the AWS timer runs it) sending its figures to a
stand-in CloudWatch agent as it ends."""

from __future__ import annotations

import signal
import subprocess
import sys

from lakestream.stack.processes import free_port
from tests.lake_helpers import ended
from tests.metrics_helpers import emf_agent, emf_total, scrape, value, wait_until


def test_follow_reports_records_lag_and_pass_duration_per_table(lake):
    landed = lake.land("web_logs", 300, sink=("--max-records", "100"))
    table = lake.datasets.get("web_logs").table
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "curation", "--datasets", "web_logs", "--group-prefix",
         lake.group_prefix, "--follow", "1", "--json", "--metrics-port", str(port)],
        env=lake.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/metrics"
    try:

        def passes() -> float:
            try:
                return value(scrape(url), "lakestream_curation_pass_seconds_count", table=table)
            except OSError:
                return 0

        wait_until(lambda: passes() >= 2, 120, "two passes in the metrics")
        first = scrape(url)
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = ended(proc, timeout=60)
    assert proc.returncode == 0, stderr[-2000:]
    assert "SIGINT: stopping after this pass" in stderr

    # The first pass appended everything; the second found nothing new and added nothing.
    assert value(first, "lakestream_curation_records_total", table=table) == landed
    assert value(first, "lakestream_curation_lag", table=table) == 0
    assert value(first, "lakestream_curation_dead_letters_total", table=table) == 0
    assert value(first, "lakestream_curation_pass_seconds_count", table=table) >= 2
    assert value(first, "lakestream_curation_last_success_timestamp_seconds", table=table) > 0
    assert value(first, "lakestream_curation_failed_passes_total") == 0


def test_one_pass_sends_its_figures_to_the_cloudwatch_agent_as_it_ends(lake):
    landed = lake.land("transactions", 120)
    table = lake.datasets.get("transactions").table
    with emf_agent() as (agent_port, documents):
        env = {**lake.env, "LAKESTREAM_METRICS_EMF": f"tcp://127.0.0.1:{agent_port}"}
        result = subprocess.run(
            [sys.executable, "-m", "curation", "--datasets", "transactions", "--group-prefix",
             lake.group_prefix, "--json"],
            env=env, capture_output=True, text=True, timeout=180,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        wait_until(lambda: emf_total(documents, "curation_records") > 0, 10, "EMF documents")
    dims = {"Deployment": "lakestream", "table": table}
    assert emf_total(documents, "curation_records", **dims) == landed
    assert emf_total(documents, "curation_pass_seconds_count", **dims) == 1
    assert emf_total(documents, "curation_lag", **dims) == 0
