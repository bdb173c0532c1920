"""The embedded metric format as CloudWatch reads it, from a registry of our own (pure logic),
and its two ways out: a line on stdout, or the agent's TCP listener."""

from __future__ import annotations

import io
import json

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from lakestream.core.errors import LakestreamError
from lakestream.core.metrics import EmfExporter, add_metrics_option, emf_writer
from lakestream.core.records import reason_label
from tests.metrics_helpers import emf_agent, wait_until


def _registry() -> tuple[CollectorRegistry, Counter, Gauge, Histogram]:
    registry = CollectorRegistry()
    records = Counter("lakestream_sink_records", "r", ["topic"], registry=registry)
    lag = Gauge("lakestream_sink_consumer_lag", "l", ["topic", "partition"], registry=registry)
    flush = Histogram("lakestream_sink_flush_seconds", "f", ["topic"], registry=registry)
    Counter("other_library_total", "not ours", registry=registry).inc()
    return registry, records, lag, flush


def _by_name(docs: list[dict]) -> dict[str, dict]:
    return {d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"]: d for d in docs}


def test_counters_go_as_what_they_grew_by_gauges_as_values_partitions_summed():
    registry, records, lag, flush = _registry()
    exporter = EmfExporter(lambda _l: None, {"Deployment": "lakestream-prod"}, "/g", registry)
    records.labels("t").inc(10)
    lag.labels("t", "0").set(3)
    lag.labels("t", "1").set(4)
    flush.labels("t").observe(0.5)
    flush.labels("t").observe(1.5)

    first = _by_name(exporter.documents(now_ms=1_000))
    assert set(first) == {
        "sink_records", "sink_consumer_lag", "sink_flush_seconds_count", "sink_flush_seconds_sum"
    }  # fmt: skip
    assert first["sink_records"]["sink_records"] == 10
    assert first["sink_consumer_lag"]["sink_consumer_lag"] == 7  # one series per topic
    assert "partition" not in first["sink_consumer_lag"]
    assert (first["sink_flush_seconds_count"]["sink_flush_seconds_count"],
            first["sink_flush_seconds_sum"]["sink_flush_seconds_sum"]) == (2, 2.0)  # fmt: skip
    doc = first["sink_records"]
    assert doc["Deployment"] == "lakestream-prod"
    assert doc["topic"] == "t"
    assert doc["_aws"]["Timestamp"] == 1_000
    assert doc["_aws"]["LogGroupName"] == "/g"
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "lakestream"
    assert directive["Dimensions"] == [["Deployment", "topic"]]
    units = {
        name: d["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] for name, d in first.items()
    }
    assert units == {
        "sink_records": "Count",
        "sink_consumer_lag": "Count",
        "sink_flush_seconds_count": "Count",
        "sink_flush_seconds_sum": "Seconds",
    }

    records.labels("t").inc(5)
    lag.labels("t", "0").set(0)
    second = _by_name(exporter.documents())
    assert second["sink_records"]["sink_records"] == 5  # only what the interval added
    assert second["sink_consumer_lag"]["sink_consumer_lag"] == 4
    # A counter that did not grow sends nothing: CloudWatch bills a metric per hour it is sent.
    assert "sink_flush_seconds_count" not in second
    assert "sink_flush_seconds_sum" not in second


def test_stdout_gets_one_json_line_per_document():
    registry, records, _, _ = _registry()
    records.labels("t").inc()
    out = io.StringIO()
    assert EmfExporter(emf_writer("stdout", out), registry=registry).export() == 1
    (line,) = out.getvalue().splitlines()
    assert json.loads(line)["sink_records"] == 1


def test_the_agent_socket_gets_the_documents_and_close_sends_the_last_interval():
    registry, records, _, _ = _registry()
    with emf_agent() as (port, received):
        exporter = EmfExporter(emf_writer(f"tcp://127.0.0.1:{port}"), registry=registry)
        records.labels("t").inc(2)
        exporter.export()
        records.labels("t").inc(3)
        exporter.close()  # a service stopping: what grew since the last minute still goes
        wait_until(lambda: len(received) == 2, 10, "two documents")
    assert [d["sink_records"] for d in received] == [2, 3]


def test_gauges_go_once_a_minute_and_at_exit_only_from_a_process_that_never_sent_them():
    registry, records, lag, _ = _registry()
    lag.labels("t", "0").set(5)
    records.labels("t").inc()
    service, lines = EmfExporter(lambda _l: None, registry=registry), []
    service.write = lines.append
    service.tick()  # the minute's export: the lag, once
    records.labels("t").inc(2)
    service.close()  # stopping within the same minute: what grew, not the lag again
    sent = [json.loads(line) for line in lines]
    assert [d.get("sink_consumer_lag") for d in sent if "sink_consumer_lag" in d] == [5]
    assert [d["sink_records"] for d in sent if "sink_records" in d] == [1, 2]
    # A pass run from a timer exits before its first minute: its gauges go at exit.
    one_pass, lines = EmfExporter(lambda _l: None, registry=registry), []
    one_pass.write = lines.append
    one_pass.close()
    assert any("sink_consumer_lag" in json.loads(line) for line in lines)


def test_a_gauge_that_changed_after_the_minute_goes_at_exit():
    """A pass that crossed a minute sets its lag at the end: that value must still be sent."""
    registry, _, lag, _ = _registry()
    lag.labels("t", "0").set(7)
    exporter, lines = EmfExporter(lambda _l: None, registry=registry), []
    exporter.write = lines.append
    exporter.tick()
    lag.labels("t", "0").set(42)
    exporter.close()
    sent = [json.loads(line)["sink_consumer_lag"] for line in lines if "consumer_lag" in line]
    assert sent == [7, 42]


def test_a_write_that_fails_sends_its_figures_with_the_next_interval():
    registry, records, _, _ = _registry()
    lines: list[str] = []

    def flaky(line: str) -> None:
        if not lines and not flaky.failed:
            flaky.failed = True
            raise OSError("agent restarting")
        lines.append(line)

    flaky.failed = False
    exporter = EmfExporter(flaky, registry=registry)
    records.labels("t").inc(10)
    exporter.tick()  # fails: logged, nothing counted as sent
    records.labels("t").inc(1)
    exporter.tick()
    assert [json.loads(line)["sink_records"] for line in lines] == [11]


def test_a_process_sends_its_own_stage_only():
    """The API imports the sink's modules (their metrics register): it never sends them, or
    an API would keep the sink's heartbeat alive."""
    registry, records, _, _ = _registry()
    Counter("lakestream_api_requests", "a", ["endpoint"], registry=registry).labels("x").inc()
    records.labels("t").inc()
    api = EmfExporter(lambda _l: None, registry=registry, prefix="lakestream_api_")
    assert [next(k for k in d if k.startswith("api_")) for d in api.documents()] == ["api_requests"]


@pytest.mark.parametrize("target", ["udp://127.0.0.1:25888", "tcp://127.0.0.1", "25888"])
def test_a_target_that_is_not_stdout_or_tcp_host_port_is_refused(target):
    with pytest.raises(LakestreamError, match="expected stdout, tcp://host:port"):
        emf_writer(target)


@pytest.mark.parametrize("bad", ["http", "-1", "70000"])
def test_metrics_port_is_a_port(bad, capsys):
    import argparse

    parser = argparse.ArgumentParser(prog="p")
    add_metrics_option(parser)
    assert parser.parse_args(["--metrics-port", "9101"]).metrics_port == 9101
    assert parser.parse_args([]).metrics_port == 0
    with pytest.raises(SystemExit):
        parser.parse_args(["--metrics-port", bad])
    assert "--metrics-port" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("reason", "label"),
    [
        ("empty message (null value)", "empty"),
        ("oversized: 900 bytes > 300", "oversized"),
        ("invalid JSON: unexpected character", "invalid_json"),
        ("duplicate key 'likes' in a JSON object", "malformed_json"),
        ("curation: likes: expected bigint, got True", "invalid_field"),
        ("curation: invalid JSON: x", "invalid_json"),
    ],
)
def test_dead_letter_reasons_become_a_few_labels(reason, label):
    assert reason_label(reason) == label


def test_a_metric_with_several_labels_is_also_filed_under_its_first_alone():
    registry = CollectorRegistry()
    dead = Counter("lakestream_sink_dead_letters", "d", ["topic", "reason"], registry=registry)
    dead.labels("t", "invalid_json").inc(2)
    dead.labels("t", "oversized").inc()
    docs = EmfExporter(lambda _l: None, {"Deployment": "d"}, registry=registry).documents()
    assert [d["reason"] for d in docs] == ["invalid_json", "oversized"]
    for doc in docs:
        assert doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [
            ["Deployment", "topic", "reason"],
            ["Deployment", "topic"],  # the alarm's series: every reason of the topic, summed
        ]
