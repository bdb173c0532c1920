"""Safe by default: no open API beyond this machine, throttling per client (key and address),
wrong keys throttled, and a health route that is cheap and throttled like the rest."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.cache import cache

from athena_api.query import views
from athena_api.query.auth import ClientRateThrottle, WrongKeyThrottle

pytestmark = pytest.mark.stack

KEY = "the-right-key"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "api.example.com"])  # noqa: S104 - refused, not bound
def test_no_key_is_refused_beyond_this_machine(host):
    env = {k: v for k, v in os.environ.items() if k not in ("API_KEY", "API_DEBUG")}
    env["API_DEBUG"] = "1"  # the only way to run without a key at all
    result = subprocess.run(
        [sys.executable, "-m", "athena_api", "serve", "--host", host, "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"athena_api: error: no API_KEY: the API would answer anyone who reaches {host}:1; set "
        "API_KEY (clients send it as X-API-Key) or serve on 127.0.0.1"
    )


@pytest.fixture
def keyed(api, settings, monkeypatch):
    settings.API_KEY = KEY
    cache.clear()
    yield api
    cache.clear()


def test_clients_sharing_a_key_each_get_their_own_allowance(keyed, monkeypatch):
    monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", {"client": "2/min"})

    def status(address: str) -> int:
        return keyed.get("/api/tables/", HTTP_X_API_KEY=KEY, REMOTE_ADDR=address).status_code

    assert [status("10.0.0.1") for _ in range(3)] == [200, 200, 429]
    assert status("10.0.0.2") == 200  # same key, another machine: its own bucket


def test_wrong_keys_are_throttled_per_address(keyed, monkeypatch):
    monkeypatch.setattr(WrongKeyThrottle, "THROTTLE_RATES", {"wrong_key": "3/min"})

    def status(key: str, address: str = "10.0.0.9") -> int:
        return keyed.get("/api/tables/", HTTP_X_API_KEY=key, REMOTE_ADDR=address).status_code

    assert [status(f"guess-{i}") for i in range(4)] == [401, 401, 401, 429]
    assert status(KEY) == 429  # guessing from here is stopped, even a right guess
    assert status(KEY, address="10.0.0.8") == 200


def test_health_is_throttled_and_checks_the_engine_at_most_every_30_s(api, monkeypatch):
    monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", {"client": "3/min"})
    cache.clear()
    pings: list[int] = []
    real = views.engine()
    monkeypatch.setattr(real, "ping", lambda: pings.append(1))
    statuses = [api.get("/api/health/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert len(pings) == 1
    cache.clear()
