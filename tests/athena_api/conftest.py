"""One landed, crawled deployment lake for the API tests, a Django test client bound to it, and
the API served by gunicorn over it."""

from __future__ import annotations

import pandas as pd
import pytest

from athena_api import setup_django

# Django is configured once for the process; each test overrides what it needs.
setup_django(debug=True)

from curation.run import curate
from glue.crawler import LocalCrawler
from simulator.simulation import SimulationConfig, Simulator
from tests.lake_helpers import make_lake

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


@pytest.fixture
def api(api_lake, settings):
    """Django's test client against the API, configured for `api_lake` (pytest-django-free)."""
    from django.core.cache import cache
    from django.test import Client

    from athena_api.query import views

    cache.clear()  # throttling state: every test starts with a fresh allowance
    views._shared.clear()
    views._health.clear()
    settings.LAKE = api_lake.settings
    settings.API_ENGINE = "local"
    settings.API_KEY = None
    yield Client()
    views._shared.clear()
    views._health.clear()


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
