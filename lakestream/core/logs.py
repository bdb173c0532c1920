"""Log lines as the command lines write them: `prog: message` on a terminal, or one JSON object
per line (LAKESTREAM_LOG_FORMAT=json, as the services on AWS run) for CloudWatch Logs, where
Logs Insights queries the fields (`level`, `logger`, `message`, `service`)."""

from __future__ import annotations

import logging

from pythonjsonlogger.json import JsonFormatter

from lakestream.core.settings import load_settings


def _log_format() -> str:
    try:
        return load_settings().log_format
    except Exception:  # settings that do not load are the command's to report, not ours
        return "text"


def configure_logging(prog: str) -> None:
    """The root logger's one handler, on stderr, at WARNING (a command raises its own)."""
    handler = logging.StreamHandler()
    if _log_format() == "json":
        handler.setFormatter(
            JsonFormatter(
                "{levelname}{name}{message}",
                style="{",
                rename_fields={"levelname": "level", "name": "logger"},
                static_fields={"service": prog},
                timestamp="time",  # ISO 8601, UTC
            )
        )
    else:
        handler.setFormatter(logging.Formatter(f"{prog}: %(message)s"))
    # As basicConfig does: a root that already has handlers (pytest's capture) is left alone.
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
