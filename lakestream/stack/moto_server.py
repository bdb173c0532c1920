"""moto's server as the embedded stack runs it: `python -m lakestream.stack.moto_server` takes
moto.server's own arguments (`-H HOST -p PORT`) and runs it, with one thing read once.

moto 5 finds the service a request is for by listing its own package folder on every request
(`moto.backends.list_of_moto_modules`: a listdir and an isdir per entry, about 150 of them).
Under the sink's load that was a fifth of the server's CPU (py-spy), on the process that holds
both the lake and the broker's log. The folder does not change while the server runs, so its
list is read at start and kept. Should a moto release drop the function, the server runs as is.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable


def read_services_once() -> None:
    """moto's list of services, read now and kept for every later request (this process)."""
    from moto import backends

    listing = getattr(backends, "list_of_moto_modules", None)
    if listing is None:
        return
    modules = tuple(listing())

    def list_of_moto_modules() -> Iterable[str]:
        return modules

    backends.list_of_moto_modules = list_of_moto_modules


def main(argv: list[str] | None = None) -> None:
    from moto.server import main as moto_main

    read_services_once()
    moto_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
