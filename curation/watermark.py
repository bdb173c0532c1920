"""The curated table's watermark: per Kafka partition, the offset up to which raw data is applied.

It lives in the summary of the snapshot that applied it, so the data and the offsets are
committed together, atomically, by the catalog's swap of the table's metadata pointer (as
Apache Iceberg's Kafka Connect sink keeps its source offsets). There is no other state: a pass
that dies before its commit leaves the table as it was, and the next pass starts from the same
watermark.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from pyiceberg.table import Table

WATERMARK_PROPERTY = "lakestream.kafka-offsets"


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


def read_watermark(table: Table) -> Watermark:
    snapshot = table.current_snapshot()
    if snapshot is None or snapshot.summary is None:
        return Watermark()
    raw = snapshot.summary.additional_properties.get(WATERMARK_PROPERTY)
    if not raw:
        return Watermark()
    doc = json.loads(raw)
    return Watermark(doc.get("topic"), {int(p): int(o) for p, o in doc["offsets"].items()})
