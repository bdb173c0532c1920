"""The Django REST API that runs parameterized Athena queries (local DuckDB or Athena).

`setup_django` is the one place Django is configured: the server, the WSGI application, the
command line, the demo, the benchmark and the tests all call it.
"""

from __future__ import annotations

import os

import django

SETTINGS_MODULE = "athena_api.settings"


def setup_django(debug: bool | None = None) -> None:
    """Configure Django once per process; `debug` sets API_DEBUG unless it is already set."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", SETTINGS_MODULE)
    if debug is not None:
        os.environ.setdefault("API_DEBUG", "1" if debug else "0")
    django.setup()
