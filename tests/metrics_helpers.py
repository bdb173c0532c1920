"""Reading metrics as their consumers do: a Prometheus scrape over HTTP, and a TCP listener that
stands in for the CloudWatch agent's EMF port."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from prometheus_client.parser import text_string_to_metric_families


def scrape(url: str, headers: dict[str, str] | None = None) -> dict[tuple[str, tuple], float]:
    """Every sample of a Prometheus text page: (name, sorted labels) -> value."""
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: dict[tuple[str, tuple], float], name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels` (0 when none)."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))


def read_to_the_end(port: int, topic: str, partitions: int) -> bool:
    """Whether a sink scraped on `port` holds every partition of `topic`, each read to its end
    (its consumer-lag gauge at 0); False while its endpoint is not up yet."""
    try:
        samples = scrape(f"http://127.0.0.1:{port}/metrics")
    except OSError:
        return False
    lags = [
        v
        for (name, labels), v in samples.items()
        if name == "lakestream_sink_consumer_lag" and ("topic", topic) in labels
    ]
    return len(lags) == partitions and not any(lags)


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


@contextmanager
def emf_agent() -> Iterator[tuple[int, list[dict]]]:
    """A TCP listener on loopback taking JSON lines, as the CloudWatch agent's EMF listener
    does; yields (port, documents received so far)."""
    server = socket.create_server(("127.0.0.1", 0))
    received: list[dict] = []

    def serve_one(conn: socket.socket) -> None:
        with conn, conn.makefile("r", encoding="utf-8") as lines:
            for line in lines:
                received.append(json.loads(line))

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=serve_one, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield server.getsockname()[1], received
    finally:
        server.close()


def emf_total(documents: list[dict], metric: str, **dimensions: str) -> float:
    """What the documents add up to for one metric, over documents with these dimensions."""
    return sum(
        d[metric]
        for d in documents
        if metric in d and all(d.get(k) == v for k, v in dimensions.items())
    )
