"""The API's Prometheus metrics: requests and latency by endpoint (its URL name) and status
class, counted by a middleware; `/metrics` answers them, behind the API key like every other
route but the docs.

Under gunicorn each worker is a process of its own: `athena_api serve` points
PROMETHEUS_MULTIPROC_DIR at a fresh folder before the workers start, so `/metrics` adds up every
worker's figures whichever one answers. On AWS each worker also sends its own figures to
CloudWatch (lakestream/core/metrics.py), where they add up the same way."""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from rest_framework.request import Request
from rest_framework.views import APIView

from lakestream.core.metrics import EmfExporter, start_reporting
from lakestream.core.settings import load_settings

log = logging.getLogger(__name__)

REQUESTS = Counter(
    "lakestream_api_requests",
    "Requests answered, by endpoint (URL name) and status class (2xx, 3xx, 4xx, 5xx).",
    ["endpoint", "status"],
)
SECONDS = Histogram(
    "lakestream_api_request_seconds",
    "Time to answer a request, by endpoint.",
    ["endpoint"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

ANSWERS = Counter(
    "lakestream_api_answers",
    "Query and analysis answers by how they were given: computed (the engine ran), reused (an "
    "answer kept on unchanged data), engine_reused (Athena's result reuse) or not_modified "
    "(304: the client's ETag still holds).",
    ["outcome"],
)

_exporters: dict[int, EmfExporter | None] = {}  # by process id
_starting = threading.Lock()


def _report_from_this_process() -> None:
    """Each gunicorn worker sends its own figures. The application (and this middleware) is
    loaded in gunicorn's master, whose threads a forked worker does not inherit: so the export
    starts in the process that answers, on its first request."""
    pid = os.getpid()
    if pid in _exporters:
        return
    with _starting:
        if pid not in _exporters:
            try:
                exporter = start_reporting(load_settings(), "api")
            except Exception as exc:  # never a request's error: said once, and no export
                log.error("metrics: no export to CloudWatch: %s", exc)
                exporter = None
            _exporters[pid] = exporter
            if exporter is not None:  # a worker that stops sends its last interval
                atexit.register(exporter.close)


class RequestMetrics:
    """Counts every request by endpoint and status class, and times it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        _report_from_this_process()
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        # The URL's name, never its path: paths carry table names and typos without end.
        endpoint = (match.url_name or match.route or "root") if match is not None else "unmatched"
        if endpoint == "static" or request.path.startswith("/static/"):
            endpoint = "static"
        REQUESTS.labels(endpoint, f"{response.status_code // 100}xx").inc()
        SECONDS.labels(endpoint).observe(time.perf_counter() - started)
        return response


def _registry() -> Any:
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


class MetricsView(APIView):
    """Prometheus text exposition of the API's metrics (all workers')."""

    swagger_schema = None  # for scrapers, not for Postman users

    def get(self, request: Request) -> HttpResponse:
        return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
