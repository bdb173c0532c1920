"""The error boundary of every command line, and the entry point shared by the stages'.

What the user can act on is one line on stderr, never a traceback: query errors with their
kind, refused settings by the variable's name (a secret's value is never shown), and
whatever else a command declares expected (a missing file, say). Ctrl-C exits with 130. Each
stage runs its own parser; `bench` as the first word runs its benchmark instead.

The benchmarks live above the stages (`orchestration.bench`: they start stacks and drive
several stages at once), so a stage does not import its own. The orchestration package declares
each one as an entry point of the group `lakestream.benchmarks`, named after the stage, and
`python -m <stage> bench` finds it there when it is asked for.
"""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points

from pydantic import ValidationError
from rich.console import Console

from lakestream.core.errors import LakestreamError, QueryError
from lakestream.core.settings import settings_error
from lakestream.core.signals import handlers_restored

Command = Callable[[list[str]], int]

BENCHMARKS = "lakestream.benchmarks"  # the entry-point group of the stages' benchmarks


def _say(prog: str, message: str) -> None:
    # No markup: messages quote user input, in which `[...]` is text.
    Console(stderr=True).print(f"{prog}: {message}", highlight=False, markup=False, soft_wrap=True)


def command_main(
    prog: str, run: Callable[[], int], expected: tuple[type[Exception], ...] = ()
) -> int:
    """`run()`'s exit code, or 1 after one line naming what went wrong (130 on Ctrl-C)."""
    try:
        return run()
    except QueryError as exc:
        _say(prog, f"error ({exc.kind}): {exc}")
    except LakestreamError as exc:
        _say(prog, f"error: {exc}")
    except ValidationError as exc:
        _say(prog, f"error: {settings_error(exc)}")
    except expected as exc:
        _say(prog, f"error: {exc}")
    except KeyboardInterrupt:
        _say(prog, "interrupted")
        return 130
    return 1


def benchmark(stage: str) -> Command:
    """`python -m <stage> bench`: the benchmark the installed orchestration package declares."""

    def run(argv: list[str]) -> int:
        found = entry_points(group=BENCHMARKS, name=stage)
        if not found:
            raise LakestreamError(
                f"no benchmark of {stage} is installed (entry point {stage!r} of the group "
                f"{BENCHMARKS!r}): install the whole project, `make install`"
            )
        command: Command = next(iter(found)).load()
        return command(argv)

    return run


def stage_main(prog: str, argv: Sequence[str] | None, run: Command) -> int:
    """`prog`'s command line: its own parser, or its benchmark when the first word is `bench`."""
    args = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format=f"{prog}: %(message)s")
    logging.getLogger("kafka").setLevel(logging.CRITICAL)  # its own retries are not news
    # The sink and the producer install their own Ctrl-C/SIGTERM handlers; they end with the run.
    with handlers_restored(signal.SIGINT, signal.SIGTERM):
        if args[:1] == ["bench"]:
            return command_main(prog, lambda: benchmark(prog)(args[1:]))
        return command_main(prog, lambda: run(args))
