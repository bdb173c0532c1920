"""One landed, crawled deployment lake for the API tests, a Django test client bound to it, and
the API served by gunicorn over it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import pytest

from athena_api import setup_django

# Django is configured once for the process; each test overrides what it needs.
setup_django(debug=True)

from curation.run import curate
from glue.crawler import LocalCrawler
from lakestream.stack.processes import free_port, port_is_open
from simulator.simulation import SimulationConfig, Simulator
from tests.lake_helpers import Lake, make_lake

N = 1_000
SEED = 23


@pytest.fixture(scope="session")
def api_lake(running_stack, tmp_path_factory):
    lake = make_lake(running_stack, tmp_path_factory.mktemp("api"), deployment=True)
    lake.land([ds.name for ds in lake.datasets], N, "--seed", str(SEED), "--client", "confluent")
    for ds in lake.datasets:
        LocalCrawler(lake.settings).crawl(ds)
    curate(lake.settings, list(lake.datasets), lake.group_prefix)
    return lake


@contextmanager
def gunicorn_api(lake: Lake, key: str, **env: str) -> Iterator[tuple[int, subprocess.Popen]]:
    """`python -m athena_api serve` (gunicorn) on a free port over `lake`, with API key `key`
    and the local engine; `env` adds settings. Yields (port, process); SIGTERM at the end."""
    port = free_port()
    environment = {**os.environ, **lake.env, "API_KEY": key, "API_DEBUG": "0",
                   "API_ENGINE": "local", **env}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "athena_api", "serve", "--port", str(port)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not port_is_open("127.0.0.1", port) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()[1][-2000:]
            time.sleep(0.2)
        yield port, proc
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


@pytest.fixture
def api(api_lake, settings):
    """Django's test client against the API, configured for `api_lake` (pytest-django-free)."""
    from django.core.cache import cache
    from django.test import Client

    from athena_api.query import views

    cache.clear()  # throttling state: every test starts with a fresh allowance
    views._shared.clear()
    settings.LAKE = api_lake.settings
    settings.API_ENGINE = "local"
    settings.API_KEY = None
    yield Client()
    views._shared.clear()


@pytest.fixture
def settings():
    """A minimal stand-in for pytest-django's fixture: django.test.override_settings per test."""
    from django.conf import settings as django_settings
    from django.test.utils import override_settings

    class Overrides:
        def __init__(self) -> None:
            self._active: list = []

        def __setattr__(self, name: str, value: object) -> None:
            if name.startswith("_"):
                object.__setattr__(self, name, value)
                return
            o = override_settings(**{name: value})
            o.enable()
            self._active.append(o)

        def __getattr__(self, name: str) -> object:
            return getattr(django_settings, name)

    overrides = Overrides()
    yield overrides
    for o in reversed(overrides._active):
        o.disable()


def expected(name: str) -> pd.DataFrame:
    """The records the simulator sent for a dataset, columns lowercased like the catalog's."""
    df = pd.DataFrame(Simulator(SimulationConfig(seed=SEED)).records(name, N))
    return df.rename(columns=str.lower)
