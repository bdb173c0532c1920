"""How the long-running stages report what they do: Prometheus metrics, and the same figures as
CloudWatch metrics in the embedded metric format (EMF).

Each stage declares its metrics with prometheus-client in its own `metrics` module (the sink's
in `consumers/metrics.py`, curation's in `curation/metrics.py`, the API's in
`athena_api/query/metrics.py`), all named `lakestream_<stage>_…`. Locally they are scraped:
`--metrics-port` on the long-running command lines, `/metrics` on the API.

On AWS, no scraper is needed: `EmfExporter` turns the registry into EMF documents once a minute
and hands them to the CloudWatch agent on the instance (its TCP listener, LAKESTREAM_METRICS_EMF
=tcp://127.0.0.1:25888), which files them in CloudWatch Logs, where CloudWatch extracts the
metrics. One document per metric and label set per minute, whatever the record rate: no call
per record, and no CloudWatch API call from the service at all. Counters are sent as what they
grew by in the interval (nothing when they did not grow: CloudWatch bills each metric by the
hour it receives data), gauges as their value, histograms as the interval's count and sum.
Exports fall on the wall clock's minutes, so that each process sends one value per metric per
minute and a gauge's Sum over a minute adds up every process's share (the lag of a topic split
between several sink instances).
Each document's dimensions are the deployment and the metric's labels (a partition summed
away); a metric with several labels is also filed under its first one alone, the series the
alarms watch (dead letters per topic, whatever their reason).
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
from prometheus_client.metrics_core import Metric

from lakestream.core.argtypes import port
from lakestream.core.errors import LakestreamError
from lakestream.core.settings import Settings, emf_address

log = logging.getLogger(__name__)

NAMESPACE = "lakestream"  # the CloudWatch namespace, and every Prometheus metric's prefix
EMF_INTERVAL_S = 60.0  # CloudWatch's standard resolution: one datapoint per minute
# Labels whose values are too many for CloudWatch dimensions (each set is a metric, billed):
# their series are summed away before export. Prometheus keeps them.
COLLAPSED_LABELS = frozenset({"partition"})
# Prometheus metric families whose samples go to CloudWatch: the project's own only.
_PREFIX = f"{NAMESPACE}_"

_UNITS = {"seconds": "Seconds", "bytes": "Bytes"}


def serve_metrics(port: int, host: str = "127.0.0.1") -> None:
    """Answer Prometheus scrapes on http://host:port/metrics from a daemon thread."""
    try:
        start_http_server(port, addr=host)
    except OSError as exc:
        raise LakestreamError(
            f"cannot serve metrics on {host}:{port}: {exc.strerror or exc} "
            "(choose another --metrics-port, or 0 for none)"
        ) from None


def add_metrics_option(parser: argparse.ArgumentParser) -> None:
    """`--metrics-port` of a long-running command line."""
    parser.add_argument(
        "--metrics-port",
        type=port,
        default=0,
        metavar="PORT",
        help="serve Prometheus metrics on http://127.0.0.1:PORT/metrics (default 0: none). "
        "LAKESTREAM_METRICS_EMF sends the same figures to CloudWatch",
    )


# --- the embedded metric format ----------------------------------------------------------------


@dataclass
class _Series:
    """One metric and label set as CloudWatch sees it (collapsed labels summed away)."""

    name: str
    unit: str
    labels: tuple[tuple[str, str], ...]
    kind: str  # counter | gauge
    value: float = 0.0


def _unit(name: str) -> str:
    for suffix, unit in _UNITS.items():
        if name.endswith(f"_{suffix}"):
            return unit
    return "Count"


def _series(metrics: Iterable[Metric], prefix: str = _PREFIX) -> dict[Any, _Series]:
    """The registry's samples as CloudWatch series: counters' totals, gauges' values, and each
    histogram as two counters (its `_count` and `_sum`); only the families named `prefix…`."""
    found: dict[Any, _Series] = {}
    for metric in metrics:
        if not metric.name.startswith(prefix):
            continue
        for sample in metric.samples:
            if metric.type == "counter" and sample.name.endswith("_total"):
                name, kind = sample.name[: -len("_total")], "counter"
            elif metric.type == "histogram" and sample.name.endswith(("_count", "_sum")):
                name, kind = sample.name, "counter"
            elif metric.type == "gauge":
                name, kind = sample.name, "gauge"
            else:
                continue  # _created, buckets: Prometheus' own
            # In the metric's own order: the first label is the one alarms roll up to.
            labels = tuple((k, v) for k, v in sample.labels.items() if k not in COLLAPSED_LABELS)
            key = (name, labels)
            unit = "Count" if name.endswith("_count") else _unit(name.removesuffix("_sum"))
            entry = found.setdefault(key, _Series(name[len(_PREFIX) :], unit, labels, kind))
            entry.value += sample.value
    return found


Key = tuple[str, tuple[tuple[str, str], ...]]


@dataclass
class EmfExporter:
    """Once per `interval`, the registry's figures as EMF documents, one JSON line each, to
    `write`; `dimensions` (the deployment, say) go on every document. `prefix` picks the
    process's own stage (`lakestream_sink_`): a process that imports another stage's module
    (the API imports the sink's groups) never sends that stage's figures."""

    write: Callable[[str], None]
    dimensions: Mapping[str, str] = field(default_factory=dict)
    log_group: str | None = None
    registry: CollectorRegistry = REGISTRY
    interval: float = EMF_INTERVAL_S
    prefix: str = _PREFIX
    _last: dict[Key, float] = field(default_factory=dict)  # counters' totals, as last sent
    _gauges: dict[Key, float] = field(default_factory=dict)  # gauges' values, as last sent
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    def _pending(self, now_ms: int, final: bool) -> list[tuple[Key, _Series, float, dict]]:
        """(series, its total, document) of each figure to send: counters by what they grew
        (none that did not); gauges every time, or at `final` only those that changed."""
        found = []
        for key, series in sorted(_series(self.registry.collect(), self.prefix).items()):
            if series.kind == "counter":
                value = series.value - self._last.get(key, 0.0)
                if not value:
                    continue
            else:
                value = series.value
                if final and self._gauges.get(key) == value:
                    continue  # sent this minute already: a Sum over the minute stays right
            labels = dict(series.labels)
            dims = [[*self.dimensions, *labels]]
            if len(labels) > 1:  # also per first label: dead letters per topic, whatever reason
                dims.append([*self.dimensions, next(iter(labels))])
            aws: dict[str, Any] = {
                "Timestamp": now_ms,
                "CloudWatchMetrics": [
                    {
                        "Namespace": NAMESPACE,
                        "Dimensions": dims,
                        "Metrics": [{"Name": series.name, "Unit": series.unit}],
                    }
                ],
            }
            if self.log_group:
                aws["LogGroupName"] = self.log_group
            doc = {"_aws": aws, **self.dimensions, **labels, series.name: value}
            found.append((key, series, series.value, doc))
        return found

    def _sent(self, key: Key, series: _Series, total: float) -> None:
        (self._last if series.kind == "counter" else self._gauges)[key] = total

    def documents(self, now_ms: int | None = None, final: bool = False) -> list[dict[str, Any]]:
        """The documents of the interval since the last call, taken as sent."""
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        pending = self._pending(now_ms, final)
        for key, series, total, _doc in pending:
            self._sent(key, series, total)
        return [doc for *_, doc in pending]

    def export(self, final: bool = False) -> int:
        """Write one interval's documents now; how many were written. A figure counts as sent
        only once its document is written: a failed write sends it with the next interval."""
        with self._lock:
            pending = self._pending(int(time.time() * 1000), final)
            for key, series, total, doc in pending:
                self.write(json.dumps(doc, separators=(",", ":")))
                self._sent(key, series, total)
            return len(pending)

    def tick(self) -> None:
        """One periodic export (the thread's, once a minute)."""
        try:
            self.export()
        except Exception as exc:  # metrics never stop a service
            log.warning("metrics: EMF export failed: %s", exc)

    def run(self) -> None:
        # On the wall clock's minutes: one value per metric and process in each minute.
        while not self._stop.wait(self.interval - time.time() % self.interval):
            self.tick()

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self.run, name="emf-exporter", daemon=True)
        self._thread.start()
        return self._thread

    def close(self) -> None:
        """Stop, sending what grew since the last interval (a service stopping on SIGTERM, a
        pass run from a timer), and the gauges that changed since they were sent. Once: a
        second call sends nothing."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)  # an export under way ends first
        try:
            self.export(final=True)
        except Exception as exc:
            log.warning("metrics: the last EMF export failed: %s", exc)


class AgentSocket:
    """Lines to the CloudWatch agent's EMF listener (tcp://host:port), reconnecting as needed."""

    def __init__(self, host: str, port: int, timeout: float = 5.0) -> None:
        self.address = (host, port)
        self.timeout = timeout
        self.sock: socket.socket | None = None

    def __call__(self, line: str) -> None:
        data = (line + "\n").encode()
        for attempt in (1, 2):  # once more on a fresh connection: the agent may have restarted
            try:
                if self.sock is None:
                    self.sock = socket.create_connection(self.address, timeout=self.timeout)
                self.sock.sendall(data)
                return
            except OSError:
                if self.sock is not None:
                    self.sock.close()
                self.sock = None
                if attempt == 2:
                    raise


def emf_writer(target: str, stream: IO[str] | None = None) -> Callable[[str], None]:
    """Where LAKESTREAM_METRICS_EMF sends documents: `stdout`, or `tcp://host:port`."""
    try:
        address = emf_address(target)
    except ValueError:
        raise LakestreamError(
            f"LAKESTREAM_METRICS_EMF={target!r}: expected stdout, tcp://host:port "
            "(the CloudWatch agent listens on tcp://127.0.0.1:25888) or nothing"
        ) from None
    if address is None:
        out = stream or sys.stdout

        def write(line: str) -> None:
            out.write(line + "\n")
            out.flush()

        return write
    return AgentSocket(*address)


def start_reporting(settings: Settings, stage: str, port: int = 0) -> EmfExporter | None:
    """What a long-running process starts: the scrape endpoint (port > 0) and the export of
    its `stage`'s figures (`sink`, `curation`, `api`) to CloudWatch (LAKESTREAM_METRICS_EMF).
    The exporter is returned so that the process can send what is left as it ends
    (`close()`)."""
    if port:
        serve_metrics(port)
    if not settings.metrics_emf:
        return None
    exporter = EmfExporter(
        emf_writer(settings.metrics_emf),
        {"Deployment": settings.deployment},
        settings.metrics_log_group,
        interval=settings.metrics_emf_interval,
        prefix=f"{_PREFIX}{stage}_",
    )
    exporter.start()
    return exporter
