"""The error boundary of every command line, and the entry point shared by the stages'.

What the user sees of an error is one line on stderr and exit code 2, never a traceback: query
errors with their kind, refused settings by the variable's name, whatever else a command
declares expected (a missing file, say), an AWS endpoint or Kafka brokers that do not answer as
such, and anything unexpected as an internal error. No line shows a secret setting's value.
`--debug` (anywhere on the command line, or LAKESTREAM_DEBUG=1) prints the traceback instead,
secrets masked. Ctrl-C exits with 130. Exit code 1 stays what a command returns itself when it
ran but some of its work failed (records not acknowledged, a sink worker's error). Each stage
runs its own parser; `bench` as the first word runs its benchmark instead.

The benchmarks live above the stages (`orchestration.bench`: they start stacks and drive
several stages at once), so a stage does not import its own. The orchestration package declares
each one as an entry point of the group `lakestream.benchmarks`, named after the stage, and
`python -m <stage> bench` finds it there when it is asked for.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from importlib.metadata import entry_points

from pydantic import ValidationError
from rich.console import Console

from lakestream.core.errors import LakestreamError, QueryError, describe, unreachable
from lakestream.core.logs import configure_logging
from lakestream.core.settings import masked, settings_error
from lakestream.core.signals import handlers_restored, release_stop_signals

Command = Callable[[list[str]], int]

BENCHMARKS = "lakestream.benchmarks"  # the entry-point group of the stages' benchmarks
DEBUG_OPTION = "--debug"
ERROR_EXIT = 2  # the command could not do its work (1 is a command's own partial failure)
_debug = {"on": False}


def cli_args(argv: Sequence[str] | None) -> list[str]:
    """The command line without `--debug`, which every command takes and the boundary reads."""
    args = list(sys.argv[1:] if argv is None else argv)
    _debug["on"] = DEBUG_OPTION in args
    return [a for a in args if a != DEBUG_OPTION]


def _debugging() -> bool:
    return _debug["on"] or os.environ.get("LAKESTREAM_DEBUG") == "1"


def _say(prog: str, message: str) -> None:
    # No markup: messages quote user input, in which `[...]` is text.
    Console(stderr=True).print(
        f"{prog}: {masked(message)}", highlight=False, markup=False, soft_wrap=True
    )


def _line(exc: Exception, expected: tuple[type[Exception], ...]) -> str:
    if isinstance(exc, QueryError):
        return f"error ({exc.kind}): {exc}"
    if isinstance(exc, (LakestreamError, ValidationError, *expected)):
        return f"error: {settings_error(exc) if isinstance(exc, ValidationError) else exc}"
    if (known := unreachable(exc)) is not None:  # a service down is not a bug of ours
        return f"error: {known}"
    # A bug: still one line, and the way to see more.
    return f"internal error: {describe(exc)} ({DEBUG_OPTION} shows the traceback)"


def command_main(
    prog: str, run: Callable[[], int], expected: tuple[type[Exception], ...] = ()
) -> int:
    """`run()`'s exit code, or 2 after one line naming what went wrong (130 on Ctrl-C)."""
    try:
        return run()
    except KeyboardInterrupt:
        _say(prog, "interrupted")
        return 130
    except Exception as exc:
        if _debugging():
            sys.stderr.write(masked("".join(traceback.format_exception(exc))))
        line = _line(exc, expected)
    _say(prog, line)
    return ERROR_EXIT


def benchmark(stage: str) -> Command:
    """`python -m <stage> bench`: the benchmark the installed orchestration package declares."""

    def run(argv: list[str]) -> int:
        found = entry_points(group=BENCHMARKS, name=stage)
        if not found:
            raise LakestreamError(
                f"no benchmark of {stage} is installed (entry point {stage!r} of the group "
                f"{BENCHMARKS!r}): install the whole project (`make install`); a stale "
                "lakestream.egg-info in the current folder hides the installed one"
            )
        command: Command = next(iter(found)).load()
        return command(argv)

    return run


def stage_main(prog: str, argv: Sequence[str] | None, run: Command) -> int:
    """`prog`'s command line: its own parser, or its benchmark when the first word is `bench`."""
    args = cli_args(argv)
    configure_logging(prog)
    logging.getLogger("kafka").setLevel(logging.CRITICAL)  # its own retries are not news
    # The sink and the producer install their own Ctrl-C/SIGTERM handlers; they end with the run.
    with handlers_restored(signal.SIGINT, signal.SIGTERM):
        if args[:1] == ["bench"]:

            def bench() -> int:
                release_stop_signals()  # it has no handlers to hand a kept stop to
                return benchmark(prog)(args[1:])

            return command_main(prog, bench)
        return command_main(prog, lambda: run(args))
