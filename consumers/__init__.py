"""The S3 sink: batches, partitioned object keys, commit after upload, dead letters.

`SinkRun` (consumers/run.py) is the stage's facade.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from consumers.run import SinkRun
    from consumers.sink import SinkOptions

__all__ = ["SinkOptions", "SinkRun"]
# Imported when first asked for: `python -m consumers` runs this file before __main__, which
# must keep a stop signal before the libraries take their seconds to import.
_FACADE = {"SinkRun": "consumers.run", "SinkOptions": "consumers.sink"}


def __getattr__(name: str) -> Any:
    if name in _FACADE:
        return getattr(import_module(_FACADE[name]), name)
    raise AttributeError(f"module 'consumers' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_FACADE])
