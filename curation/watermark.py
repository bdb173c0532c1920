"""The curated table's watermark: per Kafka partition, the offset up to which raw data is applied.

It is written in the same commit as the data it covers, atomically (the catalog swaps the
table's metadata pointer once): as a table property, which compaction, snapshot expiry and the
Glue catalog's optimizers leave alone, and in the summary of the snapshot that applied it, for
the table's history (Apache Iceberg's Kafka Connect sink keeps its source offsets there). There
is no other state: a pass that dies before its commit leaves the table as it was, and the next
pass starts from the same watermark.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from pyiceberg.table import Table

WATERMARK_PROPERTY = "lakestream.kafka-offsets"
# Records the passes set aside as curation dead letters, in total: moved in the same commit as
# the watermark, so it counts each once (/api/stats/ reads it).
DEAD_LETTERS_PROPERTY = "lakestream.dead-letters"


@dataclass(frozen=True)
class Watermark:
    topic: str | None = None
    offsets: dict[int, int] = field(default_factory=dict)  # partition -> next offset to apply

    def to_property(self) -> str:
        return json.dumps(
            {"topic": self.topic, "offsets": {str(p): o for p, o in sorted(self.offsets.items())}},
            separators=(",", ":"),
        )

    def of(self, partition: int) -> int:
        return self.offsets.get(partition, 0)

    def lag(self, committed: dict[int, int]) -> int:
        """Offsets the sink has committed that the table does not cover yet."""
        return sum(max(0, offset - self.of(p)) for p, offset in committed.items())


def parse(raw: str) -> Watermark:
    doc = json.loads(raw)
    return Watermark(doc.get("topic"), {int(p): int(o) for p, o in doc["offsets"].items()})


def read_watermark(table: Table) -> Watermark:
    raw = table.properties.get(WATERMARK_PROPERTY)
    return parse(raw) if raw else Watermark()
