"""The benchmarks: one place above the stages, since each starts stacks and drives several.

`run` is `lakestream bench` (`make bench`), every section in one run with a report; `simulator`,
`producers` and `sink` are also `python -m <stage> bench` (entry points of the group
`lakestream.benchmarks`, see `lakestream.core.entry`); `end_to_end`, `api` and `curated` are
sections of the full run only; `report` is what they share.
"""

# `lakestream bench`'s sections in the order they run; `--section NAME` runs some of them alone.
SECTIONS = (
    "simulator",
    "producers",
    "sink",
    "end-to-end",
    "growth",
    "api",
    "curated-layer",
    "soak",
)
