"""The API's knobs come from the project's settings model: environment, then `.env`, checked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "from athena_api import setup_django; setup_django(); from django.conf import settings as s; "
    "print(s.API_MAX_LIMIT, s.API_KEY, s.DEBUG, s.API_ENGINE, "
    "s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']['client'])"
)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("API_", "DJANGO_"))}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def _probe(folder: Path, **env: str) -> list[str]:
    """The Django settings the API gets when started in `folder` (where .env is read)."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=folder,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.split()


def test_api_settings_are_read_from_dot_env(tmp_path):
    (tmp_path / ".env").write_text(
        "API_MAX_LIMIT=77\nAPI_KEY=from-dotenv\nAPI_DEBUG=0\nAPI_THROTTLE_RATE=5/min\n"
    )
    assert _probe(tmp_path, LAKESTREAM_TARGET="local") == [
        "77",
        "from-dotenv",
        "False",
        "local",
        "5/min",
    ]


def test_the_environment_wins_over_dot_env(tmp_path):
    (tmp_path / ".env").write_text("API_MAX_LIMIT=77\n")
    assert _probe(tmp_path, API_MAX_LIMIT="5")[0] == "5"


def test_a_bad_value_is_one_clear_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "athena_api", "serve", "--port", "1"],
        cwd=tmp_path,
        env=_env(API_THROTTLE_RATE="fast"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("athena_api: error: invalid setting API_THROTTLE_RATE:")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "API_THROTTLE_RATE" in result.stderr
    assert "Traceback" not in result.stderr
