"""The entry point shared by the stages' command lines (`python -m producers`, `consumers`).

Each stage runs its own parser; `bench` as the first word runs its benchmark instead. Errors
the user can act on are one line on stderr, never a traceback; Ctrl-C exits with 130.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence

from rich.console import Console

from lakestream.core.errors import LakestreamError

Command = Callable[[list[str]], int]


def stage_main(
    prog: str, argv: Sequence[str] | None, run: Command, load_bench: Callable[[], Command]
) -> int:
    """`load_bench` imports the benchmark on use: it starts stacks and loads every client."""
    args = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format=f"{prog}: %(message)s")
    logging.getLogger("kafka").setLevel(logging.CRITICAL)  # its own retries are not news
    try:
        if args[:1] == ["bench"]:
            return load_bench()(args[1:])
        return run(args)
    except LakestreamError as exc:
        Console(stderr=True).print(f"{prog}: error: {exc}", highlight=False, soft_wrap=True)
        return 1
    except KeyboardInterrupt:
        return 130
