"""Terminal output shared by the command lines."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from rich.console import Console
from rich.live import Live
from rich.table import Table

T = TypeVar("T")
R = TypeVar("R")

PIPED_WIDTH = 160  # piped output (make, CI logs) keeps names whole instead of wrapping at 80


def out_console(piped_width: int = PIPED_WIDTH) -> Console:
    """stdout: the terminal's width, or a fixed wide one when piped."""
    return Console(width=None if sys.stdout.isatty() else piped_width)


def err_console(piped_width: int = PIPED_WIDTH) -> Console:
    """stderr, likewise."""
    return Console(stderr=True, width=None if sys.stderr.isatty() else piped_width)


PLAIN_PROGRESS_EVERY = 5.0  # seconds between progress lines when stderr is not a terminal


def with_progress(
    quiet: bool,
    table: Callable[[list[T]], Table],
    line: Callable[[list[T]], str],
    run: Callable[[Callable[[list[T]], None] | None], R],
) -> R:
    """Run `run(tick)` showing its statistics on stderr as it goes.

    A live table on a terminal (`table`), a `line` every few seconds when piped (CI logs, make),
    nothing with `quiet`. `run` calls `tick` with the current statistics.
    """
    err = err_console()
    if quiet:
        return run(None)
    if err.is_terminal:
        with Live(table([]), console=err, refresh_per_second=4) as live:
            return run(lambda stats: live.update(table(stats)))
    last = [time.monotonic()]

    def plain(stats: list[T]) -> None:
        if time.monotonic() - last[0] >= PLAIN_PROGRESS_EVERY:
            last[0] = time.monotonic()
            err.print("• " + line(stats), highlight=False)

    return run(plain)


def figures_table(title: str, columns: Sequence[str], labels: Sequence[str]) -> Table:
    """A summary table: the `labels` columns left-aligned, every other (a figure) right-aligned."""
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, justify="left" if column in labels else "right")
    return table
