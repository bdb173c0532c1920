"""Terminal output shared by the command lines."""

from __future__ import annotations

import sys

from rich.console import Console

PIPED_WIDTH = 160  # piped output (make, CI logs) keeps names whole instead of wrapping at 80


def out_console(piped_width: int = PIPED_WIDTH) -> Console:
    """stdout: the terminal's width, or a fixed wide one when piped."""
    return Console(width=None if sys.stdout.isatty() else piped_width)


def err_console(piped_width: int = PIPED_WIDTH) -> Console:
    """stderr, likewise."""
    return Console(stderr=True, width=None if sys.stderr.isatty() else piped_width)
