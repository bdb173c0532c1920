"""The sink's metrics move with the records: scraped from `--metrics-port` while it runs, and
sent to a stand-in CloudWatch agent over TCP as EMF documents, the last ones at SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys

from lakestream.core import clients
from lakestream.stack.processes import free_port
from tests.metrics_helpers import emf_agent, emf_total, scrape, value, wait_until

POISON = [b"{not json", b'{"id": 1, "id": 2}']


def test_records_bytes_dead_letters_and_lag_are_counted_and_sent_to_cloudwatch(lake):
    ds = lake.datasets.get("transactions")
    produced = lake.produce("transactions", 400)
    producer = clients.kafka_producer(lake.settings)
    for i, poison in enumerate(POISON):
        producer.send(ds.topic, key=b"p%d" % i, value=poison)
    producer.flush(30)
    producer.close()

    port = free_port()
    with emf_agent() as (agent_port, documents):
        env = {
            **lake.env,
            "LAKESTREAM_METRICS_EMF": f"tcp://127.0.0.1:{agent_port}",
            "LAKESTREAM_METRICS_LOG_GROUP": "/lakestream/test/metrics",
            "LAKESTREAM_ENVIRONMENT": "ci",
        }
        argv = [*lake.sink_argv("transactions"), "--assignment", "manual", "--max-age", "1"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "consumers", *argv, "--metrics-port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            url = f"http://127.0.0.1:{port}/metrics"
            topic = {"topic": ds.topic}

            def landed() -> bool:
                try:
                    samples = scrape(url)
                except OSError:
                    return False
                return value(samples, "lakestream_sink_records_total", **topic) >= produced

            wait_until(landed, 90, f"{produced} records in the sink's metrics")
            # Lag is refreshed every few seconds from the last fetch: caught up, it reads 0.
            wait_until(
                lambda: (
                    ("lakestream_sink_consumer_lag", (("partition", "0"), *topic.items()))
                    in scrape(url)
                    and value(scrape(url), "lakestream_sink_consumer_lag", **topic) == 0
                ),
                30,
                "consumer lag 0",
            )
            samples = scrape(url)
        finally:
            proc.send_signal(signal.SIGTERM)
            _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 0, stderr[-2000:]

    assert value(samples, "lakestream_sink_records_total", **topic) == produced
    assert value(samples, "lakestream_sink_dead_letters_total", reason="invalid_json") == 1
    assert value(samples, "lakestream_sink_dead_letters_total", reason="malformed_json") == 1
    objects = lake.count("transactions")
    assert objects.rows == produced
    assert value(samples, "lakestream_sink_bytes_total", **topic) > 0
    assert value(samples, "lakestream_sink_flush_seconds_count", **topic) >= 1
    assert value(samples, "lakestream_sink_commit_failures_total", **topic) == 0

    # CloudWatch gets the same figures, per minute and at exit, with the deployment's dimension.
    dims = {"Deployment": "lakestream-ci", "topic": ds.topic}
    assert emf_total(documents, "sink_records", **dims) == produced
    assert emf_total(documents, "sink_dead_letters", **dims) == 2
    doc = next(d for d in documents if "sink_records" in d)
    aws = doc["_aws"]
    assert aws["LogGroupName"] == "/lakestream/test/metrics"
    (directive,) = aws["CloudWatchMetrics"]
    assert directive["Namespace"] == "lakestream"
    assert directive["Dimensions"] == [["Deployment", "topic"]]
    assert directive["Metrics"] == [{"Name": "sink_records", "Unit": "Count"}]
    assert all("partition" not in d for d in documents)  # summed away: one series per topic
