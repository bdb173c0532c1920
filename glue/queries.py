"""The saved analyses: one .sql file each, published by Terraform as Athena named queries."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

QUERIES_DIR = Path(__file__).with_name("queries")


@dataclass(frozen=True)
class SavedQuery:
    name: str
    description: str  # the file's first comment line
    sql: str
    path: Path


def saved_queries() -> dict[str, SavedQuery]:
    queries = {}
    for path in sorted(QUERIES_DIR.glob("*.sql")):
        text = path.read_text(encoding="utf-8")
        first = text.splitlines()[0] if text else ""
        description = first.removeprefix("--").strip() if first.startswith("--") else ""
        queries[path.stem] = SavedQuery(path.stem, description, text, path)
    return queries
