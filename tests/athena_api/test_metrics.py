"""The API's metrics are sent by the process that answers: a gunicorn worker, forked from a
master that loaded the middleware, starts its own export on its first request (pure logic)."""

from __future__ import annotations

from athena_api.query import metrics


def test_each_process_starts_its_own_export_once(monkeypatch):
    started: list[int] = []
    pid = {"now": 101}
    monkeypatch.setattr(metrics, "_exporters", {})
    monkeypatch.setattr(metrics.os, "getpid", lambda: pid["now"])
    monkeypatch.setattr(metrics, "load_settings", lambda: None)
    monkeypatch.setattr(metrics, "start_reporting", lambda *_: started.append(pid["now"]))
    for _ in range(3):
        metrics._report_from_this_process()  # the master, or the first worker
    pid["now"] = 102  # a worker forked from it: the dict says 101 started, not this one
    metrics._report_from_this_process()
    metrics._report_from_this_process()
    assert started == [101, 102]


def test_an_export_that_cannot_start_never_fails_a_request(monkeypatch, caplog):
    def refuse(*_args):
        raise ValueError("LAKESTREAM_METRICS_EMF: expected stdout or tcp://host:port")

    monkeypatch.setattr(metrics, "_exporters", {})
    monkeypatch.setattr(metrics, "load_settings", lambda: None)
    monkeypatch.setattr(metrics, "start_reporting", refuse)
    metrics._report_from_this_process()
    metrics._report_from_this_process()  # said once: the process remembers it has none
    assert caplog.text.count("no export to CloudWatch") == 1
