"""The baseline the sink is measured against: the original design's consumer.

One S3 object per message, offsets auto-committed by the client. Kept only for `python -m
consumers bench`; it loses and duplicates records on crashes, which is exactly what the real
sink fixes.
"""

from __future__ import annotations

import argparse
import sys
import time

from lakestream.core import clients
from lakestream.core.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.bench.naive_sink", description=__doc__
    )
    parser.add_argument("--topic-dataset", default="transactions")
    parser.add_argument("--limit", type=int, required=True, help="stop after this many messages")
    parser.add_argument("--group", default="naive-baseline")
    args = parser.parse_args(argv)
    settings = load_settings()
    ds = settings.datasets.get(args.topic_dataset)
    s3 = clients.aws_client(settings, "s3")
    consumer = clients.kafka_consumer(
        settings,
        ds.topic,
        group_id=args.group,
        auto_offset_reset="earliest",
        enable_auto_commit=True,
    )
    done, started = 0, None
    while done < args.limit:
        for messages in consumer.poll(timeout_ms=500).values():
            started = started or time.perf_counter()
            for m in messages:
                if done >= args.limit:
                    break
                key = f"naive/{ds.table}/{m.topic}-{m.partition}-{m.offset}.json"
                s3.put_object(Bucket=settings.bucket(ds), Key=key, Body=m.value)
                done += 1
    elapsed = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
    print(f"{done} {elapsed:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
