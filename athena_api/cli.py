"""Command line of the API: serve it, or export its OpenAPI document and Postman collection."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from athena_api import setup_django
from lakestream.core.entry import cli_args, command_main
from lakestream.core.errors import LakestreamError
from lakestream.core.settings import is_loopback_host

POSTMAN_PATH = Path(__file__).with_name("postman") / "lakestream.postman_collection.json"


def openapi_document() -> dict:
    setup_django()
    from drf_yasg import openapi  # drf-yasg reads Django settings on import
    from drf_yasg.generators import OpenAPISchemaGenerator

    generator = OpenAPISchemaGenerator(
        openapi.Info(title="lakestream query API", default_version="v1")
    )
    return json.loads(json.dumps(generator.get_schema(request=None, public=True)))


def main(argv: Sequence[str] | None = None) -> int:
    args = cli_args(argv)
    return command_main("athena_api", lambda: _run(args))


def _run(argv: Sequence[str] | None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m athena_api",
        description="Serve the query API: GET /api/query-table/?table=...&limit=...&filter=..., "
        "/api/tables/, /api/health/, the dashboard at /dashboard/, Swagger UI at /swagger/ and "
        "ReDoc at /redoc/. Configuration "
        "comes from the environment (API_PORT, API_KEY, API_ENGINE, ...: "
        "see athena_api/settings.py).",
    )
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the server (the default)")
    serve.add_argument("--host", help="default: API_HOST (127.0.0.1)")
    serve.add_argument("--port", type=int, help="default: API_PORT (8000)")
    serve.add_argument(
        "--dev",
        action="store_true",
        help="Django's development server instead of gunicorn (needs API_DEBUG=1)",
    )
    sub.add_parser("openapi", help="print the OpenAPI document")
    postman = sub.add_parser(
        "postman", help="write the Postman collection generated from the OpenAPI document"
    )
    postman.add_argument("--out", type=Path, default=POSTMAN_PATH)
    args = parser.parse_args(argv)

    if args.command == "openapi":
        print(json.dumps(openapi_document(), indent=2))
        return 0
    if args.command == "postman":
        from athena_api.postman import collection

        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            json.dumps(collection(openapi_document()), indent=2) + "\n", encoding="utf-8"
        )
        print(args.out)
        return 0
    try:
        setup_django()
    except (ValidationError, LakestreamError):
        raise
    except Exception as exc:  # ImproperlyConfigured and friends: one line, no traceback
        raise LakestreamError(str(exc)) from None
    from django.conf import settings

    lake = settings.LAKE
    host = lake.api_host if getattr(args, "host", None) is None else args.host
    port = lake.api_port if getattr(args, "port", None) is None else args.port
    if not settings.API_KEY:
        if not is_loopback_host(host):  # 0.0.0.0 and :: are every address
            raise LakestreamError(
                f"no API_KEY: the API would answer anyone who reaches {host}:{port}; set "
                "API_KEY (clients send it as X-API-Key) or serve on 127.0.0.1"
            )
        print(
            f"no API_KEY: open to this machine only ({host}); set API_KEY to require one",
            file=sys.stderr,
        )

    if getattr(args, "dev", False):
        if not settings.DEBUG:
            print(
                "athena_api: error: --dev runs Django's development server, which is not made "
                "for production: set API_DEBUG=1 to use it, or leave --dev out for gunicorn",
                file=sys.stderr,
            )
            return 2
        from django.core.management import call_command

        print(
            f"development server on http://{host}:{port}/ (dashboard: /dashboard/, "
            "Swagger UI: /swagger/)",
            file=sys.stderr,
        )
        call_command("runserver", f"{host}:{port}", use_reloader=False, insecure_serving=True)
        return 0
    print(
        f"serving on http://{host}:{port}/ with gunicorn: {lake.api_workers} workers x "
        f"{lake.api_threads} threads (API_WORKERS, API_THREADS); dashboard: /dashboard/, "
        "Swagger UI: /swagger/",
        file=sys.stderr,
    )
    serve_gunicorn(
        host,
        port,
        workers=lake.api_workers,
        threads=lake.api_threads,
        timeout=settings.API_QUERY_TIMEOUT + 30,
    )
    return 0


def serve_gunicorn(host: str, port: int, workers: int, threads: int, timeout: float) -> None:
    """The API under gunicorn: `workers` processes, each answering `threads` requests at once
    (the local engine gives each thread a DuckDB database of its own)."""
    # Each worker counts its requests in files of this folder, and /metrics adds them up
    # (athena_api/query/metrics.py). prometheus-client reads the variable once, on import:
    # before the application (and its middleware) is loaded here.
    if "prometheus_client" in sys.modules:  # too late for this process: it counts alone
        print(
            "athena_api: /metrics will show the answering worker's requests only "
            "(prometheus_client was imported before the server started)",
            file=sys.stderr,
        )
        _run_gunicorn(host, port, workers, threads, timeout)
        return
    # Removed by the master only: a worker leaves with SystemExit through this very frame (a
    # SIGHUP, a timeout), and a `with TemporaryDirectory` would delete the folder under the
    # workers that carry on.
    metrics_dir = tempfile.mkdtemp(prefix="lakestream-api-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    master = os.getpid()
    try:
        _run_gunicorn(host, port, workers, threads, timeout)
    finally:
        if os.getpid() == master:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _run_gunicorn(host: str, port: int, workers: int, threads: int, timeout: float) -> None:
    from gunicorn.app.base import BaseApplication

    from athena_api.wsgi import application

    class Server(BaseApplication):
        def load_config(self) -> None:
            options = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                # A worker busy longer than the query timeout (plus a margin) is stuck.
                "timeout": int(timeout),
                "graceful_timeout": 20,
                "accesslog": "-",
                "errorlog": "-",
                "loglevel": "info",
                "proc_name": "lakestream-api",
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return application

    Server().run()
