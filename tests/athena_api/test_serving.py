"""`make api` serves with gunicorn (worker processes with threads); Django's development server
runs only on request (--dev) and only with API_DEBUG=1."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest
from prometheus_client.parser import text_string_to_metric_families

from lakestream.stack.processes import free_port, port_is_open
from tests.lake_helpers import gunicorn_api
from tests.metrics_helpers import emf_agent, emf_total, wait_until

pytestmark = pytest.mark.stack
KEY = "test-key-123"


def fetch(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"X-API-Key": KEY})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


@pytest.fixture
def served(api_lake):
    env = {"API_WORKERS": "2", "API_THREADS": "4", "API_THROTTLE_RATE": "10000/min"}
    with gunicorn_api(api_lake.env, KEY, **env) as (port, proc):
        yield port, proc


def test_gunicorn_serves_swagger_and_concurrent_queries(served):
    port, _ = served
    status, headers, body = fetch(port, "/swagger/")
    assert status == 200
    assert headers["Server"].startswith("gunicorn")
    assert b"swagger" in body.lower()
    # Its script and style too: gunicorn runs with DEBUG off, where Django serves no static file.
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', body.decode())
    assert any(a.endswith(".js") for a in assets)
    assert [fetch(port, a)[0] for a in assets] == [200] * len(assets)
    status, _, body = fetch(port, "/api/health/")
    assert (status, json.loads(body)["status"]) == (200, "ok")

    paths = ["/api/analyses/social_engagement/?limit=5", "/api/query-table/?table=kafka_ing_logs"]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: fetch(port, paths[i % 2]), range(16)))
    assert [a[0] for a in answers] == [200] * 16
    rows = {json.dumps(json.loads(a[2])["rows"]) for a in answers[0::2]}
    assert len(rows) == 1  # the same analysis, the same rows, whichever worker and thread
    status, _, body = fetch(port, "/api/analyses/web_errors/?from=soon")
    assert status == 400
    assert json.loads(body)["error"]["param"] == "from"


def test_the_master_stops_its_workers_on_sigterm(served):
    port, proc = served
    assert fetch(port, "/api/health/")[0] == 200
    for _ in range(4):  # the worker or workers that answer open their DuckDB connection
        assert fetch(port, "/api/query-table/?table=kafka_ing_transactions&limit=1")[0] == 200
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    _, stderr = proc.communicate()
    assert "Booting worker" in stderr
    assert "Traceback" not in stderr
    # A worker that answered a query has a DuckDB connection: it must leave without an abort
    # (DuckDB imported in the master before the fork made every worker's exit a SIGABRT).
    assert "SIGABRT" not in stderr, stderr[-2000:]
    assert "terminate called" not in stderr, stderr[-2000:]
    assert not port_is_open("127.0.0.1", port)


def test_the_development_server_needs_api_debug(api_lake):
    env = {**os.environ, **api_lake.env, "API_KEY": KEY, "API_DEBUG": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "athena_api", "serve", "--dev", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "set API_DEBUG=1 to use it" in result.stderr
    assert "Traceback" not in result.stderr


def test_metrics_add_up_every_workers_requests_behind_the_key(served):
    port, _ = served
    query = "/api/query-table/?table=kafka_ing_logs&limit=1"
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: fetch(port, query)[0], range(24)))
    assert answers == [200] * 24
    assert fetch(port, "/api/query-table/?table=kafka_ing_nope")[0] == 404

    status, headers, body = fetch(port, "/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }
    # Two workers answered; /metrics adds up both, whichever one serves the scrape.
    ok = ("lakestream_api_requests_total", (("endpoint", "query-table"), ("status", "2xx")))
    missing = ("lakestream_api_requests_total", (("endpoint", "query-table"), ("status", "4xx")))
    timed = ("lakestream_api_request_seconds_count", (("endpoint", "query-table"),))
    assert (samples[ok], samples[missing], samples[timed]) == (24, 1, 25)

    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics")  # no key
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 401  # as every route but the docs: JSON, never the figures
    assert json.loads(refused.value.read())["error"]["message"]


def test_every_worker_sends_its_figures_while_it_serves(api_lake):
    """The export runs in the process that answers (gunicorn loads the middleware in its
    master, whose threads no forked worker inherits): documents arrive while the server runs."""
    env = {"API_WORKERS": "2", "API_THREADS": "4", "API_THROTTLE_RATE": "10000/min"}
    with emf_agent() as (agent_port, documents):
        env |= {
            "LAKESTREAM_METRICS_EMF": f"tcp://127.0.0.1:{agent_port}",
            "LAKESTREAM_METRICS_EMF_INTERVAL": "1",
        }
        with gunicorn_api(api_lake.env, KEY, **env) as (port, proc):
            with ThreadPoolExecutor(8) as pool:
                codes = list(pool.map(lambda _: fetch(port, "/api/tables/")[0], range(20)))
            assert codes == [200] * 20
            wait_until(
                lambda: emf_total(documents, "api_requests", endpoint="tables", status="2xx") == 20,
                30,
                "20 requests in the documents of the running workers",
            )
            assert proc.poll() is None  # sent while serving, not at exit


def _status(port: int, path: str) -> int:
    """The status, or 0 for a connection the swap of workers reset."""
    try:
        return fetch(port, path)[0]
    except OSError:
        return 0


def test_workers_replaced_by_sighup_keep_counting_into_the_same_folder(served):
    """A worker leaves with SystemExit through the frame that made the metrics folder: only
    the master may remove it, or the new workers answer 500 and /metrics fails."""
    port, proc = served
    assert fetch(port, "/api/tables/")[0] == 200
    proc.send_signal(signal.SIGHUP)  # gunicorn replaces every worker
    deadline = time.monotonic() + 30
    codes: list[int] = []
    while time.monotonic() < deadline:
        codes = [_status(port, "/api/tables/") for _ in range(6)]
        time.sleep(0.5)
        if len(codes) == 6 and set(codes) == {200}:
            break
    assert set(codes) == {200}, codes
    status, _, body = fetch(port, "/metrics")
    assert status == 200
    assert b'lakestream_api_requests_total{endpoint="tables",status="2xx"}' in body
    assert proc.poll() is None
